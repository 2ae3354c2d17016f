//! Deletions a full pass finds, and deletions it takes back. A task the listing does not show
//! is marked deleted only once Vikunja says so for that very task (`GET /tasks/{id}` answers
//! 404, code 4002): a listing can miss a live task (moved between two projects listed in
//! parallel, cut short by a proxy), and a deletion spreads to every host. A listing that misses
//! many tasks at once is not trusted (the mass-deletion guard): each is still checked by id,
//! and when Vikunja answers that many of them are gone, none is marked deleted until the
//! operator confirms (`vikunja-sync reconcile --confirm-deletions`); the pass's report, which
//! `vikunja-sync status` shows, says which. A task deleted in Vikunja by its own webhook, or
//! with its project's, is not held. A task marked deleted that Vikunja lists again is brought
//! back everywhere.

use futures::StreamExt;
use vsync_bus::Cas;
use vsync_bus::reports::ReconcileReport;
use vsync_model::{Change, VikunjaTask, fields, merge, vikunja};
use vsync_proto::{Origin, TaskState, TaskStatus};

use crate::error::SyncError;
use crate::events::{Applied, EventHandler};

/// More missing tasks than this, or than one in twenty of those a listing should show
/// (whichever is more), make the listing suspect.
const MASS_DELETION: usize = 10;

/// Vikunja's error code for a task that does not exist (or was deleted).
const TASK_DOES_NOT_EXIST: i64 = 4002;

/// What Vikunja says of a task its listing did not show.
enum Missing {
    Deleted,
    Alive(VikunjaTask),
}

/// A task marked deleted because Vikunja no longer had it (not deleted by a host).
pub(crate) fn deleted_by_vikunja(state: &TaskState) -> bool {
    state.vikunja_json.is_empty()
        && state
            .fields
            .as_ref()
            .is_some_and(|f| f.status() == TaskStatus::Deleted)
        && state
            .stamps
            .get(fields::STATUS)
            .is_some_and(|s| s.origin == Origin::Vikunja as i32)
}

/// How a full pass checks the tasks its listing missed.
pub(crate) struct Checks {
    /// How many tasks the listing should have shown.
    pub expected: usize,
    pub listed_at: i64,
    /// Checks at a time.
    pub concurrency: usize,
    /// The operator confirmed deletions beyond the guard (`reconcile --confirm-deletions`).
    pub confirmed: bool,
}

