//! Benchmark: Taskwarrior -> Vikunja (issue 4), every service its own process, two hosts
//! ("laptop", "desk"), the hook installed on-exit only.
//!
//! 1. Edits: on laptop, `task <uuid> modify|annotate|done ...` changing mapped fields (title,
//!    due, priority, annotation, done/undone; never tags) of a few tasks created first, one at a
//!    time. For each: the time from just before spawning `task` to the simulator having
//!    answered the reconciler's write (the `at` of that request in the simulator's request log)
//!    and to desk having applied it (its `vsync.v1.applied.desk` notice, sent after its `task
//!    import` returned), p50/p95/p99, next to the floor measured in the same run (a bare `task
//!    import` of one new task, interleaved with the edits) and the ratios. Every change is
//!    checked in the simulator's task and by desk's notice; desk's and laptop's tasks are
//!    compared at the end.
//! 2. API calls per change: the simulator's request log, attributed to the edit whose window
//!    (from its command start to the next one's) it falls in, as a distribution. The reconciler's
//!    timers (project/webhook listing, delta and full reconcile passes) are moved out of the run
//!    (`[reconcile] interval = full_interval = 1h`); any such listing is excluded and counted
//!    separately.
//! 3. Hook overhead: `task <uuid> modify` wall time with the hook (`rc.hooks.location=` laptop's
//!    hooks dir, where the on-exit hook hands over to the running tw-watcher) and without it
//!    (`rc.hooks.location=` an empty dir), interleaved run by run in the same run, on the same
//!    task, after 5 warm-up rounds; after a run with the hook the bench waits until the change
//!    is in Vikunja and on desk, and every timed command starts after a 50 ms pause, so the
//!    sync's own work does not overlap it. Interleaved with them, to show where the time goes:
//!    `task modify` with `/bin/true` as its on-exit hook (what any hook at all costs), the hook
//!    program alone (spawned as Taskwarrior would, handing over a probe task that never
//!    changes, so the watcher has no sync work), the socket hand-over alone (the hook's own
//!    `send_to_watcher`, called in this process) and the spawn floor (`/bin/true`).
//! 4. Each service's resident memory at the end.
//!
//! Run with `scripts/bench.sh tw_to_vikunja` (release build). `BENCH_EDITS` (default 200),
//! `BENCH_HOOK_RUNS` (runs per variant, default 150).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use futures::{FutureExt, StreamExt};
use serde_json::Value;
use vikunja_sim::model::ts;
use vsync_e2e::procs::{ProcOptions, ProcSystem, env_usize, is_periodic, percentile};
use vsync_harness::TwHost;
use vsync_proto::HostApplied;

/// Tasks the edits rotate over (coprime with the number of kinds of edit, so each task sees
/// every kind).
const TASKS: usize = 8;
const WAIT: Duration = Duration::from_secs(30);
/// How often the simulator's task is looked at while waiting for a write (the latency itself
/// comes from the request log's timestamp, not from this tick).
const TICK: Duration = Duration::from_millis(2);

fn main() {
    vsync_e2e::procs::run_bench(run());
}

/// One benchmark task: its uuid, Vikunja id, and what we last set.
struct BenchTask {
    uuid: String,
    id: i64,
    done: bool,
    priority: usize,
}

/// One kind of edit, and how to recognise it in Vikunja.
enum Check {
    Title(String),
    Due(String),
    Priority(i64),
    Description(String),
    Done(bool),
}

impl Check {
    fn holds(&self, t: &vikunja_sim::Task) -> bool {
        match self {
            Check::Title(s) => &t.title == s,
            Check::Due(s) => &ts::format(t.due_date) == s,
            Check::Priority(p) => t.priority == *p,
            Check::Description(s) => t.description.contains(s.as_str()),
            Check::Done(d) => t.done == *d,
        }
    }
}

/// The variants of the hook phase.
const HOOK_OFF: usize = 0;
const HOOK_ON: usize = 1;
const HOOK_ALONE: usize = 2;
const SPAWN: usize = 3;
const EXCHANGE: usize = 4;
const NOOP: usize = 5;
const VARIANTS: usize = 6;

const KINDS: [&str; 5] = ["title", "due", "priority", "annotate", "done/undone"];

