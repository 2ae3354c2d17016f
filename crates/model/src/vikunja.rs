//! A Vikunja task as Vikunja sends it, kept whole, and how it maps to canonical fields.
//!
//! Vikunja's v1 update replaces the whole task (omitted fields are wiped), so the object is kept
//! as received and only the mapped fields are ever changed in it before it is written back.

use serde_json::{Map, Value, json};
use vsync_proto::{Annotation, TaskFields, TaskStatus};

use crate::dates::{format_vikunja, parse_vikunja, parse_vikunja_us};
use crate::fields::{self, Side};
use crate::{ModelError, TagMap, html};

/// A Vikunja task object (all fields, including the ones we do not map).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct VikunjaTask(pub Map<String, Value>);

impl VikunjaTask {
    pub fn from_json(s: &str) -> Result<Self, ModelError> {
        match serde_json::from_str(s)? {
            Value::Object(m) => Ok(VikunjaTask(m)),
            _ => Err(ModelError::NotAnObject("Vikunja task")),
        }
    }

    pub fn from_value(v: Value) -> Result<Self, ModelError> {
        match v {
            Value::Object(m) => Ok(VikunjaTask(m)),
            _ => Err(ModelError::NotAnObject("Vikunja task")),
        }
    }

    pub fn to_json(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }

    fn int(&self, k: &str) -> i64 {
        self.0.get(k).and_then(Value::as_i64).unwrap_or(0)
    }

    fn str(&self, k: &str) -> &str {
        self.0.get(k).and_then(Value::as_str).unwrap_or("")
    }

    fn date(&self, k: &str) -> Option<i64> {
        self.0
            .get(k)
            .and_then(Value::as_str)
            .and_then(parse_vikunja)
    }

    pub fn id(&self) -> i64 {
        self.int("id")
    }
    pub fn project_id(&self) -> i64 {
        self.int("project_id")
    }
    pub fn title(&self) -> &str {
        self.str("title")
    }
    pub fn description(&self) -> &str {
        self.str("description")
    }
    pub fn done(&self) -> bool {
        self.0.get("done").and_then(Value::as_bool).unwrap_or(false)
    }
    pub fn done_at(&self) -> Option<i64> {
        self.date("done_at")
    }
    pub fn due_date(&self) -> Option<i64> {
        self.date("due_date")
    }
    pub fn start_date(&self) -> Option<i64> {
        self.date("start_date")
    }
    pub fn priority(&self) -> i32 {
        self.int("priority").clamp(0, i32::MAX as i64) as i32
    }
    pub fn created(&self) -> Option<i64> {
        self.date("created")
    }
    /// `updated` in microseconds (Vikunja may send nanoseconds, or whole seconds).
    pub fn updated_us(&self) -> Option<i64> {
        self.0
            .get("updated")
            .and_then(Value::as_str)
            .and_then(parse_vikunja_us)
    }
    pub fn repeats(&self) -> bool {
        self.int("repeat_after") > 0 || self.int("repeat_mode") == 1
    }

