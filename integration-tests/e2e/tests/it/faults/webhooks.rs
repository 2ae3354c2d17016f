//! Webhooks as Vikunja really sends them: several copies of each, and out of order. Neither
//! duplicates a task nor takes a newer change back.

use std::time::Duration;

use vikunja_sim::Release;
use vsync_e2e::faults::{Measure, Sides, Want};
use vsync_e2e::*;

use super::everywhere;

const FAMILY: &str = "webhooks";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_webhook_delivered_three_times_duplicates_nothing() {
    let sys = quiet_system().await;
    let home = project_id(&sys, "Home");
    let m = Measure::new(
        FAMILY,
        "every webhook delivered 3 times",
        "each delivery sent three times (Vikunja #1724): two tasks made, one edited twice and done",
    );
    sys.sim.set_duplicate_deliveries(3);
    let a = sys.sim.create_task(home, "delivered thrice");
    sys.sim.create_task(home, "also thrice");
    sys.sim.update_task(a.id, |t| t.priority = 2);
    sys.sim.update_task(a.id, |t| t.done = true);
    let wants = [
        Want::task("Home", "delivered thrice").priority("M").done(),
        Want::task("Home", "also thrice"),
    ];
    m.converge(&Sides::of(&sys), &wants, Duration::from_secs(20))
        .await;
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_delivered_newest_first_take_no_change_back() {
    let sys = quiet_system().await;
    let home = project_id(&sys, "Home");
    let t = sys.sim.create_task(home, "first title");
    everywhere(&sys, "first title").await;
    let m = Measure::new(
        FAMILY,
        "webhooks delivered newest first",
        "three edits within a second held back, then delivered newest first",
    );
    sys.sim.hold_deliveries();
    let edits: [Edit; 3] = [
        Box::new(|t| t.title = "second title".into()),
        Box::new(|t| t.title = "third title".into()),
        Box::new(|t| t.priority = 3),
    ];
    for (held, edit) in edits.into_iter().enumerate() {
        sys.sim.update_task(t.id, edit);
        // Each delivery carries the task as it was right after its own edit.
        let sim = sys.sim.clone();
        vsync_harness::wait_for("the edit's delivery", PROPAGATION, move || {
            (sim.held_deliveries() > held).then_some(())
        })
        .await;
    }
    sys.sim.release_deliveries(Release::Reversed);
    let wants = [Want::task("Home", "third title").priority("H")];
    m.converge(&Sides::of(&sys), &wants, Duration::from_secs(20))
        .await;
    sys.shutdown().await.unwrap();
}

/// One edit of a Vikunja task, made in the simulator.
type Edit = Box<dyn FnOnce(&mut vikunja_sim::Task)>;

/// Two hosts, Home, no periodic passes: only webhooks move Vikunja's changes.
async fn quiet_system() -> System {
    let sys = System::start(quiet_options(&["laptop", "desk"], &["Home"]))
        .await
        .unwrap();
    webhook_registered(&sys, project_id(&sys, "Home")).await;
    sys
}
