//! A Taskwarrior task as `task export` prints it, and how it maps to canonical fields.
//!
//! `task import` replaces the whole task, so an apply starts from the host's complete local task
//! and changes only the fields that differ: UDAs and attributes we do not sync survive.

use serde_json::{Map, Value, json};
use vsync_proto::{Annotation, TaskFields, TaskState, TaskStatus};

use crate::ModelError;
use crate::dates::{TW_EARLIEST_DATE, format_tw, parse_tw};
use crate::fields::{self, Side};
use crate::text;

/// The UDA holding the Vikunja task id on every host.
pub const VIKUNJA_ID_UDA: &str = "vikunja_id";

/// Attributes that are mapped explicitly, computed by Taskwarrior, or kept per host
/// (recurrence bookkeeping refers to host-local templates, so it is not synced).
const NOT_EXTRA: &[&str] = &[
    "id",
    "uuid",
    "urgency",
    "modified",
    "entry",
    "description",
    "annotations",
    "status",
    "end",
    "due",
    "scheduled",
    "priority",
    "tags",
    "project",
    "depends",
    VIKUNJA_ID_UDA,
    "parent",
    "mask",
    "imask",
    "recur",
    "rtype",
];

/// A Taskwarrior task (every attribute as exported).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TwTask(pub Map<String, Value>);

impl TwTask {
    pub fn from_json(s: &str) -> Result<Self, ModelError> {
        Self::from_value(serde_json::from_str(s)?)
    }

    pub fn from_value(v: Value) -> Result<Self, ModelError> {
        match v {
            Value::Object(m) if m.get("uuid").and_then(Value::as_str).is_some() => Ok(TwTask(m)),
            Value::Object(_) => Err(ModelError::MissingField("uuid")),
            _ => Err(ModelError::NotAnObject("Taskwarrior task")),
        }
    }

    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    pub fn uuid(&self) -> &str {
        self.str("uuid")
    }

    fn str(&self, k: &str) -> &str {
        self.0.get(k).and_then(Value::as_str).unwrap_or("")
    }

    fn date(&self, k: &str) -> Option<i64> {
        self.0.get(k).and_then(Value::as_str).and_then(parse_tw)
    }

    pub fn status(&self) -> &str {
        self.str("status")
    }

    /// `modified` (or `entry`) in microseconds.
    pub fn modified_us(&self) -> Option<i64> {
        self.date("modified")
            .or_else(|| self.date("entry"))
            .map(|s| s * 1_000_000)
    }

    /// The Vikunja id stored in the UDA (2.6 exports numbers as `42.000000`).
    pub fn vikunja_id(&self) -> Option<i64> {
        match self.0.get(VIKUNJA_ID_UDA)? {
            Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
            Value::String(s) => s.parse::<f64>().ok().map(|f| f as i64),
            _ => None,
        }
        .filter(|id| *id > 0)
    }

    /// A recurrence template: it only generates tasks and is not synced itself.
    pub fn is_template(&self) -> bool {
        self.status() == "recurring"
    }
}

