//! Which permission a route needs from an API token, derived from its path and method as
//! Vikunja does (`pkg/models/api_routes.go`: `getRouteGroupName`, `getRouteDetail`,
//! `isStandardCRUDRoute`, `CanDoAPIRoute`).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::shared::Server;

/// Every route the simulator serves behind the token check (not `/info`, not `/dav`).
const ROUTES: &[(&str, &str)] = &[
    ("GET", "/api/v1/user"),
    ("GET", "/api/v1/routes"),
    ("GET", "/api/v1/projects"),
    ("PUT", "/api/v1/projects"),
    ("GET", "/api/v1/projects/{id}"),
    ("POST", "/api/v1/projects/{id}"),
    ("DELETE", "/api/v1/projects/{id}"),
    ("GET", "/api/v1/projects/{id}/tasks"),
    ("PUT", "/api/v1/projects/{id}/tasks"),
    ("GET", "/api/v1/projects/{id}/webhooks"),
    ("PUT", "/api/v1/projects/{id}/webhooks"),
    ("POST", "/api/v1/projects/{id}/webhooks/{webhookID}"),
    ("DELETE", "/api/v1/projects/{id}/webhooks/{webhookID}"),
    ("GET", "/api/v1/webhooks/events"),
    ("GET", "/api/v1/tasks"),
    ("GET", "/api/v1/tasks/{id}"),
    ("POST", "/api/v1/tasks/{id}"),
    ("DELETE", "/api/v1/tasks/{id}"),
    ("GET", "/api/v1/tasks/{id}/labels"),
    ("PUT", "/api/v1/tasks/{id}/labels"),
    ("DELETE", "/api/v1/tasks/{id}/labels/{labelID}"),
    ("POST", "/api/v1/tasks/{id}/labels/bulk"),
    ("GET", "/api/v1/tasks/{id}/assignees"),
    ("PUT", "/api/v1/tasks/{id}/assignees"),
    ("DELETE", "/api/v1/tasks/{id}/assignees/{userID}"),
    ("GET", "/api/v1/tasks/{id}/comments"),
    ("PUT", "/api/v1/tasks/{id}/comments"),
    ("GET", "/api/v1/tasks/{id}/attachments"),
    ("DELETE", "/api/v1/tasks/{id}/attachments/{attachmentID}"),
    ("GET", "/api/v1/labels"),
    ("PUT", "/api/v1/labels"),
    ("GET", "/api/v1/labels/{id}"),
    ("POST", "/api/v1/labels/{id}"),
    ("DELETE", "/api/v1/labels/{id}"),
    ("GET", "/api/v2/tasks/{id}"),
    ("PUT", "/api/v2/tasks/{id}"),
    ("DELETE", "/api/v2/tasks/{id}"),
];

/// Route groups Vikunja's generic CRUD handlers serve.
const CRUD: &[&str] = &[
    "projects",
    "tasks",
    "teams",
    "labels",
    "filters",
    "notifications",
    "webhooks",
    "reactions",
    "shares",
    "buckets",
    "views",
    "assignees",
    "comments",
    "relations",
    "attachments",
    "time_entries",
    "projects_views",
    "projects_teams",
    "projects_users",
    "projects_shares",
    "projects_webhooks",
    "projects_buckets",
    "tasks_attachments",
    "tasks_assignees",
    "tasks_labels",
    "tasks_comments",
    "tasks_relations",
    "teams_members",
    "projects_views_tasks",
];

/// What a request needs from the token that calls it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Need {
    /// No token at all (`/info`).
    Public,
    /// HTTP Basic, checked by the CalDAV handler (`caldav` `access` for an API token).
    Dav,
    /// Each of these (group, verb) pairs.
    Scoped(Vec<(String, String)>),
    /// A route no API token may use (only a login may).
    LoginOnly,
}

fn is_v2(route: &str) -> bool {
    route.starts_with("/api/v2/")
}

/// `getRouteGroupName`: the path without version prefix and parameters, joined by `_`.
fn group_name(route: &str) -> (String, Vec<String>) {
    let stripped = route
        .strip_prefix("/api/v1/")
        .or_else(|| route.strip_prefix("/api/v2/"))
        .unwrap_or(route);
    let parts: Vec<String> = stripped
        .split('/')
        .filter(|p| !p.starts_with('{') && !p.is_empty())
        .map(|p| p.replace('-', "_"))
        .collect();
    let name = parts.join("_");
    match name.as_str() {
        "projects_tasks" | "tasks_all" => ("tasks".into(), vec!["tasks".into()]),
        "projects_tasks_bulk" => ("tasks_bulk".into(), vec!["tasks_bulk".into()]),
        _ => (name, parts),
    }
}

/// `getRouteDetail`: v1 creates with PUT and updates with POST, v2 the other way round.
fn verb(method: &str, route: &str) -> Option<&'static str> {
    let ends_with_param = route.rsplit('/').next().is_some_and(|p| p.starts_with('{'));
    Some(match (method, is_v2(route)) {
        ("GET", _) if ends_with_param => "read_one",
        ("GET", _) => "read_all",
        ("PUT", false) | ("POST", true) => "create",
        ("PUT", true) | ("POST", false) | ("PATCH", _) => "update",
        ("DELETE", _) => "delete",
        _ => return None,
    })
}

