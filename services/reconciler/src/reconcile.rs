//! Reconciliation: heal what events miss. Vikunja drops webhooks after a few retries, reports no
//! deletions in deltas and fires nothing for a deleted sub-project; a delta poll (`updated >=
//! watermark`) catches dropped changes cheaply, a full listing of every synced project (in
//! parallel, bounded) also finds deletions and moves. Unchanged tasks cost nothing beyond the
//! listing: they are compared with the last object seen, and only differences are merged. A
//! full pass handles each project's listing as it arrives and lets it go, so it never holds
//! every Vikunja task at once.

use std::collections::{BTreeSet, HashMap};
use std::time::Instant;

use futures::{StreamExt, TryStreamExt};
use tokio_util::task::AbortOnDropHandle;
use tracing::Instrument as _;
use vsync_bus::control::ReconcileRequest;
use vsync_bus::reports::ReconcileReport;
use vsync_model::{Side, VikunjaTask, fields, vikunja};
use vsync_proto::{EventKind, Origin, TaskEvent, TaskState, TaskStatus, VikunjaChange, task_event};
use vsync_vikunja::Project;

use crate::deletions::{Checks, deleted_by_vikunja};
use crate::error::SyncError;
use crate::events::{Applied, EventHandler};
use crate::pushed::Pushed;

impl EventHandler {
    /// One pass over Vikunja: `full` lists every synced project (finding deletions and moves),
    /// otherwise only tasks updated since the last pass. `only` limits a full pass to one
    /// project path (and its children).
    pub async fn reconcile_vikunja(
        &self,
        req: &ReconcileRequest,
        concurrency: usize,
    ) -> Result<ReconcileReport, SyncError> {
        let (full, only) = (req.full, req.project.as_deref());
        let started = Instant::now();
        let calls_before = self.api.calls();
        let mut report = ReconcileReport {
            full,
            ..Default::default()
        };
        let listed_at = vsync_model::dates::now_us();
        // A delta pass reads only the states of the tasks listed (and the index's owed writes);
        // a full pass, or one before the index is ready, reads every state once.
        let states = match full || !self.index.ready() {
            true => Some(self.bus.all_states().await?),
            false => None,
        };
        let by_vikunja_id: HashMap<i64, &TaskState> = states
            .iter()
            .flatten()
            .filter(|s| s.vikunja_id > 0)
            .map(|s| (s.vikunja_id, s))
            .collect();
        // The watermark moves past what was handled, never past a task that failed: the next
        // delta pass lists it again.
        let mut marks = Marks::default();
        // Every task a full listing showed, by id (what it missed is checked for deletion).
        let mut seen = BTreeSet::new();
        let mut listed_projects = BTreeSet::new();
        let mut returned_at = listed_at;
        if full {
            let synced = self.synced_projects(only).await?;
            listed_projects = synced.iter().map(|p| p.id).collect();
            // Listed by a task of its own, so the next pages load while this one is handled.
            let (tx, mut lists) = tokio::sync::mpsc::channel(concurrency.max(1));
            let mut listing = project_listings(self.api.clone(), synced, concurrency);
            let lister = async move {
                while let Some(list) = listing.next().await {
                    if tx.send(list).await.is_err() {
                        break; // the pass ended early
                    }
                }
            };
            let _lister = AbortOnDropHandle::new(tokio::spawn(lister.in_current_span()));
            while let Some(list) = lists.recv().await {
                let list = list?;
                returned_at = vsync_model::dates::now_us();
                report.listed += list.len();
                for task in &list {
                    seen.insert(task.id());
                    self.tally_listed(
                        task,
                        &by_vikunja_id,
                        true,
                        listed_at,
                        &mut report,
                        &mut marks,
                    )
                    .await;
                }
            }
        } else {
            let listed = self.delta_listing().await?;
            returned_at = vsync_model::dates::now_us();
            report.listed = listed.len();
            for task in &listed {
                let in_hand = states.is_some();
                self.tally_listed(
                    task,
                    &by_vikunja_id,
                    in_hand,
                    listed_at,
                    &mut report,
                    &mut marks,
                )
                .await;
            }
        }
        let Marks {
            newest,
            oldest_failed,
        } = marks;
        if let Some(states) = states.as_deref().filter(|_| full) {
            let existing: BTreeSet<i64> = {
                let tree = self.projects.lock().await;
                tree.ids().collect()
            };
            let in_scope = |s: &&TaskState| {
                let f = s.fields.clone().unwrap_or_default();
                (listed_projects.contains(&s.vikunja_project_id)
                    || !existing.contains(&s.vikunja_project_id))
                    && only
                        .is_none_or(|p| f.project == p || f.project.starts_with(&format!("{p}.")))
            };
            let expected = states.iter().filter(|s| s.vikunja_id > 0).filter(in_scope);
            let missing: Vec<&TaskState> = expected
                .clone()
                .filter(|s| {
                    !seen.contains(&s.vikunja_id)
                        && s.fields
                            .as_ref()
                            .is_some_and(|f| f.status() != TaskStatus::Deleted)
                })
                .collect();
            let checks = Checks {
                expected: expected.count(),
                listed_at,
                concurrency,
                confirmed: req.confirm_deletions,
            };
            self.confirm_missing(&missing, &checks, &mut report).await;
            let held = match report.held_deletions {
                0 => "",
                _ => report.guard.as_str(),
            };
            // A pass over one project says nothing of deletions held in the others.
            let recorded = match only.is_none() || !held.is_empty() {
                true => self.bus.set_held_deletions(held).await,
                false => Ok(()),
            };
            if let Err(e) = recorded {
                tracing::warn!(error = %e, "cannot record the deletions held back");
            }
        }
        let newest = match oldest_failed {
            Some(failed) => newest.map(|n: i64| n.min(failed)),
            None => newest.map(|n| self.newest_second.watermark(n, listed_at, returned_at)),
        };
        if let Some(w) = newest
            && let Err(e) = self.bus.set_watermark(w).await
        {
            tracing::warn!(error = %e, "cannot record the reconcile watermark");
        }
        let owed = match &states {
            Some(all) => all
                .iter()
                .filter(|s| s.vikunja_dirty)
                .map(|s| s.uuid.clone())
                .collect(),
            None => self.index.owed().unwrap_or_default(),
        };
        report.pushed = self.push_owed(&owed, &mut report).await;
        {
            let parked = self.parked.lock().await;
            let (waiting, because) = parked.summary();
            report.waiting = waiting;
            report.waiting_because = because.unwrap_or_default().to_string();
        }
        report.api_calls = self.api.calls() - calls_before;
        report.took_ms = started.elapsed().as_millis() as u64;
        report.finished_at_us = vsync_model::dates::now_us();
        if let Err(e) = self.bus.set_last_reconcile(&report).await {
            tracing::warn!(error = %e, "cannot record the reconcile report");
        }
        tracing::info!(
            full,
            listed = report.listed,
            api_calls = report.api_calls,
            changed = report.changed.len(),
            created = report.created,
            deleted = report.deleted,
            failed = report.failed.len(),
            "reconcile done"
        );
        Ok(report)
    }

