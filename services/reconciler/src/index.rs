//! Canonical state at a glance, kept by following the bucket (a watch) rather than re-reading
//! it: which tasks owe Vikunja a write, and which Vikunja project each linked task is in. A
//! delta pass and a project change then read only the tasks they concern, so their cost does
//! not grow with the number of tasks. Until the first read is over, and while the watch is
//! down, the index is not ready and callers read the bucket as before.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use vsync_bus::Watched;
use vsync_proto::TaskState;

use crate::EventHandler;

/// The wait before a watch that failed is started again.
const REWATCH_AFTER: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(crate) struct StateIndex(RwLock<Inner>);

#[derive(Default)]
struct Inner {
    ready: bool,
    /// States with a Vikunja write owed (`vikunja_dirty`).
    owed: BTreeSet<String>,
    /// Linked tasks' Vikunja project, by uuid.
    project_of: HashMap<String, i64>,
}

impl StateIndex {
    fn see(&self, s: &TaskState) {
        let Ok(mut i) = self.0.write() else { return };
        if s.vikunja_dirty {
            i.owed.insert(s.uuid.clone());
        } else {
            i.owed.remove(&s.uuid);
        }
        if s.vikunja_id > 0 {
            i.project_of.insert(s.uuid.clone(), s.vikunja_project_id);
        } else {
            i.project_of.remove(&s.uuid);
        }
    }

    fn forget(&self, uuid: &str) {
        if let Ok(mut i) = self.0.write() {
            i.owed.remove(uuid);
            i.project_of.remove(uuid);
        }
    }

    fn set_ready(&self, ready: bool) {
        if let Ok(mut i) = self.0.write() {
            if !ready {
                *i = Inner::default();
            }
            i.ready = ready;
        }
    }

    /// The tasks that owe Vikunja a write (`None`: not ready).
    pub(crate) fn owed(&self) -> Option<Vec<String>> {
        let i = self.0.read().ok()?;
        i.ready.then(|| i.owed.iter().cloned().collect())
    }

    /// The linked tasks in one of the Vikunja projects `ids` (`None`: not ready).
    pub(crate) fn in_projects(&self, ids: &[i64]) -> Option<Vec<String>> {
        let i = self.0.read().ok()?;
        i.ready.then(|| {
            i.project_of
                .iter()
                .filter(|(_, p)| ids.contains(p))
                .map(|(u, _)| u.clone())
                .collect()
        })
    }

    pub(crate) fn ready(&self) -> bool {
        self.0.read().is_ok_and(|i| i.ready)
    }
}

/// Keeps `events.index` following canonical state until `shutdown`.
pub(crate) async fn follow(events: Arc<EventHandler>, shutdown: CancellationToken) {
    let index = &events.index;
    while !shutdown.is_cancelled() {
        match events.bus.watch_states().await {
            Ok(mut watch) => loop {
                let seen = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    seen = watch.next() => seen,
                };
                match seen {
                    Some(Ok(Watched::Stored(s))) => index.see(&s),
                    Some(Ok(Watched::Removed(uuid))) => index.forget(&uuid),
                    Some(Ok(Watched::CaughtUp)) => index.set_ready(true),
                    Some(Err(e)) => {
                        tracing::warn!(error = %e, "canonical state watch failed; reading it again");
                        break;
                    }
                    None => break,
                }
            },
            Err(e) => tracing::warn!(error = %e, "cannot watch canonical state"),
        }
        // What was missed while the watch was down is read again from the start.
        index.set_ready(false);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(REWATCH_AFTER) => {}
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn state(uuid: &str, vikunja_id: i64, project: i64, dirty: bool) -> TaskState {
        TaskState {
            uuid: uuid.into(),
            vikunja_id,
            vikunja_project_id: project,
            vikunja_dirty: dirty,
            ..Default::default()
        }
    }

    #[test]
    fn the_index_answers_only_once_ready_and_follows_each_change() {
        let index = StateIndex::default();
        index.see(&state("a", 1, 10, true));
        index.see(&state("b", 2, 20, false));
        index.see(&state("c", 0, 0, true));
        assert_eq!(index.owed(), None, "not ready yet");
        index.set_ready(true);
        assert_eq!(index.owed().unwrap(), ["a", "c"]);
        assert_eq!(index.in_projects(&[10]).unwrap(), ["a"]);
        index.see(&state("a", 1, 20, false));
        assert_eq!(index.owed().unwrap(), ["c"]);
        let mut in_20 = index.in_projects(&[20]).unwrap();
        in_20.sort();
        assert_eq!(in_20, ["a", "b"]);
        index.forget("b");
        assert_eq!(index.in_projects(&[20]).unwrap(), ["a"]);
        index.set_ready(false);
        assert_eq!(index.in_projects(&[20]), None);
        index.set_ready(true);
        assert_eq!(
            index.in_projects(&[20]).unwrap(),
            Vec::<String>::new(),
            "reset"
        );
    }
}
