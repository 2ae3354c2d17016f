//! REST semantics: auth, create/update, full replacement, paging, filters, error codes.

use serde_json::json;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use vikunja_sim::SimConfig;

use crate::helpers::{Api, Resp, after_second};

#[tokio::test]
async fn missing_or_wrong_token_is_401_code_11() {
    let api = Api::start().await;
    let none = Resp::read(api.http.get(api.url("/tasks")).send().await.unwrap()).await;
    let wrong = Resp::read(
        api.http
            .get(api.url("/projects"))
            .bearer_auth("tk_nope")
            .send()
            .await
            .unwrap(),
    )
    .await;
    for r in [none, wrong] {
        assert_eq!(r.status, 401);
        assert_eq!(r.json["code"], 11);
        assert_eq!(
            r.json["message"],
            "missing, malformed, expired or otherwise invalid token provided"
        );
    }
    let info = Resp::read(api.http.get(api.url("/info")).send().await.unwrap()).await;
    assert_eq!(info.status, 200);
    assert_eq!(info.json["version"], "v2.5.0-sim");
    assert_eq!(info.json["max_items_per_page"], 50);
    assert_eq!(info.json["webhooks_enabled"], true);
}

#[tokio::test]
async fn put_creates_with_201_and_post_updates_with_200() {
    let api = Api::start().await;
    let p = api
        .put("/projects", json!({"title": "Work", "identifier": "wrk"}))
        .await;
    assert_eq!(p.status, 201);
    assert_eq!(p.json["identifier"], "WRK");
    let pid = p.json["id"].as_i64().unwrap();

    let t = api
        .put(
            &format!("/projects/{pid}/tasks"),
            json!({"title": "write report"}),
        )
        .await;
    assert_eq!(t.status, 201);
    assert_eq!(t.json["identifier"], "WRK-1");
    assert_eq!(t.json["index"], 1);
    assert_eq!(t.json["done_at"], "0001-01-01T00:00:00Z");
    assert_eq!(t.json["related_tasks"], json!({}));
    assert!(t.json["reminders"].is_null());
    let tid = t.json["id"].as_i64().unwrap();

    let mut full = api.get(&format!("/tasks/{tid}")).await.json;
    full["title"] = json!("write the report");
    let u = api.post(&format!("/tasks/{tid}"), full).await;
    assert_eq!(u.status, 200);
    assert_eq!(api.sim.task(tid).unwrap().title, "write the report");

    let empty = api
        .put(
            &format!("/projects/{pid}/tasks"),
            json!({"description": "no title"}),
        )
        .await;
    assert_eq!(
        (empty.status, empty.json["code"].as_i64()),
        (400, Some(4001))
    );
}

