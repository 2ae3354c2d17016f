//! Vikunja -> Taskwarrior: every change to one task reaches every host, once.

use std::collections::HashMap;
use std::time::Duration;

use futures::StreamExt;
use serde_json::json;
use vsync_e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_mapped_field_reaches_both_hosts_with_zero_api_calls_and_local_attributes_survive() {
    trace_init();
    let sys =
        vikunja_sync_demo::System::start(quiet_options(&["laptop", "desk"], &["Home", "Work"]))
            .await
            .unwrap();
    let home = project_id(&sys, "Home");
    let work = project_id(&sys, "Work");
    webhook_registered(&sys, home).await;
    webhook_registered(&sys, work).await;
    sys.sim.clear_requests();

    let t = sys.sim.create_task(home, "Plan trip");
    let id = t.id;
    let both = on_every_host(&sys, "the task", has_vid(id)).await;
    let uuid = s(&both[0], "uuid").to_string();
    assert_eq!(s(&both[1], "uuid"), uuid, "one uuid on every host");

    // A UDA and an attribute we do not map, set on the laptop, reach the desk and must survive.
    sys.host("laptop")
        .ok(&[&uuid, "modify", "estimate:PT2H", "wait:2030-01-01"]);
    wait_task(sys.host("desk"), "the UDA", |t| s(t, "estimate") == "PT2H").await;

    let due = vikunja_sim::model::ts::parse("2026-05-01T08:00:00Z").unwrap();
    let start = vikunja_sim::model::ts::parse("2026-04-30T08:00:00Z").unwrap();
    sys.sim.update_task(id, |t| {
        t.title = "Plan summer trip".into();
        t.description = "<p>book flights</p><p>pack &amp; go</p>".into();
        t.due_date = due;
        t.start_date = start;
        t.priority = 2;
    });
    let both = on_every_host(&sys, "the edited fields", |t| {
        s(t, "description") == "Plan summer trip"
    })
    .await;
    for t in &both {
        assert_eq!(s(t, "due"), "20260501T080000Z");
        assert_eq!(s(t, "scheduled"), "20260430T080000Z");
        assert_eq!(s(t, "priority"), "M");
        assert_eq!(annotations(t), ["book flights", "pack & go"]);
        assert_eq!(s(t, "estimate"), "PT2H", "UDA survives");
        assert_eq!(
            s(t, "wait"),
            "20300101T000000Z",
            "unmapped attribute survives"
        );
    }

    // priority 5 ("do now") shows as H in Taskwarrior
    sys.sim.update_task(id, |t| t.priority = 5);
    on_every_host(&sys, "priority H", |t| {
        s(t, "description") == "Plan summer trip" && s(t, "priority") == "H"
    })
    .await;

    // done, then undone
    sys.sim.update_task(id, |t| t.done = true);
    let done = on_every_host(&sys, "completed", |t| {
        s(t, "description") == "Plan summer trip" && s(t, "status") == "completed"
    })
    .await;
    assert!(!s(&done[0], "end").is_empty());
    sys.sim.update_task(id, |t| t.done = false);
    on_every_host(&sys, "pending again", |t| {
        s(t, "description") == "Plan summer trip" && s(t, "status") == "pending"
    })
    .await;

    // moved to another project
    sys.sim.update_task(id, |t| t.project_id = work);
    on_every_host(&sys, "moved", |t| {
        s(t, "description") == "Plan summer trip" && s(t, "project") == "Work"
    })
    .await;

    // deleted
    assert!(sys.sim.delete_task(id));
    let gone = on_every_host(&sys, "deleted", |t| {
        s(t, "description") == "Plan summer trip" && s(t, "status") == "deleted"
    })
    .await;
    assert_eq!(s(&gone[1], "estimate"), "PT2H");

    let calls: Vec<String> = sys
        .sim
        .requests()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        calls.is_empty(),
        "webhook-driven changes made Vikunja API calls: {calls:?}"
    );
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeating_task_marked_done_arrives_as_moved_dates() {
    let sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let t = sys
        .sim
        .create_task_with(home, json!({"title": "Water plants", "due_date": "2027-03-01T09:00:00Z", "repeat_after": 86400}))
        .unwrap();
    on_every_host(&sys, "the repeating task", has_vid(t.id)).await;
    sys.sim.update_task(t.id, |t| t.done = true);
    for t in on_every_host(&sys, "the next due date", |t| {
        s(t, "due") == "20270302T090000Z"
    })
    .await
    {
        assert_eq!(
            s(&t, "status"),
            "pending",
            "a repeating task never shows as completed"
        );
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_project_deletes_its_tasks_on_both_hosts() {
    let sys = system(&["laptop", "desk"], &["Home", "Old"]).await;
    let old = project_id(&sys, "Old");
    webhook_registered(&sys, old).await;
    let a = sys.sim.create_task(old, "old one");
    let b = sys.sim.create_task(old, "old two");
    on_every_host(&sys, "task a", has_vid(a.id)).await;
    on_every_host(&sys, "task b", has_vid(b.id)).await;
    assert!(sys.sim.delete_project(old));
    for id in [a.id, b.id] {
        on_every_host(&sys, "deleted", move |t| {
            t["vikunja_id"].as_f64() == Some(id as f64) && s(t, "status") == "deleted"
        })
        .await;
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_webhook_three_times_is_one_change() {
    let sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let t = sys.sim.create_task(home, "once");
    on_every_host(&sys, "the task", has_vid(t.id)).await;
    assert!(sys.sim.wait_deliveries_idle(PROPAGATION).await);

    let mut notices = sys.applied_notices().await.unwrap();
    let js = jetstream(&sys).await;
    let mut events = js.get_stream(vsync_bus::EVENTS_STREAM).await.unwrap();
    let stored_before = events.info().await.unwrap().state.messages;
    let uuid = s(&sys.host("laptop").find("once").unwrap(), "uuid").to_string();
    let bus = test_bus(&sys).await;
    let version_before = bus.load_state(&uuid).await.unwrap().unwrap().0.version;

    sys.sim.set_duplicate_deliveries(3);
    sys.sim.update_task(t.id, |t| t.title = "once more".into());
    on_every_host(&sys, "the change", |t| s(t, "description") == "once more").await;
    assert!(sys.sim.wait_deliveries_idle(PROPAGATION).await);
    let sent = sys
        .sim
        .deliveries()
        .iter()
        .filter(|d| d.event_name == "task.updated" && d.body.contains("once more"))
        .count();
    assert_eq!(sent, 3, "Vikunja delivered the webhook three times");
    assert_eq!(
        events.info().await.unwrap().state.messages,
        stored_before + 1,
        "stored once"
    );
    assert_eq!(
        bus.load_state(&uuid).await.unwrap().unwrap().0.version,
        version_before + 1,
        "one canonical revision"
    );
    // Each host applied it once (nothing else arrives within the wait for a marker change).
    sys.sim.set_duplicate_deliveries(1);
    sys.sim.update_task(t.id, |t| t.title = "marker".into());
    on_every_host(&sys, "the marker", |t| s(t, "description") == "marker").await;
    // Per host: each canonical version applied at most once, and at most the two changes (a
    // batch may coalesce both into one apply).
    let mut per_host: HashMap<String, Vec<u64>> = HashMap::new();
    while let Ok(Some(a)) = tokio::time::timeout(Duration::from_millis(200), notices.next()).await {
        // The notice of the task's creation may come after its export showed it.
        if a.version > version_before {
            per_host.entry(a.host).or_default().push(a.version);
        }
    }
    for host in ["laptop", "desk"] {
        let mut v = per_host.get(host).cloned().unwrap_or_default();
        let n = v.len();
        v.sort();
        v.dedup();
        assert!((1..=2).contains(&n) && v.len() == n, "{host}: {per_host:?}");
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_was_stopped_gets_exactly_what_it_missed() {
    let mut sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let ids: Vec<i64> = (0..5)
        .map(|i| sys.sim.create_task(home, &format!("task {i}")).id)
        .collect();
    let untouched = sys.sim.create_task(home, "untouched").id;
    for id in ids.iter().chain([&untouched]) {
        on_every_host(&sys, "the task", has_vid(*id)).await;
    }
    sys.stop_host("desk").await.unwrap();
    for round in 0..4 {
        for (i, id) in ids.iter().enumerate() {
            sys.sim
                .update_task(*id, |t| t.title = format!("task {i} v{round}"));
        }
    }
    for i in 0..5 {
        let want = format!("task {i} v3");
        wait_task(sys.host("laptop"), "the last version", move |t| {
            s(t, "description") == want
        })
        .await;
    }
    let mut notices = sys.applied_notices().await.unwrap();
    sys.start_host("desk").await.unwrap();
    for i in 0..5 {
        let want = format!("task {i} v3");
        wait_task(sys.host("desk"), "the last version", move |t| {
            s(t, "description") == want
        })
        .await;
    }
    let mut applied: Vec<String> = Vec::new();
    while let Ok(Some(a)) = tokio::time::timeout(Duration::from_millis(300), notices.next()).await {
        if a.host == "desk" {
            applied.push(a.uuid);
        }
    }
    applied.sort();
    let n = applied.len();
    applied.dedup();
    assert_eq!(
        n, 5,
        "each changed task applied once, the untouched one not at all"
    );
    assert_eq!(applied.len(), 5);
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_are_registered_once_per_top_level_project_and_on_new_ones() {
    let mut sys = system(&[], &["Home", "Work"]).await;
    let (home, work) = (project_id(&sys, "Home"), project_id(&sys, "Work"));
    webhook_registered(&sys, home).await;
    webhook_registered(&sys, work).await;
    let child = sys.sim.create_project("Child", home);
    let new_top = sys.sim.create_project("Later", 0);
    webhook_registered(&sys, new_top.id).await;
    sys.stop_server().await.unwrap();
    sys.start_server().await.unwrap();
    let later = sys.sim.create_project("Even later", 0);
    webhook_registered(&sys, later.id).await;
    for p in [home, work, new_top.id, later.id] {
        let hooks = sys.sim.webhooks(p);
        assert_eq!(hooks.len(), 1, "project {p}: {hooks:?}");
    }
    assert!(
        sys.sim.webhooks(child.id).is_empty(),
        "children are covered by their parent's webhook"
    );
    sys.shutdown().await.unwrap();
}
