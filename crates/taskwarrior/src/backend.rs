//! Which backend applies canonical state to a host: the CLI works with every version; on
//! Taskwarrior 3 the in-process replica writer (`crate::replica`) does the same much faster
//! where it is provably safe, and hands the rest to the CLI. [`Backend::select`] chooses once,
//! at the watcher's start.

use vsync_model::TwTask;

use crate::Taskwarrior;
use crate::apply::{Apply, TaskResults};
use crate::replica::{Refusal, ReplicaWriter};

/// Which backend applies canonical state to a host.
pub enum Backend {
    Cli(Taskwarrior),
    Replica(Box<ReplicaWriter>),
}

impl Backend {
    /// The in-process replica writer when `allow_replica`, the host runs Taskwarrior 3
    /// (`version` as `task _version` reports it) and its replica is one the linked taskchampion
    /// writes as it is; otherwise the CLI, with the reason.
    pub async fn select(
        cli: &Taskwarrior,
        version: &str,
        allow_replica: bool,
    ) -> (Backend, Option<Refusal>) {
        let refusal = if !allow_replica {
            Refusal::TurnedOff
        } else if !version.starts_with("3.") {
            Refusal::NotTaskwarrior3(version.to_string())
        } else {
            match ReplicaWriter::open(cli.clone()).await {
                Ok(w) => return (Backend::Replica(Box::new(w)), None),
                // A new host: the first `task import` makes the replica, then it is checked.
                Err(r @ Refusal::NoReplica(_)) => {
                    return (
                        Backend::Replica(Box::new(ReplicaWriter::unopened(cli.clone()))),
                        Some(r),
                    );
                }
                Err(r) => r,
            }
        };
        (Backend::Cli(cli.clone()), Some(refusal))
    }

    /// `"replica"` or `"cli"`, for logs and status.
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Cli(_) => "cli",
            Backend::Replica(_) => "replica",
        }
    }
}

impl Apply for Backend {
    async fn apply(&self, tasks: &[TwTask]) -> TaskResults {
        match self {
            Backend::Cli(c) => c.apply(tasks).await,
            Backend::Replica(r) => r.apply(tasks).await,
        }
    }
}
