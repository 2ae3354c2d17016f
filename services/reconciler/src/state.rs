//! What the event handler knows of a task: its canonical state, its link to Vikunja, its
//! project's path, and whether Vikunja (as last seen) shows something else.

use std::collections::BTreeSet;

use vsync_model::{Change, Merged, Side, VikunjaTask, fields, merge, vikunja};
use vsync_proto::{Origin, TaskFields, TaskState, TaskStatus};

use crate::error::SyncError;
use crate::events::EventHandler;

/// Our own last writes remembered per task, to recognise their echoes.
const ECHOES: usize = 4;

/// The canonical uuid of a Vikunja task, and how it was found.
pub(crate) struct Linked {
    pub uuid: String,
    /// Made just now: no canonical state can exist yet.
    pub fresh: bool,
    /// The task a create of ours made (its claim can go once the task is stored).
    pub claimed: bool,
}

impl Linked {
    fn known(uuid: String) -> Linked {
        Linked {
            uuid,
            fresh: false,
            claimed: false,
        }
    }
}

impl EventHandler {
    pub(crate) async fn load(&self, uuid: &str) -> Result<(TaskState, Option<u64>), SyncError> {
        Ok(match self.bus.load_state(uuid).await? {
            Some((s, rev)) => (s, Some(rev)),
            None => (
                TaskState {
                    uuid: uuid.to_string(),
                    ..Default::default()
                },
                None,
            ),
        })
    }

    /// The canonical uuid of a Vikunja task; at first sight (when `create`), the task a create
    /// of ours made whose answer we have not seen yet (`claimed`: see
    /// [`Self::claimed_by`]), else a new uuid (`fresh`: no canonical state can exist yet). A
    /// link never changes once made, so known ones are kept in memory: the hot path saves a KV
    /// round trip.
    pub(crate) async fn uuid_for(
        &self,
        task: &VikunjaTask,
        create: bool,
    ) -> Result<Option<Linked>, SyncError> {
        let vikunja_id = task.id();
        if let Some(u) = self.known_links.lock().await.get(&vikunja_id) {
            return Ok(Some(Linked::known(u.clone())));
        }
        let claimed = match create {
            true => self.claimed_by(task).await?,
            false => None,
        };
        // A webhook for a task we have not linked is usually a new task: try to link first
        // (one round trip); if someone linked it already, read theirs.
        let found = if let Some(uuid) = claimed {
            Some(Linked {
                uuid,
                fresh: false,
                claimed: true,
            })
        } else {
            let fresh = create.then(|| uuid::Uuid::new_v4().to_string());
            match fresh {
                Some(uuid) if self.bus.link_if_new(vikunja_id, &uuid).await? => Some(Linked {
                    uuid,
                    fresh: true,
                    claimed: false,
                }),
                _ => self.bus.linked_uuid(vikunja_id).await?.map(Linked::known),
            }
        };
        if let Some(l) = &found {
            self.remember_link(vikunja_id, &l.uuid).await;
        }
        Ok(found)
    }

    /// The uuid linked to Vikunja task `vikunja_id`: from this process's memory, else from the
    /// bus (not remembered: [`Self::uuid_for`] decides how a link found is taken).
    pub(crate) async fn linked_uuid(&self, vikunja_id: i64) -> Result<Option<String>, SyncError> {
        let known = self.known_links.lock().await.get(&vikunja_id).cloned();
        Ok(match known {
            Some(uuid) => Some(uuid),
            None => self.bus.linked_uuid(vikunja_id).await?,
        })
    }

    /// Remembers a link this process made (see [`Self::uuid_for`]).
    pub(crate) async fn remember_link(&self, vikunja_id: i64, uuid: &str) {
        self.known_links
            .lock()
            .await
            .insert(vikunja_id, uuid.to_string());
    }

    pub(crate) async fn project_path(&self, project_id: i64) -> Result<String, SyncError> {
        Ok(self
            .projects
            .lock()
            .await
            .path_or_fetch(project_id, &self.api)
            .await?)
    }