/// The canonical fields as this Taskwarrior task shows them.
pub fn view(task: &TwTask) -> TaskFields {
    let status = match task.status() {
        "completed" => TaskStatus::Completed,
        "deleted" => TaskStatus::Deleted,
        _ => TaskStatus::Pending,
    };
    let annotations = task
        .0
        .get("annotations")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|a| Annotation {
                    entry: a
                        .get("entry")
                        .and_then(Value::as_str)
                        .and_then(parse_tw)
                        .unwrap_or(0),
                    description: a
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    let priority = match task.str("priority") {
        "H" => 3,
        "M" => 2,
        "L" => 1,
        _ => 0,
    };
    let mut f = TaskFields {
        description: task.str("description").to_string(),
        annotations,
        end: if status == TaskStatus::Pending {
            None
        } else {
            task.date("end")
        },
        due: task.date("due"),
        scheduled: task.date("scheduled"),
        priority,
        tags: strings(task.0.get("tags")),
        project: task.str("project").to_string(),
        depends: strings(task.0.get("depends")),
        entry: task.date("entry"),
        tw_extra: task
            .0
            .iter()
            .filter(|(k, _)| !NOT_EXTRA.contains(&k.as_str()))
            .map(|(k, v)| {
                let k = text::clean_name(k).into_owned();
                (k, extra_text(&text::clean_value(v)))
            })
            .filter(|(k, _)| !k.is_empty())
            .collect(),
        ..Default::default()
    };
    text::clean_fields(&mut f);
    f.tags.sort();
    f.depends.sort();
    f.set_status(status);
    f
}

/// An extra attribute as comparable JSON text: numbers print the same whether a host exported
/// `42` (3.x) or `42.000000` (2.6).
fn extra_text(v: &Value) -> String {
    match v {
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => format!("{}", f as i64),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// Arrays of strings, or 2.5's comma-separated `depends` string.
fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => s
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The complete task to import so that this host shows `state`, starting from the host's
/// `local` task; `None` when the host already shows it (or a deleted task it never had).
pub fn apply(state: &TaskState, local: Option<&TwTask>) -> Option<TwTask> {
    let mut canonical = state.fields.clone().unwrap_or_default();
    storable_dates(&mut canonical, state.merged_at_us / 1_000_000);
    let is_new = local.is_none();
    if is_new && canonical.status() == TaskStatus::Deleted {
        return None;
    }
    let mut task = match local {
        Some(t) => t.clone(),
        None => {
            let mut m = Map::new();
            m.insert("uuid".into(), json!(state.uuid));
            m.insert(
                "entry".into(),
                json!(format_tw(
                    canonical.entry.unwrap_or(state.merged_at_us / 1_000_000)
                )),
            );
            TwTask(m)
        }
    };
    let current = view(&task);
    let mut names = fields::names(Side::Taskwarrior, &canonical);
    // Extras the host has that were removed elsewhere (a stamp without a value).
    names.extend(
        current
            .tw_extra
            .keys()
            .map(|k| format!("x.{k}"))
            .filter(|k| !canonical.tw_extra.contains_key(&k[2..]) && state.stamps.contains_key(k)),
    );
    let mut changed = is_new;
    for name in &names {
        if !is_new
            && fields::get(&canonical, name, Side::Taskwarrior)
                == fields::get(&current, name, Side::Taskwarrior)
        {
            continue;
        }
        changed = true;
        write_field(&mut task.0, &canonical, name);
    }
    if state.vikunja_id > 0 && task.vikunja_id() != Some(state.vikunja_id) {
        task.0
            .insert(VIKUNJA_ID_UDA.into(), json!(state.vikunja_id));
        changed = true;
    }
    changed.then_some(task)
}

/// Like [`apply`], over a `local` task holding changes of this host's that `state` has not
/// merged yet (made since `base`, e.g. with hooks off): those fields stay as the host has them
/// until canonical state brings them back merged, so no apply wipes what the user just did.
pub fn apply_keeping_local(
    state: &TaskState,
    local: &TwTask,
    base: Option<&TwTask>,
) -> Option<TwTask> {
    let (now, before) = (view(local), base.map(view).unwrap_or_default());
    let mut kept = state.clone();
    let fields = kept.fields.get_or_insert_with(TaskFields::default);
    for name in changed_fields(&before, &now) {
        fields::copy(fields, &now, &name);
    }
    apply(&kept, Some(local))
}

/// Whether `task` already shows `state` in every field either of them carries.
pub fn shows(state: &TaskState, task: &TwTask) -> bool {
    let mut canonical = state.fields.clone().unwrap_or_default();
    storable_dates(&mut canonical, state.merged_at_us / 1_000_000);
    changed_fields(&canonical, &view(task)).is_empty()
        && (state.vikunja_id <= 0 || task.vikunja_id() == Some(state.vikunja_id))
}

/// The Taskwarrior fields, extras included, whose value differs between `a` and `b`.
fn changed_fields(a: &TaskFields, b: &TaskFields) -> Vec<String> {
    let mut names = fields::names(Side::Taskwarrior, a);
    names.extend(fields::names(Side::Taskwarrior, b));
    names.sort();
    names.dedup();
    names.retain(|n| fields::get(a, n, Side::Taskwarrior) != fields::get(b, n, Side::Taskwarrior));
    names
}

/// Moves every date Taskwarrior could not store to one it can ([`TW_EARLIEST_DATE`]): an
/// annotation without a real entry date (a Vikunja task without `created`) takes the task's
/// entry, or `fallback`, one second apart from the others; other dates are clamped.
fn storable_dates(f: &mut TaskFields, fallback: i64) {
    let clamp = |d: &mut Option<i64>| {
        if let Some(d) = d {
            *d = (*d).max(TW_EARLIEST_DATE);
        }
    };
    for d in [&mut f.due, &mut f.scheduled, &mut f.end, &mut f.entry] {
        clamp(d);
    }
    let base = f.entry.unwrap_or(fallback).max(TW_EARLIEST_DATE);
    let mut used: Vec<i64> = f.annotations.iter().map(|a| a.entry).collect();
    for a in &mut f.annotations {
        if a.entry < TW_EARLIEST_DATE {
            a.entry = base;
            while used.contains(&a.entry) {
                a.entry += 1;
            }
            used.push(a.entry);
        }
    }
}

fn write_field(m: &mut Map<String, Value>, f: &TaskFields, name: &str) {
    let set_or_remove = |m: &mut Map<String, Value>, k: &str, v: Option<Value>| match v {
        Some(v) => {
            m.insert(k.to_string(), v);
        }
        None => {
            m.remove(k);
        }
    };
    let date = |d: Option<i64>| d.map(|d| json!(format_tw(d)));
    let list = |v: &[String]| (!v.is_empty()).then(|| json!(v));
    match name {
        fields::DESCRIPTION => set_or_remove(m, "description", Some(json!(f.description))),
        fields::ANNOTATIONS => {
            let v: Vec<Value> = f
                .annotations
                .iter()
                .map(|a| json!({"entry": format_tw(a.entry), "description": a.description}))
                .collect();
            set_or_remove(m, "annotations", (!v.is_empty()).then(|| json!(v)));
        }
        fields::STATUS => {
            m.insert("status".into(), json!(f.status().as_tw()));
            let end = match f.status() {
                TaskStatus::Pending | TaskStatus::Unspecified => None,
                _ => f.end.or_else(|| Some(crate::dates::now_us() / 1_000_000)),
            };
            set_or_remove(m, "end", date(end));
        }
        fields::DUE => set_or_remove(m, "due", date(f.due)),
        fields::SCHEDULED => set_or_remove(m, "scheduled", date(f.scheduled)),
        fields::PRIORITY => {
            let p = match f.priority {
                p if p >= 3 => Some("H"),
                2 => Some("M"),
                1 => Some("L"),
                _ => None,
            };
            set_or_remove(m, "priority", p.map(|p| json!(p)));
        }
        fields::TAGS => set_or_remove(m, "tags", list(&f.tags)),
        fields::PROJECT => set_or_remove(
            m,
            "project",
            (!f.project.is_empty()).then(|| json!(f.project)),
        ),
        fields::DEPENDS => set_or_remove(m, "depends", list(&f.depends)),
        other => {
            if let Some(k) = other.strip_prefix("x.") {
                let v = f
                    .tw_extra
                    .get(k)
                    .and_then(|s| serde_json::from_str::<Value>(s).ok());
                set_or_remove(m, k, v);
            }
        }
    }
}

#[cfg(test)]
mod tests;
