//! The whole system with every service as its own process (as systemd runs them), for the
//! benchmarks: they report each service's resident memory, and tracing can be switched on per run.

use std::path::{Path, PathBuf};
use std::time::Duration;

use vikunja_sim::{SimConfig, Simulator};
use vsync_harness::{NatsServer, ServiceProcess, TwHost};

pub struct ProcSystem {
    pub nats: NatsServer,
    pub sim: Simulator,
    pub hosts: Vec<TwHost>,
    pub procs: Vec<(String, ServiceProcess)>,
    pub ingress_url: String,
    pub secret: String,
    pub bus: vsync_bus::Bus,
    dir: tempfile::TempDir,
}

/// Where cargo put this build's binaries (`target/<profile>`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    exe.parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<bench>")
        .to_path_buf()
}

/// The hook program the hosts run: `$VSYNC_HOOK_BIN` (scripts/bench.sh sets the statically
/// linked build users install, `cargo build-hook`), else `e2e-hook` from this build.
pub fn hook_program() -> PathBuf {
    match std::env::var_os("VSYNC_HOOK_BIN") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => bin("e2e-hook"),
    }
}

/// A program of this build (`target/<profile>/<name>`): the service binaries, `vikunja-sync`.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.is_file(),
        "{} is missing: build the services first (`cargo test --workspace`, scripts/test.sh and \
         scripts/bench.sh do)",
        p.display()
    );
    p
}

/// Knobs of a [`ProcSystem`] beyond hosts, projects and tracing.
#[derive(Debug, Clone, Default)]
pub struct ProcOptions {
    /// `[reconcile] interval`, for the reconciler (its periodic project + webhook listing and
    /// delta pass) and every tw-watcher (its host reconcile pass, a `task export`); `None`
    /// keeps the service default (60 s).
    pub reconcile_interval: Option<Duration>,
    /// The reconciler's `[reconcile] full_interval` (full listing); `None`: default (15 min).
    pub full_reconcile_interval: Option<Duration>,
    /// Tasks Vikunja has before the services start: (project title, task title).
    pub vikunja_tasks: Vec<(String, String)>,
    /// Tasks a host has before its watcher first starts: (host, `task add` arguments).
    pub host_tasks: Vec<(String, Vec<String>)>,
    /// `[adopt] auto = false`: nothing that existed before syncs until `adopt`, and the start
    /// does not wait for adoption.
    pub adopt_by_hand: bool,
}

/// Vikunja API routes the reconciler calls on its own timer (listing projects and their
/// webhooks to keep the registrations in place; the delta and full reconcile listings), not
/// in answer to a change.
pub const PERIODIC_ROUTES: [&str; 4] = [
    "/api/v1/projects",
    "/api/v1/projects/{id}/webhooks",
    "/api/v1/tasks",
    "/api/v1/projects/{id}/tasks",
];

/// Whether a logged request is one of the reconciler's periodic listings (a `GET` of
/// [`PERIODIC_ROUTES`]).
pub fn is_periodic(r: &vikunja_sim::LoggedRequest) -> bool {
    r.method == "GET" && PERIODIC_ROUTES.contains(&r.route.as_str())
}

