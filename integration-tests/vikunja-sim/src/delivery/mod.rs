//! Webhook delivery (reference §1.3): after commit, from a background worker; the event
//! fans out to the webhooks of its project and all ancestors, the data is re-read then, and
//! each delivery is retried up to 5 times (100 ms, ×2) before it is dropped. Injected
//! delivery faults and held deliveries are applied here.

mod payload;
pub(crate) mod queue;
mod send;

use std::sync::Arc;

use tokio::sync::mpsc;

use crate::faults::Release;
use crate::shared::Shared;
use crate::state::Event;
use payload::fan_out;
use queue::Job;
pub use queue::{Delivery, DeliveryOutcome};
pub use send::sign;

/// Sent as `User-Agent: Vikunja/<version>` unless [`crate::SimConfig::version`] says otherwise.
pub const VERSION: &str = "v2.5.0-sim";

/// Sends the held deliveries, one after the other in the given order, and stops holding.
pub(crate) fn release(shared: &Arc<Shared>, order: Release) {
    let Some(mut jobs) = shared.deliverer.take_held() else {
        return;
    };
    if order == Release::Reversed {
        jobs.reverse();
    }
    let shared = Arc::clone(shared);
    let cancel = shared.deliverer.cancel();
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

/// The first attempt now; on failure the retries go on on their own task.
async fn deliver(shared: &Arc<Shared>, job: Arc<Job>) {
    if send::attempt(shared, &job, 1).await {
        shared.deliverer.done();
        return;
    }
    let retrying = send::retry(Arc::clone(shared), job);
    let cancel = shared.deliverer.cancel();
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
    let copies = shared.deliverer.copies().max(1) * plan.copies;
    for _ in 0..copies {
        shared.deliverer.begin();
        if !plan.delay.is_zero() {
            let (shared, job, delay) = (Arc::clone(shared), Arc::clone(&job), plan.delay);
            let cancel = shared.deliverer.cancel();
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
        if shared.deliverer.hold_back(&job) {
            continue;
        }
        deliver(shared, Arc::clone(&job)).await;
    }
}

/// The worker: first attempts in queue order; failed deliveries retry on their own task.
pub(crate) async fn run(shared: Arc<Shared>, mut rx: mpsc::UnboundedReceiver<Event>) {
    let cancel = shared.deliverer.cancel();
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
