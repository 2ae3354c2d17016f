//! The host's last known state of each local task: the base a local change is diffed against,
//! and what an apply starts from (so the hot path needs no `task export`). Persisted one file
//! per task, so changes made while the watcher was down are diffed against what came before.
//! Memory holds only which tasks there are: a task is read from its file when asked for, so
//! the watcher's resident memory does not grow with the host's tasks (a file read costs
//! microseconds against the milliseconds of the `task` run it serves).
//! Private: the state directory and the mirror directory are 0700, each file 0600 (whatever
//! the umask; files an older version left readable are tightened on load).

use std::collections::HashSet;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use vsync_model::TwTask;

pub struct Mirror {
    dir: PathBuf,
    tasks: HashSet<String>,
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
            dir,
            tasks: HashSet::new(),
        };
        for t in tasks {
            m.set(t)?;
        }
        Ok(m)
    }

    /// The mirror's copy of task `uuid`, read from its file.
    pub fn get(&self, uuid: &str) -> Option<TwTask> {
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
        let tmp = self.dir.join(format!(".{uuid}.tmp"));
        // 0600 at creation: the umask can only take bits away (no fsync: the hot path)
        std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?
            .write_all(t.to_json().as_bytes())?;
        std::fs::rename(&tmp, self.path(&uuid))?;
        self.tasks.insert(uuid);
        Ok(())
    }

    pub fn remove(&mut self, uuid: &str) -> std::io::Result<()> {
        if self.tasks.remove(uuid) && vsync_taskwarrior::is_uuid(uuid) {
            match std::fs::remove_file(self.path(uuid)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    fn path(&self, uuid: &str) -> PathBuf {
        self.dir.join(format!("{uuid}.json"))
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
        assert_eq!(mode(&state.join(format!("mirror/{other}.json"))), 0o600);

        // Read back from its file, as stored; gone once removed.
        assert_eq!(m.get(other).unwrap().to_json(), task(other).to_json());
        assert_eq!(m.count(), 2);
        m.remove(other).unwrap();
        assert!(m.get(other).is_none());
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
