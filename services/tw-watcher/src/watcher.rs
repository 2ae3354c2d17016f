//! The watcher's two flows: local changes out (hook messages -> task events) and canonical state
//! in (KV updates -> one `task import` per batch, verified by re-export).

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures::StreamExt;
use futures::stream::ReadyChunks;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use vikunja_sync_hook::HookMessage;
use vsync_bus::async_nats::jetstream::{self, AckKind, consumer::pull::Stream as PullStream};
use vsync_bus::{Bus, BusConfig, BusError, subject};
use vsync_config::Config;
use vsync_model::{Side, TwTask, fields, tw};
use vsync_proto::{
    EventKind, HostApplied, Origin, TaskEvent, TaskState, TaskwarriorChange, task_event,
};
use vsync_taskwarrior::Taskwarrior;

use crate::intake::{FromHook, Intake};
use crate::mirror::Mirror;

/// How long after an apply a local change may still have been computed from the state before it.
const CONTENTION_WINDOW: Duration = Duration::from_secs(10);
/// How long a re-apply waits for the reconciler to merge this host's own change first.
const REAPPLY_PATIENCE: Duration = Duration::from_secs(5);
/// Precision of a command's start time as the hook reports it.
const START_SLACK_US: i64 = 20_000;
/// A local command ending this long after one of our imports may still have overlapped it.
const OVERLAP_SLACK_US: i64 = 2_000_000;
/// Canonical states applied per `task import`.
const BATCH: usize = 256;

pub struct Watcher {
    host: String,
    bus: Bus,
    tw: Taskwarrior,
    mirror: Mirror,
    spool: PathBuf,
    /// Newest hook time published per task: older messages arriving late are superseded.
    hook_at: HashMap<String, i64>,
    /// What each recently applied task looked like before our import.
    recent_pre: HashMap<String, (Option<TwTask>, Instant, i64)>,
    /// Tasks to re-apply from canonical state because a concurrent write got in the way: once
    /// canonical state has merged this host's change made at the given time (or after a while).
    reapply: HashMap<String, (i64, Instant)>,
    /// Our recent imports, until a user command is seen to overlap one (then it is verified).
    recent_imports: Vec<ImportWindow>,
    /// The bus was unreachable: hook messages go to the spool, in order, until it drains.
    backlog: bool,
    metrics: vsync_telemetry::metrics::Metrics,
}

fn metrics() -> vsync_telemetry::metrics::Metrics {
    let m = vsync_telemetry::metrics::Metrics::default();
    m.describe(
        "vsync_events_out_total",
        "counter",
        "Local changes published, by kind.",
    );
    m.describe(
        "vsync_applied_total",
        "counter",
        "Canonical states applied to this host.",
    );
    m.describe(
        "vsync_e2e_latency_seconds",
        "histogram",
        "From the change at its origin to this host showing it, by direction.",
    );
    m
}

fn merge_subscribers(
    a: vsync_bus::async_nats::Subscriber,
    b: vsync_bus::async_nats::Subscriber,
) -> futures::stream::BoxStream<'static, vsync_bus::async_nats::Message> {
    futures::stream::select(a, b).boxed()
}

/// One `task import` of ours: when it ran, and what it wrote.
struct ImportWindow {
    started_us: i64,
    ended_us: i64,
    at: Instant,
    tasks: Vec<TwTask>,
}

/// The running service.
pub struct App {
    watcher: Watcher,
    intake: Intake,
    states: ReadyChunks<PullStream>,
    control: futures::stream::BoxStream<'static, vsync_bus::async_nats::Message>,
    reconcile_every: Duration,
    metrics_listen: Option<std::net::SocketAddr>,
}

