//! The Vikunja side: the server answers and its version, its clock, the API token's
//! permissions (probed, nothing changed), webhooks enabled and registered for `webhook_url`,
//! and a test delivery ([`super::delivery`]).

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant, SystemTime};

use vsync_config::{Config, SecretString};
use vsync_vikunja::{Call, Probe, Project, Retry, ServerInfo, VikunjaClient, VikunjaError};

use super::Finding;

/// More clock difference than this and the order of changes made on both sides in the same
/// few seconds can come out wrong (Vikunja's `Date` has whole seconds).
const MAX_SKEW: Duration = Duration::from_secs(2);

pub async fn check(cfg: &Config, bus: Option<&vsync_bus::Bus>, out: &mut Vec<Finding>) {
    let url = cfg.vikunja.url.clone().unwrap_or_default();
    let token = token(cfg, out);
    let api = match client(cfg, token.clone()) {
        Ok(api) => api,
        Err(e) => {
            return out.push(Finding::problem(
                "Vikunja",
                e.to_string(),
                "check [vikunja]",
            ));
        }
    };
    let sent = SystemTime::now();
    let started = Instant::now();
    let info = match api.fetch_server_info().await {
        Ok(info) => info,
        Err(e) => {
            return out.push(Finding::problem(
                "Vikunja",
                format!("no answer from {url}: {e}"),
                format!(
                    "check `vikunja.url` and that Vikunja runs and is reachable from here \
                     (`curl {url}/api/v1/info` should print its version)"
                ),
            ));
        }
    };
    out.push(Finding::ok("Vikunja", version_line(&url, &info)));
    out.push(clock(&info, sent + started.elapsed() / 2));
    if token.is_some() {
        permissions(&api, &info, cfg, out).await;
    }
    if !info.webhooks_enabled {
        return out.push(Finding::problem(
            "webhooks",
            "webhooks are disabled on the Vikunja server (`webhooks.enabled` is false)",
            format!(
                "set `webhooks: enabled: true` in Vikunja's config.yml (or \
                 VIKUNJA_WEBHOOKS_ENABLED=true) and restart Vikunja; until then changes made in \
                 Vikunja reach Taskwarrior only with the reconcile passes (every {:?})",
                cfg.reconcile.interval
            ),
        ));
    }
    let Some(target) = cfg.vikunja.webhook_url.clone() else {
        return out.push(Finding::problem(
            "webhooks",
            "no `vikunja.webhook_url`: no webhook is registered, so Vikunja's changes wait for \
             the reconcile passes",
            "set `[vikunja] webhook_url` to the address Vikunja reaches webhook-ingress at, \
             e.g. https://sync.example.org/webhook",
        ));
    };
    if token.is_none() {
        return;
    }
    let Some(synced) = registered(&api, cfg, &target, out).await else {
        return;
    };
    out.push(super::delivery::check(&api, &target, &synced, bus).await);
}

/// A client that gives up soon: doctor reports, it does not wait for Vikunja to come back.
fn client(cfg: &Config, token: Option<SecretString>) -> Result<VikunjaClient, VikunjaError> {
    let token = token.unwrap_or_else(|| SecretString::from(String::new()));
    let retry = Retry {
        attempts: 2,
        max_rate_limit_wait: Duration::from_secs(5),
        ..Retry::default()
    };
    Ok(VikunjaClient::new(&cfg.vikunja_api()?, token, cfg.vikunja.timeout)?.with_retry(retry))
}

/// The token from `token_file`, or a problem saying why there is none.
fn token(cfg: &Config, out: &mut Vec<Finding>) -> Option<SecretString> {
    let Some(file) = &cfg.vikunja.token_file else {
        out.push(Finding::problem(
            "Vikunja token",
            "no `vikunja.token_file` in the config",
            "create an API token in Vikunja (Settings > API Tokens), write it to a file only \
             you can read (chmod 600) and name that file in `[vikunja] token_file`",
        ));
        return None;
    };
    match vsync_config::read_secret(file) {
        Ok(t) => Some(t),
        Err(e) => {
            out.push(Finding::problem(
                "Vikunja token",
                e.to_string(),
                format!("write the API token to {} (chmod 600)", file.display()),
            ));
            None
        }
    }
}

fn version_line(url: &str, info: &ServerInfo) -> String {
    let how = if info.has_merge_patch() {
        "task updates are merge patches (PATCH /api/v2/tasks/{id}) of the changed fields"
    } else {
        "task updates read the task, then replace it (before 2.4.0 Vikunja has no merge patch)"
    };
    format!("{url} answers: Vikunja {}; {how}", info.version)
}

