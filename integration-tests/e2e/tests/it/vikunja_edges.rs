//! Real Vikunja's edges, end to end (issue 18; reference §8): a deleted cover image, changes
//! through a link share (`null` lists), other users' favourites, and task updates that send
//! only what changed (a v2 merge patch from 2.4.0, a fresh read posted back before).

use serde_json::{Value, json};
use vikunja_sim::SimConfig;
use vsync_e2e::*;

use crate::labels::{tags, vikunja_task};

fn on(version: &str) -> SimConfig {
    SimConfig {
        version: version.into(),
        ..SimConfig::default()
    }
}

/// Every event so far is processed: deliveries are done and a marker made after them arrived.
async fn settle(sys: &System, marker: &str) {
    assert!(sys.sim.wait_deliveries_idle(PROPAGATION).await);
    sys.sim.create_task(project_id(sys, "Home"), marker);
    let m = marker.to_string();
    wait_task(sys.host("laptop"), marker, move |t| {
        s(t, "description") == m
    })
    .await;
    assert!(sys.sim.wait_deliveries_idle(PROPAGATION).await);
}

/// The writes sent to Vikunja, as (`METHOD route`, body).
fn writes(sys: &System) -> Vec<(String, Value)> {
    sys.sim
        .requests()
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| {
            let body = serde_json::from_str(&r.body).unwrap_or(Value::Null);
            (format!("{} {}", r.method, r.route), body)
        })
        .collect()
}

