//! Which tasks the mirror shows as Taskwarrior's files hold them, as of one change stamp: what
//! must be exported before an apply so that a write no hook reported is not replaced.

use std::collections::HashSet;

use vsync_taskwarrior::DataStamp;

/// Which tasks the mirror shows as the files hold them, as of one change stamp.
#[derive(Default)]
pub(crate) struct Verified {
    /// The stamp the files had when we last looked or wrote.
    stamp: Option<DataStamp>,
    /// The tasks checked since; `None`: every task (a full export).
    tasks: Option<HashSet<String>>,
}

impl Verified {
    /// Of `uuids`, those to export before they are applied: all of them once the files changed
    /// since we last looked, but each only once per change.
    pub(crate) fn unverified<'a>(&mut self, now: DataStamp, uuids: &[&'a str]) -> Vec<&'a str> {
        if self.stamp.as_ref() != Some(&now) {
            self.stamp = Some(now);
            self.tasks = Some(HashSet::new());
        }
        match &self.tasks {
            None => Vec::new(),
            Some(seen) => uuids
                .iter()
                .copied()
                .filter(|u| !seen.contains(*u))
                .collect(),
        }
    }

    /// These tasks were just exported.
    pub(crate) fn checked(&mut self, uuids: &[&str]) {
        if let Some(seen) = &mut self.tasks {
            seen.extend(uuids.iter().map(|u| u.to_string()));
        }
    }

    /// Every task was exported when the files had `stamp`.
    pub(crate) fn all_checked(&mut self, stamp: DataStamp) {
        self.stamp = Some(stamp);
        self.tasks = None;
    }

    /// Whether some task may show what the mirror does not: the files changed since we last
    /// looked or wrote, or since they changed only some tasks were exported.
    pub(crate) fn changed(&self, now: &DataStamp) -> bool {
        self.stamp.as_ref() != Some(now) || self.tasks.is_some()
    }

    /// We wrote (`now`: the stamp after it): what we knew stays known.
    pub(crate) fn written(&mut self, now: DataStamp) {
        self.stamp = Some(now);
    }
}
