//! Our write in progress, on disk. A write Taskwarrior committed that the watcher had not
//! recorded yet (killed in between: `kill -9`, the OOM killer) would otherwise be found in the
//! files at the next start as a change no hook reported and published as the user's, stamped
//! when it was written: later than a Vikunja change made while it waited, which it would then
//! revert everywhere. So the tasks of each write are put in `<state>/writing.json` before it
//! starts and the file goes once the mirror has them; a file left behind is settled at start:
//! each task the files show as we wrote it, or closer to that than to the mirror (a change of
//! the user's made since), goes into the mirror as ours.

use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use vsync_model::{TwTask, tw};
use vsync_taskwarrior::Taskwarrior;

use crate::mirror::Mirror;
use crate::overlap::distance;

/// The write in progress of one watcher.
pub(crate) struct Journal {
    path: PathBuf,
}

impl Journal {
    pub(crate) fn new(state_dir: &Path) -> Journal {
        Journal {
            path: state_dir.join("writing.json"),
        }
    }

    /// A write of `tasks` starts (no fsync: this is the hot path, and a crash of the machine
    /// loses the mirror's last writes too).
    pub(crate) fn begin(&self, tasks: &[TwTask]) -> std::io::Result<()> {
        let json = serde_json::to_string(&tasks.iter().map(|t| &t.0).collect::<Vec<_>>())?;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&self.path)?
            .write_all(json.as_bytes())
    }

    /// The write is recorded (or was settled).
    pub(crate) fn end(&self) -> std::io::Result<()> {
        match std::fs::remove_file(&self.path) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The tasks of a write a previous run did not record. A file cut short was written by a
    /// run killed before its write started: nothing to settle.
    pub(crate) fn left(&self) -> std::io::Result<Vec<TwTask>> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let values: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
        Ok(values
            .into_iter()
            .filter_map(|v| TwTask::from_value(v).ok())
            .collect())
    }

    /// Settles a write a previous run left unrecorded (see the module docs); how many tasks
    /// the mirror took as ours.
    pub(crate) async fn recover(
        &self,
        tw: &Taskwarrior,
        mirror: &mut Mirror,
    ) -> anyhow::Result<usize> {
        let left = self
            .left()
            .context("cannot read the write left unrecorded")?;
        let mut exported = Vec::new();
        // Keep command lines short: uuids go to argv as the filter.
        for chunk in left.chunks(200) {
            let uuids: Vec<&str> = chunk.iter().map(TwTask::uuid).collect();
            exported.extend(tw.export_uuids(&uuids).await?);
        }
        let ours = settle(left, &exported, mirror);
        let n = ours.len();
        for t in ours {
            mirror.set(t).context("cannot persist the mirror")?;
        }
        self.end().context("cannot remove the settled write")?;
        Ok(n)
    }
}

/// Of the tasks a write left unrecorded (`left`), what the mirror must hold as ours, given what
/// the files show of them (`exported`): the file's copy where it is exactly what we wrote, what
/// we wrote where the file is closer to that than to the mirror (something changed it since).
/// A task the files show as the mirror has it, or closer to that, was not written.
pub(crate) fn settle(left: Vec<TwTask>, exported: &[TwTask], mirror: &Mirror) -> Vec<TwTask> {
    let mut ours = Vec::new();
    for written in left {
        let Some(file) = exported.iter().find(|t| t.uuid() == written.uuid()) else {
            continue; // a new task whose write did not land, or gone since
        };
        if tw::view(file) == tw::view(&written) {
            ours.push(file.clone());
            continue;
        }
        let from_mirror = mirror
            .get(written.uuid())
            .map_or(usize::MAX, |m| distance(file, &m));
        if distance(file, &written) < from_mirror {
            ours.push(written);
        }
    }
    ours
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;

    const A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const B: &str = "bbbbbbbb-0000-4000-8000-000000000002";
    const C: &str = "cccccccc-0000-4000-8000-000000000003";
    const D: &str = "dddddddd-0000-4000-8000-000000000004";

    fn task(uuid: &str, description: &str, priority: &str) -> TwTask {
        let mut v = json!({"uuid": uuid, "status": "pending", "description": description});
        if !priority.is_empty() {
            v["priority"] = json!(priority);
        }
        TwTask::from_value(v).unwrap()
    }

    #[test]
    fn a_write_left_unrecorded_is_read_back_and_an_ended_or_cut_one_is_not() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::new(dir.path());
        assert!(j.left().unwrap().is_empty());
        let tasks = vec![task(A, "a", ""), task(B, "b", "H")];
        j.begin(&tasks).unwrap();
        assert_eq!(j.left().unwrap(), tasks);
        j.end().unwrap();
        assert!(j.left().unwrap().is_empty());
        j.end().unwrap();
        std::fs::write(dir.path().join("writing.json"), "[{\"uuid\":").unwrap();
        assert!(j.left().unwrap().is_empty(), "cut short: never started");
    }

    #[test]
    fn what_the_files_show_as_written_or_closer_to_it_is_ours() {
        let dir = tempfile::tempdir().unwrap();
        let mut mirror = Mirror::create(dir.path(), Vec::new()).unwrap();
        for uuid in [B, C, D] {
            mirror.set(task(uuid, "before", "")).unwrap();
        }
        let left = vec![
            task(A, "created by us", ""),
            task(B, "renamed by us", ""),
            task(C, "renamed by us", ""),
            task(D, "renamed by us", ""),
        ];
        let exported = vec![
            task(A, "created by us", ""),  // landed
            task(B, "renamed by us", "H"), // landed, then the user set a priority
            task(C, "before", ""),         // did not land
            task(D, "the user's", ""),     // as far from both: not ours
        ];
        let ours = settle(left, &exported, &mirror);
        assert_eq!(
            ours,
            vec![task(A, "created by us", ""), task(B, "renamed by us", "")]
        );
    }
}
