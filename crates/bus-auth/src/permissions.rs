//! The permission table: what each identity may publish and subscribe to (nats-server's
//! `permissions` of a user). Three roles:
//!
//! - **server** (webhook-ingress, reconciler, label-sync): everything; it declares the streams
//!   and buckets and owns canonical state.
//! - **operator** (the CLI's `status`, `reconcile`, `repair`, `adopt`): reads the streams and
//!   buckets and sends control requests; writes no state and publishes no event.
//! - **host** `<id>` (one Taskwarrior replica's tw-watcher): publishes only its own events,
//!   follows canonical state through its own durable consumer, answers its own control
//!   subjects; no canonical state, correlation or label of its own making, no other host's
//!   subjects, no reconciler control, no stream or bucket creation.
//!
//! Subjects: docs/ARCHITECTURE.md §4; the table in prose: docs/SECURITY.md.

use serde::Serialize;

/// The stream behind the canonical-state bucket (`vsync_tasks`).
pub const TASKS_STREAM: &str = "KV_vsync_tasks";
/// Prefix of a host's durable consumer on [`TASKS_STREAM`].
pub const HOST_CONSUMER_PREFIX: &str = "host-";
/// The inbox prefix of the operator CLI's connections.
pub const OPERATOR_INBOX: &str = "_INBOX_operator";
/// Stands for the host id in the rendered table (`permissions.json`, read by the NixOS
/// module); host ids are `[A-Za-z0-9_-]+`, so it never occurs in one.
pub const HOST_PLACEHOLDER: &str = "@host@";

/// An identity's role on the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Role {
    Server,
    Operator,
    /// A Taskwarrior replica, by host id.
    Host(String),
}

/// NATS user permissions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Permissions {
    pub publish: Rules,
    pub subscribe: Rules,
    /// May answer the requests it receives (publish to their reply subjects only).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub allow_responses: bool,
}

/// Allowed and denied subjects (NATS wildcards).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Rules {
    pub allow: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

impl Role {
    /// The inbox prefix this role's connections use, so a host or the operator reads only
    /// replies meant for itself (`None`: NATS's default `_INBOX`).
    pub fn inbox_prefix(&self) -> Option<String> {
        match self {
            Role::Server => None,
            Role::Operator => Some(OPERATOR_INBOX.to_string()),
            Role::Host(host) => Some(host_inbox(host)),
        }
    }

    /// What this role may do.
    pub fn permissions(&self) -> Permissions {
        match self {
            Role::Server => Permissions {
                publish: allow(&[">"]),
                subscribe: allow(&[">"]),
                allow_responses: false,
            },
            Role::Operator => operator(),
            Role::Host(host) => host_permissions(host),
        }
    }
}

/// The inbox prefix of host `host`'s connections.
pub fn host_inbox(host: &str) -> String {
    format!("_INBOX_{host}")
}

/// Whether `id` can be a host id: one subject token of `[A-Za-z0-9_-]`, so it can appear in
/// subjects, consumer names and permissions without escaping.
pub fn valid_host_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Subjects of the JetStream API a client may use to look up (never create) streams and
/// buckets.
const LOOKUP: &[&str] = &["$JS.API.INFO", "$JS.API.STREAM.INFO.*"];

/// Never: canonical state, correlations, labels or bookkeeping of its own making (`$KV`), no
/// reconciler control, no stream or consumer creation or removal beyond what is allowed.
/// Spelled out although the allow lists grant none of them, so a later edit of an allow
/// list cannot grant them by accident.
const NEVER: &[&str] = &[
    "$KV.>",
    "vsync.v1.ctl.reconciler.>",
    "$JS.API.STREAM.CREATE.>",
    "$JS.API.STREAM.UPDATE.>",
    "$JS.API.STREAM.DELETE.>",
    "$JS.API.STREAM.PURGE.>",
    "$JS.API.CONSUMER.DELETE.>",
];

