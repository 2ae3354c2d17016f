//! A task as Taskwarrior 3 stores it in its replica: the string map `task import` writes for a
//! task's JSON. Every rule here was read off what `task import` of Taskwarrior 3.5 stored
//! (tests/replica.rs compares the two, task by task). Anything these rules do not cover with
//! certainty is `Unsupported`, and that task goes through `task import` instead.
//!
//! - Dates (`entry`, `end`, `start`, `due`, ... and date UDAs) are epoch seconds.
//! - Tags are `tag_<name>: "x"` plus the legacy `tags` key (sorted, comma-joined); dependencies
//!   `dep_<uuid>: "x"` plus `depends`; annotations `annotation_<epoch>` (a second entry in the
//!   same second moves one second on).
//! - JSON numbers are written as `%f` (`42` -> `42.000000`); strings as they are.
//! - `waiting` is `pending` with a `wait`; a pending task has no `end`; a completed or deleted
//!   task without one keeps the one it has, else gets now; a missing `entry` likewise.
//! - `id`, `urgency` and `modified` are not taken from the JSON: `modified` is the time of the
//!   write, and only when something else changed (an unchanged task is not written at all).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde_json::Value;
use vsync_model::TwTask;

/// A task in the replica: property -> value.
pub(crate) type TaskMap = HashMap<String, String>;

/// Why a task is left to `task import`.
#[derive(Debug, PartialEq)]
pub(crate) struct Unsupported(pub String);

/// Taskwarrior's own date attributes.
const DATES: &[&str] = &["entry", "end", "start", "due", "scheduled", "wait", "until"];
/// Recurrence needs Taskwarrior's own handling (templates, masks, children).
const RECURRENCE: &[&str] = &["recur", "mask", "imask", "parent", "rtype"];
/// Export-only or set by the write itself.
const IGNORED: &[&str] = &["uuid", "id", "urgency", "modified"];
/// Keys of the replica's own encoding: as JSON keys they would be ambiguous.
const ENCODED_PREFIXES: &[&str] = &["tag_", "dep_", "annotation_"];

/// The map `task import` of `task` stores, given the task's `current` map (`None`: new), the
/// names of this host's date UDAs and the time of the write.
pub(crate) fn stored(
    task: &TwTask,
    current: Option<&TaskMap>,
    date_udas: &HashSet<String>,
    now: i64,
) -> Result<TaskMap, Unsupported> {
    let mut out = TaskMap::new();
    let status = match task.0.get("status").and_then(Value::as_str) {
        Some(s @ ("pending" | "completed" | "deleted")) => s,
        Some("waiting") => "pending",
        other => return Err(unsupported(format!("status {other:?}"))),
    };
    out.insert("status".into(), status.into());
    for (key, value) in &task.0 {
        let key = key.as_str();
        if IGNORED.contains(&key) || key == "status" {
            continue;
        }
        if RECURRENCE.contains(&key) {
            return Err(unsupported(format!("recurrence attribute {key}")));
        }
        if ENCODED_PREFIXES.iter().any(|p| key.starts_with(p)) || key.is_empty() {
            return Err(unsupported(format!("attribute name {key:?}")));
        }
        match key {
            "tags" => {
                let tags = names(value, "tags")?;
                if tags.iter().any(|t| t.is_empty() || t.contains(',')) {
                    return Err(unsupported(format!("tags {tags:?}")));
                }
                for t in &tags {
                    out.insert(format!("tag_{t}"), "x".into());
                }
                joined(&mut out, "tags", tags);
            }
            "depends" => {
                let deps = names(value, "depends")?;
                if !deps.iter().all(|d| crate::is_uuid(d)) {
                    return Err(unsupported(format!("depends {deps:?}")));
                }
                for d in &deps {
                    out.insert(format!("dep_{d}"), "x".into());
                }
                joined(&mut out, "depends", deps);
            }
            "annotations" => annotations(&mut out, value)?,
            "description" => match value {
                Value::String(s) if !s.is_empty() => {
                    out.insert(key.into(), s.clone());
                }
                _ => return Err(unsupported("description".into())),
            },
            k if DATES.contains(&k) || date_udas.contains(k) => {
                out.insert(key.into(), epoch(value, key)?.to_string());
            }
            _ => {
                out.insert(key.into(), scalar(value, key)?);
            }
        }
    }
    if !out.contains_key("description") {
        return Err(unsupported("no description".into()));
    }
    let kept = |k: &str| current.and_then(|c| c.get(k)).cloned();
    if !out.contains_key("entry") {
        out.insert("entry".into(), kept("entry").unwrap_or(now.to_string()));
    }
    if status == "pending" {
        out.remove("end");
    } else if !out.contains_key("end") {
        out.insert("end".into(), kept("end").unwrap_or(now.to_string()));
    }
    Ok(out)
}

