//! The simulated database: rows, id sequences, rendering to Vikunja's JSON, and the
//! outbox of events a change produces (delivered once the change is committed).

mod labels;
mod projects;
mod repeat;
mod tasks;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use time::OffsetDateTime;

pub(crate) use labels::{LabelInput, WebhookInput};
pub(crate) use projects::ProjectInput;

use crate::error::SimError;
use crate::model::{Label, Project, ProjectView, Reminder, Task, User, Webhook, ZERO_TIME, now_s};

/// The user every token and every UI action acts as.
pub(crate) const DOER_ID: i64 = 1;
/// The default project, which cannot be deleted or archived.
pub(crate) const DEFAULT_PROJECT_ID: i64 = 1;

/// A stored task; labels, assignees and the doer's favourite flag are joined in on render.
#[derive(Debug, Clone)]
pub(crate) struct TaskRow {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub done: bool,
    pub done_at: OffsetDateTime,
    pub due_date: OffsetDateTime,
    pub start_date: OffsetDateTime,
    pub end_date: OffsetDateTime,
    pub reminders: Vec<Reminder>,
    pub project_id: i64,
    pub repeat_after: i64,
    pub repeat_mode: i64,
    pub priority: i64,
    pub hex_color: String,
    pub percent_done: f64,
    pub index: i64,
    pub cover_image_attachment_id: i64,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
    pub created_by: i64,
    /// Soft delete (≥2.4): the row stays but every read answers 4002.
    pub deleted: bool,
    pub labels: Vec<i64>,
    pub assignees: Vec<i64>,
    pub favorite: bool,
}

/// A stored project.
#[derive(Debug, Clone)]
pub(crate) struct ProjectRow {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub identifier: String,
    pub hex_color: String,
    pub parent_project_id: i64,
    pub is_archived: bool,
    pub is_favorite: bool,
    pub position: f64,
    pub views: Vec<ProjectView>,
    pub created: OffsetDateTime,
    pub updated: OffsetDateTime,
}

/// One event as dispatched after commit; the delivery worker fans it out and re-reads the data.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub name: &'static str,
    /// The project whose webhooks (and, unless `own_only`, its ancestors') receive it.
    pub project_id: i64,
    /// `project.deleted`: the ancestors are looked up after the row is gone, so only own webhooks.
    pub own_only: bool,
    pub task_id: Option<i64>,
    /// Fallback when the task cannot be re-read (deleted): the snapshot taken at the change.
    pub task: Option<Task>,
    pub project: Option<Project>,
    pub assignee: Option<User>,
}

/// The whole simulated database.
#[derive(Debug)]
pub(crate) struct State {
    pub users: Vec<User>,
    pub projects: BTreeMap<i64, ProjectRow>,
    pub tasks: BTreeMap<i64, TaskRow>,
    pub labels: BTreeMap<i64, Label>,
    pub webhooks: BTreeMap<i64, Webhook>,
    next_project: i64,
    next_task: i64,
    next_label: i64,
    next_webhook: i64,
    next_view: i64,
    /// Events of the change in progress; the caller sends them on once it succeeded.
    pub outbox: Vec<Event>,
}

fn seq(counter: &mut i64) -> i64 {
    *counter += 1;
    *counter
}

impl State {
    /// Users 1 "demo" (the token's owner), 2 "bob", 3 "carol", and the default project "Inbox".
    pub fn new() -> State {
        let now = now_s();
        let user = |id, username: &str, name: &str| User {
            id,
            name: name.to_owned(),
            username: username.to_owned(),
            created: now,
            updated: now,
        };
        let mut st = State {
            users: vec![
                user(1, "demo", "Demo User"),
                user(2, "bob", "Bob"),
                user(3, "carol", "Carol"),
            ],
            projects: BTreeMap::new(),
            tasks: BTreeMap::new(),
            labels: BTreeMap::new(),
            webhooks: BTreeMap::new(),
            next_project: 0,
            next_task: 0,
            next_label: 0,
            next_webhook: 0,
            next_view: 0,
            outbox: Vec::new(),
        };
        let inbox = ProjectInput {
            title: "Inbox".into(),
            ..ProjectInput::default()
        };
        if let Err(e) = st.create_project(inbox) {
            tracing::error!(error = %e, "could not create the default project");
        }
        st.outbox.clear();
        st
    }

    pub fn user(&self, id: i64) -> Option<User> {
        self.users.iter().find(|u| u.id == id).cloned()
    }

    pub fn doer(&self) -> User {
        self.user(DOER_ID).unwrap_or(User {
            id: DOER_ID,
            name: String::new(),
            username: "demo".into(),
            created: ZERO_TIME,
            updated: ZERO_TIME,
        })
    }

    pub(crate) fn next_task_id(&mut self) -> i64 {
        seq(&mut self.next_task)
    }

