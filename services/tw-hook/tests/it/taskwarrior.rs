//! The hook installed into a real Taskwarrior (scripts/test.sh: 2.6 and 3.x; tests named
//! `_tw26` / `_tw3` hold on that version only).

use crate::support::{Listener, Tw, read_spool};
use serde_json::Value;
use std::time::{Duration, Instant};
use vsync_hook_wire::{HookEvent, HookMessage, drain_spool};

const WAIT: Duration = Duration::from_secs(5);

fn only_task(msg: &HookMessage) -> &Value {
    assert_eq!(msg.tasks.len(), 1, "one task expected in {msg:?}");
    &msg.tasks[0]
}

fn field<'a>(task: &'a Value, key: &str) -> &'a str {
    task.get(key).and_then(Value::as_str).unwrap_or_default()
}

/// add / modify / annotate / done / delete: one `exit` message each, with the task as TW has
/// it after the command, delivered over the default socket and nothing spooled.
#[test]
fn every_change_reaches_the_watcher_socket() {
    let tw = Tw::new("sock");
    tw.install_hook();
    let listener = Listener::start(&tw.default_socket(), true);

    let uuid = tw.add(&["Buy", "milk", "project:home"]);
    let msg = listener.next(WAIT);
    assert_eq!(
        (msg.v, msg.event, msg.command.as_str()),
        (1, HookEvent::Exit, "add")
    );
    assert!(msg.removed.is_empty());
    let task = only_task(&msg);
    assert_eq!(field(task, "uuid"), uuid);
    assert_eq!(field(task, "description"), "Buy milk");
    assert_eq!(field(task, "project"), "home");
    assert_eq!(field(task, "status"), "pending");

    tw.task(&[&uuid, "modify", "priority:H", "+urgent"]);
    let msg = listener.next(WAIT);
    assert_eq!(msg.command, "modify");
    let task = only_task(&msg);
    assert_eq!(field(task, "priority"), "H");
    assert_eq!(task["tags"], serde_json::json!(["urgent"]));

    tw.task(&[&uuid, "annotate", "from", "the", "shop"]);
    let msg = listener.next(WAIT);
    assert_eq!(msg.command, "annotate");
    assert_eq!(
        only_task(&msg)["annotations"][0]["description"],
        "from the shop"
    );

    tw.task(&[&uuid, "done"]);
    let msg = listener.next(WAIT);
    assert_eq!(msg.command, "done");
    let task = only_task(&msg);
    assert_eq!(field(task, "status"), "completed");
    assert!(task.get("end").is_some());

    let other = tw.add(&["Throw", "away"]);
    assert_eq!(listener.next(WAIT).command, "add");
    tw.task(&[&other, "delete"]);
    let msg = listener.next(WAIT);
    assert_eq!(msg.command, "delete");
    assert_eq!(field(only_task(&msg), "uuid"), other);
    assert_eq!(field(only_task(&msg), "status"), "deleted");

    // Read-only commands hand nothing over; nothing extra arrived, nothing was spooled.
    tw.task(&["count"]);
    tw.task(&["export"]);
    assert!(listener.pending().is_empty());
    assert!(!tw.default_spool().exists());
}

/// Two tasks changed by one command arrive as one message with both.
#[test]
fn one_command_on_two_tasks_is_one_message() {
    let tw = Tw::new("two");
    tw.install_hook();
    let listener = Listener::start(&tw.default_socket(), true);
    let a = tw.add(&["a"]);
    let b = tw.add(&["b"]);
    listener.next(WAIT);
    listener.next(WAIT);
    tw.task(&[&a, &b, "modify", "project:both"]);
    let msg = listener.next(WAIT);
    let mut uuids: Vec<&str> = msg.tasks.iter().map(|t| field(t, "uuid")).collect();
    uuids.sort_unstable();
    let mut want = [a.as_str(), b.as_str()];
    want.sort_unstable();
    assert_eq!(uuids, want);
    assert!(listener.pending().is_empty());
}

