//! The simulated database: rows, id sequences and lookups. Rendering, events and each kind
//! of change live in the submodules.

mod events;
mod extras;
mod labels;
mod projects;
mod render;
mod repeat;
mod tasks;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;
use time::OffsetDateTime;

pub use events::Actor;
pub(crate) use events::Event;
pub(crate) use labels::{LabelInput, WebhookInput};
pub(crate) use projects::ProjectInput;

use crate::error::SimError;
use crate::model::{
    Attachment, Comment, Label, ProjectView, Reminder, User, Webhook, ZERO_TIME, now_s,
};

/// The user every token and every UI action acts as.
pub(crate) const DOER_ID: i64 = 1;
/// The default project, which cannot be deleted or archived.
pub(crate) const DEFAULT_PROJECT_ID: i64 = 1;

/// A stored task; labels, assignees and the viewer's favourite flag are joined in on render.
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
    pub attachments: Vec<Attachment>,
    /// The CalDAV UID: a fresh UUID on create, or what a CalDAV client sent.
    pub uid: String,
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

/// The whole simulated database.
#[derive(Debug)]
pub(crate) struct State {
    pub users: Vec<User>,
    pub projects: BTreeMap<i64, ProjectRow>,
    pub tasks: BTreeMap<i64, TaskRow>,
    pub labels: BTreeMap<i64, Label>,
    pub webhooks: BTreeMap<i64, Webhook>,
    pub comments: BTreeMap<i64, (i64, Comment)>,
    /// (user, task) pairs: favourites are per user.
    pub favorites: BTreeSet<(i64, i64)>,
    /// Who the change in progress is made by; the token's owner unless a user action says.
    pub actor: Actor,
    next_project: i64,
    next_task: i64,
    next_label: i64,
    next_webhook: i64,
    next_view: i64,
    next_file: i64,
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
            comments: BTreeMap::new(),
            favorites: BTreeSet::new(),
            actor: Actor::User(DOER_ID),
            next_project: 0,
            next_task: 0,
            next_label: 0,
            next_webhook: 0,
            next_view: 0,
            next_file: 0,
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

    pub(crate) fn next_file_id(&mut self) -> i64 {
        seq(&mut self.next_file)
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

    /// Projects whose tasks `GET /tasks` covers: all but the archived ones.
    pub fn unarchived_projects(&self) -> BTreeSet<i64> {
        self.projects
            .values()
            .filter(|p| !p.is_archived)
            .map(|p| p.id)
            .collect()
    }

    /// The project a request path is about: `/projects/{id}…` (API or CalDAV) or the project
    /// of the task in `/tasks/{id}…` (deleted tasks too).
    pub fn project_of(&self, path: &str) -> Option<i64> {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let after = |name: &str| {
            segments
                .iter()
                .position(|s| *s == name)
                .and_then(|i| segments.get(i + 1))
                .and_then(|s| s.parse::<i64>().ok())
        };
        match segments.get(2).copied() {
            Some("projects") => after("projects"),
            Some("tasks") => {
                after("tasks").and_then(|id| self.tasks.get(&id).map(|t| t.project_id))
            }
            _ if segments.first() == Some(&"dav") => after("projects"),
            _ => None,
        }
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
