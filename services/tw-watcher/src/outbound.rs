//! Local changes out: each hook message becomes one task event per changed task, published with
//! the host's previous state of the task (the mirror) as the diff base, so a host that missed
//! other changes while offline sends only what its user changed (docs/ARCHITECTURE.md §5.1).
//! A task outside the host's filter before and after the change is not published (`scope`).
//!
//! While the bus is unreachable, messages go to the hook's spool, in order, and are drained
//! from it later. Before a message is published it is checked against our recent imports
//! (`overlap`): Taskwarrior 2.6 loses one of two concurrent writes, and a command that ran while
//! we imported may have lost our write, or had its own write lost to ours.

use std::time::Instant;

use vsync_bus::{BusError, Stage, subject};
use vsync_hook_wire::HookMessage;
use vsync_model::{TwTask, limits, tw};
use vsync_proto::{EventKind, Origin, TaskEvent, TaskwarriorChange, task_event};

use crate::intake::FromHook;
use crate::watcher::Watcher;

impl Watcher {
    pub(crate) async fn on_hook(&mut self, from: FromHook) {
        match from {
            FromHook::Message(m) => self.on_message(m).await,
            FromHook::Spooled => self.drain_spool().await,
        }
    }

    async fn on_message(&mut self, m: HookMessage) {
        self.last_hook = Instant::now();
        self.check_overlap(&m).await;
        if self.backlog {
            self.spool_message(&m);
            return;
        }
        if let Err(e) = self.publish_hook(&m).await {
            tracing::warn!(error = %e, "bus unavailable; spooling local changes");
            self.backlog = true;
            self.spool_message(&m);
        }
    }

    fn spool_message(&self, m: &HookMessage) {
        if let Err(e) = vsync_hook_wire::append_to_spool(&self.spool, &m.to_line()) {
            tracing::error!(error = %e, spool = %self.spool.display(), "cannot spool a local change");
        }
    }