async fn no_dead_letters(sys: &System) {
    let dead = sys.bus.recent_dead_letters(10).await.unwrap();
    assert!(dead.is_empty(), "{dead:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_with_a_stale_cover_image_syncs_both_ways() {
    for version in ["v2.5.0", "v2.3.0"] {
        let sys = system_with(&["laptop"], &["Home"], on(version)).await;
        let home = project_id(&sys, "Home");
        webhook_registered(&sys, home).await;
        let laptop = sys.host("laptop");
        let id = sys.sim.create_task(home, "Paint the fence").id;
        let a = sys.sim.add_attachment(id, "fence.png").unwrap();
        sys.sim
            .update_task(id, |t| t.cover_image_attachment_id = a.id)
            .unwrap();
        let uuid = s(&wait_task(laptop, "the task", has_vid(id)).await, "uuid").to_string();
        settle(&sys, "marker 1").await;
        // The cover image goes; the task keeps its id, and every full update answers 4020.
        sys.sim.delete_attachment(id, a.id).unwrap();
        assert!(sys.sim.try_update_task(id, |t| t.priority = 1).is_err());

        // Vikunja -> TW: a label (not a full update, so Vikunja takes it).
        let paint = sys.sim.create_label("paint");
        sys.sim.add_label(id, paint.id).unwrap();
        wait_task(laptop, "the label as a tag", |t| tags(t) == ["paint"]).await;
        // TW -> Vikunja: the write resets the stale cover instead of failing forever.
        laptop.ok(&[&uuid, "modify", "Paint the fence white", "priority:H"]);
        let t = vikunja_task(&sys, id, "the edit", |t| {
            t.title == "Paint the fence white" && t.priority == 3
        })
        .await;
        assert_eq!(t.cover_image_attachment_id, 0, "{version}");
        // And Vikunja -> TW again, now that a full update is possible.
        sys.sim
            .update_task(id, |t| t.title = "Paint the fence green".into())
            .unwrap();
        wait_task(laptop, "the Vikunja edit", |t| {
            s(t, "description") == "Paint the fence green" && tags(t) == ["paint"]
        })
        .await;
        no_dead_letters(&sys).await;
        sys.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_share_label_event_strips_no_tag_and_wipes_no_assignee() {
    for version in ["v2.5.0", "v2.3.0"] {
        let sys = system_with(&["laptop"], &["Home"], on(version)).await;
        let home = project_id(&sys, "Home");
        webhook_registered(&sys, home).await;
        let laptop = sys.host("laptop");
        let (errand, garden) = (
            sys.sim.create_label("errand"),
            sys.sim.create_label("garden"),
        );
        let id = sys
            .sim
            .create_task_with(
                home,
                json!({"title": "Shared errand",
                       "reminders": [{"reminder": "2030-01-01T10:00:00Z"}]}),
            )
            .unwrap()
            .id;
        sys.sim.add_label(id, errand.id).unwrap();
        sys.sim.add_assignee(id, 2).unwrap();
        let uuid = s(
            &wait_task(laptop, "the task", |t| tags(t) == ["errand"]).await,
            "uuid",
        )
        .to_string();
        settle(&sys, "marker 1").await;

        // Its webhook carries `labels`, `assignees` and `reminders` as null.
        sys.sim.via_link_share(4).add_label(id, garden.id).unwrap();
        wait_task(laptop, "the new label, the old kept", |t| {
            tags(t) == ["errand", "garden"]
        })
        .await;
        sys.sim
            .via_link_share(4)
            .update_task(id, |t| t.title = "Shared errand, renamed".into())
            .unwrap();
        wait_task(laptop, "the rename", |t| {
            s(t, "description") == "Shared errand, renamed"
        })
        .await;
        settle(&sys, "marker 2").await;
        let t = laptop.get(&uuid).unwrap();
        assert_eq!(tags(&t), ["errand", "garden"], "{version}: no tag stripped");

        // The next write from Taskwarrior wipes nothing it did not change.
        laptop.ok(&[&uuid, "modify", "priority:H"]);
        let t = vikunja_task(&sys, id, "the edit", |t| t.priority == 3).await;
        assert_eq!(t.title, "Shared errand, renamed", "{version}");
        assert_eq!(
            t.assignees.map(|a| a.len()),
            Some(1),
            "{version}: assignee kept"
        );
        assert_eq!(
            t.reminders.map(|r| r.len()),
            Some(1),
            "{version}: reminder kept"
        );
        assert_eq!(t.labels.map(|l| l.len()), Some(2), "{version}: labels kept");
        // `null` may also mean the last label went: Vikunja's current labels are read.
        sys.sim
            .via_link_share(4)
            .remove_label(id, garden.id)
            .unwrap();
        sys.sim
            .via_link_share(4)
            .remove_label(id, errand.id)
            .unwrap();
        let u = uuid.clone();
        wait_task(laptop, "no tags", move |t| {
            s(t, "uuid") == u && tags(t).is_empty()
        })
        .await;
        no_dead_letters(&sys).await;
        sys.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_owners_favourite_survives_other_users_edits() {
    for version in ["v2.5.0", "v2.3.0"] {
        let sys = system_with(&["laptop"], &["Home"], on(version)).await;
        let home = project_id(&sys, "Home");
        webhook_registered(&sys, home).await;
        let laptop = sys.host("laptop");
        let id = sys.sim.create_task(home, "Water the plants").id;
        sys.sim.update_task(id, |t| t.is_favorite = true).unwrap();
        let uuid = s(&wait_task(laptop, "the task", has_vid(id)).await, "uuid").to_string();
        settle(&sys, "marker 1").await;

        // User 2 edits it: the webhook shows the task as they see it (not their favourite).
        sys.sim
            .as_user(2)
            .update_task(id, |t| t.title = "Water the plants today".into())
            .unwrap();
        wait_task(laptop, "user 2's edit", |t| {
            s(t, "description") == "Water the plants today"
        })
        .await;
        settle(&sys, "marker 2").await;
        sys.sim.clear_requests();
        laptop.ok(&[&uuid, "modify", "priority:L"]);
        let t = vikunja_task(&sys, id, "the edit", |t| t.priority == 1).await;
        assert!(t.is_favorite, "{version}: the owner's favourite stays");
        for (call, body) in writes(&sys) {
            assert!(
                body.get("is_favorite") != Some(&json!(false)),
                "{version}: {call} sent {body}"
            );
        }
        sys.shutdown().await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taskwarrior_edit_sends_only_the_changed_fields() {
    for (version, want) in [
        ("v2.4.0", vec!["PATCH /api/v2/tasks/{id}"]),
        (
            "v2.3.0",
            vec!["GET /api/v1/tasks/{id}", "POST /api/v1/tasks/{id}"],
        ),
    ] {
        let mut o = options(&["laptop"], &["Home"], on(version));
        o.reconcile_interval = std::time::Duration::from_secs(3600);
        let sys = System::start(o).await.unwrap();
        let home = project_id(&sys, "Home");
        webhook_registered(&sys, home).await;
        let laptop = sys.host("laptop");
        let id = sys
            .sim
            .create_task_with(
                home,
                json!({"title": "Rich task", "hex_color": "ff8800", "percent_done": 0.5}),
            )
            .unwrap()
            .id;
        sys.sim.add_assignee(id, 2).unwrap();
        let uuid = s(&wait_task(laptop, "the task", has_vid(id)).await, "uuid").to_string();
        settle(&sys, "marker 1").await;
        sys.sim.clear_requests();

        laptop.ok(&[&uuid, "modify", "due:2027-03-01T10:00:00Z"]);
        let t = vikunja_task(&sys, id, "the due date", |t| t.due_date.year() == 2027).await;
        settle(&sys, "marker 2").await;
        let calls: Vec<String> = sys
            .sim
            .calls()
            .into_iter()
            .filter(|c| c != "PUT /api/v1/projects/{id}/tasks") // the markers
            .collect();
        assert_eq!(calls, want, "{version}: one write, no echo write");
        let (_, body) = writes(&sys)
            .into_iter()
            .find(|(c, _)| c.contains("/tasks/{id}"))
            .unwrap();
        if version == "v2.4.0" {
            let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["due_date"], "only the change: {body}");
        }
        assert_eq!((t.hex_color.as_str(), t.percent_done), ("ff8800", 0.5));
        assert_eq!(t.assignees.map(|a| a.len()), Some(1), "{version}");
        sys.shutdown().await.unwrap();
    }
}
