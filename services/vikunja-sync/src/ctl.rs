//! `vikunja-sync reconcile|repair|adopt`: requests to the reconciler over the bus, so they work
//! from any host that reaches it.

use std::io::Write as _;
use std::time::Duration;

use futures::StreamExt;
use reconciler::{AdoptReport, ReconcileReply, RepairReport};
use vsync_bus::Bus;
use vsync_bus::control::{AdoptRequest, ReconcileRequest, reconciler_subject};

async fn request(
    bus: &Bus,
    verb: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> anyhow::Result<bytes::Bytes> {
    let subject = reconciler_subject(verb);
    let req = vsync_bus::async_nats::client::Request::new()
        .payload(body.into())
        .timeout(Some(timeout));
    let reply = bus
        .client()
        .send_request(subject.clone(), req)
        .await
        .map_err(|e| match e.kind() {
            vsync_bus::async_nats::client::RequestErrorKind::TimedOut => {
                anyhow::anyhow!("the reconciler did not answer within {timeout:?}")
            }
            _ => anyhow::anyhow!("no reconciler answers {subject} (is it running?): {e}"),
        })?;
    Ok(reply.payload)
}

fn error_of(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<serde_json::Value>(body)
        .ok()?
        .get("error")?
        .as_str()
        .map(str::to_string)
}

/// Runs a reconcile pass now (full by default) and returns what it changed.
pub async fn reconcile(bus: &Bus, req: &ReconcileRequest) -> anyhow::Result<ReconcileReply> {
    let body = request(
        bus,
        "reconcile",
        serde_json::to_vec(req)?,
        Duration::from_secs(600),
    )
    .await?;
    Ok(serde_json::from_slice(&body)?)
}

/// Rebuilds correlations from both sides.
pub async fn repair(bus: &Bus) -> anyhow::Result<RepairReport> {
    let body = request(bus, "repair", Vec::new(), Duration::from_secs(600)).await?;
    Ok(serde_json::from_slice(&body)?)
}

/// First adoption; with `progress`, a progress bar on stderr.
pub async fn adopt(bus: &Bus, dry_run: bool, progress: bool) -> anyhow::Result<AdoptReport> {
    let progress_subject = bus.client().new_inbox();
    let mut updates = bus.client().subscribe(progress_subject.clone()).await?;
    let bar = tokio::spawn(async move {
        while let Some(m) = updates.next().await {
            if !progress {
                continue;
            }
            let text = String::from_utf8_lossy(&m.payload).to_string();
            if let Some((done, total)) = text.split_once('/')
                && let (Ok(done), Ok(total)) = (done.parse::<usize>(), total.parse::<usize>())
            {
                let width = 30;
                let filled = (done * width)
                    .checked_div(total)
                    .unwrap_or(width)
                    .min(width);
                eprint!(
                    "\r[{}{}] {done}/{total}",
                    "#".repeat(filled),
                    " ".repeat(width - filled)
                );
                let _ = std::io::stderr().flush();
                if done == total {
                    eprintln!();
                }
            }
        }
    });
    let req = AdoptRequest {
        dry_run,
        progress: Some(progress_subject),
    };
    let body = request(
        bus,
        "adopt",
        serde_json::to_vec(&req)?,
        Duration::from_secs(3600),
    )
    .await;
    bar.abort();
    let body = body?;
    if let Some(e) = error_of(&body) {
        anyhow::bail!("adoption failed: {e}");
    }
    #[derive(serde::Deserialize)]
    struct Reply {
        report: AdoptReport,
    }
    Ok(serde_json::from_slice::<Reply>(&body)?.report)
}