impl App {
    /// Checks `task`, loads the mirror, connects, binds the hook socket and the host's consumer.
    pub async fn build(cfg: &Config, bus_url: &str, name: &str) -> anyhow::Result<App> {
        let t = &cfg.taskwarrior;
        let host = t.host();
        let tw = Taskwarrior::new(t.task_bin(), t.taskrc(), t.data());
        let version = tw.version().await.context("Taskwarrior is not usable")?;
        let state_dir = t.state_dir();
        let mirror = match Mirror::load(&state_dir)? {
            Some(m) => m,
            None => Mirror::create(&state_dir, tw.export_all().await?)?,
        };
        tracing::info!(
            host,
            taskwarrior = version,
            tasks = mirror.count(),
            "tw-watcher starting"
        );
        let bus = Bus::connect(&BusConfig::from_config(cfg, bus_url, name)).await?;
        let spool = vikunja_sync_hook::resolve_spool_path(&t.data());
        let intake = Intake::bind(&t.socket())
            .with_context(|| format!("cannot listen on {}", t.socket().display()))?;
        let control = bus
            .client()
            .subscribe(format!(
                "vsync.v1.ctl.tw.{}.>",
                subject::encode_token(&host)
            ))
            .await
            .context("cannot subscribe to control requests")?;
        let everyone = bus
            .client()
            .subscribe(vsync_bus::control::RECONCILE_ALL)
            .await
            .context("cannot subscribe to control requests")?;
        let control = merge_subscribers(control, everyone);
        let states = vsync_bus::pull(&bus.host_consumer(&host).await?)
            .await
            .context("cannot follow canonical state")?
            .ready_chunks(BATCH);
        Ok(App {
            watcher: Watcher {
                host,
                bus,
                tw,
                mirror,
                spool,
                hook_at: HashMap::new(),
                recent_pre: HashMap::new(),
                reapply: HashMap::new(),
                recent_imports: Vec::new(),
                backlog: false,
                metrics: metrics(),
            },
            intake,
            states,
            control,
            reconcile_every: cfg.reconcile.interval.max(Duration::from_secs(1)),
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
                batch = states.next() => {
                    let Some(batch) = batch else { anyhow::bail!("canonical state stream ended") };
                    // Local changes first: an apply must not be diffed against a stale base.
                    while let Ok(m) = rx.try_recv() {
                        watcher.on_hook(m).await;
                    }
                    watcher.apply(batch).await;
                }
                _ = tick.tick() => watcher.housekeeping().await,
                Some(req) = control.next() => {
                    while let Ok(m) = rx.try_recv() {
                        watcher.on_hook(m).await;
                    }
                    watcher.on_control(req).await;
                }
                _ = reconcile.tick() => {
                    while let Ok(m) = rx.try_recv() {
                        watcher.on_hook(m).await;
                    }
                    let r = watcher.reconcile().await;
                    if !r.error.is_empty() {
                        tracing::warn!(error = %r.error, "reconcile failed");
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

impl Watcher {
    async fn on_hook(&mut self, from: FromHook) {
        match from {
            FromHook::Message(m) => self.on_message(m).await,
            FromHook::Spooled => self.drain_spool().await,
        }
    }

    async fn on_message(&mut self, m: HookMessage) {
        self.verify_overlapping(&m).await;
        if self.backlog {
            self.spool_message(&m);
            return;
        }
        if let Err(e) = self.publish_hook(&m).await {
            tracing::warn!(error = %e, "bus unavailable; spooling local changes");
            self.backlog = true;
            self.spool_message(&m);
        }
    }

    fn spool_message(&self, m: &HookMessage) {
        if let Err(e) = vikunja_sync_hook::append_to_spool(&self.spool, &m.to_line()) {
            tracing::error!(error = %e, spool = %self.spool.display(), "cannot spool a local change");
        }
    }

    async fn drain_spool(&mut self) {
        let drained = match vikunja_sync_hook::drain_spool_report(&self.spool) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the spool");
                return;
            }
        };
        for bad in &drained.malformed {
            tracing::warn!(?bad, "malformed spool line skipped");
        }
        let mut pending = drained.messages.into_iter();
        for m in pending.by_ref() {
            if let Err(e) = self.publish_hook(&m).await {
                tracing::warn!(error = %e, "bus unavailable; keeping the spool");
                self.spool_message(&m);
                for rest in pending.by_ref() {
                    self.spool_message(&rest);
                }
                self.backlog = true;
                return;
            }
        }
        self.backlog = false;
    }

    async fn housekeeping(&mut self) {
        if self.backlog || self.spool.exists() {
            self.drain_spool().await;
        }
        self.recent_pre
            .retain(|_, (_, at, _)| at.elapsed() < CONTENTION_WINDOW);
        self.recent_imports
            .retain(|w| w.at.elapsed() < CONTENTION_WINDOW);
        let pending = std::mem::take(&mut self.reapply);
        for (uuid, (after_us, since)) in pending {
            // 0: no change of ours to wait for (our import was overwritten).
            let merged = after_us == 0
                || match self.bus.load_state(&uuid).await {
                    Ok(Some((s, _))) => s
                        .host_seen_us
                        .get(&self.host)
                        .is_some_and(|t| *t >= after_us),
                    _ => false,
                };
            if merged || since.elapsed() > REAPPLY_PATIENCE {
                self.reapply_one(&uuid).await;
            } else {
                self.reapply.insert(uuid, (after_us, since));
            }
        }
    }

    async fn publish_hook(&mut self, m: &HookMessage) -> Result<(), BusError> {
        for v in &m.tasks {
            match TwTask::from_value(v.clone()) {
                Ok(t) if t.is_template() => {}
                Ok(t) => {
                    let uuid = t.uuid().to_string();
                    self.publish_one(&uuid, Some(t), m.at_us, m.started_us, &m.command)
                        .await?;
                }
                Err(e) => {
                    let _ = self
                        .bus
                        .dead_letter(
                            "tw-watcher",
                            "hook",
                            v.to_string().as_bytes(),
                            &e.to_string(),
                            m.at_us,
                        )
                        .await;
                }
            }
        }
        for uuid in &m.removed {
            self.publish_one(uuid, None, m.at_us, m.started_us, &m.command)
                .await?;
        }
        Ok(())
    }

    /// The base a local change is diffed against: normally the mirror; right after one of our
    /// imports, the state before it if the change was computed from that one (TW 2.6 loses
    /// concurrent writes, so the user's command may not have seen our import).
    fn base_for(
        &self,
        uuid: &str,
        new: Option<&TwTask>,
        started_us: Option<i64>,
    ) -> Option<TwTask> {
        let mirror = self.mirror.get(uuid).cloned();
        let (Some(new), Some((pre, _, import_ended_us))) = (new, self.recent_pre.get(uuid)) else {
            return mirror;
        };
        // A command that started after our import ended saw it (start times are ~10 ms precise).
        if started_us.is_some_and(|s| s > import_ended_us + START_SLACK_US) {
            return mirror;
        }
        let distance = |b: &Option<TwTask>| match b {
            None => usize::MAX,
            Some(b) => {
                let (nv, bv) = (tw::view(new), tw::view(b));
                fields::names(Side::Taskwarrior, &nv)
                    .iter()
                    .filter(|f| {
                        fields::get(&nv, f, Side::Taskwarrior)
                            != fields::get(&bv, f, Side::Taskwarrior)
                    })
                    .count()
            }
        };
        // A command computed from the state before our import changed something relative to it;
        // one that shows exactly that state only undid what our import brought (it saw it).
        let from_pre = distance(pre);
        if from_pre > 0 && from_pre < distance(&mirror) {
            pre.clone()
        } else {
            mirror
        }
    }

    async fn publish_one(
        &mut self,
        uuid: &str,
        new: Option<TwTask>,
        at_us: i64,
        started_us: Option<i64>,
        command: &str,
    ) -> Result<(), BusError> {
        if self.hook_at.get(uuid).is_some_and(|t| *t > at_us) {
            return Ok(()); // a newer message for this task was already published
        }
        let base = self.base_for(uuid, new.as_ref(), started_us);
        let saw_our_import =
            base.as_ref().map(TwTask::to_json) == self.mirror.get(uuid).map(TwTask::to_json);
        match (&new, &base) {
            (Some(n), Some(b)) if tw::view(n) == tw::view(b) => {
                let _ = self.mirror.set(n.clone());
                return Ok(());
            }
            (None, None) => return Ok(()),
            _ => {}
        }
        let project = new
            .as_ref()
            .or(base.as_ref())
            .map(|t| tw::view(t).project)
            .unwrap_or_default();
        let kind = match (&new, &base) {
            (Some(n), _) if n.status() == "deleted" => EventKind::Deleted,
            (None, _) => EventKind::Deleted,
            (Some(_), None) => EventKind::Created,
            _ => EventKind::Updated,
        };
        let task_json = new.as_ref().map(TwTask::to_json).unwrap_or_default();
        let event = TaskEvent {
            origin: Origin::Taskwarrior as i32,
            kind: kind as i32,
            host: self.host.clone(),
            changed_at_us: at_us,
            published_at_us: vsync_model::dates::now_us(),
            change: Some(task_event::Change::Taskwarrior(TaskwarriorChange {
                uuid: uuid.to_string(),
                task_json: task_json.clone(),
                previous_json: base.as_ref().map(TwTask::to_json).unwrap_or_default(),
                command: command.to_string(),
            })),
        };
        let subject = subject::tw_task(&self.host, &project, kind);
        let msg_id = vsync_bus::content_id(&[
            self.host.as_bytes(),
            uuid.as_bytes(),
            at_us.to_string().as_bytes(),
            task_json.as_bytes(),
        ]);
        let span = tracing::info_span!(
            "publish",
            otel.name = %format!("publish {}", subject::pattern(&subject)),
            otel.kind = "producer",
            messaging.system = "nats",
            task.uuid = uuid,
            tw.host = %self.host,
        );
        self.bus
            .publish_event(&subject, &msg_id, &event)
            .instrument(span)
            .await?;
        self.metrics
            .inc("vsync_events_out_total", &[("kind", kind.as_str_name())]);
        let stored = match new {
            Some(n) => self.mirror.set(n),
            None => self.mirror.remove(uuid),
        };
        if let Err(e) = stored {
            tracing::error!(error = %e, "cannot persist the mirror");
        }
        self.hook_at.insert(uuid.to_string(), at_us);
        if !saw_our_import {
            // The command did not see our import (Taskwarrior 2.6 lost it): show canonical state
            // again once it includes this change.
            self.reapply
                .insert(uuid.to_string(), (at_us, Instant::now()));
        }
        Ok(())
    }

    /// Applies a batch of canonical states with one `task import`.
    async fn apply(&mut self, batch: Vec<Result<jetstream::Message, impl std::fmt::Display>>) {
        let mut msgs = Vec::new();
        let mut states: Vec<TaskState> = Vec::new();
        for m in batch {
            let m = match m {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(error = %e, "canonical state stream error");
                    continue;
                }
            };
            let is_put = m
                .headers
                .as_ref()
                .and_then(|h| h.get("KV-Operation"))
                .is_none();
            if is_put && vsync_bus::state_key(&m.subject).is_some() {
                match vsync_bus::decode::<TaskState>("TaskState", &m.payload) {
                    Ok(s) => {
                        states.retain(|o| o.uuid != s.uuid);
                        states.push(s);
                    }
                    Err(e) => {
                        let _ = self
                            .bus
                            .dead_letter(
                                "tw-apply",
                                &m.subject,
                                &m.payload,
                                &e.to_string(),
                                vsync_model::dates::now_us(),
                            )
                            .await;
                    }
                }
            }
            msgs.push(m);
        }
        let span = tracing::info_span!(
            "process",
            otel.name = "process $KV.vsync_tasks.*",
            otel.kind = "consumer",
            messaging.system = "nats",
            tw.host = %self.host,
            batch = states.len(),
            applied = tracing::field::Empty,
        );
        if let Some(first) = msgs.first() {
            vsync_bus::trace::set_parent(&span, first.headers.as_ref());
        }
        let ok = self.apply_states(&states).instrument(span).await;
        for m in msgs {
            let _ = if ok {
                m.ack().await
            } else {
                m.ack_with(AckKind::Nak(Some(Duration::from_secs(1)))).await
            };
        }
    }

    async fn apply_states(&mut self, states: &[TaskState]) -> bool {
        tracing::debug!(states = states.len(), "apply");
        let mut targets = Vec::new();
        for s in states {
            if let Some(t) = tw::apply(s, self.mirror.get(&s.uuid)) {
                targets.push((s, t));
            }
        }
        tracing::Span::current().record("applied", targets.len());
        if targets.is_empty() {
            return true;
        }
        let tasks: Vec<TwTask> = targets.iter().map(|(_, t)| t.clone()).collect();
        let started_us = vsync_model::dates::now_us();
        if let Err(e) = self.tw.import(&tasks).await {
            tracing::error!(error = %e, "task import failed");
            return self.apply_one_by_one(&targets).await;
        }
        let applied_at = vsync_model::dates::now_us();
        // The host shows them now: say so first, then do our own bookkeeping.
        for (s, _) in &targets {
            self.announce(s, applied_at).await;
        }
        for (s, t) in &targets {
            let pre = self.mirror.get(&s.uuid).cloned();
            self.recent_pre
                .insert(s.uuid.clone(), (pre, Instant::now(), applied_at));
            if let Err(e) = self.mirror.set(t.clone()) {
                tracing::error!(error = %e, "cannot persist the mirror");
            }
        }
        // Verified only if a user command turns out to have run at the same time (its on-exit
        // hook tells us): that is when Taskwarrior 2.6 loses one of two writes.
        self.recent_imports.push(ImportWindow {
            started_us,
            ended_us: vsync_model::dates::now_us(),
            at: Instant::now(),
            tasks,
        });
        true
    }

    /// A local command finished at `m.at_us`: if it may have overlapped one of our imports, one
    /// of the two writes may be lost (Taskwarrior 2.6 rewrites the whole file). Re-export the
    /// other tasks we imported then and re-apply what is gone; the command's own tasks are
    /// published from its hook message (see `base_for`), and re-applied from canonical state
    /// once it has merged them if our import wiped them from the file.
    async fn verify_overlapping(&mut self, m: &HookMessage) {
        let (overlapping, rest): (Vec<ImportWindow>, Vec<ImportWindow>) =
            std::mem::take(&mut self.recent_imports)
                .into_iter()
                .partition(|w| m.at_us >= w.started_us && m.at_us <= w.ended_us + OVERLAP_SLACK_US);
        self.recent_imports = rest;
        if overlapping.is_empty() {
            return;
        }
        let own: Vec<TwTask> = m
            .tasks
            .iter()
            .filter_map(|v| TwTask::from_value(v.clone()).ok())
            .filter(|t| !t.is_template())
            .collect();
        let is_own = |uuid: &str| {
            own.iter().any(|t| t.uuid() == uuid) || m.removed.iter().any(|u| u == uuid)
        };
        // The last version we imported of each task is the one the file should show.
        let mut last: HashMap<String, TwTask> = HashMap::new();
        for t in overlapping.into_iter().flat_map(|w| w.tasks) {
            if !is_own(t.uuid()) {
                last.insert(t.uuid().to_string(), t);
            }
        }
        let ours: Vec<TwTask> = last.into_values().collect();
        // One `task export` for both checks.
        let uuids: Vec<&str> = ours.iter().chain(&own).map(TwTask::uuid).collect();
        if uuids.is_empty() {
            return;
        }
        let exported = match self.tw.export_uuids(&uuids).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "cannot verify concurrent writes");
                return;
            }
        };
        self.verify_ours(&ours, &exported);
        self.verify_own(&own, &exported, m.at_us);
    }

