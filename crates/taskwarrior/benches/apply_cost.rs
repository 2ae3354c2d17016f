//! Benchmark: what applying one task costs on Taskwarrior 3, by database size, through each
//! backend: `task import` (the CLI, as the watcher runs it) and the in-process replica writer;
//! next to the floor of issue 15 measured in the same run (a bare `task import` of one task into
//! an empty database), and the bulk rate of the replica writer (tasks per second, in the
//! watcher's batches).
//!
//! Run with `scripts/bench.sh apply` (release build; Taskwarrior 3 only). `BENCH_SIZES`
//! (default `0,1000,5000`), `BENCH_RUNS` (default 40), `BENCH_CLI_RUNS` (default 10: one CLI
//! import into 5,000 tasks takes seconds).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

use serde_json::json;
use vsync_harness::{TwHost, taskwarrior_version};
use vsync_model::TwTask;
use vsync_taskwarrior::{Apply, Backend, Taskwarrior};

fn main() {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(run());
}

fn env(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_string())
}

fn task(n: usize, rev: usize) -> TwTask {
    TwTask::from_value(json!({
        "uuid": format!("{n:08x}-0000-4000-8000-000000000000"),
        "description": format!("bench task {n} rev {rev}"), "status": "pending",
        "entry": "20260101T000000Z", "project": "Home.Bench", "tags": ["bench"],
        "due": "20260301T090000Z", "vikunja_id": n + 1,
        "annotations": [{"entry": "20260102T000000Z", "description": "note"}]
    }))
    .unwrap()
}

fn cli(h: &TwHost) -> Taskwarrior {
    Taskwarrior::new(h.task_bin().into(), h.taskrc(), h.data_dir())
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * v.len() as f64).ceil() as usize;
    v[rank.clamp(1, v.len()) - 1]
}

async fn ms<F: Future>(f: F) -> f64 {
    let t0 = Instant::now();
    f.await;
    t0.elapsed().as_secs_f64() * 1e3
}

async fn run() {
    let version = taskwarrior_version();
    assert!(
        version.starts_with("3."),
        "Taskwarrior 3 only (TASK_BIN runs {version})"
    );
    let sizes: Vec<usize> = env("BENCH_SIZES", "0,1000,5000")
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs: usize = env("BENCH_RUNS", "40").parse().unwrap();
    let cli_runs: usize = env("BENCH_CLI_RUNS", "10").parse().unwrap();
    println!(
        "Taskwarrior {version}: applying one task, by database size ({runs} runs each, CLI {cli_runs})"
    );
    println!(
        "| tasks in db | floor p50 ms | CLI import p50 ms | replica new p50 / p99 ms | replica change p50 / p99 ms | replica change / floor | bulk tasks/s |"
    );
    println!("|---|---|---|---|---|---|---|");
    for size in sizes {
        let host = TwHost::new("bench");
        host.add(&["seed"]);
        let (writer, refusal) = Backend::select(&cli(&host), version, true).await;
        assert_eq!(writer.name(), "replica", "{refusal:?}");
        // The database, filled by the writer in the watcher's batches (its bulk rate).
        let fill: Vec<TwTask> = (0..size).map(|n| task(n, 0)).collect();
        let t0 = Instant::now();
        for batch in fill.chunks(256) {
            writer
                .apply(batch)
                .await
                .into_iter()
                .for_each(|r| r.unwrap());
        }
        let bulk = size as f64 / t0.elapsed().as_secs_f64();
        let (mut floor, mut new, mut change, mut via_cli) = (vec![], vec![], vec![], vec![]);
        for r in 0..runs {
            let empty = TwHost::new("floor");
            let one = [task(1_000_000 + r, 0)];
            floor.push(ms(cli(&empty).import(&one)).await);
            let one = [task(2_000_000 + r, 0)];
            new.push(ms(async { writer.apply(&one).await[0].clone().unwrap() }).await);
            // A change of an existing task (a new description), as most webhooks are.
            let one = [task(2_000_000 + r, 1)];
            change.push(ms(async { writer.apply(&one).await[0].clone().unwrap() }).await);
            if r < cli_runs {
                let one = [task(3_000_000 + r, 0)];
                via_cli.push(ms(cli(&host).import(&one)).await);
            }
        }
        let f = pct(&mut floor, 50.0);
        let c50 = pct(&mut change, 50.0);
        println!(
            "| {size} | {f:.2} | {:.2} | {:.2} / {:.2} | {c50:.2} / {:.2} | {:.2}x | {} |",
            pct(&mut via_cli, 50.0),
            pct(&mut new, 50.0),
            pct(&mut new, 99.0),
            pct(&mut change, 99.0),
            c50 / f,
            if size > 0 {
                format!("{bulk:.0}")
            } else {
                "-".into()
            },
        );
        // Every task written is there: the seed, the fill, one per run and per CLI run.
        assert_eq!(host.export().len(), 1 + size + runs + cli_runs.min(runs));
    }
}
