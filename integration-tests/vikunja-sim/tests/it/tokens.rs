//! API tokens with scopes (reference §2, §8): route groups and verbs; a route outside the
//! token's scope answers 401 code 11, like a revoked token.

use serde_json::json;
use time::{Duration, OffsetDateTime};
use vikunja_sim::SimConfig;

use crate::helpers::Api;

#[tokio::test]
async fn a_route_outside_the_tokens_scope_answers_401() {
    let api = Api::start().await;
    let t = api.sim.create_task(1, "scoped");
    let label = api.sim.create_label("l");
    let token = api
        .sim
        .create_token(
            &[
                ("tasks", &["read_all", "read_one", "update"]),
                ("projects", &["read_all"]),
            ],
            Some(OffsetDateTime::now_utc() + Duration::days(30)),
        )
        .unwrap();
    let h = &api.http;
    let status = |r: crate::helpers::Resp| (r.status, r.json["code"].as_i64());
    assert_eq!(
        api.send_as(&token, h.get(api.url("/tasks"))).await.status,
        200
    );
    assert_eq!(
        api.send_as(&token, h.get(api.url("/projects/1/tasks")))
            .await
            .status,
        200,
        "both listings share tasks.read_all"
    );
    assert_eq!(
        api.send_as(
            &token,
            h.post(api.url(&format!("/tasks/{}", t.id)))
                .json(&json!({"title": "ok"}))
        )
        .await
        .status,
        200
    );
    let create = h
        .put(api.url("/projects/1/tasks"))
        .json(&json!({"title": "no"}));
    assert_eq!(status(api.send_as(&token, create).await), (401, Some(11)));
    let add_label = h
        .put(api.url(&format!("/tasks/{}/labels", t.id)))
        .json(&json!({"label_id": label.id}));
    assert_eq!(
        status(api.send_as(&token, add_label).await),
        (401, Some(11))
    );
    assert_eq!(
        status(api.send_as(&token, h.get(api.url("/user"))).await),
        (401, Some(11))
    );
    assert_eq!(api.sim.tasks().len(), 1);
    assert!(api.sim.task(t.id).unwrap().labels.is_none());
}

async fn patch_priority(api: &Api, task: i64, token: &str) -> u16 {
    let req = api
        .http
        .patch(api.v2_url(&format!("/tasks/{task}")))
        .header("Content-Type", "application/merge-patch+json")
        .body(r#"{"priority": 2}"#);
    api.send_as(token, req).await.status
}

#[tokio::test]
async fn a_v2_patch_needs_update_and_read_one() {
    let api = Api::start().await;
    let t = api.sim.create_task(1, "patched");
    let update_only = api
        .sim
        .create_token(&[("tasks", &["update"])], None)
        .unwrap();
    assert_eq!(patch_priority(&api, t.id, &update_only).await, 401);
    let both = api
        .sim
        .create_token(&[("tasks", &["update", "read_one"])], None)
        .unwrap();
    assert_eq!(patch_priority(&api, t.id, &both).await, 200);
    assert_eq!(api.sim.task(t.id).unwrap().priority, 2);
}

#[tokio::test]
async fn an_expired_token_answers_401() {
    let api = Api::start().await;
    let token = api
        .sim
        .create_token(
            &[("tasks", &["read_all"])],
            Some(OffsetDateTime::now_utc() - Duration::seconds(1)),
        )
        .unwrap();
    assert_eq!(
        api.send_as(&token, api.http.get(api.url("/tasks")))
            .await
            .status,
        401
    );
}

#[tokio::test]
async fn routes_lists_what_a_token_can_hold_and_nothing_else_is_granted() {
    let api = Api::start().await;
    let routes = api.get("/routes").await.json;
    for (group, verb) in [
        ("tasks", "update"),
        ("tasks_labels", "update_bulk"),
        ("projects_webhooks", "create"),
        ("webhooks", "events"),
        ("caldav", "access"),
    ] {
        assert!(routes[group][verb].is_object(), "{group}.{verb}: {routes}");
    }
    let refused = api
        .sim
        .create_token(&[("tasks", &["fly"])], None)
        .unwrap_err();
    assert_eq!((refused.status, refused.code), (400, Some(14002)));

    let no_hooks = Api::with(SimConfig {
        webhooks_enabled: false,
        ..SimConfig::default()
    })
    .await;
    assert!(
        no_hooks
            .get("/routes")
            .await
            .json
            .get("projects_webhooks")
            .is_none()
    );
    assert!(
        no_hooks
            .sim
            .create_token(&[("projects_webhooks", &["create"])], None)
            .is_err(),
        "the group exists only when webhooks are enabled"
    );
}
