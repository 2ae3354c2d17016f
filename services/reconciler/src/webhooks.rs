//! Registering our webhook on every top-level project we sync: Vikunja has no global webhook
//! and no `project.created` event, so new top-level projects are found by listing.

use std::collections::BTreeSet;

use vsync_config::SecretString;

use crate::events::EventHandler;

pub struct Registrar {
    url: Option<String>,
    secret: Option<SecretString>,
    only: Vec<String>,
    done: BTreeSet<i64>,
}

impl Registrar {
    pub fn new(url: Option<String>, secret: Option<SecretString>, only: Vec<String>) -> Registrar {
        Registrar {
            url,
            secret,
            only,
            done: BTreeSet::new(),
        }
    }

    /// Lists projects (one call) and registers the webhook where it is missing; never twice.
    pub async fn ensure(&mut self, events: &EventHandler) {
        let (Some(url), Some(secret)) = (&self.url, &self.secret) else {
            return;
        };
        let projects = match events.api.projects().await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "cannot list projects to register webhooks");
                return;
            }
        };
        events.projects.lock().await.load(projects.clone());
        for p in projects.iter().filter(|p| {
            p.parent_project_id == 0
                && !p.is_archived
                && (self.only.is_empty() || self.only.contains(&p.title))
        }) {
            if self.done.contains(&p.id) {
                continue;
            }
            let present = match events.api.webhooks(p.id).await {
                Ok(hooks) => hooks.iter().any(|h| h.target_url == *url),
                Err(e) => {
                    tracing::warn!(project = p.id, error = %e, "cannot list webhooks");
                    continue;
                }
            };
            if !present {
                match events.api.create_webhook(p.id, url, secret).await {
                    Ok(h) => tracing::info!(project = p.id, webhook = h.id, "webhook registered"),
                    Err(e) => {
                        tracing::warn!(project = p.id, error = %e, "cannot register webhook");
                        continue;
                    }
                }
            }
            self.done.insert(p.id);
        }
    }
}
