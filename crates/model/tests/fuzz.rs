//! Property tests over hostile input (issue 14, "parsers fuzzed"): whatever Taskwarrior JSON
//! or Vikunja JSON arrives, turning it into task state and back never panics. A bounded
//! number of cases per property (`VSYNC_FUZZ_CASES`, default 256) keeps the suite fast.

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use vsync_model::{TagMap, TwTask, VikunjaTask, tw, vikunja};
use vsync_proto::TaskState;

fn config() -> ProptestConfig {
    let cases = std::env::var("VSYNC_FUZZ_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Any JSON value, a few levels deep, with hostile strings (control characters, huge
/// numbers, dates that are almost dates).
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::from),
        "[0-9]{8}T[0-9]{6}Z?".prop_map(Value::from),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.+Z-]{0,20}".prop_map(Value::from),
        "[\\x00-\\x1f\\x7f\\u{80}-\\u{9f}<>&;#]{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,8}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A task object whose keys are the ones the mapping reads, with any values.
fn task_object(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(keys), any_json()), 0..keys.len()).prop_map(|kvs| {
        Value::Object(
            kvs.into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<Map<_, _>>(),
        )
    })
}

const TW_KEYS: &[&str] = &[
    "uuid",
    "description",
    "status",
    "project",
    "tags",
    "annotations",
    "due",
    "scheduled",
    "priority",
    "entry",
    "modified",
    "end",
    "wait",
    "vikunja_id",
    "recur",
    "depends",
    "parent",
    "imask",
    "mask",
    "urgency",
    "id",
    "x_uda",
];

const VIKUNJA_KEYS: &[&str] = &[
    "id",
    "title",
    "description",
    "done",
    "done_at",
    "due_date",
    "start_date",
    "priority",
    "project_id",
    "labels",
    "created",
    "updated",
    "repeat_after",
    "repeat_mode",
    "identifier",
];

fn state_from(fields: vsync_proto::TaskFields) -> TaskState {
    TaskState {
        uuid: "0b8c51ba-6ac1-4b4c-9f4c-1b7d7c3c0a11".into(),
        fields: Some(fields),
        ..TaskState::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_as_taskwarrior_json_is_an_error_or_a_task(text in ".{0,200}") {
        if let Ok(task) = TwTask::from_json(&text) {
            let _ = tw::view(&task);
        }
    }

    #[test]
    fn any_taskwarrior_object_maps_to_state_and_back(obj in task_object(TW_KEYS), other in task_object(TW_KEYS)) {
        let Ok(task) = TwTask::from_value(obj) else { return Ok(()) };
        let fields = tw::view(&task);
        let state = state_from(fields);
        let _ = tw::apply(&state, Some(&task));
        let _ = tw::apply(&state, None);
        if let Ok(local) = TwTask::from_value(other) {
            let _ = tw::apply(&state, Some(&local));
        }
    }

    #[test]
    fn any_vikunja_object_maps_to_state_and_back(obj in task_object(VIKUNJA_KEYS), deleted in any::<bool>()) {
        let Ok(task) = VikunjaTask::from_value(obj) else { return Ok(()) };
        let tags = TagMap::default();
        let fields = vikunja::view(&task, "Inbox", &tags, deleted);
        let state = state_from(fields);
        let _ = tw::apply(&state, None);
        let _ = task.labels();
    }
}
