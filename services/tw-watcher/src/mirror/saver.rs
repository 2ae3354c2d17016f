//! The thread that writes the mirror's files behind the watcher, one job after the other (so
//! the last change of a task is the one on disk). Until a change is on disk the mirror answers
//! it from [`Unsaved`]; the thread drops it from there once written.

use std::collections::HashMap;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, mpsc};

use vsync_model::TwTask;

use super::remove_if_present;

/// The nice value of the thread that writes the mirror's files.
const SAVER_NICE: i32 = 10;

/// Changes sent to the thread and not yet on disk, by task uuid: the task as set, or `None`
/// when removed. Holds the backlog only (a burst's worth), never the host's tasks.
#[derive(Clone, Default)]
pub(super) struct Unsaved(Arc<Mutex<Changes>>);

/// By task uuid: the number of the last change sent, and that change.
type Changes = HashMap<String, (u64, Option<TwTask>)>;

impl Unsaved {
    fn lock(&self) -> MutexGuard<'_, Changes> {
        // A panic elsewhere leaves the map as it was: still the truth.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `Some(change)` while a change of `uuid` is waiting to be written.
    pub(super) fn get(&self, uuid: &str) -> Option<Option<TwTask>> {
        self.lock().get(uuid).map(|(_, t)| t.clone())
    }

    fn put(&self, uuid: &str, seq: u64, task: Option<TwTask>) {
        self.lock().insert(uuid.to_string(), (seq, task));
    }

    /// Written: forgotten, unless a later change of the task is still waiting.
    fn written(&self, uuid: &str, seq: u64) {
        let mut map = self.lock();
        if map.get(uuid).is_some_and(|(s, _)| *s == seq) {
            map.remove(uuid);
        }
    }
}

/// One change of the mirror's files.
enum Job {
    Write {
        uuid: String,
        seq: u64,
        json: String,
    },
    Remove {
        uuid: String,
        seq: u64,
    },
    /// A file of another's (the write journal's), removed in turn.
    RemoveFile(PathBuf),
    /// Answered once every job before it is done.
    Flush(mpsc::Sender<()>),
}

/// Dropped, it finishes what was sent and stops.
pub(super) struct Saver {
    jobs: Option<mpsc::Sender<Job>>,
    thread: Option<std::thread::JoinHandle<()>>,
    unsaved: Unsaved,
    seq: u64,
}

impl Saver {
    pub(super) fn start(dir: PathBuf) -> std::io::Result<Saver> {
        let (jobs, todo) = mpsc::channel::<Job>();
        let unsaved = Unsaved::default();
        let pending = unsaved.clone();
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
                    if let Err(e) = run(&dir, &pending, job) {
                        tracing::error!(error = %e, "cannot persist the mirror");
                    }
                }
            })?;
        Ok(Saver {
            jobs: Some(jobs),
            thread: Some(thread),
            unsaved,
            seq: 0,
        })
    }

    pub(super) fn unsaved(&self) -> &Unsaved {
        &self.unsaved
    }

    /// Writes `task` (or removes the file of `uuid` when `None`), behind the caller.
    pub(super) fn save(&mut self, uuid: &str, task: Option<TwTask>) -> std::io::Result<()> {
        self.seq += 1;
        let seq = self.seq;
        let job = match &task {
            Some(t) => Job::Write {
                uuid: uuid.to_string(),
                seq,
                json: t.to_json(),
            },
            None => Job::Remove {
                uuid: uuid.to_string(),
                seq,
            },
        };
        // Recorded before the thread can see the job, so it is never forgotten early.
        self.unsaved.put(uuid, seq, task);
        self.send(job)
    }

    pub(super) fn remove_file_when_saved(&self, path: PathBuf) -> std::io::Result<()> {
        self.send(Job::RemoveFile(path))
    }

    /// Waits until every change so far is written to the files.
    pub(super) fn flush(&self) -> std::io::Result<()> {
        let (done, wait) = mpsc::channel();
        self.send(Job::Flush(done))?;
        wait.recv().map_err(|_| saver_gone())
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

fn run(dir: &std::path::Path, unsaved: &Unsaved, job: Job) -> std::io::Result<()> {
    match job {
        Job::Write { uuid, seq, json } => {
            let tmp = dir.join(format!(".{uuid}.tmp"));
            // 0600 at creation: the umask can only take bits away (no fsync: the hot path)
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?
                .write_all(json.as_bytes())?;
            std::fs::rename(&tmp, dir.join(format!("{uuid}.json")))?;
            unsaved.written(&uuid, seq);
            Ok(())
        }
        Job::Remove { uuid, seq } => {
            remove_if_present(&dir.join(format!("{uuid}.json")))?;
            unsaved.written(&uuid, seq);
            Ok(())
        }
        Job::RemoveFile(path) => remove_if_present(&path),
        Job::Flush(done) => {
            let _ = done.send(());
            Ok(())
        }
    }
}

fn saver_gone() -> std::io::Error {
    std::io::Error::other("the mirror's writer thread stopped")
}
