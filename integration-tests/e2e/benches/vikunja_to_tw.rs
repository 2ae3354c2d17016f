//! Benchmark: Vikunja -> Taskwarrior. Signed webhooks for different new tasks are POSTed to
//! webhook-ingress one at a time; for two hosts it prints p50/p95/p99 from the POST to the task
//! being in the host's Taskwarrior (the watcher's "applied" notice, sent after `task import`
//! returned; every task is checked in `task export` at the end), next to the floor measured in
//! the same run (a bare `task import` of one new task, interleaved with the webhooks), the
//! ratios, the Vikunja API calls made, and each service's resident memory.
//!
//! Run with `scripts/bench.sh vikunja_to_tw` (release build). `BENCH_WEBHOOKS` (default 200);
//! `BENCH_OTLP=1` also runs it with tracing exported to an in-process OTLP receiver.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::json;
use vsync_e2e::procs::{ProcSystem, percentile};
use vsync_proto::HostApplied;

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let n: usize = std::env::var("BENCH_WEBHOOKS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let otlp = std::env::var("BENCH_OTLP")
        .ok()
        .filter(|v| !v.is_empty() && v != "0");
    let collector = match otlp {
        Some(_) => Some(vsync_e2e::otlp::Collector::start().await),
        None => None,
    };
    let sys = ProcSystem::start(
        &["laptop", "desk"],
        &["Home"],
        collector.as_ref().map(|c| c.endpoint()).as_deref(),
    )
    .await;
    let home = sys
        .sim
        .projects()
        .into_iter()
        .find(|p| p.title == "Home")
        .unwrap();
    vsync_harness::wait_for_async("webhook registration", Duration::from_secs(30), || async {
        (!sys.sim.webhooks(home.id).is_empty()).then_some(())
    })
    .await;
    // We POST each webhook ourselves (signed) to time it from the POST.
    sys.sim.set_webhook_delivery(false);
    sys.sim.clear_requests();
    let floor_host = vsync_harness::TwHost::new("floor");
    let http = {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    };
    let mut notices = sys.bus.subscribe("vsync.v1.applied.>").await.unwrap();
    let project = serde_json::to_value(&home).unwrap();
    let warmup = 10;
    let mut lat: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut floor = Vec::new();
    for i in 0..(warmup + n) {
        let task = sys.sim.create_task(home.id, &format!("bench task {i}"));
        let body = json!({"event_name": "task.created", "time": vikunja_sim::model::ts::format(time_now()),
            "data": {"task": task, "doer": {"id": 1, "username": "demo"}, "project": project}})
        .to_string();
        let sig = vikunja_sim::webhook_signature(&sys.secret, body.as_bytes());
        let t0 = Instant::now();
        let res = http
            .post(&sys.ingress_url)
            .header("X-Vikunja-Signature", sig)
            .header("Content-Type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
        let mut seen = [None, None];
        while seen.iter().any(Option::is_none) {
            let m = tokio::time::timeout(Duration::from_secs(30), notices.next())
                .await
                .expect("an applied notice within 30 s")
                .unwrap();
            let a: HostApplied = vsync_bus::decode("HostApplied", &m.payload).unwrap();
            let idx = if a.host == "laptop" { 0 } else { 1 };
            seen[idx].get_or_insert(t0.elapsed());
        }
        let f = bare_import(&floor_host, i).await;
        if i >= warmup {
            for (k, s) in seen.iter().enumerate() {
                lat[k].push(s.unwrap().as_secs_f64() * 1e3);
            }
            floor.push(f);
        }
    }
    let api_calls = sys.sim.requests().len();
    for h in &sys.hosts {
        let count = h.export().len();
        assert_eq!(
            count,
            warmup + n,
            "every task is in {}'s task export",
            h.name
        );
    }
    floor.sort_by(f64::total_cmp);
    let floor_p50 = percentile(&floor, 50.0);
    println!(
        "\n## Vikunja -> Taskwarrior, {n} webhooks (new tasks), sequential, tracing {}",
        if collector.is_some() {
            "on (OTLP)"
        } else {
            "off"
        }
    );
    println!(
        "floor: bare `task import` of one new task, median {floor_p50:.2} ms (p95 {:.2})",
        percentile(&floor, 95.0)
    );
    println!("| host | p50 ms | p95 ms | p99 ms | p50/floor | p99/floor |");
    println!("|---|---|---|---|---|---|");
    for (k, name) in ["laptop", "desk"].iter().enumerate() {
        let mut v = lat[k].clone();
        v.sort_by(f64::total_cmp);
        let (p50, p95, p99) = (
            percentile(&v, 50.0),
            percentile(&v, 95.0),
            percentile(&v, 99.0),
        );
        println!(
            "| {name} | {p50:.2} | {p95:.2} | {p99:.2} | {:.2} | {:.2} |",
            p50 / floor_p50,
            p99 / floor_p50
        );
    }
    println!("Vikunja API calls during the run: {api_calls}");
    println!("resident memory at the end:");
    for (name, kb) in sys.rss_kb() {
        println!("  {name:<20} {:.1} MB", kb as f64 / 1024.0);
    }
    if let Some(c) = collector {
        println!("spans received by the OTLP receiver: {}", c.span_count());
    }
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

/// The floor: one bare `task import` of one new task on a host of the same size.
async fn bare_import(host: &vsync_harness::TwHost, i: usize) -> f64 {
    let task = json!({"uuid": format!("00000000-0000-4000-8000-{i:012}"), "description": format!("floor task {i}"),
        "status": "pending", "entry": "20260101T000000Z", "project": "Home"})
    .to_string();
    let (bin, rc, data) = (
        host.task_bin().to_path_buf(),
        host.taskrc(),
        host.data_dir(),
    );
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let t0 = Instant::now();
        let mut child = std::process::Command::new(bin)
            .args(["import", "-"])
            .env("TASKRC", rc)
            .env("TASKDATA", data)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(task.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success());
        t0.elapsed().as_secs_f64() * 1e3
    })
    .await
    .unwrap()
}
