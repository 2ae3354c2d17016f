//! Who makes a change, and the events a change puts in the outbox (delivered once the change
//! is committed), each carrying the task as dispatched.

use serde_json::Value;

use super::{State, TaskRow};
use crate::model::{Project, User, ZERO_TIME};

/// Who makes a change: a user (1 is the token's owner) or a link share (Vikunja disguises it
/// as the user with the negative share id, whose events are never re-read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    User(i64),
    LinkShare(i64),
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
    /// The task as dispatched: sent when it is not re-read (deleted, or a link share's change).
    pub task: Option<Value>,
    pub project: Option<Project>,
    pub assignee: Option<User>,
    /// A further `data` member, e.g. `("comment", …)`.
    pub extra: Option<(&'static str, Value)>,
    pub doer: Actor,
}

impl State {
    /// The user a change is attributed to (a link share as Vikunja disguises it).
    pub fn actor_user(&self, actor: Actor) -> User {
        match actor {
            Actor::User(id) => self.user(id).unwrap_or(User {
                id,
                name: String::new(),
                username: String::new(),
                created: ZERO_TIME,
                updated: ZERO_TIME,
            }),
            Actor::LinkShare(id) => User {
                id: -id,
                name: "Link Share".into(),
                username: format!("link-share-{id}"),
                created: ZERO_TIME,
                updated: ZERO_TIME,
            },
        }
    }

    /// The user id of the change in progress (negative for a link share).
    pub fn actor_id(&self) -> i64 {
        match self.actor {
            Actor::User(id) => id,
            Actor::LinkShare(id) => -id,
        }
    }

    pub(crate) fn emit(&mut self, event: Event) {
        self.outbox.push(event);
    }

    /// A task event (`task.*`), fanned out from the task's current project, with the task
    /// as dispatched (a link share's change is sent as the bare row, lists `null`).
    pub(crate) fn emit_task(&mut self, name: &'static str, task_id: i64, assignee: Option<User>) {
        self.emit_task_with(name, task_id, assignee, None);
    }

    pub(crate) fn emit_task_with(
        &mut self,
        name: &'static str,
        task_id: i64,
        assignee: Option<User>,
        extra: Option<(&'static str, Value)>,
    ) {
        let Some(row) = self.tasks.get(&task_id) else {
            return;
        };
        let event = Event {
            name,
            project_id: row.project_id,
            own_only: false,
            task_id: Some(task_id),
            task: Some(self.dispatched(row)),
            project: None,
            assignee,
            extra,
            doer: self.actor,
        };
        self.emit(event);
    }

    /// The task object an event carries when dispatched: as the actor reads it, or the
    /// bare row for a link share.
    pub(crate) fn dispatched(&self, row: &TaskRow) -> Value {
        match self.actor {
            Actor::User(viewer) => {
                serde_json::to_value(self.render_task_as(row, viewer)).unwrap_or(Value::Null)
            }
            Actor::LinkShare(_) => self.bare_task_json(row),
        }
    }
}
