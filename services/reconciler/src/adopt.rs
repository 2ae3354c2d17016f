//! Adoption: both sides already hold tasks and no ids link them. Nothing that existed before is
//! created on the other side until its side has been adopted (docs/ARCHITECTURE.md §5.6):
//! Vikunja's tasks first (at first start when `[adopt] auto`, else by `vikunja-sync adopt`),
//! then each host when it says it waits (its hello) or when `adopt` runs. What to do is decided
//! by [`crate::adopt_plan`]; here it is carried out: canonical state written (fields merged,
//! the later change wins), local copies re-keyed, the host told what it holds back.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use vsync_bus::adoption::HeldTask;
use vsync_bus::control::reconciler::AdoptRequest;
use vsync_bus::reports::AdoptReport;
use vsync_model::{ProjectScope, TwTask, VikunjaTask, tw};
use vsync_proto::TaskStatus;

use crate::adopt_plan::{self, Bounds, HostPlan, Key, Known};
use crate::error::SyncError;
use crate::events::EventHandler;

/// How long a host may take to send its tasks before adoption goes on without it (it is
/// adopted when it next says it waits).
const EXPORT_TIMEOUT: Duration = Duration::from_secs(20);

/// Adoption settings (`[adopt]`, `vikunja.projects`).
#[derive(Clone, Debug)]
pub struct AdoptSettings {
    /// Adopt by itself: Vikunja at first start, each host when it says it waits.
    pub auto: bool,
    /// Completed and deleted tasks that ended longer ago stay behind.
    pub history: Duration,
    pub scope: ProjectScope,
    /// `vikunja.projects` as configured (top-level titles; empty: all).
    pub only: Vec<String>,
    /// Our webhook URL: webhooks on synced projects pointing elsewhere are foreign.
    pub webhook_url: Option<String>,
    /// Vikunja listings at once.
    pub concurrency: usize,
    /// A host not seen for this long is not asked (`[reconcile] host_timeout`): it is adopted
    /// when it next connects.
    pub host_timeout: Duration,
}

/// Which hosts an adoption covers.
enum Hosts {
    /// Every host following canonical state that is not adopted yet.
    NotAdopted,
    One(String),
}

impl EventHandler {
    /// `vikunja-sync adopt`: Vikunja unless adopted already, then every host not adopted yet
    /// that answers; hosts away are adopted when they next connect. syncall's pairs link by
    /// id, also where an earlier adoption held them; foreign webhooks are listed (removed with
    /// `remove_foreign_webhooks`).
    pub async fn adopt(
        &self,
        req: &AdoptRequest,
        concurrency: usize,
    ) -> Result<AdoptReport, SyncError> {
        let mut found = AdoptReport::default();
        let named = self.syncall_ids(&req.syncall, &mut found).await?;
        let mut report = self
            .adopt_sides(
                req.dry_run,
                Hosts::NotAdopted,
                req.progress.as_deref(),
                concurrency,
                &named,
            )
            .await?;
        report.syncall_matched = found.syncall_matched;
        report.syncall_unmatched = found.syncall_unmatched;
        if !req.dry_run && !named.is_empty() {
            // Sides adopted before (by title) may hold what syncall's pairs now tell apart.
            let adoption = self.bus.adoption().await?;
            let mut pairs: Vec<(&String, &i64)> = named.iter().collect();
            pairs.sort();
            for (uuid, id) in pairs {
                let held = adoption
                    .held
                    .iter()
                    .any(|h| h.uuid.as_deref() == Some(uuid.as_str()) || h.vikunja_id == Some(*id));
                let taken = self.linked_uuid(*id).await?.is_some_and(|u| u == *uuid);
                if held && !taken {
                    let linked = self.adopt_link(uuid, *id).await?;
                    report.link.extend(linked.link);
                }
            }
            report.held = self.bus.adoption().await?.held;
            report.ambiguous = ambiguous_lines(&report.held);
        }
        self.foreign_webhooks(&mut report, req.remove_foreign_webhooks)
            .await;
        Ok(report)
    }

