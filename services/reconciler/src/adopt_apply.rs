//! Adoption carried out: what [`crate::adopt_plan`] decided, written. Vikunja's tasks get
//! canonical state (concurrently); each host's matched tasks merge into the state they are
//! linked to (with no common base each field goes to the side that changed it last), its
//! copies are re-keyed, and the host is told it is adopted with what it holds back.

use std::time::Duration;

use futures::StreamExt;
use vsync_bus::control::host::Rekey;
use vsync_bus::control::reconciler::Progress;
use vsync_model::{Change, TwTask, VikunjaTask, merge, tw, vikunja};
use vsync_proto::{Origin, TaskState};

use crate::adopt_plan::{HostPlan, VikunjaPlan};
use crate::error::SyncError;
use crate::events::EventHandler;

/// How long a host may take to re-key its tasks.
const REKEY_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a host may take to record its adoption.
const TELL_TIMEOUT: Duration = Duration::from_secs(30);

impl EventHandler {
    pub(crate) async fn carry_out_vikunja(
        &self,
        plan: VikunjaPlan,
        concurrency: usize,
        progress: Option<&str>,
        done: &mut usize,
        total: usize,
    ) -> Result<(), SyncError> {
        // The futures made first, so the stream holds no closure over borrowed items.
        let writes: Vec<_> = plan
            .create
            .iter()
            .map(|(uuid, t, path)| self.adopt_vikunja_task(uuid, t, path))
            .collect();
        let mut written = futures::stream::iter(writes).buffer_unordered(concurrency.max(1) * 4);
        while let Some(r) = written.next().await {
            r?;
            *done += 1;
            self.report_progress(progress, *done, total).await;
        }
        let now = vsync_model::dates::now_us();
        self.bus
            .update_adoption(|a| {
                a.vikunja_at_us = Some(now);
                a.pending_vikunja_tasks = None;
                a.vikunja_horizon_us = a.vikunja_horizon_us.max(plan.horizon_us);
                a.held.retain(|h| h.host.is_some());
                a.held.extend(plan.held.iter().cloned());
            })
            .await?;
        Ok(())
    }

    pub(crate) async fn carry_out_host(
        &self,
        host: &str,
        plan: HostPlan,
        progress: Option<&str>,
        done: &mut usize,
        total: usize,
    ) -> Result<(), SyncError> {
        let mut rekeys = Vec::new();
        for (t, to, _) in &plan.link {
            self.adopt_local(host, t, to).await?;
            if t.uuid() != to {
                rekeys.push(Rekey {
                    from: t.uuid().to_string(),
                    to: to.clone(),
                });
            }
            *done += 1;
            self.report_progress(progress, *done, total).await;
        }
        for t in &plan.create {
            self.adopt_local(host, t, t.uuid()).await?;
            *done += 1;
            self.report_progress(progress, *done, total).await;
        }
        if !rekeys.is_empty() {
            self.bus.rekey(host, &rekeys, REKEY_TIMEOUT).await?;
        }
        let held: Vec<String> = plan.held.iter().filter_map(|h| h.uuid.clone()).collect();
        self.bus.tell_adopted(host, &held, TELL_TIMEOUT).await?;
        let now = vsync_model::dates::now_us();
        self.bus
            .update_adoption(|a| {
                a.hosts.insert(host.to_string(), now);
                a.waiting_hosts.remove(host);
                a.held.retain(|h| h.host.as_deref() != Some(host));
                a.held.extend(plan.held.iter().cloned());
            })
            .await?;
        Ok(())
    }

    async fn report_progress(&self, to: Option<&str>, done: usize, total: usize) {
        if let Some(to) = to
            && let Err(e) = self.bus.report_progress(to, Progress { done, total }).await
        {
            tracing::debug!(error = %e, "cannot report adoption progress");
        }
    }

    /// Canonical state for a Vikunja task no host has shown yet.
    pub(crate) async fn adopt_vikunja_task(
        &self,
        uuid: &str,
        v: &VikunjaTask,
        path: &str,
    ) -> Result<(), SyncError> {
        if !self.bus.link_if_new(v.id(), uuid).await? {
            return Ok(()); // linked meanwhile
        }
        self.remember_link(v.id(), uuid).await;
        let mut state = TaskState {
            uuid: uuid.to_string(),
            ..Default::default()
        };
        let view = vikunja::view(v, path, &self.tags, false);
        merge(
            &mut state,
            &Change {
                origin: Origin::Vikunja,
                host: "",
                at_us: v.updated_us().unwrap_or(0),
                base: None,
                new: &view,
            },
        );
        state.vikunja_id = v.id();
        state.vikunja_project_id = v.project_id();
        state.vikunja_json = v.to_json();
        state.merged_at_us = vsync_model::dates::now_us();
        state.vikunja_dirty = self.vikunja_differs(&state, path);
        self.bus.store_state(&state, None).await?;
        if state.vikunja_dirty {
            self.push(uuid).await?;
        }
        Ok(())
    }

    /// A host's task `t` is the task known as `uuid`: its fields merge into canonical state
    /// (with no common base each field goes to the side that changed it last); a task known
    /// nowhere else gets canonical state under its own uuid and is created in Vikunja.
    pub(crate) async fn adopt_local(
        &self,
        host: &str,
        t: &TwTask,
        uuid: &str,
    ) -> Result<(), SyncError> {
        let view = tw::view(t);
        loop {
            let (mut state, rev) = self.load(uuid).await?;
            merge(
                &mut state,
                &Change {
                    origin: Origin::Taskwarrior,
                    host,
                    at_us: t.modified_us().unwrap_or(0),
                    base: None,
                    new: &view,
                },
            );
            let shown_path = match VikunjaTask::from_json(&state.vikunja_json) {
                Ok(v) => self.project_path(v.project_id()).await?,
                Err(_) => String::new(),
            };
            state.merged_at_us = vsync_model::dates::now_us();
            state.vikunja_dirty = self.vikunja_differs(&state, &shown_path);
            if let vsync_bus::Cas::Written(_) = self.bus.store_state(&state, rev).await? {
                if state.vikunja_dirty {
                    self.push(uuid).await?;
                }
                return Ok(());
            }
        }
    }
}
