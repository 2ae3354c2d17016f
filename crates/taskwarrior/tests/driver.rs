//! The driver against a real `task` binary in a throw-away data dir.
#![allow(clippy::unwrap_used)]

use serde_json::json;
use vsync_harness::TwHost;
use vsync_model::TwTask;
use vsync_taskwarrior::Taskwarrior;

fn driver(h: &TwHost) -> Taskwarrior {
    Taskwarrior::new(h.task_bin().into(), h.taskrc(), h.data_dir())
}

#[tokio::test]
async fn import_creates_and_replaces_whole_tasks_and_export_reads_them_back() {
    let host = TwHost::new("driver");
    let tw = driver(&host);
    let uuid = "0b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11";
    let task = TwTask::from_value(json!({
        "uuid": uuid, "description": "café & \"quotes\"", "status": "pending",
        "entry": "20260101T000000Z", "project": "Home.Garden", "tags": ["a b?"],
        "due": "20260301T090000Z", "vikunja_id": 42, "estimate": "PT2H"
    }))
    .unwrap();
    tw.import(std::slice::from_ref(&task)).await.unwrap();
    let got = tw.export_uuids(&[uuid]).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].0["description"], "café & \"quotes\"");
    assert_eq!(got[0].0["due"], "20260301T090000Z");
    assert_eq!(got[0].vikunja_id(), Some(42));
    assert_eq!(got[0].0["estimate"], "PT2H");

    // import replaces the whole task: what is not sent is gone
    let mut smaller = got[0].clone();
    smaller.0.remove("project");
    tw.import(&[smaller]).await.unwrap();
    let all = tw.export_all().await.unwrap();
    assert_eq!(all.len(), 1);
    assert!(all[0].0.get("project").is_none());
    assert_eq!(all[0].0["estimate"], "PT2H");
}

#[tokio::test]
async fn import_does_not_run_hooks() {
    let host = TwHost::new("nohooks");
    let marker = host.data_dir().join("hook-ran");
    let hook = host.hooks_dir().join("on-add.marker");
    std::fs::write(
        &hook,
        format!(
            "#!/bin/sh\ntouch {}\nread line\necho \"$line\"\n",
            marker.display()
        ),
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&hook).unwrap().permissions(),
        0o755,
    );
    let mut perms = std::fs::metadata(&hook).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&hook, perms).unwrap();
    host.ok(&["add", "by the user"]);
    assert!(marker.exists(), "the hook runs for the user's commands");
    std::fs::remove_file(&marker).unwrap();
    let t = TwTask::from_value(json!({
        "uuid": "1b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11", "description": "by the sync",
        "status": "pending", "entry": "20260101T000000Z"
    }))
    .unwrap();
    driver(&host).import(&[t]).await.unwrap();
    assert!(!marker.exists(), "but not for ours");
    assert!(host.find("by the sync").is_some());
}

#[tokio::test]
async fn a_uuid_filter_cannot_be_abused() {
    let host = TwHost::new("filter");
    let err = driver(&host)
        .export_uuids(&["rc.data.location=/tmp"])
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not a task uuid"));
}

/// The import waiting ahead of time reads the data only once it has its input: a task the user
/// added in between is kept.
#[tokio::test]
async fn an_import_started_ahead_of_time_does_not_lose_what_changed_meanwhile() {
    let host = TwHost::new("warm");
    let tw = driver(&host);
    let task = |uuid: &str, d: &str| {
        TwTask::from_value(json!({"uuid": uuid, "description": d, "status": "pending",
            "entry": "20260101T000000Z"}))
        .unwrap()
    };
    tw.import(&[task("2b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11", "first import")])
        .await
        .unwrap();
    // The next import is already waiting; the user works in between.
    host.ok(&["add", "by the user"]);
    host.ok(&["1", "modify", "priority:H"]);
    tw.import(&[task(
        "3b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11",
        "second import",
    )])
    .await
    .unwrap();
    let all = tw.export_all().await.unwrap();
    let names: Vec<&str> = all
        .iter()
        .filter_map(|t| t.0["description"].as_str())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    for d in ["first import", "by the user", "second import"] {
        assert!(names.contains(&d), "{d} lost: {names:?}");
    }
    assert!(
        all.iter().any(|t| t.0.get("priority").is_some()),
        "the user's modify kept"
    );
}

/// Taskwarrior prints a control character inside a string raw, which is no JSON: one such
/// task (another tool imported it) must not make every export of the host unreadable.
#[tokio::test]
async fn an_export_holding_raw_control_characters_is_read() {
    let host = TwHost::new("controls");
    let tw = driver(&host);
    let uuid = "0b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a12";
    let task = TwTask::from_value(json!({
        "uuid": uuid, "description": "Tidy\u{1b}[1m up\u{7}", "status": "pending",
        "entry": "20260101T000000Z"
    }))
    .unwrap();
    tw.import(&[task]).await.unwrap();
    let all = tw.export_all().await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0["description"], "Tidy\u{1b}[1m up\u{7}");
}

/// A task Taskwarrior cannot take (2.6 crashes on it, 3.x refuses it) is a refusal of the
/// input, not a reason to try again later.
#[tokio::test]
async fn a_task_taskwarrior_refuses_fails_its_import_as_a_refusal() {
    let host = TwHost::new("refused");
    let tw = driver(&host);
    let good = TwTask::from_value(json!({
        "uuid": "0b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a13", "description": "fine",
        "status": "pending", "entry": "20260101T000000Z"
    }))
    .unwrap();
    let poison = TwTask::from_value(json!({
        "uuid": "0b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a14", "description": "poison",
        "status": "pending", "entry": "20260101T000000Z", "until": "garbage"
    }))
    .unwrap();
    let e = tw.import(&[good.clone(), poison]).await.unwrap_err();
    assert!(!e.is_transient(), "{e}");
    // 2.6 wrote nothing, 3.x the tasks before the poison one: either way it is safe again.
    tw.import(&[good]).await.unwrap();
    assert_eq!(tw.export_all().await.unwrap().len(), 1);
}

#[tokio::test]
async fn any_write_changes_the_data_stamp_and_a_read_does_not() {
    let host = TwHost::new("stamp");
    let tw = driver(&host);
    let before = tw.data_stamp();
    host.ok(&["add", "one"]);
    // 2.6's first report makes `completed.data`: a write too.
    host.ok(&["list"]);
    let written = tw.data_stamp();
    assert_ne!(before, written);
    tw.export_all().await.unwrap();
    host.ok(&["list"]);
    assert_eq!(written, tw.data_stamp(), "reads leave it");
    host.ok(&["rc.hooks=off", "1", "modify", "priority:H"]);
    assert_ne!(written, tw.data_stamp());
}
