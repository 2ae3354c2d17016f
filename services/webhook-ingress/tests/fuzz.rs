//! Property tests over hostile webhook bodies (issue 14, "parsers fuzzed"): the classifier
//! answers every body (publish, ignore, stale or a reason), never panics, and publishes only
//! events whose subject and ids come from the body's own positive ids. Bounded cases
//! (`VSYNC_FUZZ_CASES`, default 256).

use proptest::prelude::*;
use serde_json::{Value, json};
use webhook_ingress::{Classified, classify};

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

fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,24}".prop_map(Value::from),
        "20[0-9]{2}-[01][0-9]-[0-3][0-9]T[0-2][0-9]:[0-5][0-9]:[0-5][0-9](\\.[0-9]{1,9})?Z"
            .prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,10}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

const EVENTS: &[&str] = &[
    "task.created",
    "task.updated",
    "task.deleted",
    "project.updated",
    "project.deleted",
    "task.comment.created",
    "task.relation.created",
    "x",
    "",
];

/// A body shaped like a webhook, with any values where Vikunja puts its own.
fn webhook() -> impl Strategy<Value = Vec<u8>> {
    (
        prop::sample::select(EVENTS),
        any_json(),
        any_json(),
        any_json(),
        any_json(),
        any_json(),
    )
        .prop_map(|(event, time, id, project_id, task_extra, project)| {
            let mut task = json!({"id": id, "project_id": project_id});
            if let (Some(t), Value::Object(extra)) = (task.as_object_mut(), task_extra) {
                t.extend(extra);
            }
            json!({"event_name": event, "time": time, "data": {"task": task, "project": project}})
                .to_string()
                .into_bytes()
        })
}

fn check(body: &[u8]) -> Result<(), TestCaseError> {
    match classify(body, 1_800_000_000_000_000, i64::MAX) {
        Ok(Classified::Publish {
            subject, msg_id, ..
        }) => {
            prop_assert!(subject.starts_with("vsync.v1.in.vikunja."), "{subject}");
            prop_assert!(
                !subject.contains(' ') && !subject.contains('>') && !subject.contains('*')
            );
            prop_assert_eq!(msg_id.len(), 32);
        }
        Ok(Classified::Ignored { .. } | Classified::Stale { .. }) | Err(_) => {}
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_bytes_are_classified_or_refused(body in prop::collection::vec(any::<u8>(), 0..256)) {
        check(&body)?;
    }

    #[test]
    fn any_webhook_shaped_body_is_classified_or_refused(body in webhook()) {
        check(&body)?;
    }
}