/// No watcher: every command still succeeds, the spool holds the messages in order, and
/// `drain_spool` returns them and empties it.
#[test]
fn without_a_watcher_messages_are_spooled_in_order() {
    let tw = Tw::new("spool");
    tw.install_hook();
    let uuid = tw.add(&["first"]);
    tw.task(&[&uuid, "modify", "project:p"]);
    tw.task(&[&uuid, "annotate", "note"]);
    tw.task(&[&uuid, "done"]);
    let gone = tw.add(&["second"]);
    tw.task(&[&gone, "delete"]);
    tw.add(&["third"]);

    let spool = tw.default_spool();
    let on_disk = read_spool(&spool);
    let summary: Vec<(HookEvent, &str)> = on_disk
        .iter()
        .map(|m| (m.event, m.command.as_str()))
        .collect();
    assert_eq!(
        summary,
        [
            (HookEvent::Exit, "add"),
            (HookEvent::Exit, "modify"),
            (HookEvent::Exit, "annotate"),
            (HookEvent::Exit, "done"),
            (HookEvent::Exit, "add"),
            (HookEvent::Exit, "delete"),
            (HookEvent::Exit, "add"),
        ]
    );
    assert_eq!(field(only_task(&on_disk[1]), "project"), "p");
    assert!(on_disk.windows(2).all(|w| w[0].at_us <= w[1].at_us));

    let drained = drain_spool(&spool).unwrap();
    assert_eq!(drained, on_disk);
    assert!(!spool.exists());
    assert!(drain_spool(&spool).unwrap().is_empty());
}

/// Without a watcher an undo message is spooled after the change it undoes (TW 2.6 reports
/// `task undo` to on-modify only).
#[test]
fn undo_without_a_watcher_is_spooled_in_order_tw26() {
    vsync_harness::require_taskwarrior(2);
    let tw = Tw::new("spoolundo");
    tw.install_hook();
    let undone = tw.add(&["third"]);
    tw.task(&["undo"]);
    let on_disk = read_spool(&tw.default_spool());
    let summary: Vec<(HookEvent, &str)> = on_disk
        .iter()
        .map(|m| (m.event, m.command.as_str()))
        .collect();
    assert_eq!(
        summary,
        [(HookEvent::Exit, "add"), (HookEvent::Undo, "undo")]
    );
    assert_eq!(on_disk[1].removed, [undone]);
    assert!(on_disk[0].at_us <= on_disk[1].at_us);
}

