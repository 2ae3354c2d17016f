//! Webhook endpoints: a project's webhooks and registering one for the sync's events.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

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
            .all_pages("/projects/{id}/webhooks", &path, &[])
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
        self.json(Request::create("/projects/{id}/webhooks", path, &body))
            .await
    }
}
