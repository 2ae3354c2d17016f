//! The synced fields, by name, and how each side sees them.
//!
//! A field's value is compared "as the side sees it": Taskwarrior shows priority 4 and 5 as `H`,
//! Vikunja has no dependencies or UDAs, annotations compare by text only (Vikunja keeps no entry
//! dates). Two values that one side cannot tell apart are no change on that side.

use vsync_proto::{Annotation, Origin, TaskFields, TaskStatus};

/// Field names used in stamps and conflicts. TW-only extra attributes are `x.<attr>`.
pub const DESCRIPTION: &str = "description";
pub const ANNOTATIONS: &str = "annotations";
pub const STATUS: &str = "status";
pub const DUE: &str = "due";
pub const SCHEDULED: &str = "scheduled";
pub const PRIORITY: &str = "priority";
pub const TAGS: &str = "tags";
pub const PROJECT: &str = "project";
pub const DEPENDS: &str = "depends";

/// Fields both sides carry.
pub const SHARED: &[&str] = &[
    DESCRIPTION,
    ANNOTATIONS,
    STATUS,
    DUE,
    SCHEDULED,
    PRIORITY,
    TAGS,
    PROJECT,
];

/// Which side looks at a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Vikunja,
    Taskwarrior,
}

impl Side {
    pub fn of(origin: Origin) -> Side {
        match origin {
            Origin::Vikunja => Side::Vikunja,
            _ => Side::Taskwarrior,
        }
    }
}

/// The names of every field `fields` carries for `side` (shared ones, plus TW extras).
pub fn names(side: Side, fields: &TaskFields) -> Vec<String> {
    let mut out: Vec<String> = SHARED.iter().map(|s| s.to_string()).collect();
    if side == Side::Taskwarrior {
        out.push(DEPENDS.to_string());
        out.extend(fields.tw_extra.keys().map(|k| format!("x.{k}")));
    }
    out
}

/// One field's value, comparable and printable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Texts(Vec<String>),
    Status(TaskStatus),
    Date(Option<i64>),
    Number(i32),
    /// A TW extra attribute (JSON text), `None` when absent.
    Extra(Option<String>),
}

impl Value {
    /// Human-readable form for the conflict log.
    pub fn display(&self) -> String {
        match self {
            Value::Text(s) => s.clone(),
            Value::Texts(v) => v.join(" | "),
            Value::Status(s) => s.as_tw().to_string(),
            Value::Date(Some(d)) => crate::dates::format_tw(*d),
            Value::Date(None) | Value::Extra(None) => String::new(),
            Value::Number(n) => n.to_string(),
            Value::Extra(Some(s)) => s.clone(),
        }
    }
}

/// The value of `field` in `fields` as `side` sees it.
pub fn get(fields: &TaskFields, field: &str, side: Side) -> Value {
    match field {
        DESCRIPTION => Value::Text(fields.description.clone()),
        ANNOTATIONS => Value::Texts(
            fields
                .annotations
                .iter()
                .map(|a| a.description.clone())
                .collect(),
        ),
        STATUS => Value::Status(fields.status()),
        DUE => Value::Date(fields.due),
        SCHEDULED => Value::Date(fields.scheduled),
        PRIORITY => Value::Number(match side {
            // Taskwarrior has H/M/L only: 4 and 5 read as H (3).
            Side::Taskwarrior => fields.priority.clamp(0, 3),
            Side::Vikunja => fields.priority,
        }),
        TAGS => Value::Texts(sorted(&fields.tags)),
        PROJECT => Value::Text(fields.project.clone()),
        DEPENDS => Value::Texts(sorted(&fields.depends)),
        other => Value::Extra(
            other
                .strip_prefix("x.")
                .and_then(|k| fields.tw_extra.get(k).cloned()),
        ),
    }
}

/// Copies `field` from `src` into `dst` (the full value, e.g. status with its end date).
pub fn copy(dst: &mut TaskFields, src: &TaskFields, field: &str) {
    match field {
        DESCRIPTION => dst.description = src.description.clone(),
        ANNOTATIONS => dst.annotations = keep_entries(&dst.annotations, &src.annotations),
        STATUS => {
            dst.status = src.status;
            dst.end = src.end;
        }
        DUE => dst.due = src.due,
        SCHEDULED => dst.scheduled = src.scheduled,
        PRIORITY => {
            // TW's H over a Vikunja 4/5 is no change (see `get`), so a copy from TW is a real H/M/L.
            dst.priority = src.priority;
        }
        TAGS => dst.tags = sorted(&src.tags),
        PROJECT => dst.project = src.project.clone(),
        DEPENDS => dst.depends = sorted(&src.depends),
        other => {
            if let Some(k) = other.strip_prefix("x.") {
                match src.tw_extra.get(k) {
                    Some(v) => {
                        dst.tw_extra.insert(k.to_string(), v.clone());
                    }
                    None => {
                        dst.tw_extra.remove(k);
                    }
                }
            }
        }
    }
}

/// Annotations from `incoming`, reusing the entry dates of same-text annotations in `current`,
/// and giving new ones distinct entry seconds (Taskwarrior keys annotations by entry second).
pub fn keep_entries(current: &[Annotation], incoming: &[Annotation]) -> Vec<Annotation> {
    let mut used: Vec<i64> = Vec::new();
    let mut out = Vec::with_capacity(incoming.len());
    for a in incoming {
        let reuse = current
            .iter()
            .find(|c| c.description == a.description && !used.contains(&c.entry))
            .map(|c| c.entry);
        let mut entry = reuse.unwrap_or(a.entry);
        while used.contains(&entry) {
            entry += 1;
        }
        used.push(entry);
        out.push(Annotation {
            entry,
            description: a.description.clone(),
        });
    }
    out
}

/// A stable fingerprint of what `side` sees of `fields` (FNV-1a over the shared fields).
pub fn fingerprint(fields: &TaskFields, side: Side) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for name in SHARED {
        for b in format!("{name}={:?};", get(fields, name, side)).bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

fn sorted(v: &[String]) -> Vec<String> {
    let mut v = v.to_vec();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taskwarrior_cannot_tell_urgent_from_high() {
        let urgent = TaskFields {
            priority: 5,
            ..Default::default()
        };
        let high = TaskFields {
            priority: 3,
            ..Default::default()
        };
        assert_eq!(
            get(&urgent, PRIORITY, Side::Taskwarrior),
            get(&high, PRIORITY, Side::Taskwarrior)
        );
        assert_ne!(
            get(&urgent, PRIORITY, Side::Vikunja),
            get(&high, PRIORITY, Side::Vikunja)
        );
    }

    #[test]
    fn annotations_keep_their_entries_and_new_ones_get_distinct_seconds() {
        let current = vec![Annotation {
            entry: 100,
            description: "a".into(),
        }];
        let incoming = vec![
            Annotation {
                entry: 500,
                description: "a".into(),
            },
            Annotation {
                entry: 500,
                description: "b".into(),
            },
            Annotation {
                entry: 500,
                description: "c".into(),
            },
        ];
        let out = keep_entries(&current, &incoming);
        let entries: Vec<i64> = out.iter().map(|a| a.entry).collect();
        assert_eq!(entries, vec![100, 500, 501]);
    }
}