/// The arguments of edit `i` on task `t` (updating what we track) and its check.
fn edit(i: usize, t: &mut BenchTask) -> (&'static str, Vec<String>, Check) {
    let kind = KINDS[i % KINDS.len()];
    match kind {
        "title" => {
            let title = format!("bench task edited {i}");
            (
                kind,
                vec!["modify".into(), title.clone()],
                Check::Title(title),
            )
        }
        "due" => {
            let due = format!(
                "2026-{:02}-{:02}T{:02}:00:00Z",
                1 + i % 12,
                1 + i % 28,
                i % 24
            );
            (
                kind,
                vec!["modify".into(), format!("due:{due}")],
                Check::Due(due),
            )
        }
        "priority" => {
            t.priority = (t.priority + 1) % 3;
            let (tw, vk) = [("L", 1), ("M", 2), ("H", 3)][t.priority];
            (
                kind,
                vec!["modify".into(), format!("priority:{tw}")],
                Check::Priority(vk),
            )
        }
        "annotate" => {
            let note = format!("bench-note-{i}-end");
            (
                kind,
                vec!["annotate".into(), note.clone()],
                Check::Description(note),
            )
        }
        _ => {
            t.done = !t.done;
            let args = if t.done {
                vec!["done".into()]
            } else {
                vec!["modify".into(), "status:pending".into()]
            };
            (kind, args, Check::Done(t.done))
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `task <args>` on a host with hooks as configured, timed from just before the spawn.
async fn timed_task(host: &TwHost, args: Vec<String>) -> (SystemTime, Instant, f64) {
    let (bin, rc, data) = (
        host.task_bin().to_path_buf(),
        host.taskrc(),
        host.data_dir(),
    );
    tokio::task::spawn_blocking(move || {
        let mut cmd = Command::new(bin);
        cmd.args(&args)
            .env("TASKRC", rc)
            .env("TASKDATA", data)
            .stdin(Stdio::null());
        let at = SystemTime::now();
        let t0 = Instant::now();
        let out = cmd.output().unwrap();
        let took = ms(t0.elapsed());
        assert!(
            out.status.success(),
            "task {args:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (at, t0, took)
    })
    .await
    .unwrap()
}

/// Spawns `bin` (as `argv0`) with `input` on stdin and waits for it; wall time in ms.
async fn spawn_timed(
    bin: PathBuf,
    argv0: Option<&'static str>,
    args: Vec<String>,
    input: String,
) -> f64 {
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        use std::os::unix::process::CommandExt;
        let mut cmd = Command::new(bin);
        if let Some(a) = argv0 {
            cmd.arg0(a);
        }
        cmd.args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let t0 = Instant::now();
        let mut child = cmd.spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        // `/bin/true` may exit before reading: a broken pipe is fine there.
        let _ = stdin.write_all(input.as_bytes());
        drop(stdin);
        assert!(child.wait().unwrap().success());
        ms(t0.elapsed())
    })
    .await
    .unwrap()
}

/// Desk's applied notices, with the newest version seen per task.
struct Notices {
    sub: vsync_bus::AppliedNotices,
    seen: HashMap<(String, String), u64>,
}

impl Notices {
    fn note(&mut self, a: &HostApplied) {
        let v = self
            .seen
            .entry((a.host.clone(), a.uuid.clone()))
            .or_default();
        *v = (*v).max(a.version);
    }

    /// Takes in what already arrived, without waiting.
    fn drain(&mut self) {
        while let Some(Some(a)) = self.sub.next().now_or_never() {
            self.note(&a);
        }
    }

    fn version(&self, host: &str, uuid: &str) -> u64 {
        self.seen
            .get(&(host.to_string(), uuid.to_string()))
            .copied()
            .unwrap_or(0)
    }

    /// Waits for `host` to apply a version of `uuid` newer than `after`.
    async fn wait(&mut self, host: &str, uuid: &str, after: u64, what: &str) -> Instant {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let a = tokio::time::timeout_at(deadline, self.sub.next())
                .await
                .unwrap_or_else(|_| {
                    panic!("{host} applied no new version of {what} within {WAIT:?}")
                })
                .unwrap();
            let got = Instant::now();
            self.note(&a);
            if a.host == host && a.uuid == uuid && a.version > after {
                return got;
            }
        }
    }
}

/// Waits until everything in flight has been processed: Vikunja's deliveries are done and a
/// marker task created after them has reached every host (events are handled in order).
async fn settle(sys: &ProcSystem, when: &str) {
    assert!(sys.sim.wait_deliveries_idle(WAIT).await);
    let home = sys
        .sim
        .projects()
        .into_iter()
        .find(|p| p.title == "Home")
        .expect("Home");
    let title = format!("settle marker {when}");
    sys.sim.create_task(home.id, &title);
    let deadline = Instant::now() + WAIT;
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    for h in &sys.hosts {
        while h.find(&title).is_none() {
            assert!(
                Instant::now() < deadline,
                "{} never got the marker {when}",
                h.name
            );
            tick.tick().await;
        }
    }
    assert!(sys.sim.wait_deliveries_idle(WAIT).await);
}

/// Waits until the simulator's task `id` passes `check`; returns the time the last successful
/// write to it (at or after `since`) was answered.
async fn vikunja_write(
    sim: &vikunja_sim::Simulator,
    id: i64,
    check: &Check,
    since: SystemTime,
    what: &str,
) -> SystemTime {
    let deadline = Instant::now() + WAIT;
    let mut tick = tokio::time::interval(TICK);
    loop {
        tick.tick().await;
        if sim.task(id).is_some_and(|t| check.holds(&t)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{what} did not reach Vikunja within {WAIT:?}: task {id} is {:?}",
            sim.task(id)
                .map(|t| (t.title, t.due_date, t.priority, t.done))
        );
    }
    sim.requests()
        .iter()
        .filter(|r| r.at >= since && r.method != "GET" && r.status < 300 && about_task(&r.path, id))
        .map(|r| r.at)
        .max()
        .unwrap_or_else(|| panic!("{what} is in Vikunja but no write to task {id} was logged"))
}

fn pct(v: &[f64], p: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    percentile(&v, p)
}

fn stats(v: &[f64]) -> (f64, f64, f64) {
    (pct(v, 50.0), pct(v, 95.0), pct(v, 99.0))
}

/// Whether a request is about Vikunja task `id` (`/api/v1/tasks/{id}` or below it).
/// A request about task `id`: v1 routes, or v2's merge patch (Vikunja >= 2.4).
fn about_task(path: &str, id: i64) -> bool {
    ["v1", "v2"].iter().any(|v| {
        let p = format!("/api/{v}/tasks/{id}");
        path == p || path.starts_with(&format!("{p}/"))
    })
}

async fn run() {
    let n = env_usize("BENCH_EDITS", 200);
    let hook_runs = env_usize("BENCH_HOOK_RUNS", 150);
    let sys = ProcSystem::start_with(
        &["laptop", "desk"],
        &["Home"],
        None,
        &ProcOptions {
            reconcile_interval: Some(Duration::from_secs(3600)),
            full_reconcile_interval: Some(Duration::from_secs(3600)),
            ..Default::default()
        },
    )
    .await;
    let home = sys
        .sim
        .projects()
        .into_iter()
        .find(|p| p.title == "Home")
        .unwrap();
    vsync_harness::wait_for_async("webhook registration", WAIT, || async {
        (!sys.sim.webhooks(home.id).is_empty()).then_some(())
    })
    .await;
    let (laptop, desk) = (&sys.hosts[0], &sys.hosts[1]);
    assert_eq!(
        (laptop.name.as_str(), desk.name.as_str()),
        ("laptop", "desk")
    );
    let mut notices = Notices {
        sub: sys.bus.applied_notices().await.unwrap(),
        seen: HashMap::new(),
    };

    // The tasks, created on laptop (untimed), each in Vikunja and on desk before we start.
    let mut tasks = Vec::new();
    for k in 0..TASKS + 2 {
        // The edits' tasks, then the hook phase's task and its probe (never changed).
        let title = match k.checked_sub(TASKS) {
            None => format!("bench task {k}"),
            Some(0) => "hook bench task".to_string(),
            Some(_) => "hook probe task".to_string(),
        };
        let uuid = laptop.add(&[&title, "project:Home", "priority:L"]);
        notices.wait("desk", &uuid, 0, &title).await;
        let sim = sys.sim.clone();
        let t = vsync_harness::wait_for(&format!("{title} in Vikunja"), WAIT, move || {
            sim.tasks().into_iter().find(|t| t.title == title)
        })
        .await;
        tasks.push(BenchTask {
            uuid,
            id: t.id,
            done: false,
            priority: 0,
        });
    }
    let probe_task = tasks.pop().unwrap();
    let hook_task = tasks.pop().unwrap();
    for t in tasks.iter().chain([&hook_task, &probe_task]) {
        let uuid = t.uuid.clone();
        let deadline = Instant::now() + WAIT;
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        while laptop
            .get(&uuid)
            .and_then(|v| v.get("vikunja_id").cloned())
            .is_none()
        {
            assert!(
                Instant::now() < deadline,
                "laptop never got {uuid}'s Vikunja id"
            );
            tick.tick().await;
        }
    }
    settle(&sys, "before the edits").await;
    sys.sim.clear_requests();

    // 1. Edits, each followed by one floor `task import`.
    let floor_host = TwHost::new("floor");
    let warmup = 10;
    let mut starts: Vec<(SystemTime, i64)> = Vec::new();
    let (mut to_vikunja, mut to_desk, mut cmd_ms, mut floor) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let mut by_kind: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for i in 0..(warmup + n) {
        let t = &mut tasks[i % TASKS];
        let (kind, args, check) = edit(i, t);
        let what = format!("edit {i} ({kind}) of {}", t.uuid);
        let mut argv = vec![t.uuid.clone()];
        argv.extend(args);
        notices.drain();
        let before = notices.version("desk", &t.uuid);
        let (at0, t0, took) = timed_task(laptop, argv).await;
        starts.push((at0, t.id));
        let desk_at = notices.wait("desk", &t.uuid, before, &what).await;
        let written = vikunja_write(&sys.sim, t.id, &check, at0, &what).await;
        let f = vsync_e2e::procs::bare_import(&floor_host, i).await;
        if i >= warmup {
            let v = written.duration_since(at0).map(ms).unwrap_or(0.0);
            to_vikunja.push(v);
            to_desk.push(ms(desk_at - t0));
            cmd_ms.push(took);
            floor.push(f);
            by_kind.entry(kind).or_default().push(v);
        }
    }

    // 3. Hook overhead, on its own task (after the edits, so its changes are not in their
    // request windows; the request log is read now and the hook phase's calls counted apart).
    settle(&sys, "before the hook phase").await;
    let hook_phase_start = SystemTime::now();
    let edit_requests = sys.sim.requests();
    let empty_hooks = sys.temp_dir().join("no-hooks");
    std::fs::create_dir_all(&empty_hooks).unwrap();
    let with = format!("rc.hooks.location={}", laptop.hooks_dir().display());
    let without = format!("rc.hooks.location={}", empty_hooks.display());
    // The floor of any on-exit hook: Taskwarrior running `/bin/true` as one.
    let noop_hooks = sys.temp_dir().join("noop-hooks");
    std::fs::create_dir_all(&noop_hooks).unwrap();
    std::os::unix::fs::symlink("/bin/true", noop_hooks.join("on-exit.noop")).unwrap();
    let noop = format!("rc.hooks.location={}", noop_hooks.display());
    // The hook program alone, spawned directly as Taskwarrior would at exit, handing the task
    // as it is (no change, so no Vikunja call) to the running tw-watcher.
    let hook_bin = vsync_e2e::procs::hook_program();
    println!("hook program: {}", hook_bin.display());
    // Both hand over the probe task as it is, so the watcher sees no change (no sync work).
    let probe_json = laptop.get(&probe_task.uuid).unwrap();
    let hook_input = format!("{probe_json}\n");
    let socket = vsync_hook_wire::socket_path(&laptop.data_dir());
    let hook_line = vsync_hook_wire::HookMessage::new(
        vsync_hook_wire::HookEvent::Exit,
        "modify",
        vec![probe_json.clone()],
        Vec::new(),
    )
    .to_line();
    let mut samples: [Vec<f64>; VARIANTS] = Default::default();
    let mut paired = Vec::new();
    let mut hooked = 0usize;
    let mut synced_last = true;
    // A pause between measured commands, so one's background work does not land in the next.
    let mut pace = tokio::time::interval(Duration::from_millis(50));
    for r in 0..(5 + hook_runs) {
        let mut round = [0.0; VARIANTS];
        for j in 0..VARIANTS {
            let v = (r + j) % VARIANTS;
            pace.tick().await;
            round[v] = match v {
                HOOK_OFF | HOOK_ON | NOOP => {
                    let hook = v == HOOK_ON;
                    let (name, loc) = match v {
                        HOOK_ON => ("on", &with),
                        HOOK_OFF => ("off", &without),
                        _ => ("noop", &noop),
                    };
                    let title = format!("hook bench {name} {r}");
                    notices.drain();
                    let before = notices.version("desk", &hook_task.uuid);
                    let argv = vec![
                        loc.clone(),
                        hook_task.uuid.clone(),
                        "modify".into(),
                        title.clone(),
                    ];
                    let (at0, _, took) = timed_task(laptop, argv).await;
                    synced_last = hook;
                    if hook {
                        hooked += 1;
                        notices.wait("desk", &hook_task.uuid, before, &title).await;
                        let check = Check::Title(title.clone());
                        vikunja_write(&sys.sim, hook_task.id, &check, at0, &title).await;
                        assert!(sys.sim.wait_deliveries_idle(WAIT).await);
                    }
                    took
                }
                HOOK_ALONE => {
                    let argv = [
                        "api:2".to_string(),
                        "args:task modify".into(),
                        "command:modify".into(),
                        format!("data:{}", laptop.data_dir().display()),
                        "version:2.6.2".into(),
                    ];
                    spawn_timed(
                        hook_bin.clone(),
                        Some("on-exit.vikunja-sync"),
                        argv.to_vec(),
                        hook_input.clone(),
                    )
                    .await
                }
                SPAWN => spawn_timed("/bin/true".into(), None, Vec::new(), String::new()).await,
                _ => {
                    let (line, socket) = (hook_line.clone(), socket.clone());
                    tokio::task::spawn_blocking(move || {
                        let t0 = Instant::now();
                        vsync_hook_wire::send_to_watcher(&line, &socket)
                            .expect("the watcher's socket takes it");
                        ms(t0.elapsed())
                    })
                    .await
                    .unwrap()
                }
            };
        }
        if r >= 5 {
            for (v, took) in round.iter().enumerate() {
                samples[v].push(*took);
            }
            paired.push(round[HOOK_ON] - round[HOOK_OFF]);
        }
    }
    if !synced_last {
        // The last change was made without our hook: make one with it, so all agree again.
        let title = "hook bench final".to_string();
        notices.drain();
        let before = notices.version("desk", &hook_task.uuid);
        let argv = vec![
            with.clone(),
            hook_task.uuid.clone(),
            "modify".into(),
            title.clone(),
        ];
        let (at0, _, _) = timed_task(laptop, argv).await;
        hooked += 1;
        notices.wait("desk", &hook_task.uuid, before, &title).await;
        vikunja_write(
            &sys.sim,
            hook_task.id,
            &Check::Title(title.clone()),
            at0,
            &title,
        )
        .await;
    }
    let spool = laptop.data_dir().join(".vikunja-sync/spool.jsonl");
    let spooled = std::fs::read_to_string(&spool)
        .map(|s| s.lines().count())
        .unwrap_or(0);

    // Everything settles; then the checks.
    settle(&sys, "at the end").await;
    let all_requests = sys.sim.requests();
    let probe_after = laptop.get(&probe_task.uuid).unwrap();
    for field in ["description", "modified", "priority"] {
        assert_eq!(
            probe_json.get(field),
            probe_after.get(field),
            "the probe task changed"
        );
    }
    for t in tasks.iter().chain([&hook_task, &probe_task]) {
        let (l, d) = (laptop.get(&t.uuid).unwrap(), desk.get(&t.uuid).unwrap());
        for field in ["description", "status", "priority", "due"] {
            assert_eq!(l.get(field), d.get(field), "{field} of {} differs", t.uuid);
        }
        let notes = |v: &Value| {
            v["annotations"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|n| n["description"].clone())
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        assert_eq!(notes(&l), notes(&d), "annotations of {} differ", t.uuid);
        let v = sys.sim.task(t.id).unwrap();
        assert_eq!(v.title, l["description"].as_str().unwrap());
        assert_eq!(v.done, l["status"] == "completed");
    }

    // 2. API calls per edit.
    let periodic = all_requests.iter().filter(|r| is_periodic(r)).count();
    let mut per_edit = vec![0usize; starts.len()];
    let mut foreign = 0usize;
    let mut routes: BTreeMap<String, usize> = BTreeMap::new();
    for r in edit_requests.iter().filter(|r| !is_periodic(r)) {
        let Some(w) = starts.iter().rposition(|(at, _)| *at <= r.at) else {
            continue;
        };
        per_edit[w] += 1;
        if !about_task(&r.path, starts[w].1) {
            foreign += 1;
        }
        if w >= warmup {
            *routes
                .entry(format!("{} {} -> {}", r.method, r.route, r.status))
                .or_default() += 1;
        }
    }
    let mut dist: BTreeMap<usize, usize> = BTreeMap::new();
    for c in &per_edit[warmup..] {
        *dist.entry(*c).or_default() += 1;
    }
    let hook_phase_calls = all_requests
        .iter()
        .filter(|r| r.at >= hook_phase_start && !is_periodic(r))
        .count();

    // Report.
    let (fp50, fp95, _) = stats(&floor);
    println!("\n## Taskwarrior -> Vikunja, {n} edits on laptop, sequential (+{warmup} warm-up)");
    println!(
        "edits rotate over {TASKS} tasks: {} (never tags); webhook echo from the simulator on",
        KINDS.join(", ")
    );
    println!("floor: bare `task import` of one new task, median {fp50:.2} ms (p95 {fp95:.2})");
    println!("| from `task` start to | p50 ms | p95 ms | p99 ms | p50/floor | p99/floor |");
    println!("|---|---|---|---|---|---|");
    for (name, v) in [
        ("`task` command exits (hook included)", &cmd_ms),
        ("Vikunja write answered", &to_vikunja),
        ("desk applied (`task import` returned)", &to_desk),
    ] {
        let (p50, p95, p99) = stats(v);
        println!(
            "| {name} | {p50:.2} | {p95:.2} | {p99:.2} | {:.2} | {:.2} |",
            p50 / fp50,
            p99 / fp50
        );
    }
    println!("\nTW edit -> Vikunja write by kind of edit:");
    println!("| edit | n | p50 ms | p95 ms | p99 ms |");
    println!("|---|---|---|---|---|");
    for (k, v) in &by_kind {
        let (p50, p95, p99) = stats(v);
        println!("| {k} | {} | {p50:.2} | {p95:.2} | {p99:.2} |", v.len());
    }
    println!("\nVikunja API calls per edit ({n} edits, request log, periodic listings excluded):");
    println!("| calls | edits |");
    println!("|---|---|");
    for (c, e) in &dist {
        println!("| {c} | {e} |");
    }
    println!("calls by route: {routes:?}");
    println!(
        "calls not about the edited task: {foreign}; periodic listings (projects, webhooks, \
         reconcile passes) during the whole run (excluded; `[reconcile] interval = \
         full_interval = 1h`): {periodic}"
    );

    let min = |v: &[f64]| v.iter().copied().fold(f64::INFINITY, f64::min);
    println!(
        "\n## Hook overhead: `task <uuid> modify <title>` on laptop, {hook_runs} runs per variant, \
         interleaved round by round, against the running tw-watcher"
    );
    println!("| variant | p50 ms | p90 ms | min ms |");
    println!("|---|---|---|---|");
    for (v, name) in [
        (HOOK_OFF, "`task modify`, without hook (empty hooks dir)"),
        (
            HOOK_ON,
            "`task modify`, with on-exit hook (hand-over to tw-watcher)",
        ),
        (
            HOOK_ALONE,
            "the hook program alone (spawn + hand-over, no Taskwarrior)",
        ),
        (
            NOOP,
            "`task modify`, with `/bin/true` as the on-exit hook (floor of any hook)",
        ),
        (SPAWN, "spawn floor (`/bin/true`)"),
        (
            EXCHANGE,
            "socket hand-over alone (the hook's `send_to_watcher`, in the bench process)",
        ),
    ] {
        let s = &samples[v];
        println!(
            "| {name} | {:.2} | {:.2} | {:.2} |",
            pct(s, 50.0),
            pct(s, 90.0),
            min(s)
        );
    }
    println!(
        "hook overhead: p50(with) - p50(without) = {:+.2} ms; p50 of the per-round differences = \
         {:+.2} ms; min(with) - min(without) = {:+.2} ms",
        pct(&samples[HOOK_ON], 50.0) - pct(&samples[HOOK_OFF], 50.0),
        pct(&paired, 50.0),
        min(&samples[HOOK_ON]) - min(&samples[HOOK_OFF]),
    );
    println!(
        "any on-exit hook (`/bin/true`): p50(noop) - p50(without) = {:+.2} ms",
        pct(&samples[NOOP], 50.0) - pct(&samples[HOOK_OFF], 50.0),
    );
    println!(
        "hooked modifies {hooked}, their Vikunja API calls {hook_phase_calls}; lines spooled \
         (hand-over failed): {spooled}"
    );
    println!("resident memory at the end:");
    for (name, kb) in sys.rss_kb() {
        println!("  {name:<20} {:.1} MB", kb as f64 / 1024.0);
    }
}