    /// Handles one listed task and counts the outcome in `report`. `in_hand`: every state was
    /// read first (`by_vikunja_id`), else the task's own is read by its link.
    async fn tally_listed(
        &self,
        task: &VikunjaTask,
        by_vikunja_id: &HashMap<i64, &TaskState>,
        in_hand: bool,
        listed_at: i64,
        report: &mut ReconcileReport,
        marks: &mut Marks,
    ) {
        let looked_up = match in_hand {
            true => Ok(None),
            false => self.linked_state(task.id()).await,
        };
        let (handled, known) = match looked_up {
            Ok(found) => {
                let known = found
                    .as_ref()
                    .or_else(|| by_vikunja_id.get(&task.id()).copied());
                let handled = self.reconcile_listed(task, known, listed_at).await;
                (handled, known.is_some())
            }
            Err(e) => (Err(e), false),
        };
        match handled {
            Ok(Some(Applied {
                uuid,
                refused: Some(why),
                ..
            })) => report.failed.push((uuid, why)),
            Ok(Some(applied)) if !known && applied.stored => report.created += 1,
            Ok(Some(applied)) if !applied.changed.is_empty() => {
                report.changed.push((applied.uuid, applied.changed));
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(vikunja_id = task.id(), error = %e, "reconcile of a task failed");
                report
                    .failed
                    .push((format!("Vikunja task #{}", task.id()), e.to_string()));
                if let Some(u) = task.updated_us() {
                    marks.oldest_failed = Some(marks.oldest_failed.map_or(u, |o: i64| o.min(u)));
                }
                return;
            }
        }
        marks.newest = marks.newest.max(task.updated_us());
    }

    /// The canonical state of the task linked to Vikunja task `vikunja_id`, read by its link.
    async fn linked_state(&self, vikunja_id: i64) -> Result<Option<TaskState>, SyncError> {
        let Some(uuid) = self.linked_uuid(vikunja_id).await? else {
            return Ok(None);
        };
        Ok(self
            .bus
            .load_state(&uuid)
            .await?
            .map(|(s, _)| s)
            .filter(|s| s.vikunja_id == vikunja_id))
    }

    /// Brings in one listed task (`known`: its canonical state): `None` when nothing changed.
    pub(crate) async fn reconcile_listed(
        &self,
        task: &VikunjaTask,
        known: Option<&TaskState>,
        listed_at: i64,
    ) -> Result<Option<Applied>, SyncError> {
        if let Some(state) = known {
            if deleted_by_vikunja(state) {
                return self.revive(state, task, listed_at).await;
            }
            if self.unchanged(state, task).await? {
                return Ok(None);
            }
        }
        let event = synthetic_event(task, known.is_none(), listed_at);
        Ok(Some(self.handle(&event).await?))
    }

