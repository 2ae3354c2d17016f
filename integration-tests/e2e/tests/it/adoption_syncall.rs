//! Switching over from syncall: its correlation file links tasks by CalDAV UID where project
//! and title alone are ambiguous; webhooks pointing elsewhere are listed, removed on request.

use vikunja_sync_demo::System;
use vsync_e2e::*;

/// syncall's `<combination>.yaml` as PyYAML writes a `bidict` (0.21): uuid -> UID under
/// `_fwdm`, the inverse beside it.
fn syncall_file(pairs: &[(&str, &str)]) -> String {
    let mut out = String::from("Tw_caldav_ids: !!python/object:bidict.bidict\n  _fwdm: &id001\n");
    for (uuid, uid) in pairs {
        out += &format!("    {uuid}: {uid}\n");
    }
    out += "  _inv: !!python/object:bidict.bidict\n    _fwdm: &id002\n";
    for (uuid, uid) in pairs {
        out += &format!("      {uid}: {uuid}\n");
    }
    out += "    _inv: null\n    _invm: *id001\n  _invm: *id002\n";
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn syncall_pairs_link_by_uid_where_titles_are_ambiguous_and_foreign_webhooks_go_on_request() {
    let mut o = options(&["laptop", "desk"], &["Home"], Default::default());
    o.adopt_auto = false;
    o.vikunja_tasks.push(("Home".into(), "twice".into()));
    o.vikunja_tasks.push(("Home".into(), "twice".into()));
    for _ in 0..2 {
        o.host_tasks
            .push(("laptop".into(), vec!["twice".into(), "project:Home".into()]));
    }
    let sys = System::start(o).await.unwrap();
    let home = project_id(&sys, "Home");
    let twins: Vec<i64> = sys.sim.tasks().iter().map(|t| t.id).collect();
    sys.sim
        .set_caldav_uid(twins[0], "uid-first@syncall")
        .unwrap();
    sys.sim
        .set_caldav_uid(twins[1], "uid-second@syncall")
        .unwrap();
    let locals: Vec<String> = sys
        .host("laptop")
        .export()
        .iter()
        .map(|t| s(t, "uuid").to_string())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Personal__None__sync.yaml"),
        syncall_file(&[
            (&locals[0], "uid-first@syncall"),
            (&locals[1], "uid-second@syncall"),
            ("0a1b2c3d-0000-4000-8000-000000000009", "uid-gone@syncall"),
        ]),
    )
    .unwrap();
    // A webhook another tool left on the project.
    let foreign: serde_json::Value = reqwest::Client::new()
        .put(format!(
            "{}/api/v1/projects/{home}/webhooks",
            sys.sim.base_url()
        ))
        .bearer_auth(sys.sim.token())
        .json(&serde_json::json!({
            "target_url": "http://old-sync.example/hook",
            "events": ["task.updated"],
        }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let foreign_id = foreign["id"].as_i64().unwrap();

    let bus = test_bus(&sys).await;
    let req = vsync_bus::control::AdoptRequest {
        syncall: vikunja_sync::ctl::syncall_links(dir.path()).unwrap(),
        ..Default::default()
    };
    let done = vikunja_sync::ctl::adopt_with(&bus, req, false)
        .await
        .unwrap();
    assert_eq!(done.syncall_matched, 2, "{done}");
    assert_eq!(done.syncall_unmatched.len(), 1, "{done}");
    assert!(done.held.is_empty(), "nothing ambiguous left: {done}");
    assert_eq!(done.foreign_webhooks.len(), 1, "{done}");
    assert!(!done.foreign_webhooks_removed);

    // Each laptop "twice" carries the Vikunja id its UID named; the desk gets both; no copy.
    for (uuid, id) in locals.iter().zip(&twins) {
        let (uuid, id) = (uuid.clone(), *id);
        wait_task(sys.host("laptop"), "the pair linked by UID", move |t| {
            s(t, "uuid") == uuid && t["vikunja_id"].as_f64() == Some(id as f64)
        })
        .await;
        wait_task(sys.host("desk"), "the pair on the desk", has_vid(id)).await;
    }
    assert_eq!(sys.sim.tasks().len(), 2, "nothing created in Vikunja");
    let pending = |h: &vsync_harness::TwHost| {
        h.export()
            .iter()
            .filter(|t| s(t, "status") == "pending")
            .count()
    };
    assert_eq!(
        (pending(sys.host("laptop")), pending(sys.host("desk"))),
        (2, 2)
    );

    // With --remove-foreign-webhooks the other tool's webhook goes; ours stays.
    let req = vsync_bus::control::AdoptRequest {
        remove_foreign_webhooks: true,
        ..Default::default()
    };
    let again = vikunja_sync::ctl::adopt_with(&bus, req, false)
        .await
        .unwrap();
    assert!(again.foreign_webhooks_removed, "{again}");
    let hooks = sys.sim.webhooks(home);
    assert!(!hooks.iter().any(|h| h.id == foreign_id), "{hooks:?}");
    assert!(!hooks.is_empty(), "ours stays");
    sys.shutdown().await.unwrap();
}
