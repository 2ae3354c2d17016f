//! Wiring: `App::build` reads the host's filter, checks `task`, loads the mirror, connects to
//! the bus and binds the watcher's three sources (the hook socket, the host's canonical state
//! consumer, control requests); `App::run` feeds them to the [`Watcher`] one at a time until
//! shutdown, then publishes what the hook socket still held.
//!
//! One at a time is the point: a local change is published before the next canonical state is
//! applied, so an apply is never diffed against a stale mirror.

use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use futures::stream::ReadyChunks;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use vsync_bus::control::{HostRequest, Requests};
use vsync_bus::{Bus, BusConfig, Deliveries, Role};
use vsync_config::Config;
use vsync_model::TaskFilter;
use vsync_taskwarrior::{Backend, Refusal, Taskwarrior};

use crate::adoption::HostAdoption;
use crate::intake::Intake;
use crate::journal::Journal;
use crate::mirror::Mirror;
use crate::watcher::Watcher;

/// Canonical states applied per batch at most: a burst costs one `task import` per batch, and
/// on 2.6 each import reads the whole database, so large batches keep a burst's cost flat.
const BATCH: usize = 1024;

/// The running service.
pub struct App {
    watcher: Watcher,
    intake: Intake,
    /// Canonical state for this host; `None` until it is adopted (a pull left unread for long
    /// stalls, so it starts only then).
    states: Option<ReadyChunks<Deliveries>>,
    control: Requests<HostRequest>,
    /// How often the host's full reconcile pass runs (`[reconcile] full_interval`).
    reconcile_every: Duration,
    metrics_listen: Option<std::net::SocketAddr>,
}

impl App {
    /// Checks `task`, loads the mirror, connects, binds the hook socket and the host's consumer.
    pub async fn build(cfg: &Config, bus_url: &str, name: &str) -> anyhow::Result<App> {
        let t = &cfg.taskwarrior;
        let host = t.host();
        // A filter that cannot be used fails the start as a config error (exit 64).
        let filter = TaskFilter::of_host(t)?;
        let tw = Taskwarrior::new(t.task_bin(), t.taskrc(), t.data());
        let version = tw.version().await.context("Taskwarrior is not usable")?;
        let (backend, refusal) = Backend::select(&tw, &version, t.in_process()).await;
        match &refusal {
            None | Some(Refusal::NotTaskwarrior3(_)) => {}
            Some(r) => tracing::info!(refusal = %r, backend = backend.name(), "apply backend"),
        }
        let state_dir = t.state_dir();
        let mut mirror = match Mirror::load(&state_dir)? {
            Some(m) => m,
            None => Mirror::create(&state_dir, tw.export_all().await?)?,
        };
        let journal = Journal::new(&state_dir);
        let settled = journal.recover(&tw, &mut mirror).await?;
        if settled > 0 {
            tracing::warn!(
                settled,
                "a write the last run did not record: taken as ours"
            );
        }
        let mut adoption = HostAdoption::load(&state_dir)?;
        tracing::info!(
            host,
            taskwarrior = version,
            backend = backend.name(),
            tasks = mirror.count(),
            adopted = adoption.adopted(),
            filter = filter.as_ref().map_or("", TaskFilter::as_str),
            "tw-watcher starting"
        );
        // a host's own identity: it looks the streams up and may touch only its own subjects
        let bus = Bus::connect(
            &BusConfig::from_config(cfg, bus_url, name).with_role(Role::Host(host.clone())),
        )
        .await?;
        let spool = vsync_hook_wire::resolve_spool_path(&t.data());
        let intake = Intake::bind(&t.socket())
            .with_context(|| format!("cannot listen on {}", t.socket().display()))?;
        let control = bus
            .host_requests(&host)
            .await
            .context("cannot subscribe to control requests")?;
        // Adopted here but unknown to the bus (retired, or a new bus): asks to be adopted
        // again; its tasks, known by uuid, are matched to themselves.
        if adoption.adopted()
            && !bus
                .host_consumer_exists(&host)
                .await
                .context("cannot look up this host's consumer")?
        {
            tracing::warn!("adopted before, but the bus does not know this host: asking again");
            adoption
                .forget()
                .context("cannot reset this host's adoption")?;
        }
        // The durable consumer exists from the first start (it is how the reconciler knows the
        // host); it is read once the host is adopted.
        let states = match adoption.adopted() {
            true => Some(
                bus.follow_states(&host)
                    .await
                    .context("cannot follow canonical state")?
                    .ready_chunks(BATCH),
            ),
            false => {
                bus.declare_host(&host)
                    .await
                    .context("cannot declare this host's consumer")?;
                None
            }
        };
        let mut watcher = Watcher::new(host, bus, tw, backend, mirror, adoption, spool)
            .with_filter(filter)
            .with_journal(journal);
        watcher.taskwarrior_version = version;
        Ok(App {
            watcher,
            intake,
            states,
            control,
            // The full pass (a whole `task export`, every canonical state) runs at start and then
            // as seldom as the reconciler's full listing: between passes a stat of the data files
            // each second finds writes no hook reported, and the host's durable consumer
            // redelivers what was not applied, so the idle cost does not grow with the tasks.
            reconcile_every: cfg.reconcile.full_interval.max(Duration::from_secs(1)),
            metrics_listen: cfg.metrics.listen,
        })
    }

