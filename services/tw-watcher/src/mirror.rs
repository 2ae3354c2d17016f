//! The host's last known state of each local task: the base a local change is diffed against,
//! and what an apply starts from (so the hot path needs no `task export`). Persisted one file
//! per task, so changes made while the watcher was down are diffed against what came before.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use vsync_model::TwTask;

pub struct Mirror {
    dir: PathBuf,
    tasks: HashMap<String, TwTask>,
}

impl Mirror {
    /// Loads the persisted mirror; `None` when there is none yet (first start).
    pub fn load(state_dir: &Path) -> std::io::Result<Option<Mirror>> {
        let dir = state_dir.join("mirror");
        if !dir.is_dir() {
            return Ok(None);
        }
        let mut tasks = HashMap::new();
        for entry in std::fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match std::fs::read_to_string(&path)
                .ok()
                .and_then(|s| TwTask::from_json(&s).ok())
            {
                Some(t) => {
                    tasks.insert(t.uuid().to_string(), t);
                }
                None => tracing::warn!(path = %path.display(), "skipping unreadable mirror entry"),
            }
        }
        Ok(Some(Mirror { dir, tasks }))
    }

    /// A new mirror of `tasks` (first start: the host's current export).
    pub fn create(state_dir: &Path, tasks: Vec<TwTask>) -> std::io::Result<Mirror> {
        let dir = state_dir.join("mirror");
        std::fs::create_dir_all(&dir)?;
        let mut m = Mirror {
            dir,
            tasks: HashMap::new(),
        };
        for t in tasks {
            m.set(t)?;
        }
        Ok(m)
    }

    pub fn get(&self, uuid: &str) -> Option<&TwTask> {
        self.tasks.get(uuid)
    }

    /// Every task uuid the mirror holds.
    pub fn uuids(&self) -> impl Iterator<Item = String> + '_ {
        self.tasks.keys().cloned()
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
        std::fs::write(&tmp, t.to_json())?;
        std::fs::rename(&tmp, self.dir.join(format!("{uuid}.json")))?;
        self.tasks.insert(uuid, t);
        Ok(())
    }

    pub fn remove(&mut self, uuid: &str) -> std::io::Result<()> {
        if self.tasks.remove(uuid).is_some() && vsync_taskwarrior::is_uuid(uuid) {
            match std::fs::remove_file(self.dir.join(format!("{uuid}.json"))) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }
}