    /// Tasks (by uuid) whose Vikunja project is one of `ids`.
    pub(crate) async fn tasks_in_projects(&self, ids: &[i64]) -> Result<Vec<String>, SyncError> {
        if let Some(uuids) = self.index.in_projects(ids) {
            return Ok(uuids);
        }
        let mut out = Vec::new();
        for uuid in self.bus.state_uuids().await? {
            if let Some((s, _)) = self.bus.load_state(&uuid).await?
                && ids.contains(&s.vikunja_project_id)
                && s.vikunja_id > 0
            {
                out.push(uuid);
            }
        }
        Ok(out)
    }

    /// Merges Vikunja's view of a task (`base` before the change, `new` after) into `state`.
    /// Tags that are never synced are kept from canonical state first: Vikunja cannot see them,
    /// so it cannot have removed them.
    pub(crate) fn merge_vikunja(
        &self,
        state: &mut TaskState,
        base: Option<&TaskFields>,
        new: &TaskFields,
        at_us: i64,
    ) -> Merged {
        let canonical_tags = state
            .fields
            .as_ref()
            .map(|f| f.tags.clone())
            .unwrap_or_default();
        let keep_unsynced = |view: &TaskFields| TaskFields {
            tags: self.tags.with_unsynced(&view.tags, &canonical_tags),
            ..view.clone()
        };
        let base = base.map(keep_unsynced);
        let new = keep_unsynced(new);
        merge(
            state,
            &Change {
                origin: Origin::Vikunja,
                host: "",
                at_us,
                base: base.as_ref(),
                new: &new,
            },
        )
    }

    /// Whether Vikunja, as last seen (its task in the project at `current_path`), shows something
    /// other than canonical state.
    pub(crate) fn vikunja_differs(&self, state: &TaskState, current_path: &str) -> bool {
        let fields = state.fields.clone().unwrap_or_default();
        if fields.status() == TaskStatus::Deleted {
            // Deleted here but not (yet) in Vikunja.
            let by_vikunja = state
                .stamps
                .get(fields::STATUS)
                .is_some_and(|s| s.origin == Origin::Vikunja as i32);
            return state.vikunja_id > 0 && !state.vikunja_json.is_empty() && !by_vikunja;
        }
        let Ok(stored) = VikunjaTask::from_json(&state.vikunja_json) else {
            // Not in Vikunja yet: created there only in a project the sync covers
            // (`vikunja.projects`); the hosts share the others among themselves.
            return self.adopt_settings.scope.contains(&fields.project);
        };
        let mut shown = vikunja::view(&stored, current_path, &self.tags, false);
        shown.tags = self.tags.with_unsynced(&shown.tags, &fields.tags);
        vsync_model::fields::SHARED.iter().any(|f| {
            *f != fields::PROJECT
                && fields::get(&fields, f, Side::Vikunja) != fields::get(&shown, f, Side::Vikunja)
        }) || fields.project != current_path
            || self.labels_differ(&fields, &stored)
    }

    fn labels_differ(&self, fields: &TaskFields, stored: &VikunjaTask) -> bool {
        let current = stored.labels();
        let want: BTreeSet<String> = self
            .tags
            .titles_for(&fields.tags, &current)
            .into_iter()
            .collect();
        let have: BTreeSet<String> = current.into_iter().map(|(_, t)| t).collect();
        want != have
    }

    pub(crate) async fn log_conflicts(&self, conflicts: &[vsync_proto::Conflict]) {
        for c in conflicts {
            tracing::info!(uuid = %c.uuid, field = %c.field, "conflict: later change kept");
            if let Err(e) = self.bus.record_conflict(c).await {
                tracing::warn!(error = %e, "cannot record conflict");
            }
        }
    }

    /// Remembers a write's Vikunja view so its webhook echo is recognised.
    pub(crate) fn remember_echo(state: &mut TaskState, view: &TaskFields) {
        let fp = fields::fingerprint(view, Side::Vikunja);
        state.echo_views.retain(|e| *e != fp);
        state.echo_views.push(fp);
        let excess = state.echo_views.len().saturating_sub(ECHOES);
        state.echo_views.drain(..excess);
    }
}
