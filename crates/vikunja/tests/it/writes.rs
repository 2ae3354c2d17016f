//! Task updates never revert what they did not change: on Vikunja >= 2.4 one merge-patch
//! `PATCH` of the changed members, before that a read and a full `POST` of the fresh object;
//! a deleted cover image never blocks a write and the token owner's favourite stays.

use serde_json::{Map, Value, json};
use vikunja_sim::{SimConfig, Simulator};
use vsync_model::VikunjaTask;
use vsync_vikunja::{VikunjaClient, WritePath};

use crate::helpers::{quick_retry, start};

fn on(version: &str) -> SimConfig {
    SimConfig {
        version: version.into(),
        ..SimConfig::default()
    }
}

fn changes(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => panic!("an object"),
    }
}

/// A task with unmapped fields a full replace would wipe: an assignee, a reminder, a colour.
fn rich_task(sim: &Simulator) -> i64 {
    let project = sim.create_project("Home", 0).id;
    let id = sim.create_task(project, "Buy milk").id;
    sim.add_assignee(id, 2).expect("assignee");
    sim.update_task(id, |t| {
        t.hex_color = "ff0000".into();
        t.percent_done = 0.5;
        t.reminders = Some(vec![vikunja_sim::Reminder {
            reminder: t.created + time::Duration::days(1),
            relative_period: 0,
            relative_to: String::new(),
        }]);
    })
    .expect("edited");
    id
}

/// The writes the client sent, as `METHOD route body`.
fn writes(sim: &Simulator) -> Vec<(String, Value)> {
    sim.requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| {
            let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
            (format!("{} {}", r.method, r.route), body)
        })
        .collect()
}

async fn known(api: &VikunjaClient, id: i64) -> VikunjaTask {
    api.get_task(id).await.expect("read")
}

#[tokio::test]
async fn on_2_4_a_write_is_one_patch_of_the_changed_members_and_keeps_a_vikunja_edit() {
    let f = start(on("v2.4.0"), quick_retry(3)).await;
    let id = rich_task(&f.sim);
    let seen = known(&f.api, id).await;
    // A Vikunja edit we have not heard of (its webhook was dropped).
    f.sim.update_task(id, |t| t.title = "Buy oat milk".into());
    f.api.fetch_server_info().await.expect("info");
    f.sim.clear_requests();

    let due = "2026-05-01T10:00:00Z";
    let w = f
        .api
        .write_task(id, &changes(json!({"due_date": due})), Some(&seen))
        .await
        .expect("written");

    assert_eq!(w.path, WritePath::MergePatch);
    assert_eq!(
        f.sim.calls(),
        ["PATCH /api/v2/tasks/{id}"],
        "one call, nothing read first"
    );
    assert_eq!(
        writes(&f.sim)[0].1,
        json!({"due_date": due}),
        "only the change"
    );
    let t = f.sim.task(id).expect("task");
    assert_eq!(t.title, "Buy oat milk", "the Vikunja edit stays");
    assert_eq!(t.due_date.year(), 2026);
    assert_eq!(t.assignees.map(|a| a.len()), Some(1));
    assert_eq!(t.reminders.map(|r| r.len()), Some(1));
    assert_eq!((t.hex_color.as_str(), t.percent_done), ("ff0000", 0.5));
    assert_eq!(
        w.task.title(),
        "Buy oat milk",
        "the answer shows the task as it is"
    );
}

#[tokio::test]
async fn before_2_4_a_write_reads_the_task_and_posts_it_with_the_changes() {
    let f = start(on("v2.3.0"), quick_retry(3)).await;
    let id = rich_task(&f.sim);
    let seen = known(&f.api, id).await;
    f.sim.update_task(id, |t| t.title = "Buy oat milk".into());
    f.sim.clear_requests();

    let w = f
        .api
        .write_task(id, &changes(json!({"priority": 3})), Some(&seen))
        .await
        .expect("written");
    let second = f
        .api
        .write_task(id, &changes(json!({"priority": 2})), Some(&w.task))
        .await
        .expect("written");

    assert_eq!(second.path, WritePath::ReadThenReplace);
    assert_eq!(
        f.sim.calls(),
        [
            "GET /api/v1/info",
            "GET /api/v1/tasks/{id}",
            "POST /api/v1/tasks/{id}",
            "GET /api/v1/tasks/{id}",
            "POST /api/v1/tasks/{id}",
        ],
        "the version is read once; two calls per change"
    );
    let t = f.sim.task(id).expect("task");
    assert_eq!((t.title.as_str(), t.priority), ("Buy oat milk", 2));
    assert_eq!(t.assignees.map(|a| a.len()), Some(1));
    assert_eq!(t.reminders.map(|r| r.len()), Some(1));
    assert_eq!(
        w.read.expect("read").title(),
        "Buy oat milk",
        "the fresh read is returned"
    );
}