impl EventHandler {
    /// Checks each task a full listing missed with Vikunja: live ones are handled as listed,
    /// deleted ones are marked deleted. When Vikunja no longer has more tasks than the guard
    /// allows (a restored backup, another server behind the same address, a token that lost its
    /// projects), none is marked deleted unless the operator confirmed it: a deletion spreads
    /// to every host, and the user's Taskwarrior copies are then the only ones left.
    pub(crate) async fn confirm_missing(
        &self,
        missing: &[&TaskState],
        checks: &Checks,
        report: &mut ReconcileReport,
    ) {
        let ids: Vec<(usize, i64)> = missing
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.vikunja_id))
            .collect();
        let answers: Vec<(usize, Result<Missing, SyncError>)> = futures::stream::iter(ids)
            .map(|(i, id)| async move { (i, self.check_missing(id).await) })
            .buffer_unordered(checks.concurrency.max(1))
            .collect()
            .await;
        let threshold = MASS_DELETION.max(checks.expected / 20);
        let gone = answers
            .iter()
            .filter(|(_, a)| matches!(a, Ok(Missing::Deleted)))
            .count();
        let hold = gone > threshold && !checks.confirmed;
        if hold {
            report.held_deletions = gone;
            report.guard = format!(
                "Vikunja no longer has {gone} of the {} task(s) it should list, more than \
                 {threshold}: none was deleted anywhere. If they were deleted on purpose, \
                 `vikunja-sync reconcile --confirm-deletions` deletes them on every host",
                checks.expected
            );
        } else if missing.len() > threshold {
            report.guard = format!(
                "the listing missed {} of {} task(s), more than {threshold}: each was checked \
                 by id before any was marked deleted",
                missing.len(),
                checks.expected
            );
        }
        if !report.guard.is_empty() {
            tracing::warn!(guard = %report.guard, "mass-deletion guard");
        }
        for (i, answer) in answers {
            let s = missing[i];
            let done = match answer {
                Ok(Missing::Deleted) if hold => Ok(()),
                Ok(Missing::Deleted) => self
                    .mark_deleted(&s.uuid)
                    .await
                    .map(|marked| report.deleted += usize::from(marked)),
                Ok(Missing::Alive(task)) => {
                    report.missed += 1;
                    self.reconcile_listed(&task, Some(s), checks.listed_at)
                        .await
                        .map(|applied| {
                            if let Some(a) = applied.filter(|a| !a.changed.is_empty()) {
                                report.changed.push((a.uuid, a.changed));
                            }
                        })
                }
                Err(e) => Err(e),
            };
            if let Err(e) = done {
                tracing::warn!(uuid = %s.uuid, error = %e, "cannot check a task the listing missed");
                report.failed.push((s.uuid.clone(), e.to_string()));
            }
        }
    }

    async fn check_missing(&self, vikunja_id: i64) -> Result<Missing, SyncError> {
        match self.api.get_task(vikunja_id).await {
            Ok(task) => Ok(Missing::Alive(task)),
            Err(e) if e.is_not_found() && e.code() == Some(TASK_DOES_NOT_EXIST) => {
                Ok(Missing::Deleted)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Marks a task deleted that Vikunja no longer has: whether that changed canonical state.
    async fn mark_deleted(&self, uuid: &str) -> Result<bool, SyncError> {
        loop {
            let (mut state, rev) = self.load(uuid).await?;
            let current = state.fields.clone().unwrap_or_default();
            let mut gone = current.clone();
            gone.set_status(TaskStatus::Deleted);
            let merged = merge(
                &mut state,
                &Change {
                    origin: Origin::Vikunja,
                    host: "",
                    at_us: vsync_model::dates::now_us(),
                    base: Some(&current),
                    new: &gone,
                },
            );
            if !merged.is_change() {
                return Ok(false);
            }
            state.vikunja_json.clear();
            state.merged_at_us = vsync_model::dates::now_us();
            if let Cas::Written(_) = self.bus.store_state(&state, rev).await? {
                return Ok(true);
            }
        }
    }

    /// Brings back a task marked deleted (by Vikunja's side) that a listing begun after the
    /// deletion shows again, as Vikunja shows it.
    pub(crate) async fn revive(
        &self,
        deleted: &TaskState,
        task: &VikunjaTask,
        listed_at: i64,
    ) -> Result<Option<Applied>, SyncError> {
        if deleted.merged_at_us >= listed_at {
            return Ok(None); // the listing may predate the deletion
        }
        let path = self.project_path(task.project_id()).await?;
        let shown = vikunja::view(task, &path, &self.tags, false);
        loop {
            let (mut state, rev) = self.load(&deleted.uuid).await?;
            if !deleted_by_vikunja(&state) {
                return Ok(None);
            }
            let current = state.fields.clone().unwrap_or_default();
            let now = vsync_model::dates::now_us();
            let merged = self.merge_vikunja(&mut state, Some(&current), &shown, now);
            state.vikunja_json = task.to_json();
            state.vikunja_id = task.id();
            state.vikunja_project_id = task.project_id();
            state.vikunja_dirty = self.vikunja_differs(&state, &path);
            state.merged_at_us = now;
            if let Cas::Written(_) = self.bus.store_state(&state, rev).await? {
                tracing::info!(uuid = %state.uuid, "a task marked deleted is in Vikunja again");
                return Ok(Some(Applied {
                    uuid: state.uuid,
                    changed: merged.changed,
                    stored: true,
                    refused: None,
                }));
            }
        }
    }
}
