//! `vikunja-sync up` on one machine: its own nats-server, every service as its own process
//! (each reporting its own `service.name`, traces joined across them), a change each way, a
//! clean stop on SIGTERM, and no service left behind when `up` itself is killed.

use std::time::Duration;

use vsync_e2e::otlp::{Collector, Span};
use vsync_e2e::procs::{bin, free_port};
use vsync_e2e::*;
use vsync_harness::{ServiceProcess, TwHost};

/// `up` running for one Taskwarrior host and the simulator, state under `dir/state`.
struct Up {
    process: ServiceProcess,
    /// Dropped after `process`: whatever `up` started that still runs when the test ends (a
    /// failed test kills `up` outright; its nats-server would outlive it, holding whatever the
    /// test inherited, such as the suite lock).
    leftovers: Reap,
    sim: vikunja_sim::Simulator,
    home: i64,
    host: TwHost,
    dir: tempfile::TempDir,
}

/// Starts `up` (with OTLP export to `otlp` if given) and waits for its webhook registration.
async fn start_up(otlp: Option<&str>) -> Up {
    trace_init();
    let sim = vikunja_sim::Simulator::start(Default::default())
        .await
        .unwrap();
    let home = sim.create_project("Home", 0).id;
    let host = TwHost::new("solo");
    vikunja_sync::hook::install(&host.data_dir(), None, Some(&hook_bin()), false).unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token"), sim.token()).unwrap();
    std::fs::write(dir.path().join("secret"), "up-secret").unwrap();
    let port = free_port();
    let telemetry = otlp
        .map(|e| format!("[telemetry]\notlp_endpoint = \"{e}\"\n"))
        .unwrap_or_default();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[vikunja]\nurl = \"{}\"\ntoken_file = \"{}\"\nwebhook_secret_file = \"{}\"\nwebhook_url = \"http://127.0.0.1:{port}/webhook\"\n\
             [ingress]\nlisten = \"127.0.0.1:{port}\"\nmetrics_listen = \"127.0.0.1:0\"\n[taskwarrior]\nhost = \"solo\"\ndata = \"{}\"\ntaskrc = \"{}\"\ntask_bin = \"{}\"\n{telemetry}",
            sim.base_url(),
            dir.path().join("token").display(),
            dir.path().join("secret").display(),
            host.data_dir().display(),
            host.taskrc().display(),
            host.task_bin().display(),
        ),
    )
    .unwrap();
    let state = dir.path().join("state").display().to_string();
    let config = config.display().to_string();
    let process = tokio::task::spawn_blocking(move || {
        ServiceProcess::start_args(
            &bin("vikunja-sync"),
            &["--config", &config, "up"],
            // Spans exported at once instead of every 5 s.
            &[
                ("XDG_STATE_HOME", &state),
                ("OTEL_BSP_SCHEDULE_DELAY", "50"),
            ],
            Duration::from_secs(60),
        )
    })
    .await
    .unwrap();
    let leftovers = Reap(children(process.pid()));
    assert!(
        leftovers.0.iter().any(|(_, name)| name == "nats-server"),
        "{:?}",
        leftovers.0
    );
    webhook_registered_in(&sim, home).await;
    Up {
        process,
        leftovers,
        sim,
        home,
        host,
        dir,
    }
}

/// `up`'s own bus: an anonymous client is refused, and what lets one in (the identities, the
/// bus's config) and where it is (`bus-url`) are private to the user.
async fn up_bus_is_private(state: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    let url = std::fs::read_to_string(state.join("bus-url")).unwrap();
    let addr = url.trim().trim_start_matches("nats://").to_string();
    let answer = vsync_harness::anonymous_answer(&addr).await.unwrap();
    assert!(answer.contains("Authorization Violation"), "{answer}");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(state), 0o700, "{}", state.display());
    let ids = state.join("bus-identities");
    assert_eq!(mode(&ids), 0o700);
    let mut files = vec![state.join("bus-url"), state.join("nats.conf")];
    files.extend(walk(&ids).into_iter().filter(|p| p.is_file()));
    assert!(files.len() >= 4, "{files:?}");
    for f in files {
        assert_eq!(mode(&f), 0o600, "{}", f.display());
    }
}

/// Every path under `dir`, directories included.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

fn child_of(c: &Span, p: &Span) -> bool {
    c.trace_id == p.trace_id && c.parent_span_id == p.span_id
}

