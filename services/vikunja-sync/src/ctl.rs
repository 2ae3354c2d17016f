//! `vikunja-sync reconcile|repair|adopt`: requests to the reconciler over the bus, so they work
//! from any host that reaches it.

use std::io::Write as _;
use std::path::Path;
use std::time::Duration;

use futures::StreamExt;
use vsync_bus::control::{AdoptRequest, Progress, ReconcileRequest, SyncallLink};
use vsync_bus::reports::{AdoptReport, ReconcileReply, RepairReport};
use vsync_bus::{Bus, BusError, RequestFailure};

/// How long a reconcile or a repair may take.
const PASS_TIMEOUT: Duration = Duration::from_secs(600);
/// How long an adoption may take.
const ADOPT_TIMEOUT: Duration = Duration::from_secs(3600);

/// Says what went wrong in the operator's words.
pub(crate) fn explain(e: BusError) -> anyhow::Error {
    match e {
        BusError::Request {
            failure: RequestFailure::TimedOut(t),
            ..
        } => anyhow::anyhow!("the reconciler did not answer within {t:?}"),
        BusError::Request {
            subject,
            failure: RequestFailure::NoResponders,
        } => anyhow::anyhow!("no reconciler answers {subject} (is it running?)"),
        BusError::Refused { error, .. } => anyhow::anyhow!("{error}"),
        e => e.into(),
    }
}

/// Runs a reconcile pass now (full by default) and returns what it changed.
pub async fn reconcile(bus: &Bus, req: &ReconcileRequest) -> anyhow::Result<ReconcileReply> {
    bus.reconcile(req.clone(), PASS_TIMEOUT)
        .await
        .map_err(explain)
}

/// Rebuilds correlations from both sides.
pub async fn repair(bus: &Bus) -> anyhow::Result<RepairReport> {
    bus.repair(PASS_TIMEOUT).await.map_err(explain)
}

/// First adoption; with `progress`, a progress bar on stderr.
pub async fn adopt(bus: &Bus, dry_run: bool, progress: bool) -> anyhow::Result<AdoptReport> {
    let req = AdoptRequest {
        dry_run,
        ..Default::default()
    };
    adopt_with(bus, req, progress).await
}

/// An adoption as `req` asks (syncall's pairs, foreign webhooks, `--link`, `--separate`);
/// progress comes to this client's own inbox, drawn on stderr with `progress`.
pub async fn adopt_with(
    bus: &Bus,
    mut req: AdoptRequest,
    progress: bool,
) -> anyhow::Result<AdoptReport> {
    let (progress_subject, mut updates) = bus.progress_inbox().await?;
    let bar = tokio::spawn(async move {
        while let Some(p) = updates.next().await {
            if progress {
                draw(p);
            }
        }
    });
    req.progress = Some(progress_subject);
    let report = bus.adopt(req, ADOPT_TIMEOUT).await;
    bar.abort();
    report.map_err(|e| anyhow::anyhow!("adoption failed: {}", explain(e)))
}

/// syncall's Taskwarrior <-> CalDAV pairs in `dir` (`adopt --from-syncall`), read here so a
/// wrong directory is said before anything is asked of the reconciler.
pub fn syncall_links(dir: &Path) -> anyhow::Result<Vec<SyncallLink>> {
    let links = crate::syncall::read_correlations(dir)?;
    if links.is_empty() {
        anyhow::bail!(
            "no Taskwarrior <-> CalDAV pairs in {} (syncall keeps them under `{}` in \
             ~/.config/syncall/<combination>.yaml); without syncall's pairs, run `adopt` \
             without --from-syncall",
            dir.display(),
            crate::syncall::IDS_KEY
        );
    }
    Ok(links)
}

fn draw(Progress { done, total }: Progress) {
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
