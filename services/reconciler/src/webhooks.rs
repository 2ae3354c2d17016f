//! Registering our webhook on every top-level project we sync: Vikunja has no global webhook
//! and no `project.created` event, so new top-level projects are found by listing.

use std::collections::{BTreeMap, BTreeSet};

use vsync_config::SecretString;
use vsync_vikunja::{ErrorKind, Project, VikunjaClient, VikunjaError, Webhook};

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
                Ok(hooks) => hooks.iter().any(|h| self.is_ours(h)),
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

    /// Whether `hook` is the webhook we register (without a configured URL, none is).
    fn is_ours(&self, hook: &Webhook) -> bool {
        self.url.as_deref() == Some(hook.target_url.as_str())
    }

    /// Every webhook on a synced project (a top-level project we register ours on, and every
    /// project below it; archived ones skipped) whose target is not our webhook URL: left over
    /// from an earlier setup or another tool, they may send the same changes elsewhere. None
    /// when the server has no webhooks.
    pub(crate) async fn foreign_webhooks(
        &self,
        api: &VikunjaClient,
    ) -> Result<Vec<Webhook>, VikunjaError> {
        if !api.server_info().await?.webhooks_enabled {
            return Ok(Vec::new());
        }
        let projects = api.projects().await?;
        let mut out = Vec::new();
        for id in synced_projects(&projects, &self.only) {
            for mut hook in api.webhooks(id).await? {
                if !self.is_ours(&hook) {
                    // Vikunja fills it from the URL; it is what removing the hook needs.
                    hook.project_id = id;
                    out.push(hook);
                }
            }
        }
        Ok(out)
    }

    /// Removes webhooks [`Registrar::foreign_webhooks`] found; one already gone counts as
    /// removed. Stops at the first failure (those before it stay removed).
    pub(crate) async fn remove_webhooks(
        &self,
        api: &VikunjaClient,
        hooks: &[Webhook],
    ) -> Result<(), VikunjaError> {
        for hook in hooks {
            match api.delete_webhook(hook.project_id, hook.id).await {
                Ok(()) => {}
                Err(e) if e.is_not_found() => {}
                // Vikunja answers a webhook that no longer exists with 403, as it does one we
                // may not delete (`canDoWebhook`): a listing tells which.
                Err(e) if e.kind() == ErrorKind::Forbidden => {
                    let listed = api.webhooks(hook.project_id).await?;
                    if listed.iter().any(|h| h.id == hook.id) {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
            tracing::info!(
                project = hook.project_id,
                webhook = hook.id,
                target = %hook.target_url,
                "foreign webhook removed"
            );
        }
        Ok(())
    }
}

/// The ids of the unarchived projects whose top-level ancestor is in `only` (all when `only`
/// is empty), as [`Registrar::ensure`] chooses where to register.
pub(crate) fn synced_projects(projects: &[Project], only: &[String]) -> Vec<i64> {
    let by_id: BTreeMap<i64, &Project> = projects.iter().map(|p| (p.id, p)).collect();
    projects
        .iter()
        .filter(|p| !p.is_archived)
        .filter(|p| {
            let top = top_level(&by_id, p);
            !top.is_archived && (only.is_empty() || only.contains(&top.title))
        })
        .map(|p| p.id)
        .collect()
}

/// The top-level ancestor of `p` (the last one known).
fn top_level<'a>(by_id: &BTreeMap<i64, &'a Project>, mut p: &'a Project) -> &'a Project {
    // Bounded: a parent cycle in a broken listing must not hang the walk.
    for _ in 0..by_id.len() {
        match by_id.get(&p.parent_project_id) {
            Some(parent) if p.parent_project_id != 0 => p = parent,
            _ => break,
        }
    }
    p
}

#[cfg(test)]
mod tests;