#[tokio::test]
async fn a_deleted_cover_image_never_blocks_a_write() {
    for version in ["v2.5.0", "v2.3.0"] {
        let f = start(on(version), quick_retry(3)).await;
        let id = rich_task(&f.sim);
        let a = f.sim.add_attachment(id, "cover.png").expect("attachment");
        f.sim
            .update_task(id, |t| t.cover_image_attachment_id = a.id)
            .expect("cover set");
        // Known before the attachment went: the cover still looked fine.
        let seen = known(&f.api, id).await;
        f.sim.delete_attachment(id, a.id).expect("deleted");
        assert!(
            f.sim.try_update_task(id, |t| t.priority = 1).is_err(),
            "{version}: a full update with the stale cover is refused (4020)"
        );

        let w = f
            .api
            .write_task(id, &changes(json!({"title": "first"})), Some(&seen))
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        let again = f
            .api
            .write_task(id, &changes(json!({"title": "second"})), Some(&w.task))
            .await
            .unwrap_or_else(|e| panic!("{version}: {e}"));
        let t = f.sim.task(id).expect("task");
        assert_eq!(t.title, "second", "{version}");
        assert_eq!(t.cover_image_attachment_id, 0, "{version}");
        assert!(!vsync_vikunja::stale_cover(&again.task), "{version}");
        let refused = f.sim.requests().iter().filter(|r| r.status == 400).count();
        // v2: the patch from the older object is refused once, then the task is read and
        // patched with the cover reset; v1 reads first and never sends it.
        let want = if version == "v2.5.0" { 1 } else { 0 };
        assert_eq!(refused, want, "{version}: {:?}", f.sim.calls());
    }
}

#[tokio::test]
async fn the_token_owners_favourite_survives_another_users_edit() {
    for version in ["v2.5.0", "v2.3.0"] {
        let f = start(on(version), quick_retry(3)).await;
        let id = rich_task(&f.sim);
        f.sim
            .update_task(id, |t| t.is_favorite = true)
            .expect("fav");
        // Another user edits it; the webhook of that edit carries their favourite flag.
        f.sim
            .as_user(2)
            .update_task(id, |t| t.title = "Buy milk today".into())
            .expect("edited");
        let mut as_they_saw_it = known(&f.api, id).await;
        as_they_saw_it.0.insert("is_favorite".into(), json!(false));

        f.api
            .write_task(id, &changes(json!({"done": true})), Some(&as_they_saw_it))
            .await
            .expect("written");
        let t = f.sim.task(id).expect("task");
        assert!(t.done, "{version}");
        assert!(t.is_favorite, "{version}: the owner's favourite stays");
        for (call, body) in writes(&f.sim) {
            assert!(
                body.get("is_favorite") != Some(&json!(false)),
                "{version}: {call} sent {body}"
            );
        }
    }
}

#[tokio::test]
async fn the_version_is_read_again_after_a_failed_write() {
    let f = start(SimConfig::default(), quick_retry(1)).await;
    let id = rich_task(&f.sim);
    let seen = known(&f.api, id).await;
    f.sim.clear_requests();
    let change = changes(json!({"priority": 1}));
    f.api
        .write_task(id, &change, Some(&seen))
        .await
        .expect("ok");
    f.api
        .write_task(id, &change, Some(&seen))
        .await
        .expect("ok");
    let infos = |sim: &Simulator| sim.calls().iter().filter(|c| c.ends_with("/info")).count();
    assert_eq!(infos(&f.sim), 1, "kept");
    f.sim.fail_next(1, 503);
    f.api
        .write_task(id, &change, Some(&seen))
        .await
        .expect_err("503");
    f.api
        .write_task(id, &change, Some(&seen))
        .await
        .expect("ok");
    assert_eq!(infos(&f.sim), 2, "read again after the failure");
}
