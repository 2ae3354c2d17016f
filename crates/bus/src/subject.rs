//! Subject names, and the token encoding that lets any project or host name be one subject token.
//!
//! `[A-Za-z0-9_-]` pass through; every other byte becomes `=HH` (upper-case hex); the empty
//! string is `=`. The result is also a valid KV key and consumer name, and decodes back exactly.

use vsync_proto::EventKind;

/// Prefix of every event subject.
pub const IN: &str = "vsync.v1.in";
/// Everything the reconciler consumes.
pub const IN_ALL: &str = "vsync.v1.in.>";
/// Every Vikunja task event: `vsync.v1.in.vikunja.<project id>.task.<kind>`.
pub const IN_VIKUNJA_TASKS: &str = "vsync.v1.in.vikunja.*.task.*";
/// Dead letters: `vsync.v1.dead.<stage>`.
pub const DEAD: &str = "vsync.v1.dead";
/// Every dead letter.
pub const DEAD_ALL: &str = "vsync.v1.dead.>";
/// Conflict log: `vsync.v1.conflict.<uuid>`.
pub const CONFLICT: &str = "vsync.v1.conflict";
/// The whole conflict log.
pub const CONFLICT_ALL: &str = "vsync.v1.conflict.>";
/// Applied notices: `vsync.v1.applied.<host>` (core NATS, not persisted).
pub const APPLIED: &str = "vsync.v1.applied";
/// Every host's applied notices.
pub const APPLIED_ALL: &str = "vsync.v1.applied.>";
/// Control requests (request/reply): `vsync.v1.ctl.<service>.<verb>`.
pub const CTL: &str = "vsync.v1.ctl";
/// The reconciler's control requests (queue group `reconciler`).
pub const CTL_RECONCILER_ALL: &str = "vsync.v1.ctl.reconciler.>";
/// Asks every host to reconcile: each one answers (no queue group).
pub const CTL_HOSTS_RECONCILE: &str = "vsync.v1.ctl.tw.reconcile";
/// Label work for label-sync (queue group `label-sync`).
pub const CTL_LABELS_APPLY: &str = "vsync.v1.ctl.labels.apply";
/// Canonical state: `$KV.vsync_tasks.<uuid>` (the KV convention over [`crate::TASKS_BUCKET`]).
pub const STATE: &str = "$KV.vsync_tasks";
/// Every canonical state.
pub const STATE_ALL: &str = "$KV.vsync_tasks.>";

/// Encodes any string as one subject token.
pub fn encode_token(s: &str) -> String {
    if s.is_empty() {
        return "=".to_string();
    }
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b == b'_' || b == b'-' {
            out.push(b as char);
        } else {
            out.push_str(&format!("={b:02X}"));
        }
    }
    out
}

/// Decodes a token made by [`encode_token`]; `None` if it is not one.
pub fn decode_token(t: &str) -> Option<String> {
    if t == "=" {
        return Some(String::new());
    }
    let b = t.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'=' {
            let hex = t.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else if b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'-' {
            out.push(b[i]);
            i += 1;
        } else {
            return None;
        }
    }
    String::from_utf8(out).ok()
}

fn kind_word(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Created => "created",
        EventKind::Deleted => "deleted",
        EventKind::Updated | EventKind::Unspecified => "updated",
    }
}

/// `vsync.v1.in.vikunja.<project id>.task.<kind>`
pub fn vikunja_task(project_id: i64, kind: EventKind) -> String {
    format!(
        "{IN}.vikunja.{}.task.{}",
        encode_token(&project_id.to_string()),
        kind_word(kind)
    )
}

/// `vsync.v1.in.vikunja.<project id>.project.<updated|deleted>`
pub fn vikunja_project(project_id: i64, kind: EventKind) -> String {
    format!(
        "{IN}.vikunja.{}.project.{}",
        encode_token(&project_id.to_string()),
        kind_word(kind)
    )
}

