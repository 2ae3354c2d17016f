//! The walking skeleton: one Vikunja task reaches Taskwarrior, through every service.

use std::time::Duration;

use serde_json::json;
use vsync_e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_created_in_vikunja_reaches_both_hosts() {
    let sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    let garden = sys.sim.create_project("Garden", home);
    webhook_registered(&sys, home).await;
    let task = sys
        .sim
        .create_task_with(
            garden.id,
            json!({"title": "Buy seeds", "description": "<p>tomatoes</p><p>basil</p>",
                   "due_date": "2026-03-01T09:00:00Z", "priority": 3}),
        )
        .unwrap();
    for host in &sys.hosts {
        let t = wait_task(host, "the new task", |t| s(t, "description") == "Buy seeds").await;
        assert_eq!(s(&t, "project"), "Home.Garden");
        assert_eq!(s(&t, "status"), "pending");
        assert_eq!(s(&t, "due"), "20260301T090000Z");
        assert_eq!(s(&t, "priority"), "H");
        assert_eq!(t["vikunja_id"].as_f64(), Some(task.id as f64));
        assert_eq!(annotations(&t), ["tomatoes", "basil"]);
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_moves_one_change_each_way() {
    vikunja_sync_demo::run_with(options(&["laptop", "desk"], &["Home"], Default::default()))
        .await
        .expect("the demo succeeds");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_event_goes_to_the_dead_letter_subject_with_the_reason() {
    let sys = system(&[], &["Home"]).await;
    let js = jetstream(&sys).await;
    js.publish("vsync.v1.in.vikunja.1.task.updated", "not protobuf".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let dead = vsync_harness::wait_for_async("a dead letter", Duration::from_secs(10), || async {
        sys.bus.recent_dead_letters(1).await.ok()?.pop()
    })
    .await;
    assert_eq!(dead.subject, "vsync.v1.in.vikunja.1.task.updated");
    assert_eq!(dead.payload, b"not protobuf");
    assert!(dead.reason.contains("decode"), "{}", dead.reason);
    sys.shutdown().await.unwrap();
}

/// The ingress answers 200 only once JetStream stored the event: during a bus outage Vikunja's
/// retries carry the change over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bus_outage_during_a_webhook_loses_nothing() {
    let mut sys = system(&["laptop"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    sys.nats.stop();
    let t = sys.sim.create_task(home, "made while the bus was down");
    let sim = sys.sim.clone();
    vsync_harness::wait_for("a refused delivery", PROPAGATION, move || {
        sim.deliveries()
            .iter()
            .any(|d| d.body.contains("made while the bus was down") && !d.succeeded())
            .then_some(())
    })
    .await;
    sys.nats.restart();
    wait_task(sys.host("laptop"), "the task after the outage", move |v| {
        v["vikunja_id"].as_f64() == Some(t.id as f64)
    })
    .await;
    // The task may arrive by the reconciler's delta pass before the retry (a loaded machine):
    // either way the retry gets through, and it adds no second copy.
    let sim = sys.sim.clone();
    vsync_harness::wait_for("a retry that got through", PROPAGATION, move || {
        sim.deliveries()
            .iter()
            .any(|d| d.body.contains("made while the bus was down") && d.succeeded())
            .then_some(())
    })
    .await;
    assert!(sys.sim.wait_deliveries_idle(PROPAGATION).await);
    reconcile_passes(&sys, 1).await;
    let copies = sys
        .host("laptop")
        .export()
        .into_iter()
        .filter(|v| v["vikunja_id"].as_f64() == Some(t.id as f64))
        .count();
    assert_eq!(copies, 1, "one copy on the host");
    sys.shutdown().await.unwrap();
}