fn host_permissions(host: &str) -> Permissions {
    let consumer = format!("{HOST_CONSUMER_PREFIX}{host}");
    let s = TASKS_STREAM;
    let inbox = host_inbox(host);
    let mut publish = vec![
        // its own events (a JetStream publish: the ack comes back to its inbox)
        format!("vsync.v1.in.tw.{host}.>"),
        format!("vsync.v1.applied.{host}"),
        // dead letters of the two stages a watcher has
        "vsync.v1.dead.tw-apply".to_string(),
        "vsync.v1.dead.tw-watcher".to_string(),
        // its own inbox (the client confirms a subscription with a message to itself)
        format!("{inbox}.>"),
        // its durable consumer on canonical state, and the ordered consumers of a listing
        format!("$JS.API.CONSUMER.DURABLE.CREATE.{s}.{consumer}"),
        format!("$JS.API.CONSUMER.CREATE.{s}"),
        format!("$JS.API.CONSUMER.CREATE.{s}.>"),
        format!("$JS.API.CONSUMER.INFO.{s}.>"),
        format!("$JS.API.CONSUMER.MSG.NEXT.{s}.{consumer}"),
        format!("$JS.ACK.{s}.{consumer}.>"),
        format!("$JS.FC.{s}.>"),
        // reading single canonical states
        format!("$JS.API.DIRECT.GET.{s}"),
        format!("$JS.API.DIRECT.GET.{s}.>"),
        format!("$JS.API.STREAM.MSG.GET.{s}"),
    ];
    publish.extend(LOOKUP.iter().map(|s| s.to_string()));
    let mut deny: Vec<String> = NEVER.iter().map(|s| s.to_string()).collect();
    // another host's events could pass for this one's only through a wildcard above; none
    // does, but the reconciler's and Vikunja's event subjects are refused outright
    deny.push("vsync.v1.in.vikunja.>".to_string());
    Permissions {
        publish: Rules {
            allow: publish,
            deny,
        },
        subscribe: allow(&[
            &format!("{inbox}.>"),
            &format!("vsync.v1.ctl.tw.{host}.>"),
            "vsync.v1.ctl.tw.reconcile",
        ]),
        // answering control requests without being allowed to publish to inboxes at large
        allow_responses: true,
    }
}

fn operator() -> Permissions {
    let inbox = format!("{OPERATOR_INBOX}.>");
    let mut publish: Vec<String> = [
        // control requests: reconcile, repair, adopt, and each host's export and reconcile
        "vsync.v1.ctl.reconciler.>",
        "vsync.v1.ctl.tw.>",
        // reading streams, consumers (each host's lag) and single messages
        "$JS.API.STREAM.NAMES",
        "$JS.API.STREAM.LIST",
        "$JS.API.CONSUMER.INFO.>",
        "$JS.API.CONSUMER.NAMES.>",
        "$JS.API.CONSUMER.LIST.>",
        "$JS.API.DIRECT.GET.>",
        "$JS.API.STREAM.MSG.GET.*",
        // ordered consumers of a listing
        "$JS.API.CONSUMER.CREATE.>",
        "$JS.FC.>",
        inbox.as_str(),
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    publish.extend(LOOKUP.iter().map(|s| s.to_string()));
    let deny = NEVER
        .iter()
        .filter(|s| **s != "vsync.v1.ctl.reconciler.>")
        .map(|s| s.to_string())
        .chain(["vsync.v1.in.>".to_string()])
        .collect();
    Permissions {
        publish: Rules {
            allow: publish,
            deny,
        },
        // and the Vikunja task events as they pass, which `doctor` watches for its test delivery
        subscribe: allow(&[&inbox, VIKUNJA_TASK_EVENTS]),
        allow_responses: false,
    }
}

/// Every Vikunja task event (`vsync_bus::subject::IN_VIKUNJA_TASKS`).
const VIKUNJA_TASK_EVENTS: &str = "vsync.v1.in.vikunja.*.task.*";

fn allow(subjects: &[&str]) -> Rules {
    Rules {
        allow: subjects.iter().map(|s| s.to_string()).collect(),
        deny: Vec::new(),
    }
}

/// The table as the NixOS module reads it: `server`, `operator`, and `host` with
/// [`HOST_PLACEHOLDER`] for the host id.
pub fn table_json() -> String {
    let table = serde_json::json!({
        "server": Role::Server.permissions(),
        "operator": Role::Operator.permissions(),
        "host": Role::Host(HOST_PLACEHOLDER.to_string()).permissions(),
    });
    let mut text = serde_json::to_string_pretty(&table).unwrap_or_default();
    text.push('\n');
    text
}

/// Whether NATS subject `subject` matches pattern `pattern` (`*` one token, `>` the rest).
pub fn matches(pattern: &str, subject: &str) -> bool {
    let mut p = pattern.split('.');
    let mut s = subject.split('.');
    loop {
        match (p.next(), s.next()) {
            (Some(">"), Some(_)) => return true,
            (Some("*"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

impl Rules {
    /// Whether these rules let `subject` through: allowed by a pattern and denied by none.
    pub fn permits(&self, subject: &str) -> bool {
        self.allow.iter().any(|p| matches(p, subject))
            && !self.deny.iter().any(|p| matches(p, subject))
    }
}

#[cfg(test)]
#[path = "permissions_tests.rs"]
mod tests;
