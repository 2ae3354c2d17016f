//! What can go wrong running Taskwarrior or writing its replica. Cloneable: when a batch fails
//! as a whole, every task of it reports the same error.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A failed `task` run or replica write.
#[derive(Clone, Debug, thiserror::Error)]
pub enum TaskwarriorError {
    #[error("cannot run {bin}: {source}")]
    Spawn {
        bin: PathBuf,
        source: Arc<std::io::Error>,
    },
    /// Taskwarrior ran and refused: the input itself is at fault (a task to set aside).
    #[error("`task {command}` failed ({status}): {stderr}")]
    Failed {
        command: &'static str,
        status: String,
        stderr: String,
    },
    #[error("`task {command}` timed out after {0:?}", TIMEOUT)]
    TimedOut { command: &'static str },
    #[error("`task export` printed invalid JSON: {0}")]
    Json(String),
    #[error("not a task uuid: {0:?}")]
    BadUuid(String),
    /// The replica could not be written (locked beyond the busy timeout, I/O): try again later.
    #[error("writing the replica {path}: {message}")]
    Replica { path: PathBuf, message: String },
}

impl TaskwarriorError {
    /// Whether trying again later may succeed: Taskwarrior could not be run, took too long,
    /// found its database locked by another process, or the replica could not be written.
    /// Otherwise it refused the input itself.
    pub fn is_transient(&self) -> bool {
        match self {
            TaskwarriorError::Spawn { .. }
            | TaskwarriorError::TimedOut { .. }
            | TaskwarriorError::Replica { .. } => true,
            TaskwarriorError::Failed { stderr, .. } => stderr.contains("database is locked"),
            TaskwarriorError::Json(_) | TaskwarriorError::BadUuid(_) => false,
        }
    }
}

pub(crate) const TIMEOUT: Duration = Duration::from_secs(60);

impl From<serde_json::Error> for TaskwarriorError {
    fn from(e: serde_json::Error) -> Self {
        TaskwarriorError::Json(e.to_string())
    }
}
