//! The command-line driver: `task export` and `task rc.hooks=off import` of complete tasks.
//!
//! `import` replaces a whole task, so callers always send the complete task (see
//! `vsync_model::tw::apply`). Every command runs with hooks off (our own writes must never come
//! back as changes) and garbage collection off (a background write must not renumber the IDs
//! the user is looking at). Task content goes through stdin, never argv.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;

use serde_json::Value;

use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};
use tokio::sync::Mutex;
use vsync_model::TwTask;

use crate::error::{TIMEOUT, TaskwarriorError};

const IMPORT: &[&str] = &["import", "-"];
/// Overrides on every command we run.
const RC: &[&str] = &[
    "rc.hooks=off",
    "rc.gc=off",
    "rc.confirmation=off",
    "rc.verbose=nothing",
    "rc.json.array=on",
    "rc.recurrence=off",
];

/// One user's Taskwarrior on this host.
#[derive(Clone, Debug)]
pub struct Taskwarrior {
    bin: PathBuf,
    taskrc: PathBuf,
    data: PathBuf,
    /// A `task import` started ahead of time and waiting on stdin: Taskwarrior reads its config
    /// at start but the task data only after its input, so an import through it costs the work,
    /// not the process start (about 3 ms instead of 7 ms here). Used by one caller at a time.
    warm: Arc<Mutex<Option<Child>>>,
}

impl Taskwarrior {
    pub fn new(bin: PathBuf, taskrc: PathBuf, data: PathBuf) -> Taskwarrior {
        Taskwarrior {
            bin,
            taskrc,
            data,
            warm: Arc::new(Mutex::new(None)),
        }
    }

    fn command(&self, args: &[&str], stdin: bool) -> Command {
        let mut cmd = Command::new(&self.bin);
        cmd.args(RC)
            .args(args)
            .env("TASKRC", &self.taskrc)
            .env("TASKDATA", &self.data)
            .stdin(if stdin { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    fn spawn(&self, args: &[&str], stdin: bool) -> Result<Child, TaskwarriorError> {
        self.command(args, stdin)
            .spawn()
            .map_err(|source| TaskwarriorError::Spawn {
                bin: self.bin.clone(),
                source: Arc::new(source),
            })
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data
    }

    /// The change stamp of the task data now.
    pub fn data_stamp(&self) -> crate::DataStamp {
        crate::DataStamp::read(&self.data)
    }

    async fn run(
        &self,
        command: &'static str,
        args: &[&str],
        stdin: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, TaskwarriorError> {
        let child = self.spawn(args, stdin.is_some())?;
        self.finish(command, child, stdin).await
    }

    /// Feeds `stdin` to a started `task` and waits for its output.
    async fn finish(
        &self,
        command: &'static str,
        mut child: Child,
        stdin: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, TaskwarriorError> {
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A write error surfaces as the command's failure below.
            let _ = pipe.write_all(&input).await;
            drop(pipe);
        }
        let out = tokio::time::timeout(TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| TaskwarriorError::TimedOut { command })?
            .map_err(|source| TaskwarriorError::Spawn {
                bin: self.bin.clone(),
                source: Arc::new(source),
            })?;
        if !out.status.success() {
            return Err(TaskwarriorError::Failed {
                command,
                status: out.status.to_string(),
                stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
            });
        }
        Ok(out.stdout)
    }

    /// `task _version`.
    pub async fn version(&self) -> Result<String, TaskwarriorError> {
        let out = self.run("_version", &["_version"], None).await?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// The taskrc file this driver runs with.
    pub fn taskrc(&self) -> &std::path::Path {
        &self.taskrc
    }

    /// Taskwarrior's whole configuration as `name=value` lines (`task _show`): the taskrc,
    /// what it includes and the defaults.
    pub async fn config(&self) -> Result<String, TaskwarriorError> {
        let out = self.run("_show", &["_show"], None).await?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// Every task, of every status.
    pub async fn export_all(&self) -> Result<Vec<TwTask>, TaskwarriorError> {
        parse_export(&self.run("export", &["export"], None).await?)
    }

    /// The tasks with these uuids (missing ones are simply absent).
    pub async fn export_uuids(&self, uuids: &[&str]) -> Result<Vec<TwTask>, TaskwarriorError> {
        if uuids.is_empty() {
            return Ok(Vec::new());
        }
        for u in uuids {
            if !is_uuid(u) {
                return Err(TaskwarriorError::BadUuid(u.to_string()));
            }
        }
        let mut args: Vec<&str> = uuids.to_vec();
        args.push("export");
        parse_export(&self.run("export", &args, None).await?)
    }

    /// Imports complete tasks in one `task import` (hooks off).
    pub async fn import(&self, tasks: &[TwTask]) -> Result<(), TaskwarriorError> {
        if tasks.is_empty() {
            return Ok(());
        }
        let body: Vec<Value> = tasks.iter().map(|t| Value::Object(t.0.clone())).collect();
        let json = serde_json::to_vec(&body)?;
        let mut warm = self.warm.lock().await;
        let waiting = warm
            .take()
            .and_then(|mut c| matches!(c.try_wait(), Ok(None)).then_some(c));
        let child = match waiting {
            // Still waiting for its input (it did not exit for some reason).
            Some(c) => c,
            None => self.spawn(IMPORT, true)?,
        };
        let result = self.finish("import", child, Some(json)).await;
        // The next one starts now, while nothing is waiting for it.
        *warm = self.spawn(IMPORT, true).ok();
        result.map(|_| ())
    }
}

fn parse_export(out: &[u8]) -> Result<Vec<TwTask>, TaskwarriorError> {
    let trimmed = out.trim_ascii();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let v: Vec<Value> = vsync_hook_wire::tw_json::parse(trimmed)?;
    Ok(v.into_iter()
        .filter_map(|t| TwTask::from_value(t).ok())
        .collect())
}

/// Whether `s` is a Taskwarrior uuid (8-4-4-4-12 hex).
pub fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() == 5
        && parts
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit()))
}
