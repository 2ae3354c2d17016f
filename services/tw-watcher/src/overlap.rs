//! Taskwarrior 2.6 rewrites its whole data file on every write, so one of our `task import`s and
//! a user's command that run at the same time can lose each other's write. Re-exporting after
//! every import would double the cost of each apply; instead (docs/ARCHITECTURE.md §5.3) the
//! watcher remembers its recent imports and checks only when a hook message shows a command that
//! overlapped one. This is that bookkeeping, as plain data (no I/O; the caller passes the times):
//!
//! - which of our imports a command overlapped, so their tasks are re-exported and checked;
//! - which base a user's change was computed from: the mirror, or the task as it was before our
//!   import when the command did not see that import;
//! - which tasks to re-apply from canonical state, and when each re-apply is due;
//! - when what it remembers expires.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use vsync_model::{Side, TwTask, fields, tw};

/// How long after an import a local change may still have been computed from the state before it.
const CONTENTION_WINDOW: Duration = Duration::from_secs(10);
/// How long a re-apply waits for the reconciler to merge this host's own change first.
const REAPPLY_PATIENCE: Duration = Duration::from_secs(5);
/// Precision of a command's start time as the hook reports it.
const START_SLACK_US: i64 = 20_000;
/// A local command ending this long after one of our imports may still have overlapped it.
const OVERLAP_SLACK_US: i64 = 2_000_000;

/// One `task import` of ours, as the inbound flow reports it (times in unix microseconds).
pub struct Import {
    /// When `task import` was started.
    pub started_us: i64,
    /// When it returned: a command started after this saw what it wrote.
    pub returned_us: i64,
    /// When our bookkeeping of it was done.
    pub ended_us: i64,
    /// Each task we imported, with the mirror's version of it from before the import.
    pub tasks: Vec<(Option<TwTask>, TwTask)>,
}

/// The overlap bookkeeping of one host (see the module docs).
#[derive(Default)]
pub struct Overlap {
    /// What each recently imported task looked like before our import.
    before_import: HashMap<String, BeforeImport>,
    /// Our recent imports, until a user command is seen to overlap one (then it is checked).
    imports: Vec<ImportWindow>,
    /// Tasks to re-apply from canonical state because a concurrent write got in the way: once
    /// canonical state has merged this host's change made at the given time (or after a while).
    reapply: HashMap<String, (i64, Instant)>,
}

struct BeforeImport {
    task: Option<TwTask>,
    at: Instant,
    import_returned_us: i64,
}

/// When one import of ours ran, and what it wrote.
struct ImportWindow {
    started_us: i64,
    ended_us: i64,
    at: Instant,
    tasks: Vec<TwTask>,
}

/// The imports of ours one user command overlapped.
pub struct Overlapped(Vec<ImportWindow>);

impl Overlapped {
    /// The last version we imported of each task the command may have overwritten: all but its
    /// own (`is_own`), which its hook reports.
    pub fn others(self, is_own: impl Fn(&str) -> bool) -> Vec<TwTask> {
        // The last version we imported of each task is the one the file should show.
        let mut last: HashMap<String, TwTask> = HashMap::new();
        for t in self.0.into_iter().flat_map(|w| w.tasks) {
            if !is_own(t.uuid()) {
                last.insert(t.uuid().to_string(), t);
            }
        }
        last.into_values().collect()
    }
}

/// A task waiting to be re-applied from canonical state.
pub struct Reapply {
    pub uuid: String,
    /// This host's change canonical state should merge first; 0 when there is none to wait for
    /// (our import was overwritten).
    after_us: i64,
    since: Instant,
}

impl Reapply {
    /// Whether there is a change of this host's for canonical state to merge first (so the
    /// caller reads canonical state to decide).
    pub fn waits_for_merge(&self) -> bool {
        self.after_us != 0
    }

    /// Due once canonical state has merged the change (this host seen at or after it:
    /// `host_seen_us`), or, with that not seen, once patience runs out.
    pub fn is_due(&self, host_seen_us: Option<i64>, now: Instant) -> bool {
        let merged = !self.waits_for_merge() || host_seen_us.is_some_and(|t| t >= self.after_us);
        merged || now.saturating_duration_since(self.since) > REAPPLY_PATIENCE
    }
}

impl Overlap {
    /// Remembers one of our imports, for the commands that may turn out to have overlapped it.
    pub fn imported(&mut self, import: Import, now: Instant) {
        let mut tasks = Vec::with_capacity(import.tasks.len());
        for (before, task) in import.tasks {
            self.before_import.insert(
                task.uuid().to_string(),
                BeforeImport {
                    task: before,
                    at: now,
                    import_returned_us: import.returned_us,
                },
            );
            tasks.push(task);
        }
        self.imports.push(ImportWindow {
            started_us: import.started_us,
            ended_us: import.ended_us,
            at: now,
            tasks,
        });
    }

