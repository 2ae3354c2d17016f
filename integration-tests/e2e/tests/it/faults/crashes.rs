//! Services killed mid-work (SIGKILL: no drain, nothing acknowledged), each service its own
//! process as in production: the reconciler between a Vikunja create and its link, the
//! webhook ingress after publishing an event and before answering Vikunja. Nothing is lost or
//! made twice.

use std::time::Duration;

use vikunja_sim::Requests;
use vsync_e2e::crash::{NatsRelay, kill9};
use vsync_e2e::faults::{Measure, Sides, Want};
use vsync_e2e::procs::{ProcOptions, ProcSystem};
use vsync_e2e::*;

const FAMILY: &str = "crashes";

async fn processes() -> ProcSystem {
    let opts = ProcOptions {
        reconcile_interval: Some(Duration::from_secs(2)),
        full_reconcile_interval: None,
        ..Default::default()
    };
    let ps = ProcSystem::start_with(&["laptop", "desk"], &["Home"], None, &opts).await;
    let home = ps.sim.projects().into_iter().find(|p| p.title == "Home");
    webhook_registered_in(&ps.sim, home.expect("Home").id).await;
    ps
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciler_killed_between_a_create_and_its_link_makes_the_task_once() {
    let mut ps = processes().await;
    let m = Measure::new(
        FAMILY,
        "kill -9 of the reconciler between a create and its link",
        "SIGKILL to the reconciler once Vikunja made the task, before it got the answer; \
         started again",
    );
    let pid = ps.pid("reconciler");
    ps.sim.after_request(
        Requests::to("PUT /api/v1/projects/{id}/tasks"),
        vikunja_sim::When::Next(1),
        move |_| kill9(pid),
    );
    ps.hosts[0].ok(&["add", "made before the crash", "project:Home"]);
    ps.wait_gone("reconciler").await;
    ps.restart("reconciler", &[]);
    m.converge(
        &Sides::of_procs(&ps),
        &[Want::task("Home", "made before the crash")],
        Duration::from_secs(60),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ingress_killed_after_publishing_and_before_answering_loses_and_repeats_nothing() {
    let mut ps = processes().await;
    let relay = NatsRelay::start(ps.nats.port()).await;
    ps.restart("webhook-ingress", &[("VIKUNJA_SYNC_BUS_URL", &relay.url())]);
    let home = ps.sim.projects().into_iter().find(|p| p.title == "Home");
    let home = home.expect("Home").id;
    let m = Measure::new(
        FAMILY,
        "kill -9 of the ingress after publishing, before answering",
        "SIGKILL to webhook-ingress once the bus stored its event and before the bus's \
         acknowledgement reached it (so Vikunja got no answer and retried); started again",
    );
    relay.hold_answers();
    ps.sim.create_task(home, "published, never answered");
    // Stored: the reconciler took it from the stream and the hosts have it.
    for h in &ps.hosts {
        wait_task(h, "the published task", |t| {
            s(t, "description") == "published, never answered"
        })
        .await;
    }
    kill9(ps.pid("webhook-ingress"));
    ps.wait_gone("webhook-ingress").await;
    let sim = ps.sim.clone();
    let first = vsync_harness::wait_for("the first delivery's end", PROPAGATION, move || {
        sim.deliveries()
            .into_iter()
            .find(|d| d.event_name == "task.created" && d.attempt == 1)
    })
    .await;
    assert!(!first.succeeded(), "Vikunja never heard back: {first:?}");
    relay.release();
    ps.restart("webhook-ingress", &[("VIKUNJA_SYNC_BUS_URL", &relay.url())]);
    m.converge(
        &Sides::of_procs(&ps),
        &[Want::task("Home", "published, never answered")],
        Duration::from_secs(60),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_reconciler_killed_in_the_middle_of_adoption_duplicates_nothing_when_adopt_runs_again()
{
    let mut opts = ProcOptions {
        reconcile_interval: Some(Duration::from_secs(2)),
        adopt_by_hand: true,
        ..Default::default()
    };
    let mut wants = Vec::new();
    for i in 0..30 {
        let title = format!("shared {i:02}");
        opts.vikunja_tasks.push(("Home".into(), title.clone()));
        for h in ["laptop", "desk"] {
            opts.host_tasks
                .push((h.into(), vec![title.clone(), "project:Home".into()]));
        }
        wants.push(Want::task("Home", &title));
    }
    for i in 0..5 {
        let title = format!("laptop only {i}");
        opts.host_tasks
            .push(("laptop".into(), vec![title.clone(), "project:Home".into()]));
        wants.push(Want::task("Home", &title));
    }
    let mut ps = ProcSystem::start_with(&["laptop", "desk"], &["Home"], None, &opts).await;
    let m = Measure::new(
        FAMILY,
        "kill -9 of the reconciler in the middle of adoption",
        "SIGKILL to the reconciler once adoption had created two laptop-only tasks in \
         Vikunja (Vikunja adopted, hosts not yet told); started again and `adopt` run again",
    );
    let pid = ps.pid("reconciler");
    ps.sim.after_request(
        Requests::to("PUT /api/v1/projects/{id}/tasks"),
        vikunja_sim::When::Nth(2),
        move |_| kill9(pid),
    );
    let bus = ps.bus.clone();
    let first = tokio::spawn(async move { vikunja_sync::ctl::adopt(&bus, false, false).await });
    ps.wait_gone("reconciler").await;
    first.abort();
    ps.restart("reconciler", &[]);
    // Ready means its control requests are answered.
    let again = vikunja_sync::ctl::adopt(&ps.bus, false, false)
        .await
        .unwrap();
    assert!(again.skipped.is_empty(), "{again}");
    m.converge(&Sides::of_procs(&ps), &wants, Duration::from_secs(90))
        .await;
}