#[tokio::test]
async fn post_replaces_the_whole_task_and_keeps_an_omitted_title() {
    let api = Api::start().await;
    let body = json!({
        "title": "full", "description": "<p>notes</p>",
        "due_date": "2030-01-02T03:04:05Z", "start_date": "2030-01-01T00:00:00Z", "end_date": "2030-01-03T00:00:00Z",
        "priority": 4, "percent_done": 0.5, "repeat_after": 0, "repeat_mode": 2, "hex_color": "#ff0000",
        "assignees": [{"id": 2}], "reminders": [{"reminder": "2030-01-02T00:00:00Z"}], "is_favorite": true
    });
    let t = api.sim.create_task_with(1, body).unwrap();
    let tid = t.id;
    api.sim.update_task(tid, |t| t.done = true).unwrap();
    let before = api.sim.update_task(tid, |t| t.repeat_after = 3600).unwrap();
    assert_eq!(before.hex_color, "ff0000");
    assert!(before.assignees.is_some() && before.reminders.is_some() && before.is_favorite);
    assert!(before.done && before.done_at != vikunja_sim::ZERO_TIME);

    let r = api
        .post(&format!("/tasks/{tid}"), json!({"percent_done": 0.25}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let after = api.sim.task(tid).unwrap();
    assert_eq!(after.title, "full", "an omitted title is kept");
    assert!(!after.done, "omitted done re-opens the task");
    assert_eq!(after.done_at, vikunja_sim::ZERO_TIME);
    assert_eq!(after.description, "");
    assert_eq!(
        (after.due_date, after.start_date, after.end_date),
        (
            vikunja_sim::ZERO_TIME,
            vikunja_sim::ZERO_TIME,
            vikunja_sim::ZERO_TIME
        )
    );
    assert_eq!(
        (after.priority, after.repeat_after, after.repeat_mode),
        (0, 0, 0)
    );
    assert_eq!(after.percent_done, 0.25);
    assert_eq!(after.hex_color, "");
    assert!(after.assignees.is_none(), "assignees all removed");
    assert!(after.reminders.is_none(), "reminders deleted");
    assert!(!after.is_favorite);
    assert!(after.updated >= before.updated);
}

#[tokio::test]
async fn labels_in_a_task_body_are_ignored_on_create_and_update() {
    let api = Api::start().await;
    let label = api.sim.create_label("urgent");
    let t = api
        .put(
            "/projects/1/tasks",
            json!({"title": "x", "labels": [{"id": label.id, "title": "urgent"}]}),
        )
        .await;
    assert_eq!(t.status, 201);
    assert_eq!(
        t.json["labels"][0]["id"], label.id,
        "the create response echoes the input"
    );
    let tid = t.json["id"].as_i64().unwrap();
    assert!(api.sim.task(tid).unwrap().labels.is_none());
    assert!(api.get(&format!("/tasks/{tid}")).await.json["labels"].is_null());

    let u = api
        .post(
            &format!("/tasks/{tid}"),
            json!({"title": "x", "labels": [{"id": label.id}]}),
        )
        .await;
    assert_eq!(
        u.json["labels"][0]["id"], label.id,
        "the update response echoes the input"
    );
    assert_eq!(
        u.json["identifier"], "",
        "the update response is no re-read"
    );
    assert!(api.sim.task(tid).unwrap().labels.is_none());
}

#[tokio::test]
async fn per_page_is_capped_and_pagination_headers_walk_all_pages() {
    let api = Api::with(SimConfig {
        max_items_per_page: 10,
        ..SimConfig::default()
    })
    .await;
    for i in 0..25 {
        api.sim.create_task(1, &format!("task {i}"));
    }
    let mut seen = Vec::new();
    for page in 1..=3 {
        let r = api
            .get(&format!("/projects/1/tasks?per_page=100&page={page}"))
            .await;
        assert_eq!(r.header("x-pagination-total-pages"), "3");
        let count = r.json.as_array().unwrap().len();
        assert_eq!(r.header("x-pagination-result-count"), count.to_string());
        assert_eq!(count, if page < 3 { 10 } else { 5 });
        seen.extend(
            r.json
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["id"].as_i64().unwrap()),
        );
    }
    assert_eq!(
        seen,
        (1..=25).collect::<Vec<_>>(),
        "default order is id asc, no gaps or repeats"
    );
    let beyond = api.get("/tasks?page=4").await;
    assert_eq!(beyond.json, json!([]));
    assert_eq!(beyond.header("x-pagination-result-count"), "0");
}

#[tokio::test]
async fn filter_on_updated_returns_the_delta_and_accepts_plus_encoded_offsets() {
    let api = Api::start().await;
    let a = api.sim.create_task(1, "old");
    let b = api.sim.create_task(1, "new");
    after_second(a.updated).await;
    let b = api.sim.update_task(b.id, |t| t.priority = 3).unwrap();
    assert!(b.updated > a.updated);

    let since = a
        .updated
        .to_offset(time::UtcOffset::from_hms(2, 0, 0).unwrap())
        .format(&Rfc3339)
        .unwrap();
    assert!(since.contains('+'));
    let filter = format!("updated > {since}");
    let r = api
        .send(api.http.get(api.url("/tasks")).query(&[
            ("filter", filter.as_str()),
            ("sort_by", "updated"),
            ("order_by", "asc"),
        ]))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let ids: Vec<i64> = r
        .json
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![b.id]);

    let short = OffsetDateTime::from_unix_timestamp(a.updated.unix_timestamp() - 120).unwrap();
    let short = format!(
        "updated >= {}-{:02}-{:02} {:02}:{:02} && done = false",
        short.year(),
        u8::from(short.month()),
        short.day(),
        short.hour(),
        short.minute()
    );
    let r = api
        .send(
            api.http
                .get(api.url("/tasks"))
                .query(&[("filter", short.as_str())]),
        )
        .await;
    assert_eq!(r.json.as_array().unwrap().len(), 2, "{short}");

    // A raw `+` decodes as a space, which no date format accepts.
    let raw = api
        .get(&format!("/tasks?filter=updated%20%3E%20{since}"))
        .await;
    assert_eq!((raw.status, raw.json["code"].as_i64()), (400, Some(4019)));
}

