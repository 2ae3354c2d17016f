//! Server-side behaviour the sync depends on: repeating tasks, label changes and `updated`.

use serde_json::json;
use time::{Duration, OffsetDateTime};

use crate::helpers::{Api, Receiver, WAIT, after_second};

#[tokio::test]
async fn a_repeating_task_marked_done_reopens_with_shifted_dates() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    api.hook(1, &rx.url, &["task.updated"], "").await;
    let due = OffsetDateTime::now_utc().truncate_to_second() + Duration::hours(2);
    let body = json!({"title": "water plants", "repeat_after": 86400, "due_date": vikunja_sim::model::ts::format(due),
        "reminders": [{"reminder": vikunja_sim::model::ts::format(due - Duration::hours(1))}]});
    let t = api.sim.create_task_with(1, body).unwrap();

    let mut full = api.get(&format!("/tasks/{}", t.id)).await.json;
    full["done"] = json!(true);
    let r = api.post(&format!("/tasks/{}", t.id), full).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let after = api.sim.task(t.id).unwrap();
    assert!(!after.done, "a repeating task never shows done");
    assert_eq!(after.due_date, due + Duration::days(1));
    assert_eq!(
        after.reminders.unwrap()[0].reminder,
        due + Duration::days(1) - Duration::hours(1)
    );
    assert!(
        after.done_at != vikunja_sim::ZERO_TIME,
        "done_at is set to now"
    );
    assert_eq!(rx.wait_for(1).await[0].event(), "task.updated");

    // Monthly mode through a UI edit.
    let m = api
        .sim
        .create_task_with(
            1,
            json!({"title": "rent", "repeat_mode": 1, "due_date": "2026-01-31T09:00:00Z"}),
        )
        .unwrap();
    let m = api.sim.update_task(m.id, |t| t.done = true).unwrap();
    assert!(!m.done);
    assert_eq!(
        vikunja_sim::model::ts::format(m.due_date),
        "2026-03-03T09:00:00Z",
        "Go's month overflow"
    );
}

#[tokio::test]
async fn done_at_follows_the_done_flag() {
    let api = Api::start().await;
    let t = api.sim.create_task(1, "plain");
    let done = api.sim.update_task(t.id, |t| t.done = true).unwrap();
    assert!(done.done && done.done_at != vikunja_sim::ZERO_TIME);
    let undone = api.sim.update_task(t.id, |t| t.done = false).unwrap();
    assert_eq!(undone.done_at, vikunja_sim::ZERO_TIME);
}

#[tokio::test]
async fn an_empty_bulk_label_set_fires_nothing_and_keeps_updated() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    let l = api.sim.create_label("x");
    let t = api.sim.create_task(1, "labelled");
    api.sim.add_label(t.id, l.id).unwrap();
    let before = api.sim.task(t.id).unwrap();
    api.hook(1, &rx.url, &["task.updated"], "").await;
    after_second(before.updated).await;

    let r = api
        .post(
            &format!("/tasks/{}/labels/bulk", t.id),
            json!({"labels": []}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    let after = api.sim.task(t.id).unwrap();
    assert!(after.labels.is_none());
    assert_eq!(after.updated, before.updated);
    assert!(rx.hits().is_empty());
}

#[tokio::test]
async fn a_non_empty_bulk_label_set_fires_task_updated_but_keeps_updated() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    let (a, b) = (api.sim.create_label("a"), api.sim.create_label("b"));
    let t = api.sim.create_task(1, "labelled");
    api.hook(1, &rx.url, &["task.updated"], "").await;
    after_second(t.updated).await;

    let r = api
        .post(
            &format!("/tasks/{}/labels/bulk", t.id),
            json!({"labels": [{"id": a.id}, {"id": b.id}]}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let hit = &rx.wait_for(1).await[0];
    let labels: Vec<i64> = hit.json()["data"]["task"]["labels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_i64().unwrap())
        .collect();
    assert_eq!(labels, vec![a.id, b.id]);
    assert_eq!(api.sim.task(t.id).unwrap().updated, t.updated);
}

#[tokio::test]
async fn adding_a_label_bumps_updated_and_fires_task_updated() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    let l = api.sim.create_label("home");
    let t = api.sim.create_task(1, "fix sink");
    api.hook(1, &rx.url, &["task.updated"], "").await;
    after_second(t.updated).await;

    let r = api
        .put(
            &format!("/tasks/{}/labels", t.id),
            json!({"label_id": l.id}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json["label_id"], l.id);
    assert!(api.sim.task(t.id).unwrap().updated > t.updated);
    assert_eq!(rx.wait_for(1).await[0].event(), "task.updated");

    let again = api
        .put(
            &format!("/tasks/{}/labels", t.id),
            json!({"label_id": l.id}),
        )
        .await;
    assert_eq!(
        (again.status, again.json["code"].as_i64()),
        (400, Some(8001))
    );
    let missing = api
        .put(&format!("/tasks/{}/labels", t.id), json!({"label_id": 999}))
        .await;
    assert_eq!(
        (missing.status, missing.json["code"].as_i64()),
        (404, Some(8002))
    );

    assert_eq!(
        api.delete(&format!("/tasks/{}/labels/{}", t.id, l.id))
            .await
            .status,
        200
    );
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    assert_eq!(rx.events(), vec!["task.updated", "task.updated"]);
}

#[tokio::test]
async fn assigning_a_user_fires_assignee_created_and_task_updated() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    let t = api.sim.create_task(1, "shared chore");
    api.hook(1, &rx.url, &["task.assignee.created", "task.updated"], "")
        .await;
    let r = api
        .put(&format!("/tasks/{}/assignees", t.id), json!({"user_id": 2}))
        .await;
    assert_eq!(r.status, 201);
    let hits = rx.wait_for(2).await;
    assert_eq!(hits[0].event(), "task.assignee.created");
    assert_eq!(hits[0].json()["data"]["assignee"]["username"], "bob");
    assert_eq!(hits[1].event(), "task.updated");
    assert_eq!(api.sim.task(t.id).unwrap().assignees.unwrap()[0].id, 2);
}

#[tokio::test]
async fn moving_a_task_gives_it_a_new_index_and_identifier() {
    let api = Api::start().await;
    let other = api.sim.create_project("Other", 0);
    api.sim
        .update_project(other.id, |p| p.identifier = "OTH".into())
        .unwrap();
    api.sim.create_task(other.id, "already there");
    let t = api.sim.create_task(1, "mover");
    assert_eq!(t.identifier, "#1");
    let r = api
        .post(
            &format!("/tasks/{}", t.id),
            json!({"title": "mover", "project_id": other.id}),
        )
        .await;
    assert_eq!(r.status, 200);
    let moved = api.sim.task(t.id).unwrap();
    assert_eq!(
        (moved.project_id, moved.index, moved.identifier.as_str()),
        (other.id, 2, "OTH-2")
    );
}
