//! Faults of a host's watcher: killed (`kill -9`) between a `task import` and the ack of the
//! canonical state it applied, killed with hook messages still in its socket's queue and the
//! hook's spool, and hook messages that arrive twice and out of order. Every side converges with
//! nothing lost, duplicated, reverted or left in dead letters.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use vsync_e2e::faults::{Measure, Sides, Want};
use vsync_e2e::*;
use vsync_harness::ServiceProcess;

const FAMILY: &str = "watcher";

/// The laptop's watcher as a process of its own (so it can be killed), running `task_bin`;
/// it applies with `task import` on every version (no in-process writes on 3.x), so the
/// program in `task_bin` sees each apply.
fn watcher_process(sys: &System, name: &str, task_bin: &Path, dir: &Path) -> ServiceProcess {
    watcher_process_with(sys, name, task_bin, dir, false, &[])
}

/// [`watcher_process`], writing Taskwarrior 3's replica in-process when `in_process`, with
/// extra environment.
fn watcher_process_with(
    sys: &System,
    name: &str,
    task_bin: &Path,
    dir: &Path,
    in_process: bool,
    env: &[(&str, &str)],
) -> ServiceProcess {
    let h = sys.host(name);
    let cfg = dir.join(format!("{name}.toml"));
    std::fs::write(
        &cfg,
        format!(
            "[bus]\nurl = \"{}\"\ncredentials_file = \"{}\"\n[taskwarrior]\nhost = \"{name}\"\ndata = \"{}\"\n\
             taskrc = \"{}\"\ntask_bin = \"{}\"\nin_process = {in_process}\n",
            sys.bus_url(),
            sys.nats.host_credentials(name).display(),
            h.data_dir().display(),
            h.taskrc().display(),
            task_bin.display()
        ),
    )
    .unwrap();
    ServiceProcess::start_with_env(
        &procs::bin("tw-watcher"),
        &cfg,
        env,
        Duration::from_secs(30),
    )
}

/// The watcher's fault point (debug builds only, services/tw-watcher/src/fault.rs): armed by
/// `<dir>/armed`, its first write waits for `<dir>/go` (its pid in `<dir>/caught/pid`), is
/// made, and the watcher stops right after it, before recording or acknowledging anything.
const FAULT_WRITE_ENV: &str = "VSYNC_FAULT_WRITE";

/// The pid a fault point or a stopping `task` wrote to `<dir>/caught/pid`, once it did.
async fn caught(dir: &Path) -> u32 {
    let pid = dir.join("caught/pid");
    vsync_harness::wait_for("a write to be caught", PROPAGATION, move || {
        std::fs::read_to_string(&pid)
            .ok()?
            .trim()
            .parse::<u32>()
            .ok()
    })
    .await
}

/// A `task` whose first import once `<dir>/armed` exists is caught as the fault point catches
/// a write: it waits for `<dir>/go` (its pid in `<dir>/caught/pid`), writes, and hangs until
/// it is killed (the watcher never learns the import is done).
fn task_stopping_at_an_import(dir: &Path) -> PathBuf {
    let real = vsync_harness::task_program();
    let script = dir.join("task");
    // The input is read first: the watcher starts its import before it has anything to write.
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \" $* \" in\n  *\" import \"*)\n    input=$(cat)\n    \
             if [ -e '{dir}/armed' ] && mkdir '{dir}/caught' 2>/dev/null; then\n      \
             echo $$ > '{dir}/caught/pid'\n      \
             while [ ! -e '{dir}/go' ]; do sleep 0.01; done\n      \
             printf '%s' \"$input\" | '{real}' \"$@\"\n      while :; do sleep 1; done\n    fi\n    \
             printf '%s' \"$input\" | exec '{real}' \"$@\" ;;\n  *) exec '{real}' \"$@\" ;;\nesac\n",
            real = real.display(),
            dir = dir.display()
        ),
    )
    .unwrap();
    let mut perms = std::fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&script, perms).unwrap();
    script
}

fn signal(pid: u32, sig: &str) {
    let ok = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success(), "kill {sig} {pid}");
}

