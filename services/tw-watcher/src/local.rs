//! What the host's files really hold. The mirror is the host as our last write or hook message
//! left it; a write no hook reported — a command run with hooks off, another tool, `task sync`,
//! `task undo` on 3.x — is not in it, and an import built from the mirror would wipe it (`task
//! import` replaces the whole task). The data files' change stamp tells whether anything but us
//! wrote since we last looked; when something did, the tasks about to be applied are exported
//! first (each once per change), and what the file shows that the mirror does not is published
//! as the local change it is and kept by the apply — unless it is one of our own imports taken
//! back, which is re-applied instead (see `overlap`).

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use vsync_bus::BusError;
use vsync_model::{TwTask, tw};
use vsync_taskwarrior::{DataStamp, TaskwarriorError};

use crate::watcher::Watcher;

/// How long a change of the files must stand, with no hook message since, before it counts as
/// one no hook reported (the hook message of the command that wrote it may be on its way).
const QUIET: Duration = Duration::from_secs(2);

/// Why the files could not be checked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CheckError {
    #[error(transparent)]
    Taskwarrior(#[from] TaskwarriorError),
    #[error(transparent)]
    Bus(#[from] BusError),
}

impl Watcher {
    /// Makes the mirror true for `uuids` before they are applied: exports those something else
    /// may have written since we last looked, publishes what the user changed there, and returns
    /// those tasks with the mirror's version from before (the base their apply keeps the
    /// changes over).
    pub(crate) async fn check_files(
        &mut self,
        uuids: &[&str],
    ) -> Result<HashMap<String, Option<TwTask>>, CheckError> {
        let todo = self.verified.unverified(self.tw.data_stamp(), uuids);
        let mut changed = HashMap::new();
        if todo.is_empty() {
            return Ok(changed);
        }
        let exported = self.tw.export_uuids(&todo).await?;
        for uuid in &todo {
            let file = exported.iter().find(|t| t.uuid() == *uuid).cloned();
            let before = self.mirror.get(uuid);
            if file.as_ref().map(tw::view) == before.as_ref().map(tw::view) {
                continue;
            }
            if self.found_in_file(uuid, file).await? {
                changed.insert(uuid.to_string(), before);
            }
        }
        self.verified.checked(&todo);
        Ok(changed)
    }

    /// The file shows task `uuid` as `file` (`None`: not at all), not as the mirror has it.
    /// One of our imports taken back is not the user's change: the mirror learns what the file
    /// holds and canonical state is applied over it again (`false`). Anything else is a local
    /// change no hook reported (or not yet): published like one (`true`).
    pub(crate) async fn found_in_file(
        &mut self,
        uuid: &str,
        file: Option<TwTask>,
    ) -> Result<bool, BusError> {
        if self.overlap.reapply_pending(uuid) {
            return Ok(false); // a lost write of ours or of the user's, re-applied when due
        }
        if self.overlap.reverted(uuid, file.as_ref()) {
            tracing::warn!(uuid, "our import was taken back; applying it again");
            let stored = match file {
                Some(t) => self.mirror.set(t),
                None => self.mirror.remove(uuid),
            };
            if let Err(e) = stored {
                tracing::error!(error = %e, "cannot persist the mirror");
            }
            // Whatever found it: once the mirror shows the file, the hook message of the
            // command that took it back finds nothing lost.
            self.overlap.reapply_now(uuid, Instant::now());
            return Ok(false);
        }
        // Ordered after anything published for the task before: the file is newer than that.
        let modified = file.as_ref().and_then(TwTask::modified_us);
        let after_last = self.hook_at.get(uuid).map(|t| t + 1);
        let at = modified
            .into_iter()
            .chain(after_last)
            .max()
            .unwrap_or_else(vsync_model::dates::now_us);
        tracing::info!(uuid, "a local change no hook reported");
        if let Some(f) = &file {
            self.found_in_files.insert(uuid.to_string(), f.clone());
        }
        self.publish_one(uuid, file, at, None, "out-of-band")
            .await?;
        Ok(true)
    }

    /// Compares one export of every task with the mirror: what the files show that the mirror
    /// does not (a change no hook reported, a task gone) is published like a hook's change, or
    /// re-applied when it is one of our imports taken back. Returns the export and the tasks
    /// published.
    pub(crate) async fn check_all_files(
        &mut self,
    ) -> Result<(Vec<TwTask>, HashSet<String>), CheckError> {
        let (stamp, local) = self.export_all().await?;
        let mut published = HashSet::new();
        let mut differ: Vec<(String, Option<TwTask>)> = Vec::new();
        for t in local.iter().filter(|t| !t.is_template()) {
            if self
                .mirror
                .get(t.uuid())
                .is_none_or(|m| tw::view(&m) != tw::view(t))
            {
                differ.push((t.uuid().to_string(), Some(t.clone())));
            }
        }
        // Tasks that vanished (purged, or an add undone where no hook saw it).
        let present: HashSet<&str> = local.iter().map(TwTask::uuid).collect();
        differ.extend(
            self.mirror
                .uuids()
                .filter(|u| !present.contains(u.as_str()))
                .map(|u| (u, None)),
        );
        // What adoption holds back is not synced, so not compared either.
        differ.retain(|(uuid, _)| !self.adoption.holds(uuid));
        for (uuid, file) in differ {
            if self.found_in_file(&uuid, file).await? {
                published.insert(uuid);
            }
        }
        self.verified.all_checked(stamp);
        Ok((local, published))
    }

    /// Every task, and the files' stamp before the export: the last export when nothing wrote
    /// since (taken), else a new one.
    pub(crate) async fn export_all(
        &mut self,
    ) -> Result<(DataStamp, Vec<TwTask>), TaskwarriorError> {
        let stamp = self.tw.data_stamp();
        match self.last_export.take() {
            Some((at, tasks)) if at == stamp => Ok((stamp, tasks)),
            _ => Ok((stamp, self.tw.export_all().await?)),
        }
    }

    /// The files changed since we last looked, have not changed since for a while, and no hook
    /// message came meanwhile: what changed was written without our hook (`task undo` on 3.x,
    /// `task sync`, hooks off). Timed from the change, not from the last hook message: a command
    /// writes its files before its hook runs, and the hook message is the better report (it
    /// knows when the command started).
    pub(crate) async fn check_quiet_files(&mut self) {
        let Some(settled) = self
            .verified
            .unchecked_for(self.tw.data_stamp(), Instant::now())
        else {
            return;
        };
        if settled < QUIET || self.last_hook.elapsed() < QUIET {
            return;
        }
        match self.check_all_files().await {
            Ok((_, published)) if !published.is_empty() => {
                tracing::info!(
                    published = published.len(),
                    "local changes no hook reported"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot check the host's files"),
        }
    }
}
