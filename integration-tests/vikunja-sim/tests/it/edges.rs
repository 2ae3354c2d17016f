//! What a real server does that a happy-path client misses (reference §8): stale cover
//! images, per-user favourites, link-share events, silent comments, double assignee
//! deliveries, no `project.created`, webhooks that only change by delete and create, and
//! the CalDAV UID the REST API cannot filter on.

use serde_json::json;
use vikunja_sim::{Reminder, WEBHOOK_EVENTS};

use crate::helpers::{Api, Receiver, WAIT, after_second};

#[tokio::test]
async fn a_deleted_cover_image_keeps_its_id_and_every_full_update_answers_4020() {
    let api = Api::start().await;
    let t = api.sim.create_task(1, "with a cover");
    let cover = api.sim.add_attachment(t.id, "cover.png").unwrap();
    api.sim
        .update_task(t.id, |t| t.cover_image_attachment_id = cover.id)
        .unwrap();
    let r = api
        .delete(&format!("/tasks/{}/attachments/{}", t.id, cover.id))
        .await;
    assert_eq!(r.status, 200);

    let fresh = api.get(&format!("/tasks/{}", t.id)).await.json;
    assert_eq!(fresh["cover_image_attachment_id"], cover.id, "the id stays");
    assert!(fresh["attachments"].is_null());
    let mut edited = fresh.clone();
    edited["title"] = json!("edited");
    let refused = api.post(&format!("/tasks/{}", t.id), edited.clone()).await;
    assert_eq!(
        (refused.status, refused.json["code"].as_i64()),
        (400, Some(4020))
    );
    assert_eq!(api.sim.task(t.id).unwrap().title, "with a cover");

    edited["cover_image_attachment_id"] = json!(0);
    let ok = api.post(&format!("/tasks/{}", t.id), edited).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
}

#[tokio::test]
async fn is_favorite_is_per_user_and_a_webhook_carries_the_doers_flag() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    let t = api.sim.create_task(1, "starred by demo");
    api.sim.update_task(t.id, |t| t.is_favorite = true).unwrap();
    api.hook(1, &rx.url, &["task.updated"], "").await;

    let bob = api.sim.as_user(2);
    assert!(
        !bob.task(t.id).unwrap().is_favorite,
        "bob has not starred it"
    );
    bob.update_task(t.id, |t| t.title = "bob's edit".into())
        .unwrap();

    let body = rx.wait_for(1).await[0].json();
    assert_eq!(body["data"]["doer"]["id"], 2);
    assert_eq!(body["data"]["task"]["title"], "bob's edit");
    assert_eq!(
        body["data"]["task"]["is_favorite"], false,
        "bob's flag, not demo's"
    );
    let own = api.get(&format!("/tasks/{}", t.id)).await.json;
    assert_eq!(
        own["is_favorite"], true,
        "bob's edit left demo's star alone"
    );
}

#[tokio::test]
async fn a_change_through_a_link_share_arrives_with_null_lists() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    let (home, work) = (api.sim.create_label("home"), api.sim.create_label("work"));
    let t = api
        .sim
        .create_task_with(
            1,
            json!({"title": "shared", "assignees": [{"id": 2}],
                   "reminders": [{"reminder": "2030-01-01T10:00:00Z"}]}),
        )
        .unwrap();
    api.sim.add_label(t.id, home.id).unwrap();
    api.hook(1, &rx.url, &["task.updated"], "").await;

    api.sim.via_link_share(4).add_label(t.id, work.id).unwrap();
    let body = rx.wait_for(1).await[0].json();
    let task = &body["data"]["task"];
    assert_eq!(task["title"], "shared");
    for list in ["labels", "assignees", "reminders"] {
        assert!(task[list].is_null(), "{list}: {}", task[list]);
    }
    assert_eq!(body["data"]["doer"]["id"], -4);
    assert_eq!(body["data"]["doer"]["username"], "link-share-4");

    let stored = api.sim.task(t.id).unwrap();
    assert_eq!(stored.labels.map(|l| l.len()), Some(2));
    assert_eq!(stored.assignees.map(|a| a.len()), Some(1));
    assert_eq!(stored.reminders.as_deref().map(<[Reminder]>::len), Some(1));

    api.sim.remove_label(t.id, work.id).unwrap();
    let own = rx.wait_for(2).await[1].json();
    assert_eq!(
        own["data"]["task"]["labels"][0]["id"], home.id,
        "a user's change is re-read"
    );
}

