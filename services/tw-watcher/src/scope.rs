//! What this host syncs (`[taskwarrior] filter`, docs/ARCHITECTURE.md §5.10): a change of a
//! task is synced when the task is in the filter before the change or after it, judged on the
//! sync's own view of the task (`tw::view`, canonical state's fields) so both directions
//! decide alike.
//!
//! - Out: a local task outside the filter is never published, so it is never created
//!   elsewhere. A task that leaves the filter here (its tag removed, moved to another project)
//!   publishes that one change, since the mirror's copy was in it, and nothing after: it is
//!   not deleted elsewhere, only no longer synced from here.
//! - In: canonical state outside the filter is not imported when the host lacks the task; a
//!   task the host has in the filter is still updated, also out of it (moved in Vikunja). A
//!   task out of the filter on both sides is left alone: its local edits were never published,
//!   and an apply would revert them.
//! - Adoption sees only the tasks in the filter (`exported`), so it never matches or creates
//!   another.

use vsync_model::{TaskFilter, TwTask, tw};
use vsync_proto::{TaskFields, TaskState};

use crate::watcher::Watcher;

/// Whether a change from `before` to `after` (`None`: no such task) is synced under `filter`.
fn syncs(filter: &TaskFilter, before: Option<&TaskFields>, after: Option<&TaskFields>) -> bool {
    before.is_some_and(|t| filter.matches(t)) || after.is_some_and(|t| filter.matches(t))
}

impl Watcher {
    /// Whether the local change of task `uuid` from the mirror's copy to `new` is published.
    pub(crate) fn publishes(&self, uuid: &str, new: Option<&TwTask>) -> bool {
        let Some(f) = &self.filter else { return true };
        let before = self.mirror.get(uuid).as_ref().map(tw::view);
        syncs(f, before.as_ref(), new.map(tw::view).as_ref())
    }

    /// Whether canonical state `s` is applied over the host's copy `local` (`None`: the host
    /// does not have the task).
    pub(crate) fn takes(&self, s: &TaskState, local: Option<&TwTask>) -> bool {
        let Some(f) = &self.filter else { return true };
        syncs(f, local.map(tw::view).as_ref(), s.fields.as_ref())
    }

    /// The host's tasks adoption may see: every one in the filter.
    pub(crate) fn exported(&self, tasks: Vec<TwTask>) -> Vec<TwTask> {
        match &self.filter {
            None => tasks,
            Some(f) => tasks
                .into_iter()
                .filter(|t| f.matches(&tw::view(t)))
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(project: &str) -> TaskFields {
        TaskFields {
            project: project.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_change_syncs_when_the_task_is_in_the_filter_before_or_after_it() {
        let f = TaskFilter::parse("project:Work").expect("parses");
        let (work, home) = (task("Work"), task("Home"));
        let cases = [
            // (before, after, synced)
            (None, Some(&work), true),  // new in the filter
            (None, Some(&home), false), // new outside: stays local / not imported
            (Some(&work), Some(&work), true),
            (Some(&work), Some(&home), true), // leaves the filter: that change syncs
            (Some(&home), Some(&home), false), // out on both sides: left alone
            (Some(&home), Some(&work), true), // enters the filter
            (Some(&work), None, true),        // gone from the host
            (Some(&home), None, false),
        ];
        for (before, after, want) in cases {
            assert_eq!(syncs(&f, before, after), want, "{before:?} -> {after:?}");
        }
    }
}
