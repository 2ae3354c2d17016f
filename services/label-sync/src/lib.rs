//! label-sync: owns the label registry (title -> Vikunja label id, kept in the bus's KV so every
//! replica agrees) and sets a task's labels with whichever costs fewer API calls: one bulk set,
//! or single adds/removes. A title the registry does not know is looked up in Vikunja, and only
//! then created, exactly once, even when several tasks (on several replicas) need it at the same
//! moment: the first to claim the title in KV creates it, the others wait for it.

mod registry;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use vsync_bus::control::Incoming;
use vsync_bus::labels::{LabelsApplied, LabelsRequest};
use vsync_bus::{Bus, BusConfig, BusError};
use vsync_config::Config;
use vsync_proto::LabelWork;
use vsync_vikunja::{VikunjaClient, VikunjaError};

pub use registry::Registry;

/// Why a task's labels could not be set.
#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    #[error(transparent)]
    Vikunja(#[from] VikunjaError),
    #[error("label registry: {0}")]
    Registry(#[from] BusError),
    #[error("label {title:?}: claim kept being released")]
    ClaimReleased { title: String },
    #[error("label registry: watch ended")]
    WatchEnded,
}

pub struct LabelSync {
    bus: Bus,
    api: VikunjaClient,
    registry: Registry,
}

impl LabelSync {
    /// `fold_case`: titles that differ only in case are one label (the `lowercase` mapping).
    pub fn new(bus: Bus, api: VikunjaClient, fold_case: bool) -> LabelSync {
        let registry = Registry::new(bus.label_registry(), fold_case);
        LabelSync { bus, api, registry }
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Sets the task's labels to the titles in `work`; returns the ids in title order.
    pub async fn apply(&self, work: &LabelWork) -> Result<LabelsApplied, LabelError> {
        let calls_before = self.api.calls();
        let ids = match self.set(work, false).await {
            // A label the registry knew was deleted in Vikunja: forget it and try once more.
            Err(LabelError::Vikunja(VikunjaError::Api { code: 8002, .. })) => {
                tracing::info!(
                    task = work.vikunja_task_id,
                    "a known label is gone from Vikunja; refreshing the registry"
                );
                let listed = self.registry.look_up_all(&self.api).await?;
                for title in &work.titles {
                    if let Some(id) = self.registry.lookup(title).await?
                        && !listed.iter().any(|l| l.id == id)
                    {
                        self.registry.forget(title).await?;
                    }
                }
                self.set(work, true).await?
            }
            other => other?,
        };
        Ok(LabelsApplied {
            label_ids: ids,
            api_calls: (self.api.calls() - calls_before) as u32,
        })
    }

    /// One try of [`LabelSync::apply`]: single adds/removes when that is at most one call, else
    /// one bulk set. `refreshed`: the registry was just brought in line with Vikunja.
    async fn set(&self, work: &LabelWork, refreshed: bool) -> Result<Vec<i64>, LabelError> {
        // Titles the registry does not know are looked up in one listing (one call, or one per
        // page) before any is created.
        let mut refreshed = refreshed;
        for title in &work.titles {
            if !refreshed && self.registry.lookup(title).await?.is_none() {
                self.registry.look_up_all(&self.api).await?;
                refreshed = true;
            }
        }
        let mut ids = Vec::with_capacity(work.titles.len());
        for title in &work.titles {
            ids.push(self.registry.ensure(title, &self.api, refreshed).await?);
        }
        let want: BTreeSet<i64> = ids.iter().copied().collect();
        let have: BTreeSet<i64> = work.current_label_ids.iter().copied().collect();
        let add: Vec<i64> = want.difference(&have).copied().collect();
        let remove: Vec<i64> = have.difference(&want).copied().collect();
        let task = work.vikunja_task_id;
        // Each single call costs one, the bulk set one in all: singles only for a single change
        // (they also fire a webhook and bump `updated`, an empty bulk set does neither).
        if add.len() + remove.len() <= 1 {
            for id in add {
                match self.api.add_label(task, id).await {
                    // 8001: already on the task.
                    Err(VikunjaError::Api { code: 8001, .. }) | Ok(()) => {}
                    Err(e) => return Err(e.into()),
                }
            }
            for id in remove {
                match self.api.remove_label(task, id).await {
                    Ok(()) => {}
                    // Not on the task (any more; the caller's view was stale): what we wanted.
                    // The simulator, like Vikunja's permission check, answers 403 for a label
                    // the task does not have.
                    Err(e) if e.is_not_found() || e.status() == Some(403) => {
                        tracing::info!(task, label = id, error = %e, "label was not on the task");
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        } else {
            let ids: Vec<i64> = want.iter().copied().collect();
            self.api.set_labels(task, &ids).await?;
        }
        Ok(ids)
    }
}

/// The running service.
pub struct App {
    sync: Arc<LabelSync>,
    metrics: vsync_telemetry::metrics::Metrics,
    metrics_listen: Option<std::net::SocketAddr>,
    /// How often the registry is brought in line with Vikunja (renamed and deleted labels;
    /// a title it does not know is looked up when asked for anyway).
    refresh: Duration,
}

impl App {
    pub async fn build(cfg: &Config, bus_url: &str, name: &str) -> anyhow::Result<App> {
        let bus = Bus::connect(&BusConfig::from_config(cfg, bus_url, name)).await?;
        let metrics = vsync_telemetry::metrics::Metrics::default();
        metrics.describe(
            "vsync_label_work_total",
            "counter",
            "Label sets applied, by outcome.",
        );
        let api = VikunjaClient::from_config(cfg)?.with_observer(metrics.api_observer());
        let sync = Arc::new(LabelSync::new(bus, api, cfg.labels.lowercase));
        if let Err(e) = sync.registry.refresh(&sync.api).await {
            tracing::warn!(error = %e, "cannot list Vikunja labels yet");
        }
        Ok(App {
            sync,
            metrics,
            metrics_listen: cfg.metrics.listen,
            refresh: cfg.reconcile.full_interval.max(Duration::from_secs(1)),
        })
    }

    /// Answers label work until `shutdown`; requests in flight are finished.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        if let Some(listen) = self.metrics_listen {
            let addr = vsync_telemetry::metrics::serve(
                listen,
                self.metrics.clone(),
                shutdown.clone().cancelled_owned(),
            )
            .await
            .with_context(|| format!("cannot serve metrics on {listen}"))?;
            tracing::info!(%addr, "metrics served");
        }
        let mut requests = self
            .sync
            .bus
            .label_requests()
            .await
            .context("cannot subscribe to label work")?;
        tracing::info!("label-sync running");
        let tasks = tokio_util::task::TaskTracker::new();
        let mut refresh =
            tokio::time::interval_at(tokio::time::Instant::now() + self.refresh, self.refresh);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = refresh.tick() => {
                    let sync = self.sync.clone();
                    tasks.spawn(async move {
                        if let Err(e) = sync.registry.refresh(&sync.api).await {
                            tracing::warn!(error = %e, "cannot refresh the label registry");
                        }
                    });
                }
                msg = requests.next() => {
                    let Some(msg) = msg else { break };
                    let sync = self.sync.clone();
                    let metrics = self.metrics.clone();
                    tasks.spawn(async move {
                        let ok = sync.answer(msg).await;
                        metrics.inc("vsync_label_work_total", &[("outcome", if ok { "ok" } else { "error" })]);
                    });
                }
            }
        }
        tasks.close();
        tasks.wait().await;
        tracing::info!("label-sync stopped");
        Ok(())
    }
}

impl LabelSync {
    /// Answers one request; whether it succeeded.
    async fn answer(&self, req: Incoming<LabelsRequest>) -> bool {
        let (request, responder) = req.into_parts();
        let span = responder.span();
        let reply = async {
            let LabelsRequest::Apply(work) = request?;
            tracing::Span::current().record("vikunja.task_id", work.vikunja_task_id);
            self.apply(&work).await.map_err(|e| responder.error(e))
        }
        .instrument(span)
        .await;
        let ok = reply.is_ok();
        if let Err(e) = responder.reply(reply).await {
            tracing::warn!(error = %e, "cannot answer label work");
        }
        ok
    }
}

impl vsync_lifecycle::Service for App {
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send {
        App::run(self, shutdown)
    }
}
