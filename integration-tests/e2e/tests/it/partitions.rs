//! Projects side by side: a project whose Vikunja calls are slow holds up its own events only;
//! each project's events still arrive in the order they were made, each task once.

use std::time::Duration;

use vikunja_sim::{Fault, Requests, When};
use vsync_e2e::*;

const CREATE: &str = "PUT /api/v1/projects/{id}/tasks";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_project_delays_only_its_own_events() {
    let sys = System::start(quiet_options(&["laptop"], &["Slow", "Fast"]))
        .await
        .unwrap();
    let (slow, fast) = (project_id(&sys, "Slow"), project_id(&sys, "Fast"));
    let laptop = sys.host("laptop");
    sys.sim.inject(
        Requests::to(CREATE).in_project(slow),
        Fault::Latency(Duration::from_secs(2)),
        When::Always,
    );
    let titles = ["slow one", "slow two", "slow three"];
    for t in titles {
        laptop.add(&[t, "project:Slow"]);
    }
    laptop.add(&["fast one", "project:Fast"]);

    let sim = sys.sim.clone();
    let slow_made = vsync_harness::wait_for("the Fast task in Vikunja", PROPAGATION, move || {
        let tasks = sim.tasks();
        tasks
            .iter()
            .any(|t| t.title == "fast one" && t.project_id == fast)
            .then(|| tasks.iter().filter(|t| t.project_id == slow).count())
    })
    .await;
    // Handled one after the other, the Fast task would wait for three 2 s creates.
    assert!(
        slow_made < titles.len(),
        "the Fast task waited for all {slow_made} Slow creates"
    );

    let sim = sys.sim.clone();
    let made = vsync_harness::wait_for("the Slow tasks in Vikunja", PROPAGATION * 2, move || {
        let mut slow_tasks: Vec<_> = sim
            .tasks()
            .into_iter()
            .filter(|t| t.project_id == slow)
            .collect();
        (slow_tasks.len() >= titles.len()).then(|| {
            slow_tasks.sort_by_key(|t| t.id);
            slow_tasks.into_iter().map(|t| t.title).collect::<Vec<_>>()
        })
    })
    .await;
    assert_eq!(made, titles, "each once, in the order they were made");
    let creates = sys.sim.calls().iter().filter(|c| *c == CREATE).count();
    assert_eq!(creates, titles.len() + 1, "{:?}", sys.sim.calls());
    sys.shutdown().await.unwrap();
}
