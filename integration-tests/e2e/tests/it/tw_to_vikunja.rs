//! Taskwarrior -> Vikunja: from the hook to one API call, and on to every other host.

use std::time::Duration;

use serde_json::{Value, json};
use vsync_e2e::*;

/// A TW command, what Vikunja then shows, what the other host then shows.
type Step = (
    Vec<&'static str>,
    Box<dyn Fn(&vikunja_sim::Task) -> bool + Send + Sync>,
    Box<dyn Fn(&Value) -> bool + Send + Sync>,
);

/// Waits until the simulator has a task satisfying `pred`.
async fn vikunja_task(
    sys: &System,
    what: &str,
    pred: impl Fn(&vikunja_sim::Task) -> bool + Send + Sync + 'static,
) -> vikunja_sim::Task {
    let sim = sys.sim.clone();
    vsync_harness::wait_for(&format!("{what} in Vikunja"), PROPAGATION, move || {
        sim.tasks().into_iter().find(|t| pred(t))
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_taskwarrior_change_reaches_vikunja_in_one_call_and_the_other_host() {
    let sys = System::start(quiet_options(&["laptop", "desk"], &["Home"]))
        .await
        .unwrap();
    webhook_registered(&sys, project_id(&sys, "Home")).await;
    let (laptop, desk) = (sys.host("laptop"), sys.host("desk"));
    let home = project_id(&sys, "Home");
    sys.sim.clear_requests();

    let uuid = laptop.add(&[
        "Buy milk",
        "project:Home",
        "due:2026-06-01T10:00:00Z",
        "priority:M",
    ]);
    let t = vikunja_task(&sys, "the new task", |t| t.title == "Buy milk").await;
    assert_eq!(t.project_id, project_id(&sys, "Home"));
    assert_eq!(
        vikunja_sim::model::ts::format(t.due_date),
        "2026-06-01T10:00:00Z"
    );
    assert_eq!(t.priority, 2);
    let on_desk = wait_task(desk, "the new task", |t| s(t, "description") == "Buy milk").await;
    assert_eq!(s(&on_desk, "uuid"), uuid, "same uuid everywhere");
    wait_task(laptop, "the Vikunja id", |t| {
        t["vikunja_id"].as_f64().is_some()
    })
    .await;
    assert_eq!(
        sys.sim.calls(),
        ["PUT /api/v1/projects/{id}/tasks"],
        "one call for an add"
    );

    let id = t.id;
    let steps: Vec<Step> = vec![
        (
            vec!["modify", "Buy oat milk"],
            Box::new(|t| t.title == "Buy oat milk"),
            Box::new(|t| s(t, "description") == "Buy oat milk"),
        ),
        (
            vec!["modify", "due:2026-07-01T08:00:00Z"],
            Box::new(|t| vikunja_sim::model::ts::format(t.due_date) == "2026-07-01T08:00:00Z"),
            Box::new(|t| s(t, "due") == "20260701T080000Z"),
        ),
        (
            vec!["modify", "scheduled:2026-06-20T08:00:00Z"],
            Box::new(|t| vikunja_sim::model::ts::format(t.start_date) == "2026-06-20T08:00:00Z"),
            Box::new(|t| s(t, "scheduled") == "20260620T080000Z"),
        ),
        (
            vec!["modify", "priority:H"],
            Box::new(|t| t.priority == 3),
            Box::new(|t| s(t, "priority") == "H"),
        ),
        (
            vec!["modify", "project:Home.Kitchen"],
            Box::new(move |t| t.project_id > home && t.title == "Buy oat milk"),
            Box::new(|t| s(t, "project") == "Home.Kitchen"),
        ),
        (
            vec!["annotate", "2 litres & cold"],
            Box::new(|t| t.description == "<p>2 litres &amp; cold</p>"),
            Box::new(|t| t["annotations"].as_array().is_some_and(|a| a.len() == 1)),
        ),
        (
            vec!["done"],
            Box::new(|t| t.done),
            Box::new(|t| s(t, "status") == "completed"),
        ),
    ];
    for (args, in_vikunja, on_desk) in steps {
        sys.sim.clear_requests();
        let mut a = vec![uuid.as_str()];
        a.extend(args.iter().copied());
        laptop.ok(&a);
        vikunja_task(&sys, &format!("{args:?}"), move |t| {
            t.id == id && in_vikunja(t)
        })
        .await;
        wait_task(desk, &format!("{args:?}"), on_desk).await;
        let calls = sys.sim.calls();
        let expected = if args.contains(&"project:Home.Kitchen") {
            2
        } else {
            1
        };
        assert_eq!(calls.len(), expected, "{args:?}: {calls:?}");
    }
    let kitchen = sys
        .sim
        .projects()
        .into_iter()
        .find(|p| p.title == "Kitchen")
        .expect("project created");
    assert_eq!(kitchen.parent_project_id, project_id(&sys, "Home"));

    sys.sim.clear_requests();
    laptop.ok(&[&uuid, "delete"]);
    let sim = sys.sim.clone();
    vsync_harness::wait_for("the delete in Vikunja", PROPAGATION, move || {
        sim.task(id).is_none().then_some(())
    })
    .await;
    wait_task(desk, "deleted", |t| {
        s(t, "description") == "Buy oat milk" && s(t, "status") == "deleted"
    })
    .await;
    assert_eq!(sys.sim.calls(), ["DELETE /api/v1/tasks/{id}"]);
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_we_do_not_map_survive_a_taskwarrior_edit() {
    let sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let t = sys
        .sim
        .create_task_with(home, json!({"title": "Rich task", "hex_color": "ff8800", "percent_done": 0.5,
            "repeat_after": 0, "repeat_mode": 1, "due_date": "2027-01-10T09:00:00Z",
            "reminders": [{"reminder": "2027-01-09T09:00:00Z", "relative_period": 0, "relative_to": ""}]}))
        .unwrap();
    sys.sim.add_assignee(t.id, 2).unwrap();
    let before = sys.sim.task(t.id).unwrap();
    let laptop = sys.host("laptop");
    let local = wait_task(laptop, "the rich task", |t| {
        s(t, "description") == "Rich task"
    })
    .await;
    // Wait until the assignee change reached canonical state too, then edit in Taskwarrior.
    assert!(sys.sim.wait_deliveries_idle(PROPAGATION).await);
    laptop.ok(&[
        s(&local, "uuid"),
        "modify",
        "Rich task, edited",
        "priority:L",
    ]);
    let after = vikunja_task(&sys, "the edit", |t| t.title == "Rich task, edited").await;
    assert_eq!(after.priority, 1);
    assert_eq!(after.hex_color, before.hex_color);
    assert_eq!(after.percent_done, before.percent_done);
    assert_eq!(after.repeat_mode, before.repeat_mode);
    assert_eq!(
        after.assignees.as_ref().map(|a| a.len()),
        Some(1),
        "assignees kept"
    );
    assert_eq!(after.reminders, before.reminders, "reminders kept");
    assert_eq!(after.due_date, before.due_date);
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_own_writes_do_not_echo() {
    // no periodic listing: a delta reconcile between the edit and the marker is calls too
    let sys = System::start(quiet_options(&["laptop", "desk"], &["Home"]))
        .await
        .unwrap();
    webhook_registered(&sys, project_id(&sys, "Home")).await;
    let laptop = sys.host("laptop");
    let mut notices = sys.applied_notices().await.unwrap();
    let uuid = laptop.add(&["No echo", "project:Home"]);
    vikunja_task(&sys, "the task", |t| t.title == "No echo").await;
    // The Vikunja id's import must be done before the edit, or the two writes race (TW 2.6) and
    // the re-apply that heals it is a second, legitimate apply.
    let u = uuid.clone();
    wait_task(laptop, "the Vikunja id", move |t| {
        s(t, "uuid") == u && !t["vikunja_id"].is_null()
    })
    .await;
    wait_task(sys.host("desk"), "the task", |t| {
        s(t, "description") == "No echo"
    })
    .await;
    assert!(sys.sim.wait_deliveries_idle(PROPAGATION).await);
    // Settle: every event so far is processed once the marker below is.
    sys.sim.clear_requests();
    laptop.ok(&[&uuid, "modify", "No echo 2"]);
    vikunja_task(&sys, "the edit", |t| t.title == "No echo 2").await;
    wait_task(sys.host("desk"), "the edit", |t| {
        s(t, "description") == "No echo 2"
    })
    .await;
    assert!(sys.sim.wait_deliveries_idle(PROPAGATION).await);
    // The webhook for our own POST came back; it must not cause another write.
    let marker = sys.sim.create_task(project_id(&sys, "Home"), "marker");
    wait_task(laptop, "the marker", |t| s(t, "description") == "marker").await;
    let _ = marker;
    let calls = sys.sim.calls();
    assert_eq!(
        calls,
        ["PATCH /api/v2/tasks/{id}"],
        "exactly one write, no echo write"
    );
    // The laptop only ever applied the vikunja id for this task (after the add), never an echo.
    let mut laptop_applies = 0;
    while let Ok(Some(a)) = tokio::time::timeout(
        Duration::from_millis(200),
        futures::StreamExt::next(&mut notices),
    )
    .await
    {
        if a.host == "laptop" && a.uuid == uuid {
            laptop_applies += 1;
        }
    }
    assert_eq!(
        laptop_applies, 1,
        "only the Vikunja id was applied back to the laptop"
    );
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_commands_with_every_service_down_are_delivered_in_order_once() {
    let mut sys = system(&["laptop", "desk"], &["Home"]).await;
    webhook_registered(&sys, project_id(&sys, "Home")).await;
    sys.stop_host("laptop").await.unwrap();
    sys.stop_host("desk").await.unwrap();
    sys.stop_server().await.unwrap();
    let laptop = sys.host("laptop");
    for i in 0..50 {
        let out = laptop.task(&["add", &format!("offline {i:02}"), "project:Home"]);
        assert!(
            out.status.success(),
            "task add {i} failed while everything was down"
        );
    }
    sys.start_server().await.unwrap();
    sys.start_host("laptop").await.unwrap();
    sys.start_host("desk").await.unwrap();
    let sim = sys.sim.clone();
    let tasks = vsync_harness::wait_for("all 50 in Vikunja", PROPAGATION, move || {
        let t: Vec<_> = sim
            .tasks()
            .into_iter()
            .filter(|t| t.title.starts_with("offline"))
            .collect();
        (t.len() >= 50).then_some(t)
    })
    .await;
    assert_eq!(tasks.len(), 50, "each once");
    let mut by_id = tasks.clone();
    by_id.sort_by_key(|t| t.id);
    let titles: Vec<String> = by_id.iter().map(|t| t.title.clone()).collect();
    let expected: Vec<String> = (0..50).map(|i| format!("offline {i:02}")).collect();
    assert_eq!(titles, expected, "created in the order they were made");
    wait_task(sys.host("desk"), "the last one", |t| {
        s(t, "description") == "offline 49"
    })
    .await;
    let desk_count = sys
        .host("desk")
        .export()
        .iter()
        .filter(|t| s(t, "description").starts_with("offline"))
        .count();
    assert_eq!(desk_count, 50);
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_conflicting_edits_converge_everywhere_with_a_conflict_log_entry() {
    let mut sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let early = sys.sim.create_task(home, "edited on both sides");
    let late = sys.sim.create_task(home, "edited on both sides, TW last");
    for id in [early.id, late.id] {
        for h in &sys.hosts {
            wait_task(h, "the task", move |t| {
                t["vikunja_id"].as_f64() == Some(id as f64)
            })
            .await;
        }
    }
    let laptop = sys.host("laptop");
    let uuid_of = |id: i64| {
        s(
            &laptop
                .export()
                .into_iter()
                .find(|t| t["vikunja_id"].as_f64() == Some(id as f64))
                .unwrap(),
            "uuid",
        )
        .to_string()
    };
    let (u_early, u_late) = (uuid_of(early.id), uuid_of(late.id));
    // The laptop's watcher is down: its edits wait in the spool, nothing propagates.
    sys.stop_host("laptop").await.unwrap();
    let laptop = sys.host("laptop");
    laptop.ok(&[&u_early, "modify", "laptop title A"]);
    sys.sim
        .update_task(early.id, |t| t.title = "vikunja title A".into());
    sys.sim
        .update_task(late.id, |t| t.title = "vikunja title B".into());
    // One second later for distinct stamps (Vikunja dates have one-second resolution).
    let sim = sys.sim.clone();
    let after = sys.sim.task(late.id).unwrap().updated;
    vsync_harness::wait_for(
        "the clock to pass Vikunja's stamp",
        Duration::from_secs(5),
        move || {
            let _ = &sim;
            (time::OffsetDateTime::now_utc() - after >= time::Duration::seconds(1)).then_some(())
        },
    )
    .await;
    laptop.ok(&[&u_late, "modify", "laptop title B"]);
    sys.start_host("laptop").await.unwrap();
    // Earlier edit loses to the later Vikunja edit; the later TW edit wins over Vikunja's.
    vikunja_task(&sys, "the TW-last title", move |t| {
        t.id == late.id && t.title == "laptop title B"
    })
    .await;
    for h in &sys.hosts {
        wait_task(h, "the Vikunja-last title", |t| {
            s(t, "description") == "vikunja title A"
        })
        .await;
        wait_task(h, "the TW-last title", |t| {
            s(t, "description") == "laptop title B"
        })
        .await;
    }
    assert_eq!(sys.sim.task(early.id).unwrap().title, "vikunja title A");
    let conflicts = sys.bus.recent_conflicts(20).await.unwrap();
    let a = conflicts
        .iter()
        .find(|c| c.uuid == u_early && c.field == "description")
        .expect("conflict logged for A");
    assert_eq!(
        (a.kept_value.as_str(), a.lost_value.as_str()),
        ("vikunja title A", "laptop title A")
    );
    let b = conflicts
        .iter()
        .find(|c| c.uuid == u_late && c.field == "description")
        .expect("conflict logged for B");
    assert_eq!(
        (b.kept_value.as_str(), b.lost_value.as_str()),
        ("laptop title B", "vikunja title B")
    );
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_install_says_what_it_did_and_uninstall_removes_only_ours() {
    let host = vsync_harness::TwHost::new("install");
    std::fs::write(host.hooks_dir().join("on-exit.other"), "#!/bin/sh\n").unwrap();
    let report = vikunja_sync::hook::install(
        &host.data_dir(),
        Some(&host.taskrc()),
        Some(&hook_bin()),
        false,
    )
    .unwrap();
    assert!(report.contains("on-exit.vikunja-sync"), "{report}");
    assert!(host.hooks_dir().join("on-exit.vikunja-sync").exists());
    let rc = std::fs::read_to_string(host.taskrc()).unwrap();
    assert_eq!(
        rc.matches("uda.vikunja_id.type").count(),
        1,
        "UDA declared once"
    );
    let report = vikunja_sync::hook::remove(&host.data_dir()).unwrap();
    assert!(report.contains("on-exit.vikunja-sync"), "{report}");
    assert!(!host.hooks_dir().join("on-exit.vikunja-sync").exists());
    assert!(
        host.hooks_dir().join("on-exit.other").exists(),
        "other hooks untouched"
    );
}

/// The other half of the race, made deterministic: a user command ran while one of our imports
/// did, its hook reported the change, but our import rewrote the file from a read taken before
/// it (Taskwarrior 2.6). The change must reach Vikunja and come back into the file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_change_our_import_overwrote_is_restored() {
    let sys = system(&["laptop"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let laptop = sys.host("laptop");
    let local = laptop.add(&["mine", "project:Home"]);
    vikunja_task(&sys, "mine", |t| t.title == "mine").await;
    let remote = sys.sim.create_task(home, "theirs");
    wait_task(laptop, "theirs", |t| s(t, "description") == "theirs").await;
    let started_us = vsync_hook_wire::now_us();
    sys.sim
        .update_task(remote.id, |t| t.title = "theirs renamed".into());
    wait_task(laptop, "the rename", |t| {
        s(t, "description") == "theirs renamed"
    })
    .await;
    // What the user's `modify` wrote and its hook reported; the file no longer has it.
    let mut changed = laptop.get(&local).expect("mine on laptop");
    changed["priority"] = json!("H");
    changed["modified"] = json!(vsync_model::dates::format_tw(
        vsync_hook_wire::now_us() / 1_000_000,
    ));
    let mut message = vsync_hook_wire::HookMessage::new(
        vsync_hook_wire::HookEvent::Exit,
        "modify",
        vec![changed],
        vec![],
    );
    message.started_us = Some(started_us);
    vsync_hook_wire::send_to_watcher(
        &message.to_line(),
        &vsync_hook_wire::socket_path(&laptop.data_dir()),
    )
    .expect("the watcher takes the message");
    vikunja_task(&sys, "the user's priority", |t| {
        t.title == "mine" && t.priority == 3
    })
    .await;
    wait_task(laptop, "the user's priority back in the file", |t| {
        s(t, "description") == "mine" && s(t, "priority") == "H"
    })
    .await;
    sys.shutdown().await.unwrap();
}

/// Taskwarrior 2.6 loses one of two concurrent writes (it rewrites the whole file): user
/// commands racing our imports must still end with every change everywhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_commands_racing_imports_lose_nothing() {
    let sys = system(&["laptop"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let remote: Vec<i64> = (0..10)
        .map(|i| sys.sim.create_task(home, &format!("remote {i}")).id)
        .collect();
    let laptop = sys.host("laptop");
    let local: Vec<String> = (0..10)
        .map(|i| laptop.add(&[&format!("local {i}"), "project:Home"]))
        .collect();
    for i in 0..10 {
        let (r, l) = (format!("remote {i}"), format!("local {i}"));
        wait_task(laptop, "remote", move |t| s(t, "description") == r).await;
        vikunja_task(&sys, "local", move |t| t.title == l).await;
    }
    let (bin, rc, data) = (
        laptop.task_bin().to_path_buf(),
        laptop.taskrc(),
        laptop.data_dir(),
    );
    let user = tokio::task::spawn_blocking(move || {
        for u in &local {
            let out = std::process::Command::new(&bin)
                .args([u.as_str(), "modify", "priority:H"])
                .env("TASKRC", &rc)
                .env("TASKDATA", &data)
                .output()
                .unwrap();
            assert!(out.status.success());
        }
    });
    for (i, id) in remote.iter().enumerate() {
        sys.sim
            .update_task(*id, |t| t.title = format!("remote {i} renamed"));
    }
    user.await.unwrap();
    for i in 0..10 {
        let (r, l) = (format!("remote {i} renamed"), format!("local {i}"));
        wait_task(laptop, "the rename", move |t| s(t, "description") == r).await;
        let l2 = l.clone();
        wait_task(laptop, "the user's priority", move |t| {
            s(t, "description") == l2 && s(t, "priority") == "H"
        })
        .await;
        vikunja_task(&sys, "the user's priority", move |t| {
            t.title == l && t.priority == 3
        })
        .await;
    }
    sys.shutdown().await.unwrap();
}
