//! What the control requests answer: the reports of a reconcile (the reconciler's and each
//! host's), a repair and an adoption. Plain data (JSON on the bus), printed by the CLI.

use serde::{Deserialize, Serialize};

pub use crate::adopt_report::AdoptReport;
use crate::control::{ControlError, Reply};
pub use crate::hosts::{HostInfo, RetireReport};

/// What one reconcile pass over Vikunja found and did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReconcileReport {
    pub full: bool,
    /// Vikunja tasks listed.
    pub listed: usize,
    /// Vikunja API requests made by the pass.
    pub api_calls: u64,
    /// Tasks whose canonical state changed, with the fields.
    pub changed: Vec<(String, Vec<String>)>,
    /// Tasks seen for the first time.
    pub created: usize,
    /// Tasks found deleted in Vikunja.
    pub deleted: usize,
    /// Owed Vikunja writes done.
    pub pushed: usize,
    /// Tasks the listing did not show that Vikunja still has (checked one by one).
    #[serde(default)]
    pub missed: usize,
    /// Why the listing was not trusted (the mass-deletion guard); empty when it was.
    #[serde(default)]
    pub guard: String,
    /// Deletions the guard held back: tasks Vikunja no longer has, still live everywhere.
    #[serde(default)]
    pub held_deletions: usize,
    /// Vikunja writes waiting (parked) after the pass, and why the oldest waits.
    #[serde(default)]
    pub waiting: usize,
    #[serde(default)]
    pub waiting_because: String,
    /// What the pass could not bring in, and why (it went on without them).
    #[serde(default)]
    pub failed: Vec<(String, String)>,
    pub took_ms: u64,
    pub finished_at_us: i64,
}

impl std::fmt::Display for ReconcileReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} reconcile: {} Vikunja task(s) listed with {} API call(s) in {} ms",
            if self.full { "full" } else { "delta" },
            self.listed,
            self.api_calls,
            self.took_ms
        )?;
        writeln!(
            f,
            "  {} new, {} deleted, {} changed, {} Vikunja write(s) caught up",
            self.created,
            self.deleted,
            self.changed.len(),
            self.pushed
        )?;
        for (uuid, fields) in &self.changed {
            writeln!(f, "  changed {uuid}: {}", fields.join(", "))?;
        }
        if self.missed > 0 {
            writeln!(
                f,
                "  {} task(s) missing from the listing are still in Vikunja: kept",
                self.missed
            )?;
        }
        if self.waiting > 0 {
            writeln!(
                f,
                "  {} Vikunja write(s) waiting, the oldest because: {}",
                self.waiting, self.waiting_because
            )?;
        }
        if !self.guard.is_empty() {
            writeln!(f, "  mass-deletion guard: {}", self.guard)?;
        }
        if self.held_deletions > 0 {
            writeln!(
                f,
                "  {} deletion(s) held back by the guard",
                self.held_deletions
            )?;
        }
        for (what, why) in &self.failed {
            writeln!(f, "  failed {what}: {why}")?;
        }
        Ok(())
    }
}

/// What one host's reconcile pass did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
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
}

impl std::fmt::Display for HostReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "host {}: {} task(s) exported, {} local change(s) published, {} applied, {} task run(s), {} ms",
            self.host, self.exported, self.published, self.applied, self.task_runs, self.took_ms
        )
    }
}

/// The answer to a reconcile: Vikunja's side and every host's, each a report or why it failed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReconcileReply {
    pub vikunja: Reply<ReconcileReport>,
    pub hosts: Vec<Reply<HostReport>>,
    /// Hosts not seen within `[reconcile] host_timeout`: not waited for. Default (older
    /// reconcilers): none.
    #[serde(default)]
    pub skipped: Vec<String>,
}

impl ReconcileReply {
    /// What failed, Vikunja's side first.
    pub fn errors(&self) -> Vec<&ControlError> {
        std::iter::once(&self.vikunja)
            .filter_map(|r| r.as_ref().err())
            .chain(self.hosts.iter().filter_map(|r| r.as_ref().err()))
            .collect()
    }
}