    pub(crate) fn next_project_id(&mut self) -> i64 {
        seq(&mut self.next_project)
    }

    pub(crate) fn next_label_id(&mut self) -> i64 {
        seq(&mut self.next_label)
    }

    pub(crate) fn next_webhook_id(&mut self) -> i64 {
        seq(&mut self.next_webhook)
    }

    pub(crate) fn next_view_id(&mut self) -> i64 {
        seq(&mut self.next_view)
    }

    /// A project that exists (404 code 3001 otherwise).
    pub fn project_row(&self, id: i64) -> Result<&ProjectRow, SimError> {
        self.projects.get(&id).ok_or_else(SimError::project_missing)
    }

    /// A project tasks can be written to: exists (3001) and is not archived (3008).
    pub fn writable_project(&self, id: i64) -> Result<&ProjectRow, SimError> {
        let p = self.project_row(id)?;
        if p.is_archived {
            return Err(SimError::project_archived());
        }
        Ok(p)
    }

    /// A task that exists and is not soft-deleted (404 code 4002 otherwise).
    pub fn task_row(&self, id: i64) -> Result<&TaskRow, SimError> {
        self.tasks
            .get(&id)
            .filter(|t| !t.deleted)
            .ok_or_else(SimError::task_missing)
    }

    /// A task the doer may change: it exists and its project is not archived.
    pub fn writable_task(&self, id: i64) -> Result<&TaskRow, SimError> {
        let t = self.task_row(id)?;
        self.writable_project(t.project_id)?;
        Ok(t)
    }

    /// The ids of `id`'s ancestors, nearest first.
    pub fn ancestors(&self, id: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let mut cur = self
            .projects
            .get(&id)
            .map(|p| p.parent_project_id)
            .unwrap_or(0);
        while cur > 0 && !out.contains(&cur) {
            out.push(cur);
            cur = self
                .projects
                .get(&cur)
                .map(|p| p.parent_project_id)
                .unwrap_or(0);
        }
        out
    }

    /// The ids of all of `id`'s descendants, breadth first.
    pub fn descendants(&self, id: i64) -> Vec<i64> {
        let mut out: Vec<i64> = Vec::new();
        let mut frontier = vec![id];
        while let Some(cur) = frontier.pop() {
            for child in self
                .projects
                .values()
                .filter(|p| p.parent_project_id == cur)
            {
                if child.id != id && !out.contains(&child.id) {
                    out.push(child.id);
                    frontier.push(child.id);
                }
            }
        }
        out
    }

    /// Any change to a task bumps its project's `updated` too (`updateProjectLastUpdated`).
    pub(crate) fn touch_project(&mut self, id: i64) {
        if let Some(p) = self.projects.get_mut(&id) {
            p.updated = now_s();
        }
    }

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

    /// The task as a fresh `GET /tasks/{id}` shows it.
    pub fn render_task(&self, t: &TaskRow) -> Task {
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
            attachments: None,
            cover_image_attachment_id: t.cover_image_attachment_id,
            is_favorite: t.favorite,
            created: t.created,
            updated: t.updated,
            bucket_id: 0,
            position: 0.0,
            reactions: None,
            created_by: self.user(t.created_by),
        }
    }

    /// The live task, rendered, if it exists.
    pub fn task(&self, id: i64) -> Option<Task> {
        self.task_row(id).ok().map(|t| self.render_task(t))
    }

    /// Projects whose tasks `GET /tasks` covers: all but the archived ones.
    pub fn unarchived_projects(&self) -> BTreeSet<i64> {
        self.projects
            .values()
            .filter(|p| !p.is_archived)
            .map(|p| p.id)
            .collect()
    }

    pub(crate) fn emit(&mut self, event: Event) {
        self.outbox.push(event);
    }

    /// A task event (`task.*`), fanned out from the task's current project.
    pub(crate) fn emit_task(&mut self, name: &'static str, task_id: i64, assignee: Option<User>) {
        let Some(task) = self.task(task_id) else {
            return;
        };
        self.emit(Event {
            name,
            project_id: task.project_id,
            own_only: false,
            task_id: Some(task_id),
            task: Some(task),
            project: None,
            assignee,
        });
    }
}

/// Vikunja renders an empty relation as `null`.
pub(crate) fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    if v.is_empty() { None } else { Some(v) }
}

/// Go's `json.Unmarshal` leaves a field untouched on `null`; dropping null members (at any
/// depth) before deserialising into defaulted structs has the same effect.
pub(crate) fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(strip_nulls).collect()),
        other => other.clone(),
    }
}

/// Deserialises a request body the way Vikunja binds it (400 code 2004 on a type mismatch).
pub(crate) fn bind<T: serde::de::DeserializeOwned>(v: &Value) -> Result<T, SimError> {
    serde_json::from_value(strip_nulls(v)).map_err(SimError::invalid_model)
}
