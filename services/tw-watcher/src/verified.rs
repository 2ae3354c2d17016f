//! Which tasks the mirror shows as Taskwarrior's files hold them, as of one change stamp: what
//! must be exported before an apply so that a write no hook reported is not replaced.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use vsync_taskwarrior::DataStamp;

/// Which tasks the mirror shows as the files hold them, as of one change stamp.
#[derive(Default)]
pub(crate) struct Verified {
    /// The stamp the files had when we last looked or wrote.
    stamp: Option<DataStamp>,
    /// The tasks checked since; `None`: every task (a full export).
    tasks: Option<HashSet<String>>,
    /// The files' stamp as last seen with a change we have not looked at, and since when.
    settled: Option<(DataStamp, Instant)>,
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

    /// How long the files have shown `now` (at `at`), when that holds a change we have not
    /// looked at; `None` when it holds none.
    pub(crate) fn unchecked_for(&mut self, now: DataStamp, at: Instant) -> Option<Duration> {
        if !self.changed(&now) {
            self.settled = None;
            return None;
        }
        match &self.settled {
            Some((seen, since)) if *seen == now => Some(at.saturating_duration_since(*since)),
            _ => {
                self.settled = Some((now, at));
                Some(Duration::ZERO)
            }
        }
    }

    /// We wrote (`now`: the stamp after it): what we knew stays known.
    pub(crate) fn written(&mut self, now: DataStamp) {
        self.stamp = Some(now);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// A change counts from when the files last changed, not from when it was first seen.
    #[test]
    fn a_change_is_timed_from_the_last_time_the_files_changed() {
        let dir = tempfile::tempdir().unwrap();
        let mut v = Verified::default();
        v.all_checked(DataStamp::read(dir.path()));
        let t0 = Instant::now();
        let second = Duration::from_secs(1);
        assert_eq!(v.unchecked_for(DataStamp::read(dir.path()), t0), None);
        std::fs::write(dir.path().join("pending.data"), "a").unwrap();
        let first = DataStamp::read(dir.path());
        assert_eq!(v.unchecked_for(first.clone(), t0), Some(Duration::ZERO));
        assert_eq!(v.unchecked_for(first, t0 + second), Some(second));
        std::fs::write(dir.path().join("pending.data"), "ab").unwrap();
        let again = DataStamp::read(dir.path());
        assert_eq!(
            v.unchecked_for(again.clone(), t0 + second * 2),
            Some(Duration::ZERO)
        );
        v.all_checked(again.clone());
        assert_eq!(v.unchecked_for(again, t0 + second * 3), None);
    }
}
