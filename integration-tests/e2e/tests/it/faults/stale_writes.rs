//! Stale writes (issue 12, item 4): a Vikunja edit whose webhook never arrived is not reverted
//! when Taskwarrior changes the same task, because the write carries only what changed (a v2
//! merge patch from Vikunja 2.4) or is built on a fresh read (before 2.4).

use std::time::Duration;

use vikunja_sim::{Deliveries, DeliveryFault, SimConfig, When};
use vsync_e2e::faults::{Measure, Sides, Want};
use vsync_e2e::*;

use super::everywhere;

const FAMILY: &str = "stale writes";
/// 2027-03-01T10:00:00Z.
const DUE: i64 = 1_803_895_200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vikunja_edit_whose_webhook_was_lost_survives_a_taskwarrior_edit() {
    for (version, case) in [
        (
            "v2.4.0",
            "a Vikunja edit unheard of, then a host edit (v2 merge patch)",
        ),
        (
            "v2.3.0",
            "a Vikunja edit unheard of, then a host edit (v1 read, then POST)",
        ),
    ] {
        let mut o = options(
            &["laptop", "desk"],
            &["Home"],
            SimConfig {
                version: version.into(),
                ..SimConfig::default()
            },
        );
        // No pass may hear of the Vikunja edit before the host's write: only the write path
        // can keep it.
        o.reconcile_interval = Duration::from_secs(3600);
        let sys = System::start(o).await.unwrap();
        let home = project_id(&sys, "Home");
        webhook_registered(&sys, home).await;
        let id = sys.sim.create_task(home, "edited on both sides").id;
        everywhere(&sys, "edited on both sides").await;
        let laptop = sys.host("laptop");
        let uuid = s(&wait_task(laptop, "the task", has_vid(id)).await, "uuid").to_string();

        let m = Measure::new(
            FAMILY,
            case,
            "the task.updated webhook of a Vikunja edit (title, priority, percent done) dropped; \
             then a due date set on laptop",
        );
        let lost = sys.sim.inject_delivery(
            Deliveries::of("task.updated"),
            DeliveryFault::Drop,
            When::Next(1),
        );
        sys.sim
            .update_task(id, |t| {
                t.title = "renamed in Vikunja".into();
                t.priority = 3;
                t.percent_done = 0.7;
            })
            .expect("the task exists");
        assert!(sys.sim.wait_deliveries_idle(PROPAGATION).await);
        assert_eq!(
            sys.sim.fault_hits(lost),
            1,
            "the Vikunja edit's webhook was dropped"
        );
        laptop.ok(&[&uuid, "modify", "due:2027-03-01T10:00:00Z"]);
        let sim = sys.sim.clone();
        vsync_harness::wait_for("laptop's due date in Vikunja", PROPAGATION, move || {
            sim.tasks()
                .into_iter()
                .any(|t| t.id == id && t.due_date.unix_timestamp() == DUE)
                .then_some(())
        })
        .await;
        let t = sys
            .sim
            .tasks()
            .into_iter()
            .find(|t| t.id == id)
            .expect("the task exists");
        assert_eq!(
            (t.title.as_str(), t.priority, t.percent_done),
            ("renamed in Vikunja", 3, 0.7),
            "{version}: the host's write took back the Vikunja edit"
        );
        // A pass brings the Vikunja edit to the hosts; nothing else differs anywhere.
        reconcile_now(&test_bus(&sys).await, true).await;
        let wants = [Want::task("Home", "renamed in Vikunja")
            .priority("H")
            .due(DUE)];
        m.converge(&Sides::of(&sys), &wants, Duration::from_secs(20))
            .await;
        sys.shutdown().await.unwrap();
    }
}
