//! A rotated API token: Vikunja's 401 makes the reconciler read the token file again; while
//! the file holds no token Vikunja accepts, `status` says so and the change waits (no dead
//! letter); once the file holds a good one, the change goes through.

use vsync_e2e::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_is_reported_and_the_change_waits_until_the_file_holds_a_good_one() {
    let sys = System::start(quiet_options(&["laptop"], &["Home"]))
        .await
        .unwrap();
    webhook_registered(&sys, project_id(&sys, "Home")).await;
    let token_file = sys.server.vikunja.token_file.clone().unwrap();

    // the user regenerated the token in Vikunja; the file still holds the old one
    let new = sys.sim.rotate_token();
    sys.host("laptop")
        .add(&["Waits for a token", "project:Home"]);
    let report = vsync_harness::wait_for_async("status: token rejected", PROPAGATION, || async {
        let r = sys.bus.status(0).await.ok()?;
        r.token_rejected_since_us.is_some().then_some(r)
    })
    .await;
    assert!(
        report
            .to_string()
            .contains("Vikunja rejected the API token"),
        "{report}"
    );
    assert_eq!(
        report.dead_letters, 0,
        "the change waits, it is no dead letter"
    );
    assert!(
        sys.sim
            .tasks()
            .iter()
            .all(|t| t.title != "Waits for a token")
    );

    // rotated in place: the next attempt reads it and the change arrives
    std::fs::write(&token_file, format!("{new}\n")).unwrap();
    let sim = sys.sim.clone();
    vsync_harness::wait_for("the change in Vikunja", PROPAGATION, move || {
        sim.tasks()
            .into_iter()
            .find(|t| t.title == "Waits for a token")
    })
    .await;
    vsync_harness::wait_for_async("status: token accepted", PROPAGATION, || async {
        let r = sys.bus.status(0).await.ok()?;
        r.token_rejected_since_us.is_none().then_some(())
    })
    .await;
    assert_eq!(sys.bus.status(0).await.unwrap().dead_letters, 0);
    sys.shutdown().await.unwrap();
}
