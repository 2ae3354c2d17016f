//! Content one side holds that must not reach the other as it is: control characters (a
//! Vikunja title's ESC would reach the user's terminal through `task list`), in both directions;
//! a field too large for the bus is refused with a dead letter that names it and its size, on
//! either side, and the next change still flows (no crash, no blocked host).

use std::io::Write as _;

use serde_json::json;
use vsync_e2e::*;

/// What a terminal would act on: C0 and C1 controls, DEL, NUL.
fn has_controls(s: &str) -> bool {
    s.chars().any(char::is_control)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_from_vikunja_never_reach_taskwarrior() {
    let sys = system(&["laptop"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let t = sys
        .sim
        .create_task_with(
            home,
            json!({"title": "Pay\u{1b}[2J rent\u{0}\u{9b}31m",
                "description": "<p>call &#x1b;]0;owned&#x7; bob</p>"}),
        )
        .unwrap();
    let laptop = sys.host("laptop");
    let got = wait_task(laptop, "the task", has_vid(t.id)).await;
    assert_eq!(s(&got, "description"), "Pay[2J rent31m");
    assert_eq!(annotations(&got), ["call ]0;owned bob"]);
    // And raw, as `task list` would print it.
    let raw = laptop.ok(&["rc.hooks=off", "export"]);
    assert!(!raw.contains('\u{1b}') && !raw.contains('\u{9b}'), "{raw}");
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn control_characters_from_taskwarrior_never_reach_vikunja() {
    let sys = system(&["laptop"], &["Home"]).await;
    webhook_registered(&sys, project_id(&sys, "Home")).await;
    let laptop = sys.host("laptop");
    // Another tool's import (a `task add` argument cannot carry them), hooks on.
    let mut import = std::process::Command::new(laptop.task_bin())
        .args(["import", "-"])
        .env("TASKRC", laptop.taskrc())
        .env("TASKDATA", laptop.data_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let task = json!([{"uuid": "0b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a13", "status": "pending",
        "entry": "20260101T000000Z", "project": "Home", "tags": ["te\u{1b}a"],
        "description": "Tidy\u{1b}[1m up\u{7}\u{9b}",
        "annotations": [{"entry": "20260101T000001Z", "description": "note\u{1b}[0m"}]}]);
    let mut stdin = import.stdin.take().unwrap();
    stdin.write_all(task.to_string().as_bytes()).unwrap();
    drop(stdin);
    assert!(import.wait().unwrap().success());
    let sim = sys.sim.clone();
    let t = vsync_harness::wait_for("the task in Vikunja", PROPAGATION, move || {
        sim.tasks()
            .into_iter()
            .find(|t| t.title.starts_with("Tidy"))
    })
    .await;
    assert_eq!(t.title, "Tidy[1m up");
    assert_eq!(t.description, "<p>note[0m</p>");
    assert!(!has_controls(&t.title) && !has_controls(&t.description));
    let sim = sys.sim.clone();
    let labels = vsync_harness::wait_for("the label", PROPAGATION, move || {
        let l: Vec<String> = sim
            .tasks()
            .into_iter()
            .find(|x| x.id == t.id)?
            .labels?
            .into_iter()
            .map(|l| l.title)
            .collect();
        (!l.is_empty()).then_some(l)
    })
    .await;
    assert_eq!(labels, ["tea"]);
    sys.shutdown().await.unwrap();
}

/// Waits for a dead letter whose reason contains `needle`.
async fn dead_letter(sys: &System, needle: &str) -> vsync_proto::DeadLetter {
    vsync_harness::wait_for_async(
        &format!("a dead letter about {needle}"),
        PROPAGATION,
        || async {
            let recent = sys.bus.recent_dead_letters(10).await.ok()?;
            recent.into_iter().find(|d| d.reason.contains(needle))
        },
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_field_is_a_dead_letter_naming_it_and_the_next_change_flows() {
    let sys = System::start(quiet_options(&["laptop"], &["Home"]))
        .await
        .unwrap();
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let big = vsync_model::limits::MAX_FIELD_BYTES + 1000;

    // from Vikunja: a description past the limit
    let huge = sys
        .sim
        .create_task_with(
            home,
            json!({"title": "Huge notes", "description": "x".repeat(big)}),
        )
        .unwrap();
    let d = dead_letter(&sys, &format!("Vikunja task {}", huge.id)).await;
    assert!(
        d.reason
            .contains(&format!("the description is {big} bytes, over the limit")),
        "{}",
        d.reason
    );

    // from Taskwarrior: a description past the limit
    let laptop = sys.host("laptop");
    let long = "y".repeat(big);
    let uuid = laptop.add(&[&long, "project:Home"]);
    let d = dead_letter(&sys, &format!("task {uuid}")).await;
    assert!(
        d.reason.contains(&format!("description is {}", long.len())),
        "{}",
        d.reason
    );
    assert!(d.payload.len() <= 4096, "the dead letter holds an excerpt");

    // neither side is stuck
    sys.sim.create_task(home, "After the huge one");
    wait_task(laptop, "the next Vikunja change", |t| {
        s(t, "description") == "After the huge one"
    })
    .await;
    laptop.add(&["After the long one", "project:Home"]);
    let sim = sys.sim.clone();
    vsync_harness::wait_for(
        "the next Taskwarrior change in Vikunja",
        PROPAGATION,
        move || {
            sim.tasks()
                .into_iter()
                .find(|t| t.title == "After the long one")
        },
    )
    .await;
    assert!(
        laptop
            .export()
            .iter()
            .all(|t| s(t, "description") != "Huge notes")
    );
    assert!(sys.sim.tasks().iter().all(|t| t.title.len() < big));
    sys.shutdown().await.unwrap();
}
