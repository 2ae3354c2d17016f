//! Subject names, and the token encoding that lets any project or host name be one subject token.
//!
//! `[A-Za-z0-9_-]` pass through; every other byte becomes `=HH` (upper-case hex); the empty
//! string is `=`. The result is also a valid KV key and consumer name, and decodes back exactly.

use vsync_proto::EventKind;

/// Prefix of every event subject.
pub const IN: &str = "vsync.v1.in";
/// Everything the reconciler consumes.
pub const IN_ALL: &str = "vsync.v1.in.>";
/// Dead letters: `vsync.v1.dead.<stage>`.
pub const DEAD: &str = "vsync.v1.dead";
/// Conflict log: `vsync.v1.conflict.<uuid>`.
pub const CONFLICT: &str = "vsync.v1.conflict";
/// Applied notices: `vsync.v1.applied.<host>` (core NATS, not persisted).
pub const APPLIED: &str = "vsync.v1.applied";
/// Control requests (request/reply): `vsync.v1.ctl.<service>.<verb>`.
pub const CTL: &str = "vsync.v1.ctl";

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

/// `vsync.v1.ctl.<service>.<verb>`
pub fn ctl(service: &str, verb: &str) -> String {
    format!("{CTL}.{service}.{verb}")
}

/// The low-cardinality pattern of a subject for span names: ids and names become `*`.
pub fn pattern(subject: &str) -> String {
    let parts: Vec<&str> = subject.split('.').collect();
    match parts.as_slice() {
        ["vsync", "v1", "in", "vikunja", _, rest @ ..] => {
            format!("vsync.v1.in.vikunja.*.{}", rest.join("."))
        }
        ["vsync", "v1", "in", "tw", _, _, rest @ ..] => {
            format!("vsync.v1.in.tw.*.*.{}", rest.join("."))
        }
        ["$KV", bucket, ..] => format!("$KV.{bucket}.*"),
        ["vsync", "v1", kind, _] => format!("vsync.v1.{kind}.*"),
        _ => subject.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn not_a_token_is_refused() {
        assert_eq!(decode_token("a.b"), None);
        assert_eq!(decode_token("=4"), None);
        assert_eq!(decode_token("=ZZ"), None);
    }
}
