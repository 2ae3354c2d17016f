//! Handling one event: map it to the side's view, merge it into canonical state with
//! compare-and-set, then bring Vikunja up to date when canonical state differs from it.
//!
//! [`EventHandler`] holds what every flow of the reconciler shares (the bus, the Vikunja client,
//! the project tree, the tag map): reconcile passes and adoption feed their findings through it
//! too, as events ([`crate::reconcile`], [`crate::adopt`]), and its writes to Vikunja are in
//! [`crate::push`].

use std::collections::BTreeSet;

use tokio::sync::Mutex;
use vsync_bus::{Bus, Cas};
use vsync_model::{Change, Side, TagMap, TwTask, VikunjaTask, fields, limits, merge, tw, vikunja};
use vsync_proto::{
    EventKind, Origin, TaskEvent, TaskState, TaskStatus, TaskwarriorChange, VikunjaChange,
};
use vsync_vikunja::VikunjaClient;

use crate::error::SyncError;
use crate::held_back::Gate;
use crate::projects::ProjectTree;
use crate::pushed::Pushed;

/// Merges events from both sides into canonical state and keeps Vikunja in step with it.
pub struct EventHandler {
    pub(crate) bus: Bus,
    pub(crate) api: VikunjaClient,
    pub(crate) projects: Mutex<ProjectTree>,
    pub(crate) tags: TagMap,
    /// Vikunja writes that wait for Vikunja (or label-sync) to answer.
    pub(crate) parked: Mutex<crate::parked::Parked>,
    /// Tasks whose Vikunja write was refused for good (dead-lettered once).
    pub(crate) refused: Mutex<BTreeSet<String>>,
    /// Who this reconciler is in create claims: its host and name.
    pub(crate) holder: String,
    /// Tasks this process is creating in Vikunja right now.
    pub(crate) creating_here: crate::creating::CreatingHere,
    /// Correlations seen by this process (Vikunja id -> uuid; links never change once made).
    pub(crate) known_links: Mutex<std::collections::HashMap<i64, String>>,
    /// The newest second a listing returned, for the delta watermark ([`crate::watermark`]).
    pub(crate) newest_second: crate::watermark::NewestSecond,
    /// One event per task at a time ([`crate::one_at_a_time`]).
    pub(crate) turns: crate::one_at_a_time::OneAtATime,
    /// Canonical state at a glance, following the bucket ([`crate::index`]).
    pub(crate) index: crate::index::StateIndex,
    /// Adoption settings; one adoption at a time in this process.
    pub(crate) adopt_settings: crate::adopt::AdoptSettings,
    pub(crate) adopting: Mutex<()>,
    pub(crate) metrics: vsync_telemetry::metrics::Metrics,
}

/// What an event did to one task.
#[derive(Debug, Default)]
pub struct Applied {
    pub uuid: String,
    pub changed: Vec<String>,
    pub stored: bool,
    /// Why Vikunja refused the write the change called for (a dead letter).
    pub refused: Option<String>,
}

impl EventHandler {
    pub async fn handle(&self, ev: &TaskEvent) -> Result<Applied, SyncError> {
        use vsync_proto::task_event::Change as C;
        let _turn = match self.task_of(ev).await? {
            Some(key) => Some(self.turns.turn(&key).await),
            None => None,
        };
        match &ev.change {
            Some(C::Vikunja(ch)) if ch.event_name.starts_with("project.") => {
                self.on_vikunja_project(ev, ch).await
            }
            Some(C::Vikunja(ch)) => self.on_vikunja_task(ev, ch).await,
            Some(C::Taskwarrior(ch)) => self.on_taskwarrior(ev, ch).await,
            None => Err(SyncError::Invalid("event without a change".into())),
        }
    }

