//! Adoption carried out: what [`crate::adopt_plan`] decided, written. Each task is written once,
//! with Vikunja's side (new to canonical state) and every host's copy merged into it (with no
//! common base each field goes to the side that changed it last), many tasks at once; then the
//! hosts re-key their copies and are told they are adopted, all at once.
//!
//! Two steps, in this order because a crash may cut adoption short: first the tasks Vikunja
//! shows (none of them is created in Vikunja), then Vikunja is recorded as adopted, and only then
//! the tasks only hosts show (created in Vikunja). Run again, adoption finds every task of the
//! first step linked, and a create of the second step is found by its claim (`create.rs`), not
//! listed as a Vikunja task to adopt.

use std::collections::BTreeMap;
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
/// Task writes in flight per unit of `concurrency`: each is a few KV round trips, so many at
/// once keep the bus busy instead of waiting on each answer in turn.
const WRITES_PER_LISTING: usize = 16;

/// What one task's adoption merges: its Vikunja task (new to canonical state, with its project
/// path) and each host's copy.
type Sides<'a> = (
    Option<(&'a VikunjaTask, &'a str)>,
    Vec<(&'a str, &'a TwTask)>,
);

impl EventHandler {
    /// Writes every task of the plans, records Vikunja as adopted, then has every host re-key
    /// and record its adoption.
    pub(crate) async fn carry_out(
        &self,
        vikunja: Option<VikunjaPlan>,
        hosts: Vec<(String, HostPlan)>,
        concurrency: usize,
        progress: Option<&str>,
    ) -> Result<(), SyncError> {
        let mut tasks: BTreeMap<&str, Sides<'_>> = BTreeMap::new();
        if let Some(plan) = &vikunja {
            for (uuid, t, path) in &plan.create {
                tasks.entry(uuid).or_default().0 = Some((t, path));
            }
        }
        for (host, plan) in &hosts {
            for (t, to, _) in &plan.link {
                tasks.entry(to).or_default().1.push((host, t));
            }
            for t in &plan.create {
                tasks.entry(t.uuid()).or_default().1.push((host, t));
            }
        }
        let (shown, host_only): (Vec<_>, Vec<_>) =
            tasks.into_iter().partition(|(_, (v, _))| v.is_some());
        let total = shown.len() + host_only.len();
        let mut done = 0;
        let width = concurrency.max(1) * WRITES_PER_LISTING;
        self.adopt_all(shown, width, progress, &mut done, total)
            .await?;
        if let Some(plan) = &vikunja {
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
        }
        self.adopt_all(host_only, width, progress, &mut done, total)
            .await?;
        // Each host re-keys and records its adoption; they work side by side.
        let told =
            futures::future::join_all(hosts.iter().map(|(host, plan)| self.tell_host(host, plan)))
                .await;
        told.into_iter().collect()
    }

    /// Adopts `tasks`, `width` at once.
    async fn adopt_all(
        &self,
        tasks: Vec<(&str, Sides<'_>)>,
        width: usize,
        progress: Option<&str>,
        done: &mut usize,
        total: usize,
    ) -> Result<(), SyncError> {
        // The futures made first, so the stream holds no closure over borrowed items.
        let writes: Vec<_> = tasks
            .iter()
            .map(|(uuid, (v, locals))| self.adopt_task(uuid, *v, locals))
            .collect();
        let mut written = futures::stream::iter(writes).buffer_unordered(width);
        while let Some(r) = written.next().await {
            r?;
            *done += 1;
            self.report_progress(progress, *done, total).await;
        }
        Ok(())
    }

    /// `host`'s copies get their canonical uuids, then it is told it is adopted, with what it
    /// holds back.
    async fn tell_host(&self, host: &str, plan: &HostPlan) -> Result<(), SyncError> {
        let rekeys: Vec<Rekey> = plan
            .link
            .iter()
            .filter(|(t, to, _)| t.uuid() != to)
            .map(|(t, to, _)| Rekey {
                from: t.uuid().to_string(),
                to: to.clone(),
            })
            .collect();
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
        self.adopt_task(uuid, Some((v, path)), &[]).await
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
        self.adopt_task(uuid, None, &[(host, t)]).await
    }

    /// Task `uuid` in one compare-and-set write: the Vikunja task `vikunja` (linked to it here;
    /// not when something linked it meanwhile), then each host's copy, merged in that order.
    async fn adopt_task(
        &self,
        uuid: &str,
        vikunja: Option<(&VikunjaTask, &str)>,
        locals: &[(&str, &TwTask)],
    ) -> Result<(), SyncError> {
        let vikunja = match vikunja {
            Some((v, path)) if self.bus.link_if_new(v.id(), uuid).await? => {
                self.remember_link(v.id(), uuid).await;
                Some((v, path, vikunja::view(v, path, &self.tags, false)))
            }
            _ => None, // linked meanwhile
        };
        if vikunja.is_none() && locals.is_empty() {
            return Ok(());
        }
        let views: Vec<_> = locals.iter().map(|(h, t)| (*h, *t, tw::view(t))).collect();
        // A task Vikunja shows is new to canonical state: no read needed the first time.
        let mut fresh = vikunja.is_some();
        loop {
            let (mut state, rev) = match fresh {
                true => (
                    TaskState {
                        uuid: uuid.to_string(),
                        ..Default::default()
                    },
                    None,
                ),
                false => self.load(uuid).await?,
            };
            if let Some((v, _, view)) = &vikunja {
                merge(
                    &mut state,
                    &Change {
                        origin: Origin::Vikunja,
                        host: "",
                        at_us: v.updated_us().unwrap_or(0),
                        base: None,
                        new: view,
                    },
                );
                state.vikunja_id = v.id();
                state.vikunja_project_id = v.project_id();
                state.vikunja_json = v.to_json();
            }
            for (host, t, view) in &views {
                merge(
                    &mut state,
                    &Change {
                        origin: Origin::Taskwarrior,
                        host,
                        at_us: t.modified_us().unwrap_or(0),
                        base: None,
                        new: view,
                    },
                );
            }
            let shown_path = match (&vikunja, VikunjaTask::from_json(&state.vikunja_json)) {
                (Some((_, path, _)), _) => path.to_string(),
                (None, Ok(v)) => self.project_path(v.project_id()).await?,
                (None, Err(_)) => String::new(),
            };
            state.merged_at_us = vsync_model::dates::now_us();
            state.vikunja_dirty = self.vikunja_differs(&state, &shown_path);
            if let vsync_bus::Cas::Written(_) = self.bus.store_state(&state, rev).await? {
                if state.vikunja_dirty {
                    self.push(uuid).await?;
                }
                return Ok(());
            }
            fresh = false; // written meanwhile: merge into what is there
        }
    }
}
