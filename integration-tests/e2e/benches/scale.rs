//! Benchmark: scale. `BENCH_PROJECTS` projects (100), two Taskwarrior hosts, every service its
//! own process, Vikunja answering every request 5 ms late. Tasks grow in bursts of webhooks
//! (new tasks, spread over the projects, POSTed by `BENCH_SENDERS` concurrent senders) to each
//! size of `BENCH_SIZES` (1000,5000,10000). At each size it prints:
//! - the burst: webhooks, end-to-end throughput (first POST to the last task applied on both
//!   hosts), how long after the last POST the last one was applied, p50/p99 per event (POST to
//!   applied on a host), and that each task is on each host exactly once;
//! - resident memory of every service;
//! - an idle stretch (`BENCH_IDLE_SECS`, 60; delta reconcile every 10 s): bytes each bus
//!   connection read (nats-server's `/connz`) and Vikunja requests, per minute;
//! - a no-op full reconcile pass: its time and API calls.
//!
//! Then the slow-project run: `BENCH_SLOW_PROJECTS` (10) projects, one answering 2 s per
//! request; webhook -> host p50 of the others, against the same run without the slow one.
//! Plots (latency and RSS against the number of tasks) go to `BENCH_PLOT_DIR` (docs/bench).
//!
//! Run with `scripts/bench.sh scale`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt;
use vsync_e2e::procs::{ProcOptions, ProcSystem, env_usize, percentile};

#[path = "common/scale_report.rs"]
mod report;
#[path = "common/webhooks.rs"]
mod webhooks;

use report::{plot, print_step, print_summary};

fn main() {
    vsync_e2e::procs::run_bench(run());
}

struct Step {
    tasks: usize,
    burst: Burst,
    /// Resident memory right after the burst, and after the no-op full pass (steady: what a
    /// pass took is given back, or not); the file-backed part (the program's code) of the latter.
    rss_mb: Vec<(String, f64)>,
    rss_full_mb: Vec<(String, f64)>,
    rss_file_mb: Vec<(String, f64)>,
    idle_read_kb_per_min: Vec<(String, f64)>,
    idle_requests_per_min: f64,
    /// The whole request: Vikunja's pass and every host's, side by side.
    noop_full_ms: f64,
    /// The reconciler's own pass (listing, comparing), and the slowest host's.
    noop_vikunja_ms: u64,
    noop_host_ms: u64,
    noop_full_calls: u64,
}

struct Burst {
    n: usize,
    events_per_s: f64,
    last_after_post_ms: f64,
    p50_ms: f64,
    p99_ms: f64,
}

async fn run() {
    let projects = env_usize("BENCH_PROJECTS", 100);
    let senders = env_usize("BENCH_SENDERS", 32);
    let idle = Duration::from_secs(env_usize("BENCH_IDLE_SECS", 60) as u64);
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "1000,5000,10000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let names: Vec<String> = (0..projects).map(|p| format!("P{p:03}")).collect();
    let sys = started(&names).await;
    let ids: Vec<i64> = project_ids(&sys, &names);
    let mut steps = Vec::new();
    let mut made = 0;
    for size in sizes {
        let burst = burst(&sys, &ids, made, size - made, senders, None).await;
        made = size;
        for h in &sys.hosts {
            let export = h.export();
            let distinct: HashSet<&str> = export
                .iter()
                .filter_map(|t| t["description"].as_str())
                .collect();
            assert_eq!(export.len(), made, "{}: every task once", h.name);
            assert_eq!(distinct.len(), made, "{}: no duplicate", h.name);
        }
        let rss_mb = mib(sys.rss_kb());
        settled(&sys).await;
        let (idle_read_kb_per_min, idle_requests_per_min) = idle_cost(&sys, idle).await;
        let t0 = Instant::now();
        let reply = vsync_e2e::reconcile_now(&sys.bus, true).await;
        let noop_full_ms = t0.elapsed().as_secs_f64() * 1e3;
        let report = reply.vikunja.as_ref().expect("the full pass");
        // An allocator hands freed memory back after a short delay.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (rss_full_mb, rss_file_mb) = (mib(sys.rss_kb()), mib(sys.rss_file_kb()));
        assert!(
            report.changed.is_empty(),
            "a no-op pass changed {:?}",
            report.changed
        );
        steps.push(Step {
            tasks: size,
            burst,
            rss_mb,
            rss_full_mb,
            rss_file_mb,
            idle_read_kb_per_min,
            idle_requests_per_min,
            noop_full_ms,
            noop_vikunja_ms: report.took_ms,
            noop_host_ms: reply
                .hosts
                .iter()
                .filter_map(|h| h.as_ref().ok().map(|h| h.took_ms))
                .max()
                .unwrap_or(0),
            noop_full_calls: report.api_calls,
        });
        print_step(steps.last().unwrap());
    }
    stop(sys).await;
    let slow = slow_project().await;
    print_summary(&steps, slow);
    let dir = std::env::var("BENCH_PLOT_DIR").unwrap_or_else(|_| "docs/bench".into());
    plot(&steps, std::path::Path::new(&dir));
}

