//! Every write of ours to the host's Taskwarrior — an apply of canonical state, a re-apply
//! after a lost write, the host reconcile — goes through [`Watcher::write`], so each one is:
//!
//! - one write of the batch through the backend (in-process or `task import`), and when
//!   Taskwarrior refuses part of it, one write per refused task: a task it cannot take (a poison
//!   task) is dead-lettered alone with the reason and not tried again at the same canonical
//!   version, and the rest of its batch is applied; a write that may succeed later (Taskwarrior
//!   could not run, its database was locked) is retried, never dead-lettered;
//! - recorded in the mirror, the data stamp (ours, not someone else's write) and the overlap
//!   bookkeeping: on Taskwarrior 2.6 any of our imports can lose a concurrent command's write,
//!   or have its own lost, so every one must be checkable;
//! - announced on the bus as this host's applied notice.

use std::time::Instant;

use vsync_bus::Stage;
use vsync_model::TwTask;
use vsync_proto::TaskState;
use vsync_taskwarrior::{Apply as _, TaskResults, TaskwarriorError};

use crate::overlap::Import;
use crate::watcher::Watcher;

/// What one [`Watcher::write`] did.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Written {
    /// Tasks the host now shows as asked.
    pub applied: usize,
    /// Tasks Taskwarrior refused, dead-lettered.
    pub set_aside: usize,
    /// Taskwarrior could not be run (or its database was locked): what is not applied is to be
    /// tried again later.
    pub retry: bool,
}

impl Watcher {
    /// Makes the host show each task of `targets` (the canonical state it comes from, the
    /// complete task to import).
    pub(crate) async fn write(&mut self, targets: Vec<(TaskState, TwTask)>) -> Written {
        let targets: Vec<(TaskState, TwTask)> = targets
            .into_iter()
            .filter(|(s, _)| !self.is_set_aside(s))
            .collect();
        let mut written = Written::default();
        let mut refused = Vec::new();
        for (target, r) in targets.iter().zip(self.write_recorded(&targets).await) {
            match r {
                Ok(()) => written.applied += 1,
                Err(e) if e.is_transient() => {
                    if !written.retry {
                        tracing::warn!(error = %e, "cannot write to Taskwarrior now; trying again later");
                    }
                    written.retry = true;
                }
                Err(e) => refused.push((target, e)),
            }
        }
        if let [(target, e)] = refused.as_slice() {
            self.set_aside(target, e).await;
            written.set_aside = 1;
            return written;
        }
        // The CLI fails a whole batch for one task it refuses: one task at a time finds it.
        if let Some((_, e)) = refused.first() {
            tracing::warn!(error = %e, tasks = refused.len(), "Taskwarrior refused a batch; one task at a time");
        }
        for (target, _) in refused {
            let one = std::slice::from_ref(target);
            match self.write_recorded(one).await.pop() {
                Some(Ok(())) => written.applied += 1,
                Some(Err(e)) if e.is_transient() => written.retry = true,
                Some(Err(e)) => {
                    self.set_aside(target, &e).await;
                    written.set_aside += 1;
                }
                None => {}
            }
        }
        written
    }

    /// Whether `state` is a version of its task Taskwarrior already refused.
    pub(crate) fn is_set_aside(&self, state: &TaskState) -> bool {
        self.set_aside.get(&state.uuid) == Some(&state.version)
    }

    /// One write through the backend, and everything that must follow it for what it applied;
    /// one result per target.
    async fn write_recorded(&mut self, targets: &[(TaskState, TwTask)]) -> TaskResults {
        if targets.is_empty() {
            return Vec::new();
        }
        let tasks: Vec<TwTask> = targets.iter().map(|(_, t)| t.clone()).collect();
        let entry = match self.journal.as_mut().map(|j| j.begin(&tasks)) {
            Some(Ok(entry)) => Some(entry),
            Some(Err(e)) => {
                tracing::warn!(error = %e, "cannot note the write in progress");
                None
            }
            None => None,
        };
        let caught = crate::fault::before_write().await;
        let started_us = vsync_model::dates::now_us();
        let results = self.backend.apply(&tasks).await;
        if let Some(c) = caught {
            c.stop().await;
        }
        let returned_us = vsync_model::dates::now_us();
        self.verified.written(self.tw.data_stamp());
        // The host shows them now: say so first, then do our own bookkeeping.
        for ((s, _), r) in targets.iter().zip(&results) {
            if r.is_ok() {
                self.announce(s, returned_us).await;
            }
        }
        let mut imported = Vec::with_capacity(targets.len());
        for (t, r) in tasks.into_iter().zip(&results) {
            if r.is_err() {
                continue;
            }
            let before = self.mirror.get(t.uuid());
            if let Err(e) = self.mirror.set(t.clone()) {
                tracing::error!(error = %e, "cannot persist the mirror");
            }
            imported.push((before, t));
        }
        if let (Some(journal), Some(entry)) = (&self.journal, entry)
            && let Err(e) = journal.end(entry, &mut self.mirror)
        {
            tracing::warn!(error = %e, "cannot clear the write in progress");
        }
        if !imported.is_empty() {
            self.overlap.imported(
                Import {
                    started_us,
                    returned_us,
                    ended_us: vsync_model::dates::now_us(),
                    tasks: imported,
                },
                Instant::now(),
            );
        }
        results
    }

    /// A task Taskwarrior refuses: dead-lettered with the reason, and not tried again until its
    /// canonical state changes.
    async fn set_aside(&mut self, (state, task): &(TaskState, TwTask), e: &TaskwarriorError) {
        tracing::error!(uuid = %state.uuid, error = %e, "Taskwarrior refuses this task; dead-lettered");
        self.set_aside.insert(state.uuid.clone(), state.version);
        let reason = format!("Taskwarrior refused task {}: {e}", state.uuid);
        if let Err(e) = self
            .bus
            .dead_letter(
                Stage::TwApply,
                &state.uuid,
                task.to_json().as_bytes(),
                &reason,
                vsync_model::dates::now_us(),
            )
            .await
        {
            tracing::error!(error = %e, "cannot dead-letter a refused task");
        }
    }
}