/// Every task titled `title`, on every side: exactly one, with `check` true of it.
async fn exactly_once_everywhere(
    sys: &System,
    title: &'static str,
    check: impl Fn(&Value) -> bool + Clone + Send + Sync + 'static,
) {
    for h in &sys.hosts {
        let c = check.clone();
        wait_task(h, title, move |t| s(t, "description") == title && c(t)).await;
        let n = h
            .export()
            .iter()
            .filter(|t| s(t, "description") == title && s(t, "status") != "deleted")
            .count();
        assert_eq!(n, 1, "{title} on {}", h.name);
    }
    let sim = sys.sim.clone();
    let n = vsync_harness::wait_for("the task in Vikunja", PROPAGATION, move || {
        let n = sim.tasks().iter().filter(|t| t.title == title).count();
        (n > 0).then_some(n)
    })
    .await;
    assert_eq!(n, 1, "{title} in Vikunja");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_killed_between_an_import_and_its_ack_neither_duplicates_nor_reverts() {
    killed_between_a_write_and_its_ack(false).await;
}

/// The same on Taskwarrior 3 with the replica written in-process (the watcher's fault point).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_killed_between_an_in_process_write_and_its_ack_neither_duplicates_nor_reverts_tw3()
 {
    vsync_harness::require_taskwarrior(3);
    killed_between_a_write_and_its_ack(true).await;
}

/// The laptop's watcher is killed once its write of a new task is committed, before anything
/// of ours recorded it or acknowledged its canonical state; Vikunja renamed the task while the
/// write waited, so the write is stamped later than the rename. Started again, the watcher
/// must not take its own write for a change of the user's (which, later, would revert the
/// rename everywhere), nor make the task twice; the host's data reads back.
async fn killed_between_a_write_and_its_ack(in_process: bool) {
    let mut sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    sys.stop_host("laptop").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let fault_dir = dir.path().to_string_lossy().into_owned();
    let watcher = match in_process {
        true => {
            let task = sys.host("laptop").task_bin().to_path_buf();
            let env = [(FAULT_WRITE_ENV, fault_dir.as_str())];
            watcher_process_with(&sys, "laptop", &task, dir.path(), true, &env)
        }
        false => {
            let task = task_stopping_at_an_import(dir.path());
            watcher_process(&sys, "laptop", &task, dir.path())
        }
    };

    let m = Measure::new(
        FAMILY,
        match in_process {
            true => "watcher killed between an in-process write and its ack",
            false => "watcher killed between an import and its ack",
        },
        "kill -9 of the laptop's watcher once its write of a new task committed, before the \
         ack; Vikunja renamed the task while the write waited",
    );
    std::fs::write(dir.path().join("armed"), "").unwrap();
    let created = sys.sim.create_task(home, "created while the watcher dies");
    let pid = caught(dir.path()).await;
    sys.sim
        .update_task(created.id, |t| t.title = "created, then renamed".into());
    wait_task(sys.host("desk"), "the rename", |t| {
        s(t, "description") == "created, then renamed"
    })
    .await;
    // The write lands in a later second than Vikunja's rename, as the clock orders them.
    let next = (vsync_model::dates::now_us() / 1_000_000 + 1) * 1_000_000;
    vsync_harness::wait_for("the next second", PROPAGATION, move || {
        (vsync_model::dates::now_us() >= next).then_some(())
    })
    .await;
    std::fs::write(dir.path().join("go"), "").unwrap();
    // Committed: the host's data show the task as the stopped write made it.
    wait_task(sys.host("laptop"), "the write committed", |t| {
        s(t, "description") == "created while the watcher dies"
    })
    .await;
    let watcher_pid = watcher.pid();
    drop(watcher); // SIGKILL
    if pid != watcher_pid {
        signal(pid, "-KILL"); // the stopped `task import`
    }
    let laptop = sys.host("laptop");
    let after_kill = laptop.find("created while the watcher dies");
    assert!(after_kill.is_some(), "the data read back after the kill");
    sys.start_host("laptop").await.unwrap();

    let wants = [Want::task("Home", "created, then renamed")];
    m.converge(&Sides::of(&sys), &wants, PROPAGATION).await;
    exactly_once_everywhere(&sys, "created, then renamed", |_| true).await;
    // And it stays so: the host's pass finds no change of the user's in what we wrote.
    reconcile_every_host(&sys).await;
    for h in &sys.hosts {
        let old = h.find("created while the watcher dies");
        assert!(old.is_none(), "{} reverted the rename", h.name);
    }
    let titles: Vec<String> = sys.sim.tasks().into_iter().map(|t| t.title).collect();
    assert_eq!(
        titles,
        ["created, then renamed"],
        "once in Vikunja, not reverted"
    );
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watcher_killed_with_hook_messages_queued_and_spooled_loses_none() {
    let mut sys = system(&["laptop", "desk"], &["Home"]).await;
    webhook_registered(&sys, project_id(&sys, "Home")).await;
    sys.stop_host("laptop").await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let laptop_task = sys.host("laptop").task_bin().to_path_buf();
    let watcher = watcher_process(&sys, "laptop", &laptop_task, dir.path());
    let m = Measure::new(
        FAMILY,
        "watcher killed with hook messages queued and spooled",
        "laptop's watcher stopped (SIGSTOP) while 16 tasks are added, then kill -9",
    );
    // Stopped: it reads nothing, so the socket's queue fills and the hook spools the rest.
    signal(watcher.pid(), "-STOP");
    let laptop = sys.host("laptop");
    let titles: Vec<String> = (0..16)
        .map(|i| format!("made while stopped {i:02}"))
        .collect();
    for t in &titles {
        laptop.ok(&["add", t, "project:Home"]);
    }
    let spool = vsync_hook_wire::spool_path(&laptop.data_dir());
    assert!(spool.exists(), "the queue filled and the hook spooled");
    drop(watcher); // SIGKILL: what its socket held is gone with it
    sys.start_host("laptop").await.unwrap();
    let wants: Vec<Want> = titles.iter().map(|t| Want::task("Home", t)).collect();
    m.converge(&Sides::of(&sys), &wants, PROPAGATION).await;
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hook_messages_twice_and_out_of_order_leave_the_last_change_once() {
    let sys = system(&["laptop", "desk"], &["Home"]).await;
    webhook_registered(&sys, project_id(&sys, "Home")).await;
    let laptop = sys.host("laptop");
    // What three commands wrote, as their hooks would report it (the file ends at the last).
    let uuid = laptop.add(&["rc.hooks=off", "shuffled", "project:Home"]);
    let mut versions = vec![laptop.get(&uuid).unwrap()];
    laptop.ok(&["rc.hooks=off", &uuid, "modify", "priority:L"]);
    versions.push(laptop.get(&uuid).unwrap());
    laptop.ok(&["rc.hooks=off", &uuid, "modify", "priority:H", "+late"]);
    versions.push(laptop.get(&uuid).unwrap());
    let start = vsync_hook_wire::now_us();
    let message = |i: usize| {
        let mut m = vsync_hook_wire::HookMessage::new(
            vsync_hook_wire::HookEvent::Exit,
            if i == 0 { "add" } else { "modify" },
            vec![versions[i].clone()],
            vec![],
        );
        m.at_us = start + i as i64 * 1_000;
        m.started_us = Some(m.at_us - 500);
        m
    };
    let socket = vsync_hook_wire::socket_path(&laptop.data_dir());
    let m = Measure::new(
        FAMILY,
        "hook messages twice and out of order",
        "three commands' hook messages sent as 3, 1, 2, 1, 3, 2",
    );
    for i in [2, 0, 1, 0, 2, 1] {
        vsync_hook_wire::send_to_watcher(&message(i).to_line(), &socket).unwrap();
    }
    let wants = [Want::task("Home", "shuffled").priority("H").tag("late")];
    m.converge(&Sides::of(&sys), &wants, PROPAGATION).await;
    exactly_once_everywhere(&sys, "shuffled", |t| {
        s(t, "priority") == "H" && t["tags"] == serde_json::json!(["late"])
    })
    .await;
    sys.shutdown().await.unwrap();
}

/// Canonical state of a task with `extra` among its Taskwarrior attributes.
fn state_with(uuid: &str, title: &str, extra: Option<(&str, &str)>) -> vsync_proto::TaskState {
    let mut fields = vsync_proto::TaskFields {
        description: title.into(),
        status: vsync_proto::TaskStatus::Pending as i32,
        entry: Some(1_767_225_600),
        ..Default::default()
    };
    if let Some((k, v)) = extra {
        fields.tw_extra.insert(k.into(), v.into());
    }
    vsync_proto::TaskState {
        uuid: uuid.into(),
        fields: Some(fields),
        version: 1,
        ..Default::default()
    }
}

/// One task Taskwarrior refuses among the canonical states a host has to apply: it is set
/// aside alone (dead-lettered with the reason), the rest is applied, and the host's reconcile
/// passes stay clean instead of failing on it every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_task_taskwarrior_refuses_is_set_aside_alone_and_the_host_reconcile_passes() {
    let mut sys = system(&["laptop"], &["Home"]).await;
    sys.stop_host("laptop").await.unwrap();
    let bus = test_bus(&sys).await;
    let good = "5d0c4c1e-7a0b-4c55-9c43-0d6d1a3b2f01";
    let poison = "5d0c4c1e-7a0b-4c55-9c43-0d6d1a3b2f02";
    let after = "5d0c4c1e-7a0b-4c55-9c43-0d6d1a3b2f03";
    for s in [
        state_with(good, "applied before", None),
        state_with(poison, "refused", Some(("until", "\"not a date\""))),
        state_with(after, "applied after", None),
    ] {
        bus.store_state(&s, None).await.unwrap();
    }
    sys.start_host("laptop").await.unwrap();
    let laptop = sys.host("laptop");
    for title in ["applied before", "applied after"] {
        wait_task(laptop, title, move |t| s(t, "description") == title).await;
    }
    let dead = vsync_harness::wait_for_async("the refused task dead-lettered", PROPAGATION, || {
        let bus = bus.clone();
        async move {
            let d = bus.recent_dead_letters(20).await.ok()?;
            d.into_iter().find(|d| d.subject == poison)
        }
    })
    .await;
    assert!(dead.reason.contains(poison), "{}", dead.reason);
    assert!(laptop.get(poison).is_none(), "nothing of it written");
    for _ in 0..2 {
        let replies = bus.reconcile_hosts(PROPAGATION).await.unwrap();
        assert_eq!(replies.len(), 1);
        for r in replies {
            let report = r.into_result().expect("the host reconcile passes");
            assert_eq!(report.applied, 0, "nothing left to apply: {report}");
        }
    }
    sys.shutdown().await.unwrap();
}
