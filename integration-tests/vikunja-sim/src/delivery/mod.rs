//! Webhook delivery (reference §1.3): after commit, from a background worker; the event
//! fans out to the webhooks of its project and all ancestors, the data is re-read then, and
//! each delivery is retried up to 5 times (100 ms, ×2) before it is dropped. Injected
//! delivery faults and held deliveries are applied here.

mod payload;
mod send;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::faults::Release;
use crate::shared::{Shared, lock};
use crate::state::Event;
use payload::{Job, fan_out};
pub use send::sign;

/// Sent as `User-Agent: Vikunja/<version>` unless [`crate::SimConfig::version`] says otherwise.
pub const VERSION: &str = "v2.5.0-sim";
const RETRIES: u32 = 5;

/// One delivery attempt, as [`crate::Simulator::deliveries`] reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub webhook_id: i64,
    pub target_url: String,
    pub event_name: String,
    /// 1 for the first try, up to 6.
    pub attempt: u32,
    pub outcome: DeliveryOutcome,
    /// This attempt failed and was the last: the delivery was dropped.
    pub dropped: bool,
    /// The exact raw body sent (and signed).
    pub body: String,
    pub at: SystemTime,
}

impl Delivery {
    /// HTTP status ≤ 399: Vikunja counts the delivery as done.
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, DeliveryOutcome::Status(s) if s <= 399)
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Status(u16),
    /// Transport error, timeout, a refused private address or an injected failure.
    Error(String),
}

/// The queue, its switches, the held deliveries and the attempt log.
pub(crate) struct Deliverer {
    tx: mpsc::UnboundedSender<Event>,
    /// Events queued plus deliveries in flight (held, delayed or waiting for a retry).
    pending: AtomicUsize,
    idle: Notify,
    pub log: Mutex<Vec<Delivery>>,
    pub enabled: AtomicBool,
    pub copies: AtomicUsize,
    /// `Some` while deliveries are held back.
    held: Mutex<Option<Vec<Arc<Job>>>>,
    client: reqwest::Client,
    cancel: CancellationToken,
}

impl Deliverer {
    pub fn new(
        client: reqwest::Client,
        cancel: CancellationToken,
    ) -> (Deliverer, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let d = Deliverer {
            tx,
            pending: AtomicUsize::new(0),
            idle: Notify::new(),
            log: Mutex::new(Vec::new()),
            enabled: AtomicBool::new(true),
            copies: AtomicUsize::new(1),
            held: Mutex::new(None),
            client,
            cancel,
        };
        (d, rx)
    }

    pub fn enqueue(&self, ev: Event) {
        if !self.enabled.load(Ordering::SeqCst) {
            return;
        }
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(ev).is_err() {
            self.done();
        }
    }

    fn begin(&self) {
        self.pending.fetch_add(1, Ordering::SeqCst);
    }

    fn done(&self) {
        // Saturating: a shutdown may already have reset the count.
        let before = self
            .pending
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_sub(1))
            });
        if before.unwrap_or(0) <= 1 {
            self.idle.notify_waiters();
        }
    }

    /// After shutdown nothing is pending any more.
    pub fn reset(&self) {
        lock(&self.held).take();
        self.pending.store(0, Ordering::SeqCst);
        self.idle.notify_waiters();
    }

    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.pending.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.pending.load(Ordering::SeqCst) == 0;
            }
        }
    }

    /// From now on deliveries wait (already built) until [`Deliverer::release`].
    pub fn hold(&self) {
        lock(&self.held).get_or_insert_with(Vec::new);
    }

    pub fn held_count(&self) -> usize {
        lock(&self.held).as_ref().map_or(0, Vec::len)
    }

    /// Sends the held deliveries, one after the other in the given order, and stops holding.
    pub fn release(&self, shared: &Arc<Shared>, order: Release) {
        let Some(mut jobs) = lock(&self.held).take() else {
            return;
        };
        if order == Release::Reversed {
            jobs.reverse();
        }
        let shared = Arc::clone(shared);
        let cancel = self.cancel.clone();
        tokio::spawn(async move {
            let sending = async {
                for job in jobs {
                    deliver(&shared, job).await;
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = sending => {}
            }
        });
    }
}

/// The first attempt now; on failure the retries go on on their own task.
async fn deliver(shared: &Arc<Shared>, job: Arc<Job>) {
    if send::attempt(shared, &job, 1).await {
        shared.deliverer.done();
        return;
    }
    let retrying = send::retry(Arc::clone(shared), job);
    let cancel = shared.deliverer.cancel.clone();
    tokio::spawn(async move {
        tokio::select! {
            _ = cancel.cancelled() => {}
            _ = retrying => {}
        }
    });
}

/// One delivery as the injected faults shape it: dropped, copied, delayed, held or sent.
async fn dispatch(shared: &Arc<Shared>, mut job: Job) {
    let plan = shared.faults.delivery(job.event_name, job.hook.id);
    if plan.drop {
        return;
    }
    job.unreachable = plan.unreachable;
    let job = Arc::new(job);
    let copies = shared.deliverer.copies.load(Ordering::SeqCst).max(1) * plan.copies;
    for _ in 0..copies {
        shared.deliverer.begin();
        if !plan.delay.is_zero() {
            let (shared, job, delay) = (Arc::clone(shared), Arc::clone(&job), plan.delay);
            let cancel = shared.deliverer.cancel.clone();
            tokio::spawn(async move {
                tokio::select! {
                    _ = cancel.cancelled() => {}
                    _ = async {
                        tokio::time::sleep(delay).await;
                        deliver(&shared, job).await;
                    } => {}
                }
            });
            continue;
        }
        if let Some(held) = lock(&shared.deliverer.held).as_mut() {
            held.push(Arc::clone(&job));
            continue;
        }
        deliver(shared, Arc::clone(&job)).await;
    }
}

/// The worker: first attempts in queue order; failed deliveries retry on their own task.
pub(crate) async fn run(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Event>) {
    let cancel = shared.deliverer.cancel.clone();
    loop {
        let ev = tokio::select! {
            _ = cancel.cancelled() => break,
            ev = rx.recv() => ev,
        };
        let Some(ev) = ev else { break };
        let work = async {
            for job in fan_out(&shared, &ev) {
                dispatch(&shared, job).await;
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = work => {}
        }
        shared.deliverer.done();
    }
    shared.deliverer.reset();
}
