//! Helpers shared by the end-to-end tests and the benchmarks: a whole system on this machine
//! (the demo's [`System`], `vikunja-sync-demo`) and typed waits on what each side shows.

pub mod crash;
pub mod faults;
pub mod otlp;
pub mod plot;
pub mod procs;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
pub use vikunja_sync_demo::{Options, System};
use vsync_harness::TwHost;

/// How long any one propagation may take in a test before it fails.
pub const PROPAGATION: Duration = Duration::from_secs(15);

/// Starts a system with the given hosts, the hook installed in each, and the given projects.
pub async fn system(hosts: &[&str], projects: &[&str]) -> System {
    system_with(hosts, projects, vikunja_sim::SimConfig::default()).await
}

pub async fn system_with(hosts: &[&str], projects: &[&str], sim: vikunja_sim::SimConfig) -> System {
    trace_init();
    System::start(options(hosts, projects, sim))
        .await
        .expect("start the system")
}

/// Logs of every service on stderr when `TEST_LOG` is set (filter from `RUST_LOG`).
pub fn trace_init() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_test_writer()
            .try_init();
    }
}

/// The options `system` uses, to adjust before starting.
pub fn options(hosts: &[&str], projects: &[&str], sim: vikunja_sim::SimConfig) -> Options {
    Options {
        hosts: hosts.iter().map(|h| h.to_string()).collect(),
        hook_bin: Some(hook_bin()),
        sim,
        projects: projects.iter().map(|p| p.to_string()).collect(),
        taskrc: vec![
            "uda.estimate.type=duration".into(),
            "uda.estimate.label=Estimate".into(),
        ],
        ..Options::default()
    }
}

/// Waits until Vikunja and every one of `hosts` have been adopted.
pub async fn wait_adopted(bus: &vsync_bus::Bus, hosts: &[&str]) {
    vsync_harness::wait_for_async("adoption", Duration::from_secs(120), || async {
        let a = bus.adoption().await.ok()?;
        (a.vikunja_at_us.is_some() && hosts.iter().all(|h| a.host_adopted(h))).then_some(())
    })
    .await;
}

/// `options` without the periodic listing, which would get in the way of counting API calls.
pub fn quiet_options(hosts: &[&str], projects: &[&str]) -> Options {
    trace_init();
    let mut o = options(hosts, projects, vikunja_sim::SimConfig::default());
    o.reconcile_interval = Duration::from_secs(3600);
    o
}

/// Waits until every host shows a task satisfying `pred`; returns them in host order.
pub async fn on_every_host(
    sys: &System,
    what: &str,
    pred: impl Fn(&Value) -> bool + Clone + Send + Sync + 'static,
) -> Vec<Value> {
    let mut out = Vec::new();
    for h in &sys.hosts {
        out.push(wait_task(h, what, pred.clone()).await);
    }
    out
}

/// Matches the TW task that carries Vikunja id `id`.
pub fn has_vid(id: i64) -> impl Fn(&Value) -> bool + Clone + Send + Sync + 'static {
    move |t: &Value| t["vikunja_id"].as_f64() == Some(id as f64)
}

/// The hook program cargo built for this package's tests and benches (`e2e-hook`, from the
/// hook's own source): `target/<profile>/e2e-hook`, next to `deps/` where the test runs.
pub fn hook_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let profile_dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps/<test>");
    let bin = profile_dir.join("e2e-hook");
    assert!(bin.is_file(), "{} was not built", bin.display());
    bin
}

/// A bus client of the test's own on the system's nats-server (control requests, canonical
/// state).
pub async fn test_bus(sys: &System) -> vsync_bus::Bus {
    vsync_bus::Bus::connect(
        &vsync_bus::BusConfig::new(&sys.bus_url(), "test")
            .with_credentials(sys.nats.server_credentials()),
    )
    .await
    .expect("connect to the test's nats-server")
}

/// JetStream on the system's nats-server, for tests that look at streams directly or publish
/// what no service would.
pub async fn jetstream(sys: &System) -> async_nats::jetstream::Context {
    let client = async_nats::ConnectOptions::with_nkey(sys.nats.seed(&vsync_bus::Role::Server))
        .connect(sys.bus_url())
        .await
        .expect("connect to the test's nats-server");
    async_nats::jetstream::new(client)
}

/// One reconcile of every project now, as `vikunja-sync reconcile [--full]` asks for it; fails
/// the test when it reports an error.
pub async fn reconcile_now(bus: &vsync_bus::Bus, full: bool) -> vsync_bus::reports::ReconcileReply {
    reconcile_asked(
        bus,
        &vsync_bus::control::ReconcileRequest {
            full,
            ..Default::default()
        },
    )
    .await
}

