//! Writing canonical state to Vikunja: update (only the changed members, through the client's
//! `write_task`: a v2 merge patch, or a fresh read posted back before 2.4), delete, and the
//! label set through label-sync; a task Vikunja does not have yet is created
//! ([`crate::create`]). What Vikunja answers is merged back, so server-side
//! changes (a repeating task reopened with moved dates) reach every host.

use std::time::Duration;

use vsync_bus::Cas;
use vsync_model::{VikunjaTask, vikunja};
use vsync_proto::{LabelWork, TaskState, TaskStatus};

use crate::error::SyncError;
use crate::events::EventHandler;

/// How long label-sync may take to set a task's labels.
const LABEL_WORK_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) enum Written {
    /// Created or updated: what we sent and what Vikunja answered (labels set).
    Task {
        sent: VikunjaTask,
        got: VikunjaTask,
        wrote: bool,
    },
    Deleted,
}

impl EventHandler {
    /// Writes canonical state to Vikunja ([`crate::owed`] decides what a failure means).
    pub(crate) async fn write(&self, state: &TaskState) -> Result<Written, SyncError> {
        let f = state.fields.clone().unwrap_or_default();
        if f.status() == TaskStatus::Deleted {
            if state.vikunja_id > 0 {
                match self.api.delete_task(state.vikunja_id).await {
                    Err(e) if !e.is_not_found() => return Err(e.into()),
                    _ => {}
                }
            }
            return Ok(Written::Deleted);
        }
        let project_id = self
            .projects
            .lock()
            .await
            .resolve(&f.project, &self.api)
            .await?;
        let stored = VikunjaTask::from_json(&state.vikunja_json).ok();
        let (sent, mut got, wrote) = match (&stored, state.vikunja_id) {
            (_, 0) => {
                let (sent, got) = self.create(state, &f, project_id).await?;
                (sent, got, true)
            }
            (Some(s), _) => {
                let changes = vikunja::changes(Some(s), &f, project_id, &self.tags);
                if changes.is_empty() {
                    (s.clone(), s.clone(), false)
                } else {
                    self.update(s, changes).await?
                }
            }
            (None, id) => {
                // We lost the object (should not happen): read it, then update it.
                let s = self.api.get_task(id).await?;
                let changes = vikunja::changes(Some(&s), &f, project_id, &self.tags);
                self.update(&s, changes).await?
            }
        };
        // The labels Vikunja has: those of the object the write started from (the update
        // response only echoes what we sent; a created task has none, Vikunja ignores them).
        let known = sent.labels();
        got.set_labels(&known);
        // Compared as titles the task should carry: a label the tag map folds ("Errand" for
        // `errand` with `lowercase`) is the same label, and Vikunja-only labels stay.
        let want = self.tags.titles_for(&f.tags, &known);
        let have: Vec<String> = known.iter().map(|(_, t)| t.clone()).collect();
        if want != sorted(&have) {
            let work = LabelWork {
                uuid: state.uuid.clone(),
                vikunja_task_id: got.id(),
                titles: want.clone(),
                current_label_ids: known.iter().map(|(id, _)| *id).collect(),
            };
            let res = self
                .bus
                .apply_labels(&work, LABEL_WORK_TIMEOUT)
                .await
                .map_err(|e| SyncError::Labels(e.to_string()))?;
            if !wrote {
                let labels: Vec<(i64, String)> = res.label_ids.into_iter().zip(want).collect();
                got.set_labels(&labels);
            }
            // Otherwise the task itself was written (or created) first, and the webhook of that
            // write may show the labels from before label-sync's change: `got`, remembered as
            // the write's echo, keeps them so that webhook is known as ours (taking it for a
            // label change in Vikunja would take the new tags back off every host). The label
            // change's own webhook brings the new set; should none come (an empty bulk set
            // fires none), the next push finds the labels still differ and sets them again.
        }
        Ok(Written::Task { sent, got, wrote })
    }

    /// Sends only `changes` (a merge patch, or a fresh read posted back before Vikunja 2.4), so
    /// nothing we did not change is replaced. Returns what we meant Vikunja to hold (`stored`
    /// with the changes: Vikunja's answer differing from it is a Vikunja change, merged), what
    /// it answered, and that it wrote. Both carry the labels Vikunja had as the write began.
    async fn update(
        &self,
        stored: &VikunjaTask,
        changes: serde_json::Map<String, serde_json::Value>,
    ) -> Result<(VikunjaTask, VikunjaTask, bool), SyncError> {
        let w = self
            .api
            .write_task(stored.id(), &changes, Some(stored))
            .await?;
        tracing::debug!(task_id = stored.id(), path = ?w.path, changed = ?changes.keys().collect::<Vec<_>>(), "Vikunja task written");
        let mut sent = stored.clone();
        sent.0.extend(changes);
        if let Some(read) = &w.read {
            sent.set_labels(&read.labels());
        }
        Ok((sent, w.task, true))
    }

    /// Stores what the write did, merging Vikunja's answer as a Vikunja change.
    pub(crate) async fn record(&self, uuid: &str, w: Written) -> Result<(), SyncError> {
        loop {
            let (mut state, rev) = self.load(uuid).await?;
            state.vikunja_dirty = false;
            match &w {
                Written::Deleted => state.vikunja_json.clear(),
                Written::Task { sent, got, wrote } => {
                    let path = self
                        .projects
                        .lock()
                        .await
                        .path_or_fetch(got.project_id(), &self.api)
                        .await?;
                    let sent_view = vikunja::view(sent, &path, &self.tags, false);
                    let got_view = vikunja::view(got, &path, &self.tags, false);
                    let merged = self.merge_vikunja(
                        &mut state,
                        Some(&sent_view),
                        &got_view,
                        got.updated_us().unwrap_or_else(vsync_model::dates::now_us),
                    );
                    if merged.is_change() {
                        tracing::info!(uuid, changed = ?merged.changed, "Vikunja changed the task on write");
                    }
                    if *wrote {
                        Self::remember_echo(&mut state, &got_view);
                    }
                    state.vikunja_id = got.id();
                    state.vikunja_project_id = got.project_id();
                    state.vikunja_json = got.to_json();
                }
            }
            state.merged_at_us = vsync_model::dates::now_us();
            if let Cas::Written(_) = self.bus.store_state(&state, rev).await? {
                return Ok(());
            }
        }
    }
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}
