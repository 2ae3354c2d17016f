use super::*;

fn local() -> TwTask {
    TwTask::from_value(json!({
        "id": 1, "uuid": "0b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11", "description": "Buy milk",
        "status": "pending", "entry": "20260101T000000Z", "modified": "20260102T000000Z",
        "priority": "H", "project": "Home.Garden", "tags": ["errand", "home"],
        "due": "20260301T090000Z", "estimate": "PT2H", "urgency": 9.1,
        "annotations": [{"entry": "20260101T000001Z", "description": "2 litres"}]
    }))
    .expect("task")
}

#[test]
fn view_maps_every_field_and_keeps_udas_as_extras() {
    let f = view(&local());
    assert_eq!(f.description, "Buy milk");
    assert_eq!(f.priority, 3);
    assert_eq!(f.project, "Home.Garden");
    assert_eq!(f.tags, ["errand", "home"]);
    assert_eq!(f.due, Some(1_772_355_600));
    assert_eq!(f.annotations[0].description, "2 litres");
    assert_eq!(
        f.tw_extra.get("estimate").map(String::as_str),
        Some("\"PT2H\"")
    );
    assert!(!f.tw_extra.contains_key("urgency"));
}

#[test]
fn apply_is_nothing_when_the_host_already_shows_the_state() {
    let t = local();
    let state = TaskState {
        uuid: t.uuid().into(),
        fields: Some(view(&t)),
        ..Default::default()
    };
    assert_eq!(apply(&state, Some(&t)), None);
}

#[test]
fn apply_changes_fields_and_keeps_udas_the_state_does_not_know() {
    let t = local();
    let mut f = view(&t);
    f.tw_extra.clear();
    f.description = "Buy oat milk".into();
    f.priority = 5;
    f.set_status(TaskStatus::Completed);
    f.end = Some(1_772_000_000);
    let state = TaskState {
        uuid: t.uuid().into(),
        vikunja_id: 42,
        fields: Some(f),
        ..Default::default()
    };
    let out = apply(&state, Some(&t)).expect("a change");
    assert_eq!(out.0["description"], "Buy oat milk");
    assert_eq!(out.0["priority"], "H");
    assert_eq!(out.0["status"], "completed");
    assert_eq!(out.0["end"], format_tw(1_772_000_000));
    assert_eq!(out.0["estimate"], "PT2H");
    assert_eq!(out.vikunja_id(), Some(42));
}

#[test]
fn dates_taskwarrior_cannot_store_are_moved_and_the_apply_settles() {
    let t = local();
    let mut f = view(&t);
    f.annotations = vec![
        Annotation {
            entry: 0,
            description: "from a Vikunja task without created".into(),
        },
        Annotation {
            entry: 1,
            description: "second".into(),
        },
    ];
    f.due = Some(86_400);
    let state = TaskState {
        uuid: t.uuid().into(),
        fields: Some(f),
        ..Default::default()
    };
    let out = apply(&state, Some(&t)).expect("a change");
    let entries: Vec<i64> = view(&out).annotations.iter().map(|a| a.entry).collect();
    let created = parse_tw("20260101T000000Z").expect("date");
    assert_eq!(entries, [created, created + 1]);
    assert_eq!(out.0["due"], format_tw(TW_EARLIEST_DATE));
    assert_eq!(
        apply(&state, Some(&out)),
        None,
        "applied once, then settled"
    );
    let new = apply(&state, None).expect("a new task");
    assert!(
        view(&new)
            .annotations
            .iter()
            .all(|a| a.entry >= TW_EARLIEST_DATE)
    );
}

#[test]
fn control_characters_in_a_local_task_do_not_reach_canonical_fields() {
    let mut t = local();
    t.0.insert(
        "description".into(),
        json!("Buy\u{1b}]0;pwned\u{7} milk\u{0}\u{9b}"),
    );
    t.0.insert("estimate".into(), json!("PT\u{1b}2H"));
    t.0.insert("tags".into(), json!(["err\u{1b}and"]));
    let f = view(&t);
    assert_eq!(f.description, "Buy]0;pwned milk");
    assert_eq!(f.tags, ["errand"]);
    assert_eq!(f.tw_extra["estimate"], "\"PT2H\"");
}

#[test]
fn a_deleted_task_the_host_never_had_is_not_created() {
    let mut f = TaskFields::default();
    f.set_status(TaskStatus::Deleted);
    let state = TaskState {
        uuid: "u".into(),
        fields: Some(f),
        ..Default::default()
    };
    assert_eq!(apply(&state, None), None);
}

#[test]
fn an_apply_over_unmerged_local_changes_keeps_them() {
    let base = local();
    let mut canonical = view(&base);
    canonical.description = "Buy oat milk".into();
    canonical.priority = 1;
    let state = TaskState {
        uuid: base.uuid().into(),
        fields: Some(canonical),
        ..Default::default()
    };
    // Made with hooks off since: an `until`, an orphan UDA, a new priority, a removed UDA.
    let mut edited = base.clone();
    edited.0.insert("until".into(), json!("20270101T000000Z"));
    edited.0.insert("orphan".into(), json!("kept"));
    edited.0.insert("priority".into(), json!("M"));
    edited.0.remove("estimate");
    let out = apply_keeping_local(&state, &edited, Some(&base)).expect("a change");
    assert_eq!(
        out.0["description"], "Buy oat milk",
        "canonical's change applied"
    );
    assert_eq!(out.0["until"], "20270101T000000Z");
    assert_eq!(out.0["orphan"], "kept");
    assert_eq!(out.0["priority"], "M", "the local change wins until merged");
    assert!(out.0.get("estimate").is_none(), "a local removal too");
    // The plain apply from the stale base would have lost all of them.
    let stale = apply(&state, Some(&base)).expect("a change");
    assert!(stale.0.get("until").is_none() && stale.0["priority"] == "L");
}

#[test]
fn shows_compares_every_field_either_side_carries() {
    let t = local();
    let state = TaskState {
        uuid: t.uuid().into(),
        fields: Some(view(&t)),
        ..Default::default()
    };
    assert!(shows(&state, &t));
    let mut with_uda = t.clone();
    with_uda.0.insert("orphan".into(), json!("x"));
    assert!(!shows(&state, &with_uda), "an extra canonical state lacks");
    assert_eq!(
        apply(&state, Some(&with_uda)),
        None,
        "which apply leaves alone"
    );
}
