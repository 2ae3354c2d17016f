//! What adoption would do, decided without touching anything (a dry run prints it; a real run
//! carries it out): first Vikunja's tasks, then each host's against everything known by then.
//!
//! A task is matched by ids (its uuid, the `vikunja_id` UDA), then by project + title. A
//! project + title that is not unique on some side, or that is held anywhere, is never
//! guessed: those tasks are held back on their side until the user links or separates them.
//! Completed and deleted tasks that ended before the history bound are left where they are.

use std::collections::{BTreeMap, HashMap, HashSet};

use vsync_bus::adoption::HeldTask;
use vsync_model::{ProjectScope, TwTask, VikunjaTask, tw};

/// Project and title: how tasks without common ids are matched.
pub(crate) type Key = (String, String);

/// A task every side already knows (canonical state, or about to be).
#[derive(Clone, Debug)]
pub(crate) struct Known {
    pub uuid: String,
    pub vikunja_id: i64,
    pub key: Key,
}

/// What the Vikunja step does.
#[derive(Debug, Default)]
pub(crate) struct VikunjaPlan {
    /// (uuid chosen for it, task, project path): new canonical state.
    pub create: Vec<(String, VikunjaTask, String)>,
    pub held: Vec<HeldTask>,
    pub already_linked: usize,
    /// Done before the history bound, or outside the synced projects.
    pub left_out: usize,
    /// The newest `created` listed (µs).
    pub horizon_us: i64,
}

/// What one host's step does.
#[derive(Debug, Default)]
pub(crate) struct HostPlan {
    /// (local task, the uuid it is known by everywhere else, its Vikunja id or 0).
    pub link: Vec<(TwTask, String, i64)>,
    /// Only on this host: new canonical state under its own uuid.
    pub create: Vec<TwTask>,
    pub held: Vec<HeldTask>,
    pub left_out: usize,
}

/// Bounds of what adoption carries over.
pub(crate) struct Bounds<'a> {
    /// Completed or deleted tasks that ended before this (seconds) stay behind.
    pub history_from_s: i64,
    pub scope: &'a ProjectScope,
}

/// Vikunja's tasks not linked yet: each gets canonical state, unless its project + title is
/// shared by another (held) or it ended before the history bound. `pinned`: Vikunja id -> the
/// uuid of the host task that names it (syncall's pairs), created under it whatever its title.
pub(crate) fn plan_vikunja(
    listed: Vec<(VikunjaTask, String)>,
    linked: &HashSet<i64>,
    pinned: &HashMap<i64, String>,
    bounds: &Bounds<'_>,
) -> VikunjaPlan {
    let mut plan = VikunjaPlan::default();
    let mut by_key: BTreeMap<Key, Vec<(VikunjaTask, String)>> = BTreeMap::new();
    for (t, path) in listed {
        plan.horizon_us = plan.horizon_us.max(t.created().unwrap_or(0) * 1_000_000);
        if linked.contains(&t.id()) {
            plan.already_linked += 1;
        } else if let Some(uuid) = pinned.get(&t.id()) {
            // A host's task names it by id (syncall's pair): never ambiguous, and it keeps
            // that task's uuid, so nothing is re-keyed.
            plan.create.push((uuid.clone(), t, path));
        } else if !bounds.scope.contains(&path)
            || (t.done() && t.done_at().unwrap_or(0) < bounds.history_from_s)
        {
            plan.left_out += 1;
        } else {
            by_key
                .entry((path.clone(), t.title().to_string()))
                .or_default()
                .push((t, path));
        }
    }
    for (key, tasks) in by_key {
        let n = tasks.len();
        for (t, path) in tasks {
            if n > 1 {
                plan.held.push(HeldTask {
                    host: None,
                    uuid: None,
                    vikunja_id: Some(t.id()),
                    project: key.0.clone(),
                    title: key.1.clone(),
                    status: if t.done() { "done" } else { "open" }.into(),
                    why: format!("{n} Vikunja tasks share this project and title"),
                });
            } else {
                plan.create
                    .push((uuid::Uuid::new_v4().to_string(), t, path));
            }
        }
    }
    plan
}

