//! Two reconciler replicas share the events (one durable consumer): creates made at once on two
//! hosts, each with its own webhook coming back, are each one Vikunja task and one task per
//! host.

use std::collections::BTreeSet;

use vsync_e2e::*;

/// Tasks each host adds at once (`VSYNC_REPLICAS_PER_HOST`: 500 makes the 1,000-create run).
fn per_host() -> usize {
    std::env::var("VSYNC_REPLICAS_PER_HOST")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(40)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_reconciler_replicas_create_each_task_once() {
    let mut sys = System::start(quiet_options(&["laptop", "desk"], &["Home"]))
        .await
        .unwrap();
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let (cfg, url) = (sys.server.clone(), sys.bus_url());
    sys.running
        .spawn_reconciler_named(&cfg, &url, "reconciler-2")
        .await
        .unwrap();
    let n = per_host();
    std::thread::scope(|s| {
        for h in ["laptop", "desk"] {
            let host = sys.host(h);
            s.spawn(move || {
                for i in 0..n {
                    host.add(&[&format!("{h} task {i}"), "project:Home"]);
                }
            });
        }
    });
    let total = 2 * n;
    // Long enough for the largest run on a loaded machine.
    let patience = PROPAGATION * (4 + (total / 100) as u32);
    let sim = sys.sim.clone();
    let titles = vsync_harness::wait_for("every task in Vikunja", patience, move || {
        let tasks = sim.tasks();
        (tasks.len() >= total).then(|| tasks.into_iter().map(|t| t.title).collect::<Vec<_>>())
    })
    .await;
    for h in ["laptop", "desk"] {
        let host = sys.host(h);
        vsync_harness::wait_for_async(&format!("every task linked on {h}"), patience, || async {
            let all = host.export();
            (all.len() >= total && all.iter().all(|t| t["vikunja_id"].as_f64().is_some()))
                .then_some(())
        })
        .await;
    }
    let distinct: BTreeSet<&String> = titles.iter().collect();
    assert_eq!(distinct.len(), total, "{titles:?}");
    assert_eq!(sys.sim.tasks().len(), total, "no second Vikunja task");
    for h in &sys.hosts {
        let all = h.export();
        let ids: BTreeSet<i64> = all
            .iter()
            .filter_map(|t| t["vikunja_id"].as_f64().map(|f| f as i64))
            .collect();
        assert_eq!((all.len(), ids.len()), (total, total), "{}", h.name);
    }
    sys.shutdown().await.unwrap();
}
