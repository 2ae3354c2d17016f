//! Creates under faults: an answer lost after Vikunja made the task, an answer later than the
//! client waits, and two reconcilers creating one task at once. Each task is made once: a
//! create is never sent blindly again, the task is looked up first, and its own webhook is
//! known as the create's.

use std::time::Duration;

use serde_json::json;
use vikunja_sim::{Deliveries, DeliveryFault, Fault, Requests, SimConfig, When};
use vsync_bus::control::ReconcileRequest;
use vsync_e2e::faults::{Measure, Sides, Want};
use vsync_e2e::*;
use vsync_proto::{EventKind, Origin, TaskEvent, TaskwarriorChange, task_event};

const FAMILY: &str = "creates";
const CREATE: &str = "PUT /api/v1/projects/{id}/tasks";

async fn home_system(timeout: Option<Duration>) -> System {
    trace_init();
    let mut o = options(&["laptop", "desk"], &["Home"], SimConfig::default());
    o.vikunja_timeout = timeout;
    let sys = System::start(o).await.unwrap();
    webhook_registered(&sys, project_id(&sys, "Home")).await;
    sys
}

fn creates(sys: &System) -> usize {
    sys.sim
        .calls()
        .iter()
        .filter(|c| c.as_str() == CREATE)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_is_lost_makes_one_task_whose_webhook_is_known_as_ours() {
    let sys = home_system(None).await;
    let m = Measure::new(
        FAMILY,
        "create answer lost, webhook delivered",
        "the connection cut after Vikunja made the task (its task.created webhook delivered)",
    );
    sys.sim
        .inject(Requests::to(CREATE), Fault::LoseResponse, When::Next(1));
    sys.host("laptop")
        .ok(&["add", "made once", "project:Home", "priority:L"]);
    m.converge(
        &Sides::of(&sys),
        &[Want::task("Home", "made once").priority("L")],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(creates(&sys), 1, "{:?}", sys.sim.calls());
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_whose_answer_and_webhook_are_lost_is_looked_up_before_it_is_sent_again() {
    let sys = home_system(None).await;
    let m = Measure::new(
        FAMILY,
        "create answer and webhook lost",
        "the connection cut after Vikunja made the task; its task.created webhook dropped",
    );
    sys.sim.inject_delivery(
        Deliveries::of("task.created"),
        DeliveryFault::Drop,
        When::Next(1),
    );
    sys.sim
        .inject(Requests::to(CREATE), Fault::LoseResponse, When::Next(1));
    sys.host("laptop")
        .ok(&["add", "looked up, not made twice", "project:Home"]);
    m.converge(
        &Sides::of(&sys),
        &[Want::task("Home", "looked up, not made twice")],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(creates(&sys), 1, "{:?}", sys.sim.calls());
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_create_answered_after_the_client_gave_up_makes_one_task() {
    let sys = home_system(Some(Duration::from_secs(1))).await;
    let m = Measure::new(
        FAMILY,
        "create answered after the client's timeout",
        "Vikunja made the task and answered 3 s later; the client waits 1 s",
    );
    sys.sim.inject(
        Requests::to(CREATE),
        Fault::AnswerLate(Duration::from_secs(3)),
        When::Next(1),
    );
    sys.host("laptop")
        .ok(&["add", "answered late", "project:Home"]);
    m.converge(
        &Sides::of(&sys),
        &[Want::task("Home", "answered late")],
        Duration::from_secs(30),
    )
    .await;
    // (A create the client gave up on is never in the simulator's request log: the checker's
    // count of Vikunja's tasks is the proof.)
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reconcilers_catching_up_on_one_owed_create_at_once_create_it_once() {
    let mut sys = system(&[], &["Home"]).await;
    webhook_registered(&sys, project_id(&sys, "Home")).await;
    // Two replicas of the reconciler, and none other.
    sys.running.stop_matching("reconciler").await.unwrap();
    let mut replicas = Vec::new();
    for name in ["replica-a", "replica-b", "went-away"] {
        let app = reconciler::App::build(&sys.server, &sys.bus_url(), name)
            .await
            .unwrap();
        replicas.push(app.event_handler());
    }
    // A host's new task while Vikunja is down, handled by a reconciler that then went away:
    // its create is owed.
    let uuid = "5e1f0c2a-0000-4000-8000-0000000000aa";
    let task = json!({"uuid": uuid, "description": "one of me", "status": "pending",
        "entry": "20260101T000000Z", "project": "Home"});
    let ev = TaskEvent {
        origin: Origin::Taskwarrior as i32,
        kind: EventKind::Created as i32,
        host: "laptop".into(),
        changed_at_us: 1_000,
        published_at_us: 1_000,
        change: Some(task_event::Change::Taskwarrior(TaskwarriorChange {
            uuid: uuid.into(),
            task_json: task.to_string(),
            previous_json: String::new(),
            command: "add".into(),
        })),
    };
    // Refused before anything changes (429), so the create certainly was not made and its claim
    // is let go. Going offline instead can reset a pooled connection mid-request: a create that
    // may have been made, whose claim then (rightly) holds the others off for its whole lease.
    sys.sim
        .inject(Requests::to(CREATE), Fault::status(429), When::Always);
    replicas.pop().unwrap().handle(&ev).await.unwrap();
    sys.sim.clear_faults();
    let refused = creates(&sys);

    let m = Measure::new(
        FAMILY,
        "two reconcilers catch up on one create at once",
        "a create owed since Vikunja refused it (429), caught up by two reconciler replicas' passes at \
         the same moment; creates slowed by 500 ms",
    );
    sys.sim.inject(
        Requests::to(CREATE),
        Fault::Latency(Duration::from_millis(500)),
        When::Always,
    );
    let delta = ReconcileRequest::default();
    let (a, b) = tokio::join!(
        replicas[0].reconcile_vikunja(&delta, 1),
        replicas[1].reconcile_vikunja(&delta, 1)
    );
    a.unwrap();
    b.unwrap();
    m.converge(
        &Sides::of(&sys),
        &[Want::task("Home", "one of me")],
        Duration::from_secs(30),
    )
    .await;
    assert_eq!(creates(&sys) - refused, 1, "{:?}", sys.sim.calls());
    sys.shutdown().await.unwrap();
}
