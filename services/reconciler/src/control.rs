//! The reconciler's control endpoint (request/reply over the bus, queue group `reconciler`), so
//! `vikunja-sync reconcile|repair|adopt|dead-letters|hosts retire` work from any host on the
//! bus.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;
use vsync_bus::control::reconciler::{ReconcileRequest, ReconcilerRequest};
use vsync_bus::control::{Incoming, Reply, Responder};
use vsync_bus::reports::ReconcileReply;

use crate::events::EventHandler;

/// What answering needs of the config.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Projects reconciled in parallel (`[reconcile] concurrency`).
    pub concurrency: usize,
    /// A host not seen for this long is not waited for (`[reconcile] host_timeout`).
    pub host_timeout: Duration,
}

/// Answers one control request.
pub async fn answer(
    events: Arc<EventHandler>,
    req: Incoming<ReconcilerRequest>,
    settings: Settings,
) {
    let concurrency = settings.concurrency;
    let (request, responder) = req.into_parts();
    let span = responder.span();
    let sent = async {
        match request {
            Ok(ReconcilerRequest::Reconcile(r)) => {
                let reply = reconcile_all(&events, &r, settings, &responder).await;
                responder.reply(Reply::Ok(reply)).await
            }
            Ok(ReconcilerRequest::Repair) => responder.answer(events.repair().await).await,
            Ok(ReconcilerRequest::Adopt(a)) => {
                let report = match (&a.link, &a.separate) {
                    (Some((uuid, id)), _) => events.adopt_link(uuid, *id).await,
                    (None, Some(which)) => events.adopt_separate(which).await,
                    (None, None) => events.adopt(&a, concurrency).await,
                };
                responder.answer(report).await
            }
            Ok(ReconcilerRequest::Replay(r)) => responder.answer(events.replay(r.seq).await).await,
            Ok(ReconcilerRequest::RetireHost(r)) => {
                responder
                    .answer(events.retire_host(&r.host, r.force).await)
                    .await
            }
            Err(e) => responder.reply::<()>(Reply::Error(e)).await,
        }
    }
    .instrument(span)
    .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, "cannot answer a control request");
    }
}

/// A reconcile of Vikunja, then of every host seen lately: each side's report, or why it
/// failed, and the hosts skipped.
async fn reconcile_all(
    events: &EventHandler,
    req: &ReconcileRequest,
    settings: Settings,
    responder: &Responder,
) -> ReconcileReply {
    let vikunja = events
        .reconcile_vikunja(req, settings.concurrency)
        .await
        .map_err(|e| responder.error(e));
    let (hosts, skipped) = match events.reconcile_hosts(settings.host_timeout).await {
        Ok(h) => (h.replies, h.skipped),
        Err(e) => (
            vec![Reply::Error(
                responder.error(format!("cannot ask the hosts: {e}")),
            )],
            Vec::new(),
        ),
    };
    ReconcileReply {
        vikunja: vikunja.into(),
        hosts,
        skipped,
    }
}
