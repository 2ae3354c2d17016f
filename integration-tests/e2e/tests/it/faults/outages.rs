//! Vikunja unavailable: down since before the reconciler started, and answering 503 and then
//! 429 with `Retry-After` for minutes while both sides keep changing. Every write waits and
//! goes through once Vikunja answers; nothing becomes a dead letter, and the hosts keep
//! syncing with each other meanwhile.

use std::time::Duration;

use vikunja_sim::{Fault, Requests, When};
use vsync_e2e::faults::{Measure, Sides, Want};
use vsync_e2e::*;

use super::{everywhere, full_length};

const FAMILY: &str = "Vikunja outages";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_vikunja_down_since_the_reconciler_started_hosts_sync_and_vikunja_catches_up() {
    let mut sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    sys.sim.create_task(home, "edited while Vikunja is down");
    everywhere(&sys, "edited while Vikunja is down").await;

    let m = Measure::new(
        FAMILY,
        "reconciler started while Vikunja is down",
        "connections refused from before the server services start until after both hosts changed",
    );
    sys.stop_server().await.unwrap();
    sys.sim.go_offline().await;
    sys.start_server().await.unwrap();
    let local = wait_task(sys.host("laptop"), "the task", |t| {
        s(t, "description") == "edited while Vikunja is down"
    })
    .await;
    let laptop = sys.host("laptop");
    laptop.ok(&[s(&local, "uuid"), "modify", "priority:H"]);
    laptop.ok(&["add", "added while Vikunja is down", "project:Home"]);
    // The other host does not wait for Vikunja.
    wait_task(sys.host("desk"), "the edit", |t| {
        s(t, "description") == "edited while Vikunja is down" && s(t, "priority") == "H"
    })
    .await;
    everywhere(&sys, "added while Vikunja is down").await;
    sys.sim.go_online().await.unwrap();
    let wants = [
        Want::task("Home", "edited while Vikunja is down").priority("H"),
        Want::task("Home", "added while Vikunja is down"),
    ];
    m.converge(&Sides::of(&sys), &wants, Duration::from_secs(60))
        .await;
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vikunja_answering_503_then_429_for_minutes_while_both_sides_change_loses_nothing() {
    // Three minutes in scripts/faults.sh; 20 seconds in the everyday suite.
    let outage = full_length(Duration::from_secs(180), Duration::from_secs(20));
    let every = Duration::from_secs(4);
    let sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let rounds = (outage.as_secs() / every.as_secs()) as usize;
    let seeds: Vec<String> = (0..rounds).map(|i| format!("seed {i}")).collect();
    for t in &seeds {
        sys.sim.create_task(home, t);
    }
    let mut seed_uuids = Vec::new();
    for t in &seeds {
        let t = t.clone();
        let on_desk = on_every_host(&sys, "a seed", move |x| s(x, "description") == t).await;
        seed_uuids.push(s(&on_desk[1], "uuid").to_string());
    }

    let m = Measure::new(
        FAMILY,
        if full_length(true, false) {
            "503, then 429 with Retry-After, for 3 minutes"
        } else {
            "503, then 429 with Retry-After, for 20 s (compressed)"
        },
        format!(
            "every API request answered 503 for {0:?}, then 429 with Retry-After: 5 for {0:?}; \
             meanwhile every {every:?} a task made in Vikunja, one on laptop, an edit on desk",
            outage / 2
        ),
    );
    let over = tokio::time::Instant::now() + outage;
    sys.sim
        .inject(Requests::all(), Fault::status(503), When::For(outage / 2));
    let sim = sys.sim.clone();
    let limited = tokio::spawn(async move {
        // Pacing the fault, not waiting for an event.
        tokio::time::sleep(outage / 2).await;
        sim.inject(
            Requests::all(),
            Fault::too_many_requests(Duration::from_secs(5)),
            When::For(outage / 2),
        );
    });
    let mut wants: Vec<Want> = Vec::new();
    for (i, seed) in seeds.iter().enumerate() {
        let made = format!("made in Vikunja {i}");
        sys.sim.create_task(home, &made);
        wants.push(Want::task("Home", &made));
        let added = format!("made on laptop {i}");
        sys.host("laptop").ok(&["add", &added, "project:Home"]);
        wants.push(Want::task("Home", &added));
        sys.host("desk")
            .ok(&[seed_uuids[i].as_str(), "modify", "priority:M"]);
        wants.push(Want::task("Home", seed).priority("M"));
        tokio::time::sleep(every).await;
    }
    limited.await.unwrap();
    // The rest of the outage, if the changes took less (pacing, not waiting for an event).
    tokio::time::sleep_until(over).await;
    m.converge(&Sides::of(&sys), &wants, Duration::from_secs(120))
        .await;
    sys.shutdown().await.unwrap();
}