/// `vsync.v1.in.tw.<host>.<project path>.task.<kind>`
pub fn tw_task(host: &str, project: &str, kind: EventKind) -> String {
    format!(
        "{IN}.tw.{}.{}.task.{}",
        encode_token(host),
        encode_token(project),
        kind_word(kind)
    )
}

/// A host waiting to be adopted says so: `vsync.v1.in.tw.<host>.hello`. It goes into the event
/// stream, so the reconciler hears it however late it starts.
pub fn host_hello(host: &str) -> String {
    format!("{IN}.tw.{}.hello", encode_token(host))
}

/// The host of a [`host_hello`] subject.
pub fn hello_host(subject: &str) -> Option<String> {
    let token = subject
        .strip_prefix(IN)?
        .strip_prefix(".tw.")?
        .strip_suffix(".hello")?;
    (!token.contains('.')).then(|| decode_token(token))?
}

/// The partition of an event subject: what comes before `.task.<kind>` or `.project.<kind>`
/// (`vsync.v1.in.vikunja.<project id>`, `vsync.v1.in.tw.<host>.<project path>`). Events of one
/// partition are handled in order; partitions side by side.
pub fn partition(subject: &str) -> &str {
    let mut dots = subject.rmatch_indices('.').map(|(i, _)| i);
    match (dots.next(), dots.next()) {
        (Some(_), Some(i)) if subject.starts_with(IN) => &subject[..i],
        _ => subject,
    }
}

/// `vsync.v1.dead.<stage>`
pub fn dead(stage: &str) -> String {
    format!("{DEAD}.{}", encode_token(stage))
}

/// `vsync.v1.conflict.<uuid>`
pub fn conflict(uuid: &str) -> String {
    format!("{CONFLICT}.{}", encode_token(uuid))
}

/// `vsync.v1.applied.<host>`
pub fn applied(host: &str) -> String {
    format!("{APPLIED}.{}", encode_token(host))
}

/// `vsync.v1.ctl.reconciler.<verb>`
pub(crate) fn ctl_reconciler(verb: &str) -> String {
    format!("{CTL}.reconciler.{verb}")
}

/// `vsync.v1.ctl.tw.<host>.<verb>`
pub(crate) fn ctl_host(host: &str, verb: &str) -> String {
    format!("{CTL}.tw.{}.{verb}", encode_token(host))
}

/// Every control request for one host: `vsync.v1.ctl.tw.<host>.>`
pub(crate) fn ctl_host_all(host: &str) -> String {
    format!("{CTL}.tw.{}.>", encode_token(host))
}

/// `$KV.vsync_tasks.<uuid>`: where the canonical state of a task is written.
pub fn state(uuid: &str) -> String {
    format!("{STATE}.{uuid}")
}

/// The uuid of a canonical-state subject (`$KV.vsync_tasks.<uuid>`).
pub fn state_uuid(subject: &str) -> Option<&str> {
    subject.strip_prefix(STATE)?.strip_prefix('.')
}