/// One host's tasks against what is `known`: the same uuid or Vikunja id links; then a project
/// and title unique here and among the known tasks links; a task with no counterpart is
/// created; the rest is held. `held_keys`: project and title held anywhere; `named`: uuid ->
/// Vikunja id known from elsewhere (syncall's pairs), taken like the `vikunja_id` UDA.
pub(crate) fn plan_host(
    host: &str,
    local: Vec<TwTask>,
    known: &[Known],
    held_keys: &HashSet<Key>,
    named: &HashMap<String, i64>,
    bounds: &Bounds<'_>,
) -> HostPlan {
    let mut plan = HostPlan::default();
    let by_uuid: HashMap<&str, &Known> = known.iter().map(|k| (k.uuid.as_str(), k)).collect();
    let by_id: HashMap<i64, &Known> = known
        .iter()
        .filter(|k| k.vikunja_id > 0)
        .map(|k| (k.vikunja_id, k))
        .collect();
    let here: HashSet<String> = local.iter().map(|t| t.uuid().to_string()).collect();
    let mut taken: HashSet<String> = HashSet::new();
    let mut loose: BTreeMap<Key, Vec<TwTask>> = BTreeMap::new();
    for t in local {
        let view = tw::view(&t);
        let ended_before = view.end.is_some_and(|e| e < bounds.history_from_s);
        if t.status() == "deleted" {
            plan.left_out += 1;
        } else if let Some(k) = by_uuid.get(t.uuid()) {
            taken.insert(k.uuid.clone());
            plan.link.push((t.clone(), k.uuid.clone(), k.vikunja_id));
        } else if ended_before || !bounds.scope.contains(&view.project) {
            plan.left_out += 1;
        } else if let Some(k) = t
            .vikunja_id()
            .or_else(|| named.get(t.uuid()).copied())
            .and_then(|id| by_id.get(&id))
            && !here.contains(k.uuid.as_str())
            && taken.insert(k.uuid.clone())
        {
            plan.link.push((t.clone(), k.uuid.clone(), k.vikunja_id));
        } else {
            loose
                .entry((view.project, view.description))
                .or_default()
                .push(t);
        }
    }
    // Known tasks this host does not show yet, by project + title.
    let mut open: HashMap<&Key, Vec<&Known>> = HashMap::new();
    for k in known
        .iter()
        .filter(|k| !here.contains(k.uuid.as_str()) && !taken.contains(&k.uuid))
    {
        open.entry(&k.key).or_default().push(k);
    }
    for (key, tasks) in loose {
        let counterparts = open.get(&key).map(Vec::as_slice).unwrap_or_default();
        let why = if held_keys.contains(&key) {
            Some("its project and title are held on another side".to_string())
        } else if tasks.len() > 1 {
            Some(format!(
                "{} tasks on {host} share this project and title",
                tasks.len()
            ))
        } else if counterparts.len() > 1 {
            Some(format!(
                "{} tasks elsewhere share this project and title",
                counterparts.len()
            ))
        } else {
            None
        };
        match (why, counterparts) {
            (Some(why), _) => plan.held.extend(tasks.into_iter().map(|t| HeldTask {
                host: Some(host.to_string()),
                uuid: Some(t.uuid().to_string()),
                vikunja_id: None,
                project: key.0.clone(),
                title: key.1.clone(),
                status: t.status().to_string(),
                why: why.clone(),
            })),
            (None, [k]) => plan
                .link
                .extend(tasks.into_iter().map(|t| (t, k.uuid.clone(), k.vikunja_id))),
            (None, _) => plan.create.extend(tasks),
        }
    }
    plan
}

/// The uuids `plan` chose for Vikunja's new tasks (not syncall's: those are a host's already),
/// each of which the first host whose copy links to it may take over.
pub(crate) fn fresh_uuids(plan: &VikunjaPlan, pinned: &HashMap<String, i64>) -> HashSet<String> {
    plan.create
        .iter()
        .map(|(uuid, _, _)| uuid.clone())
        .filter(|uuid| !pinned.contains_key(uuid))
        .collect()
}

/// Vikunja's new tasks that `host`'s copies link to take the copy's uuid instead of the one
/// chosen for them (in `vikunja`, `known` and the host's links): that host keeps its tasks as
/// they are instead of re-keying them. Only a uuid of `fresh` (chosen by this adoption, not
/// written yet) is given up, once.
pub(crate) fn keep_host_uuids(
    vikunja: &mut VikunjaPlan,
    host: &mut HostPlan,
    known: &mut [Known],
    fresh: &mut HashSet<String>,
) {
    let mut renamed: HashMap<String, String> = HashMap::new();
    for (t, to, _) in &mut host.link {
        if t.uuid() != to && fresh.remove(to.as_str()) {
            let chosen = std::mem::replace(to, t.uuid().to_string());
            renamed.insert(chosen, to.clone());
        }
    }
    for (uuid, _, _) in &mut vikunja.create {
        if let Some(to) = renamed.get(uuid) {
            *uuid = to.clone();
        }
    }
    for k in known {
        if let Some(to) = renamed.get(&k.uuid) {
            k.uuid = to.clone();
        }
    }
}

/// What the host's plan adds to what everyone knows, for the hosts after it.
pub(crate) fn known_after(plan: &HostPlan) -> Vec<Known> {
    plan.create
        .iter()
        .map(|t| {
            let view = tw::view(t);
            Known {
                uuid: t.uuid().to_string(),
                vikunja_id: 0,
                key: (view.project, view.description),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "adopt_plan_tests.rs"]
mod tests;