    /// The user's command wrote `reported` (its hook says so); if the file (`exported`) shows the
    /// state from before the command instead, our concurrent import overwrote it: show canonical
    /// state again once it has this change. (A file showing something else, e.g. what another
    /// hook of the user's added on TW 3, is left alone.)
    fn verify_own(&mut self, reported: &[TwTask], exported: &[TwTask], at_us: i64) {
        for t in reported {
            let now = exported.iter().find(|e| e.uuid() == t.uuid()).map(tw::view);
            let before = self.mirror.get(t.uuid()).map(tw::view);
            if now != Some(tw::view(t)) && now == before {
                tracing::warn!(
                    uuid = t.uuid(),
                    "local change overwritten by our concurrent import; re-applying"
                );
                self.reapply
                    .insert(t.uuid().to_string(), (at_us, Instant::now()));
            }
        }
    }

    /// Tells listeners (status, benchmarks, the demo) that this host now shows `s`.
    async fn announce(&self, s: &TaskState, applied_at_us: i64) {
        self.metrics.inc("vsync_applied_total", &[]);
        let direction = match s.changed_by() {
            Origin::Taskwarrior if s.changed_by_host == self.host => None,
            Origin::Taskwarrior => Some("tw_to_tw"),
            _ => Some("vikunja_to_tw"),
        };
        if let Some(d) = direction {
            self.metrics.observe_since(
                "vsync_e2e_latency_seconds",
                &[("direction", d)],
                s.changed_at_us,
            );
        }
        let _ = self
            .bus
            .announce_applied(&HostApplied {
                host: self.host.clone(),
                uuid: s.uuid.clone(),
                version: s.version,
                changed_at_us: s.changed_at_us,
                applied_at_us,
            })
            .await;
    }