/// The (group, verb) a route is filed under, `None` for routes tokens cannot use.
fn permission(method: &str, route: &str) -> Option<(String, String)> {
    let (name, parts) = group_name(route);
    if matches!(
        name.as_str(),
        "token_test" | "subscriptions" | "tokens" | "oauth_authorize"
    ) || name.starts_with("user_")
    {
        return None;
    }
    let crud = CRUD.contains(&name.as_str())
        || name
            .strip_suffix("_bulk")
            .is_some_and(|p| CRUD.contains(&p))
        || (parts.len() == 1 && CRUD.contains(&parts[0].as_str()));
    if !crud && name != "tasks_attachments" {
        return Some(match parts.split_first() {
            Some((first, rest)) if !rest.is_empty() => (first.clone(), rest.join("_")),
            _ => ("other".into(), name),
        });
    }
    let v = verb(method, route)?;
    Some(match name.strip_suffix("_bulk") {
        Some(parent) => (parent.to_owned(), format!("{v}_bulk")),
        None => (name, v.to_owned()),
    })
}

/// What a request to `route` (a template, `""` when none matched) needs.
pub(crate) fn need(method: &str, route: &str) -> Need {
    if route == "/api/v1/info" {
        return Need::Public;
    }
    // A path no route matches still wants a valid token first, as Vikunja's group middleware.
    if route.is_empty() {
        return Need::Scoped(Vec::new());
    }
    if route.starts_with("/dav") {
        return Need::Dav;
    }
    // An auto-generated v2 PATCH is a GET and a PUT inside the server; released versions
    // (2.4.0 to 2.5.0) check the token for both (#3528, fixed after 2.5.0).
    if method == "PATCH" && is_v2(route) {
        return match (permission("PUT", route), permission("GET", route)) {
            (Some(put), Some(get)) => Need::Scoped(vec![put, get]),
            _ => Need::LoginOnly,
        };
    }
    match permission(method, route) {
        Some(p) => Need::Scoped(vec![p]),
        None => Need::LoginOnly,
    }
}

/// One entry of `GET /routes`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct RouteDetail {
    pub path: String,
    pub method: String,
}

/// Group → verb → route: what `GET /routes` lists and what a new token may ask for, given
/// the server's version (v2) and settings (webhooks), plus `caldav` `access`.
pub(crate) fn table(server: &Server) -> BTreeMap<String, BTreeMap<String, RouteDetail>> {
    let mut out: BTreeMap<String, BTreeMap<String, RouteDetail>> = BTreeMap::new();
    let served = ROUTES.iter().filter(|(_, route)| {
        (server.version.has_v2() || !is_v2(route))
            && (server.webhooks_enabled || !route.contains("webhooks"))
    });
    for (method, route) in served {
        if let Some((group, verb)) = permission(method, route) {
            // Vikunja keeps the first route it files under a key; both task listings share one.
            out.entry(group)
                .or_default()
                .entry(verb)
                .or_insert(RouteDetail {
                    path: route.replace('{', ":").replace('}', ""),
                    method: (*method).to_owned(),
                });
        }
    }
    out.entry("caldav".into()).or_default().insert(
        "access".into(),
        RouteDetail {
            path: "/dav/*".into(),
            method: "ANY".into(),
        },
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(method: &str, route: &str) -> (String, String) {
        permission(method, route).expect("a token route")
    }

    fn pair(g: &str, v: &str) -> (String, String) {
        (g.into(), v.into())
    }

    #[test]
    fn groups_and_verbs_follow_vikunja() {
        assert_eq!(
            p("GET", "/api/v1/projects/{id}/tasks"),
            pair("tasks", "read_all")
        );
        assert_eq!(
            p("PUT", "/api/v1/projects/{id}/tasks"),
            pair("tasks", "create")
        );
        assert_eq!(p("POST", "/api/v1/tasks/{id}"), pair("tasks", "update"));
        assert_eq!(
            p("POST", "/api/v1/tasks/{id}/labels/bulk"),
            pair("tasks_labels", "update_bulk")
        );
        assert_eq!(
            p("DELETE", "/api/v1/tasks/{id}/labels/{labelID}"),
            pair("tasks_labels", "delete")
        );
        assert_eq!(
            p("PUT", "/api/v1/projects/{id}/webhooks"),
            pair("projects_webhooks", "create")
        );
        assert_eq!(
            p("GET", "/api/v1/webhooks/events"),
            pair("webhooks", "events")
        );
        assert_eq!(p("GET", "/api/v1/user"), pair("other", "user"));
        assert_eq!(p("PUT", "/api/v2/tasks/{id}"), pair("tasks", "update"));
        assert_eq!(
            need("PATCH", "/api/v2/tasks/{id}"),
            Need::Scoped(vec![pair("tasks", "update"), pair("tasks", "read_one")])
        );
        assert_eq!(need("GET", "/api/v1/info"), Need::Public);
        assert_eq!(need("PUT", "/api/v1/tokens"), Need::LoginOnly);
        assert_eq!(need("GET", ""), Need::Scoped(Vec::new()));
    }
}