#[tokio::test]
async fn a_comment_bumps_updated_and_fires_no_task_updated() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    let t = api.sim.create_task(1, "discussed");
    api.hook(1, &rx.url, &["task.updated", "task.comment.created"], "")
        .await;
    after_second(t.updated).await;

    let r = api
        .put(
            &format!("/tasks/{}/comments", t.id),
            json!({"comment": "looks good"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert!(api.sim.task(t.id).unwrap().updated > t.updated);
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    assert_eq!(rx.events(), ["task.comment.created"]);
    assert_eq!(
        rx.hits()[0].json()["data"]["comment"]["comment"],
        "looks good"
    );
    let listed = api.get(&format!("/tasks/{}/comments", t.id)).await;
    assert_eq!(listed.json[0]["author"]["username"], "demo");
}

#[tokio::test]
async fn every_assignee_change_is_delivered_twice() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    let t = api.sim.create_task(1, "handed over");
    api.hook(
        1,
        &rx.url,
        &[
            "task.assignee.created",
            "task.assignee.deleted",
            "task.updated",
        ],
        "",
    )
    .await;
    let path = format!("/tasks/{}/assignees", t.id);
    assert_eq!(api.put(&path, json!({"user_id": 3})).await.status, 201);
    assert_eq!(api.delete(&format!("{path}/3")).await.status, 200);
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    assert_eq!(
        rx.events(),
        [
            "task.assignee.created",
            "task.updated",
            "task.assignee.deleted",
            "task.updated"
        ]
    );
}

#[tokio::test]
async fn there_is_no_project_created_webhook() {
    let api = Api::start().await;
    let rx = Receiver::start().await;
    assert!(!WEBHOOK_EVENTS.contains(&"project.created"));
    let refused = api
        .put(
            "/projects/1/webhooks",
            json!({"target_url": rx.url, "events": ["project.created"]}),
        )
        .await;
    assert_eq!(
        (refused.status, refused.json["code"].as_i64()),
        (412, Some(2002))
    );
    api.hook(1, &rx.url, WEBHOOK_EVENTS, "").await;
    let child = api
        .put(
            "/projects",
            json!({"title": "Child", "parent_project_id": 1}),
        )
        .await;
    assert_eq!(child.status, 201);
    assert!(api.sim.wait_deliveries_idle(WAIT).await);
    assert!(
        rx.hits().is_empty(),
        "a new project is only found by polling"
    );
}

#[tokio::test]
async fn a_webhooks_url_and_secret_change_only_by_delete_and_create() {
    let api = Api::start().await;
    let (old, new) = (Receiver::start().await, Receiver::start().await);
    let id = api.hook(1, &old.url, &["task.created"], "first").await;
    let r = api
        .post(
            &format!("/projects/1/webhooks/{id}"),
            json!({"target_url": new.url, "secret": "second", "events": ["task.updated"]}),
        )
        .await;
    assert_eq!(r.status, 200);
    let stored = &api.sim.webhooks(1)[0];
    assert_eq!(
        (
            stored.target_url.as_str(),
            stored.secret.as_str(),
            stored.events.clone()
        ),
        (old.url.as_str(), "first", vec!["task.updated".to_owned()])
    );

    assert_eq!(
        api.delete(&format!("/projects/1/webhooks/{id}"))
            .await
            .status,
        200
    );
    let replaced = api.hook(1, &new.url, &["task.updated"], "second").await;
    assert_ne!(replaced, id);
    let now = &api.sim.webhooks(1)[0];
    assert_eq!(
        (now.target_url.as_str(), now.secret.as_str()),
        (new.url.as_str(), "second")
    );
}

#[tokio::test]
async fn the_caldav_uid_is_not_in_the_json_and_filtering_on_it_is_400() {
    let api = Api::start().await;
    let t = api.sim.create_task(1, "from syncall");
    api.sim.set_caldav_uid(t.id, "abc-123").unwrap();
    let json = api.get(&format!("/tasks/{}", t.id)).await.json;
    assert!(json.get("uid").is_none());
    let r = api.get("/tasks?filter=uid+%3D+abc-123").await;
    assert_eq!((r.status, r.json["code"].as_i64()), (400, Some(4019)));
    assert_eq!(
        api.get("/tasks?sort_by=uid").await.status,
        200,
        "sorting by it works"
    );
}
