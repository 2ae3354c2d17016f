//! `vikunja-sync up`: every service this machine's config asks for, each as its own process
//! (the binaries systemd runs, found next to this program), so each reports its own
//! `service.name` and lives and stops as it does under systemd; plus a local nats-server
//! ([`crate::nats_server`]) when no bus URL is configured.

mod children;

use crate::state_dir::state_dir;
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use vsync_config::Config;

use crate::bus_identities::LocalIdentities;
use crate::nats_server::LocalNatsServer;
use children::{BusAccess, Children};

/// How long the services get after SIGTERM before they are killed: their own drain timeout
/// plus time to flush their spans.
const STOP_GRACE: Duration = vsync_lifecycle::DRAIN_TIMEOUT.saturating_add(Duration::from_secs(5));

/// The services `cfg` asks for on this machine: the server side when a Vikunja URL is set,
/// a tw-watcher when the Taskwarrior data directory exists.
pub fn services(cfg: &Config) -> Vec<&'static str> {
    let mut names = Vec::new();
    if cfg.vikunja.url.is_some() {
        names.extend(["webhook-ingress", "label-sync", "reconciler"]);
    }
    if cfg.taskwarrior.data().is_dir() {
        names.push("tw-watcher");
    }
    names
}

/// Runs the services of `cfg` (read from `config`) until `shutdown`, then stops them (and the
/// local nats-server last). Ready (`READY=1`) once every service is.
pub async fn up(
    cfg: &Config,
    config: Option<&Path>,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    let names = services(cfg);
    let (bus, local_nats) = match &cfg.bus.url {
        Some(url) => (BusAccess::configured(url), None),
        None => {
            let ids = LocalIdentities::make(cfg, names.contains(&"tw-watcher"))?;
            let nats = start_local_nats(&ids).await?;
            (BusAccess::local(nats.url(), ids), Some(nats))
        }
    };
    let result = supervise(&names, config, &bus, shutdown).await;
    if let Some(nats) = local_nats {
        let _ = std::fs::remove_file(state_dir().join("bus-url"));
        if let Err(e) = nats.stop().await {
            tracing::warn!(error = %e, "local nats-server");
        }
    }
    result
}

async fn supervise(
    names: &[&str],
    config: Option<&Path>,
    bus: &BusAccess,
    shutdown: impl Future<Output = ()>,
) -> anyhow::Result<()> {
    if names.is_empty() {
        tracing::warn!("no service to run: no `vikunja.url`, no Taskwarrior data directory");
    }
    let mut children = Children::start(names, config, bus)?;
    let mut shutdown = std::pin::pin!(shutdown);
    let started = tokio::select! {
        r = children.ready() => r,
        _ = &mut shutdown => Err(anyhow::anyhow!("stopped while starting")),
    };
    if let Err(e) = started {
        let _ = children.stop(STOP_GRACE).await;
        return Err(e.context("starting the services"));
    }
    vsync_lifecycle::notify_ready();
    let failed = tokio::select! {
        e = children.any_exited() => Some(e),
        _ = &mut shutdown => None,
    };
    vsync_lifecycle::notify_stopping();
    let stopped = children.stop(STOP_GRACE).await;
    match failed {
        Some(e) => Err(e.context("a service stopped unexpectedly")),
        None => stopped,
    }
}

async fn start_local_nats(ids: &LocalIdentities) -> anyhow::Result<LocalNatsServer> {
    let dir = state_dir();
    vsync_bus_auth::private_dir(&dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let nats = LocalNatsServer::start(&dir, &ids.all)
        .await
        .with_context(|| format!("cannot start a local nats-server in {}", dir.display()))?;
    tracing::info!(url = %nats.url(), store = %dir.join("nats").display(), "started local nats-server");
    // So that `status`, `reconcile`, ... find the bus without a configured URL.
    vsync_bus_auth::write_private(&dir.join("bus-url"), nats.url().as_bytes())
        .with_context(|| format!("cannot write {}", dir.join("bus-url").display()))?;
    Ok(nats)
}

/// The bus URL: configured, or the one a running `vikunja-sync up` started for this user.
pub fn bus_url(cfg: &Config) -> anyhow::Result<String> {
    if let Some(url) = &cfg.bus.url {
        return Ok(url.clone());
    }
    let file = state_dir().join("bus-url");
    std::fs::read_to_string(&file)
        .map(|s| s.trim().to_string())
        .with_context(|| {
            format!(
                "no `bus.url` configured and no local bus started by `vikunja-sync up` ({})",
                file.display()
            )
        })
}