    /// A batch Taskwarrior refused: import one by one, dead-lettering what still fails.
    async fn apply_one_by_one(&mut self, targets: &[(&TaskState, TwTask)]) -> bool {
        let mut all_ok = true;
        for (s, t) in targets {
            match self.tw.import(std::slice::from_ref(t)).await {
                Ok(()) => {
                    let _ = self.mirror.set(t.clone());
                    self.announce(s, vsync_model::dates::now_us()).await;
                }
                Err(vsync_taskwarrior::TaskwarriorError::Failed { stderr, .. }) => {
                    let _ = self
                        .bus
                        .dead_letter(
                            "tw-apply",
                            &s.uuid,
                            t.to_json().as_bytes(),
                            &stderr,
                            vsync_model::dates::now_us(),
                        )
                        .await;
                }
                Err(e) => {
                    tracing::error!(error = %e, "task import failed");
                    all_ok = false;
                }
            }
        }
        all_ok
    }

    /// What we imported, against the file re-exported (`exported`): a concurrent user command
    /// may have overwritten it (TW 2.6).
    fn verify_ours(&mut self, imported: &[TwTask], exported: &[TwTask]) {
        for t in imported {
            let now = exported.iter().find(|e| e.uuid() == t.uuid());
            if now.map(tw::view) != Some(tw::view(t)) {
                tracing::warn!(
                    uuid = t.uuid(),
                    "import overwritten by a concurrent command; re-applying"
                );
                // A pending wait for a local change of this task stays: it re-applies too.
                self.reapply
                    .entry(t.uuid().to_string())
                    .or_insert((0, Instant::now()));
            }
        }
    }

