//! Running services in this process: what `vikunja-sync up` does for one machine, and what the
//! demo (`vikunja-sync-demo`) does for a whole system.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vsync_config::Config;

use crate::nats_server::LocalNatsServer;

/// Services running in this process, each stoppable on its own.
pub struct Running {
    tasks: JoinSet<(String, anyhow::Result<()>)>,
    stops: Vec<(String, CancellationToken)>,
}

impl Default for Running {
    fn default() -> Self {
        Self::new()
    }
}

impl Running {
    pub fn new() -> Running {
        Running {
            tasks: JoinSet::new(),
            stops: Vec::new(),
        }
    }

    fn track(&mut self, name: String) -> CancellationToken {
        let stop = CancellationToken::new();
        self.stops.push((name, stop.clone()));
        stop
    }

    /// webhook-ingress; returns the address it listens on.
    pub async fn spawn_ingress(
        &mut self,
        cfg: &Config,
        bus_url: &str,
    ) -> anyhow::Result<SocketAddr> {
        let app = webhook_ingress::App::build(cfg, bus_url, "webhook-ingress").await?;
        let addr = app.local_addr()?;
        let stop = self.track("webhook-ingress".into());
        self.tasks.spawn(async move {
            let r = app.run(stop.cancelled_owned()).await;
            ("webhook-ingress".to_string(), r)
        });
        Ok(addr)
    }

    pub async fn spawn_reconciler(&mut self, cfg: &Config, bus_url: &str) -> anyhow::Result<()> {
        let app = reconciler::App::build(cfg, bus_url, "reconciler").await?;
        let stop = self.track("reconciler".into());
        self.tasks
            .spawn(async move { ("reconciler".to_string(), app.run(stop).await) });
        Ok(())
    }

    pub async fn spawn_label_sync(&mut self, cfg: &Config, bus_url: &str) -> anyhow::Result<()> {
        let app = label_sync::App::build(cfg, bus_url, "label-sync").await?;
        let stop = self.track("label-sync".into());
        self.tasks
            .spawn(async move { ("label-sync".to_string(), app.run(stop).await) });
        Ok(())
    }

    /// tw-watcher for the host in `cfg.taskwarrior`.
    pub async fn spawn_watcher(&mut self, cfg: &Config, bus_url: &str) -> anyhow::Result<()> {
        let host = cfg.taskwarrior.host();
        let name = format!("tw-watcher@{host}");
        let app = tw_watcher::App::build(cfg, bus_url, &name).await?;
        let stop = self.track(name.clone());
        self.tasks.spawn(async move { (name, app.run(stop).await) });
        Ok(())
    }

    /// Stops the services whose name starts with `prefix` (e.g. `tw-watcher@desk`) and waits
    /// until they finished.
    pub async fn stop_matching(&mut self, prefix: &str) -> anyhow::Result<()> {
        let mut n = 0;
        self.stops.retain(|(name, stop)| {
            if name.starts_with(prefix) {
                stop.cancel();
                n += 1;
                false
            } else {
                true
            }
        });
        for _ in 0..n {
            if let Some(done) = self.tasks.join_next().await {
                let (name, r) = done.context("service task panicked")?;
                r.with_context(|| format!("{name} failed"))?;
            }
        }
        Ok(())
    }

    /// Stops everything and reports the first failure.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        for (_, s) in &self.stops {
            s.cancel();
        }
        let mut first_err = None;
        while let Some(done) = self.tasks.join_next().await {
            let res = match done {
                Ok((name, r)) => r.with_context(|| format!("{name} failed")),
                Err(e) => Err(anyhow::anyhow!("service task panicked: {e}")),
            };
            if let Err(e) = res
                && first_err.is_none()
            {
                first_err = Some(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Resolves when a service ends on its own (a failure), with its result.
    pub async fn any_ended(&mut self) -> Option<(String, anyhow::Result<()>)> {
        match self.tasks.join_next().await? {
            Ok(r) => Some(r),
            Err(e) => Some((
                "?".into(),
                Err(anyhow::anyhow!("service task panicked: {e}")),
            )),
        }
    }
}

/// `vikunja-sync up`: every service this machine's config asks for, plus a local nats-server
/// (state under the user's state directory) when no bus URL is configured.
pub async fn up(cfg: Config, shutdown: CancellationToken) -> anyhow::Result<()> {
    let (bus_url, local_nats) = match &cfg.bus.url {
        Some(url) => (url.clone(), None),
        None => {
            let nats = start_local_nats().await?;
            (nats.url().to_string(), Some(nats))
        }
    };
    let result = run_services(&cfg, &bus_url, shutdown).await;
    if let Some(nats) = local_nats {
        let _ = std::fs::remove_file(state_dir().join("bus-url"));
        if let Err(e) = nats.stop().await {
            tracing::warn!(error = %e, "local nats-server");
        }
    }
    result
}

async fn start_local_nats() -> anyhow::Result<LocalNatsServer> {
    let dir = state_dir();
    let nats = LocalNatsServer::start(&dir)
        .await
        .with_context(|| format!("cannot start a local nats-server in {}", dir.display()))?;
    tracing::info!(url = %nats.url(), store = %dir.join("nats").display(), "started local nats-server");
    // So that `status`, `reconcile`, ... find the bus without a configured URL.
    std::fs::write(dir.join("bus-url"), nats.url())
        .with_context(|| format!("cannot write {}", dir.join("bus-url").display()))?;
    Ok(nats)
}

async fn run_services(
    cfg: &Config,
    bus_url: &str,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let mut running = Running::new();
    if cfg.vikunja.url.is_some() {
        running.spawn_ingress(cfg, bus_url).await?;
        running.spawn_label_sync(cfg, bus_url).await?;
        running.spawn_reconciler(cfg, bus_url).await?;
    }
    if cfg.taskwarrior.data().is_dir() {
        running.spawn_watcher(cfg, bus_url).await?;
    }
    vsync_telemetry::notify_ready();
    tokio::select! {
        _ = shutdown.cancelled() => {}
        ended = running.any_ended() => {
            if let Some((name, r)) = ended {
                r.with_context(|| format!("{name} stopped"))?;
                anyhow::bail!("{name} stopped unexpectedly");
            }
        }
    }
    vsync_telemetry::notify_stopping();
    running.stop().await
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

/// `$XDG_STATE_HOME/vikunja-sync` (default `~/.local/state/vikunja-sync`).
pub fn state_dir() -> PathBuf {
    std::env::var_os("XDG_STATE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(|| PathBuf::from("/var/lib"))
        .join("vikunja-sync")
}