    /// The task an event is about: its uuid when known (a Vikunja task's through its link),
    /// else its Vikunja id; `None` for a project's event.
    async fn task_of(&self, ev: &TaskEvent) -> Result<Option<String>, SyncError> {
        use vsync_proto::task_event::Change as C;
        Ok(match &ev.change {
            Some(C::Vikunja(ch)) if ch.event_name.starts_with("project.") => None,
            Some(C::Vikunja(ch)) => Some(
                self.linked_uuid(ch.task_id)
                    .await?
                    .unwrap_or_else(|| format!("vikunja#{}", ch.task_id)),
            ),
            Some(C::Taskwarrior(ch)) => Some(ch.uuid.clone()),
            None => None,
        })
    }

    async fn on_vikunja_task(
        &self,
        ev: &TaskEvent,
        ch: &VikunjaChange,
    ) -> Result<Applied, SyncError> {
        let task = VikunjaTask::from_json(&ch.task_json)
            .map_err(|e| SyncError::Invalid(format!("data.task: {e}")))?;
        // too large for canonical state and the hosts: refused, with the field and its size
        limits::check_text("the title", task.title())
            .and_then(|()| limits::check_text("the description", task.description()))
            .and_then(|()| limits::check_task_len("the task", ch.task_json.len()))
            .map_err(|e| SyncError::Invalid(format!("Vikunja task {}: {e}", task.id())))?;
        let deleted = ev.kind() == EventKind::Deleted;
        match self.vikunja_task_gate(&task).await? {
            Gate::Sync => {}
            // A webhook while adoption is about to run by itself: it waits for adoption, which
            // may have listed Vikunja before this task existed.
            Gate::BeforeAdoption if ev.origin() == Origin::Vikunja && self.adopt_settings.auto => {
                return Err(SyncError::AdoptionPending);
            }
            // Adoption's own listing will find it (or it is held, or out of scope).
            Gate::BeforeAdoption | Gate::Skip => return Ok(Applied::default()),
        }
        let Some(linked) = self.uuid_for(&task, !deleted).await? else {
            return Ok(Applied::default()); // deleted before we ever saw it
        };
        let (uuid, mut fresh) = (linked.uuid, linked.fresh);
        let path = self.project_path(task.project_id()).await?;
        loop {
            // A task first seen just now has no state yet (the store below is create-only then).
            let (mut state, rev) = if std::mem::take(&mut fresh) {
                (
                    TaskState {
                        uuid: uuid.clone(),
                        ..Default::default()
                    },
                    None,
                )
            } else {
                self.load(&uuid).await?
            };
            let stored = VikunjaTask::from_json(&state.vikunja_json).ok();
            let task = self.known_lists(&task, ch, stored.as_ref()).await?;
            let task_json = task.to_json();
            let new = vikunja::view(&task, &path, &self.tags, deleted);
            let fp = fields::fingerprint(&new, Side::Vikunja);
            if let Some(s) = stored.as_ref().filter(|_| !deleted) {
                let older = task.updated_us() < s.updated_us();
                let same_second = task.updated_us() == s.updated_us();
                // A late re-read of one of our own writes while we hold a newer object, or a
                // listing taken before canonical state last changed (`updated` has one-second
                // resolution, so neither is visible in it).
                let echo = state.echo_views.contains(&fp);
                let stale_listing =
                    ev.origin() == Origin::Reconcile && state.merged_at_us > ev.published_at_us;
                // A webhook overtaken by a later one of the same second (they arrive in any
                // order; their fan-out times, which `changed_at_us` carries, do not lie).
                let overtaken = ev.origin() == Origin::Vikunja
                    && state
                        .stamps
                        .values()
                        .filter(|s| s.origin == Origin::Vikunja as i32)
                        .any(|s| s.at_us > ev.changed_at_us);
                if older || (same_second && (echo || stale_listing || overtaken)) {
                    return Ok(Applied {
                        uuid,
                        ..Default::default()
                    });
                }
            }
            let base = match &stored {
                Some(s) => Some(vikunja::view(
                    s,
                    &self.project_path(s.project_id()).await?,
                    &self.tags,
                    false,
                )),
                None => None,
            };
            let merged = self.merge_vikunja(&mut state, base.as_ref(), &new, ev.changed_at_us);
            let json_changed = !deleted && state.vikunja_json != task_json;
            if !merged.is_change() && !json_changed && rev.is_some() {
                return Ok(Applied {
                    uuid,
                    ..Default::default()
                });
            }
            if !deleted {
                state.vikunja_json = task_json;
            }
            state.vikunja_id = task.id();
            state.vikunja_project_id = task.project_id();
            state.vikunja_dirty = !deleted && self.vikunja_differs(&state, &path);
            state.merged_at_us = vsync_model::dates::now_us();
            if let Cas::Written(_) = self.bus.store_state(&state, rev).await? {
                self.log_conflicts(&merged.conflicts).await;
                if linked.claimed {
                    // Stored with its Vikunja id: no writer creates it again.
                    self.bus.release_create(&uuid).await?;
                }
                let pushed = match state.vikunja_dirty {
                    true => Some(self.push(&uuid).await?),
                    false => None,
                };
                return Ok(Applied {
                    uuid,
                    changed: merged.changed,
                    stored: true,
                    refused: pushed.and_then(Pushed::refusal),
                });
            }
        }
    }