/// A loopback port free right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl ProcSystem {
    /// nats-server, the simulator (with `projects`), ingress, reconciler, label-sync and one
    /// tw-watcher per host, each its own process; `otlp` turns tracing on for every service.
    pub async fn start(hosts: &[&str], projects: &[&str], otlp: Option<&str>) -> ProcSystem {
        Self::start_with(hosts, projects, otlp, &ProcOptions::default()).await
    }

    /// As [`ProcSystem::start`], with [`ProcOptions`].
    pub async fn start_with(
        hosts: &[&str],
        projects: &[&str],
        otlp: Option<&str>,
        opts: &ProcOptions,
    ) -> ProcSystem {
        let dir = tempfile::tempdir().expect("temp dir");
        let nats = NatsServer::start();
        let sim = Simulator::start(SimConfig::default())
            .await
            .expect("simulator");
        for p in projects {
            sim.create_project(p, 0);
        }
        for (project, title) in &opts.vikunja_tasks {
            let id = sim.projects().into_iter().find(|p| p.title == *project);
            sim.create_task(id.expect("vikunja_tasks names a listed project").id, title);
        }
        let secret = "bench-webhook-secret".to_string();
        std::fs::write(dir.path().join("token"), sim.token()).expect("token");
        std::fs::write(dir.path().join("secret"), &secret).expect("secret");
        let port = free_port();
        let telemetry = otlp
            .map(|e| format!("[telemetry]\notlp_endpoint = \"{e}\"\n"))
            .unwrap_or_default();
        let mut reconcile = String::new();
        for (key, d) in [
            ("interval", opts.reconcile_interval),
            ("full_interval", opts.full_reconcile_interval),
        ] {
            if let Some(d) = d {
                reconcile += &format!("{key} = \"{}ms\"\n", d.as_millis());
            }
        }
        if !reconcile.is_empty() {
            reconcile.insert_str(0, "[reconcile]\n");
        }
        let adopt = match opts.adopt_by_hand {
            true => "[adopt]\nauto = false\n",
            false => "",
        };
        let server = format!(
            "[bus]\nurl = \"{}\"\ncredentials_file = \"{}\"\n[vikunja]\nurl = \"{}\"\ntoken_file = \"{}\"\nwebhook_secret_file = \"{}\"\n\
             webhook_url = \"http://127.0.0.1:{port}/webhook\"\n[ingress]\nlisten = \"127.0.0.1:{port}\"\nmetrics_listen = \"127.0.0.1:0\"\n{telemetry}{reconcile}{adopt}",
            nats.url(),
            nats.server_credentials().display(),
            sim.base_url(),
            dir.path().join("token").display(),
            dir.path().join("secret").display(),
        );
        let server_cfg = dir.path().join("server.toml");
        std::fs::write(&server_cfg, server).expect("config");
        let mut procs = Vec::new();
        for name in ["webhook-ingress", "label-sync", "reconciler"] {
            let p = ServiceProcess::start(&bin(name), &server_cfg, Duration::from_secs(30));
            procs.push((name.to_string(), p));
        }
        let mut tw_hosts = Vec::new();
        for h in hosts {
            let host = TwHost::new(h);
            host.configure("uda.estimate.type=duration");
            for (_, args) in opts.host_tasks.iter().filter(|(name, _)| name == h) {
                let mut a = vec!["rc.hooks=off", "add"];
                a.extend(args.iter().map(String::as_str));
                host.ok(&a);
            }
            vikunja_sync::hook::links::link(
                &host.hooks_dir(),
                &hook_program(),
                &[vsync_hook_wire::HookKind::Exit],
            )
            .expect("install the hook");
            let cfg = dir.path().join(format!("{h}.toml"));
            std::fs::write(
                &cfg,
                format!(
                    "[bus]\nurl = \"{}\"\ncredentials_file = \"{}\"\n[taskwarrior]\nhost = \"{h}\"\ndata = \"{}\"\ntaskrc = \"{}\"\ntask_bin = \"{}\"\n{telemetry}{reconcile}",
                    nats.url(),
                    nats.host_credentials(h).display(),
                    host.data_dir().display(),
                    host.taskrc().display(),
                    host.task_bin().display()
                ),
            )
            .expect("config");
            let p = ServiceProcess::start(&bin("tw-watcher"), &cfg, Duration::from_secs(30));
            procs.push((format!("tw-watcher@{h}"), p));
            tw_hosts.push(host);
        }
        let bus = vsync_bus::Bus::connect(
            &vsync_bus::BusConfig::new(&nats.url(), "bench")
                .with_credentials(nats.server_credentials()),
        )
        .await
        .expect("connect");
        // Every host adopted (its empty Taskwarrior matched): from here on changes sync.
        if !opts.adopt_by_hand {
            crate::wait_adopted(&bus, hosts).await;
        }
        ProcSystem {
            nats,
            sim,
            hosts: tw_hosts,
            procs,
            ingress_url: format!("http://127.0.0.1:{port}/webhook"),
            secret,
            bus,
            dir,
        }
    }

    /// Resident memory (kB) of each service process.
    pub fn rss_kb(&self) -> Vec<(String, u64)> {
        self.procs
            .iter()
            .map(|(name, p)| (name.clone(), rss_kb(p.pid())))
            .collect()
    }

    /// The file-backed part of it (kB) for each service process: mostly the program's own code.
    pub fn rss_file_kb(&self) -> Vec<(String, u64)> {
        self.procs
            .iter()
            .map(|(name, p)| (name.clone(), status_kb(p.pid(), "RssFile:")))
            .collect()
    }

    pub fn temp_dir(&self) -> &Path {
        self.dir.path()
    }
}

/// VmRSS of a process, in kB (0 if unknown).
pub fn rss_kb(pid: u32) -> u64 {
    status_kb(pid, "VmRSS:")
}

/// One kB figure of `/proc/<pid>/status` (`key` with its colon; 0 if unknown).
fn status_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs a benchmark's body on the runtime every benchmark uses (two workers, as the machines
/// have two cores).
pub fn run_bench(body: impl std::future::Future<Output = ()>) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(body);
}

/// A benchmark's size from the environment variable `name`, else `default`.
pub fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Percentile of sorted samples (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// The floor the benchmarks compare with: one bare `task import` of one new task into `host`
/// (the `i`th), in milliseconds.
pub async fn bare_import(host: &TwHost, i: usize) -> f64 {
    let task = serde_json::json!({"uuid": format!("00000000-0000-4000-8000-{i:012}"),
        "description": format!("floor task {i}"), "status": "pending",
        "entry": "20260101T000000Z", "project": "Home"})
    .to_string();
    let (bin, rc, data) = (
        host.task_bin().to_path_buf(),
        host.taskrc(),
        host.data_dir(),
    );
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let t0 = std::time::Instant::now();
        let mut child = std::process::Command::new(bin)
            .args(["import", "-"])
            .env("TASKRC", rc)
            .env("TASKDATA", data)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run task import");
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(task.as_bytes()).expect("write the task");
        }
        assert!(child.wait().expect("wait for task").success());
        t0.elapsed().as_secs_f64() * 1e3
    })
    .await
    .expect("the floor measurement")
}
