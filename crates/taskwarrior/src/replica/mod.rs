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

mod schema;
mod stored;

pub use schema::{Refusal, SCHEMA};

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use taskchampion::storage::AccessMode;
use taskchampion::{Operation, Operations, Replica, SqliteStorage, TaskData, Uuid};
use tokio::sync::Mutex;
use vsync_model::TwTask;

use crate::apply::{Apply, TaskResults};
use crate::{Taskwarrior, TaskwarriorError};

/// Tasks per transaction: a user's `task` waits for at most one such write.
pub const CHUNK: usize = 64;

/// Writes a Taskwarrior 3 replica in-process; the CLI for what it leaves aside.
pub struct ReplicaWriter {
    cli: Taskwarrior,
    db: PathBuf,
    open: Mutex<Option<Open>>,
}

/// The replica as opened, and what it was checked against.
struct Open {
    replica: Replica<SqliteStorage>,
    probe: schema::Probe,
    file: Option<(u64, u64)>,
    date_udas: HashSet<String>,
    taskrc_changed: Option<SystemTime>,
}

impl ReplicaWriter {
    /// Opens the replica of `cli`'s data directory when it is provably safe to write.
    pub async fn open(cli: Taskwarrior) -> Result<ReplicaWriter, Refusal> {
        let db = cli.data_dir().join("taskchampion.sqlite3");
        let w = ReplicaWriter {
            cli,
            db,
            open: Mutex::new(None),
        };
        *w.open.lock().await = Some(w.open_checked().await?);
        Ok(w)
    }

    /// A writer for a host whose replica does not exist yet: `task import` applies until the
    /// first one has made it, and it is checked and opened then.
    pub fn unopened(cli: Taskwarrior) -> ReplicaWriter {
        let db = cli.data_dir().join("taskchampion.sqlite3");
        ReplicaWriter {
            cli,
            db,
            open: Mutex::new(None),
        }
    }

    /// The replica file.
    pub fn path(&self) -> &Path {
        &self.db
    }

    async fn open_checked(&self) -> Result<Open, Refusal> {
        let probe = schema::Probe::open(&self.db)?;
        probe.check()?;
        let file = schema::file_id(&self.db);
        let storage = SqliteStorage::new(self.cli.data_dir(), AccessMode::ReadWrite, false)
            .await
            .map_err(|e| Refusal::Unreadable(e.to_string()))?;
        let (date_udas, taskrc_changed) = self.date_udas().await?;
        Ok(Open {
            replica: Replica::new(storage),
            probe,
            file,
            date_udas,
            taskrc_changed,
        })
    }

    /// This host's date UDAs (`uda.<name>.type=date`): their values are stored as epochs.
    async fn date_udas(&self) -> Result<(HashSet<String>, Option<SystemTime>), Refusal> {
        let changed = modified(self.cli.taskrc());
        let config = self
            .cli
            .config()
            .await
            .map_err(|e| Refusal::Config(e.to_string()))?;
        let udas = config
            .lines()
            .filter_map(|l| l.strip_prefix("uda.")?.strip_suffix(".type=date"))
            .map(str::to_string)
            .collect();
        Ok((udas, changed))
    }

    /// The replica, checked again: same file, same schema, the UDAs of the current taskrc.
    async fn ready<'a>(&self, slot: &'a mut Option<Open>) -> Result<&'a mut Open, Refusal> {
        let stale = match slot.as_ref() {
            None => true,
            Some(o) => o.file != schema::file_id(&self.db) || o.file.is_none(),
        };
        if stale {
            *slot = None;
            *slot = Some(self.open_checked().await?);
        }
        let checked = match slot.as_ref() {
            Some(o) => o.probe.check(),
            None => Err(Refusal::NoReplica(self.db.clone())),
        };
        if let Err(e) = checked {
            *slot = None;
            return Err(e);
        }
        let Some(open) = slot.as_mut() else {
            return Err(Refusal::NoReplica(self.db.clone()));
        };
        if modified(self.cli.taskrc()) != open.taskrc_changed {
            (open.date_udas, open.taskrc_changed) = self.date_udas().await?;
        }
        Ok(open)
    }

    /// Writes what the rules cover, chunk by chunk; returns the indices left to `task import`.
    async fn write(
        &self,
        open: &mut Open,
        tasks: &[TwTask],
        results: &mut TaskResults,
    ) -> Vec<usize> {
        let mut via_cli = Vec::new();
        let mut i = 0;
        while i < tasks.len() {
            let mut ops = Operations::new();
            ops.push(Operation::UndoPoint);
            let mut in_chunk: Vec<usize> = Vec::new();
            let mut uuids: HashSet<Uuid> = HashSet::new();
            let now = now_secs();
            while i < tasks.len() && in_chunk.len() < CHUNK {
                let Ok(uuid) = Uuid::parse_str(tasks[i].uuid()) else {
                    via_cli.push(i); // `task import` says what is wrong with it
                    i += 1;
                    continue;
                };
                if !uuids.insert(uuid) {
                    break; // the same task twice: the second diffs against the first, committed
                }
                match open.replica.get_task_data(uuid).await {
                    Err(e) => results[i] = Err(self.error(e)),
                    Ok(current) => {
                        let map = current
                            .as_ref()
                            .map(|t| t.iter().map(|(k, v)| (k.clone(), v.clone())).collect());
                        match stored::stored(&tasks[i], map.as_ref(), &open.date_udas, now) {
                            Err(why) => {
                                tracing::debug!(uuid = %uuid, why = why.0, "left to task import");
                                via_cli.push(i);
                            }
                            Ok(target) => {
                                let changes = stored::changes(&map.unwrap_or_default(), &target);
                                if !changes.is_empty() {
                                    let mut t =
                                        current.unwrap_or_else(|| TaskData::create(uuid, &mut ops));
                                    t.update("modified", Some(now.to_string()), &mut ops);
                                    for (k, v) in changes {
                                        t.update(k, v, &mut ops);
                                    }
                                }
                                in_chunk.push(i);
                            }
                        }
                    }
                }
                i += 1;
            }
            if ops.len() > 1
                && let Err(e) = open.replica.commit_operations(ops).await
            {
                let e = self.error(e);
                for &j in &in_chunk {
                    results[j] = Err(e.clone());
                }
            }
        }
        via_cli
    }

    fn error(&self, e: taskchampion::Error) -> TaskwarriorError {
        TaskwarriorError::Replica {
            path: self.db.clone(),
            message: e.to_string(),
        }
    }
}

impl Apply for ReplicaWriter {
    async fn apply(&self, tasks: &[TwTask]) -> TaskResults {
        let mut results: TaskResults = vec![Ok(()); tasks.len()];
        let mut slot = self.open.lock().await;
        let via_cli: Vec<usize> = match self.ready(&mut slot).await {
            Ok(open) => self.write(open, tasks, &mut results).await,
            Err(refusal) => {
                if matches!(refusal, Refusal::NoReplica(_)) {
                    tracing::debug!(%refusal, "task import until the replica exists");
                } else {
                    tracing::warn!(%refusal, "replica not written in-process; task import instead");
                }
                (0..tasks.len()).collect()
            }
        };
        drop(slot);
        if !via_cli.is_empty() {
            let subset: Vec<TwTask> = via_cli.iter().map(|&j| tasks[j].clone()).collect();
            for (j, r) in via_cli.into_iter().zip(self.cli.apply(&subset).await) {
                results[j] = r;
            }
        }
        results
    }
}

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn now_secs() -> i64 {
    vsync_model::dates::now_us() / 1_000_000
}
