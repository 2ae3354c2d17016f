//! Labels, labels on tasks (reference §3.5) and project webhooks (§1.1).

use serde::Deserialize;

use super::State;
use crate::error::SimError;
use crate::model::{Label, WEBHOOK_EVENTS, Webhook, normalize_hex, now_s};

/// A label body (`PUT /labels`, `POST /labels/{id}`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct LabelInput {
    pub title: String,
    pub description: String,
    pub hex_color: String,
}

/// A webhook body (`PUT /projects/{id}/webhooks`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct WebhookInput {
    pub target_url: String,
    pub events: Vec<String>,
    pub secret: String,
    pub basic_auth_user: String,
    pub basic_auth_password: String,
}

fn check_label(input: &LabelInput) -> Result<(), SimError> {
    if input.title.chars().count() > 250 {
        return Err(SimError::invalid_fields(&[
            "title: does not validate as runelength(1|250)",
        ]));
    }
    Ok(())
}

fn check_events(events: &[String]) -> Result<(), SimError> {
    if events.iter().any(|e| !WEBHOOK_EVENTS.contains(&e.as_str())) {
        return Err(SimError::invalid_fields(&["events"]));
    }
    Ok(())
}

impl State {
    pub fn label(&self, id: i64) -> Result<&Label, SimError> {
        self.labels.get(&id).ok_or_else(SimError::label_missing)
    }

    /// `PUT /labels`. No webhook event exists for labels.
    pub fn create_label(&mut self, input: LabelInput) -> Result<Label, SimError> {
        check_label(&input)?;
        let id = self.next_label_id();
        let now = now_s();
        let label = Label {
            id,
            title: input.title,
            description: input.description,
            hex_color: normalize_hex(&input.hex_color),
            created_by: Some(self.doer()),
            created: now,
            updated: now,
        };
        self.labels.insert(id, label.clone());
        Ok(label)
    }

    /// `POST /labels/{id}`: title, description and colour replaced.
    pub fn update_label(&mut self, id: i64, input: LabelInput) -> Result<Label, SimError> {
        check_label(&input)?;
        let label = self
            .labels
            .get_mut(&id)
            .ok_or_else(SimError::label_missing)?;
        label.title = input.title;
        label.description = input.description;
        label.hex_color = normalize_hex(&input.hex_color);
        label.updated = now_s();
        Ok(label.clone())
    }

    /// `DELETE /labels/{id}`: the label leaves every task, silently.
    pub fn delete_label(&mut self, id: i64) -> Result<(), SimError> {
        self.label(id)?;
        self.labels.remove(&id);
        for t in self.tasks.values_mut() {
            t.labels.retain(|l| *l != id);
        }
        Ok(())
    }

    /// `GET /tasks/{id}/labels`.
    pub fn task_labels(&self, task_id: i64) -> Result<Vec<Label>, SimError> {
        let t = self.task_row(task_id)?;
        Ok(t.labels
            .iter()
            .filter_map(|l| self.labels.get(l).cloned())
            .collect())
    }

    /// `PUT /tasks/{id}/labels`: bumps `updated`, fires `task.updated`.
    pub fn add_label(&mut self, task_id: i64, label_id: i64) -> Result<(), SimError> {
        self.label(label_id)?;
        let t = self.writable_task(task_id)?;
        if t.labels.contains(&label_id) {
            return Err(SimError::new(
                400,
                8001,
                "This label already exists on the task.",
            ));
        }
        let project_id = t.project_id;
        if let Some(t) = self.tasks.get_mut(&task_id) {
            t.labels.push(label_id);
            t.updated = now_s();
        }
        self.emit_task("task.updated", task_id, None);
        self.touch_project(project_id);
        Ok(())
    }

