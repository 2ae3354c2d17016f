//! Rows rendered as Vikunja's JSON, for a viewer: a task's favourite flag is per user.

use serde_json::Value;

use super::{DOER_ID, ProjectRow, State, TaskRow, non_empty};
use crate::model::{Label, Project, Task, User};

impl State {
    pub fn render_project(&self, p: &ProjectRow) -> Project {
        Project {
            id: p.id,
            title: p.title.clone(),
            description: p.description.clone(),
            identifier: p.identifier.clone(),
            hex_color: p.hex_color.clone(),
            parent_project_id: p.parent_project_id,
            owner: Some(self.doer()),
            is_archived: p.is_archived,
            background_information: None,
            background_blur_hash: String::new(),
            is_favorite: p.is_favorite,
            position: p.position,
            views: Some(p.views.clone()),
            max_permission: 2,
            created: p.created,
            updated: p.updated,
        }
    }

    /// `#<index>`, or `IDENT-<index>` when the project has an identifier.
    fn task_identifier(&self, t: &TaskRow) -> String {
        match self.projects.get(&t.project_id) {
            Some(p) if !p.identifier.is_empty() => format!("{}-{}", p.identifier, t.index),
            _ => format!("#{}", t.index),
        }
    }

    pub fn is_favorite(&self, user: i64, task: i64) -> bool {
        self.favorites.contains(&(user, task))
    }

    /// The task as a fresh `GET /tasks/{id}` by the token's owner shows it.
    pub fn render_task(&self, t: &TaskRow) -> Task {
        self.render_task_as(t, DOER_ID)
    }

    /// The task as `viewer` reads it.
    pub fn render_task_as(&self, t: &TaskRow, viewer: i64) -> Task {
        let labels: Vec<Label> = t
            .labels
            .iter()
            .filter_map(|id| self.labels.get(id).cloned())
            .collect();
        let assignees: Vec<User> = t.assignees.iter().filter_map(|id| self.user(*id)).collect();
        Task {
            id: t.id,
            title: t.title.clone(),
            description: t.description.clone(),
            done: t.done,
            done_at: t.done_at,
            due_date: t.due_date,
            reminders: non_empty(t.reminders.clone()),
            project_id: t.project_id,
            repeat_after: t.repeat_after,
            repeat_mode: t.repeat_mode,
            priority: t.priority,
            start_date: t.start_date,
            end_date: t.end_date,
            assignees: non_empty(assignees),
            labels: non_empty(labels),
            hex_color: t.hex_color.clone(),
            percent_done: t.percent_done,
            identifier: self.task_identifier(t),
            index: t.index,
            related_tasks: serde_json::Map::new(),
            attachments: non_empty(t.attachments.clone()),
            cover_image_attachment_id: t.cover_image_attachment_id,
            is_favorite: self.is_favorite(viewer, t.id),
            created: t.created,
            updated: t.updated,
            bucket_id: 0,
            position: 0.0,
            reactions: None,
            created_by: if t.created_by < 0 {
                Some(self.actor_user(super::Actor::LinkShare(-t.created_by)))
            } else {
                self.user(t.created_by)
            },
            uid: t.uid.clone(),
        }
    }

    /// The bare row (`GetTaskByIDSimple`): nothing joined in, so `labels`, `assignees`,
    /// `reminders`, `attachments`, `related_tasks` and `created_by` are `null`.
    pub fn bare_task_json(&self, t: &TaskRow) -> Value {
        let mut task = self.render_task_as(t, 0);
        task.labels = None;
        task.assignees = None;
        task.reminders = None;
        task.attachments = None;
        task.created_by = None;
        task.identifier = String::new();
        let mut v = serde_json::to_value(task).unwrap_or(Value::Null);
        v["related_tasks"] = Value::Null;
        v
    }

    /// The live task as the token's owner reads it, if it exists.
    pub fn task(&self, id: i64) -> Option<Task> {
        self.task_as(id, DOER_ID)
    }

    /// The live task as `viewer` reads it.
    pub fn task_as(&self, id: i64, viewer: i64) -> Option<Task> {
        self.task_row(id)
            .ok()
            .map(|t| self.render_task_as(t, viewer))
    }
}
