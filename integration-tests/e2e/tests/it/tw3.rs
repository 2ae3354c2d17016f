//! Taskwarrior 3 only (`*_tw3`): what reaches the data without any hook (`task sync`) reaches
//! Vikunja and the other hosts within one host reconcile interval.

use std::time::{Duration, Instant};

use vsync_e2e::*;
use vsync_harness::{TwHost, require_taskwarrior};

const INTERVAL: Duration = Duration::from_secs(3);

async fn started() -> (System, i64) {
    trace_init();
    let mut o = options(
        &["laptop", "desk"],
        &["Home"],
        vikunja_sim::SimConfig::default(),
    );
    o.host_reconcile_interval = Some(INTERVAL);
    let sys = System::start(o).await.unwrap();
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    (sys, home)
}

/// Waits until Vikunja's task `id` is titled `title`; the time it took.
async fn vikunja_title(sys: &System, id: i64, title: &str) -> Duration {
    let t0 = Instant::now();
    vsync_harness::wait_for_async("the title in Vikunja", PROPAGATION, || async {
        (sys.sim.task(id).map(|t| t.title) == Some(title.to_string())).then_some(())
    })
    .await;
    t0.elapsed()
}

/// Within one interval, plus what one pass and its writes take on this machine.
fn within_one_interval(took: Duration, what: &str) {
    assert!(
        took <= INTERVAL + Duration::from_secs(3),
        "{what} took {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_sync_reaches_vikunja_and_the_other_host_within_one_host_reconcile_interval_tw3() {
    require_taskwarrior(3);
    let (sys, home) = started().await;
    let t = sys.sim.create_task(home, "before the phone");
    let local = on_every_host(&sys, "the task", has_vid(t.id)).await;
    let uuid = s(&local[0], "uuid").to_string();
    // Laptop and a phone (a Taskwarrior of the user's without the sync) share a sync server.
    let server = tempfile::tempdir().unwrap();
    let phone = TwHost::new("phone");
    let laptop = sys.host("laptop");
    for h in [laptop, &phone] {
        h.configure(&format!(
            "sync.local.server_dir={}",
            server.path().display()
        ));
        h.configure("sync.encryption_secret=not-a-real-secret");
    }
    laptop.ok(&["sync"]);
    phone.ok(&["sync"]);
    phone.ok(&[&uuid, "modify", "from the phone"]);
    phone.ok(&["sync"]);
    // TaskChampion's sync runs no hook: the laptop's data changes, nothing reports it.
    laptop.ok(&["sync"]);
    assert_eq!(
        s(&laptop.get(&uuid).unwrap(), "description"),
        "from the phone"
    );
    let took = vikunja_title(&sys, t.id, "from the phone").await;
    within_one_interval(took, "the synced change reaching Vikunja");
    wait_task(sys.host("desk"), "the synced change", |t| {
        s(t, "description") == "from the phone"
    })
    .await;
    sys.shutdown().await.unwrap();
}
