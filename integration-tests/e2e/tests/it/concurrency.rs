//! Concurrent events for one task, handled by two reconcilers at once, lose nothing.

use serde_json::{Value, json};
use vsync_e2e::*;
use vsync_proto::{EventKind, Origin, TaskEvent, TaskwarriorChange, task_event};

fn tw_event(
    host: &str,
    uuid: &str,
    new: &Value,
    previous: Option<&Value>,
    at_us: i64,
) -> TaskEvent {
    TaskEvent {
        origin: Origin::Taskwarrior as i32,
        kind: EventKind::Updated as i32,
        host: host.into(),
        changed_at_us: at_us,
        published_at_us: at_us,
        change: Some(task_event::Change::Taskwarrior(TaskwarriorChange {
            uuid: uuid.into(),
            task_json: new.to_string(),
            previous_json: previous.map(Value::to_string).unwrap_or_default(),
            command: "modify".into(),
        })),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_changes_to_one_task_by_two_reconcilers_are_all_kept() {
    let sys = system(&[], &["Home"]).await;
    let mut reconcilers = Vec::new();
    for name in ["r1", "r2"] {
        let app = reconciler::App::build(&sys.server, &sys.bus_url(), name)
            .await
            .unwrap();
        reconcilers.push(app.event_handler());
    }
    let uuid = "7d3c2b1a-0000-4000-8000-00000000abcd";
    let mut task = json!({"uuid": uuid, "description": "shared", "status": "pending",
        "entry": "20260101T000000Z", "project": "Home"});
    reconcilers[0]
        .handle(&tw_event("a", uuid, &task, None, 1))
        .await
        .unwrap();
    for round in 0..20i64 {
        let base = task.clone();
        let mut from_a = base.clone();
        from_a["due"] = json!(vsync_model::dates::format_tw(1_800_000_000 + round * 86400));
        let mut from_b = base.clone();
        from_b["estimate"] = json!(format!("PT{}H", round + 1));
        let at = 1_000 + round * 10;
        let (ea, eb) = (
            tw_event("a", uuid, &from_a, Some(&base), at),
            tw_event("b", uuid, &from_b, Some(&base), at + 1),
        );
        let (ra, rb) = tokio::join!(reconcilers[0].handle(&ea), reconcilers[1].handle(&eb));
        ra.unwrap();
        rb.unwrap();
        task = from_a.clone();
        task["estimate"] = from_b["estimate"].clone();
        let bus = test_bus(&sys).await;
        let (state, _) = bus.load_state(uuid).await.unwrap().unwrap();
        let f = state.fields.unwrap();
        assert_eq!(
            f.due,
            Some(1_800_000_000 + round * 86400),
            "round {round}: due lost"
        );
        assert_eq!(
            f.tw_extra.get("estimate"),
            Some(&format!("\"PT{}H\"", round + 1)),
            "round {round}: estimate lost"
        );
    }
    sys.shutdown().await.unwrap();
}