#[tokio::test]
async fn filter_on_an_unknown_field_is_400() {
    let api = Api::start().await;
    let r = api
        .send(
            api.http
                .get(api.url("/tasks"))
                .query(&[("filter", "colour = red")]),
        )
        .await;
    assert_eq!((r.status, r.json["code"].as_i64()), (400, Some(4016)));
}

#[tokio::test]
async fn missing_and_deleted_tasks_are_404_4002_missing_projects_404_3001() {
    let api = Api::start().await;
    let t = api.sim.create_task(1, "doomed");
    assert_eq!(api.delete(&format!("/tasks/{}", t.id)).await.status, 200);
    for path in [format!("/tasks/{}", t.id), "/tasks/999".to_owned()] {
        let r = api.get(&path).await;
        assert_eq!(
            (r.status, r.json["code"].as_i64()),
            (404, Some(4002)),
            "{path}"
        );
    }
    for r in [
        api.get("/projects/999").await,
        api.get("/projects/999/tasks").await,
        api.put("/projects/999/tasks", json!({"title": "x"})).await,
    ] {
        assert_eq!((r.status, r.json["code"].as_i64()), (404, Some(3001)));
    }
    let default = api.delete("/projects/1").await;
    assert_eq!(
        (default.status, default.json["code"].as_i64()),
        (412, Some(3012))
    );
}

#[tokio::test]
async fn webhook_validation_is_412_with_invalid_fields() {
    let api = Api::start().await;
    let bad_event = api.put("/projects/1/webhooks", json!({"target_url": "http://127.0.0.1:1/x", "events": ["task.updated", "task.exploded"]})).await;
    assert_eq!(bad_event.status, 412);
    assert_eq!(bad_event.json["code"], 2002);
    assert_eq!(bad_event.json["invalid_fields"], json!(["events"]));
    let bad_url = api
        .put(
            "/projects/1/webhooks",
            json!({"target_url": "ftp://x", "events": ["task.updated"]}),
        )
        .await;
    assert_eq!(bad_url.json["invalid_fields"], json!(["target_url"]));
    assert!(api.sim.webhooks(1).is_empty());
}

#[tokio::test]
async fn project_update_writes_what_section_3_2_says() {
    let api = Api::start().await;
    let parent = api.sim.create_project("Parent", 0);
    let child = api.sim.create_project("Child", parent.id);
    api.sim.update_project(child.id, |p| {
        p.description = "keep me".into();
        p.identifier = "CH".into();
        p.is_archived = true;
    });
    let r = api
        .post(
            &format!("/projects/{}", child.id),
            json!({"title": "Child 2"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let p = api.sim.project(child.id).unwrap();
    assert_eq!(
        (
            p.title.as_str(),
            p.description.as_str(),
            p.identifier.as_str()
        ),
        ("Child 2", "keep me", "")
    );
    assert!(!p.is_archived, "omitting is_archived un-archives");
    assert_eq!(
        p.parent_project_id, parent.id,
        "omitting parent_project_id keeps it"
    );
}
