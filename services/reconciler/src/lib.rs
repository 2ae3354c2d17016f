//! reconciler: owns canonical task state and correlations (JetStream KV), merges every event
//! from both sides field by field, writes Vikunja through the one API client, and registers the
//! system's webhooks on every top-level project it syncs.

mod adopt;
mod control;
mod create;
mod creating;
mod deletions;
mod error;
mod events;
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
mod token;
mod webhooks;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use futures::StreamExt;
use tokio::sync::Mutex;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use vsync_bus::{Bus, BusConfig, Delivery, Stage};
use vsync_config::Config;
use vsync_proto::TaskEvent;
use vsync_vikunja::VikunjaClient;

use passes::{Pass, PassSchedule};

pub use error::SyncError;
pub use events::{Applied, EventHandler};

/// How often the parked Vikunja writes are looked at (each waits its own backoff).
const PARKED_TICK: Duration = Duration::from_millis(250);
/// The longest wait before an event that waits is delivered again.
const MAX_REDELIVERY_DELAY: Duration = Duration::from_secs(30);
/// While an event is handled, its delivery is renewed this often, so the bus never redelivers
/// it to another reconciler meanwhile however long Vikunja takes (429 waits, timeouts).
const IN_PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// The running service.
pub struct App {
    events: Arc<EventHandler>,
    webhooks: webhooks::Registrar,
    reconcile: vsync_config::Reconcile,
    metrics_listen: Option<std::net::SocketAddr>,
    /// What the bus was last told about the API token (rejected or not).
    token_reported: Option<bool>,
}

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
            metrics,
        });
        let webhooks = webhooks::Registrar::new(
            cfg.vikunja.webhook_url.clone(),
            secret,
            cfg.vikunja.projects.clone(),
        );
        Ok(App {
            events,
            webhooks,
            reconcile: cfg.reconcile.clone(),
            metrics_listen: cfg.metrics.listen,
            token_reported: None,
        })
    }

    /// The event handler, to hand events to directly (tests of concurrent reconcilers).
    pub fn event_handler(&self) -> Arc<EventHandler> {
        self.events.clone()
    }

    /// Processes events until `shutdown` is cancelled; the event in hand is finished first.
    /// Reconcile passes (delta every `interval`, full every `full_interval`) and control requests
    /// run beside it.
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
        let mut control = self
            .events
            .bus
            .reconciler_requests()
            .await
            .context("cannot subscribe to control requests")?;
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
        let concurrency = self.reconcile.concurrency;
        tracing::info!("reconciler running");
        loop {
            let start = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                msg = messages.next() => {
                    match msg {
                        Some(Ok(m)) => self.process(m).await,
                        Some(Err(e)) => tracing::warn!(error = %e, "event stream error"),
                        None => anyhow::bail!("event stream ended"),
                    }
                    None
                }
                Some(req) = control.next() => {
                    tasks.spawn(control::answer(self.events.clone(), req, concurrency));
                    None
                }
                Some(()) = passes_done.recv() => passes.finished(),
                _ = retry.tick() => {
                    self.spawn_retry(&tasks, &retrying);
                    self.report_token().await;
                    None
                }
                _ = webhooks.tick() => {
                    self.webhooks.ensure(&self.events).await;
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
            if let Err(e) = events.reconcile_vikunja(full, None, concurrency).await {
                tracing::warn!(error = %e, full, "reconcile failed");
            }
            let _ = done.send(());
        });
    }

    async fn process(&self, msg: Delivery) {
        let span = msg.process_span();
        async {
            let now = vsync_model::dates::now_us();
            let ev = match msg.task_event() {
                Ok(ev) => ev,
                Err(e) => return self.dead(&msg, &e.to_string(), now).await,
            };
            self.events.metrics.inc(
                "vsync_events_in_total",
                &[
                    ("origin", ev.origin().as_str_name()),
                    ("kind", ev.kind().as_str_name()),
                ],
            );
            match self.handle_renewing(&msg, &ev).await {
                Ok(applied) => {
                    tracing::Span::current().record("task.uuid", applied.uuid.as_str());
                    if applied.stored {
                        tracing::debug!(uuid = %applied.uuid, changed = ?applied.changed, "merged");
                    }
                    let _ = msg.ack().await;
                }
                Err(e) if e.waits() => {
                    // Never a dead letter: it comes back until what it waits for answers.
                    self.events
                        .metrics
                        .inc("vsync_errors_total", &[("stage", "waits")]);
                    let delivered = msg.delivered();
                    tracing::warn!(error = %e, delivered, "event waits; it will be redelivered");
                    let _ = msg.nak(redelivery_delay(delivered)).await;
                }
                Err(e) => self.dead(&msg, &e.to_string(), now).await,
            }
        }
        .instrument(span)
        .await
    }

    /// Handles `ev`, telling the bus every [`IN_PROGRESS_EVERY`] that `msg` is still in hand.
    async fn handle_renewing(&self, msg: &Delivery, ev: &TaskEvent) -> Result<Applied, SyncError> {
        let handle = self.events.handle(ev);
        tokio::pin!(handle);
        let first = tokio::time::Instant::now() + IN_PROGRESS_EVERY;
        let mut renew = tokio::time::interval_at(first, IN_PROGRESS_EVERY);
        loop {
            tokio::select! {
                handled = &mut handle => return handled,
                _ = renew.tick() => {
                    if let Err(e) = msg.in_progress().await {
                        tracing::warn!(error = %e, "cannot renew the event's delivery");
                    }
                }
            }
        }
    }

    async fn dead(&self, msg: &Delivery, reason: &str, now: i64) {
        self.events
            .metrics
            .inc("vsync_dead_letters_total", &[("stage", "reconciler")]);
        match self
            .events
            .bus
            .dead_letter(Stage::Reconciler, msg.subject(), msg.payload(), reason, now)
            .await
        {
            Ok(()) => {
                let _ = msg.ack().await;
            }
            // Not acknowledged: it comes back rather than being lost.
            Err(e) => tracing::error!(error = %e, "cannot write dead letter"),
        }
    }
}

/// The wait before the `delivered`th delivery of an event that waits is tried again: 250 ms,
/// doubling, at most 30 s.
fn redelivery_delay(delivered: i64) -> Duration {
    let exp = u32::try_from(delivered.clamp(1, 16) - 1).unwrap_or(0);
    (Duration::from_millis(250) * (1 << exp)).min(MAX_REDELIVERY_DELAY)
}

fn describe(m: &vsync_telemetry::metrics::Metrics) {
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
