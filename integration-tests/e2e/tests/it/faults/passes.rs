//! Reconcile passes under faults: what only a pass can heal (a lost deletion webhook) is healed
//! by the periodic passes on their own, and one failing task does not stop a pass.

use std::time::Duration;

use vikunja_sim::{Deliveries, DeliveryFault, SimConfig, When};
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
