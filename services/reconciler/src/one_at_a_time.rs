//! One event per task at a time. Events of different projects run side by side ([`crate::lanes`]),
//! and one task's events can come from two partitions: a host's change in its project, and the
//! webhook of our own write of it in the Vikunja project. That webhook must wait until the
//! change that caused it is handled (it can show labels from before the label write still
//! running, which is not a change made in Vikunja): a task's events are handled in turn.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use tokio::sync::OwnedMutexGuard;

/// A task's lock lives as long as someone holds or waits for it.
type TaskLock = tokio::sync::Mutex<()>;

/// Which tasks are being handled.
#[derive(Default)]
pub(crate) struct OneAtATime(Mutex<HashMap<String, Weak<TaskLock>>>);

impl OneAtATime {
    /// Waits until no other event of `key` (a task) is handled; its turn lasts while the guard
    /// is held.
    pub(crate) async fn turn(&self, key: &str) -> OwnedMutexGuard<()> {
        let lock = {
            let mut all = self.0.lock().unwrap_or_else(|p| p.into_inner());
            if all.len() > 1024 {
                all.retain(|_, w| w.strong_count() > 0);
            }
            match all.get(key).and_then(Weak::upgrade) {
                Some(l) => l,
                None => {
                    let l = Arc::new(TaskLock::new(()));
                    all.insert(key.to_string(), Arc::downgrade(&l));
                    l
                }
            }
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_task_waits_for_its_own_turn_only() {
        let turns = OneAtATime::default();
        let a = turns.turn("a").await;
        // Another task goes ahead at once.
        let b = tokio::time::timeout(std::time::Duration::from_secs(1), turns.turn("b")).await;
        assert!(b.is_ok());
        let second_a =
            tokio::time::timeout(std::time::Duration::from_millis(50), turns.turn("a")).await;
        assert!(second_a.is_err(), "a's second event waits");
        drop(a);
        let again = tokio::time::timeout(std::time::Duration::from_secs(1), turns.turn("a")).await;
        assert!(again.is_ok(), "its turn comes once the first is done");
    }
}
