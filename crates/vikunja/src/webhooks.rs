//! Webhook endpoints: a project's webhooks and registering one for the sync's events.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::calls::Call;
use crate::error::VikunjaError;
use crate::transport::Request;
use crate::{VikunjaClient, Webhook};

/// Task events the sync subscribes to.
pub const WEBHOOK_EVENTS: &[&str] = &[
    "task.created",
    "task.updated",
    "task.deleted",
    "task.assignee.created",
    "task.assignee.deleted",
    "task.relation.created",
    "task.relation.deleted",
    "project.updated",
    "project.deleted",
];

impl VikunjaClient {
    pub async fn webhooks(&self, project_id: i64) -> Result<Vec<Webhook>, VikunjaError> {
        let path = format!("/projects/{project_id}/webhooks");
        self.transport
            .all_pages(Call::ListWebhooks, &path, &[])
            .await
    }

    /// Registers a webhook for [`WEBHOOK_EVENTS`], signed with `secret`.
    pub async fn create_webhook(
        &self,
        project_id: i64,
        target_url: &str,
        secret: &SecretString,
    ) -> Result<Webhook, VikunjaError> {
        let body = json!({
            "target_url": target_url,
            "events": WEBHOOK_EVENTS,
            "secret": secret.expose_secret(),
        });
        let path = format!("/projects/{project_id}/webhooks");
        self.json(Request::with_body(Call::CreateWebhook, path, &body))
            .await
    }

    /// Sets a webhook's events (the only thing Vikunja lets change in place).
    pub async fn update_webhook_events(
        &self,
        project_id: i64,
        webhook_id: i64,
        events: &[&str],
    ) -> Result<Webhook, VikunjaError> {
        let body = json!({ "events": events });
        let path = format!("/projects/{project_id}/webhooks/{webhook_id}");
        self.json(Request::with_body(Call::UpdateWebhook, path, &body))
            .await
    }

    /// Removes a webhook (to change its URL or secret: delete, then create).
    pub async fn delete_webhook(
        &self,
        project_id: i64,
        webhook_id: i64,
    ) -> Result<(), VikunjaError> {
        let path = format!("/projects/{project_id}/webhooks/{webhook_id}");
        self.transport
            .send(Request::to(Call::DeleteWebhook, path))
            .await
            .map(|_| ())
    }
}