    /// Applies the current canonical state of one task against a fresh export.
    async fn reapply_one(&mut self, uuid: &str) {
        let Ok(Some((state, _))) = self.bus.load_state(uuid).await else {
            return;
        };
        let local = match self.tw.export_uuids(&[uuid]).await {
            Ok(mut v) => v.pop(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot export for re-apply");
                return;
            }
        };
        if let Some(l) = &local {
            let _ = self.mirror.set(l.clone());
        }
        if let Some(t) = tw::apply(&state, local.as_ref())
            && self.tw.import(std::slice::from_ref(&t)).await.is_ok()
        {
            let _ = self.mirror.set(t);
            self.announce(&state, vsync_model::dates::now_us()).await;
        }
    }
}

impl Watcher {
    /// Answers a control request (see [`crate::control`]).
    async fn on_control(&mut self, req: vsync_bus::async_nats::Message) {
        let Some(reply) = req.reply.clone() else {
            return;
        };
        let verb = req.subject.rsplit('.').next().unwrap_or("").to_string();
        let body: Vec<u8> = match verb.as_str() {
            "reconcile" => serde_json::to_vec(&self.reconcile().await).unwrap_or_default(),
            "export" => match self.tw.export_all().await {
                Ok(tasks) => serde_json::to_vec(
                    &tasks
                        .iter()
                        .map(|t| serde_json::Value::Object(t.0.clone()))
                        .collect::<Vec<_>>(),
                )
                .unwrap_or_default(),
                Err(e) => format!("{{\"error\":{:?}}}", e.to_string()).into_bytes(),
            },
            "rekey" => match serde_json::from_slice::<Vec<vsync_bus::control::Rekey>>(&req.payload)
            {
                Ok(r) => match self.rekey(&r).await {
                    Ok(()) => b"{}".to_vec(),
                    Err(e) => format!("{{\"error\":{:?}}}", e).into_bytes(),
                },
                Err(e) => format!("{{\"error\":{:?}}}", e.to_string()).into_bytes(),
            },
            _ => b"{\"error\":\"unknown request\"}".to_vec(),
        };
        if let Err(e) = self.bus.client().publish(reply, body.into()).await {
            tracing::warn!(error = %e, "cannot answer a control request");
        }
    }

