//! The reconciler's control endpoint (request/reply over the bus, queue group `reconciler`), so
//! `vikunja-sync reconcile|repair|adopt|dead-letters` work from any host on the bus.

use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;
use vsync_bus::control::reconciler::{ReconcileRequest, ReconcilerRequest};
use vsync_bus::control::{Incoming, Reply, Responder};
use vsync_bus::reports::ReconcileReply;

use crate::events::EventHandler;

/// How long every host together may take to reconcile.
const HOSTS_TIMEOUT: Duration = Duration::from_secs(120);

/// Answers one control request.
pub async fn answer(
    events: Arc<EventHandler>,
    req: Incoming<ReconcilerRequest>,
    concurrency: usize,
) {
    let (request, responder) = req.into_parts();
    let span = responder.span();
    let sent = async {
        match request {
            Ok(ReconcilerRequest::Reconcile(r)) => {
                let reply = reconcile_all(&events, &r, concurrency, &responder).await;
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
            Err(e) => responder.reply::<()>(Reply::Error(e)).await,
        }
    }
    .instrument(span)
    .await;
    if let Err(e) = sent {
        tracing::warn!(error = %e, "cannot answer a control request");
    }
}

/// A reconcile of Vikunja, then of every host: each side's report, or why it failed.
async fn reconcile_all(
    events: &EventHandler,
    req: &ReconcileRequest,
    concurrency: usize,
    responder: &Responder,
) -> ReconcileReply {
    let vikunja = events
        .reconcile_vikunja(req.full, req.project.as_deref(), concurrency)
        .await
        .map_err(|e| responder.error(e));
    let hosts = match events.bus.reconcile_hosts(HOSTS_TIMEOUT).await {
        Ok(h) => h,
        Err(e) => vec![Reply::Error(
            responder.error(format!("cannot ask the hosts: {e}")),
        )],
    };
    ReconcileReply {
        vikunja: vikunja.into(),
        hosts,
    }
}
