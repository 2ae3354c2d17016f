//! Benchmark: reconciliation. 10 projects x 100 tasks that Vikunja and two Taskwarrior hosts
//! already share (same titles and projects, no ids), Vikunja answering every request 5 ms late.
//! Prints the time, the Vikunja HTTP requests and the `task` runs of (a) the first adoption,
//! (b) a no-op reconcile, (c) a reconcile after one change on each side that no event reported
//! (webhook dropped; edit made with hooks off).
//!
//! Run with `scripts/bench.sh reconcile`. `BENCH_PROJECTS` / `BENCH_TASKS` change the size.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;

use vsync_e2e::*;

fn main() {
    vsync_e2e::procs::run_bench(run());
}

fn runs(counter: &Path) -> usize {
    std::fs::read_to_string(counter)
        .map(|s| s.lines().count())
        .unwrap_or(0)
}

/// How many of `h`'s pending tasks carry a Vikunja id (the real `task`, not counted).
async fn linked(real: &Path, h: &vsync_harness::TwHost) -> usize {
    let (real, rc, data): (PathBuf, _, _) = (real.to_path_buf(), h.taskrc(), h.data_dir());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(real)
            .args([
                "rc.hooks=off",
                "rc.json.array=on",
                "status:pending",
                "export",
            ])
            .env("TASKRC", rc)
            .env("TASKDATA", data)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let v: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap_or_default();
    v.iter().filter(|t| t.get("vikunja_id").is_some()).count()
}

struct Row {
    what: &'static str,
    ms: f64,
    requests: usize,
    task_runs: usize,
}

