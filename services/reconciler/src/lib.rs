//! reconciler: owns canonical task state and correlations (JetStream KV), merges every event
//! from both sides field by field, writes Vikunja through the one API client, and registers the
//! system's webhooks on every top-level project it syncs.

mod adopt;
mod adopt_apply;
mod adopt_plan;
mod adopt_resolve;
mod adopt_syncall;
mod consume;
mod control;
mod create;
mod creating;
mod deletions;
mod error;
mod events;
mod held_back;
mod hosts;
mod index;
mod lanes;
mod one_at_a_time;
mod owed;
mod parked;
mod passes;
mod projects;
mod push;
mod pushed;
mod reconcile;
mod repair;
mod replay;
mod state;
mod stream_use;
mod token;
mod watermark;
mod webhooks;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use vsync_bus::control::ReconcileRequest;
use vsync_bus::{Bus, BusConfig};
use vsync_config::Config;
use vsync_vikunja::VikunjaClient;

use passes::{Pass, PassSchedule};

pub use error::SyncError;
pub use events::{Applied, EventHandler};

/// How often the parked Vikunja writes are looked at (each waits its own backoff).
const PARKED_TICK: Duration = Duration::from_millis(250);
/// The running service.
pub struct App {
    events: Arc<EventHandler>,
    webhooks: webhooks::Registrar,
    reconcile: vsync_config::Reconcile,
    metrics_listen: Option<std::net::SocketAddr>,
    /// What the bus was last told about the API token (rejected or not).
    token_reported: Option<bool>,
    /// Control requests, subscribed before the service says it is ready, so that ready
    /// means `reconcile`, `adopt` and the others are answered. (In a mutex only so that the
    /// app stays `Sync` while `run` borrows it across awaits.)
    control: std::sync::Mutex<Option<ControlRequests>>,
}

type ControlRequests = vsync_bus::control::Requests<vsync_bus::control::ReconcilerRequest>;

impl App {
    pub async fn build(cfg: &Config, bus_url: &str, name: &str) -> anyhow::Result<App> {
        let bus = Bus::connect(&BusConfig::from_config(cfg, bus_url, name)).await?;
        let metrics = vsync_telemetry::metrics::Metrics::default();
        describe(&metrics);
        let api = VikunjaClient::from_config(cfg)?.with_observer(metrics.api_observer());
        let secret = cfg.webhook_secret()?;
        // The version decides how tasks are updated (a v2 merge patch from 2.4.0); read it now
        // so the first write costs one call. Vikunja may be down: it is read again on a write.
        match api.fetch_server_info().await {
            Ok(info) => tracing::info!(
                version = %info.version,
                merge_patch = info.has_merge_patch(),
                "Vikunja answers"
            ),
            Err(e) => tracing::warn!(error = %e, "cannot read Vikunja's /info yet"),
        }
        let mut tree = projects::ProjectTree::new(&cfg.vikunja.default_project);
        match api.projects().await {
            Ok(all) => tree.load(all),
            // Vikunja may be down: TW <-> TW sync still works; projects are fetched later.
            Err(e) => tracing::warn!(error = %e, "cannot list Vikunja projects yet"),
        }
        let events = Arc::new(EventHandler {
            bus,
            api,
            projects: Mutex::new(tree),
            tags: (&cfg.labels).into(),
            holder: format!("{}/{name}", cfg.taskwarrior.host()),
            creating_here: Default::default(),
            parked: Mutex::new(Default::default()),
            refused: Mutex::new(BTreeSet::new()),
            known_links: Mutex::new(Default::default()),
            index: Default::default(),
            turns: Default::default(),
            newest_second: Default::default(),
            adopt_settings: adopt::AdoptSettings {
                auto: cfg.adopt.auto,
                history: cfg.adopt.history,
                scope: vsync_model::ProjectScope::new(
                    &cfg.vikunja.projects,
                    &cfg.vikunja.default_project,
                ),
                only: cfg.vikunja.projects.clone(),
                webhook_url: cfg.vikunja.webhook_url.clone(),
                concurrency: cfg.reconcile.concurrency,
                host_timeout: cfg.reconcile.host_timeout,
            },
            adopting: Mutex::new(()),
            metrics,
        });
        let webhooks = webhooks::Registrar::new(
            cfg.vikunja.webhook_url.clone(),
            secret,
            cfg.vikunja.projects.clone(),
        );
        let control = events
            .bus
            .reconciler_requests()
            .await
            .context("cannot subscribe to control requests")?;
        Ok(App {
            events,
            webhooks,
            reconcile: cfg.reconcile.clone(),
            metrics_listen: cfg.metrics.listen,
            token_reported: None,
            control: std::sync::Mutex::new(Some(control)),
        })
    }

    /// The event handler, to hand events to directly (tests of concurrent reconcilers).
    pub fn event_handler(&self) -> Arc<EventHandler> {
        self.events.clone()
    }