impl std::fmt::Display for ReconcileReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.vikunja {
            Reply::Ok(r) => write!(f, "{r}")?,
            Reply::Error(e) => writeln!(f, "reconcile failed: {e}")?,
        }
        for h in &self.hosts {
            match h {
                Reply::Ok(r) => writeln!(f, "{r}")?,
                Reply::Error(e) => writeln!(f, "{e}")?,
            }
        }
        for h in &self.skipped {
            writeln!(
                f,
                "host {h}: skipped, not seen within `[reconcile] host_timeout` (`vikunja-sync \
                 hosts` shows when it was; reconciled when it is back)"
            )?;
        }
        Ok(())
    }
}

/// The answer to a repair.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RepairReport {
    /// Correlations (Vikunja id -> uuid) rewritten from canonical state.
    pub links_fixed: usize,
    pub links_checked: usize,
    /// Host tasks whose `vikunja_id` disagrees with canonical state: (host, uuid, local id, canonical id).
    pub mismatches: Vec<(String, String, i64, i64)>,
    /// Host tasks with a `vikunja_id` but no canonical state (run `adopt`): (host, uuid, id).
    pub unknown: Vec<(String, String, i64)>,
    /// Hosts that did not send their tasks, with why.
    pub unreachable: Vec<(String, String)>,
}

impl std::fmt::Display for RepairReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "repair: {} correlation(s) checked, {} rewritten",
            self.links_checked, self.links_fixed
        )?;
        for (host, uuid, local, canonical) in &self.mismatches {
            writeln!(
                f,
                "  {host} {uuid}: vikunja_id {local} locally, {canonical} in canonical state (the host is corrected on its next apply)"
            )?;
        }
        for (host, uuid, id) in &self.unknown {
            writeln!(
                f,
                "  {host} {uuid}: vikunja_id {id} but no canonical state (run `vikunja-sync adopt`)"
            )?;
        }
        for (host, why) in &self.unreachable {
            writeln!(f, "  {host}: not checked: {why}")?;
        }
        Ok(())
    }
}

/// What a replay of dead letters did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReplayReport {
    /// (sequence, stage, what was done) of each dead letter replayed, and removed.
    pub replayed: Vec<(u64, String, String)>,
    /// (sequence, stage, why not) of each dead letter left in place.
    pub kept: Vec<(u64, String, String)>,
}

impl std::fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "{} dead letter(s) replayed, {} kept",
            self.replayed.len(),
            self.kept.len()
        )?;
        for (seq, stage, what) in &self.replayed {
            writeln!(f, "  #{seq} {stage}: {what}")?;
        }
        for (seq, stage, why) in &self.kept {
            writeln!(f, "  #{seq} {stage}: kept: {why}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reply_has_one_shape_made_by_serde() {
        let ok: Reply<HostReport> = Reply::Ok(HostReport {
            host: "desk".into(),
            ..Default::default()
        });
        let v = serde_json::to_value(&ok).unwrap_or_default();
        assert_eq!(v["ok"]["host"], "desk");
        // Quotes, backslashes and newlines in a message stay JSON.
        let err: Reply<HostReport> =
            Reply::Error(ControlError::new("host desk", "task said \"no\"\\\n"));
        let text = serde_json::to_string(&err).unwrap_or_default();
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&text).unwrap_or_default(),
            serde_json::json!({"error": {"by": "host desk", "message": "task said \"no\"\\\n"}})
        );
        assert_eq!(
            serde_json::from_str::<Reply<HostReport>>(&text).ok(),
            Some(err)
        );
    }

    #[test]
    fn a_reconcile_reply_lists_what_failed() {
        let r = ReconcileReply {
            vikunja: Reply::Error(ControlError::new("reconciler", "Vikunja: 502")),
            hosts: vec![
                Reply::Ok(HostReport::default()),
                Reply::Error(ControlError::new("host desk", "task: locked")),
            ],
            skipped: vec!["attic".into()],
        };
        let errors: Vec<String> = r.errors().iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            ["reconciler: Vikunja: 502", "host desk: task: locked"]
        );
        let text = r.to_string();
        assert!(
            text.starts_with("reconcile failed: reconciler: Vikunja: 502\n"),
            "{text}"
        );
        assert!(text.contains("host attic: skipped"), "{text}");
        // A reply from a reconciler that skips no host reads back with none.
        let mut v = serde_json::to_value(&r).unwrap_or_default();
        v.as_object_mut().map(|o| o.remove("skipped"));
        let old: Option<ReconcileReply> = serde_json::from_value(v).ok();
        assert_eq!(old.map(|o| o.skipped), Some(Vec::new()));
    }
}