fn unsupported(why: String) -> Unsupported {
    Unsupported(why)
}

/// A list given as a JSON array of strings, or as one comma-separated string.
fn names(v: &Value, key: &str) -> Result<BTreeSet<String>, Unsupported> {
    match v {
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<BTreeSet<String>>>()
            .ok_or_else(|| unsupported(format!("{key} is not a list of strings"))),
        Value::String(s) => Ok(s
            .split(',')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()),
        _ => Err(unsupported(format!("{key} is not a list"))),
    }
}

/// The legacy comma-joined key, absent when the list is empty.
fn joined(out: &mut TaskMap, key: &str, names: BTreeSet<String>) {
    if !names.is_empty() {
        out.insert(key.into(), names.into_iter().collect::<Vec<_>>().join(","));
    }
}

fn annotations(out: &mut TaskMap, v: &Value) -> Result<(), Unsupported> {
    let Value::Array(list) = v else {
        return Err(unsupported("annotations is not a list".into()));
    };
    for a in list {
        let entry = a.get("entry").map(|e| epoch(e, "annotation entry"));
        let text = a.get("description").and_then(Value::as_str);
        let (Some(Ok(mut at)), Some(text)) = (entry, text) else {
            return Err(unsupported(format!("annotation {a}")));
        };
        while out.contains_key(&format!("annotation_{at}")) {
            at += 1;
        }
        out.insert(format!("annotation_{at}"), text.to_string());
    }
    Ok(())
}

/// A date in the form Taskwarrior exports (`20260301T090000Z`), as epoch seconds.
fn epoch(v: &Value, key: &str) -> Result<i64, Unsupported> {
    let s = v.as_str().unwrap_or_default();
    let b = s.as_bytes();
    let exact = b.len() == 16 && b[8] == b'T' && b[15] == b'Z';
    match vsync_model::dates::parse_tw(s) {
        Some(t) if exact && t >= 0 => Ok(t),
        _ => Err(unsupported(format!("{key} date {v}"))),
    }
}

/// Any other attribute: a string as it is, a number as `%f`.
fn scalar(v: &Value, key: &str) -> Result<String, Unsupported> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.is_finite() && f.abs() < 1e15 => Ok(format!("{f:.6}")),
            _ => Err(unsupported(format!("{key} number {n}"))),
        },
        _ => Err(unsupported(format!("{key} value {v}"))),
    }
}

/// The property changes from `current` to `target`, `modified` left out; `status` comes last,
/// as Taskwarrior writes it.
pub(crate) fn changes(current: &TaskMap, target: &TaskMap) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::new();
    let mut keys: BTreeSet<&String> = current.keys().collect();
    keys.extend(target.keys());
    for k in keys {
        if k == "modified" || k == "status" {
            continue;
        }
        if current.get(k) != target.get(k) {
            out.push((k.clone(), target.get(k).cloned()));
        }
    }
    if current.get("status") != target.get("status") {
        out.push(("status".into(), target.get("status").cloned()));
    }
    out
}

#[cfg(test)]
#[path = "stored_tests.rs"]
mod tests;
