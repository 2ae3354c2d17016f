//! Events of different projects side by side, each project's in the order it came: one lane
//! per partition (the origin, host and project a subject names), at most [`BUSY_AT_ONCE`]
//! lanes handling an event at a time. A project whose Vikunja calls are slow (a 429 wait, a
//! timeout) holds up only its own lane.
//!
//! An event waiting in a lane is not in hand yet: its delivery is renewed with the others'
//! every [`RENEW_EVERY`] so the bus does not deliver it a second time meanwhile, and at
//! shutdown it is handed back at once rather than after the ack wait.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Mutex, Semaphore};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use vsync_bus::Delivery;

use crate::EventHandler;

/// Lanes handling an event at the same time (each may wait on Vikunja).
pub(crate) const BUSY_AT_ONCE: usize = 8;
/// How often waiting events' deliveries are renewed (well within the bus's ack wait).
pub(crate) const RENEW_EVERY: Duration = Duration::from_secs(30);

#[derive(Default)]
struct Lane {
    waiting: VecDeque<Delivery>,
    /// A drain task runs for this lane.
    draining: bool,
}

/// Every lane that has seen an event recently.
pub(crate) struct Lanes {
    events: Arc<EventHandler>,
    lanes: HashMap<String, Arc<Mutex<Lane>>>,
    busy: Arc<Semaphore>,
    tasks: TaskTracker,
    shutdown: CancellationToken,
}

impl Lanes {
    pub(crate) fn new(
        events: Arc<EventHandler>,
        tasks: TaskTracker,
        shutdown: CancellationToken,
    ) -> Lanes {
        Lanes {
            events,
            lanes: HashMap::new(),
            busy: Arc::new(Semaphore::new(BUSY_AT_ONCE)),
            tasks,
            shutdown,
        }
    }

    /// Queues `msg` behind its partition's earlier events; starts the lane's drain if idle.
    pub(crate) async fn dispatch(&mut self, msg: Delivery) {
        let key = vsync_bus::subject::partition(msg.subject()).to_string();
        let lane = self.lanes.entry(key).or_default().clone();
        let mut l = lane.lock().await;
        l.waiting.push_back(msg);
        if !std::mem::replace(&mut l.draining, true) {
            let (events, busy, stop) = (
                self.events.clone(),
                self.busy.clone(),
                self.shutdown.clone(),
            );
            self.tasks.spawn(drain(lane.clone(), events, busy, stop));
        }
    }

    /// Renews the delivery of every waiting event and forgets idle lanes.
    pub(crate) async fn renew(&mut self) {
        let mut idle = Vec::new();
        for (key, lane) in &self.lanes {
            let l = lane.lock().await;
            for msg in &l.waiting {
                if let Err(e) = msg.in_progress().await {
                    tracing::warn!(error = %e, "cannot renew a waiting event's delivery");
                }
            }
            if !l.draining && l.waiting.is_empty() {
                idle.push(key.clone());
            }
        }
        for key in idle {
            self.lanes.remove(&key);
        }
    }
}

/// Handles a lane's events one after the other until it is empty, or until shutdown (what
/// still waits is handed back to be delivered again at once).
async fn drain(
    lane: Arc<Mutex<Lane>>,
    events: Arc<EventHandler>,
    busy: Arc<Semaphore>,
    stop: CancellationToken,
) {
    loop {
        let next = {
            let mut l = lane.lock().await;
            if stop.is_cancelled() {
                for msg in l.waiting.drain(..) {
                    let _ = msg.nak(Duration::ZERO).await;
                }
            }
            let next = l.waiting.pop_front();
            if next.is_none() {
                l.draining = false;
            }
            next
        };
        let Some(msg) = next else { return };
        let permit = tokio::select! {
            p = busy.clone().acquire_owned() => p,
            _ = stop.cancelled() => {
                let _ = msg.nak(Duration::ZERO).await;
                continue;
            }
        };
        crate::consume::process(&events, msg, &stop).await;
        drop(permit);
    }
}