    /// A user command ended at `command_ended_us`: the imports of ours it overlapped (`None`
    /// if none), forgotten here since they are checked now.
    pub fn overlapped_by(&mut self, command_ended_us: i64) -> Option<Overlapped> {
        let (overlapping, rest): (Vec<ImportWindow>, Vec<ImportWindow>) =
            std::mem::take(&mut self.imports)
                .into_iter()
                .partition(|w| {
                    command_ended_us >= w.started_us
                        && command_ended_us <= w.ended_us + OVERLAP_SLACK_US
                });
        self.imports = rest;
        (!overlapping.is_empty()).then_some(Overlapped(overlapping))
    }

    /// What we imported, against the file as re-exported after an overlapping command
    /// (`exported`): each task the file does not show as imported was overwritten by that
    /// command, and is re-applied (a pending wait for a local change of it stays). Returns them.
    pub fn check_ours(
        &mut self,
        imported: &[TwTask],
        exported: &[TwTask],
        now: Instant,
    ) -> Vec<String> {
        let mut lost = Vec::new();
        for t in imported {
            let shown = exported.iter().find(|e| e.uuid() == t.uuid());
            if shown.map(tw::view) != Some(tw::view(t)) {
                self.reapply.entry(t.uuid().to_string()).or_insert((0, now));
                lost.push(t.uuid().to_string());
            }
        }
        lost
    }

    /// The user's command wrote `reported` at `at_us` (its hook says so); a task the file
    /// (`exported`) shows as the mirror had it instead was overwritten by our concurrent import:
    /// it is re-applied from canonical state once that has this change. (A file showing something
    /// else, e.g. what another hook of the user's added on TW 3, is left alone.) Returns them.
    pub fn check_own<'m>(
        &mut self,
        reported: &[TwTask],
        exported: &[TwTask],
        mirror: impl Fn(&str) -> Option<&'m TwTask>,
        at_us: i64,
        now: Instant,
    ) -> Vec<String> {
        let mut lost = Vec::new();
        for t in reported {
            let shown = exported.iter().find(|e| e.uuid() == t.uuid()).map(tw::view);
            let before = mirror(t.uuid()).map(tw::view);
            if shown != Some(tw::view(t)) && shown == before {
                self.reapply.insert(t.uuid().to_string(), (at_us, now));
                lost.push(t.uuid().to_string());
            }
        }
        lost
    }

    /// The base a local change (`new`, from a command started at `started_us`) is diffed
    /// against: normally the `mirror`; right after one of our imports, the task as it was before
    /// that import if the change was computed from that one (the command did not see our import).
    pub fn base_for(
        &self,
        uuid: &str,
        new: Option<&TwTask>,
        started_us: Option<i64>,
        mirror: Option<&TwTask>,
    ) -> Option<TwTask> {
        let mirror = mirror.cloned();
        let (Some(new), Some(before)) = (new, self.before_import.get(uuid)) else {
            return mirror;
        };
        // A command that started after our import returned saw it (start times are ~10 ms
        // precise).
        if started_us.is_some_and(|s| s > before.import_returned_us + START_SLACK_US) {
            return mirror;
        }
        let distance = |b: &Option<TwTask>| match b {
            None => usize::MAX,
            Some(b) => {
                let (nv, bv) = (tw::view(new), tw::view(b));
                fields::names(Side::Taskwarrior, &nv)
                    .iter()
                    .filter(|f| {
                        fields::get(&nv, f, Side::Taskwarrior)
                            != fields::get(&bv, f, Side::Taskwarrior)
                    })
                    .count()
            }
        };
        // A command computed from the state before our import changed something relative to it;
        // one that shows exactly that state only undid what our import brought (it saw it).
        let from_before = distance(&before.task);
        if from_before > 0 && from_before < distance(&mirror) {
            before.task.clone()
        } else {
            mirror
        }
    }

    /// A local change made at `at_us` was computed without our import (its base was the task
    /// from before it): re-apply canonical state once it has merged this change.
    pub fn reapply_once_merged(&mut self, uuid: &str, at_us: i64, now: Instant) {
        self.reapply.insert(uuid.to_string(), (at_us, now));
    }

    /// Every pending re-apply, taken out: [`Overlap::keep`] puts back those not due yet.
    pub fn take_reapplies(&mut self) -> Vec<Reapply> {
        std::mem::take(&mut self.reapply)
            .into_iter()
            .map(|(uuid, (after_us, since))| Reapply {
                uuid,
                after_us,
                since,
            })
            .collect()
    }

    /// Keeps a re-apply pending.
    pub fn keep(&mut self, r: Reapply) {
        self.reapply.insert(r.uuid, (r.after_us, r.since));
    }

    /// Forgets imports, and the states from before them, older than the contention window: a
    /// command ending later cannot have overlapped them. Pending re-applies stay until done.
    pub fn expire(&mut self, now: Instant) {
        let recent = |at: Instant| now.saturating_duration_since(at) < CONTENTION_WINDOW;
        self.before_import.retain(|_, b| recent(b.at));
        self.imports.retain(|w| recent(w.at));
    }
}

#[cfg(test)]
mod tests;