    /// Publishes what the spool holds, in order; on a bus error the rest goes back to the spool.
    pub(crate) async fn drain_spool(&mut self) {
        let drained = match vsync_hook_wire::drain_spool_report(&self.spool) {
            Ok(d) => d,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the spool");
                return;
            }
        };
        for bad in &drained.malformed {
            tracing::warn!(?bad, "malformed spool line skipped");
        }
        let mut pending = drained.messages.into_iter();
        for m in pending.by_ref() {
            if let Err(e) = self.publish_hook(&m).await {
                tracing::warn!(error = %e, "bus unavailable; keeping the spool");
                self.spool_message(&m);
                for rest in pending.by_ref() {
                    self.spool_message(&rest);
                }
                self.backlog = true;
                return;
            }
        }
        self.backlog = false;
    }

    /// A local command ran until `m.at_us` (from `m.started_us`): if its run overlapped one of
    /// our imports, one of the two writes may be lost (Taskwarrior 2.6 rewrites the whole
    /// file). One `task export` checks both: the other tasks we imported then (re-applied if the
    /// file shows them reverted), and the command's own tasks (re-applied from canonical state once it has merged them, if our
    /// import wiped them from the file). The command's own change is published from its hook
    /// message either way, diffed against the base it was computed from.
    async fn check_overlap(&mut self, m: &HookMessage) {
        let Some(overlapped) = self.overlap.overlapped_by(m.started_us, m.at_us) else {
            return;
        };
        let own: Vec<TwTask> = m
            .tasks
            .iter()
            .filter_map(|v| TwTask::from_value(v.clone()).ok())
            .filter(|t| !t.is_template())
            // Published as found in the files already, and checked then.
            .filter(|t| {
                !self
                    .found_in_files
                    .get(t.uuid())
                    .is_some_and(|f| same_write(f, t))
            })
            .collect();
        let is_own = |uuid: &str| {
            own.iter().any(|t| t.uuid() == uuid) || m.removed.iter().any(|u| u == uuid)
        };
        let ours = overlapped.others(is_own);
        // One `task export` for both checks.
        let uuids: Vec<&str> = ours
            .iter()
            .map(String::as_str)
            .chain(own.iter().map(TwTask::uuid))
            .collect();
        if uuids.is_empty() {
            return;
        }
        let exported = match self.tw.export_uuids(&uuids).await {
            Ok(e) => e,
            Err(e) => {
                tracing::warn!(error = %e, "cannot verify concurrent writes");
                return;
            }
        };
        let now = Instant::now();
        let mirror = &self.mirror;
        for uuid in self
            .overlap
            .check_ours(&ours, &exported, |u| mirror.get(u), now)
        {
            tracing::warn!(
                uuid,
                "import overwritten by a concurrent command; re-applying"
            );
        }
        let mirror = &self.mirror;
        for uuid in self
            .overlap
            .check_own(&own, &exported, |u| mirror.get(u), m.at_us, now)
        {
            tracing::warn!(
                uuid,
                "local change overwritten by our concurrent import; re-applying"
            );
        }
    }

    async fn publish_hook(&mut self, m: &HookMessage) -> Result<(), BusError> {
        for v in &m.tasks {
            match TwTask::from_value(v.clone()) {
                Ok(t) if t.is_template() => {}
                // The write already published as found in the files: its base was chosen then,
                // and the mirror may have moved on since (an apply over it).
                Ok(t)
                    if self
                        .found_in_files
                        .remove(t.uuid())
                        .is_some_and(|f| same_write(&f, &t)) => {}
                Ok(t) => {
                    let uuid = t.uuid().to_string();
                    self.publish_one(&uuid, Some(t), m.at_us, m.started_us, &m.command)
                        .await?;
                }
                Err(e) => {
                    let _ = self
                        .bus
                        .dead_letter(
                            Stage::TwHook,
                            "hook",
                            v.to_string().as_bytes(),
                            &e.to_string(),
                            m.at_us,
                        )
                        .await;
                }
            }
        }
        for uuid in &m.removed {
            self.publish_one(uuid, None, m.at_us, m.started_us, &m.command)
                .await?;
        }
        Ok(())
    }

    /// Publishes one local change of task `uuid` (`new`, or `None`: gone) made at `at_us` by a
    /// command started at `started_us`, and records it in the mirror. A change that is no change
    /// against its base publishes nothing.
    pub(crate) async fn publish_one(
        &mut self,
        uuid: &str,
        new: Option<TwTask>,
        at_us: i64,
        started_us: Option<i64>,
        command: &str,
    ) -> Result<(), BusError> {
        if self.adoption.holds(uuid) {
            // Not adopted yet, or held by adoption: it may exist on the other side already.
            // Not in the mirror either, so the first pass after adoption or release finds it.
            return Ok(());
        }
        if self.hook_at.get(uuid).is_some_and(|t| *t > at_us) {
            return Ok(()); // a newer message for this task was already published
        }
        if !self.publishes(uuid, new.as_ref()) {
            // Outside the host's filter before and after: it stays local. The mirror still
            // follows it, as the base of a change that brings it into the filter later.
            self.record_local(uuid, new, at_us);
            return Ok(());
        }
        if let Some(n) = &new
            && let Err(e) = limits::check(&tw::view(n))
        {
            // Too large for the bus and the other hosts: refused, with the field and its
            // size (and the start of the task, not all of it: the dead letter must fit too).
            let json = n.to_json();
            let excerpt = &json.as_bytes()[..json.len().min(4096)];
            let reason = format!("task {uuid}: {e}");
            tracing::warn!(uuid, reason, "local change refused");
            let _ = self
                .bus
                .dead_letter(Stage::TwHook, "hook", excerpt, &reason, at_us)
                .await;
            return Ok(());
        }
        let mirrored = self.mirror.get(uuid);
        let base = self
            .overlap
            .base_for(uuid, new.as_ref(), started_us, mirrored.as_ref());
        let saw_our_import =
            base.as_ref().map(TwTask::to_json) == mirrored.as_ref().map(TwTask::to_json);
        match (&new, &base) {
            (Some(n), Some(b)) if tw::view(n) == tw::view(b) => {
                let _ = self.mirror.set(n.clone());
                return Ok(());
            }
            (None, None) => return Ok(()),
            _ => {}
        }
        let project = new
            .as_ref()
            .or(base.as_ref())
            .map(|t| tw::view(t).project)
            .unwrap_or_default();
        let kind = match (&new, &base) {
            (Some(n), _) if n.status() == "deleted" => EventKind::Deleted,
            (None, _) => EventKind::Deleted,
            (Some(_), None) => EventKind::Created,
            _ => EventKind::Updated,
        };
        let task_json = new.as_ref().map(TwTask::to_json).unwrap_or_default();
        let event = TaskEvent {
            origin: Origin::Taskwarrior as i32,
            kind: kind as i32,
            host: self.host.clone(),
            changed_at_us: at_us,
            published_at_us: vsync_model::dates::now_us(),
            change: Some(task_event::Change::Taskwarrior(TaskwarriorChange {
                uuid: uuid.to_string(),
                task_json: task_json.clone(),
                previous_json: base.as_ref().map(TwTask::to_json).unwrap_or_default(),
                command: command.to_string(),
            })),
        };
        let subject = subject::tw_task(&self.host, &project, kind);
        let msg_id = vsync_bus::content_id(&[
            self.host.as_bytes(),
            uuid.as_bytes(),
            at_us.to_string().as_bytes(),
            task_json.as_bytes(),
        ]);
        // The bus publishes it in a `publish <subject>` span of its own.
        self.bus.publish_event(&subject, &msg_id, &event).await?;
        self.metrics
            .inc("vsync_events_out_total", &[("kind", kind.as_str_name())]);
        self.record_local(uuid, new, at_us);
        if !saw_our_import {
            // The command did not see our import (Taskwarrior 2.6 lost it): show canonical state
            // again once it includes this change.
            self.overlap
                .reapply_once_merged(uuid, at_us, Instant::now());
        }
        Ok(())
    }

    /// The host now shows task `uuid` as `new` (`None`: gone), as of a change made at `at_us`.
    fn record_local(&mut self, uuid: &str, new: Option<TwTask>, at_us: i64) {
        let stored = match new {
            Some(n) => self.mirror.set(n),
            None => self.mirror.remove(uuid),
        };
        if let Err(e) = stored {
            tracing::error!(error = %e, "cannot persist the mirror");
        }
        self.hook_at.insert(uuid.to_string(), at_us);
    }
}

/// Whether two reports of a task are of one write: changed at the same time (Taskwarrior's
/// `modified`, to the second). Not the content: Taskwarrior 3 writes only what the command
/// changed, but its hook shows the whole task as the command read it. Two writes of a task in
/// one second taken for one are rare, and the later one is still in the files, found there.
fn same_write(found: &TwTask, reported: &TwTask) -> bool {
    found.modified_us().is_some() && found.modified_us() == reported.modified_us()
}