    /// `DELETE /tasks/{id}/labels/{labelID}`: bumps `updated`, fires `task.updated`;
    /// 403 when the label is not on the task.
    pub fn remove_label(&mut self, task_id: i64, label_id: i64) -> Result<(), SimError> {
        let t = self.writable_task(task_id)?;
        if !t.labels.contains(&label_id) {
            return Err(SimError::forbidden());
        }
        let project_id = t.project_id;
        if let Some(t) = self.tasks.get_mut(&task_id) {
            t.labels.retain(|l| *l != label_id);
            t.updated = now_s();
        }
        self.touch_project(project_id);
        self.emit_task("task.updated", task_id, None);
        Ok(())
    }

    /// `POST /tasks/{id}/labels/bulk`: replaces the set without bumping `updated`; a non-empty
    /// set fires `task.updated` (even when nothing changed), an empty one fires nothing.
    pub fn set_labels(&mut self, task_id: i64, ids: &[i64]) -> Result<(), SimError> {
        let project_id = self.writable_task(task_id)?.project_id;
        if ids.is_empty() {
            if let Some(t) = self.tasks.get_mut(&task_id) {
                t.labels.clear();
            }
            return Ok(());
        }
        let current = self.task_row(task_id)?.labels.clone();
        for id in ids.iter().filter(|id| !current.contains(id)) {
            self.label(*id)?;
        }
        let mut next: Vec<i64> = current
            .iter()
            .copied()
            .filter(|l| ids.contains(l))
            .collect();
        for id in ids {
            if !next.contains(id) {
                next.push(*id);
            }
        }
        if let Some(t) = self.tasks.get_mut(&task_id) {
            t.labels = next;
        }
        self.emit_task("task.updated", task_id, None);
        self.touch_project(project_id);
        Ok(())
    }

    /// `PUT /projects/{id}/webhooks`.
    pub fn create_webhook(
        &mut self,
        project_id: i64,
        input: WebhookInput,
    ) -> Result<Webhook, SimError> {
        self.writable_project(project_id)?;
        if input.target_url.is_empty() {
            return Err(SimError::invalid_fields(&[
                "target_url: non zero value required",
            ]));
        }
        if input.events.is_empty() {
            return Err(SimError::invalid_fields(&[
                "events: non zero value required",
            ]));
        }
        if !input.target_url.starts_with("http") {
            return Err(SimError::invalid_fields(&["target_url"]));
        }
        check_events(&input.events)?;
        let id = self.next_webhook_id();
        let now = now_s();
        let hook = Webhook {
            id,
            target_url: input.target_url,
            events: input.events,
            project_id,
            user_id: 0,
            secret: input.secret,
            basic_auth_user: input.basic_auth_user,
            basic_auth_password: input.basic_auth_password,
            created_by: Some(self.doer()),
            created: now,
            updated: now,
        };
        self.webhooks.insert(id, hook.clone());
        Ok(hook)
    }

    fn own_webhook(&mut self, project_id: i64, id: i64) -> Result<&mut Webhook, SimError> {
        self.project_row(project_id)?;
        self.webhooks
            .get_mut(&id)
            .filter(|w| w.project_id == project_id)
            .ok_or_else(SimError::forbidden)
    }

    /// `POST /projects/{id}/webhooks/{webhookID}`: only `events` can change.
    pub fn update_webhook(
        &mut self,
        project_id: i64,
        id: i64,
        events: Vec<String>,
    ) -> Result<Webhook, SimError> {
        check_events(&events)?;
        let hook = self.own_webhook(project_id, id)?;
        hook.events = events;
        hook.updated = now_s();
        Ok(hook.clone())
    }

    /// `DELETE /projects/{id}/webhooks/{webhookID}`.
    pub fn delete_webhook(&mut self, project_id: i64, id: i64) -> Result<(), SimError> {
        self.own_webhook(project_id, id)?;
        self.webhooks.remove(&id);
        Ok(())
    }

    /// A project's own webhooks, by id.
    pub fn project_webhooks(&self, project_id: i64) -> Vec<Webhook> {
        self.webhooks
            .values()
            .filter(|w| w.project_id == project_id)
            .cloned()
            .collect()
    }
}
