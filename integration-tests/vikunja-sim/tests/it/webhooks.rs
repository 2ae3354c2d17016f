//! Webhook delivery: signature, body, fan-out to ancestors, project.deleted, duplicates,
//! retries, the delivery switch.

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use vikunja_sim::DeliveryOutcome;

use crate::helpers::{Api, Receiver, WAIT};

#[tokio::test]
async fn delivery_is_signed_over_the_raw_body_and_shaped_like_vikunja() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    let hook = api
        .hook(1, &rx.url, &["task.created", "task.updated"], "s3cret")
        .await;
    let listed = api.get("/projects/1/webhooks").await;
    assert_eq!(listed.json[0]["id"], hook);
    assert_eq!(listed.json[0]["secret"], "", "the secret is write-only");

    let r = api.put("/projects/1/tasks", json!({"title": "ping"})).await;
    let tid = r.json["id"].as_i64().unwrap();
    let hit = &rx.wait_for(1).await[0];

    let sig = hit.headers["x-vikunja-signature"].to_str().unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(b"s3cret").unwrap();
    mac.update(&hit.body);
    assert_eq!(sig, hex::encode(mac.finalize().into_bytes()));
    assert_eq!(hit.headers["content-type"], "application/json");
    assert_eq!(hit.headers["user-agent"], "Vikunja/v2.5.0-sim");

    let body = hit.json();
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys.len(), 3);
    assert_eq!(body["event_name"], "task.created");
    assert!(body["time"].as_str().unwrap().ends_with('Z'));
    assert_eq!(body["data"]["task"]["id"], tid);
    assert_eq!(body["data"]["task"]["title"], "ping");
    assert_eq!(body["data"]["doer"]["username"], "demo");
    assert_eq!(
        body["data"]["project"]["id"], 1,
        "the webhook's own project is added"
    );
}

#[tokio::test]
async fn a_parent_projects_webhook_fires_for_a_childs_task() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    let parent = api.sim.create_project("Parent", 0);
    let child = api.sim.create_project("Child", parent.id);
    let grandchild = api.sim.create_project("Grandchild", child.id);
    api.hook(parent.id, &rx.url, &["task.created"], "").await;
    let t = api.sim.create_task(grandchild.id, "deep");
    let hit = &rx.wait_for(1).await[0];
    assert!(
        hit.headers.get("x-vikunja-signature").is_none(),
        "no secret, no signature"
    );
    let body = hit.json();
    assert_eq!(body["data"]["task"]["id"], t.id);
    assert_eq!(body["data"]["task"]["project_id"], grandchild.id);
    assert_eq!(body["data"]["project"]["id"], parent.id);
}

#[tokio::test]
async fn project_deleted_reaches_only_its_own_webhooks_and_its_tasks_are_gone() {
    let api = Api::start().await;
    let (own, ancestor) = (Receiver::start().await, Receiver::start().await);
    let parent = api.sim.create_project("Parent", 0);
    let child = api.sim.create_project("Child", parent.id);
    let grandchild = api.sim.create_project("Grandchild", child.id);
    let t = api.sim.create_task(grandchild.id, "goes with it");
    api.hook(child.id, &own.url, &["project.deleted", "task.deleted"], "")
        .await;
    api.hook(
        parent.id,
        &ancestor.url,
        &["project.deleted", "task.deleted"],
        "",
    )
    .await;

    assert_eq!(
        api.delete(&format!("/projects/{}", child.id)).await.status,
        200
    );
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    assert_eq!(own.events(), vec!["project.deleted"]);
    assert_eq!(own.hits()[0].json()["data"]["project"]["id"], child.id);
    assert!(ancestor.hits().is_empty(), "ancestors never hear of it");
    assert!(api.sim.project(grandchild.id).is_none());
    assert_eq!(api.get(&format!("/tasks/{}", t.id)).await.status, 404);
}

#[tokio::test]
async fn duplicate_deliveries_send_each_event_n_times() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    api.hook(1, &rx.url, &["task.updated"], "k").await;
    api.sim.set_duplicate_deliveries(3);
    let t = api.sim.create_task(1, "dup");
    api.sim.update_task(t.id, |t| t.done = true).unwrap();
    let hits = rx.wait_for(3).await;
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    assert_eq!(rx.hits().len(), 3);
    assert!(
        hits.iter().all(|h| h.body == hits[0].body),
        "identical copies"
    );
}

#[tokio::test]
async fn a_failing_receiver_gets_six_attempts_then_the_delivery_is_dropped() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    rx.answer(500);
    api.hook(1, &rx.url, &["task.created"], "").await;
    api.sim.create_task(1, "unlucky");
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    assert_eq!(rx.hits().len(), 6);
    let attempts = api.sim.deliveries();
    assert_eq!(
        attempts.iter().map(|d| d.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert!(
        attempts
            .iter()
            .all(|d| d.outcome == DeliveryOutcome::Status(500))
    );
    assert!(attempts[5].dropped && !attempts[4].dropped);
    let waited = attempts[5].at.duration_since(attempts[0].at).unwrap();
    assert!(
        waited.as_millis() >= 1500,
        "backoff 100+200+400+800+1600 ms, got {waited:?}"
    );
}

#[tokio::test]
async fn with_delivery_off_changes_happen_but_nothing_is_delivered() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    api.hook(1, &rx.url, &["task.created", "task.updated"], "")
        .await;
    api.sim.set_webhook_delivery(false);
    let t = api.sim.create_task(1, "silent");
    api.put(
        &format!("/tasks/{}/labels", t.id),
        json!({"label_id": api.sim.create_label("l").id}),
    )
    .await;
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    assert!(rx.hits().is_empty());
    assert!(api.sim.deliveries().is_empty());
    assert!(api.sim.task(t.id).unwrap().labels.is_some());

    api.sim.set_webhook_delivery(true);
    api.sim.update_task(t.id, |t| t.priority = 1);
    assert_eq!(rx.wait_for(1).await[0].event(), "task.updated");
}

#[tokio::test]
async fn task_deleted_carries_the_pre_delete_snapshot() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    api.hook(1, &rx.url, &["task.deleted"], "").await;
    let t = api.sim.create_task(1, "bye");
    assert!(api.sim.delete_task(t.id));
    let body = rx.wait_for(1).await[0].json();
    assert_eq!(body["event_name"], "task.deleted");
    assert_eq!(body["data"]["task"]["id"], t.id);
    assert_eq!(body["data"]["task"]["title"], "bye");
}

#[tokio::test]
async fn the_task_is_re_read_when_the_delivery_is_built() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    rx.delay(std::time::Duration::from_millis(300));
    api.hook(1, &rx.url, &["task.created"], "").await;
    // The first delivery keeps the worker busy while the second task is created and edited.
    api.sim.create_task(1, "first");
    let second = api.sim.create_task(1, "second");
    api.sim
        .update_task(second.id, |t| t.title = "second, edited".into())
        .unwrap();
    let hits = rx.wait_for(2).await;
    let body = hits[1].json();
    assert_eq!(body["event_name"], "task.created");
    assert_eq!(body["data"]["task"]["title"], "second, edited");
}