    /// `(id, title)` of each label on the task (`labels` may be null).
    pub fn labels(&self) -> Vec<(i64, String)> {
        self.0
            .get("labels")
            .and_then(Value::as_array)
            .map(|ls| {
                ls.iter()
                    .map(|l| {
                        (
                            l.get("id").and_then(Value::as_i64).unwrap_or(0),
                            l.get("title")
                                .and_then(Value::as_str)
                                .unwrap_or("")
                                .to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Replaces the label list kept in the object (Vikunja ignores it on writes; this keeps our
    /// copy true after label-sync changed the set).
    pub fn set_labels(&mut self, labels: &[(i64, String)]) {
        let v: Vec<Value> = labels
            .iter()
            .map(|(id, title)| json!({"id": id, "title": title}))
            .collect();
        self.0.insert(
            "labels".into(),
            if v.is_empty() {
                Value::Null
            } else {
                Value::Array(v)
            },
        );
    }
}

/// The canonical fields as Vikunja shows them. `project_path` is the task's project as a TW
/// path ("" for the default project); `deleted` for a task Vikunja reported deleted.
pub fn view(task: &VikunjaTask, project_path: &str, tags: &TagMap, deleted: bool) -> TaskFields {
    let updated = task.updated_us().map(|us| us / 1_000_000);
    let (status, end) = if deleted {
        (TaskStatus::Deleted, updated)
    } else if task.done() {
        (TaskStatus::Completed, task.done_at().or(updated))
    } else {
        (TaskStatus::Pending, None)
    };
    // Vikunja keeps no annotation dates; a task without `created` still gets real ones.
    let base_entry = task.created().or(updated).unwrap_or(0);
    let annotations = html::paragraphs(task.description())
        .into_iter()
        .enumerate()
        .map(|(i, description)| Annotation {
            entry: base_entry + i as i64,
            description,
        })
        .collect();
    // Labels whose tag is not synced (e.g. a virtual tag's name) stay in Vikunja only.
    let mut labels: Vec<String> = task
        .labels()
        .iter()
        .filter_map(|(_, t)| tags.label_tag(t))
        .collect();
    labels.sort();
    labels.dedup();
    let mut f = TaskFields {
        description: task.title().to_string(),
        annotations,
        end,
        due: task.due_date(),
        scheduled: task.start_date(),
        priority: task.priority(),
        tags: labels,
        project: project_path.to_string(),
        entry: task.created(),
        ..Default::default()
    };
    crate::text::clean_fields(&mut f);
    f.set_status(status);
    f
}

/// The full object to write to Vikunja: `stored` (the last object seen) with every mapped field
/// that differs from `fields` replaced, and the task placed in `project_id`. Fields we do not map
/// (assignees, reminders, colour, percent done, repeat settings, ...) stay as they were. For a
/// create; an update sends only [`changes`].
pub fn apply(
    stored: Option<&VikunjaTask>,
    fields: &TaskFields,
    project_id: i64,
    tags: &TagMap,
) -> VikunjaTask {
    let mut task = stored.cloned().unwrap_or_default();
    task.0.extend(changes(stored, fields, project_id, tags));
    task
}

/// The Vikunja members (`title`, `description`, `done`, `due_date`, `start_date`, `priority`,
/// `project_id`) whose mapped field in `fields` differs from `stored` (all of them without a
/// stored object), with their new values: what an update sends.
pub fn changes(
    stored: Option<&VikunjaTask>,
    fields: &TaskFields,
    project_id: i64,
    tags: &TagMap,
) -> Map<String, Value> {
    let current = stored.map(|s| view(s, &fields.project, tags, false));
    let differs = |f: &str| {
        current.as_ref().is_none_or(|c| {
            fields::get(fields, f, Side::Vikunja) != fields::get(c, f, Side::Vikunja)
        })
    };
    let mut m = Map::new();
    if differs(fields::DESCRIPTION) {
        m.insert("title".into(), json!(fields.description));
    }
    if differs(fields::ANNOTATIONS) {
        let texts: Vec<&str> = fields
            .annotations
            .iter()
            .map(|a| a.description.as_str())
            .collect();
        m.insert("description".into(), json!(html::render(&texts)));
    }
    if differs(fields::STATUS) {
        m.insert(
            "done".into(),
            json!(fields.status() == TaskStatus::Completed),
        );
    }
    if differs(fields::DUE) {
        m.insert("due_date".into(), json!(format_vikunja(fields.due)));
    }
    if differs(fields::SCHEDULED) {
        m.insert("start_date".into(), json!(format_vikunja(fields.scheduled)));
    }
    if differs(fields::PRIORITY) {
        m.insert("priority".into(), json!(fields.priority));
    }
    if project_id > 0 && stored.is_none_or(|s| s.project_id() != project_id) {
        m.insert("project_id".into(), json!(project_id));
    }
    m
}

/// The lists Vikunja sends `null` both when empty and when it did not load them: a change
/// made through a link share is sent as the bare row (reference §8).
const NULL_WHEN_UNKNOWN: [&str; 3] = ["labels", "assignees", "reminders"];

/// Reads the `null` lists of a webhook's task as "unknown": each is taken from `known` (the
/// last object we saw). Returns true when `labels` was `null` while `known` had labels: whether
/// they were all removed or just not sent, only a fresh read can tell.
pub fn fill_unknown_lists(task: &mut VikunjaTask, known: Option<&VikunjaTask>) -> bool {
    let mut labels_unknown = false;
    for key in NULL_WHEN_UNKNOWN {
        if !task.0.get(key).is_none_or(Value::is_null) {
            continue;
        }
        let Some(had) = known.and_then(|k| k.0.get(key)).filter(|v| !v.is_null()) else {
            continue;
        };
        labels_unknown |= key == "labels";
        task.0.insert(key.into(), had.clone());
    }
    labels_unknown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> VikunjaTask {
        VikunjaTask::from_value(json!({
            "id": 7, "title": "Buy milk", "description": "<p>2 litres</p><p>oat</p>",
            "done": false, "done_at": "0001-01-01T00:00:00Z",
            "due_date": "2026-03-01T11:00:00+02:00", "start_date": "0001-01-01T00:00:00Z",
            "priority": 4, "project_id": 3, "created": "2026-01-01T00:00:00Z",
            "updated": "2026-01-02T00:00:00Z", "hex_color": "ff0000", "percent_done": 0.5,
            "assignees": [{"id": 2, "username": "bob"}], "repeat_mode": 1,
            "reminders": [{"reminder": "2026-02-28T09:00:00Z", "relative_period": 0, "relative_to": ""}],
            "labels": [{"id": 1, "title": "Waiting on Bob"}]
        }))
        .expect("object")
    }

    #[test]
    fn view_maps_every_field() {
        let f = view(&sample(), "Home.Garden", &TagMap::default(), false);
        assert_eq!(f.description, "Buy milk");
        let texts: Vec<_> = f
            .annotations
            .iter()
            .map(|a| a.description.as_str())
            .collect();
        assert_eq!(texts, ["2 litres", "oat"]);
        assert_eq!(f.status(), TaskStatus::Pending);
        assert_eq!(f.due, Some(1_772_355_600));
        assert_eq!(f.scheduled, None);
        assert_eq!(f.priority, 4);
        assert_eq!(f.tags, ["Waiting_on_Bob"]);
        assert_eq!(f.project, "Home.Garden");
    }

    #[test]
    fn control_characters_do_not_reach_canonical_fields() {
        let mut t = sample();
        t.0.insert("title".into(), json!("Pay\u{1b}[2J\u{0} rent\u{9b}"));
        t.0.insert("description".into(), json!("<p>a&#x1b;b&#0;</p>"));
        t.set_labels(&[(1, "urg\u{1b}ent".into())]);
        let f = view(&t, "Ho\u{7}me", &TagMap::default(), false);
        assert_eq!(f.description, "Pay[2J rent");
        assert_eq!(f.annotations[0].description, "ab");
        assert_eq!(f.tags, ["urgent"]);
        assert_eq!(f.project, "Home");
    }

    #[test]
    fn a_task_without_created_dates_its_annotations_by_updated() {
        let mut t = sample();
        t.0.insert("created".into(), json!("0001-01-01T00:00:00Z"));
        let f = view(&t, "Home", &TagMap::default(), false);
        let updated = t.updated_us().map(|us| us / 1_000_000);
        assert_eq!(f.annotations[0].entry, updated.unwrap_or_default());
        assert_eq!(f.annotations[1].entry, updated.unwrap_or_default() + 1);
    }

    #[test]
    fn labels_whose_tag_is_not_synced_stay_in_vikunja() {
        let mut t = sample();
        t.set_labels(&[
            (1, "Waiting on Bob".into()),
            (2, "OVERDUE".into()),
            (3, "tw.mine".into()),
        ]);
        let map = TagMap {
            tw_only_prefix: Some("tw.".into()),
            ..Default::default()
        };
        assert_eq!(view(&t, "Home", &map, false).tags, ["Waiting_on_Bob"]);
    }

    #[test]
    fn apply_changes_only_mapped_fields_and_keeps_the_rest() {
        let stored = sample();
        let mut f = view(&stored, "Home", &TagMap::default(), false);
        f.description = "Buy oat milk".into();
        f.set_status(TaskStatus::Completed);
        let out = apply(Some(&stored), &f, 3, &TagMap::default());
        assert_eq!(out.title(), "Buy oat milk");
        assert!(out.done());
        for k in [
            "hex_color",
            "percent_done",
            "assignees",
            "reminders",
            "repeat_mode",
            "description",
        ] {
            assert_eq!(out.0.get(k), stored.0.get(k), "{k} must survive");
        }
        // Vikunja's editor HTML is kept as it was while the paragraphs are unchanged.
        assert_eq!(out.description(), "<p>2 litres</p><p>oat</p>");
    }

    #[test]
    fn changes_hold_only_the_members_that_differ() {
        let stored = sample();
        let mut f = view(&stored, "Home", &TagMap::default(), false);
        assert!(changes(Some(&stored), &f, 3, &TagMap::default()).is_empty());
        f.due = None;
        f.priority = 1;
        let c = changes(Some(&stored), &f, 3, &TagMap::default());
        assert_eq!(
            Value::Object(c),
            json!({"due_date": "0001-01-01T00:00:00Z", "priority": 1})
        );
        let moved = changes(Some(&stored), &f, 9, &TagMap::default());
        assert_eq!(moved.get("project_id"), Some(&json!(9)));
        let all = changes(None, &f, 3, &TagMap::default());
        for k in [
            "title",
            "description",
            "done",
            "due_date",
            "start_date",
            "priority",
        ] {
            assert!(all.contains_key(k), "{k}");
        }
    }

    #[test]
    fn null_lists_in_a_webhook_are_unknown_not_empty() {
        let known = sample();
        let mut bare = sample();
        for k in ["labels", "assignees", "reminders"] {
            bare.0.insert(k.into(), Value::Null);
        }
        assert!(
            fill_unknown_lists(&mut bare, Some(&known)),
            "labels need a read"
        );
        assert_eq!(bare, known);
        // Nothing known, or nothing to lose: null stays null, no read needed.
        let mut none = bare.clone();
        none.0.insert("labels".into(), Value::Null);
        assert!(!fill_unknown_lists(&mut none, None));
        let mut unlabelled = known.clone();
        unlabelled.set_labels(&[]);
        let mut incoming = unlabelled.clone();
        assert!(!fill_unknown_lists(&mut incoming, Some(&unlabelled)));
        // A list that was sent wins.
        let mut sent = known.clone();
        sent.set_labels(&[(5, "new".into())]);
        assert!(!fill_unknown_lists(&mut sent, Some(&known)));
        assert_eq!(sent.labels(), [(5, "new".to_string())]);
    }
}
