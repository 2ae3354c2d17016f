//! The Taskwarrior driver: `task export` and `task rc.hooks=off import` of complete tasks.
//!
//! `import` replaces a whole task, so callers always send the complete task (see
//! `vsync_model::tw::apply`). Every command runs with hooks off (our own writes must never come
//! back as changes) and garbage collection off (a background write must not renumber the IDs
//! the user is looking at). Task content goes through stdin, never argv.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tokio::io::AsyncWriteExt;
use tokio::process::Command;
use vsync_model::TwTask;

/// A failed `task` run.
#[derive(Debug, thiserror::Error)]
pub enum TaskwarriorError {
    #[error("cannot run {bin}: {source}")]
    Spawn {
        bin: PathBuf,
        source: std::io::Error,
    },
    #[error("`task {command}` failed ({status}): {stderr}")]
    Failed {
        command: &'static str,
        status: String,
        stderr: String,
    },
    #[error("`task {command}` timed out after {0:?}", TIMEOUT)]
    TimedOut { command: &'static str },
    #[error("`task export` printed invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("not a task uuid: {0:?}")]
    BadUuid(String),
}

const TIMEOUT: Duration = Duration::from_secs(60);
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
}

impl Taskwarrior {
    pub fn new(bin: PathBuf, taskrc: PathBuf, data: PathBuf) -> Taskwarrior {
        Taskwarrior { bin, taskrc, data }
    }

    pub fn data_dir(&self) -> &std::path::Path {
        &self.data
    }

    async fn run(
        &self,
        command: &'static str,
        args: &[&str],
        stdin: Option<Vec<u8>>,
    ) -> Result<Vec<u8>, TaskwarriorError> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(RC)
            .args(args)
            .env("TASKRC", &self.taskrc)
            .env("TASKDATA", &self.data)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|source| TaskwarriorError::Spawn {
            bin: self.bin.clone(),
            source,
        })?;
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
                source,
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
        self.run("import", &["import", "-"], Some(json)).await?;
        Ok(())
    }
}

fn parse_export(out: &[u8]) -> Result<Vec<TwTask>, TaskwarriorError> {
    let trimmed = out.trim_ascii();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    let v: Vec<Value> = serde_json::from_slice(trimmed)?;
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
