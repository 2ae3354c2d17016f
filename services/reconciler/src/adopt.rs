//! Adoption: both sides already hold tasks and no ids link them. Nothing that existed before is
//! created on the other side until its side has been adopted (docs/ARCHITECTURE.md §5.6):
//! Vikunja's tasks first (at first start when `[adopt] auto`, else by `vikunja-sync adopt`),
//! then each host when it says it waits (its hello) or when `adopt` runs. What to do is decided
//! by [`crate::adopt_plan`]; here it is carried out: canonical state written (fields merged,
//! the later change wins), local copies re-keyed, the host told what it holds back.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use vsync_bus::adoption::HeldTask;
use vsync_bus::control::host::Rekey;
use vsync_bus::control::reconciler::{AdoptRequest, Progress};
use vsync_bus::reports::AdoptReport;
use vsync_model::{Change, ProjectScope, TwTask, VikunjaTask, merge, tw, vikunja};
use vsync_proto::{Origin, TaskState, TaskStatus};

use crate::adopt_plan::{self, Bounds, HostPlan, Key, Known, VikunjaPlan};
use crate::error::SyncError;
use crate::events::EventHandler;

/// How long a host may take to send its tasks before adoption goes on without it (it is
/// adopted when it next says it waits).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a host may take to re-key its tasks.
const REKEY_TIMEOUT: Duration = Duration::from_secs(300);
/// How long a host may take to record its adoption.
const TELL_TIMEOUT: Duration = Duration::from_secs(30);

/// Adoption settings (`[adopt]`, `vikunja.projects`).
#[derive(Clone, Debug)]
pub struct AdoptSettings {
    /// Adopt by itself: Vikunja at first start, each host when it says it waits.
    pub auto: bool,
    /// Completed and deleted tasks that ended longer ago stay behind.
    pub history: Duration,
    pub scope: ProjectScope,
    /// Vikunja listings at once.
    pub concurrency: usize,
}

/// Which hosts an adoption covers.
enum Hosts {
    /// Every host following canonical state that is not adopted yet.
    NotAdopted,
    One(String),
}

impl EventHandler {
    /// `vikunja-sync adopt`: Vikunja unless adopted already, then every host not adopted yet
    /// that answers; hosts away are adopted when they next connect.
    pub async fn adopt(
        &self,
        req: &AdoptRequest,
        concurrency: usize,
    ) -> Result<AdoptReport, SyncError> {
        self.adopt_sides(
            req.dry_run,
            Hosts::NotAdopted,
            req.progress.as_deref(),
            concurrency,
        )
        .await
    }

    /// At start: adopt Vikunja when `[adopt] auto` and that has not happened yet.
    pub async fn adopt_at_start(&self) -> Result<(), SyncError> {
        if !self.adopt_settings.auto || self.bus.adoption().await?.vikunja_at_us.is_some() {
            return Ok(());
        }
        let report = self
            .adopt_sides(
                false,
                Hosts::NotAdopted,
                None,
                self.adopt_settings.concurrency,
            )
            .await?;
        tracing::info!(
            created = report.create_in_taskwarrior.len(),
            held = report.held.len(),
            took_ms = report.took_ms,
            "Vikunja adopted"
        );
        Ok(())
    }

    /// Host `host` says it waits to be adopted (a new host, or one whose state was lost).
    pub async fn on_hello(&self, host: &str) -> Result<(), SyncError> {
        let adoption = self.bus.adoption().await?;
        if adoption.vikunja_at_us.is_none() && !self.adopt_settings.auto {
            tracing::info!(host, "host waits for `vikunja-sync adopt`");
            return Ok(());
        }
        let report = self
            .adopt_sides(
                false,
                Hosts::One(host.to_string()),
                None,
                self.adopt_settings.concurrency,
            )
            .await?;
        tracing::info!(
            host,
            linked = report.link.len(),
            created = report.create_in_vikunja.len(),
            held = report.held.len(),
            skipped = report.skipped.len(),
            took_ms = report.took_ms,
            "host adopted"
        );
        match report.skipped.first() {
            // It asked but did not answer: try again later (the hello is redelivered).
            Some(why) => Err(SyncError::HostAway(why.clone())),
            None => Ok(()),
        }
    }

