//! Reconciliation and repair: heal what events miss, never duplicate.

use std::time::Duration;

use vsync_e2e::*;

async fn reconcile(sys: &System, full: bool) -> vsync_bus::reports::ReconcileReply {
    reconcile_now(&test_bus(sys).await, full).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_webhook_is_healed_by_the_next_reconcile() {
    let sys = System::start(quiet_options(&["laptop", "desk"], &["Home"]))
        .await
        .unwrap();
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let t = sys.sim.create_task(home, "before");
    for h in &sys.hosts {
        wait_task(h, "the task", |t| s(t, "description") == "before").await;
    }
    sys.sim.set_webhook_delivery(false);
    sys.sim
        .update_task(t.id, |t| t.title = "after, no webhook".into());
    let r = reconcile(&sys, false).await;
    assert_eq!(r.vikunja.as_ref().unwrap().changed.len(), 1, "{r}");
    for h in &sys.hosts {
        wait_task(h, "the healed change", |t| {
            s(t, "description") == "after, no webhook"
        })
        .await;
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_periodic_delta_poll_heals_a_dropped_webhook_by_itself() {
    let mut o = quiet_options(&["laptop"], &["Home"]);
    o.reconcile_interval = Duration::from_secs(1);
    let sys = System::start(o).await.unwrap();
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    sys.sim.set_webhook_delivery(false);
    sys.sim.create_task(home, "only the poll sees me");
    wait_task(sys.host("laptop"), "the polled task", |t| {
        s(t, "description") == "only the poll sees me"
    })
    .await;
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_deleted_without_a_webhook_is_deleted_on_both_hosts_by_the_next_full_listing() {
    let sys = System::start(quiet_options(&["laptop", "desk"], &["Home"]))
        .await
        .unwrap();
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let child = sys.sim.create_project("Shed", home);
    let a = sys.sim.create_task(home, "delete me quietly");
    let b = sys.sim.create_task(child.id, "in a sub-project");
    for h in &sys.hosts {
        wait_task(h, "a", |t| s(t, "description") == "delete me quietly").await;
        wait_task(h, "b", |t| s(t, "description") == "in a sub-project").await;
    }
    sys.sim.set_webhook_delivery(false);
    assert!(sys.sim.delete_task(a.id));
    // A deleted sub-project: its project.deleted reaches only its own webhooks (none).
    sys.sim.set_webhook_delivery(true);
    assert!(sys.sim.delete_project(child.id));
    let _ = b;
    let r = reconcile(&sys, true).await;
    assert_eq!(r.vikunja.as_ref().unwrap().deleted, 2, "{r}");
    for h in &sys.hosts {
        wait_task(h, "a deleted", |t| {
            s(t, "description") == "delete me quietly" && s(t, "status") == "deleted"
        })
        .await;
        wait_task(h, "b deleted", |t| {
            s(t, "description") == "in a sub-project" && s(t, "status") == "deleted"
        })
        .await;
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hooks_off_edit_reaches_vikunja_and_the_other_host_by_the_next_reconcile() {
    let sys = System::start(quiet_options(&["laptop", "desk"], &["Home"]))
        .await
        .unwrap();
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let t = sys.sim.create_task(home, "edit me behind the hook's back");
    let local = wait_task(sys.host("laptop"), "the task", |t| {
        s(t, "description") == "edit me behind the hook's back"
    })
    .await;
    wait_task(sys.host("desk"), "the task", |t| {
        s(t, "description") == "edit me behind the hook's back"
    })
    .await;
    sys.host("laptop").ok(&[
        "rc.hooks=off",
        s(&local, "uuid"),
        "modify",
        "edited with hooks off",
        "priority:H",
    ]);
    let r = reconcile(&sys, false).await;
    let laptop = r
        .hosts
        .iter()
        .filter_map(|h| h.as_ref().ok())
        .find(|h| h.host == "laptop")
        .expect("laptop answered");
    assert_eq!(laptop.published, 1, "{r}");
    let sim = sys.sim.clone();
    vsync_harness::wait_for("the edit in Vikunja", PROPAGATION, move || {
        sim.task(t.id)
            .filter(|t| t.title == "edited with hooks off" && t.priority == 3)
    })
    .await;
    wait_task(sys.host("desk"), "the edit", |t| {
        s(t, "description") == "edited with hooks off"
    })
    .await;
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_no_op_reconcile_lists_once_exports_once_per_host_and_writes_nothing() {
    let projects: Vec<String> = (0..10).map(|p| format!("P{p}")).collect();
    let refs: Vec<&str> = projects.iter().map(String::as_str).collect();
    let mut o = quiet_options(&["laptop", "desk"], &refs);
    o.adopt_auto = false;
    for p in &projects {
        for i in 0..100 {
            o.vikunja_tasks.push((p.clone(), format!("{p} task {i}")));
        }
    }
    let sys = System::start(o).await.unwrap();
    let bus = test_bus(&sys).await;
    let adopted = vikunja_sync::ctl::adopt(&bus, false, false).await.unwrap();
    assert_eq!(adopted.create_in_taskwarrior.len(), 1000);
    // The setup, not what this test measures: 2.6 imports the 1000 tasks in about 2 s; 3.5's
    // `task import` slows down as the database grows (issue 15), about a minute on 2 busy cores.
    for h in &sys.hosts {
        let (bin, rc, data) = (h.task_bin().to_path_buf(), h.taskrc(), h.data_dir());
        vsync_harness::wait_for("1000 tasks", Duration::from_secs(300), move || {
            (export(&bin, &rc, &data).len() == 1000).then_some(())
        })
        .await;
    }
    // Let the hosts' own first passes and every apply finish, then measure one pass.
    reconcile(&sys, true).await;
    let js = jetstream(&sys).await;
    let mut kv = js.get_stream(vsync_bus::TASKS_STREAM).await.unwrap();
    let writes_before = kv.info().await.unwrap().state.last_sequence;
    sys.sim.clear_requests();
    let r = reconcile(&sys, true).await;
    let v = r.vikunja.as_ref().unwrap();
    assert_eq!(v.listed, 1000, "{r}");
    assert!(
        v.changed.is_empty() && v.created == 0 && v.deleted == 0,
        "{r}"
    );
    let routes = sys.sim.calls();
    assert!(
        routes.iter().all(|q| q.starts_with("GET ")),
        "no writes: {routes:?}"
    );
    let listing = routes
        .iter()
        .filter(|q| q.ends_with("/projects/{id}/tasks"))
        .count();
    // One paged listing: 10 projects x 2 pages of 50, and the (empty) default project's page.
    assert_eq!(listing, 21, "{routes:?}");
    assert_eq!(routes.len(), 22, "plus the project list: {routes:?}");
    assert_eq!(r.hosts.len(), 2);
    for h in &r.hosts {
        let h = h.as_ref().expect("every host reconciled");
        assert_eq!((h.task_runs, h.published, h.applied), (1, 0, 0), "{h}");
    }
    assert_eq!(
        kv.info().await.unwrap().state.last_sequence,
        writes_before,
        "no canonical writes"
    );
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repair_rebuilds_lost_correlations() {
    let sys = System::start(quiet_options(&["laptop"], &["Home"]))
        .await
        .unwrap();
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let t = sys.sim.create_task(home, "correlated");
    wait_task(sys.host("laptop"), "the task", |t| {
        s(t, "description") == "correlated"
    })
    .await;
    let bus = test_bus(&sys).await;
    bus.unlink(t.id).await.unwrap();
    let r = vikunja_sync::ctl::repair(&bus).await.unwrap();
    assert_eq!(r.links_fixed, 1, "{r}");
    assert!(r.mismatches.is_empty() && r.unknown.is_empty(), "{r}");
    assert!(bus.linked_uuid(t.id).await.unwrap().is_some());
    sys.shutdown().await.unwrap();
}