/// Whether `m` is the publish between `p` and its grandchild `c`: what the reconciler hands on
/// (canonical state, label work) hangs under its publish span.
fn published_by(spans: &[Span], c: &Span, p: &Span) -> bool {
    spans
        .iter()
        .any(|m| m.name.starts_with("publish ") && child_of(m, p) && child_of(c, m))
}

/// The hops of one Vikunja change (webhook published, merged, applied on the host), once all
/// of them were exported.
fn vikunja_trace(spans: &[Span], vikunja_id: &str) -> Option<[Span; 3]> {
    let publish = spans
        .iter()
        .find(|s| {
            s.name.starts_with("publish vsync.v1.in.vikunja")
                && s.attr("vikunja.task_id") == Some(vikunja_id)
        })?
        .clone();
    // An event may be processed more than once (one that waited for adoption comes back):
    // the processing that merged it is the one with children.
    let applied_by = |m: &Span| {
        spans
            .iter()
            .find(|s| s.name.starts_with("process $KV") && published_by(spans, s, m))
            .cloned()
    };
    let (merged, applied) = spans
        .iter()
        .filter(|s| child_of(s, &publish))
        .find_map(|m| Some((m.clone(), applied_by(m)?)))?;
    Some([publish, merged, applied])
}

/// The hops of both changes, once all of them were exported: (Vikunja -> TW), (TW -> Vikunja).
fn both_traces(spans: &[Span], vikunja_id: &str) -> Option<([Span; 3], [Span; 5])> {
    let find = |pred: &dyn Fn(&Span) -> bool| spans.iter().find(|s| pred(s)).cloned();
    let from_vikunja = vikunja_trace(spans, vikunja_id)?;
    let published = find(&|s| s.name.starts_with("publish vsync.v1.in.tw.*.*.task"))?;
    let (merged_tw, create) = spans
        .iter()
        .filter(|s| child_of(s, &published))
        .find_map(|m| {
            let create = spans
                .iter()
                .find(|s| s.name == "PUT /api/v1/projects/{id}/tasks" && child_of(s, m))?;
            Some((m.clone(), create.clone()))
        })?;
    let labels = find(&|s| {
        s.name.starts_with("process vsync.v1.ctl.labels") && published_by(spans, s, &merged_tw)
    })?;
    let label_call = find(&|s| child_of(s, &labels))?;
    Some((
        from_vikunja,
        [published, merged_tw, create, labels, label_call],
    ))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_runs_each_service_as_itself_on_its_own_bus_and_stops_on_sigterm() {
    let collector = Collector::start().await;
    let up = start_up(Some(&collector.endpoint())).await;
    let state = up.dir.path().join("state/vikunja-sync");
    assert!(
        state.join("nats/jetstream").is_dir(),
        "the local bus keeps its data in the state directory"
    );
    up_bus_is_private(&state).await;
    // The host adopted (it follows canonical state from then on): each hop below is traced
    // through the bus, not applied by the host's first pass.
    let adopted = up.host.data_dir().join(".vikunja-sync/adoption.json");
    vsync_harness::wait_for("the host adopted", PROPAGATION, move || {
        adopted.exists().then_some(())
    })
    .await;
    // One change through first: the host's first pass after adoption may apply it instead of
    // its consumer; the traced changes come after.
    up.sim.create_task(up.home, "before the traced changes");
    wait_task(&up.host, "the first change", |t| {
        s(t, "description") == "before the traced changes"
    })
    .await;

    // Vikunja -> the host, and the host (a tagged task) -> Vikunja. A pass of the host's
    // (after adoption) or of the reconciler running meanwhile may bring a task to the host
    // before its event does, and the event then has nothing left to apply: a new task is made
    // until one arrives by its event (a third that does not says tracing is broken).
    let mut traced = None;
    for attempt in 0..3 {
        let title: &'static str =
            ["through up", "through up again", "through up a third time"][attempt];
        let task = up.sim.create_task(up.home, title);
        wait_task(&up.host, "the Vikunja task", move |t| {
            s(t, "description") == title
        })
        .await;
        let id = task.id.to_string();
        traced = vsync_harness::poll_until(Duration::from_secs(5), || async {
            vikunja_trace(&collector.spans(), &id).map(|_| id.clone())
        })
        .await;
        if traced.is_some() {
            break;
        }
    }
    let id = traced.expect("a Vikunja change traced through to the host in one of 3 tries");
    up.host.add(&["tagged on solo", "project:Home", "+errand"]);
    let sim = up.sim.clone();
    vsync_harness::wait_for("the tagged task in Vikunja", PROPAGATION, move || {
        sim.tasks().into_iter().find(|t| {
            t.title == "tagged on solo" && t.labels.as_ref().is_some_and(|l| l.len() == 1)
        })
    })
    .await;
    let (from_vikunja, from_tw) =
        vsync_harness::wait_for_async("the spans of both changes", PROPAGATION, || async {
            both_traces(&collector.spans(), &id)
        })
        .await;

    // Each hop under the service that made it, the shared crates' spans (the bus's publish and
    // process, the Vikunja client's calls) included; each change one trace across services.
    let services =
        |hops: &[Span]| -> Vec<String> { hops.iter().map(|s| s.service.clone()).collect() };
    assert_eq!(
        services(&from_vikunja),
        ["webhook-ingress", "reconciler", "tw-watcher"]
    );
    assert_eq!(from_vikunja[2].instance, "solo");
    assert_eq!(
        services(&from_tw),
        [
            "tw-watcher",
            "reconciler",
            "reconciler",
            "label-sync",
            "label-sync"
        ]
    );
    let all: std::collections::BTreeSet<String> =
        collector.spans().into_iter().map(|s| s.service).collect();
    assert_eq!(
        all,
        ["label-sync", "reconciler", "tw-watcher", "webhook-ingress"]
            .map(String::from)
            .into(),
        "every span under the service that made it, none under `vikunja-sync`"
    );

    let status = tokio::task::spawn_blocking(move || up.process.terminate(Duration::from_secs(30)))
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    assert!(
        !state.join("bus-url").exists(),
        "the local bus is gone, and so is its URL"
    );
}

/// The processes `pid` started, with their program names.
fn children(pid: u32) -> Vec<(u32, String)> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .map(|p: u32| (p, program_name(p)))
        .collect()
}

