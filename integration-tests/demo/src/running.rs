//! The services of the demo system, each a task in this process (the product runs them as
//! processes: systemd units, or `vikunja-sync up`), each stoppable on its own so tests can take
//! a host or the server down and bring it back.

use std::net::SocketAddr;

use anyhow::Context as _;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vsync_config::Config;

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
    /// Starts webhook-ingress; returns where `/webhook` and where `/metrics` listen.
    pub async fn spawn_ingress(
        &mut self,
        cfg: &Config,
        bus_url: &str,
    ) -> anyhow::Result<(SocketAddr, SocketAddr)> {
        let app = webhook_ingress::App::build(cfg, bus_url, "webhook-ingress").await?;
        let addr = (app.local_addr()?, app.metrics_addr()?);
        let stop = self.track("webhook-ingress".into());
        self.tasks.spawn(async move {
            let r = app.run(stop.cancelled_owned()).await;
            ("webhook-ingress".to_string(), r)
        });
        Ok(addr)
    }

    pub async fn spawn_reconciler(&mut self, cfg: &Config, bus_url: &str) -> anyhow::Result<()> {
        self.spawn_reconciler_named(cfg, bus_url, "reconciler")
            .await
    }

    /// Another reconciler replica (its own name: its own create claims).
    pub async fn spawn_reconciler_named(
        &mut self,
        cfg: &Config,
        bus_url: &str,
        name: &str,
    ) -> anyhow::Result<()> {
        let app = reconciler::App::build(cfg, bus_url, name).await?;
        let stop = self.track(name.into());
        let name = name.to_string();
        self.tasks.spawn(async move { (name, app.run(stop).await) });
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
}
