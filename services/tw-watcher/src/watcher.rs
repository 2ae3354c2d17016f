//! What one host's watcher holds, shared by its flows: the local Taskwarrior, the mirror (the
//! host's last known state of each task), the bus, the spool, and the Taskwarrior 2.6 overlap
//! bookkeeping. The flows are methods on it, one file each: `outbound` (hook messages -> task
//! events), `inbound` (canonical state -> the host), `local` (writes no hook reported), `write`
//! (every write of ours), `control` (control requests, host reconcile), `scope` (which tasks
//! the host's filter lets through); `app` wires them to their sources.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use vsync_bus::Bus;
use vsync_model::{TaskFilter, TwTask};
use vsync_proto::TaskState;
use vsync_taskwarrior::{Apply, Backend, DataStamp, Taskwarrior, TaskwarriorError};

use crate::adoption::HostAdoption;
use crate::journal::Journal;
use crate::mirror::Mirror;
use crate::overlap::Overlap;
use crate::verified::Verified;

/// Every canonical state, being read.
pub(crate) type Prefetch = tokio::task::JoinHandle<Result<Vec<TaskState>, vsync_bus::BusError>>;

/// One Taskwarrior host's watcher.
pub struct Watcher {
    pub(crate) host: String,
    pub(crate) bus: Bus,
    /// Exports, and the other `task` commands.
    pub(crate) tw: Taskwarrior,
    /// Applies complete tasks: in-process on Taskwarrior 3 where provably safe, else `task import`.
    pub(crate) backend: Backend,
    pub(crate) mirror: Mirror,
    /// `[taskwarrior] filter`: the tasks this host syncs (`scope`); `None`: every task.
    pub(crate) filter: Option<TaskFilter>,
    /// Whether this host has been adopted, and the tasks it holds back.
    pub(crate) adoption: HostAdoption,
    /// Whether the reconciler has heard that this host waits to be adopted.
    pub(crate) hello_said: bool,
    /// When this watcher started (µs): one hello per start.
    pub(crate) started_us: i64,
    /// Where the hook spools what it could not hand over, and we spool what the bus refused.
    pub(crate) spool: PathBuf,
    /// Newest hook time published per task: older messages arriving late are superseded.
    pub(crate) hook_at: HashMap<String, i64>,
    /// Each task last published as found in the files: the hook message of the command that
    /// wrote it, arriving later, reports the same write and publishes nothing.
    pub(crate) found_in_files: HashMap<String, TwTask>,
    /// Our write in progress, on disk until recorded (a crash in between is settled at start).
    pub(crate) journal: Option<Journal>,
    /// Our recent imports and what they may have cost a concurrent command (TW 2.6).
    pub(crate) overlap: Overlap,
    /// Whether the mirror is known to show what the data files hold (their change stamp).
    pub(crate) verified: Verified,
    /// The last whole export, with the files' stamp before it: adoption asks for one, then
    /// re-keys and runs a pass; while nothing else wrote those need no export of their own
    /// (one `task export` of thousands of tasks, or many of a few hundred uuids, costs seconds
    /// on Taskwarrior 3). Taken by the first that uses it.
    pub(crate) last_export: Option<(DataStamp, Vec<TwTask>)>,
    /// Canonical state, read while a host not adopted yet re-keys (adoption wrote it all
    /// before): the pass right after adoption reads it from here instead of waiting for it.
    pub(crate) prefetched: Option<(Instant, Prefetch)>,
    /// Tasks Taskwarrior refused, at the canonical version it refused: not tried again until
    /// that changes.
    pub(crate) set_aside: HashMap<String, u64>,
    /// When the last hook message arrived: a change of the files with no hook message since
    /// (and none in flight) is one no hook reported.
    pub(crate) last_hook: Instant,
    /// The bus was unreachable: hook messages go to the spool, in order, until it drains.
    pub(crate) backlog: bool,
    pub(crate) metrics: vsync_telemetry::metrics::Metrics,
    /// What `task _version` said at start, for `vikunja-sync hosts`.
    pub(crate) taskwarrior_version: String,
}

impl Watcher {
    pub(crate) fn new(
        host: String,
        bus: Bus,
        tw: Taskwarrior,
        backend: Backend,
        mirror: Mirror,
        adoption: HostAdoption,
        spool: PathBuf,
    ) -> Watcher {
        Watcher {
            host,
            bus,
            tw,
            backend,
            mirror,
            filter: None,
            adoption,
            hello_said: false,
            started_us: vsync_model::dates::now_us(),
            spool,
            hook_at: HashMap::new(),
            found_in_files: HashMap::new(),
            journal: None,
            overlap: Overlap::default(),
            verified: Verified::default(),
            last_export: None,
            prefetched: None,
            set_aside: HashMap::new(),
            last_hook: Instant::now(),
            backlog: false,
            metrics: metrics(),
            taskwarrior_version: String::new(),
        }
    }
}

impl Watcher {
    /// Keeps each write in `journal` until it is recorded.
    pub(crate) fn with_journal(mut self, journal: Journal) -> Watcher {
        self.journal = Some(journal);
        self
    }

    /// Syncs only the tasks `filter` matches (docs/ARCHITECTURE.md §5.10).
    pub(crate) fn with_filter(mut self, filter: Option<TaskFilter>) -> Watcher {
        self.filter = filter;
        self
    }

    /// Applies `tasks` through the backend, no canonical state behind them (a re-key retiring
    /// tasks); the first failure, if any.
    pub(crate) async fn write_tasks(&mut self, tasks: &[TwTask]) -> Result<(), TaskwarriorError> {
        let r = self.backend.apply(tasks).await.into_iter().collect();
        self.verified.written(self.tw.data_stamp());
        r
    }
}

fn metrics() -> vsync_telemetry::metrics::Metrics {
    let m = vsync_telemetry::metrics::Metrics::default();
    m.describe(
        "vsync_events_out_total",
        "counter",
        "Local changes published, by kind.",
    );
    m.describe(
        "vsync_applied_total",
        "counter",
        "Canonical states applied to this host.",
    );
    m.describe(
        "vsync_e2e_latency_seconds",
        "histogram",
        "From the change at its origin to this host showing it, by direction.",
    );
    m
}
