//! The host's last known state of each local task: the base a local change is diffed against,
//! and what an apply starts from (so the hot path needs no `task export`). Persisted one file
//! per task, so changes made while the watcher was down are diffed against what came before.
//! Memory holds only which tasks there are: a task is read from its file when asked for, so
//! the watcher's resident memory does not grow with the host's tasks (a file read costs
//! microseconds against the milliseconds of the `task` run it serves).
//! Private: the state directory and the mirror directory are 0700, each file 0600 (whatever
//! the umask; files an older version left readable are tightened on load).
//!
//! The files are written behind the watcher, in order, by a thread of their own
//! ([`saver::Saver`]): a burst of a thousand applies would otherwise wait on a thousand file
//! writes (seconds when other programs keep the disk busy). Until written, a change is read
//! from memory. Like the writes themselves (never fsynced), what the thread had not written
//! when the process died is lost: the next start diffs those tasks against their older copy,
//! and the host's first pass publishes what differs (our own applies: canonical state already
//! holds them).

mod saver;

use std::collections::HashSet;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use vsync_model::TwTask;

pub struct Mirror {
    dir: PathBuf,
    tasks: HashSet<String>,
    saver: saver::Saver,
}

impl Mirror {
    /// Loads the persisted mirror; `None` when there is none yet (first start).
    pub fn load(state_dir: &Path) -> std::io::Result<Option<Mirror>> {
        let dir = state_dir.join("mirror");
        if !dir.is_dir() {
            return Ok(None);
        }
        vsync_bus_auth::private_dir(state_dir)?;
        vsync_bus_auth::private_dir(&dir)?;
        let mut m = Mirror {
            saver: saver::Saver::start(dir.clone())?,
            dir,
            tasks: HashSet::new(),
        };
        for entry in std::fs::read_dir(&m.dir)? {
            let entry = entry?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            if entry.metadata()?.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
            }
            // Each file is read once here, so one that cannot be read is never offered as a base.
            let stem = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            match read(&path) {
                Some(t) if t.uuid() == stem => {
                    m.tasks.insert(stem.to_string());
                }
                _ => tracing::warn!(path = %path.display(), "skipping unreadable mirror entry"),
            }
        }
        Ok(Some(m))
    }

    /// A new mirror of `tasks` (first start: the host's current export).
    pub fn create(state_dir: &Path, tasks: Vec<TwTask>) -> std::io::Result<Mirror> {
        let dir = state_dir.join("mirror");
        vsync_bus_auth::private_dir(state_dir)?;
        vsync_bus_auth::private_dir(&dir)?;
        let mut m = Mirror {
            saver: saver::Saver::start(dir.clone())?,
            dir,
            tasks: HashSet::new(),
        };
        for t in tasks {
            m.set(t)?;
        }
        // Complete on disk before it is used: an existing mirror directory is loaded as it is.
        m.flush()?;
        Ok(m)
    }

    /// The mirror's copy of task `uuid`: the change not yet written, else read from its file.
    pub fn get(&self, uuid: &str) -> Option<TwTask> {
        if let Some(change) = self.saver.unsaved().get(uuid) {
            return change;
        }
        if !self.tasks.contains(uuid) {
            return None;
        }
        let t = read(&self.path(uuid));
        if t.is_none() {
            tracing::warn!(uuid, "cannot read the mirror's copy of a task");
        }
        t
    }

    /// Every task uuid the mirror holds.
    pub fn uuids(&self) -> impl Iterator<Item = String> + '_ {
        self.tasks.iter().cloned()
    }

    /// How many tasks the mirror holds.
    pub fn count(&self) -> usize {
        self.tasks.len()
    }

    pub fn set(&mut self, t: TwTask) -> std::io::Result<()> {
        let uuid = t.uuid().to_string();
        if !vsync_taskwarrior::is_uuid(&uuid) {
            return Ok(()); // never a path we did not make
        }
        self.saver.save(&uuid, Some(t))?;
        self.tasks.insert(uuid);
        Ok(())
    }

    pub fn remove(&mut self, uuid: &str) -> std::io::Result<()> {
        if self.tasks.remove(uuid) && vsync_taskwarrior::is_uuid(uuid) {
            self.saver.save(uuid, None)?;
        }
        Ok(())
    }

    /// Removes file `path` once every change so far is written to the files.
    pub fn remove_file_when_saved(&mut self, path: PathBuf) -> std::io::Result<()> {
        self.saver.remove_file_when_saved(path)
    }

    /// Waits until every change so far is written to the files.
    pub fn flush(&self) -> std::io::Result<()> {
        self.saver.flush()
    }

    fn path(&self, uuid: &str) -> PathBuf {
        self.dir.join(format!("{uuid}.json"))
    }
}