/// Taskwarrior 3 runs no hook for `task undo` (its on-exit gets nothing either): the hook
/// cannot see an undo, which is why the watcher's reconcile has to find it. The task is gone
/// and nothing was handed over beyond the add (the hook writes the spool before `task` exits).
#[test]
fn undo_reaches_no_hook_tw3() {
    vsync_harness::require_taskwarrior(3);
    let tw = Tw::new("undo3");
    tw.install_hook();
    tw.add(&["oops"]);
    let out = tw.task(&["undo"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(tw.export().is_empty(), "task still there after undo");
    let spooled: Vec<(HookEvent, String)> = read_spool(&tw.default_spool())
        .into_iter()
        .map(|m| (m.event, m.command))
        .collect();
    assert_eq!(spooled, [(HookEvent::Exit, "add".to_string())]);
}

/// `task undo` of an add: on-modify gets `{}` as line 2; the hook must echo line 1, the task
/// is really gone, `task` exits 0 and the watcher hears about the removal.
#[test]
fn undo_of_add_removes_the_task_and_reports_it_tw26() {
    vsync_harness::require_taskwarrior(2);
    let tw = Tw::new("undoadd");
    tw.install_hook();
    let listener = Listener::start(&tw.default_socket(), true);
    let uuid = tw.add(&["oops"]);
    listener.next(WAIT);

    let out = tw.task(&["undo"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(tw.export().is_empty(), "task still there after undo");
    let msg = listener.next(WAIT);
    assert_eq!((msg.event, msg.command.as_str()), (HookEvent::Undo, "undo"));
    assert_eq!(msg.removed, [uuid]);
    assert!(msg.tasks.is_empty());
    // TW 2.6 gives on-exit nothing for undo, so there is no second message.
    assert!(listener.pending().is_empty());
}

/// `task undo` of a modify restores the old values; the watcher gets the restored task.
#[test]
fn undo_of_modify_restores_and_reports_the_task_tw26() {
    vsync_harness::require_taskwarrior(2);
    let tw = Tw::new("undomod");
    tw.install_hook();
    let listener = Listener::start(&tw.default_socket(), true);
    let uuid = tw.add(&["thing", "project:before"]);
    listener.next(WAIT);
    tw.task(&[&uuid, "modify", "project:after"]);
    listener.next(WAIT);

    let out = tw.task(&["undo"]);
    assert_eq!(out.status.code(), Some(0));
    let tasks = tw.export();
    assert_eq!(tasks.len(), 1);
    assert_eq!(field(&tasks[0], "project"), "before");
    let msg = listener.next(WAIT);
    assert_eq!(msg.event, HookEvent::Undo);
    let task = only_task(&msg);
    assert_eq!(field(task, "uuid"), uuid);
    assert_eq!(field(task, "project"), "before");
    assert!(msg.removed.is_empty());
}

/// A watcher that hangs (bound, never reading): its queue fills, then the hook spools. Every
/// command stays fast, and each change is in exactly one of the two places, in order. Uses the
/// environment overrides for socket and spool.
#[test]
fn a_hung_watcher_costs_nothing_and_the_changes_are_spooled() {
    let mut tw = Tw::new("silent");
    tw.install_hook();
    let socket = tw.dir.path().join("elsewhere.sock");
    let spool = tw.dir.path().join("q").join("spool.jsonl");
    tw.env
        .push((vsync_hook_wire::SOCKET_ENV.into(), socket.clone()));
    tw.env
        .push((vsync_hook_wire::SPOOL_ENV.into(), spool.clone()));
    let hung = Listener::start(&socket, false);
    // Linux queues `net.unix.max_dgram_qlen` datagrams (10 by default) before refusing.
    let qlen: usize = std::fs::read_to_string("/proc/sys/net/unix/max_dgram_qlen")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(10);
    let mut added = Vec::new();
    for i in 0..qlen + 5 {
        let started = Instant::now();
        added.push(tw.add(&[&format!("patience {i}")]));
        let took = started.elapsed();
        assert!(took < Duration::from_secs(2), "task add took {took:?}");
    }
    let spooled: Vec<String> = read_spool(&spool)
        .iter()
        .map(|m| field(only_task(m), "uuid").to_owned())
        .collect();
    assert!(spooled.len() >= 4, "{spooled:?}");
    // What the socket holds, then the spool, is every change once, in order.
    let socket = hung
        .into_socket()
        .expect("a hung listener keeps its socket");
    socket.set_nonblocking(true).unwrap();
    let mut buf = vec![0u8; 1 << 20];
    let mut seen = Vec::new();
    while let Ok(n) = socket.recv(&mut buf) {
        if n > 0 {
            let m: HookMessage = serde_json::from_slice(&buf[..n]).unwrap();
            seen.push(field(only_task(&m), "uuid").to_owned());
        }
    }
    seen.extend(spooled);
    assert_eq!(seen, added);
    assert!(!tw.default_spool().exists());
}

/// Taskwarrior hands its hooks an ESC in a description raw (which is no JSON); another tool's
/// import of such a task still reaches the watcher, the text intact for the model to clean.
#[test]
fn a_task_holding_raw_control_characters_still_reaches_the_watcher() {
    use std::io::Write as _;
    let tw = Tw::new("ctl");
    tw.install_hook();
    let listener = Listener::start(&tw.default_socket(), true);
    let mut import = tw
        .command(&["import", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("run task import");
    let task = r#"[{"uuid":"0b7b1bbd-0f38-4a3c-9f0b-6b6a1d1e7a11","status":"pending",
        "description":"Tidy\u001b[1m up\u0007","entry":"20260101T000000Z"}]"#;
    let mut stdin = import.stdin.take().expect("stdin");
    stdin.write_all(task.as_bytes()).expect("write the task");
    drop(stdin);
    assert!(import.wait().expect("task import").success());
    let msg = listener.next(WAIT);
    assert_eq!(
        field(only_task(&msg), "description"),
        "Tidy\u{1b}[1m up\u{7}"
    );
}
