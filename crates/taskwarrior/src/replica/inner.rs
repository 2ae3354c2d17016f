//! The writer's state and its work, run on the writer's own thread (`pinned`): the replica
//! opened and checked, and batches written into it chunk by chunk.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use taskchampion::storage::AccessMode;
use taskchampion::{Operation, Operations, Replica, SqliteStorage, TaskData, Uuid};
use tokio::sync::Mutex;
use vsync_model::TwTask;

use super::{BULK_READ, BULK_SHARE, CHUNK, Refusal, schema, stored};
use crate::apply::TaskResults;
use crate::{Taskwarrior, TaskwarriorError};

/// What the writer holds: the host's Taskwarrior (for its config, and the CLI fallback), the
/// replica file, and the replica once opened.
pub(super) struct Inner {
    pub(super) cli: Taskwarrior,
    pub(super) db: PathBuf,
    pub(super) open: Mutex<Option<Open>>,
}

/// The replica as opened, and what it was checked against.
pub(super) struct Open {
    replica: Replica<SqliteStorage>,
    probe: schema::Probe,
    file: Option<(u64, u64)>,
    date_udas: HashSet<String>,
    taskrc_changed: Option<SystemTime>,
}

impl Inner {
    /// Opens the replica now (when a writer is made for an existing one).
    pub(super) async fn open_now(&self) -> Result<(), Refusal> {
        let opened = self.open_checked().await?;
        *self.open.lock().await = Some(opened);
        Ok(())
    }

    /// Writes what the in-process rules cover; returns the results so far and the indices
    /// left to `task import` (every one when the replica cannot be written in-process).
    pub(super) async fn write_batch(&self, tasks: &[TwTask]) -> (TaskResults, Vec<usize>) {
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
        (results, via_cli)
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
        // A batch that is a large part of the replica reads every task in one transaction (a
        // few µs per task) instead of each in its own (a round trip to taskchampion's storage
        // thread and a write lock, tens of µs each).
        let mut read = match tasks.len() >= BULK_READ
            && open
                .probe
                .count()
                .is_ok_and(|n| tasks.len() * BULK_SHARE >= n)
        {
            true => open.replica.all_task_data().await.ok(),
            false => None,
        };
        // Tasks written by this batch: a second write of one reads what the first left.
        let mut written: HashSet<Uuid> = HashSet::new();
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
                let current = match read.as_mut() {
                    // Its first write in this batch: as read before the batch.
                    Some(all) if !written.contains(&uuid) => Ok(all.remove(&uuid)),
                    _ => open.replica.get_task_data(uuid).await,
                };
                match current {
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
            written.extend(uuids);
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

fn modified(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn now_secs() -> i64 {
    vsync_model::dates::now_us() / 1_000_000
}