fn mib(kb: Vec<(String, u64)>) -> Vec<(String, f64)> {
    kb.into_iter()
        .map(|(n, kb)| (n, kb as f64 / 1024.0))
        .collect()
}

async fn started(names: &[String]) -> ProcSystem {
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let opts = ProcOptions {
        reconcile_interval: Some(Duration::from_secs(10)),
        full_reconcile_interval: Some(Duration::from_secs(24 * 3600)),
        ..Default::default()
    };
    let sys = ProcSystem::start_with(&["laptop", "desk"], &refs, None, &opts).await;
    let ids = project_ids(&sys, names);
    vsync_harness::wait_for_async(
        "every project's webhook",
        Duration::from_secs(120),
        || async {
            ids.iter()
                .all(|id| !sys.sim.webhooks(*id).is_empty())
                .then_some(())
        },
    )
    .await;
    // We POST each webhook ourselves (signed) to time it from the POST.
    sys.sim.set_webhook_delivery(false);
    sys.sim.set_latency(Duration::from_millis(5));
    sys
}

fn project_ids(sys: &ProcSystem, names: &[String]) -> Vec<i64> {
    let all = sys.sim.projects();
    names
        .iter()
        .map(|n| all.iter().find(|p| &p.title == n).expect("project").id)
        .collect()
}

/// Makes `n` new tasks (numbered from `from`) over the projects `ids` and POSTs their webhooks
/// with `senders` concurrent senders; waits until both hosts applied every one.
/// `only`: the projects whose events are timed (all when `None`).
async fn burst(
    sys: &ProcSystem,
    ids: &[i64],
    from: usize,
    n: usize,
    senders: usize,
    only: Option<&[i64]>,
) -> Burst {
    let projects: HashMap<i64, serde_json::Value> = sys
        .sim
        .projects()
        .into_iter()
        .map(|p| (p.id, serde_json::to_value(&p).unwrap()))
        .collect();
    let mut bodies = Vec::with_capacity(n);
    for i in from..from + n {
        let pid = ids[i % ids.len()];
        let task = sys.sim.create_task(pid, &format!("scale task {i}"));
        let body = webhooks::task_created(&task, &projects[&pid]);
        bodies.push((task.id, pid, body));
    }
    // Every applied notice, timed as it arrives.
    let mut notices = sys.bus.applied_notices().await.unwrap();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let collector = tokio::spawn(async move {
        while let Some(a) = notices.next().await {
            if tx.send((a.host, a.uuid, Instant::now())).is_err() {
                break;
            }
        }
    });
    let http = {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    };
    let started = Instant::now();
    let posted: Vec<(i64, i64, Instant)> = futures::stream::iter(bodies)
        .map(|(id, pid, body)| {
            let (http, url, secret) = (http.clone(), &sys.ingress_url, &sys.secret);
            async move {
                let t0 = Instant::now();
                webhooks::post_signed(&http, url, secret, body).await;
                (id, pid, t0)
            }
        })
        .buffer_unordered(senders.max(1))
        .collect()
        .await;
    let last_post = Instant::now();
    // Both hosts applied every task of the burst (other changes may be applied meanwhile).
    let mut first_applied: HashMap<(String, String), Instant> = HashMap::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(600);
    while first_applied.len() < 2 * n {
        next_notice(&mut rx, &mut first_applied, deadline).await;
    }
    let mut uuids = Vec::with_capacity(n);
    for (id, pid, t0) in &posted {
        let uuid = sys.bus.linked_uuid(*id).await.unwrap().expect("linked");
        uuids.push((uuid, *pid, *t0));
    }
    let applied_both = |f: &HashMap<(String, String), Instant>, u: &str| {
        ["laptop", "desk"]
            .iter()
            .all(|h| f.contains_key(&(h.to_string(), u.to_string())))
    };
    while !uuids
        .iter()
        .all(|(u, _, _)| applied_both(&first_applied, u))
    {
        next_notice(&mut rx, &mut first_applied, deadline).await;
    }
    collector.abort();
    let mut lat = Vec::new();
    let mut last_applied = last_post;
    for (uuid, pid, t0) in &uuids {
        for host in ["laptop", "desk"] {
            let at = first_applied[&(host.to_string(), uuid.clone())];
            last_applied = last_applied.max(at);
            if only.is_none_or(|o| o.contains(pid)) {
                lat.push(at.duration_since(*t0).as_secs_f64() * 1e3);
            }
        }
    }
    lat.sort_by(f64::total_cmp);
    Burst {
        n,
        events_per_s: n as f64 / last_applied.duration_since(started).as_secs_f64(),
        last_after_post_ms: last_applied
            .saturating_duration_since(last_post)
            .as_secs_f64()
            * 1e3,
        p50_ms: percentile(&lat, 50.0),
        p99_ms: percentile(&lat, 99.0),
    }
}

