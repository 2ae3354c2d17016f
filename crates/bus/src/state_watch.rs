//! Following canonical state as it changes: a KV watch that first delivers the newest state of
//! every task, says when it has caught up, then delivers each change. Caches built on it never
//! re-read the whole bucket.

use std::time::Duration;

use async_nats::jetstream::kv;
use futures::StreamExt;
use vsync_proto::TaskState;

use crate::{Bus, BusError, TASKS_STREAM};

/// Once this long passes with nothing delivered, the first read of the bucket is over (its
/// pending count can stay above zero when a key is rewritten meanwhile, see `all_states`).
const CATCH_UP_PAUSE: Duration = Duration::from_millis(250);

/// What a [`StateWatch`] saw.
#[derive(Debug)]
pub enum Watched {
    /// A task's newest canonical state.
    Stored(Box<TaskState>),
    /// A key deleted or purged, or a value that is not a canonical state.
    Removed(String),
    /// Every task's state has been delivered once; changes follow.
    CaughtUp,
}

/// Canonical state as it changes (see [`Bus::watch_states`]).
pub struct StateWatch {
    watch: kv::Watch,
    phase: Phase,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// Reading the newest state of every task.
    Reading,
    /// Read them all: [`Watched::CaughtUp`] comes next.
    Announce,
    /// Following changes.
    Live,
}

impl Bus {
    /// Watches canonical state from the newest state of every task on; [`Watched::CaughtUp`]
    /// comes once, after the last of them.
    pub async fn watch_states(&self) -> Result<StateWatch, BusError> {
        let err = |e: &dyn std::fmt::Display| BusError::kv("watch", "*", e);
        let mut stream = self
            .js
            .get_stream(TASKS_STREAM)
            .await
            .map_err(|e| err(&e))?;
        let empty = stream.info().await.map_err(|e| err(&e))?.state.messages == 0;
        let watch = self
            .tasks
            .watch_with_history(">")
            .await
            .map_err(|e| err(&e))?;
        let phase = if empty {
            Phase::Announce
        } else {
            Phase::Reading
        };
        Ok(StateWatch { watch, phase })
    }
}

impl StateWatch {
    /// The next thing seen; `None` when the watch ended (the bus went away for good).
    pub async fn next(&mut self) -> Option<Result<Watched, BusError>> {
        let entry = match self.phase {
            Phase::Announce => {
                self.phase = Phase::Live;
                return Some(Ok(Watched::CaughtUp));
            }
            Phase::Live => self.watch.next().await?,
            Phase::Reading => match tokio::time::timeout(CATCH_UP_PAUSE, self.watch.next()).await {
                Ok(entry) => entry?,
                Err(_) => {
                    self.phase = Phase::Live;
                    return Some(Ok(Watched::CaughtUp));
                }
            },
        };
        let entry = match entry {
            Ok(e) => e,
            Err(e) => return Some(Err(BusError::kv("watch", "*", e))),
        };
        if self.phase == Phase::Reading && entry.delta == 0 {
            self.phase = Phase::Announce;
        }
        Some(Ok(match crate::state::stored_state(&entry) {
            Some(s) => Watched::Stored(Box::new(s)),
            None => Watched::Removed(entry.key),
        }))
    }
}
