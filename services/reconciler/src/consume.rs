//! One delivered event, start to end: decoded, merged and written (its delivery renewed while
//! Vikunja takes its time), then acknowledged, handed back to wait, or dead-lettered.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use vsync_bus::{Delivery, Stage};
use vsync_proto::TaskEvent;

use crate::{Applied, EventHandler, SyncError};

/// The longest wait before an event that waits is delivered again.
const MAX_REDELIVERY_DELAY: Duration = Duration::from_secs(30);
/// While an event is handled, its delivery is renewed this often, so the bus never redelivers
/// it to another reconciler meanwhile however long Vikunja takes (429 waits, timeouts).
const IN_PROGRESS_EVERY: Duration = Duration::from_secs(15);

/// Handles `msg` and settles its delivery; `stop`: the service is shutting down.
pub(crate) async fn process(events: &EventHandler, msg: Delivery, stop: &CancellationToken) {
    let span = msg.process_span();
    async {
        let now = vsync_model::dates::now_us();
        if let Some(host) = vsync_bus::subject::hello_host(msg.subject()) {
            tracing::Span::current().record("tw.host", host.as_str());
            return hello(events, &msg, &host, stop).await;
        }
        let ev = match msg.task_event() {
            Ok(ev) => ev,
            Err(e) => return dead(events, &msg, &e.to_string(), now).await,
        };
        events.metrics.inc(
            "vsync_events_in_total",
            &[
                ("origin", ev.origin().as_str_name()),
                ("kind", ev.kind().as_str_name()),
            ],
        );
        match handle_renewing(events, &msg, &ev).await {
            Ok(applied) => {
                tracing::Span::current().record("task.uuid", applied.uuid.as_str());
                if applied.stored {
                    tracing::debug!(uuid = %applied.uuid, changed = ?applied.changed, "merged");
                }
                let _ = msg.ack().await;
            }
            Err(e) if e.waits() => {
                // Never a dead letter: it comes back until what it waits for answers.
                events
                    .metrics
                    .inc("vsync_errors_total", &[("stage", "waits")]);
                let delivered = msg.delivered();
                tracing::warn!(error = %e, delivered, "event waits; it will be redelivered");
                let _ = msg.nak(redelivery_delay(delivered)).await;
            }
            Err(e) => dead(events, &msg, &e.to_string(), now).await,
        }
    }
    .instrument(span)
    .await
}

/// Handles `ev`, telling the bus every [`IN_PROGRESS_EVERY`] that `msg` is still in hand.
async fn handle_renewing(
    events: &EventHandler,
    msg: &Delivery,
    ev: &TaskEvent,
) -> Result<Applied, SyncError> {
    let handle = events.handle(ev);
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

/// A host waits to be adopted: adopt it (its delivery renewed meanwhile), or hand the hello
/// back to wait when something it needs does not answer. At shutdown it is handed back at
/// once: an adoption cut short is carried on by the next (each step is idempotent), and a
/// host that stops too may not answer for a long while.
async fn hello(events: &EventHandler, msg: &Delivery, host: &str, stop: &CancellationToken) {
    let said = vsync_bus::Hello::read(msg.payload());
    let adopt = events.on_hello(host, &said);
    tokio::pin!(adopt);
    let first = tokio::time::Instant::now() + IN_PROGRESS_EVERY;
    let mut renew = tokio::time::interval_at(first, IN_PROGRESS_EVERY);
    let done = loop {
        tokio::select! {
            done = &mut adopt => break done,
            _ = stop.cancelled() => {
                let _ = msg.nak(Duration::ZERO).await;
                return;
            }
            _ = renew.tick() => {
                let _ = msg.in_progress().await;
            }
        }
    };
    match done {
        Ok(()) => {
            let _ = msg.ack().await;
        }
        // Never dropped: the host syncs nothing until it is adopted.
        Err(e) => {
            tracing::warn!(host, error = %e, "cannot adopt the host yet; trying again");
            let _ = msg.nak(redelivery_delay(msg.delivered())).await;
        }
    }
}

async fn dead(events: &EventHandler, msg: &Delivery, reason: &str, now: i64) {
    events
        .metrics
        .inc("vsync_dead_letters_total", &[("stage", "reconciler")]);
    match events
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

/// The wait before the `delivered`th delivery of an event that waits is tried again: 250 ms,
/// doubling, at most 30 s.
fn redelivery_delay(delivered: i64) -> Duration {
    let exp = u32::try_from(delivered.clamp(1, 16) - 1).unwrap_or(0);
    (Duration::from_millis(250) * (1 << exp)).min(MAX_REDELIVERY_DELAY)
}