/// Waits until a delta pass found nothing new: the burst is behind us (its tasks are listed by
/// the first passes after it), what follows is the cost of doing nothing.
async fn settled(sys: &ProcSystem) {
    let since = vsync_model::dates::now_us();
    vsync_harness::wait_for_async(
        "a delta pass listing nothing",
        Duration::from_secs(120),
        || async {
            let status = sys.bus.status(0).await.ok()?;
            let r = status.last_reconcile.ok()??;
            (!r.full && r.listed == 0 && r.finished_at_us > since).then_some(())
        },
    )
    .await;
}

type Notices = tokio::sync::mpsc::UnboundedReceiver<(String, String, Instant)>;

/// Records the next applied notice (host, uuid) with when it came, unless one came before.
async fn next_notice(
    rx: &mut Notices,
    first: &mut HashMap<(String, String), Instant>,
    deadline: tokio::time::Instant,
) {
    let (host, uuid, at) = tokio::time::timeout_at(deadline, rx.recv())
        .await
        .expect("every task applied on both hosts within 10 min")
        .expect("applied notices");
    first.entry((host, uuid)).or_insert(at);
}

/// Bytes each service read from the bus (the server's `out_bytes` to its connections, by
/// connection name), and Vikunja requests, per minute of doing nothing.
async fn idle_cost(sys: &ProcSystem, idle: Duration) -> (Vec<(String, f64)>, f64) {
    let url = format!("{}/connz?limit=1024", sys.nats.monitor_url());
    let read = async || -> HashMap<String, u64> {
        let connz: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
        let mut by_name = HashMap::new();
        for c in connz["connections"].as_array().into_iter().flatten() {
            let name = c["name"].as_str().unwrap_or("?").to_string();
            *by_name.entry(name).or_default() += c["out_bytes"].as_u64().unwrap_or(0);
        }
        by_name
    };
    let before = read().await;
    let requests = sys.sim.requests().len();
    tokio::time::sleep(idle).await;
    let after = read().await;
    let per_min = 60.0 / idle.as_secs_f64();
    let mut out: Vec<(String, f64)> = after
        .into_iter()
        .filter(|(name, _)| name != "bench")
        .map(|(name, b)| {
            let was = before.get(&name).copied().unwrap_or(0);
            (name, b.saturating_sub(was) as f64 / 1024.0 * per_min)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    let calls = (sys.sim.requests().len() - requests) as f64 * per_min;
    (out, calls)
}

/// Webhook -> host p50 of 9 projects, with and without a 10th answering 2 s per request.
async fn slow_project() -> (f64, f64) {
    let n = env_usize("BENCH_SLOW_PROJECTS", 10);
    let per_run = env_usize("BENCH_SLOW_EVENTS", 200);
    let names: Vec<String> = (0..n).map(|p| format!("S{p:02}")).collect();
    let sys = started(&names).await;
    let ids = project_ids(&sys, &names);
    let others = &ids[1..];
    let without = burst(&sys, others, 0, per_run, 4, Some(others)).await;
    sys.sim.inject(
        vikunja_sim::Requests::all().in_project(ids[0]),
        vikunja_sim::Fault::Latency(Duration::from_secs(2)),
        vikunja_sim::When::Always,
    );
    // Ten tasks added on a host in the slow project: ten creates of 2 s each in Vikunja.
    for i in 0..10 {
        sys.hosts[0].add(&[&format!("slow {i}"), &format!("project:{}", names[0])]);
    }
    let with = burst(&sys, others, per_run, per_run, 4, Some(others)).await;
    stop(sys).await;
    (without.p50_ms, with.p50_ms)
}

async fn stop(mut sys: ProcSystem) {
    for (name, p) in sys.procs.drain(..) {
        let status = tokio::task::spawn_blocking(move || p.terminate(Duration::from_secs(30)))
            .await
            .unwrap();
        assert!(status.success(), "{name} did not stop cleanly: {status}");
    }
}