    /// The synced projects (under `only`, when given), the project tree reloaded on the way.
    async fn synced_projects(&self, only: Option<&str>) -> Result<Vec<Project>, SyncError> {
        let projects = self.api.projects().await?;
        let mut tree = self.projects.lock().await;
        tree.load(projects.clone());
        Ok(projects
            .into_iter()
            .filter(|p| !p.is_archived)
            .filter(|p| {
                let path = tree.path(p.id).unwrap_or_default();
                only.is_none_or(|o| path == o || path.starts_with(&format!("{o}.")))
            })
            .collect())
    }

    /// Every task of every synced project, projects listed in parallel (at most `concurrency`).
    pub(crate) async fn list_projects_tasks(
        &self,
        only: Option<&str>,
        concurrency: usize,
    ) -> Result<(Vec<VikunjaTask>, BTreeSet<i64>), SyncError> {
        let synced = self.synced_projects(only).await?;
        let ids: BTreeSet<i64> = synced.iter().map(|p| p.id).collect();
        let lists: Vec<Vec<VikunjaTask>> = project_listings(self.api.clone(), synced, concurrency)
            .try_collect()
            .await?;
        Ok((lists.into_iter().flatten().collect(), ids))
    }

    /// Tasks updated since the last watermark (`>=`: `updated` has one-second resolution; see
    /// [`crate::watermark`] for when a second is closed).
    async fn delta_listing(&self) -> Result<Vec<VikunjaTask>, SyncError> {
        let watermark = self.bus.watermark().await?;
        let filter = watermark.map(|us| {
            format!(
                "updated >= {}",
                vsync_model::dates::format_vikunja(Some(us / 1_000_000))
            )
        });
        Ok(self.api.list_tasks(filter.as_deref()).await?)
    }

    /// Whether a listed task shows nothing new against the object we hold.
    async fn unchanged(&self, state: &TaskState, listed: &VikunjaTask) -> Result<bool, SyncError> {
        let Ok(stored) = VikunjaTask::from_json(&state.vikunja_json) else {
            // Deleted in canonical state (or never stored): a listed task is news only if it
            // is newer than what we know.
            return Ok(state.vikunja_json.is_empty()
                && state
                    .fields
                    .as_ref()
                    .is_some_and(|f| f.status() == TaskStatus::Deleted));
        };
        if stored.updated_us() != listed.updated_us() || stored.project_id() != listed.project_id()
        {
            return Ok(false);
        }
        let mut tree = self.projects.lock().await;
        let path = tree.path_or_fetch(listed.project_id(), &self.api).await?;
        let a = vikunja::view(&stored, &path, &self.tags, false);
        let b = vikunja::view(listed, &path, &self.tags, false);
        Ok(fields::fingerprint(&a, Side::Vikunja) == fields::fingerprint(&b, Side::Vikunja))
    }

    /// Vikunja writes still owed (failed earlier, or left by a restart); refused ones wait for
    /// a replay. How many went through; the refusals are reported as failures.
    async fn push_owed(&self, owed: &[String], report: &mut ReconcileReport) -> usize {
        let mut done = 0;
        for uuid in owed {
            if self.is_refused(uuid).await {
                continue;
            }
            match self.push(uuid).await {
                Ok(Pushed::Written) => done += 1,
                Ok(Pushed::Parked) => {}
                Ok(Pushed::Refused(why)) => report.failed.push((uuid.clone(), why)),
                Err(e) => report.failed.push((uuid.clone(), e.to_string())),
            }
        }
        done
    }
}

/// How far the watermark may move: the newest task handled, the oldest that failed.
#[derive(Default)]
struct Marks {
    newest: Option<i64>,
    oldest_failed: Option<i64>,
}

/// A listed task, handled as if its webhook had arrived; `listed_at` is when the listing began.
pub(crate) fn synthetic_event(task: &VikunjaTask, new: bool, listed_at: i64) -> TaskEvent {
    let now = listed_at;
    TaskEvent {
        origin: Origin::Reconcile as i32,
        kind: if new {
            EventKind::Created
        } else {
            EventKind::Updated
        } as i32,
        host: String::new(),
        changed_at_us: task.updated_us().unwrap_or(now),
        published_at_us: now,
        change: Some(task_event::Change::Vikunja(VikunjaChange {
            event_name: "task.updated".into(),
            task_id: task.id(),
            project_id: task.project_id(),
            task_json: task.to_json(),
            project_json: String::new(),
            // A listing: the task as the token's owner reads it, its lists loaded.
            doer_id: 0,
        })),
    }
}

/// Each project's tasks, projects listed in parallel (at most `concurrency`), each listing as
/// soon as it is complete.
fn project_listings(
    api: vsync_vikunja::VikunjaClient,
    projects: Vec<Project>,
    concurrency: usize,
) -> impl futures::Stream<Item = Result<Vec<VikunjaTask>, vsync_vikunja::VikunjaError>> + Send {
    futures::stream::iter(projects)
        .map(move |p| {
            let api = api.clone();
            async move { api.project_tasks(p.id).await }
        })
        .buffer_unordered(concurrency.max(1))
}
