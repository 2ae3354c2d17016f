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
use vsync_e2e::procs::{ProcSystem, percentile};

#[path = "common/webhooks.rs"]
mod webhooks;

fn main() {
    vsync_e2e::procs::run_bench(run());
}

async fn run() {
    let n: usize = vsync_e2e::procs::env_usize("BENCH_WEBHOOKS", 200);
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
    let mut notices = sys.bus.applied_notices().await.unwrap();
    let project = serde_json::to_value(&home).unwrap();
    let warmup = 10;
    let watcher_pids: Vec<u32> = sys
        .procs
        .iter()
        .filter(|(n, _)| n.starts_with("tw-watcher"))
        .map(|(_, p)| p.pid())
        .collect();
    let mut lat: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    let mut floor = Vec::new();
    for i in 0..(warmup + n) {
        let task = sys.sim.create_task(home.id, &format!("bench task {i}"));
        let body = webhooks::task_created(&task, &project);
        let t0 = Instant::now();
        webhooks::post_signed(&http, &sys.ingress_url, &sys.secret, body).await;
        let mut seen = [None, None];
        while seen.iter().any(Option::is_none) {
            let a = tokio::time::timeout(Duration::from_secs(30), notices.next())
                .await
                .expect("an applied notice within 30 s")
                .unwrap();
            let idx = if a.host == "laptop" { 0 } else { 1 };
            seen[idx].get_or_insert(t0.elapsed());
        }
        // The watchers start their next `task import` ahead of time; measure the floor (and the
        // next webhook) only once those are idle, waiting for input, so they compete with neither.
        quiesce(&watcher_pids).await;
        let f = vsync_e2e::procs::bare_import(&floor_host, i).await;
        quiesce(&watcher_pids).await;
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
    // Where the tail is: the slowest webhooks (their index counts from the first timed one).
    let mut slowest: Vec<(usize, f64, f64)> = (0..lat[0].len())
        .map(|i| (i, lat[0][i], lat[1][i]))
        .collect();
    slowest.sort_by(|a, b| b.1.max(b.2).total_cmp(&a.1.max(a.2)));
    let listed: Vec<String> = slowest
        .iter()
        .take(5)
        .map(|(i, l, d)| format!("#{i} {l:.1}/{d:.1}"))
        .collect();
    println!("slowest (laptop/desk ms): {}", listed.join(", "));
    println!("Vikunja API calls during the run: {api_calls}");
    println!("resident memory at the end:");
    for (name, kb) in sys.rss_kb() {
        println!("  {name:<20} {:.1} MB", kb as f64 / 1024.0);
    }
    // Stop every service with SIGTERM: each flushes its last batch of spans.
    let mut sys = sys;
    for (name, p) in sys.procs.drain(..) {
        let status = tokio::task::spawn_blocking(move || p.terminate(Duration::from_secs(30)))
            .await
            .unwrap();
        assert!(status.success(), "{name} did not stop cleanly: {status}");
    }
    if let Some(c) = collector {
        println!("spans received by the OTLP receiver: {}", c.span_count());
        hops(&c.spans());
    }
}

/// Median time of each hop of the webhook-driven traces, from their spans.
fn hops(spans: &[vsync_e2e::otlp::Span]) {
    let ms = |ns: u64| ns as f64 / 1e6;
    let mut rows: Vec<(&str, Vec<f64>)> = vec![
        ("webhook request (verify + publish + ack)", vec![]),
        ("publish -> reconciler starts", vec![]),
        ("reconciler: merge + KV write", vec![]),
        ("reconciler done -> host starts applying", vec![]),
        ("host apply (the batch: write, notice, ack)", vec![]),
    ];
    let mut traces: Vec<(f64, [f64; 5])> = Vec::new();
    for web in spans.iter().filter(|s| s.name == "POST /webhook") {
        let Some(publish) = spans.iter().find(|s| s.parent_span_id == web.span_id) else {
            continue;
        };
        let Some(merge) = spans
            .iter()
            .find(|s| s.service == "reconciler" && s.parent_span_id == publish.span_id)
        else {
            continue;
        };
        // A host's apply is the child of the reconciler's state write (its publish span).
        let writes: Vec<&[u8]> = spans
            .iter()
            .filter(|s| s.parent_span_id == merge.span_id)
            .map(|s| s.span_id.as_slice())
            .chain([merge.span_id.as_slice()])
            .collect();
        let applies: Vec<_> = spans
            .iter()
            .filter(|s| s.service == "tw-watcher" && writes.contains(&s.parent_span_id.as_slice()))
            .collect();
        rows[0].1.push(ms(web.end_ns.saturating_sub(web.start_ns)));
        rows[1]
            .1
            .push(ms(merge.start_ns.saturating_sub(publish.start_ns)));
        rows[2]
            .1
            .push(ms(merge.end_ns.saturating_sub(merge.start_ns)));
        for a in &applies {
            rows[3].1.push(ms(a.start_ns.saturating_sub(merge.end_ns)));
            rows[4].1.push(ms(a.end_ns.saturating_sub(a.start_ns)));
            let hops = [
                ms(web.end_ns.saturating_sub(web.start_ns)),
                ms(merge.start_ns.saturating_sub(publish.start_ns)),
                ms(merge.end_ns.saturating_sub(merge.start_ns)),
                ms(a.start_ns.saturating_sub(merge.end_ns)),
                ms(a.end_ns.saturating_sub(a.start_ns)),
            ];
            traces.push((ms(a.end_ns.saturating_sub(web.start_ns)), hops));
        }
    }
    traces.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (total, h) in traces.iter().take(5) {
        println!("slow trace {total:.1} ms, hops: {h:.1?}");
    }
    println!("| hop (from the spans) | median ms | p99 ms | max ms | n |");
    println!("|---|---|---|---|---|");
    for (name, mut v) in rows {
        v.sort_by(f64::total_cmp);
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} | {} |",
            percentile(&v, 50.0),
            percentile(&v, 99.0),
            percentile(&v, 100.0),
            v.len()
        );
    }
}

/// Waits (at most 1 s) until every child process of these processes is sleeping, not running.
async fn quiesce(parents: &[u32]) {
    let running = |pid: &str| {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| {
                s.rsplit(')')
                    .next()
                    .map(|r| r.trim_start().starts_with('R'))
            })
            .unwrap_or(false)
    };
    let children = |parent: u32| -> Vec<String> {
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{parent}/task")) else {
            return Vec::new();
        };
        tasks
            .flatten()
            .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
            .flat_map(|c| c.split_whitespace().map(str::to_string).collect::<Vec<_>>())
            .collect()
    };
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    while Instant::now() < deadline {
        tick.tick().await;
        if !parents
            .iter()
            .flat_map(|p| children(*p))
            .any(|c| running(&c))
        {
            return;
        }
    }
}