    /// The webhook's task with its `null` lists read as unknown, not empty, when the change
    /// was made through a link share (negative doer: Vikunja sends the bare row, not re-read;
    /// reference §8): taken from the last object we saw; when that had labels, Vikunja's
    /// current ones are read, since `null` may also mean the last was removed. A user's change
    /// is re-read with its lists loaded: `null` there is empty.
    async fn known_lists(
        &self,
        task: &VikunjaTask,
        ch: &VikunjaChange,
        stored: Option<&VikunjaTask>,
    ) -> Result<VikunjaTask, SyncError> {
        let mut task = task.clone();
        let link_share = ch.doer_id < 0 && !ch.event_name.ends_with(".deleted");
        if !link_share || !vikunja::fill_unknown_lists(&mut task, stored) {
            return Ok(task);
        }
        match self.api.get_task(task.id()).await {
            Ok(now) => task.set_labels(&now.labels()),
            // Gone since: its deletion's own event follows; the labels we knew stand.
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(e.into()),
        }
        Ok(task)
    }

    async fn on_taskwarrior(
        &self,
        ev: &TaskEvent,
        ch: &TaskwarriorChange,
    ) -> Result<Applied, SyncError> {
        let parse = |s: &str, what: &str| {
            (!s.is_empty())
                .then(|| TwTask::from_json(s))
                .transpose()
                .map_err(|e| SyncError::Invalid(format!("{what}: {e}")))
        };
        let new_task = parse(&ch.task_json, "task_json")?;
        let prev_task = parse(&ch.previous_json, "previous_json")?;
        if new_task
            .as_ref()
            .or(prev_task.as_ref())
            .is_some_and(TwTask::is_template)
        {
            return Ok(Applied::default()); // recurrence templates stay on their host
        }
        let base = prev_task.as_ref().map(tw::view);
        let new = match (&new_task, &base) {
            (Some(t), _) => tw::view(t),
            // Gone from the host (undo of an add): deleted.
            (None, Some(b)) => {
                let mut f = b.clone();
                f.set_status(TaskStatus::Deleted);
                f
            }
            (None, None) => return Err(SyncError::Invalid("a change with no task".into())),
        };
        limits::check(&new).map_err(|e| {
            SyncError::Invalid(format!("task {} from host {}: {e}", ch.uuid, ev.host))
        })?;
        loop {
            let (mut state, rev) = self.load(&ch.uuid).await?;
            if rev.is_none() && new.status() == TaskStatus::Deleted {
                return Ok(Applied::default()); // born and deleted before we saw it
            }
            let merged = merge(
                &mut state,
                &Change {
                    origin: Origin::Taskwarrior,
                    host: &ev.host,
                    at_us: ev.changed_at_us,
                    base: base.as_ref(),
                    new: &new,
                },
            );
            if !merged.is_change() {
                // A change that lost everywhere still leaves a trace in the conflict log.
                self.log_conflicts(&merged.conflicts).await;
                return Ok(Applied {
                    uuid: ch.uuid.clone(),
                    ..Default::default()
                });
            }
            // Vikunja down (e.g. since the reconciler started, so project paths are unknown):
            // the write is owed and waits for it, while the other hosts get the change now.
            let shown_path = match VikunjaTask::from_json(&state.vikunja_json) {
                Ok(t) => match self.project_path(t.project_id()).await {
                    Ok(path) => Some(path),
                    Err(e) if e.waits() => None,
                    Err(e) => return Err(e),
                },
                Err(_) => Some(String::new()),
            };
            state.vikunja_dirty = shown_path
                .as_deref()
                .is_none_or(|path| self.vikunja_differs(&state, path));
            state.merged_at_us = vsync_model::dates::now_us();
            if let Cas::Written(_) = self.bus.store_state(&state, rev).await? {
                self.log_conflicts(&merged.conflicts).await;
                let pushed = match state.vikunja_dirty {
                    true => Some(self.push(&ch.uuid).await?),
                    false => None,
                };
                if pushed == Some(Pushed::Written) {
                    self.metrics.observe_since(
                        "vsync_e2e_latency_seconds",
                        &[("direction", "tw_to_vikunja")],
                        ev.changed_at_us,
                    );
                }
                return Ok(Applied {
                    uuid: ch.uuid.clone(),
                    changed: merged.changed,
                    stored: true,
                    refused: pushed.and_then(Pushed::refusal),
                });
            }
        }
    }

