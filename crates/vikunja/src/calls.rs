//! Every call this client can make, in one table: each request is built from a [`Call`], so
//! the permissions an API token needs ([`needed_permissions`]) are derived from exactly the
//! calls the product makes, the way Vikunja files routes under token permissions
//! (`pkg/models/api_routes.go`; reference §2, §8).

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;

/// Which API a call goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    V1,
    /// Vikunja >= 2.4.0.
    V2,
}

macro_rules! calls {
    ($($(#[$doc:meta])* $name:ident: $method:ident $api:ident $template:literal,)*) => {
        /// One kind of API request: method, API version and route template.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Call {
            $($(#[$doc])* $name,)*
        }

        impl Call {
            /// Every call the client makes.
            pub const ALL: &[Call] = &[$(Call::$name,)*];

            pub fn method(self) -> Method {
                match self {
                    $(Call::$name => Method::$method,)*
                }
            }

            pub fn api(self) -> Api {
                match self {
                    $(Call::$name => Api::$api,)*
                }
            }

            /// The route template under the API base, e.g. `/tasks/{id}`.
            pub fn template(self) -> &'static str {
                match self {
                    $(Call::$name => $template,)*
                }
            }
        }
    };
}

calls! {
    /// Public: the server's version and settings.
    Info: GET V1 "/info",
    /// What a token may be given on this server (`vikunja-sync doctor` only).
    Routes: GET V1 "/routes",
    /// The token's owner, whose username CalDAV wants with the token (`adopt
    /// --from-syncall` only).
    CurrentUser: GET V1 "/user",
    ListProjects: GET V1 "/projects",
    GetProject: GET V1 "/projects/{id}",
    CreateProject: PUT V1 "/projects",
    ListTasks: GET V1 "/tasks",
    ProjectTasks: GET V1 "/projects/{id}/tasks",
    GetTask: GET V1 "/tasks/{id}",
    CreateTask: PUT V1 "/projects/{id}/tasks",
    /// Full replace.
    UpdateTask: POST V1 "/tasks/{id}",
    DeleteTask: DELETE V1 "/tasks/{id}",
    /// JSON merge patch (>= 2.4.0).
    PatchTask: PATCH V2 "/tasks/{id}",
    ListLabels: GET V1 "/labels",
    CreateLabel: PUT V1 "/labels",
    AddTaskLabel: PUT V1 "/tasks/{id}/labels",
    RemoveTaskLabel: DELETE V1 "/tasks/{id}/labels/{label}",
    SetTaskLabels: POST V1 "/tasks/{id}/labels/bulk",
    ListWebhooks: GET V1 "/projects/{id}/webhooks",
    CreateWebhook: PUT V1 "/projects/{id}/webhooks",
    /// Changes a webhook's events only (URL and secret need delete and create).
    UpdateWebhook: POST V1 "/projects/{id}/webhooks/{webhook}",
    DeleteWebhook: DELETE V1 "/projects/{id}/webhooks/{webhook}",
}

impl Call {
    /// The route as Vikunja logs it, e.g. `/api/v1/tasks/{id}`: names spans and errors.
    pub fn route(self) -> &'static str {
        match (self.api(), self) {
            (Api::V2, Call::PatchTask) => "/api/v2/tasks/{id}",
            _ => self.template(),
        }
    }

    /// Sending it twice does no more than sending it once: everything but a create (v1
    /// creates with PUT; adding a label a task already has answers 8001).
    pub fn safe_to_repeat(self) -> bool {
        !matches!(
            self,
            Call::CreateProject | Call::CreateTask | Call::CreateLabel | Call::CreateWebhook
        )
    }

    /// The sync's services make it (`Routes` is only `vikunja-sync doctor`'s, `CurrentUser`
    /// only adopting syncall's pairs, which also needs `caldav` `access`).
    pub fn made_by_the_sync(self) -> bool {
        !matches!(self, Call::Routes | Call::CurrentUser)
    }

    /// The permissions a token needs for this call, as (route group, verb); empty for a
    /// public route. A v2 PATCH is a GET and a PUT inside the server, and released versions
    /// check the token for both (#3528).
    pub fn permissions(self) -> Vec<(String, String)> {
        if self == Call::Info {
            return Vec::new();
        }
        if self == Call::PatchTask {
            return vec![
                ("tasks".into(), "update".into()),
                ("tasks".into(), "read_one".into()),
            ];
        }
        let parts: Vec<&str> = self
            .template()
            .split('/')
            .filter(|p| !p.is_empty() && !p.starts_with('{'))
            .collect();
        let group = match parts.join("_").as_str() {
            // Both task listings and the create are filed under `tasks`.
            "projects_tasks" => "tasks".to_string(),
            g => g.to_string(),
        };
        let ends_with_param = self.template().ends_with('}');
        // v1 creates with PUT and updates with POST.
        let verb = match self.method() {
            // One-segment routes outside the CRUD groups are filed under `other`.
            Method::GET if self == Call::Routes => return vec![("other".into(), "routes".into())],
            Method::GET if self == Call::CurrentUser => {
                return vec![("other".into(), "user".into())];
            }
            Method::GET if ends_with_param => "read_one",
            Method::GET => "read_all",
            Method::PUT => "create",
            Method::POST => "update",
            _ => "delete",
        };
        match group.strip_suffix("_bulk") {
            Some(parent) => vec![(parent.to_string(), format!("{verb}_bulk"))],
            None => vec![(group, verb.to_string())],
        }
    }

    /// The path to send when asking whether a token may make this call without changing
    /// anything: every id 0, which no object has.
    pub fn probe_path(self) -> String {
        self.template()
            .split('/')
            .map(|p| if p.starts_with('{') { "0" } else { p })
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Route group -> verbs an API token needs for every call the sync makes. `webhooks`: whether
/// the server has webhooks (the `projects_webhooks` group exists only then).
pub fn needed_permissions(webhooks: bool) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for call in Call::ALL.iter().filter(|c| c.made_by_the_sync()) {
        for (group, verb) in call.permissions() {
            if webhooks || group != "projects_webhooks" {
                out.entry(group).or_default().insert(verb);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(call: Call) -> Vec<(String, String)> {
        call.permissions()
    }

    fn p(g: &str, v: &str) -> Vec<(String, String)> {
        vec![(g.into(), v.into())]
    }

    #[test]
    fn calls_are_filed_as_vikunja_files_their_routes() {
        assert_eq!(perms(Call::ProjectTasks), p("tasks", "read_all"));
        assert_eq!(perms(Call::CreateTask), p("tasks", "create"));
        assert_eq!(perms(Call::UpdateTask), p("tasks", "update"));
        assert_eq!(perms(Call::GetTask), p("tasks", "read_one"));
        assert_eq!(perms(Call::SetTaskLabels), p("tasks_labels", "update_bulk"));
        assert_eq!(perms(Call::RemoveTaskLabel), p("tasks_labels", "delete"));
        assert_eq!(perms(Call::DeleteWebhook), p("projects_webhooks", "delete"));
        assert_eq!(perms(Call::Info), Vec::new());
        assert_eq!(perms(Call::CurrentUser), p("other", "user"));
        assert!(!Call::CurrentUser.made_by_the_sync());
        assert_eq!(Call::PatchTask.route(), "/api/v2/tasks/{id}");
        assert_eq!(Call::RemoveTaskLabel.probe_path(), "/tasks/0/labels/0");
    }

    #[test]
    fn the_sync_needs_the_references_list() {
        // Reference §8, with the webhook rotation's update and delete.
        let want: BTreeMap<String, BTreeSet<String>> = [
            ("labels", &["create", "read_all"][..]),
            ("projects", &["create", "read_all", "read_one"]),
            (
                "projects_webhooks",
                &["create", "delete", "read_all", "update"],
            ),
            (
                "tasks",
                &["create", "delete", "read_all", "read_one", "update"],
            ),
            ("tasks_labels", &["create", "delete", "update_bulk"]),
        ]
        .into_iter()
        .map(|(g, vs)| (g.to_string(), vs.iter().map(|v| v.to_string()).collect()))
        .collect();
        assert_eq!(needed_permissions(true), want);
        assert!(!needed_permissions(false).contains_key("projects_webhooks"));
    }
}