async fn run() {
    vsync_e2e::trace_init();
    let projects: usize = vsync_e2e::procs::env_usize("BENCH_PROJECTS", 10);
    let per: usize = vsync_e2e::procs::env_usize("BENCH_TASKS", 100);
    let dir = tempfile::tempdir().unwrap();
    // A `task` that counts its runs (the benchmark's own checks use the real one).
    let real = vsync_harness::task_program();
    let counter = dir.path().join("task-runs");
    let wrapper = dir.path().join("task");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho >> '{}'\nexec '{}' \"$@\"\n",
            counter.display(),
            real.display()
        ),
    )
    .unwrap();
    std::os::unix::fs::PermissionsExt::set_mode(
        &mut std::fs::metadata(&wrapper).unwrap().permissions(),
        0o755,
    );
    let mut perms = std::fs::metadata(&wrapper).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&wrapper, perms).unwrap();

    let names: Vec<String> = (0..projects).map(|p| format!("P{p}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut o = options(
        &["laptop", "desk"],
        &refs,
        vikunja_sim::SimConfig {
            latency: Duration::from_millis(5),
            ..Default::default()
        },
    );
    o.reconcile_interval = Duration::from_secs(3600);
    o.adopt_auto = false;
    o.task_bin = Some(wrapper.clone());
    for p in &names {
        for i in 0..per {
            let title = format!("{p} task {i}");
            o.vikunja_tasks.push((p.clone(), title.clone()));
            for h in ["laptop", "desk"] {
                o.host_tasks
                    .push((h.into(), vec![title.clone(), format!("project:{p}")]));
            }
        }
    }
    eprintln!("setting up {projects} x {per} tasks on Vikunja and two hosts...");
    let sys = System::start(o).await.unwrap();
    let bus = test_bus(&sys).await;
    let total = projects * per;
    let mut rows = Vec::new();

    // (a) first adoption, until both hosts carry every Vikunja id: timed to the applied notice
    // that completed each host, by the time the host applied it (a `task export` in a loop
    // would compete with the watchers; this process may read the notices late).
    let mut notices = bus.applied_notices().await.unwrap();
    let before = runs(&counter);
    sys.sim.clear_requests();
    let t0_us = vsync_model::dates::now_us();
    let report = vikunja_sync::ctl::adopt(&bus, false, false).await.unwrap();
    assert_eq!(report.link.len(), total, "{report}");
    let uuids: HashSet<String> = report.link.iter().map(|(u, _, _)| u.clone()).collect();
    let mut missing: HashMap<String, HashSet<String>> = sys
        .hosts
        .iter()
        .map(|h| (h.name.clone(), uuids.clone()))
        .collect();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
    let mut done_at_us = t0_us;
    let mut unchecked: Vec<&vsync_harness::TwHost> = sys.hosts.iter().collect();
    while !unchecked.is_empty() {
        // Every host announced every task: check each in its export (not timed).
        if unchecked.iter().all(|h| missing[&h.name].is_empty()) {
            let mut left = Vec::new();
            for h in unchecked {
                if linked(&real, h).await < total {
                    left.push(h);
                }
            }
            unchecked = left;
            if unchecked.is_empty() {
                break;
            }
        }
        let n = tokio::time::timeout_at(deadline, notices.next())
            .await
            .expect("adoption reached both hosts within 300 s")
            .unwrap();
        if let Some(m) = missing.get_mut(&n.host)
            && m.remove(&n.uuid)
        {
            done_at_us = done_at_us.max(n.applied_at_us);
        }
    }
    rows.push(Row {
        what: "first adoption (link all)",
        ms: (done_at_us - t0_us) as f64 / 1e3,
        requests: sys.sim.requests().len(),
        task_runs: runs(&counter) - before,
    });
    assert_eq!(sys.sim.tasks().len(), total, "no duplicates in Vikunja");

    // Settle: the hosts' own first passes.
    reconcile_now(&bus, true).await;

    // (b) no-op reconcile
    let before = runs(&counter);
    sys.sim.clear_requests();
    let t0 = Instant::now();
    let r = reconcile_now(&bus, true).await;
    rows.push(Row {
        what: "no-op reconcile (full)",
        ms: t0.elapsed().as_secs_f64() * 1e3,
        requests: sys.sim.requests().len(),
        task_runs: runs(&counter) - before,
    });
    assert!(
        r.vikunja
            .as_ref()
            .is_ok_and(|v| v.changed.is_empty() && v.created == 0 && v.deleted == 0),
        "{r}"
    );
    assert!(
        sys.sim.requests().iter().all(|q| q.method == "GET"),
        "no writes"
    );

    // (c) one change on each side that no event reported
    sys.sim.set_webhook_delivery(false);
    let target = sys
        .sim
        .tasks()
        .into_iter()
        .find(|t| t.title == "P0 task 1")
        .unwrap();
    sys.sim.update_task(target.id, |t| {
        t.title = "P0 task 1, renamed in Vikunja".into()
    });
    let laptop = sys.host("laptop");
    // The live copy: adoption re-keyed the laptop's own, which stays behind as deleted.
    let local = laptop
        .export()
        .into_iter()
        .find(|t| t["description"] == "P1 task 2" && t["status"] == "pending")
        .unwrap();
    laptop.ok(&[
        "rc.hooks=off",
        local["uuid"].as_str().unwrap(),
        "modify",
        "P1 task 2, renamed with hooks off",
    ]);
    let before = runs(&counter);
    sys.sim.clear_requests();
    let t0 = Instant::now();
    let r = reconcile_now(&bus, true).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let in_vikunja = sys
            .sim
            .tasks()
            .iter()
            .any(|t| t.title == "P1 task 2, renamed with hooks off");
        let on_desk = sys
            .host("desk")
            .find("P0 task 1, renamed in Vikunja")
            .is_some()
            && sys
                .host("desk")
                .find("P1 task 2, renamed with hooks off")
                .is_some();
        if in_vikunja && on_desk {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the changes did not converge: {r}"
        );
        tokio::task::yield_now().await;
    }
    rows.push(Row {
        what: "reconcile after 1 change each side",
        ms: t0.elapsed().as_secs_f64() * 1e3,
        requests: sys.sim.requests().len(),
        task_runs: runs(&counter) - before - 4,
    });

    println!(
        "\n## Reconciliation, {projects} projects x {per} tasks, 2 hosts, Vikunja +5 ms per request"
    );
    println!("| scenario | time ms | Vikunja HTTP requests | `task` runs |");
    println!("|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {:.0} | {} | {} |",
            r.what, r.ms, r.requests, r.task_runs
        );
    }
    sys.shutdown().await.unwrap();
}
