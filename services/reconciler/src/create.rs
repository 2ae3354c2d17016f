//! Creating a task in Vikunja (`PUT`) that canonical state has and Vikunja does not, and
//! linking it to its uuid — once. A create is never sent blindly twice: the client does not
//! repeat it, and each one is claimed first (`vsync_bus::Claim`, one writer per task across
//! the event loop, reconcile passes and reconciler replicas). A claim still there from an
//! earlier attempt means that attempt may have made the task (its answer was lost, or its
//! writer died before linking it), so the task is looked up first: a task in one of the
//! claim's projects, created since the claim, with one of the titles it sent, and not linked
//! to another task. Only when there is none is it created again.

use std::time::Duration;

use vsync_bus::{Claim, CreateClaim};
use vsync_model::{VikunjaTask, vikunja};
use vsync_proto::{TaskFields, TaskState};

use crate::error::SyncError;
use crate::events::EventHandler;

/// How long a claim holds off other writers: longer than one create with its waits.
const CLAIM_LEASE: Duration = Duration::from_secs(300);
/// How far Vikunja's clock may be behind ours when a created task is looked up.
const CLOCK_SLACK: Duration = Duration::from_secs(600);

impl EventHandler {
    /// Creates `state`'s task, with `fields`, in project `project_id`: what was sent and what
    /// Vikunja has (the new task, or the one an earlier attempt made).
    pub(crate) async fn create(
        &self,
        state: &TaskState,
        fields: &TaskFields,
        project_id: i64,
    ) -> Result<(VikunjaTask, VikunjaTask), SyncError> {
        let uuid = state.uuid.as_str();
        if !self.creating_here.0.lock().await.insert(uuid.to_string()) {
            return Err(SyncError::CreateInFlight(uuid.to_string()));
        }
        let made = self.claim_and_create(uuid, fields, project_id).await;
        self.creating_here.0.lock().await.remove(uuid);
        made
    }

    async fn claim_and_create(
        &self,
        uuid: &str,
        fields: &TaskFields,
        project_id: i64,
    ) -> Result<(VikunjaTask, VikunjaTask), SyncError> {
        let sent = vikunja::apply(None, fields, project_id, &self.tags);
        let now = vsync_model::dates::now_us();
        let want = CreateClaim {
            uuid: uuid.to_string(),
            holder: self.holder.clone(),
            until_us: now + CLAIM_LEASE.as_micros() as i64,
            since_us: now,
            project_ids: vec![project_id],
            titles: vec![sent.title().to_string()],
        };
        let claim = match self.bus.claim_create(&want, now).await? {
            Claim::Held(c) => {
                tracing::info!(uuid, holder = %c.holder, "another writer creates the task");
                return Err(SyncError::CreateInFlight(uuid.to_string()));
            }
            Claim::Taken {
                previous: Some(_),
                claim,
            } => claim,
            Claim::Taken {
                previous: None,
                claim: _,
            } => return self.send_create(uuid, &sent, project_id).await,
        };
        // An earlier attempt may have made it.
        if let Some(found) = self.find_created(&claim).await? {
            tracing::info!(
                uuid,
                vikunja_id = found.id(),
                "an earlier create made the task"
            );
            return Ok((sent, found));
        }
        self.send_create(uuid, &sent, project_id).await
    }

    async fn send_create(
        &self,
        uuid: &str,
        sent: &VikunjaTask,
        project_id: i64,
    ) -> Result<(VikunjaTask, VikunjaTask), SyncError> {
        match self.api.create_task(project_id, sent).await {
            Ok(got) => {
                if !self.bus.link_if_new(got.id(), uuid).await?
                    && self.bus.linked_uuid(got.id()).await?.as_deref() != Some(uuid)
                {
                    tracing::error!(
                        uuid,
                        vikunja_id = got.id(),
                        "a new task is linked elsewhere"
                    );
                }
                self.remember_link(got.id(), uuid).await;
                Ok((sent.clone(), got))
            }
            Err(e) => {
                // The claim stays when the create may have been made: the next attempt looks
                // for it first.
                if !e.may_have_applied() {
                    self.bus.release_create(uuid).await?;
                }
                Err(e.into())
            }
        }
    }

    /// A task an earlier attempt of `claim` made, now linked to its uuid.
    async fn find_created(&self, claim: &CreateClaim) -> Result<Option<VikunjaTask>, SyncError> {
        let since = (claim.since_us - CLOCK_SLACK.as_micros() as i64) / 1_000_000;
        let filter = format!(
            "created >= {}",
            vsync_model::dates::format_vikunja(Some(since))
        );
        for project_id in &claim.project_ids {
            let listed = self
                .api
                .project_tasks_matching(*project_id, Some(&filter))
                .await?;
            for task in listed {
                if !claim.titles.iter().any(|t| t == task.title()) {
                    continue;
                }
                if self.bus.link_if_new(task.id(), &claim.uuid).await?
                    || self.bus.linked_uuid(task.id()).await?.as_deref() == Some(&claim.uuid)
                {
                    self.remember_link(task.id(), &claim.uuid).await;
                    return Ok(Some(task));
                }
            }
        }
        Ok(None)
    }

    /// The create a webhook (or a listing) of an unlinked Vikunja task probably comes from: a
    /// claim in its project that sent its title, for a task Vikunja does not have yet. Links the
    /// task to that claim's uuid.
    pub(crate) async fn claimed_by(&self, task: &VikunjaTask) -> Result<Option<String>, SyncError> {
        for claim in self.bus.creates_in(task.project_id()).await? {
            if !claim.titles.iter().any(|t| t == task.title()) {
                continue;
            }
            let (state, _) = self.load(&claim.uuid).await?;
            if state.vikunja_id > 0 {
                continue; // made and linked already; the claim is left over
            }
            if self.bus.link_if_new(task.id(), &claim.uuid).await? {
                tracing::info!(uuid = %claim.uuid, vikunja_id = task.id(), "a create's webhook came first");
                return Ok(Some(claim.uuid));
            }
        }
        Ok(None)
    }
}