/// Vikunja's clock against ours, `at` being our time halfway through the request.
fn clock(info: &ServerInfo, at: SystemTime) -> Finding {
    let Some(date) = info.date else {
        return Finding::note("clock", "Vikunja sent no Date header: clock not compared");
    };
    // The header has whole seconds (rounded down): compare with ours rounded down too.
    let secs = |t: SystemTime| {
        t.duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0)
    };
    let skew = secs(date) - secs(at);
    if skew.unsigned_abs() <= MAX_SKEW.as_secs() {
        return Finding::ok(
            "clock",
            format!("Vikunja's clock is within {MAX_SKEW:?} of ours"),
        );
    }
    let ahead = if skew > 0 { "ahead of" } else { "behind" };
    Finding::problem(
        "clock",
        format!("Vikunja's clock is {}s {ahead} this machine's", skew.abs()),
        "keep both clocks in time (systemd-timesyncd or chrony on both machines): changes on \
         both sides are ordered by their time",
    )
}

/// Probes every call the sync makes; one finding listing what the token lacks.
async fn permissions(api: &VikunjaClient, info: &ServerInfo, cfg: &Config, out: &mut Vec<Finding>) {
    let needed = vsync_vikunja::needed_permissions(info.webhooks_enabled);
    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut probed = 0;
    for call in Call::ALL.iter().copied().filter(|c| c.made_by_the_sync()) {
        let perms = call.permissions();
        if !perms
            .iter()
            .all(|(g, v)| needed.get(g).is_some_and(|vs| vs.contains(v)))
        {
            continue; // a group this server does not have (webhooks off)
        }
        match api.probe(call).await {
            Ok(Probe::Allowed) => probed += 1,
            Ok(Probe::Refused) => {
                probed += 1;
                for (g, v) in perms {
                    missing.entry(g).or_default().insert(v);
                }
            }
            Err(e) => {
                return out.push(Finding::problem(
                    "Vikunja token",
                    format!("cannot check the token's permissions: {e}"),
                    "run doctor again once Vikunja answers",
                ));
            }
        }
    }
    let file = cfg
        .vikunja
        .token_file
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    let list = |m: &BTreeMap<String, BTreeSet<String>>| {
        m.iter()
            .map(|(g, vs)| format!("{g}: {}", vs.iter().cloned().collect::<Vec<_>>().join(" ")))
            .collect::<Vec<_>>()
            .join("; ")
    };
    if missing.is_empty() {
        out.push(Finding::ok(
            "Vikunja token",
            format!("holds every permission the sync needs ({})", list(&needed)),
        ));
    } else if missing == needed || probed == 0 {
        out.push(Finding::problem(
            "Vikunja token",
            "Vikunja refuses the token: it expired, was deleted, or holds none of the \
             permissions the sync needs",
            format!(
                "create an API token in Vikunja (Settings > API Tokens) with {} and write it to \
                 {file}",
                list(&needed)
            ),
        ));
    } else {
        out.push(Finding::problem(
            "Vikunja token",
            format!("the token lacks {}", list(&missing)),
            format!(
                "Vikunja cannot add permissions to a token: create one (Settings > API Tokens) \
                 with {} and write it to {file}",
                list(&needed)
            ),
        ));
    }
}

/// The synced top-level projects, each of which needs our webhook; a problem names those that
/// lack it. `None` when the projects cannot be listed.
async fn registered(
    api: &VikunjaClient,
    cfg: &Config,
    target: &str,
    out: &mut Vec<Finding>,
) -> Option<Vec<Project>> {
    let projects = match api.projects().await {
        Ok(p) => p,
        Err(e) => {
            out.push(Finding::note(
                "webhooks",
                format!("cannot list projects: {e}"),
            ));
            return None;
        }
    };
    let only = &cfg.vikunja.projects;
    let top: Vec<Project> = projects
        .iter()
        .filter(|p| p.parent_project_id == 0 && !p.is_archived)
        .filter(|p| only.is_empty() || only.contains(&p.title))
        .cloned()
        .collect();
    let mut lacking = Vec::new();
    for p in &top {
        match api.webhooks(p.id).await {
            Ok(hooks) if hooks.iter().any(|h| h.target_url == target) => {}
            Ok(_) => lacking.push(p.title.clone()),
            Err(e) => {
                out.push(Finding::note(
                    "webhooks",
                    format!("cannot list webhooks: {e}"),
                ));
                return None;
            }
        }
    }
    if top.is_empty() {
        out.push(Finding::note(
            "webhooks",
            "no top-level project to sync yet",
        ));
    } else if lacking.is_empty() {
        out.push(Finding::ok(
            "webhooks",
            format!(
                "enabled, and registered for {target} on all {} synced projects",
                top.len()
            ),
        ));
    } else {
        out.push(Finding::problem(
            "webhooks",
            format!("no webhook for {target} on {}", lacking.join(", ")),
            "start the reconciler (`vikunja-sync up`): it registers one on every synced \
             top-level project when it starts and on each reconcile pass",
        ));
    }
    let all: Vec<Project> = projects;
    Some(subtree(&all, &top))
}

/// `top` and every project below them.
fn subtree(all: &[Project], top: &[Project]) -> Vec<Project> {
    let mut out: Vec<Project> = top.to_vec();
    let mut i = 0;
    while i < out.len() {
        let parent = out[i].id;
        out.extend(
            all.iter()
                .filter(|p| p.parent_project_id == parent)
                .cloned(),
        );
        i += 1;
    }
    out
}
