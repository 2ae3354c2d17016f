//! Our writes in progress, on disk. A write Taskwarrior committed that the watcher had not
//! recorded yet (killed in between: `kill -9`, the OOM killer) would otherwise be found in the
//! files at the next start as a change no hook reported and published as the user's, stamped
//! when it was written: later than a Vikunja change made while it waited, which it would then
//! revert everywhere. So the tasks of each write are put in `<state>/writing.<n>.json` before
//! it starts, and the file goes once the mirror's files have them: its removal is queued
//! behind the mirror's writes (which are written behind the watcher). Files left behind are
//! settled at start, oldest first: each task the files show as we wrote it, or closer to that
//! than to the mirror (a change of the user's made since), goes into the mirror as ours.

use std::io::{ErrorKind, Write as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use vsync_model::{TwTask, tw};
use vsync_taskwarrior::Taskwarrior;

use crate::mirror::{Mirror, remove_if_present};
use crate::overlap::distance;

/// The writes in progress of one watcher.
pub(crate) struct Journal {
    dir: PathBuf,
    next: u64,
}

/// One write's entry.
pub(crate) struct Entry(PathBuf);

impl Journal {
    pub(crate) fn new(state_dir: &Path) -> Journal {
        let next = entries(state_dir).last().map_or(0, |(n, _)| n + 1);
        Journal {
            dir: state_dir.to_path_buf(),
            next,
        }
    }

    /// A write of `tasks` starts (no fsync: this is the hot path, and a crash of the machine
    /// loses the mirror's last writes too).
    pub(crate) fn begin(&mut self, tasks: &[TwTask]) -> std::io::Result<Entry> {
        let path = self.dir.join(format!("writing.{}.json", self.next));
        self.next += 1;
        let json = serde_json::to_string(&tasks.iter().map(|t| &t.0).collect::<Vec<_>>())?;
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)?
            .write_all(json.as_bytes())?;
        Ok(Entry(path))
    }

    /// The write is in the mirror: its entry goes once the mirror's files have it.
    pub(crate) fn end(&self, entry: Entry, mirror: &mut Mirror) -> std::io::Result<()> {
        mirror.remove_file_when_saved(entry.0)
    }

    /// The writes a previous run did not record, oldest first. A file cut short was written by
    /// a run killed before its write started: nothing to settle.
    pub(crate) fn left(&self) -> std::io::Result<Vec<(PathBuf, Vec<TwTask>)>> {
        let mut left = Vec::new();
        for (_, path) in entries(&self.dir) {
            let text = match std::fs::read_to_string(&path) {
                Ok(t) => t,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => return Err(e),
            };
            let values: Vec<serde_json::Value> = serde_json::from_str(&text).unwrap_or_default();
            let tasks = values
                .into_iter()
                .filter_map(|v| TwTask::from_value(v).ok())
                .collect();
            left.push((path, tasks));
        }
        Ok(left)
    }

    /// Settles the writes a previous run left unrecorded (see the module docs); how many tasks
    /// the mirror took as ours.
    pub(crate) async fn recover(
        &self,
        tw: &Taskwarrior,
        mirror: &mut Mirror,
    ) -> anyhow::Result<usize> {
        let left = self
            .left()
            .context("cannot read the writes left unrecorded")?;
        let mut n = 0;
        for (_, tasks) in &left {
            let mut exported = Vec::new();
            // Keep command lines short: uuids go to argv as the filter.
            for chunk in tasks.chunks(200) {
                let uuids: Vec<&str> = chunk.iter().map(TwTask::uuid).collect();
                exported.extend(tw.export_uuids(&uuids).await?);
            }
            let ours = settle(tasks.clone(), &exported, mirror);
            n += ours.len();
            for t in ours {
                mirror.set(t).context("cannot persist the mirror")?;
            }
        }
        mirror.flush().context("cannot persist the mirror")?;
        for (path, _) in left {
            remove_if_present(&path).context("cannot remove a settled write")?;
        }
        Ok(n)
    }
}

/// The entries in `dir`, by number (`writing.json`, from an older version, first).
fn entries(dir: &Path) -> Vec<(u64, PathBuf)> {
    let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let middle = name.strip_prefix("writing")?.strip_suffix(".json")?;
            let n = match middle {
                "" => 0,
                m => m.strip_prefix('.')?.parse::<u64>().ok()?.checked_add(1)?,
            };
            Some((n, e.path()))
        })
        .collect();
    found.sort();
    found
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
    use crate::test_tasks::{A, B, C, D, task};

    fn left_tasks(j: &Journal) -> Vec<Vec<TwTask>> {
        j.left().unwrap().into_iter().map(|(_, t)| t).collect()
    }

    #[test]
    fn writes_left_unrecorded_are_read_back_in_order_and_ended_or_cut_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let mut mirror = Mirror::create(&dir.path().join("state"), Vec::new()).unwrap();
        let mut j = Journal::new(dir.path());
        assert!(j.left().unwrap().is_empty());
        let first = vec![task(A, "a", ""), task(B, "b", "H")];
        let second = vec![task(A, "a2", "")];
        let e1 = j.begin(&first).unwrap();
        let e2 = j.begin(&second).unwrap();
        assert_eq!(left_tasks(&j), vec![first.clone(), second.clone()]);
        // Ended: gone once the mirror's files are written, not before the mirror's own writes.
        mirror.set(first[0].clone()).unwrap();
        j.end(e1, &mut mirror).unwrap();
        mirror.flush().unwrap();
        assert_eq!(left_tasks(&j), vec![second.clone()]);
        // A new run numbers on from what it finds.
        let mut again = Journal::new(dir.path());
        let e3 = again.begin(&first).unwrap();
        assert_eq!(left_tasks(&again), vec![second, first]);
        again.end(e2, &mut mirror).unwrap();
        again.end(e3, &mut mirror).unwrap();
        mirror.flush().unwrap();
        assert!(again.left().unwrap().is_empty());
        // An older version's single file is read first; one cut short holds nothing.
        std::fs::write(dir.path().join("writing.json"), "[{\"uuid\":").unwrap();
        assert_eq!(left_tasks(&again), vec![Vec::<TwTask>::new()]);
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
