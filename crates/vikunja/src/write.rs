//! Updating a task without reverting what we did not mean to change (reference §3.4, §8).
//! v1's `POST /tasks/{id}` replaces the whole task, so posting the last object we saw would
//! undo every Vikunja edit we have not heard of yet (a dropped webhook). Instead:
//!
//! - Vikunja >= 2.4.0 (from `/info`, kept, read again after a failed write): one
//!   `PATCH /api/v2/tasks/{id}` with only the changed members; the server keeps the rest.
//! - older servers: `GET` the task, set the changed members on that fresh object, `POST` it.
//!
//! Either way at most two calls, and what we send never carries a `cover_image_attachment_id`
//! that is not among the task's attachments (a deleted cover image keeps its id and every full
//! update then answers 400, code 4020; a PATCH is a full update inside the server), nor an
//! `is_favorite` that was not read as the token's owner (we never send one: the PATCH leaves it
//! to the server, the POST sends the owner's from the fresh read). Neither path detects a
//! conflicting edit of the same field (v1 has no If-Match; v2 does not check it).

use serde_json::{Map, Value, json};
use vsync_model::VikunjaTask;

use crate::VikunjaClient;
use crate::error::VikunjaError;

/// Vikunja's answer to a full update carrying a cover image id the task has no attachment of.
const STALE_COVER: i64 = 4020;
/// Vikunja's "this task does not exist".
const TASK_MISSING: i64 = 4002;

/// How a task update went to Vikunja.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WritePath {
    /// `PATCH /api/v2/tasks/{id}`, only the changed members.
    MergePatch,
    /// `GET` then `POST /api/v1/tasks/{id}` of the fresh object with our changes.
    ReadThenReplace,
}

/// A written task update.
#[derive(Clone, Debug)]
pub struct TaskWritten {
    /// The task after the write, as Vikunja answered (its labels are not reliable: the v1
    /// answer echoes what was sent).
    pub task: VikunjaTask,
    /// The task as read during the write, when it was read (its labels are current).
    pub read: Option<VikunjaTask>,
    pub path: WritePath,
}

impl VikunjaClient {
    /// Sets `changes` (Vikunja task members: `title`, `done`, `due_date`, `project_id`, ...)
    /// on task `id` and keeps everything else as Vikunja has it now. `known`: the last object
    /// we saw of it, if any (tells a patch that its cover image is gone).
    pub async fn write_task(
        &self,
        id: i64,
        changes: &Map<String, Value>,
        known: Option<&VikunjaTask>,
    ) -> Result<TaskWritten, VikunjaError> {
        match self.write_task_once(id, changes, known).await {
            Ok(w) => Ok(w),
            Err(e) if no_such_route(&e) => {
                // Answered as a server without /api/v2 would: read its version again.
                tracing::warn!(error = %e, "Vikunja has no v2 task route; reading its version again");
                self.forget_server_info();
                self.write_task_once(id, changes, known).await
            }
            Err(e) => {
                self.forget_server_info();
                Err(e)
            }
        }
    }

    async fn write_task_once(
        &self,
        id: i64,
        changes: &Map<String, Value>,
        known: Option<&VikunjaTask>,
    ) -> Result<TaskWritten, VikunjaError> {
        if self.server_info().await?.has_merge_patch() {
            self.patch_changes(id, changes, known).await
        } else {
            self.read_then_replace(id, changes).await
        }
    }

    async fn patch_changes(
        &self,
        id: i64,
        changes: &Map<String, Value>,
        known: Option<&VikunjaTask>,
    ) -> Result<TaskWritten, VikunjaError> {
        let written = |task, read| TaskWritten {
            task,
            read,
            path: WritePath::MergePatch,
        };
        match self.patch_task(id, &patch_for(changes, known)).await {
            Ok(Some(task)) => Ok(written(task, None)),
            // Nothing to change: Vikunja already has it; read what it has.
            Ok(None) => {
                let task = self.get_task(id).await?;
                Ok(written(task.clone(), Some(task)))
            }
            // The cover image was deleted since we saw the task: read it, patch again.
            Err(e) if e.code() == Some(STALE_COVER) => {
                let fresh = self.get_task(id).await?;
                let task = self
                    .patch_task(id, &patch_for(changes, Some(&fresh)))
                    .await?
                    .unwrap_or_else(|| fresh.clone());
                Ok(written(task, Some(fresh)))
            }
            Err(e) => Err(e),
        }
    }

    async fn read_then_replace(
        &self,
        id: i64,
        changes: &Map<String, Value>,
    ) -> Result<TaskWritten, VikunjaError> {
        let fresh = self.get_task(id).await?;
        let mut body = fresh.clone();
        for (k, v) in changes {
            body.0.insert(k.clone(), v.clone());
        }
        if stale_cover(&body) {
            body.0.insert("cover_image_attachment_id".into(), json!(0));
        }
        let task = self.update_task(&body).await?;
        Ok(TaskWritten {
            task,
            read: Some(fresh),
            path: WritePath::ReadThenReplace,
        })
    }
}

/// The merge patch: the changes, and a cover reset when the known cover image is gone.
fn patch_for(changes: &Map<String, Value>, known: Option<&VikunjaTask>) -> Map<String, Value> {
    let mut patch = changes.clone();
    if known.is_some_and(stale_cover) {
        patch.insert("cover_image_attachment_id".into(), json!(0));
    }
    patch
}

/// The task names a cover image that is not among its attachments.
pub fn stale_cover(task: &VikunjaTask) -> bool {
    let cover = task
        .0
        .get("cover_image_attachment_id")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if cover == 0 {
        return false;
    }
    let attached = task
        .0
        .get("attachments")
        .and_then(Value::as_array)
        .is_some_and(|a| {
            a.iter()
                .any(|x| x.get("id").and_then(Value::as_i64) == Some(cover))
        });
    !attached
}

/// A 404 that is not "this task does not exist", or a 405: the route itself is missing.
fn no_such_route(e: &VikunjaError) -> bool {
    match e.status() {
        Some(405) => true,
        Some(404) => e.code() != Some(TASK_MISSING),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(v: Value) -> VikunjaTask {
        VikunjaTask::from_value(v).expect("object")
    }

    #[test]
    fn a_cover_is_stale_when_no_attachment_has_its_id() {
        assert!(!stale_cover(&task(json!({"cover_image_attachment_id": 0}))));
        assert!(!stale_cover(&task(json!({
            "cover_image_attachment_id": 3, "attachments": [{"id": 3}]
        }))));
        assert!(stale_cover(&task(json!({
            "cover_image_attachment_id": 3, "attachments": [{"id": 4}]
        }))));
        assert!(stale_cover(&task(json!({
            "cover_image_attachment_id": 3, "attachments": null
        }))));
    }

    #[test]
    fn a_patch_carries_only_the_changes_and_a_stale_covers_reset() {
        let changes: Map<String, Value> =
            [("title".to_string(), json!("new"))].into_iter().collect();
        let fine = task(json!({"id": 1, "title": "old", "cover_image_attachment_id": 0}));
        assert_eq!(
            Value::Object(patch_for(&changes, Some(&fine))),
            json!({"title": "new"})
        );
        let stale = task(json!({"id": 1, "cover_image_attachment_id": 9, "attachments": null}));
        assert_eq!(
            Value::Object(patch_for(&changes, Some(&stale))),
            json!({"title": "new", "cover_image_attachment_id": 0})
        );
    }
}
