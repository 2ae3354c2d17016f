//! `/api/v2/tasks/{id}` from 2.4.0: an ETag on GET, a merge-patch PATCH that keeps what it is
//! not sent, no conflict detection, problem+json errors; absent on older servers.

use serde_json::json;
use vikunja_sim::SimConfig;

use crate::helpers::{Api, Resp};

async fn get(api: &Api, id: i64, if_none_match: Option<&str>) -> Resp {
    let mut req = api.http.get(api.v2_url(&format!("/tasks/{id}")));
    if let Some(tag) = if_none_match {
        req = req.header("If-None-Match", tag);
    }
    api.send(req).await
}

async fn patch(api: &Api, id: i64, body: serde_json::Value, if_match: Option<&str>) -> Resp {
    let mut req = api
        .http
        .patch(api.v2_url(&format!("/tasks/{id}")))
        .header("Content-Type", "application/merge-patch+json")
        .body(body.to_string());
    if let Some(tag) = if_match {
        req = req.header("If-Match", tag);
    }
    api.send(req).await
}

#[tokio::test]
async fn get_sends_an_etag_and_answers_304_to_it() {
    let api = Api::start().await;
    let t = api.sim.create_task(1, "tagged");
    let r = get(&api, t.id, None).await;
    assert_eq!(r.status, 200);
    let etag = r.header("etag");
    let nanos = t.updated.unix_timestamp_nanos();
    assert_eq!(etag, format!("\"{nanos}-2\""));
    assert_eq!(r.json["max_permission"], 2);
    assert_eq!(r.json["title"], "tagged");

    assert_eq!(get(&api, t.id, Some(&etag)).await.status, 304);
    crate::helpers::after_second(t.updated).await;
    api.sim.update_task(t.id, |t| t.priority = 4).unwrap();
    let changed = get(&api, t.id, Some(&etag)).await;
    assert_eq!(changed.status, 200);
    assert_ne!(changed.header("etag"), etag);
}

#[tokio::test]
async fn patch_keeps_the_fields_it_is_not_sent() {
    let api = Api::start().await;
    let t = api
        .sim
        .create_task_with(
            1,
            json!({"title": "full", "description": "<p>keep</p>", "priority": 3, "percent_done": 0.5,
                   "due_date": "2030-01-01T10:00:00Z", "repeat_after": 86400,
                   "assignees": [{"id": 2}], "reminders": [{"reminder": "2030-01-01T09:00:00Z"}]}),
        )
        .unwrap();
    let r = patch(&api, t.id, json!({"title": "renamed", "done": true}), None).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let after = api.sim.task(t.id).unwrap();
    assert_eq!(after.title, "renamed");
    assert_eq!(
        (
            after.description.as_str(),
            after.priority,
            after.percent_done,
            after.repeat_after
        ),
        ("<p>keep</p>", 3, 0.5, 86400)
    );
    assert_eq!(after.assignees.unwrap()[0].id, 2);
    assert_eq!(after.reminders.map(|r| r.len()), Some(1));
    assert!(
        !after.done,
        "done on a repeating task moves it on, as on v1"
    );
    assert!(after.due_date > t.due_date);

    assert_eq!(
        patch(&api, t.id, json!({"title": "renamed"}), None)
            .await
            .status,
        304
    );
}

#[tokio::test]
async fn neither_put_nor_patch_detects_a_conflict() {
    let api = Api::start().await;
    let t = api.sim.create_task(1, "contested");
    let stale = get(&api, t.id, None).await;
    let etag = stale.header("etag");
    crate::helpers::after_second(t.updated).await;
    api.sim.update_task(t.id, |t| t.priority = 5).unwrap();

    let r = patch(&api, t.id, json!({"title": "mine"}), Some(&etag)).await;
    assert_eq!(r.status, 200, "If-Match is not checked: {}", r.json);
    assert_eq!(
        api.sim.task(t.id).unwrap().priority,
        5,
        "the patch kept the other edit"
    );

    let mut old = stale.json.clone();
    old["title"] = json!("mine, whole");
    let put = api
        .send(
            api.http
                .put(api.v2_url(&format!("/tasks/{}", t.id)))
                .header("If-Match", &etag)
                .json(&old),
        )
        .await;
    assert_eq!(put.status, 200);
    assert_eq!(
        api.sim.task(t.id).unwrap().priority,
        0,
        "a stale PUT reverts it, unnoticed"
    );
}

#[tokio::test]
async fn errors_are_problem_json_and_delete_answers_204() {
    let api = Api::start().await;
    let missing = get(&api, 4711, None).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.header("content-type"), "application/problem+json");
    assert_eq!(
        (
            missing.json["status"].as_i64(),
            missing.json["code"].as_i64()
        ),
        (Some(404), Some(4002))
    );
    let t = api.sim.create_task(1, "going");
    let r = api
        .send(api.http.delete(api.v2_url(&format!("/tasks/{}", t.id))))
        .await;
    assert_eq!(r.status, 204);
    assert!(api.sim.task(t.id).is_none());
}

#[tokio::test]
async fn v2_does_not_exist_before_2_4() {
    let api = Api::with(SimConfig {
        version: "v2.3.0".into(),
        ..SimConfig::default()
    })
    .await;
    let t = api.sim.create_task(1, "v1 only");
    assert_eq!(get(&api, t.id, None).await.status, 404);
    assert_eq!(
        patch(&api, t.id, json!({"title": "x"}), None).await.status,
        404
    );
    assert_eq!(api.get("/info").await.json["version"], "v2.3.0");
    assert_eq!(api.sim.task(t.id).unwrap().title, "v1 only");
}
