//! The host's last known state of each local task: the base a local change is diffed against,
//! and what an apply starts from (so the hot path needs no `task export`). Persisted one file
//! per task, so changes made while the watcher was down are diffed against what came before.
//! Private: the state directory and the mirror directory are 0700, each file 0600 (whatever
//! the umask; files an older version left readable are tightened on load).
//!
//! The watcher reads the mirror from memory; the files are written behind it, in order, by a
//! thread of their own ([`Saver`]): a burst of a thousand applies would otherwise wait on a
//! thousand file writes (seconds when other programs keep the disk busy). Like the writes
//! themselves (never fsynced), what the thread had not written when the process died is lost:
//! the next start diffs those tasks against their older copy, and the host's first pass
//! publishes what differs (our own applies: canonical state already holds them).

use std::collections::HashMap;
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use vsync_model::TwTask;

pub struct Mirror {
    dir: PathBuf,
    tasks: HashMap<String, TwTask>,
    saver: Saver,
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
        let mut tasks = HashMap::new();
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            if entry.metadata()?.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
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
        let saver = Saver::start()?;
        Ok(Some(Mirror { dir, tasks, saver }))
    }

    /// A new mirror of `tasks` (first start: the host's current export).
    pub fn create(state_dir: &Path, tasks: Vec<TwTask>) -> std::io::Result<Mirror> {
        let dir = state_dir.join("mirror");
        vsync_bus_auth::private_dir(state_dir)?;
        vsync_bus_auth::private_dir(&dir)?;
        let mut m = Mirror {
            dir,
            tasks: HashMap::new(),
            saver: Saver::start()?,
        };
        for t in tasks {
            m.set(t)?;
        }
        // Complete on disk before it is used: an existing mirror directory is loaded as it is.
        m.flush()?;
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
        self.saver.send(Job::Write {
            tmp: self.dir.join(format!(".{uuid}.tmp")),
            path: self.dir.join(format!("{uuid}.json")),
            json: t.to_json(),
        })?;
        self.tasks.insert(uuid, t);
        Ok(())
    }

    pub fn remove(&mut self, uuid: &str) -> std::io::Result<()> {
        if self.tasks.remove(uuid).is_some() && vsync_taskwarrior::is_uuid(uuid) {
            self.saver
                .send(Job::Remove(self.dir.join(format!("{uuid}.json"))))?;
        }
        Ok(())
    }

    /// Waits until every change so far is written to the files.
    pub fn flush(&self) -> std::io::Result<()> {
        let (done, wait) = mpsc::channel();
        self.saver.send(Job::Flush(done))?;
        wait.recv().map_err(|_| saver_gone())
    }
}

/// The nice value of the thread that writes the mirror's files.
const SAVER_NICE: i32 = 10;

/// One change of the mirror's files.
enum Job {
    Write {
        tmp: PathBuf,
        path: PathBuf,
        json: String,
    },
    Remove(PathBuf),
    /// Answered once every job before it is done.
    Flush(mpsc::Sender<()>),
}

/// The thread that writes the mirror's files, one job after the other (so the last change of a
/// task is the one on disk). Dropped, it finishes what was sent and stops.
struct Saver {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Saver {
    fn start() -> std::io::Result<Saver> {
        let (jobs, todo) = mpsc::channel::<Job>();
        let thread = std::thread::Builder::new()
            .name("mirror-saver".into())
            .spawn(move || {
                // Its work can wait; the applies it follows cannot (adopting 1,000 tasks per
                // host took 0.5-0.7 s with it niced, 0.7-1.0 s without, on 2 busy CPUs).
                // Linux keeps a nice value per thread.
                let me = rustix::thread::gettid();
                if let Err(e) = rustix::process::setpriority_process(Some(me), SAVER_NICE) {
                    tracing::debug!(error = %e, "the mirror's writer runs at normal priority");
                }
                for job in todo {
                    if let Err(e) = job.run() {
                        tracing::error!(error = %e, "cannot persist the mirror");
                    }
                }
            })?;
        Ok(Saver {
            jobs: Some(jobs),
            thread: Some(thread),
        })
    }

    fn send(&self, job: Job) -> std::io::Result<()> {
        self.jobs
            .as_ref()
            .and_then(|j| j.send(job).ok())
            .ok_or_else(saver_gone)
    }
}

impl Drop for Saver {
    fn drop(&mut self) {
        self.jobs = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Job {
    fn run(self) -> std::io::Result<()> {
        match self {
            Job::Write { tmp, path, json } => {
                // 0600 at creation: the umask can only take bits away (no fsync: the hot path)
                std::fs::OpenOptions::new()
                    .write(true)
                    .create(true)
                    .truncate(true)
                    .mode(0o600)
                    .open(&tmp)?
                    .write_all(json.as_bytes())?;
                std::fs::rename(&tmp, path)
            }
            Job::Remove(path) => match std::fs::remove_file(path) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            },
            Job::Flush(done) => {
                let _ = done.send(());
                Ok(())
            }
        }
    }
}

fn saver_gone() -> std::io::Error {
    std::io::Error::other("the mirror's writer thread stopped")
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
        m.remove(b).unwrap();
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