    /// At start: adopt Vikunja when `[adopt] auto` and that has not happened yet.
    pub async fn adopt_at_start(&self) -> Result<(), SyncError> {
        if self.bus.adoption().await?.vikunja_at_us.is_some() {
            return Ok(());
        }
        if !self.adopt_settings.auto {
            // Waits for `vikunja-sync adopt`; `status` says how much is waiting.
            let (listed, _) = self
                .list_projects_tasks(None, self.adopt_settings.concurrency)
                .await?;
            let n = listed.len();
            self.bus
                .update_adoption(|a| a.pending_vikunja_tasks = Some(n))
                .await?;
            return Ok(());
        }
        let report = self
            .adopt_sides(
                false,
                Hosts::NotAdopted,
                None,
                self.adopt_settings.concurrency,
                &HashMap::new(),
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
    pub async fn on_hello(&self, host: &str, hello: &vsync_bus::Hello) -> Result<(), SyncError> {
        let adoption = self.bus.adoption().await?;
        if adoption.vikunja_at_us.is_none() && !self.adopt_settings.auto {
            tracing::info!(host, "host waits for `vikunja-sync adopt`");
            self.bus
                .update_adoption(|a| {
                    a.waiting_hosts.insert(host.to_string(), hello.tasks);
                })
                .await?;
            return Ok(());
        }
        let report = self
            .adopt_sides(
                false,
                Hosts::One(host.to_string()),
                None,
                self.adopt_settings.concurrency,
                &HashMap::new(),
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
        named: &HashMap<String, i64>,
    ) -> Result<AdoptReport, SyncError> {
        let _one = self.adopting.lock().await;
        let started = Instant::now();
        let mut report = AdoptReport {
            dry_run,
            ..Default::default()
        };
        let record = self.bus.adoption().await?;
        let names = self.hosts_to_adopt(hosts, &record, &mut report).await?;
        // Canonical state, Vikunja's listing and every host's export at once: none waits on
        // another. The hosts' plans are then made in turn (each against what the ones before it
        // made known).
        let listing = async {
            match record.vikunja_at_us {
                Some(_) => Ok(None),
                None => self.listed_with_paths(concurrency).await.map(Some),
            }
        };
        let exports = futures::future::join_all(
            names
                .iter()
                .map(|host| self.bus.host_tasks(host, EXPORT_TIMEOUT)),
        );
        let (states, listed, exports) = tokio::join!(self.bus.all_states(), listing, exports);
        let states = states?;
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
        let mut vikunja_plan = match listed? {
            None => None,
            Some(listed) => {
                let linked: HashSet<i64> = states.iter().map(|s| s.vikunja_id).collect();
                let pinned: HashMap<i64, String> =
                    named.iter().map(|(u, id)| (*id, u.clone())).collect();
                let plan = adopt_plan::plan_vikunja(listed, &linked, &pinned, &bounds);
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
        // Vikunja's new tasks take the uuid of the first host copy they link to (one host
        // fewer to re-key).
        let mut fresh = vikunja_plan
            .as_ref()
            .map(|p| adopt_plan::fresh_uuids(p, named))
            .unwrap_or_default();
        let mut host_plans: Vec<(String, HostPlan)> = Vec::new();
        for (host, exported) in names.into_iter().zip(exports) {
            let local: Vec<TwTask> = match exported {
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
            let mut plan = adopt_plan::plan_host(&host, local, &known, &held_keys, named, &bounds);
            if let Some(v) = vikunja_plan.as_mut() {
                adopt_plan::keep_host_uuids(v, &mut plan, &mut known, &mut fresh);
            }
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
            self.carry_out(vikunja_plan, host_plans, concurrency, progress)
                .await?;
        }
        report.took_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// The hosts an adoption asks: the one named, or every host not adopted yet that was seen
    /// lately (the others go to the report's `skipped`).
    async fn hosts_to_adopt(
        &self,
        hosts: Hosts,
        record: &vsync_bus::adoption::Adoption,
        report: &mut AdoptReport,
    ) -> Result<Vec<String>, SyncError> {
        let mut names = Vec::new();
        match hosts {
            Hosts::One(h) => names.push(h),
            Hosts::NotAdopted => {
                let now = vsync_model::dates::now_us();
                for h in self.bus.hosts_seen().await? {
                    if record.host_adopted(&h.host) {
                        continue;
                    }
                    match h.seen_within(self.adopt_settings.host_timeout, now) {
                        true => names.push(h.host),
                        false => report.skipped.push(format!(
                            "{}: not seen within {:?} (adopted when it next connects)",
                            h.host, self.adopt_settings.host_timeout
                        )),
                    }
                }
            }
        }
        Ok(names)
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