/// Whether `pid` still runs (a zombie does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| Some(s[s.rfind(')')? + 1..].split_whitespace().next()? != "Z"))
        .unwrap_or(false)
}

/// Kills what is left of these processes when dropped, so a failing test leaves nothing
/// running (that would hold the test's output open).
struct Reap(Vec<(u32, String)>);

impl Drop for Reap {
    fn drop(&mut self) {
        for (pid, name) in &self.0 {
            if running(*pid) && program_name(*pid) == *name {
                let _ = std::process::Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .status();
            }
        }
    }
}

fn program_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_services_stop_when_up_is_killed() {
    let up = start_up(None).await;
    // nats-server has no lifeline (the next `up` stops it, nats_server.rs); `Up` reaps it.
    let services: Vec<u32> = up
        .leftovers
        .0
        .iter()
        .filter(|(_, name)| name != "nats-server")
        .map(|(pid, _)| *pid)
        .collect();
    assert_eq!(services.len(), 4, "{:?}", up.leftovers.0);
    drop(up.process); // SIGKILL: `up` gets no chance to stop anything
    vsync_harness::wait_for("every service to stop", PROPAGATION, move || {
        services.iter().all(|p| !running(*p)).then_some(())
    })
    .await;
}

/// A home-manager layout: the only taskrc is `$XDG_CONFIG_HOME/task/taskrc`, naming data under
/// `$XDG_DATA_HOME/task`; the config says nothing about either. `hook install` and the watcher
/// find both the way `task` does, tasks sync both ways, and no `~/.taskrc` appears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_home_manager_layout_syncs_and_gets_no_home_taskrc() {
    trace_init();
    let sim = vikunja_sim::Simulator::start(Default::default())
        .await
        .unwrap();
    let project = sim.create_project("Home", 0).id;
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    let config_home = home.join(".config");
    let data_home = home.join(".local/share");
    let rc = config_home.join("task/taskrc");
    let data = data_home.join("task");
    std::fs::create_dir_all(rc.parent().unwrap()).unwrap();
    std::fs::create_dir_all(&data).unwrap();
    // As home-manager writes it: an absolute data.location, nothing else pointing anywhere.
    std::fs::write(
        &rc,
        format!(
            "data.location={}\nconfirmation=off\nverbose=nothing\njson.array=on\nhooks=on\n\
             news.version=99.99.99\n",
            data.display()
        ),
    )
    .unwrap();
    let env: Vec<(String, String)> = [
        ("HOME", &home),
        ("XDG_CONFIG_HOME", &config_home),
        ("XDG_DATA_HOME", &data_home),
        ("XDG_STATE_HOME", &dir.path().join("state")),
    ]
    .map(|(k, v)| (k.to_string(), v.display().to_string()))
    .to_vec();
    let task_bin = vsync_harness::task_program();
    let task = {
        let (task_bin, env) = (task_bin.clone(), env.clone());
        move |args: &[&str]| {
            let out = std::process::Command::new(&task_bin)
                .args(args)
                .env_remove("TASKRC")
                .env_remove("TASKDATA")
                .envs(env.iter().map(|(k, v)| (k, v)))
                .output()
                .unwrap();
            assert!(out.status.success(), "task {args:?}: {out:?}");
            String::from_utf8_lossy(&out.stdout).into_owned()
        }
    };

    std::fs::write(dir.path().join("token"), sim.token()).unwrap();
    std::fs::write(dir.path().join("secret"), "hm-secret").unwrap();
    let port = free_port();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[vikunja]\nurl = \"{}\"\ntoken_file = \"{}\"\nwebhook_secret_file = \"{}\"\nwebhook_url = \"http://127.0.0.1:{port}/webhook\"\n\
             [ingress]\nlisten = \"127.0.0.1:{port}\"\n[taskwarrior]\nhost = \"hm\"\ntask_bin = \"{}\"\n",
            sim.base_url(),
            dir.path().join("token").display(),
            dir.path().join("secret").display(),
            task_bin.display(),
        ),
    )
    .unwrap();
    let config = config.display().to_string();

    let hook_bin = hook_bin().display().to_string();
    let install = std::process::Command::new(bin("vikunja-sync"))
        .args([
            "--config",
            &config,
            "hook",
            "install",
            "--hook-bin",
            &hook_bin,
        ])
        .env_remove("TASKRC")
        .env_remove("TASKDATA")
        .envs(env.iter().map(|(k, v)| (k, v)))
        .output()
        .unwrap();
    assert!(install.status.success(), "{install:?}");
    assert!(
        data.join("hooks/on-exit.vikunja-sync").exists(),
        "the hook is where task runs hooks: {install:?}"
    );
    assert!(
        std::fs::read_to_string(&rc)
            .unwrap()
            .contains("uda.vikunja_id.type=numeric"),
        "the UDA is declared in the taskrc task reads"
    );
    assert!(
        !home.join(".taskrc").exists(),
        "hook install made ~/.taskrc"
    );

    let process = {
        let env = env.clone();
        tokio::task::spawn_blocking(move || {
            let env: Vec<(&str, &str)> =
                env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            ServiceProcess::start_args(
                &bin("vikunja-sync"),
                &["--config", &config, "up"],
                &env,
                Duration::from_secs(60),
            )
        })
        .await
        .unwrap()
    };
    let leftovers = Reap(children(process.pid()));
    assert!(
        leftovers.0.iter().any(|(_, name)| name == "tw-watcher"),
        "up found the data directory and runs a watcher: {:?}",
        leftovers.0
    );
    webhook_registered_in(&sim, project).await;

    // Vikunja -> the XDG data, and a task added there -> Vikunja.
    sim.create_task(project, "to the xdg host");
    let export = task.clone();
    vsync_harness::wait_for("the Vikunja task in the XDG data", PROPAGATION, move || {
        export(&["rc.hooks=off", "export"])
            .contains("to the xdg host")
            .then_some(())
    })
    .await;
    task(&["add", "from the xdg host", "project:Home"]);
    let s2 = sim.clone();
    vsync_harness::wait_for("the XDG host's task in Vikunja", PROPAGATION, move || {
        s2.tasks()
            .into_iter()
            .find(|t| t.title == "from the xdg host" && t.project_id == project)
    })
    .await;
    assert!(!home.join(".taskrc").exists(), "the sync made ~/.taskrc");

    let status = tokio::task::spawn_blocking(move || process.terminate(Duration::from_secs(30)))
        .await
        .unwrap();
    assert!(status.success(), "{status}");
    drop(leftovers);
}
