#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

fn task(v: Value) -> TwTask {
    TwTask::from_value(v).unwrap()
}

fn dates(names: &[&str]) -> HashSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

const U: &str = "0b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11";
const D1: &str = "1b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11";
const D3: &str = "3b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11";

#[test]
fn a_full_task_is_stored_as_taskwarrior_stores_it() {
    let t = task(json!({
        "id": 3, "uuid": U, "urgency": 4.2, "modified": "20260110T000000Z",
        "description": "café", "status": "pending", "entry": "20260101T000000Z",
        "due": "20260301T090000Z", "project": "Home.Garden", "priority": "H",
        "tags": ["z", "a b?"], "depends": [D3, D1], "vikunja_id": 42, "estimate": "PT2H",
        "when": "20260401T000000Z", "annotations": [
            {"entry": "20260102T000000Z", "description": "one"},
            {"entry": "20260102T000000Z", "description": "two"}],
        "end": "20260105T000000Z"
    }));
    let m = stored(&t, None, &dates(&["when"]), 99).unwrap();
    let want: TaskMap = [
        ("status", "pending"),
        ("description", "café"),
        ("entry", "1767225600"),
        ("due", "1772355600"),
        ("project", "Home.Garden"),
        ("priority", "H"),
        ("tag_z", "x"),
        ("tag_a b?", "x"),
        ("tags", "a b?,z"),
        (&*format!("dep_{D1}"), "x"),
        (&*format!("dep_{D3}"), "x"),
        ("vikunja_id", "42.000000"),
        ("estimate", "PT2H"),
        ("when", "1775001600"),
        ("annotation_1767312000", "one"),
        ("annotation_1767312001", "two"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .chain([("depends".to_string(), format!("{D1},{D3}"))])
    .collect();
    assert_eq!(m, want);
}

#[test]
fn entry_and_end_are_kept_or_made_and_pending_has_no_end() {
    let current: TaskMap = [("entry", "5"), ("end", "7")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let done = task(json!({"uuid": U, "description": "d", "status": "completed"}));
    let m = stored(&done, Some(&current), &dates(&[]), 99).unwrap();
    assert_eq!((m["entry"].as_str(), m["end"].as_str()), ("5", "7"));
    let m = stored(&done, None, &dates(&[]), 99).unwrap();
    assert_eq!((m["entry"].as_str(), m["end"].as_str()), ("99", "99"));
    let waiting = task(json!({"uuid": U, "description": "w", "status": "waiting",
        "end": "20260105T000000Z"}));
    let m = stored(&waiting, None, &dates(&[]), 99).unwrap();
    assert_eq!(m["status"], "pending");
    assert!(!m.contains_key("end"));
}

#[test]
fn what_the_rules_do_not_cover_is_left_to_task_import() {
    for bad in [
        json!({"uuid": U, "description": "r", "status": "recurring", "recur": "weekly"}),
        json!({"uuid": U, "description": "r", "status": "pending", "parent": D1}),
        json!({"uuid": U, "description": "", "status": "pending"}),
        json!({"uuid": U, "status": "pending"}),
        json!({"uuid": U, "description": "x", "status": "pending", "due": "2026-03-01"}),
        json!({"uuid": U, "description": "x", "status": "pending", "flag": true}),
        json!({"uuid": U, "description": "x", "status": "pending", "n": 1e20}),
        json!({"uuid": U, "description": "x", "status": "pending", "tags": ["a,b"]}),
        json!({"uuid": U, "description": "x", "status": "pending", "depends": ["nope"]}),
        json!({"uuid": U, "description": "x", "status": "pending", "tag_a": "x"}),
        json!({"uuid": U, "description": "x", "status": "odd"}),
    ] {
        assert!(
            stored(&task(bad.clone()), None, &dates(&[]), 1).is_err(),
            "{bad}"
        );
    }
}

#[test]
fn changes_leave_modified_out_and_put_status_last() {
    let map = |kv: &[(&str, &str)]| -> TaskMap {
        kv.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let current = map(&[
        ("status", "pending"),
        ("a", "1"),
        ("b", "2"),
        ("modified", "1"),
    ]);
    let target = map(&[
        ("status", "completed"),
        ("a", "1"),
        ("c", "3"),
        ("modified", "9"),
    ]);
    assert_eq!(
        changes(&current, &target),
        vec![
            ("b".to_string(), None),
            ("c".to_string(), Some("3".to_string())),
            ("status".to_string(), Some("completed".to_string())),
        ]
    );
    assert!(changes(&current, &current).is_empty());
}
