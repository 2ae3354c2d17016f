//! User actions: what a person does in the web UI (or a CalDAV client), with the same
//! effects and webhooks as the API call would have. They act as user 1 unless the handle came
//! from [`Simulator::as_user`] or [`Simulator::via_link_share`].

use serde_json::json;

use crate::Simulator;
use crate::error::SimError;
use crate::model::{Attachment, Comment, Label, Project, Task};
use crate::state::{Actor, LabelInput, ProjectInput, State};

impl Simulator {
    /// A handle whose user actions (and reads) are user `id`'s: 2 is "bob", 3 "carol". The
    /// webhooks of their changes carry their own `is_favorite`.
    pub fn as_user(&self, id: i64) -> Simulator {
        Simulator {
            actor: Actor::User(id),
            ..self.clone()
        }
    }

    /// A handle whose user actions go through link share `share_id` of a project: their task
    /// webhooks are not re-read, so `labels`, `assignees` and `reminders` arrive as `null`.
    pub fn via_link_share(&self, share_id: i64) -> Simulator {
        Simulator {
            actor: Actor::LinkShare(share_id),
            ..self.clone()
        }
    }

    /// The user whose view reads return (a link share has no favourites).
    pub(crate) fn viewer(&self) -> i64 {
        match self.actor {
            Actor::User(id) => id,
            Actor::LinkShare(_) => 0,
        }
    }

    fn act<R>(&self, f: impl FnOnce(&mut State) -> Result<R, SimError>) -> Result<R, SimError> {
        self.shared.mutate_as(self.actor, f)
    }

    /// Panics if the parent project does not exist or is archived.
    pub fn create_project(&self, title: &str, parent_project_id: i64) -> Project {
        let input = ProjectInput {
            title: title.into(),
            parent_project_id: Some(parent_project_id),
            ..ProjectInput::default()
        };
        self.act(|st| st.create_project(input))
            .unwrap_or_else(|e| panic!("create_project({title:?}, {parent_project_id}): {e}"))
    }

    /// Edits the project as the UI does (the whole object is sent back); `None` if it does
    /// not exist or the change is refused.
    pub fn update_project(&self, id: i64, f: impl FnOnce(&mut Project)) -> Option<Project> {
        let mut p = self.project(id)?;
        f(&mut p);
        self.act(|st| st.update_project(id, ProjectInput::from_project(&p)))
            .ok()
    }

    /// Deletes the project and its children, hard-deleting their tasks; only
    /// `project.deleted` fires, to each deleted project's own webhooks.
    pub fn delete_project(&self, id: i64) -> bool {
        self.act(|st| st.delete_project(id)).is_ok()
    }

    /// Panics if the project does not exist or is archived, or the title is empty.
    pub fn create_task(&self, project_id: i64, title: &str) -> Task {
        self.create_task_with(project_id, json!({ "title": title }))
            .unwrap_or_else(|e| panic!("create_task({project_id}, {title:?}): {e}"))
    }

    /// Same semantics as `PUT /projects/{id}/tasks` with `body`.
    pub fn create_task_with(
        &self,
        project_id: i64,
        body: serde_json::Value,
    ) -> Result<Task, SimError> {
        self.act(|st| st.create_task(project_id, &body))
    }

    /// A UI edit: the task as stored (as this handle's user reads it), changed by `f`, sent
    /// back whole through the `POST /tasks/{id}` logic (bumps `updated`, fires
    /// `task.updated`, applies the repeat logic). Label changes in `f` are ignored, as by the
    /// API: use [`Simulator::add_label`]. `None` if the task is missing or the edit refused.
    pub fn update_task(&self, id: i64, f: impl FnOnce(&mut Task)) -> Option<Task> {
        self.try_update_task(id, f).ok()
    }

    /// [`Simulator::update_task`] with the error Vikunja would answer.
    pub fn try_update_task(&self, id: i64, f: impl FnOnce(&mut Task)) -> Result<Task, SimError> {
        let mut t = self.task(id).ok_or_else(SimError::task_missing)?;
        f(&mut t);
        let body = serde_json::to_value(&t).map_err(SimError::invalid_model)?;
        self.act(|st| st.update_task(id, &body))
    }

    /// Soft-deletes the task (fires `task.deleted` with the snapshot); false if it does not exist.
    pub fn delete_task(&self, id: i64) -> bool {
        self.act(|st| st.delete_task(id)).is_ok()
    }

    /// Creates a label (no webhook event exists for labels). Titles need not be unique.
    pub fn create_label(&self, title: &str) -> Label {
        let input = LabelInput {
            title: title.into(),
            ..LabelInput::default()
        };
        self.act(|st| st.create_label(input))
            .unwrap_or_else(|e| panic!("create_label({title:?}): {e}"))
    }

    /// Puts a label on a task: bumps `updated`, fires `task.updated` (8001 if already there).
    pub fn add_label(&self, task_id: i64, label_id: i64) -> Result<(), SimError> {
        self.act(|st| st.add_label(task_id, label_id))
    }

    /// Takes a label off a task: bumps `updated`, fires `task.updated`.
    pub fn remove_label(&self, task_id: i64, label_id: i64) -> Result<(), SimError> {
        self.act(|st| st.remove_label(task_id, label_id))
    }

    /// Assigns a user: fires `task.assignee.created` and `task.updated`.
    pub fn add_assignee(&self, task_id: i64, user_id: i64) -> Result<(), SimError> {
        self.act(|st| st.add_assignee(task_id, user_id))
    }

    /// Unassigns a user: fires `task.assignee.deleted` and `task.updated`.
    pub fn remove_assignee(&self, task_id: i64, user_id: i64) -> Result<(), SimError> {
        self.act(|st| st.remove_assignee(task_id, user_id))
    }

    /// Comments on a task: bumps `updated`, fires `task.comment.created` and no `task.updated`.
    pub fn add_comment(&self, task_id: i64, text: &str) -> Result<Comment, SimError> {
        self.act(|st| st.add_comment(task_id, text))
    }

    /// Uploads a file to a task (fires `task.attachment.created`); its id can become the
    /// task's cover image (`cover_image_attachment_id` in [`Simulator::update_task`]).
    pub fn add_attachment(&self, task_id: i64, file_name: &str) -> Result<Attachment, SimError> {
        self.act(|st| st.add_attachment(task_id, file_name))
    }

    /// Deletes an attachment (fires `task.attachment.deleted`). A task whose cover it was
    /// keeps `cover_image_attachment_id`, and every later update sending it answers 4020.
    pub fn delete_attachment(&self, task_id: i64, attachment_id: i64) -> Result<(), SimError> {
        self.act(|st| st.delete_attachment(task_id, attachment_id))
    }

    /// Gives a task the CalDAV UID a CalDAV client (syncall) created it with; no webhook.
    pub fn set_caldav_uid(&self, task_id: i64, uid: &str) -> Result<(), SimError> {
        self.act(|st| {
            st.task_row(task_id)?;
            if let Some(t) = st.tasks.get_mut(&task_id) {
                t.uid = uid.to_owned();
            }
            Ok(())
        })
    }
}
