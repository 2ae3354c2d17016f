//! Reading the simulator's state and logs from a test (no request is logged for these).

use std::time::Duration;

use crate::model::{Comment, Label, Project, Task, Webhook};
use crate::shared::lock;
use crate::{Delivery, LoggedRequest, Simulator};

impl Simulator {
    /// A live (not deleted) task as `GET /tasks/{id}` by this handle's user shows it.
    pub fn task(&self, id: i64) -> Option<Task> {
        self.shared.read(|st| st.task_as(id, self.viewer()))
    }

    /// Every live task, archived projects included, by id.
    pub fn tasks(&self) -> Vec<Task> {
        self.shared.read(|st| {
            st.tasks
                .values()
                .filter(|t| !t.deleted)
                .map(|t| st.render_task_as(t, self.viewer()))
                .collect()
        })
    }

    /// The task's CalDAV UID (which the REST API never shows).
    pub fn caldav_uid(&self, task_id: i64) -> Option<String> {
        self.shared
            .read(|st| st.task_row(task_id).ok().map(|t| t.uid.clone()))
    }

    /// The task's comments, oldest first.
    pub fn comments(&self, task_id: i64) -> Vec<Comment> {
        self.shared
            .read(|st| st.task_comments(task_id))
            .unwrap_or_default()
    }

    /// A project as `GET /projects/{id}` shows it.
    pub fn project(&self, id: i64) -> Option<Project> {
        self.shared
            .read(|st| st.projects.get(&id).map(|p| st.render_project(p)))
    }

    /// Every real project (no pseudo projects), archived included, by id.
    pub fn projects(&self) -> Vec<Project> {
        self.shared
            .read(|st| st.projects.values().map(|p| st.render_project(p)).collect())
    }

    /// Every label, by id.
    pub fn labels(&self) -> Vec<Label> {
        self.shared.read(|st| st.labels.values().cloned().collect())
    }

    /// The project's own webhooks with their stored secrets (the API never shows them).
    pub fn webhooks(&self, project_id: i64) -> Vec<Webhook> {
        self.shared.read(|st| st.project_webhooks(project_id))
    }

    /// Every API request so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Every API request so far (since the last `clear_requests`), as `METHOD route`.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.shared.requests)
            .iter()
            .map(|r| format!("{} {}", r.method, r.route))
            .collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Every delivery attempt so far, in the order they were made.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.shared.deliverer.log).clone()
    }

    /// True once no delivery is queued, held, delayed, in flight or waiting for a retry.
    pub async fn wait_deliveries_idle(&self, timeout: Duration) -> bool {
        self.shared.deliverer.wait_idle(timeout).await
    }
}