    /// Processes events until `shutdown` is cancelled, projects side by side ([`lanes`]); the
    /// events in hand are finished first, those still waiting handed back. Reconcile passes
    /// (delta every `interval`, full every `full_interval`) and control requests run beside it.
    pub async fn run(mut self, shutdown: CancellationToken) -> anyhow::Result<()> {
        if let Some(listen) = self.metrics_listen {
            let addr = vsync_telemetry::metrics::serve(
                listen,
                self.events.metrics.clone(),
                shutdown.clone().cancelled_owned(),
            )
            .await
            .with_context(|| format!("cannot serve metrics on {listen}"))?;
            tracing::info!(%addr, "metrics served");
        }
        let mut messages = self
            .events
            .bus
            .events()
            .await
            .context("cannot consume events")?;
        let taken = self.control.lock().ok().and_then(|mut c| c.take());
        let mut control = taken.context("the control requests were taken already")?;
        let mut retry = tokio::time::interval(PARKED_TICK);
        let retrying = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let every = |d: Duration| {
            let d = d.max(Duration::from_secs(1));
            tokio::time::interval_at(tokio::time::Instant::now() + d, d)
        };
        let mut webhooks =
            tokio::time::interval(self.reconcile.interval.max(Duration::from_secs(1)));
        let mut delta = every(self.reconcile.interval);
        let mut full = every(self.reconcile.full_interval);
        let tasks = tokio_util::task::TaskTracker::new();
        let mut passes = PassSchedule::default();
        let (pass_done, mut passes_done) = tokio::sync::mpsc::unbounded_channel();
        let settings = control::Settings {
            concurrency: self.reconcile.concurrency,
            host_timeout: self.reconcile.host_timeout,
        };
        tasks.spawn(index::follow(self.events.clone(), shutdown.clone()));
        tasks.spawn(adopt_at_start(self.events.clone(), shutdown.clone()));
        let mut lanes = lanes::Lanes::new(self.events.clone(), tasks.clone(), shutdown.clone());
        let mut renew = every(lanes::RENEW_EVERY);
        tracing::info!("reconciler running");
        loop {
            let start = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                msg = messages.next() => {
                    match msg {
                        Some(Ok(m)) => lanes.dispatch(m).await,
                        Some(Err(e)) => tracing::warn!(error = %e, "event stream error"),
                        None => anyhow::bail!("event stream ended"),
                    }
                    None
                }
                Some(req) = control.next() => {
                    tasks.spawn(control::answer(self.events.clone(), req, settings));
                    None
                }
                Some(()) = passes_done.recv() => passes.finished(),
                _ = retry.tick() => {
                    self.spawn_retry(&tasks, &retrying);
                    self.report_token().await;
                    None
                }
                _ = renew.tick() => {
                    lanes.renew().await;
                    None
                }
                _ = webhooks.tick() => {
                    self.webhooks.ensure(&self.events).await;
                    self.report_stream_use().await;
                    None
                }
                _ = full.tick() => passes.due(Pass::Full),
                _ = delta.tick() => passes.due(Pass::Delta),
            };
            if let Some(pass) = start {
                self.spawn_pass(&tasks, pass, pass_done.clone());
            }
        }
        tasks.close();
        tasks.wait().await;
        tracing::info!("reconciler stopped");
        Ok(())
    }

    /// Retries the parked Vikunja writes that are due beside event processing, unless a retry
    /// still runs.
    fn spawn_retry(
        &self,
        tasks: &tokio_util::task::TaskTracker,
        retrying: &Arc<std::sync::atomic::AtomicBool>,
    ) {
        use std::sync::atomic::Ordering;
        if retrying.swap(true, Ordering::AcqRel) {
            return;
        }
        let (events, retrying) = (self.events.clone(), retrying.clone());
        tasks.spawn(async move {
            events.retry_parked().await;
            retrying.store(false, Ordering::Release);
        });
    }

    /// Runs a reconcile pass beside event processing; `done` hears when it ended.
    fn spawn_pass(
        &self,
        tasks: &tokio_util::task::TaskTracker,
        pass: Pass,
        done: tokio::sync::mpsc::UnboundedSender<()>,
    ) {
        let (events, concurrency) = (self.events.clone(), self.reconcile.concurrency);
        tasks.spawn(async move {
            let full = pass.is_full();
            let req = ReconcileRequest {
                full,
                ..Default::default()
            };
            if let Err(e) = events.reconcile_vikunja(&req, concurrency).await {
                tracing::warn!(error = %e, full, "reconcile failed");
            }
            let _ = done.send(());
        });
    }
}

/// Adopts Vikunja at first start (`[adopt] auto`), trying again while Vikunja or the bus fail.
async fn adopt_at_start(events: Arc<EventHandler>, shutdown: CancellationToken) {
    let mut wait = Duration::from_millis(500);
    loop {
        // Cut short at shutdown: what it did stays, the next start carries on.
        let adopted = tokio::select! {
            _ = shutdown.cancelled() => return,
            adopted = events.adopt_at_start() => adopted,
        };
        match adopted {
            Ok(()) => return,
            Err(e) => tracing::warn!(error = %e, "cannot adopt Vikunja yet"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

fn describe(m: &vsync_telemetry::metrics::Metrics) {
    stream_use::describe(m);
    m.describe(
        "vsync_events_in_total",
        "counter",
        "Task events consumed, by origin and kind.",
    );
    m.describe(
        "vsync_errors_total",
        "counter",
        "Event handling failures, by stage.",
    );
    m.describe(
        "vsync_dead_letters_total",
        "counter",
        "Messages sent to the dead-letter subject.",
    );
    m.describe(
        "vsync_e2e_latency_seconds",
        "histogram",
        "From the change at its origin to the other side's write, by direction.",
    );
}

impl vsync_lifecycle::Service for App {
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send {
        App::run(self, shutdown)
    }
}