    /// Each local task `from` is the task known everywhere else as `to` (first adoption matched
    /// them): retire the `from`s here in one import; the `to`s arrive through canonical state.
    async fn rekey(&mut self, rekeys: &[vsync_bus::control::Rekey]) -> Result<(), String> {
        let from: Vec<&str> = rekeys.iter().map(|r| r.from.as_str()).collect();
        let mut retired = Vec::with_capacity(from.len());
        // Keep command lines short: uuids go to argv as the filter.
        for chunk in from.chunks(200) {
            let tasks = self
                .tw
                .export_uuids(chunk)
                .await
                .map_err(|e| e.to_string())?;
            retired.extend(tasks.into_iter().map(|mut t| {
                t.0.insert("status".into(), serde_json::json!("deleted"));
                t
            }));
        }
        self.tw.import(&retired).await.map_err(|e| e.to_string())?;
        for u in from {
            let _ = self.mirror.remove(u);
        }
        Ok(())
    }

    /// Compares one `task export` with the mirror (local changes no hook reported) and with
    /// canonical state (what this host should show), publishing the former and importing the latter.
    pub(crate) async fn reconcile(&mut self) -> vsync_bus::control::HostReport {
        let started = Instant::now();
        let mut report = vsync_bus::control::HostReport {
            host: self.host.clone(),
            ..Default::default()
        };
        match self.reconcile_inner(&mut report).await {
            Ok(()) => {}
            Err(e) => report.error = e,
        }
        report.took_ms = started.elapsed().as_millis() as u64;
        if report.published + report.applied > 0 {
            tracing::info!(
                published = report.published,
                applied = report.applied,
                "reconciled"
            );
        }
        report
    }

