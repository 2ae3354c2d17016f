//! The in-process backend for Taskwarrior 3: complete tasks written into the host's replica
//! through `taskchampion`, the library Taskwarrior 3 itself uses, as `task import` would store
//! them (`stored`), but without a process, without reading the whole database, and with a cost
//! per task that does not grow with the database (`task import` on 3.x does).
//!
//! Safe with the user's `task` commands running at the same time: every batch is a few short
//! SQLite transactions (taskchampion's `BEGIN IMMEDIATE`, with SQLite's 5 s busy wait, as
//! Taskwarrior's own), of at most [`CHUNK`] tasks; the working set (the ids the user sees) grows
//! as Taskwarrior's own import grows it and is never renumbered; every commit starts with an
//! undo point, as every `task import` does. Only where it is provably the same: the replica's
//! schema must be exactly the one the linked taskchampion writes (`schema`, checked before every
//! batch, and a replaced file is reopened), and a task whose JSON the `stored` rules do not
//! cover goes through `task import` (the CLI backend) instead.

mod inner;
mod pinned;
mod schema;
mod stored;

pub use schema::{Refusal, SCHEMA};

use std::path::Path;
use std::sync::Arc;

use tokio::sync::Mutex;
use vsync_model::TwTask;

use crate::apply::{Apply, TaskResults};
use crate::{Taskwarrior, TaskwarriorError};
use inner::Inner;
use pinned::Pinned;

/// Tasks per transaction: a user's `task` waits for at most one such write.
pub const CHUNK: usize = 64;

/// Batches of at least this many tasks may read the whole replica at once ...
const BULK_READ: usize = 32;
/// ... when they are at least 1/BULK_SHARE of it: reading every task costs about what reading
/// one in twenty does one at a time.
const BULK_SHARE: usize = 20;

/// Writes a Taskwarrior 3 replica in-process; the CLI for what it leaves aside.
pub struct ReplicaWriter {
    inner: Arc<Inner>,
    /// Where the replica is opened and written (`None`: it could not be started; the caller's
    /// runtime does it).
    thread: Option<Pinned>,
}

impl ReplicaWriter {
    /// Opens the replica of `cli`'s data directory when it is provably safe to write.
    pub async fn open(cli: Taskwarrior) -> Result<ReplicaWriter, Refusal> {
        let w = ReplicaWriter::unopened(cli);
        let inner = w.inner.clone();
        w.on_thread(async move { inner.open_now().await })
            .await
            .unwrap_or_else(|| Err(Refusal::Unreadable("the writer's thread stopped".into())))?;
        Ok(w)
    }

    /// A writer for a host whose replica does not exist yet: `task import` applies until the
    /// first one has made it, and it is checked and opened then.
    pub fn unopened(cli: Taskwarrior) -> ReplicaWriter {
        let db = cli.data_dir().join("taskchampion.sqlite3");
        ReplicaWriter {
            inner: Arc::new(Inner {
                cli,
                db,
                open: Mutex::new(None),
            }),
            thread: Pinned::start(),
        }
    }

    /// The replica file.
    pub fn path(&self) -> &Path {
        &self.inner.db
    }

    /// Runs `f` on the writer's thread (here when there is none); `None` if it panicked.
    async fn on_thread<T: Send + 'static>(
        &self,
        f: impl Future<Output = T> + Send + 'static,
    ) -> Option<T> {
        match &self.thread {
            Some(t) => t.run(f).await,
            None => Some(f.await),
        }
    }
}

impl Apply for ReplicaWriter {
    async fn apply(&self, tasks: &[TwTask]) -> TaskResults {
        let inner = self.inner.clone();
        let batch = tasks.to_vec();
        let (mut results, via_cli) = self
            .on_thread(async move { inner.write_batch(&batch).await })
            .await
            .unwrap_or_else(|| {
                let e = TaskwarriorError::Replica {
                    path: self.inner.db.clone(),
                    message: "the writer's thread stopped".into(),
                };
                (vec![Err(e); tasks.len()], Vec::new())
            });
        if !via_cli.is_empty() {
            let subset: Vec<TwTask> = via_cli.iter().map(|&j| tasks[j].clone()).collect();
            for (j, r) in via_cli.into_iter().zip(self.inner.cli.apply(&subset).await) {
                results[j] = r;
            }
        }
        results
    }
}