/// The low-cardinality pattern of a subject for span names: ids and names become `*`.
pub fn pattern(subject: &str) -> String {
    let parts: Vec<&str> = subject.split('.').collect();
    match parts.as_slice() {
        ["vsync", "v1", "in", "vikunja", _, rest @ ..] => {
            format!("vsync.v1.in.vikunja.*.{}", rest.join("."))
        }
        ["vsync", "v1", "in", "tw", _, "hello"] => "vsync.v1.in.tw.*.hello".to_string(),
        ["vsync", "v1", "in", "tw", _, _, rest @ ..] => {
            format!("vsync.v1.in.tw.*.*.{}", rest.join("."))
        }
        ["$KV", bucket, ..] => format!("$KV.{bucket}.*"),
        ["vsync", "v1", "ctl", "tw", _, verb] => format!("vsync.v1.ctl.tw.*.{verb}"),
        ["vsync", "v1", kind, _] => format!("vsync.v1.{kind}.*"),
        _ => subject.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hello_names_its_host_and_no_task_event_passes_for_one() {
        assert_eq!(hello_host(&host_hello("lap top")), Some("lap top".into()));
        assert_eq!(
            hello_host(&tw_task("laptop", "hello", EventKind::Created)),
            None
        );
        assert_eq!(hello_host("vsync.v1.in.tw.a.b.hello"), None);
        assert_eq!(hello_host("vsync.v1.in.vikunja.hello"), None);
        assert_eq!(pattern(&host_hello("laptop")), "vsync.v1.in.tw.*.hello");
    }

    #[test]
    fn any_project_name_round_trips_as_one_token() {
        for name in [
            "Home.Garden ünï",
            "a b>c*",
            "",
            "=",
            "Work.ClientA",
            "tab\t",
            "x=41",
        ] {
            let t = encode_token(name);
            assert!(!t.is_empty());
            assert!(
                t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'='),
                "{t}"
            );
            assert_eq!(decode_token(&t).as_deref(), Some(name), "{t}");
        }
    }

    #[test]
    fn subjects_keep_their_shape_whatever_the_names() {
        let s = tw_task("lap top", "Home.Garden ünï", EventKind::Updated);
        assert_eq!(s.split('.').count(), 8, "{s}");
        assert!(s.starts_with("vsync.v1.in.tw.lap=20top."));
        assert_eq!(pattern(&s), "vsync.v1.in.tw.*.*.task.updated");
        assert_eq!(
            pattern(&vikunja_task(12, EventKind::Created)),
            "vsync.v1.in.vikunja.*.task.created"
        );
    }

    #[test]
    fn host_control_subjects_name_the_verb_not_the_host() {
        let s = ctl_host("lap.top", "export");
        assert_eq!(s, "vsync.v1.ctl.tw.lap=2Etop.export");
        assert_eq!(pattern(&s), "vsync.v1.ctl.tw.*.export");
        assert_eq!(pattern(CTL_HOSTS_RECONCILE), CTL_HOSTS_RECONCILE);
        assert_eq!(pattern(&applied("desk")), "vsync.v1.applied.*");
    }

    #[test]
    fn the_state_subjects_are_the_kv_convention_over_the_tasks_bucket() {
        assert_eq!(STATE, format!("$KV.{}", crate::TASKS_BUCKET));
        assert_eq!(STATE_ALL, format!("{STATE}.>"));
        assert_eq!(state_uuid(&state("a-b")), Some("a-b"));
        assert_eq!(state_uuid("$KV.vsync_tasksX.a"), None);
        assert_eq!(pattern(&state("a-b")), "$KV.vsync_tasks.*");
    }

    #[test]
    fn wildcards_cover_their_prefixes() {
        for (prefix, all) in [
            (IN, IN_ALL),
            (DEAD, DEAD_ALL),
            (CONFLICT, CONFLICT_ALL),
            (APPLIED, APPLIED_ALL),
        ] {
            assert_eq!(all, format!("{prefix}.>"));
        }
        assert_eq!(CTL_RECONCILER_ALL, format!("{}>", ctl_reconciler("")));
        assert_eq!(CTL_LABELS_APPLY, format!("{CTL}.labels.apply"));
    }

    #[test]
    fn a_partition_is_one_project_of_one_side() {
        let v = vikunja_task(12, EventKind::Created);
        assert_eq!(partition(&v), "vsync.v1.in.vikunja.12");
        assert_eq!(
            partition(&vikunja_project(12, EventKind::Deleted)),
            partition(&v)
        );
        assert_ne!(
            partition(&vikunja_task(13, EventKind::Updated)),
            partition(&v)
        );
        let t = tw_task("lap.top", "Home.Garden", EventKind::Updated);
        assert_eq!(partition(&t), "vsync.v1.in.tw.lap=2Etop.Home=2EGarden");
        assert_eq!(
            partition(&tw_task("lap.top", "Home.Garden", EventKind::Deleted)),
            partition(&t)
        );
        assert_eq!(partition("other"), "other");
    }

    #[test]
    fn not_a_token_is_refused() {
        assert_eq!(decode_token("a.b"), None);
        assert_eq!(decode_token("=4"), None);
        assert_eq!(decode_token("=ZZ"), None);
    }
}