    async fn reconcile_inner(
        &mut self,
        report: &mut vsync_bus::control::HostReport,
    ) -> Result<(), String> {
        let local = self.tw.export_all().await.map_err(|e| e.to_string())?;
        report.task_runs += 1;
        report.exported = local.len();
        tracing::debug!("reconcile: states");
        let states = self.bus.all_states().await.map_err(|e| e.to_string())?;
        tracing::debug!(states = states.len(), "reconcile: compare");
        let now = vsync_model::dates::now_us();
        let mut published = std::collections::HashSet::new();
        for t in local.iter().filter(|t| !t.is_template()) {
            let uuid = t.uuid().to_string();
            // Made with hooks off, undone (TW 3 hides undo from hooks), or synced in.
            let missed = self
                .mirror
                .get(&uuid)
                .is_none_or(|m| tw::view(m) != tw::view(t));
            if !missed {
                continue;
            }
            let at = t.modified_us().unwrap_or(now);
            self.publish_one(&uuid, Some(t.clone()), at, None, "reconcile")
                .await
                .map_err(|e| e.to_string())?;
            published.insert(uuid);
            report.published += 1;
        }
        // Tasks that vanished (purged, or an add undone where no hook saw it).
        let present: std::collections::HashSet<&str> = local.iter().map(TwTask::uuid).collect();
        let vanished: Vec<String> = self
            .mirror
            .uuids()
            .filter(|u| !present.contains(u.as_str()))
            .collect();
        for uuid in vanished {
            self.publish_one(&uuid, None, now, None, "reconcile")
                .await
                .map_err(|e| e.to_string())?;
            report.published += 1;
        }
        let by_uuid: HashMap<&str, &TwTask> = local.iter().map(|t| (t.uuid(), t)).collect();
        let targets: Vec<(TaskState, TwTask)> = states
            .iter()
            .filter(|s| !published.contains(&s.uuid))
            .filter_map(|s| {
                tw::apply(s, by_uuid.get(s.uuid.as_str()).copied()).map(|t| (s.clone(), t))
            })
            .collect();
        if !targets.is_empty() {
            let tasks: Vec<TwTask> = targets.iter().map(|(_, t)| t.clone()).collect();
            self.tw.import(&tasks).await.map_err(|e| e.to_string())?;
            report.task_runs += 1;
            let applied_at = vsync_model::dates::now_us();
            for (s, t) in &targets {
                let _ = self.mirror.set(t.clone());
                self.announce(s, applied_at).await;
            }
            report.applied = targets.len();
        }
        Ok(())
    }
}

impl vsync_telemetry::service::Service for App {
    fn run(self, shutdown: CancellationToken) -> impl Future<Output = anyhow::Result<()>> + Send {
        App::run(self, shutdown)
    }
}