    async fn adopt_sides(
        &self,
        dry_run: bool,
        hosts: Hosts,
        progress: Option<&str>,
        concurrency: usize,
    ) -> Result<AdoptReport, SyncError> {
        let _one = self.adopting.lock().await;
        let started = Instant::now();
        let mut report = AdoptReport {
            dry_run,
            ..Default::default()
        };
        let record = self.bus.adoption().await?;
        let states = self.bus.all_states().await?;
        let history = self.adopt_settings.history.as_secs() as i64;
        let bounds = Bounds {
            history_from_s: vsync_model::dates::now_us() / 1_000_000 - history,
            scope: &self.adopt_settings.scope,
        };
        let mut known: Vec<Known> = states
            .iter()
            .filter_map(|s| {
                let f = s.fields.as_ref()?;
                (f.status() != TaskStatus::Deleted).then(|| Known {
                    uuid: s.uuid.clone(),
                    vikunja_id: s.vikunja_id,
                    key: (f.project.clone(), f.description.clone()),
                })
            })
            .collect();
        let mut held_keys: HashSet<Key> = record
            .held
            .iter()
            .map(|h| (h.project.clone(), h.title.clone()))
            .collect();
        let vikunja_plan = match record.vikunja_at_us {
            Some(_) => None,
            None => {
                let linked: HashSet<i64> = states.iter().map(|s| s.vikunja_id).collect();
                let plan = adopt_plan::plan_vikunja(
                    self.listed_with_paths(concurrency).await?,
                    &linked,
                    &bounds,
                );
                known.extend(plan.create.iter().map(|(uuid, t, path)| Known {
                    uuid: uuid.clone(),
                    vikunja_id: t.id(),
                    key: (path.clone(), t.title().to_string()),
                }));
                report.already_linked += plan.already_linked;
                report.left_out += plan.left_out;
                report.vikunja = true;
                note_held(&mut report, &mut held_keys, &plan.held);
                Some(plan)
            }
        };
        let names = match hosts {
            Hosts::One(h) => vec![h],
            Hosts::NotAdopted => self
                .bus
                .hosts()
                .await?
                .into_iter()
                .filter(|h| !record.host_adopted(h))
                .collect(),
        };
        let mut host_plans: Vec<(String, HostPlan)> = Vec::new();
        for host in names {
            let local: Vec<TwTask> = match self.bus.host_tasks(&host, EXPORT_TIMEOUT).await {
                Ok(objects) => objects
                    .into_iter()
                    .filter_map(|v| TwTask::from_value(v).ok())
                    .filter(|t| !t.is_template())
                    .collect(),
                Err(e) => {
                    report
                        .skipped
                        .push(format!("{host}: {e} (adopted when it next connects)"));
                    continue;
                }
            };
            let plan = adopt_plan::plan_host(&host, local, &known, &held_keys, &bounds);
            known.extend(adopt_plan::known_after(&plan));
            for (t, to, id) in &plan.link {
                let title = tw::view(t).description;
                report.link.push((to.clone(), *id, title));
                if t.uuid() != to {
                    report
                        .rekey
                        .push((host.clone(), t.uuid().to_string(), to.clone()));
                }
            }
            report.create_in_vikunja.extend(
                plan.create
                    .iter()
                    .map(|t| (t.uuid().to_string(), tw::view(t).description)),
            );
            report.left_out += plan.left_out;
            note_held(&mut report, &mut held_keys, &plan.held);
            report.hosts.push(host.clone());
            host_plans.push((host, plan));
        }
        // One line per task linked (whatever number of hosts show it); Vikunja's tasks no host
        // matched are the ones new to Taskwarrior.
        let mut seen = HashSet::new();
        report.link.retain(|(uuid, _, _)| seen.insert(uuid.clone()));
        if let Some(plan) = &vikunja_plan {
            report.create_in_taskwarrior = plan
                .create
                .iter()
                .filter(|(uuid, _, _)| !seen.contains(uuid))
                .map(|(_, t, _)| (t.id(), t.title().to_string()))
                .collect();
        }
        if !dry_run {
            let total = vikunja_plan.as_ref().map_or(0, |p| p.create.len())
                + host_plans
                    .iter()
                    .map(|(_, p)| p.link.len() + p.create.len())
                    .sum::<usize>();
            let mut done = 0;
            if let Some(plan) = vikunja_plan {
                self.carry_out_vikunja(plan, concurrency, progress, &mut done, total)
                    .await?;
            }
            for (host, plan) in host_plans {
                self.carry_out_host(&host, plan, progress, &mut done, total)
                    .await?;
            }
        }
        report.took_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Every Vikunja task with its project path.
    async fn listed_with_paths(
        &self,
        concurrency: usize,
    ) -> Result<Vec<(VikunjaTask, String)>, SyncError> {
        let (listed, _) = self.list_projects_tasks(None, concurrency).await?;
        let mut out = Vec::with_capacity(listed.len());
        for t in listed {
            let path = self.project_path(t.project_id()).await?;
            out.push((t, path));
        }
        Ok(out)
    }

    async fn carry_out_vikunja(
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
                a.vikunja_horizon_us = a.vikunja_horizon_us.max(plan.horizon_us);
                a.held.retain(|h| h.host.is_some());
                a.held.extend(plan.held.iter().cloned());
            })
            .await?;
        Ok(())
    }

    async fn carry_out_host(
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

/// Held tasks go into the report, and their project + title are held for the sides after.
fn note_held(report: &mut AdoptReport, held_keys: &mut HashSet<Key>, held: &[HeldTask]) {
    for h in held {
        held_keys.insert((h.project.clone(), h.title.clone()));
        report.held.push(h.clone());
    }
    report.ambiguous = ambiguous_lines(&report.held);
}

/// One line per held project + title, with both sides' counts.
fn ambiguous_lines(held: &[HeldTask]) -> Vec<String> {
    let mut by_key: BTreeMap<(&str, &str), (usize, usize)> = BTreeMap::new();
    for h in held {
        let e = by_key.entry((&h.project, &h.title)).or_default();
        match h.host {
            None => e.0 += 1,
            Some(_) => e.1 += 1,
        }
    }
    by_key
        .into_iter()
        .map(|((project, title), (v, l))| {
            format!("project {project:?} title {title:?}: {v} in Vikunja, {l} in Taskwarrior")
        })
        .collect()
}
