//! The delivery queue, its switches, the held deliveries and the attempt log: what the
//! rest of the simulator shares with the delivery worker.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::Value;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::lock::lock;
use crate::model::Webhook;
use crate::state::Event;

/// One delivery to one webhook: the body is fixed at fan-out and resent as is on retries.
pub(crate) struct Job {
    pub hook: Webhook,
    pub event_name: &'static str,
    pub body: String,
    /// Every attempt fails as if the target could not be reached (an injected fault).
    pub unreachable: bool,
}

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
    pub(super) client: reqwest::Client,
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

    pub(super) fn begin(&self) {
        self.pending.fetch_add(1, Ordering::SeqCst);
    }

    pub(super) fn done(&self) {
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

    /// Stops holding and hands over what was held.
    pub(super) fn take_held(&self) -> Option<Vec<Arc<Job>>> {
        lock(&self.held).take()
    }

    pub(super) fn cancel(&self) -> CancellationToken {
        self.cancel.clone()
    }

    pub(super) fn copies(&self) -> usize {
        self.copies.load(Ordering::SeqCst)
    }

    /// `Some` while deliveries are held: the held list.
    pub(super) fn hold_back(&self, job: &Arc<Job>) -> bool {
        match lock(&self.held).as_mut() {
            Some(held) => {
                held.push(Arc::clone(job));
                true
            }
            None => false,
        }
    }

    pub fn held_count(&self) -> usize {
        lock(&self.held).as_ref().map_or(0, Vec::len)
    }
}
