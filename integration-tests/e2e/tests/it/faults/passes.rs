//! Reconcile passes under faults: what only a pass can heal (a lost deletion webhook) is healed
//! by the periodic passes on their own, and one failing task does not stop a pass.

use std::time::Duration;

use vikunja_sim::{Deliveries, DeliveryFault, Fault, Requests, SimConfig, When};
use vsync_e2e::faults::{Measure, Sides, Want};
use vsync_e2e::*;

use super::everywhere;

const FAMILY: &str = "reconcile passes";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_deletion_is_found_by_the_full_pass_whose_tick_meets_the_delta_tick() {
    let mut o = options(&["laptop", "desk"], &["Home"], SimConfig::default());
    o.reconcile_interval = Duration::from_secs(1);
    o.full_reconcile_interval = Some(Duration::from_secs(2));
    let sys = System::start(o).await.unwrap();
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    sys.sim.create_task(home, "still here");
    let gone = sys.sim.create_task(home, "deleted, its webhook lost");
    everywhere(&sys, "still here").await;
    everywhere(&sys, "deleted, its webhook lost").await;

    let m = Measure::new(
        FAMILY,
        "full pass tick meets the delta tick",
        "task.deleted webhook dropped; delta every 1 s, full every 2 s, no manual reconcile",
    );
    sys.sim.inject_delivery(
        Deliveries::of("task.deleted"),
        DeliveryFault::Drop,
        When::Always,
    );
    assert!(sys.sim.delete_task(gone.id));
    let wants = [
        Want::task("Home", "still here"),
        Want::task("Home", "deleted, its webhook lost").deleted(),
    ];
    m.converge(&Sides::of(&sys), &wants, Duration::from_secs(20))
        .await;
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_vikunja_refuses_does_not_end_the_pass_before_deletions_are_found() {
    let sys = System::start(quiet_options(&["laptop", "desk"], &["Home", "Poison"]))
        .await
        .unwrap();
    let (home, poison) = (project_id(&sys, "Home"), project_id(&sys, "Poison"));
    webhook_registered(&sys, home).await;
    webhook_registered(&sys, poison).await;
    let refused = sys.sim.create_task(poison, "Vikunja refuses my updates");
    let gone = sys.sim.create_task(home, "deleted quietly");
    everywhere(&sys, "Vikunja refuses my updates").await;
    everywhere(&sys, "deleted quietly").await;

    // Vikunja refuses every update of the task (as it does with a stale cover image), and both
    // sides change it: the pass merges Vikunja's change and has to write the host's.
    // Both update routes: a v2 merge patch (Vikunja >= 2.4, the simulator's default) and the
    // v1 full POST.
    for update in ["POST /api/v1/tasks/{id}", "PATCH /api/v2/tasks/{id}"] {
        sys.sim.inject(
            Requests::to(update).in_project(poison),
            Fault::status(400),
            When::Always,
        );
    }
    sys.sim.set_webhook_delivery(false);
    let local = wait_task(sys.host("laptop"), "the task", |t| {
        s(t, "description") == "Vikunja refuses my updates"
    })
    .await;
    sys.host("laptop")
        .ok(&[s(&local, "uuid"), "modify", "priority:H"]);
    let sim = sys.sim.clone();
    vsync_harness::wait_for("the refused write", PROPAGATION, move || {
        sim.requests()
            .iter()
            .any(|r| matches!(r.method.as_str(), "POST" | "PATCH") && r.status == 400)
            .then_some(())
    })
    .await;
    let due = time::OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
    sys.sim.update_task(refused.id, |t| t.due_date = due);
    assert!(sys.sim.delete_task(gone.id));

    let r = reconcile_now(&test_bus(&sys).await, true).await;
    let pass = r.vikunja.as_ref().expect("the pass itself went through");
    assert_eq!(pass.deleted, 1, "{r}");
    assert_eq!(pass.failed.len(), 1, "{r}");
    // Named by the task's uuid (a small Vikunja id is a substring of most uuids).
    assert_eq!(pass.failed[0].0, s(&local, "uuid"), "{r}");
    for h in &sys.hosts {
        wait_task(h, "the deletion", |t| {
            s(t, "description") == "deleted quietly" && s(t, "status") == "deleted"
        })
        .await;
    }

    // The refusal is one dead letter; once its cause is gone, replaying it converges.
    let bus = test_bus(&sys).await;
    let letters = bus.dead_letters().await.unwrap();
    assert_eq!(letters.len(), 1, "{letters:?}");
    assert_eq!(letters[0].letter.stage, "vikunja-write");
    assert!(letters[0].letter.reason.contains("400"), "{letters:?}");
    let m = Measure::new(
        FAMILY,
        "a task Vikunja refuses during a pass",
        "every update of one task answered 400 while both sides change it and another task is \
         deleted unseen; then the cause removed and the dead letter replayed",
    );
    sys.sim.clear_faults();
    let replayed = vikunja_sync::dead_letters::replay(&bus, None)
        .await
        .unwrap();
    assert_eq!(replayed.replayed.len(), 1, "{replayed}");
    let wants = [
        Want::task("Poison", "Vikunja refuses my updates")
            .priority("H")
            .due(1_900_000_000),
        Want::task("Home", "deleted quietly").deleted(),
    ];
    m.converge(&Sides::of(&sys), &wants, Duration::from_secs(20))
        .await;
    sys.shutdown().await.unwrap();
}
