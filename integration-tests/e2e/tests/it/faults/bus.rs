//! The bus going away: nats-server restarted (same port, same store) in the middle of a burst
//! of webhooks and hook messages. Every service reconnects, and every change arrives once.

use std::time::Duration;

use vsync_e2e::faults::{Measure, Sides, Want};
use vsync_e2e::*;

const FAMILY: &str = "bus";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nats_restart_during_a_burst_of_webhooks_and_hook_messages_loses_nothing() {
    let mut sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let m = Measure::new(
        FAMILY,
        "NATS restarted during a burst",
        "nats-server killed and started again (same port and store) after 10 of 20 Vikunja \
         changes and 20 `task add`s on two hosts",
    );
    let mut wants = Vec::new();
    for i in 0..20 {
        if i == 10 {
            sys.nats.restart();
        }
        let made = format!("made in Vikunja {i}");
        sys.sim.create_task(home, &made);
        wants.push(Want::task("Home", &made));
        let host = &sys.hosts[i % 2];
        let added = format!("added on {} {i}", host.name);
        host.ok(&["add", &added, "project:Home"]);
        wants.push(Want::task("Home", &added));
    }
    m.converge(&Sides::of(&sys), &wants, Duration::from_secs(60))
        .await;
    sys.shutdown().await.unwrap();
}
