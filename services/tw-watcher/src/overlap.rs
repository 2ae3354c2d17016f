//! Taskwarrior 2.6 rewrites its whole data file on every write, so one of our `task import`s and
//! a user's command that run at the same time can lose each other's write. Re-exporting after
//! every import would double the cost of each apply; instead (docs/ARCHITECTURE.md §5.3) the
//! watcher remembers its recent imports — every one, whatever made it — and checks only when a
//! hook message shows a command whose run overlapped one. This is that bookkeeping, as plain
//! data (no I/O; the caller passes the times):
//!
//! - which of our imports a command overlapped, judged by the command's whole run (a `task
//!   edit` can stay open for minutes), so their tasks are re-exported and checked;
//! - whether the file shows a task as it was before one of our imports of it (our write was
//!   lost to a command that read the file earlier): re-applied, never published as an edit;
//! - which base a user's change was computed from: the mirror, or the task as it was before the
//!   first of our imports the command did not see;
//! - which tasks to re-apply from canonical state, and when each re-apply is due;
//! - when what it remembers expires.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use vsync_model::{Side, TwTask, fields, tw};

/// How long our imports are remembered: a command that started before one and ends later than
/// this (an editor left open) is past what we can check.
const HISTORY: Duration = Duration::from_secs(15 * 60);
/// At most this many imported tasks are remembered (the oldest imports go first).
const MAX_REMEMBERED: usize = 10_000;
/// How long a re-apply waits for the reconciler to merge this host's own change first.
const REAPPLY_PATIENCE: Duration = Duration::from_secs(5);
/// Precision of a command's start time as the hook reports it.
const START_SLACK_US: i64 = 20_000;
/// Without the command's start: a command ending this long after one of our imports may still
/// have overlapped it.
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
    /// Our recent imports, oldest first.
    imports: Vec<ImportWindow>,
    /// Tasks to re-apply from canonical state because a concurrent write got in the way: once
    /// canonical state has merged this host's change made at the given time (or after a while).
    reapply: HashMap<String, (i64, Instant)>,
}

/// When one import of ours ran, and each task it wrote as it was before.
struct ImportWindow {
    started_us: i64,
    returned_us: i64,
    ended_us: i64,
    at: Instant,
    before: Vec<(String, Option<TwTask>)>,
}

impl ImportWindow {
    fn before(&self, uuid: &str) -> Option<&Option<TwTask>> {
        self.before.iter().find(|(u, _)| u == uuid).map(|(_, b)| b)
    }
}

/// The tasks of our imports one user command overlapped.
pub struct Overlapped(Vec<String>);

impl Overlapped {
    /// Every task of those imports but the command's own (`is_own`), which its hook reports.
    pub fn others(self, is_own: impl Fn(&str) -> bool) -> Vec<String> {
        let mut out: Vec<String> = self.0.into_iter().filter(|u| !is_own(u)).collect();
        out.sort();
        out.dedup();
        out
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
        self.imports.push(ImportWindow {
            started_us: import.started_us,
            returned_us: import.returned_us,
            ended_us: import.ended_us,
            at: now,
            before: import
                .tasks
                .into_iter()
                .map(|(before, t)| (t.uuid().to_string(), before))
                .collect(),
        });
    }

    /// A user command ran from `started_us` (when its hook knew it) until `ended_us`: the
    /// tasks of every import of ours whose run overlapped its run (`None` if none). Imports
    /// stay remembered: a second command overlapping one is checked too.
    pub fn overlapped_by(&self, started_us: Option<i64>, ended_us: i64) -> Option<Overlapped> {
        let overlapped = |w: &&ImportWindow| match started_us {
            // It read the file before our write was done and wrote it after ours began.
            Some(s) => ended_us >= w.started_us && s <= w.ended_us + START_SLACK_US,
            None => ended_us >= w.started_us && ended_us <= w.ended_us + OVERLAP_SLACK_US,
        };
        let uuids: Vec<String> = self
            .imports
            .iter()
            .filter(overlapped)
            .flat_map(|w| w.before.iter().map(|(u, _)| u.clone()))
            .collect();
        (!uuids.is_empty()).then_some(Overlapped(uuids))
    }

    /// Whether the file shows task `uuid` as `shown` (`None`: not at all) where one of our
    /// remembered imports of it replaced exactly that, last changed before the import: a
    /// command that read the file earlier wrote it back over ours (Taskwarrior 2.6), or an
    /// undo took ours back. Our import is what is missing, not a change of the user's.
    pub fn reverted(&self, uuid: &str, shown: Option<&TwTask>) -> bool {
        self.imports.iter().any(|w| match (w.before(uuid), shown) {
            (Some(None), None) => true,
            (Some(Some(before)), Some(shown)) => {
                tw::view(before) == tw::view(shown)
                    && shown.modified_us().is_some_and(|m| m < w.started_us)
            }
            _ => false,
        })
    }

    /// Of our imported tasks `uuids` (an overlapping command's others), those the file
    /// (`exported`) shows reverted rather than as the mirror has them: our write was lost, so
    /// each is re-applied at once (a pending wait for a local change of it stays). Returns them.
    pub fn check_ours(
        &mut self,
        uuids: &[String],
        exported: &[TwTask],
        mirror: impl Fn(&str) -> Option<TwTask>,
        now: Instant,
    ) -> Vec<String> {
        let mut lost = Vec::new();
        for uuid in uuids {
            let shown = exported.iter().find(|e| e.uuid() == uuid);
            if shown.map(tw::view) != mirror(uuid).as_ref().map(tw::view)
                && self.reverted(uuid, shown)
            {
                self.reapply_now(uuid, now);
                lost.push(uuid.clone());
            }
        }
        lost
    }

