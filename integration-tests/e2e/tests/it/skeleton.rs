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
async fn a_forged_webhook_is_refused_and_publishes_nothing() {
    let sys = system(&[], &["Home"]).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let url = format!("http://{}/webhook", sys.ingress);
    let body = json!({"event_name": "task.created", "time": "2026-01-01T00:00:00Z",
        "data": {"task": {"id": 99, "project_id": 1, "title": "forged", "updated": "2026-01-01T00:00:00Z"}}})
    .to_string();
    let forged = webhook_ingress::verify::sign("not-the-secret", body.as_bytes());
    for sig in [Some(forged.as_str()), None, Some("zz")] {
        let mut req = http.post(&url).body(body.clone());
        if let Some(sig) = sig {
            req = req.header("X-Vikunja-Signature", sig);
        }
        assert_eq!(req.send().await.unwrap().status(), 401, "signature {sig:?}");
    }
    let js = jetstream(&sys).await;
    let mut stream = js.get_stream(vsync_bus::EVENTS_STREAM).await.unwrap();
    assert_eq!(
        stream.info().await.unwrap().state.messages,
        0,
        "nothing reached the bus"
    );

    // The same body signed with the right secret is accepted: the check above can fail.
    let good = webhook_ingress::verify::sign("demo-webhook-secret", body.as_bytes());
    let res = http
        .post(&url)
        .header("X-Vikunja-Signature", good)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(stream.info().await.unwrap().state.messages, 1);
    // Not a Vikunja event: 400 with the reason.
    let junk = b"{\"hello\":1}";
    let res = http
        .post(&url)
        .header(
            "X-Vikunja-Signature",
            webhook_ingress::verify::sign("demo-webhook-secret", junk),
        )
        .body(junk.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.text().await.unwrap().contains("event_name"));
    sys.shutdown().await.unwrap();
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_webhook_is_refused_with_413() {
    let sys = system(&[], &["Home"]).await;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let body = vec![b' '; 2 << 20];
    let res = reqwest::Client::new()
        .post(format!("http://{}/webhook", sys.ingress))
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
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
    assert!(
        sys.sim
            .deliveries()
            .iter()
            .any(|d| d.body.contains("made while the bus was down") && d.succeeded()),
        "a retry got through"
    );
    sys.shutdown().await.unwrap();
}
