//! Control requests over the bus (request/reply, JSON bodies), so the operator CLI works from
//! any host: what a watcher answers (reconcile now, its `task export`, re-key a task) and what
//! the reconciler answers (reconcile, repair, adopt).

use std::time::Duration;

use futures::StreamExt;
use serde::{Deserialize, Serialize};

/// Every watcher answers this (no queue group): `vikunja-sync reconcile` collects the replies.
pub const RECONCILE_ALL: &str = "vsync.v1.ctl.tw.reconcile";

/// `vsync.v1.ctl.tw.<host>.<verb>`
pub fn host_subject(host: &str, verb: &str) -> String {
    format!(
        "vsync.v1.ctl.tw.{}.{verb}",
        crate::subject::encode_token(host)
    )
}

/// What one host's reconcile pass did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct HostReport {
    pub host: String,
    /// Tasks in the host's `task export`.
    pub exported: usize,
    /// Local changes no hook reported (hooks off, `undo`, `task sync`), now published.
    pub published: usize,
    /// Canonical states the host did not show, now imported.
    pub applied: usize,
    /// `task` invocations the pass made.
    pub task_runs: usize,
    pub took_ms: u64,
    pub error: String,
}

impl std::fmt::Display for HostReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if !self.error.is_empty() {
            return write!(f, "host {}: failed: {}", self.host, self.error);
        }
        write!(
            f,
            "host {}: {} task(s) exported, {} local change(s) published, {} applied, {} task run(s), {} ms",
            self.host, self.exported, self.published, self.applied, self.task_runs, self.took_ms
        )
    }
}

/// Re-key a local task: the same task is known under `to` everywhere else.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Rekey {
    pub from: String,
    pub to: String,
}

/// `vsync.v1.ctl.reconciler.<verb>`: `reconcile`, `repair`, `adopt` (queue group `reconciler`).
pub fn reconciler_subject(verb: &str) -> String {
    format!("vsync.v1.ctl.reconciler.{verb}")
}

/// Ask the reconciler to reconcile now.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ReconcileRequest {
    /// A full listing (finds deletions) rather than a delta poll.
    pub full: bool,
    /// Only this project path (and its children).
    pub project: Option<String>,
}

/// Ask the reconciler to adopt existing data on both sides.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct AdoptRequest {
    pub dry_run: bool,
    /// Subject to publish progress lines to (`done/total`).
    pub progress: Option<String>,
}

/// The hosts following canonical state (one durable consumer each).
pub async fn hosts(bus: &crate::Bus) -> Result<Vec<String>, crate::BusError> {
    let err = |e: &dyn std::fmt::Display| crate::BusError::Consumer {
        name: "host-*".into(),
        reason: e.to_string(),
    };
    let stream = bus
        .jetstream()
        .get_stream(crate::TASKS_STREAM)
        .await
        .map_err(|e| err(&e))?;
    let mut names = stream.consumer_names();
    let mut out = Vec::new();
    while let Some(n) = names.next().await {
        let n = n.map_err(|e| err(&e))?;
        if let Some(h) = n
            .strip_prefix("host-")
            .and_then(crate::subject::decode_token)
        {
            out.push(h);
        }
    }
    out.sort();
    Ok(out)
}

/// Sends a request every watcher answers and collects the answers: until `expected` arrived or
/// `timeout` passed.
pub async fn gather(
    bus: &crate::Bus,
    subject: &str,
    payload: Vec<u8>,
    expected: usize,
    timeout: Duration,
) -> Result<Vec<async_nats::Message>, crate::BusError> {
    let client = bus.client();
    let inbox = client.new_inbox();
    let mut replies =
        client
            .subscribe(inbox.clone())
            .await
            .map_err(|e| crate::BusError::Publish {
                subject: subject.to_string(),
                reason: e.to_string(),
            })?;
    client
        .publish_with_reply(subject.to_string(), inbox, payload.into())
        .await
        .map_err(|e| crate::BusError::Publish {
            subject: subject.to_string(),
            reason: e.to_string(),
        })?;
    let mut out = Vec::new();
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    while out.len() < expected {
        tokio::select! {
            _ = &mut deadline => break,
            m = replies.next() => match m {
                Some(m) => out.push(m),
                None => break,
            },
        }
    }
    Ok(out)
}
