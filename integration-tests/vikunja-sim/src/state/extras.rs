//! What hangs off a task besides labels and assignees: the per-user favourite flag,
//! comments and attachments. Comments and attachments bump the task's `updated` (Vikunja's
//! `HandleTaskUpdateLastUpdated` listener) but fire no `task.updated`.

use serde_json::Value;

use super::{Actor, State};
use crate::error::SimError;
use crate::model::{AttachedFile, Attachment, Comment, now_s};

impl State {
    /// The actor's favourite flag on the task; a link share has none.
    pub(crate) fn set_favorite(&mut self, task_id: i64, on: bool) {
        if let Actor::User(user) = self.actor {
            if on {
                self.favorites.insert((user, task_id));
            } else {
                self.favorites.remove(&(user, task_id));
            }
        }
    }

    fn bump_updated(&mut self, task_id: i64) {
        if let Some(t) = self.tasks.get_mut(&task_id) {
            t.updated = now_s();
        }
    }

    /// `PUT /tasks/{id}/comments`: fires `task.comment.created` only.
    pub fn add_comment(&mut self, task_id: i64, text: &str) -> Result<Comment, SimError> {
        self.writable_task(task_id)?;
        let now = now_s();
        let comment = Comment {
            id: self.next_file_id(),
            comment: text.to_owned(),
            author: Some(self.actor_user(self.actor)),
            reactions: None,
            created: now,
            updated: now,
        };
        self.comments.insert(comment.id, (task_id, comment.clone()));
        self.bump_updated(task_id);
        let json = serde_json::to_value(&comment).unwrap_or(Value::Null);
        self.emit_task_with(
            "task.comment.created",
            task_id,
            None,
            Some(("comment", json)),
        );
        Ok(comment)
    }

    /// `GET /tasks/{id}/comments`, oldest first.
    pub fn task_comments(&self, task_id: i64) -> Result<Vec<Comment>, SimError> {
        self.task_row(task_id)?;
        Ok(self
            .comments
            .values()
            .filter(|(t, _)| *t == task_id)
            .map(|(_, c)| c.clone())
            .collect())
    }

    /// An upload (`PUT /tasks/{id}/attachments`): fires `task.attachment.created`.
    pub fn add_attachment(&mut self, task_id: i64, name: &str) -> Result<Attachment, SimError> {
        self.writable_task(task_id)?;
        let now = now_s();
        let id = self.next_file_id();
        let attachment = Attachment {
            id,
            task_id,
            created_by: Some(self.actor_user(self.actor)),
            file: AttachedFile {
                id,
                name: name.to_owned(),
                mime: "application/octet-stream".into(),
                size: 0,
                created: now,
            },
            created: now,
        };
        if let Some(t) = self.tasks.get_mut(&task_id) {
            t.attachments.push(attachment.clone());
        }
        self.bump_updated(task_id);
        let json = serde_json::to_value(&attachment).unwrap_or(Value::Null);
        self.emit_task_with(
            "task.attachment.created",
            task_id,
            None,
            Some(("attachment", json)),
        );
        Ok(attachment)
    }

    /// `DELETE /tasks/{id}/attachments/{attachmentID}`: fires `task.attachment.deleted`. A
    /// cover image that was this attachment keeps its id (reference §8).
    pub fn delete_attachment(&mut self, task_id: i64, attachment_id: i64) -> Result<(), SimError> {
        let t = self.writable_task(task_id)?;
        let Some(attachment) = t
            .attachments
            .iter()
            .find(|a| a.id == attachment_id)
            .cloned()
        else {
            return Err(SimError::new(
                404,
                4011,
                "This task attachment does not exist.",
            ));
        };
        if let Some(t) = self.tasks.get_mut(&task_id) {
            t.attachments.retain(|a| a.id != attachment_id);
        }
        self.bump_updated(task_id);
        let json = serde_json::to_value(&attachment).unwrap_or(Value::Null);
        self.emit_task_with(
            "task.attachment.deleted",
            task_id,
            None,
            Some(("attachment", json)),
        );
        Ok(())
    }
}