    /// A project renamed, moved or deleted in Vikunja changes the project of all its tasks.
    async fn on_vikunja_project(
        &self,
        ev: &TaskEvent,
        ch: &VikunjaChange,
    ) -> Result<Applied, SyncError> {
        let deleted = ev.kind() == EventKind::Deleted;
        let (affected, paths) = {
            let mut tree = self.projects.lock().await;
            let ids = tree.subtree(ch.project_id);
            if deleted {
                for id in &ids {
                    tree.remove(*id);
                }
            } else {
                let project: vsync_vikunja::Project = serde_json::from_str(&ch.project_json)
                    .map_err(|e| SyncError::Invalid(format!("data.project: {e}")))?;
                if project.id == ch.project_id && !project.title.is_empty() {
                    tree.insert(project);
                }
            }
            let paths: Vec<(i64, Option<String>)> =
                ids.iter().map(|id| (*id, tree.path(*id))).collect();
            (ids, paths)
        };
        let mut out = Applied::default();
        for uuid in self.tasks_in_projects(&affected).await? {
            loop {
                let (mut state, rev) = self.load(&uuid).await?;
                let current = state.fields.clone().unwrap_or_default();
                let mut new = current.clone();
                if deleted {
                    new.set_status(TaskStatus::Deleted);
                } else if let Some((_, Some(p))) =
                    paths.iter().find(|(id, _)| *id == state.vikunja_project_id)
                {
                    new.project = p.clone();
                }
                let merged = merge(
                    &mut state,
                    &Change {
                        origin: Origin::Vikunja,
                        host: "",
                        at_us: ev.changed_at_us,
                        base: Some(&current),
                        new: &new,
                    },
                );
                if !merged.is_change() {
                    break;
                }
                state.merged_at_us = vsync_model::dates::now_us();
                if let Cas::Written(_) = self.bus.store_state(&state, rev).await? {
                    out.changed.extend(merged.changed);
                    out.stored = true;
                    break;
                }
            }
        }
        Ok(out)
    }
}