/// A reconcile pass as `req` asks for it; fails the test if a side reports an error.
pub async fn reconcile_asked(
    bus: &vsync_bus::Bus,
    req: &vsync_bus::control::ReconcileRequest,
) -> vsync_bus::reports::ReconcileReply {
    let r = vikunja_sync::ctl::reconcile(bus, req)
        .await
        .expect("the reconciler answers");
    assert!(r.errors().is_empty(), "{r}");
    r
}

/// One host reconcile pass on every host, now; fails the test if a host reports an error.
pub async fn reconcile_every_host(sys: &System) {
    let bus = test_bus(sys).await;
    let replies = bus
        .reconcile_hosts(PROPAGATION)
        .await
        .expect("ask every host to reconcile");
    assert_eq!(replies.len(), sys.hosts.len());
    for r in replies {
        if let Err(e) = r.into_result() {
            panic!("host reconcile failed: {e:?}");
        }
    }
}

/// Waits until the reconciler has finished `n` more reconcile passes (each may take up to a
/// minute on a loaded 2-core machine).
pub async fn reconcile_passes(sys: &System, n: usize) {
    let finished = || async {
        sys.bus
            .last_reconcile()
            .await
            .ok()
            .flatten()
            .map_or(0, |r| r.finished_at_us)
    };
    for _ in 0..n {
        let before = finished().await;
        vsync_harness::wait_for_async("a reconcile pass", Duration::from_secs(60), || async {
            (finished().await > before).then_some(())
        })
        .await;
    }
}

/// The id of the top-level project titled `title`.
pub fn project_id(sys: &System, title: &str) -> i64 {
    sys.sim
        .projects()
        .into_iter()
        .find(|p| p.title == title)
        .map(|p| p.id)
        .unwrap_or_else(|| panic!("no project {title}"))
}

/// Waits until the system registered its webhook on `project`.
pub async fn webhook_registered(sys: &System, project: i64) {
    webhook_registered_in(&sys.sim, project).await
}

/// Waits until the simulator has a webhook on `project`.
pub async fn webhook_registered_in(sim: &vikunja_sim::Simulator, project: i64) {
    vsync_harness::wait_for_async("the webhook registration", PROPAGATION, || async {
        (!sim.webhooks(project).is_empty()).then_some(())
    })
    .await;
}

/// Waits until `host` shows a task satisfying `pred`, and returns it; on timeout the failure
/// shows what the host has.
pub async fn wait_task(
    host: &TwHost,
    what: &str,
    pred: impl Fn(&Value) -> bool + Send + Sync + 'static,
) -> Value {
    let (bin, rc, data) = (
        host.task_bin().to_path_buf(),
        host.taskrc(),
        host.data_dir(),
    );
    let pred = std::sync::Arc::new(pred);
    let poll = async {
        let mut ticks = tokio::time::interval(Duration::from_millis(10));
        loop {
            ticks.tick().await;
            let (bin, rc, data, pred) = (bin.clone(), rc.clone(), data.clone(), pred.clone());
            let found = tokio::task::spawn_blocking(move || {
                export(&bin, &rc, &data).into_iter().find(|t| pred(t))
            })
            .await
            .expect("export task");
            if let Some(t) = found {
                return t;
            }
        }
    };
    match tokio::time::timeout(PROPAGATION, poll).await {
        Ok(t) => t,
        Err(_) => panic!(
            "timed out after {PROPAGATION:?} waiting for {what} on {}; it has: {:#?}",
            host.name,
            export(&bin, &rc, &data)
        ),
    }
}

/// `task export` of a host, from a blocking context.
pub fn export(bin: &std::path::Path, rc: &std::path::Path, data: &std::path::Path) -> Vec<Value> {
    let out = std::process::Command::new(bin)
        .args(["rc.hooks=off", "rc.json.array=on", "rc.gc=off", "export"])
        .env("TASKRC", rc)
        .env("TASKDATA", data)
        .output()
        .expect("run task export");
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

/// The string attribute `k` of a task.
pub fn s<'a>(t: &'a Value, k: &str) -> &'a str {
    t.get(k).and_then(Value::as_str).unwrap_or("")
}

/// The descriptions of a Taskwarrior task's annotations, in order.
pub fn annotations(t: &Value) -> Vec<&str> {
    t["annotations"]
        .as_array()
        .map(|a| a.iter().filter_map(|n| n["description"].as_str()).collect())
        .unwrap_or_default()
}