/// Removes file `path`; one already gone is not an error.
pub(crate) fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// One task's file (`None`: missing or not a task).
fn read(path: &Path) -> Option<TwTask> {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|s| TwTask::from_json(&s).ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    fn task(uuid: &str) -> TwTask {
        TwTask::from_json(&format!(
            r#"{{"uuid":"{uuid}","description":"x","status":"pending"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn the_files_show_the_last_change_of_each_task_once_flushed_or_dropped() {
        let root = tempfile::tempdir().unwrap();
        let (a, b) = (
            "0b8c51ba-6ac1-4b4c-9f4c-1b7d7c3c0a11",
            "1b8c51ba-6ac1-4b4c-9f4c-1b7d7c3c0a11",
        );
        let mut m = Mirror::create(root.path(), vec![task(a), task(b)]).unwrap();
        for i in 0..100 {
            let mut t = task(a);
            t.0.insert("description".into(), format!("rev {i}").into());
            m.set(t).unwrap();
        }
        // Read back as last set, whether or not its file is written yet.
        assert_eq!(m.get(a).unwrap().0["description"], "rev 99");
        m.remove(b).unwrap();
        assert!(m.get(b).is_none());
        m.flush().unwrap();
        assert!(!root.path().join(format!("mirror/{b}.json")).exists());
        m.set(task(b)).unwrap();
        drop(m);
        let again = Mirror::load(root.path()).unwrap().unwrap();
        assert_eq!(again.get(a).unwrap().0["description"], "rev 99");
        assert!(again.get(b).is_some());
    }

    #[test]
    fn the_mirror_is_private_whatever_the_umask_left() {
        let root = tempfile::tempdir().unwrap();
        let state = root.path().join("state");
        std::fs::create_dir_all(state.join("mirror")).unwrap();
        // as an older version left it: world-readable
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
        let uuid = "0b8c51ba-6ac1-4b4c-9f4c-1b7d7c3c0a11";
        let old = state.join(format!("mirror/{uuid}.json"));
        std::fs::write(&old, task(uuid).to_json()).unwrap();
        std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut m = Mirror::load(&state).unwrap().unwrap();
        assert_eq!(
            (mode(&state), mode(&state.join("mirror")), mode(&old)),
            (0o700, 0o700, 0o600)
        );
        let other = "1b8c51ba-6ac1-4b4c-9f4c-1b7d7c3c0a11";
        m.set(task(other)).unwrap();
        m.flush().unwrap();
        assert_eq!(mode(&state.join(format!("mirror/{other}.json"))), 0o600);

        // Read back from its file, as stored; gone once removed.
        assert_eq!(m.get(other).unwrap().to_json(), task(other).to_json());
        assert_eq!(m.count(), 2);
        m.remove(other).unwrap();
        assert!(m.get(other).is_none());
        m.flush().unwrap();
        assert!(!state.join(format!("mirror/{other}.json")).exists());

        let fresh = root.path().join("fresh");
        Mirror::create(&fresh, vec![task(uuid)]).unwrap();
        assert_eq!(
            (
                mode(&fresh),
                mode(&fresh.join(format!("mirror/{uuid}.json")))
            ),
            (0o700, 0o600)
        );
    }
}