    /// The user's command wrote `reported` at `at_us` (its hook says so); a task the file
    /// (`exported`) shows as the mirror had it instead was overwritten by our concurrent import:
    /// it is re-applied from canonical state once that has this change. (A file showing something
    /// else, e.g. what another hook of the user's added on TW 3, is left alone.) Returns them.
    pub fn check_own(
        &mut self,
        reported: &[TwTask],
        exported: &[TwTask],
        mirror: impl Fn(&str) -> Option<TwTask>,
        at_us: i64,
        now: Instant,
    ) -> Vec<String> {
        let mut lost = Vec::new();
        for t in reported {
            let shown = exported.iter().find(|e| e.uuid() == t.uuid()).map(tw::view);
            let before = mirror(t.uuid()).as_ref().map(tw::view);
            if shown != Some(tw::view(t)) && shown == before {
                self.reapply.insert(t.uuid().to_string(), (at_us, now));
                lost.push(t.uuid().to_string());
            }
        }
        lost
    }

    /// The base a local change (`new`, from a command started at `started_us`) is diffed
    /// against: normally the `mirror`; when the command started before one of our imports of
    /// the task returned, the task as it was before the first such import, if the change was
    /// computed from that one (the command did not see our import). Without the command's start
    /// (a change found in the files, maybe before its hook message came) every remembered state
    /// before one of our imports of the task is a candidate, however long ago: the same change
    /// gets the same base whichever of the two reports it first.
    pub fn base_for(
        &self,
        uuid: &str,
        new: Option<&TwTask>,
        started_us: Option<i64>,
        mirror: Option<&TwTask>,
    ) -> Option<TwTask> {
        let mirror = mirror.cloned();
        let Some(new) = new else { return mirror };
        let mut windows = self.imports.iter().filter(|w| w.before(uuid).is_some());
        let candidates: Vec<&Option<TwTask>> = match started_us {
            // The first import it had not seen when it read the file (start times are ~10 ms
            // precise).
            Some(s) => windows
                .find(|w| s <= w.returned_us + START_SLACK_US)
                .and_then(|w| w.before(uuid))
                .into_iter()
                .collect(),
            None => windows.filter_map(|w| w.before(uuid)).collect(),
        };
        let distance = |b: &Option<TwTask>| b.as_ref().map_or(usize::MAX, |b| distance(new, b));
        // The closest (the earliest of equals): what the change was most likely computed from.
        let Some((before, from_before)) = candidates
            .into_iter()
            .map(|b| (b, distance(b)))
            .min_by_key(|(_, d)| *d)
        else {
            return mirror;
        };
        // A command computed from the state before our import changed something relative to it;
        // one that shows exactly that state only undid what our import brought (it saw it).
        if from_before > 0 && from_before < distance(&mirror) {
            before.clone()
        } else {
            mirror
        }
    }

    /// A local change made at `at_us` was computed without our import (its base was the task
    /// from before it): re-apply canonical state once it has merged this change.
    pub fn reapply_once_merged(&mut self, uuid: &str, at_us: i64, now: Instant) {
        self.reapply.insert(uuid.to_string(), (at_us, now));
    }

    /// Re-apply task `uuid` from canonical state at once (our import of it was lost); a
    /// pending wait for a local change of it stays.
    pub fn reapply_now(&mut self, uuid: &str, now: Instant) {
        self.reapply.entry(uuid.to_string()).or_insert((0, now));
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

    /// Whether task `uuid` waits to be re-applied (a concurrent write got in the way): what the
    /// file shows of it meanwhile is no change of the user's.
    pub fn reapply_pending(&self, uuid: &str) -> bool {
        self.reapply.contains_key(uuid)
    }

    /// Keeps a re-apply pending.
    pub fn keep(&mut self, r: Reapply) {
        self.reapply.insert(r.uuid, (r.after_us, r.since));
    }

    /// Forgets imports older than the history, and the oldest beyond what is remembered at
    /// most. Pending re-applies stay until done.
    pub fn expire(&mut self, now: Instant) {
        self.imports
            .retain(|w| now.saturating_duration_since(w.at) < HISTORY);
        let mut remembered: usize = self.imports.iter().map(|w| w.before.len()).sum();
        let mut oldest = 0;
        while remembered > MAX_REMEMBERED && oldest < self.imports.len() {
            remembered -= self.imports[oldest].before.len();
            oldest += 1;
        }
        self.imports.drain(..oldest);
    }
}

/// How many of the synced fields `new` shows differently from `base`: the fewer, the likelier
/// `new` was computed from `base`.
pub(crate) fn distance(new: &TwTask, base: &TwTask) -> usize {
    let (nv, bv) = (tw::view(new), tw::view(base));
    fields::names(Side::Taskwarrior, &nv)
        .iter()
        .filter(|f| {
            fields::get(&nv, f, Side::Taskwarrior) != fields::get(&bv, f, Side::Taskwarrior)
        })
        .count()
}

#[cfg(test)]
mod tests;
