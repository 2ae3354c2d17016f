//! Applying complete tasks to a host: the one interface both backends (`crate::backend`)
//! implement. The CLI (`task rc.hooks=off import`) works with every version.

use std::future::Future;

use vsync_model::TwTask;

use crate::{Taskwarrior, TaskwarriorError};

/// One result per task applied, in the order given.
pub type TaskResults = Vec<Result<(), TaskwarriorError>>;

/// Makes a host show complete tasks.
pub trait Apply {
    /// Makes the host show each of `tasks` exactly, as `task import` would (the whole task
    /// replaced, hooks off, `modified` set to now when anything changed). One result per task;
    /// a backend that cannot tell which task of a batch failed (the CLI) fails every task of it
    /// with the same error, and the caller isolates the culprit one task at a time.
    fn apply(&self, tasks: &[TwTask]) -> impl Future<Output = TaskResults> + Send;
}

impl Apply for Taskwarrior {
    async fn apply(&self, tasks: &[TwTask]) -> TaskResults {
        match self.import(tasks).await {
            Ok(()) => vec![Ok(()); tasks.len()],
            Err(e) => vec![Err(e); tasks.len()],
        }
    }
}