    /// Runs until `shutdown`; hook messages already received are published before it returns.
    pub async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let App {
            mut watcher,
            intake,
            mut states,
            mut control,
            reconcile_every,
            metrics_listen,
        } = self;
        if let Some(listen) = metrics_listen {
            let addr = vsync_telemetry::metrics::serve(
                listen,
                watcher.metrics.clone(),
                shutdown.clone().cancelled_owned(),
            )
            .await
            .with_context(|| format!("cannot serve metrics on {listen}"))?;
            tracing::info!(%addr, "metrics served");
        }
        // What the hook spooled while we were away comes first.
        watcher.drain_spool().await;
        watcher.say_hello().await;
        let (tx, mut rx) = mpsc::channel(1024);
        let intake_stop = CancellationToken::new();
        let intake_task = tokio::spawn(intake.run(tx, watcher.spool.clone(), intake_stop.clone()));
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        // The first pass right away: it catches what changed while we were not running.
        let mut reconcile = tokio::time::interval(reconcile_every);
        loop {
            tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                Some(m) = rx.recv() => watcher.on_hook(m).await,
                // Not adopted yet: canonical state waits in the host's consumer.
                batch = next_batch(&mut states), if states.is_some() => {
                    let Some(batch) = batch else { anyhow::bail!("canonical state stream ended") };
                    // Local changes first: an apply must not be diffed against a stale base.
                    while let Ok(m) = rx.try_recv() {
                        watcher.on_hook(m).await;
                    }
                    watcher.apply(batch).await;
                }
                _ = tick.tick() => housekeeping(&mut watcher).await,
                Some(req) = control.next() => {
                    while let Ok(m) = rx.try_recv() {
                        watcher.on_hook(m).await;
                    }
                    watcher.on_control(req).await;
                    if states.is_none() && watcher.adoption.adopted() {
                        states = Some(follow(&watcher).await?);
                    }
                }
                _ = reconcile.tick() => {
                    while let Ok(m) = rx.try_recv() {
                        watcher.on_hook(m).await;
                    }
                    if let Err(e) = watcher.reconcile().await {
                        tracing::warn!(error = %e, "reconcile failed");
                    }
                }
            }
        }
        intake_stop.cancel();
        let _ = intake_task.await;
        while let Ok(m) = rx.try_recv() {
            watcher.on_hook(m).await;
        }
        tracing::info!("tw-watcher stopped");
        Ok(())
    }
}

/// The next batch of canonical state (never, before adoption).
async fn next_batch(
    states: &mut Option<ReadyChunks<Deliveries>>,
) -> Option<Vec<Result<vsync_bus::Delivery, vsync_bus::BusError>>> {
    match states {
        Some(s) => s.next().await,
        None => std::future::pending().await,
    }
}

/// Starts reading this host's canonical state (just adopted).
async fn follow(watcher: &Watcher) -> anyhow::Result<ReadyChunks<Deliveries>> {
    Ok(watcher
        .bus
        .follow_states(&watcher.host)
        .await
        .context("cannot follow canonical state")?
        .ready_chunks(BATCH))
}

/// Every second: retry the spool, forget imports no command can overlap any more, re-apply
/// what a concurrent write cost us once it is due, and look for writes no hook reported.
async fn housekeeping(watcher: &mut Watcher) {
    if watcher.backlog || watcher.spool.exists() {
        watcher.drain_spool().await;
    }
    watcher.say_hello().await;
    watcher.overlap.expire(Instant::now());
    watcher.reapply_due().await;
    watcher.check_quiet_files().await;
}

impl vsync_lifecycle::Service for App {
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send {
        App::run(self, shutdown)
    }
}
