//! First adoption: both sides already hold tasks and no ids link them. Match by stored ids
//! (canonical state, the `vikunja_id` UDA, the same uuid on several hosts), then by project and
//! title where that is unique on every side; report the rest instead of guessing. A dry run only
//! reports; otherwise matched tasks are linked (one canonical state, fields merged, later change
//! wins), the rest created on the side that lacks them.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use vsync_bus::control::host::Rekey;
use vsync_bus::control::reconciler::{AdoptRequest, Progress};
use vsync_bus::reports::AdoptReport;
use vsync_model::{Change, TwTask, VikunjaTask, merge, tw, vikunja};
use vsync_proto::{Origin, TaskState};

use crate::error::SyncError;
use crate::events::EventHandler;

/// How long a host may take to send its tasks.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a host may take to re-key its tasks.
const REKEY_TIMEOUT: Duration = Duration::from_secs(300);

/// Tasks sharing a project and title: (Vikunja task, its path) and (host, local task).
type Candidates = (Vec<(VikunjaTask, String)>, Vec<(String, TwTask)>);

/// One task identity being assembled from the sides.
#[derive(Default)]
struct Group {
    vikunja: Option<(VikunjaTask, String)>,
    /// (host, task)
    local: Vec<(String, TwTask)>,
}

impl EventHandler {
    pub async fn adopt(
        &self,
        req: &AdoptRequest,
        concurrency: usize,
    ) -> Result<AdoptReport, SyncError> {
        let started = Instant::now();
        let mut report = AdoptReport {
            dry_run: req.dry_run,
            ..Default::default()
        };
        // Every side as it is now.
        let (listed, _) = self.list_projects_tasks(None, concurrency).await?;
        let mut vikunja_tasks = Vec::with_capacity(listed.len());
        for t in listed {
            let path = self
                .projects
                .lock()
                .await
                .path_or_fetch(t.project_id(), &self.api)
                .await?;
            vikunja_tasks.push((t, path));
        }
        report.hosts = self.bus.hosts().await?;
        let mut host_tasks: Vec<(String, Vec<TwTask>)> = Vec::new();
        for host in &report.hosts {
            let tasks: Vec<TwTask> = self
                .bus
                .host_tasks(host, EXPORT_TIMEOUT)
                .await
                .map_err(|e| {
                    SyncError::Invalid(format!("host {host} did not send its tasks: {e}"))
                })?
                .into_iter()
                .filter_map(|v| TwTask::from_value(v).ok())
                .filter(|t| !t.is_template() && t.status() != "deleted")
                .collect();
            host_tasks.push((host.clone(), tasks));
        }
        let states = self.bus.all_states().await?;
        let state_by_uuid: HashMap<&str, &TaskState> =
            states.iter().map(|s| (s.uuid.as_str(), s)).collect();
        let linked_ids: HashMap<i64, &str> = states
            .iter()
            .filter(|s| s.vikunja_id > 0)
            .map(|s| (s.vikunja_id, s.uuid.as_str()))
            .collect();

        // 1. By ids: canonical state, the same uuid on several hosts, the vikunja_id UDA.
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        let mut loose_vikunja: Vec<(VikunjaTask, String)> = Vec::new();
        for (t, path) in vikunja_tasks {
            match linked_ids.get(&t.id()) {
                Some(_) => report.already_linked += 1,
                None => loose_vikunja.push((t, path)),
            }
        }
        let mut loose_local: Vec<(String, TwTask)> = Vec::new();
        for (host, tasks) in &host_tasks {
            for t in tasks {
                if state_by_uuid.contains_key(t.uuid()) {
                    continue; // already linked
                }
                if let Some(id) = t.vikunja_id()
                    && let Some(pos) = loose_vikunja.iter().position(|(v, _)| v.id() == id)
                {
                    let v = loose_vikunja.remove(pos);
                    groups.entry(t.uuid().to_string()).or_default().vikunja = Some(v);
                }
                match groups.get_mut(t.uuid()) {
                    Some(g) => g.local.push((host.clone(), t.clone())),
                    None if host_tasks
                        .iter()
                        .filter(|(_, ts)| ts.iter().any(|o| o.uuid() == t.uuid()))
                        .count()
                        > 1 =>
                    {
                        groups
                            .entry(t.uuid().to_string())
                            .or_default()
                            .local
                            .push((host.clone(), t.clone()));
                    }
                    None => loose_local.push((host.clone(), t.clone())),
                }
            }
        }
        // 2. By project + title, where unique on every side.
        let key = |project: &str, title: &str| format!("{project}\u{0}{title}");
        for g in groups.values_mut().filter(|g| g.vikunja.is_none()) {
            let Some((_, t)) = g.local.first() else {
                continue;
            };
            let view = tw::view(t);
            let same: Vec<usize> = loose_vikunja
                .iter()
                .enumerate()
                .filter(|(_, (v, path))| *path == view.project && v.title() == view.description)
                .map(|(i, _)| i)
                .collect();
            if let [i] = same[..] {
                g.vikunja = Some(loose_vikunja.remove(i));
            }
        }
        let mut by_key: BTreeMap<String, Candidates> = BTreeMap::new();
        for (v, path) in loose_vikunja {
            by_key
                .entry(key(&path, v.title()))
                .or_default()
                .0
                .push((v, path));
        }
        for (host, t) in loose_local {
            let view = tw::view(&t);
            by_key
                .entry(key(&view.project, &view.description))
                .or_default()
                .1
                .push((host, t));
        }
        for (k, (vs, ls)) in by_key {
            let per_host_unique = report
                .hosts
                .iter()
                .all(|h| ls.iter().filter(|(lh, _)| lh == h).count() <= 1);
            if vs.len() > 1 || !per_host_unique {
                let (project, title) = k.split_once('\u{0}').unwrap_or(("", &k));
                report.ambiguous.push(format!(
                    "project {project:?} title {title:?}: {} in Vikunja, {} in Taskwarrior",
                    vs.len(),
                    ls.len()
                ));
                continue;
            }
            let mut locals = ls;
            locals.sort_by(|a, b| a.1.uuid().cmp(b.1.uuid()));
            let uuid = match locals.first() {
                Some((_, t)) => t.uuid().to_string(),
                None => uuid::Uuid::new_v4().to_string(),
            };
            let g = groups.entry(uuid).or_default();
            g.vikunja = vs.into_iter().next();
            g.local.extend(locals);
        }
        // The plan.
        for (uuid, g) in &groups {
            match (&g.vikunja, g.local.is_empty()) {
                (Some((v, _)), false) => {
                    report
                        .link
                        .push((uuid.clone(), v.id(), v.title().to_string()))
                }
                (Some((v, _)), true) => report
                    .create_in_taskwarrior
                    .push((v.id(), v.title().to_string())),
                (None, _) => {
                    let title = g
                        .local
                        .first()
                        .map(|(_, t)| tw::view(t).description)
                        .unwrap_or_default();
                    report.create_in_vikunja.push((uuid.clone(), title));
                }
            }
            for (host, t) in &g.local {
                if t.uuid() != uuid {
                    report
                        .rekey
                        .push((host.clone(), t.uuid().to_string(), uuid.clone()));
                }
            }
        }
        if !req.dry_run {
            let total = groups.len();
            for (done, (uuid, g)) in groups.into_iter().enumerate() {
                self.adopt_group(&uuid, g).await?;
                if let Some(to) = &req.progress {
                    let progress = Progress {
                        done: done + 1,
                        total,
                    };
                    if let Err(e) = self.bus.report_progress(to, progress).await {
                        tracing::debug!(error = %e, "cannot report adoption progress");
                    }
                }
            }
            // One request per host with all its re-keys (one export and one import there).
            let mut by_host: BTreeMap<&str, Vec<Rekey>> = BTreeMap::new();
            for (host, from, to) in &report.rekey {
                by_host.entry(host).or_default().push(Rekey {
                    from: from.clone(),
                    to: to.clone(),
                });
            }
            for (host, rekeys) in by_host {
                self.bus.rekey(host, &rekeys, REKEY_TIMEOUT).await?;
            }
            self.bus.set_adopted(vsync_model::dates::now_us()).await?;
        }
        report.took_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// One canonical state from every side's view of the task: the later change wins each field.
    async fn adopt_group(&self, uuid: &str, g: Group) -> Result<(), SyncError> {
        let mut state = TaskState {
            uuid: uuid.to_string(),
            ..Default::default()
        };
        if let Some((v, path)) = &g.vikunja {
            let mut view = vikunja::view(v, path, &self.tags, false);
            // Tags that are never synced live on the hosts only: Vikunja's view cannot drop them.
            let local_tags: Vec<String> =
                g.local.iter().flat_map(|(_, t)| tw::view(t).tags).collect();
            view.tags = self.tags.with_unsynced(&view.tags, &local_tags);
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
        }
        // With no base every side is concurrent with the others: each field goes to the side
        // that changed it last.
        for (host, t) in &g.local {
            let view = tw::view(t);
            let at = t.modified_us().unwrap_or(0);
            merge(
                &mut state,
                &Change {
                    origin: Origin::Taskwarrior,
                    host,
                    at_us: at,
                    base: None,
                    new: &view,
                },
            );
        }
        state.merged_at_us = vsync_model::dates::now_us();
        let shown_path = match &g.vikunja {
            Some((_, p)) => p.clone(),
            None => String::new(),
        };
        state.vikunja_dirty = self.vikunja_differs(&state, &shown_path);
        if state.vikunja_id > 0 {
            self.bus.link(state.vikunja_id, uuid).await?;
            self.remember_link(state.vikunja_id, uuid).await;
        }
        match self.bus.store_state(&state, None).await? {
            vsync_bus::Cas::Written(_) => {}
            vsync_bus::Cas::Stale => return Ok(()), // someone linked it meanwhile
        }
        if state.vikunja_dirty {
            self.push(uuid).await?;
        }
        Ok(())
    }
}
