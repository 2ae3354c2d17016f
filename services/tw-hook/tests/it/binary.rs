//! The hook binary fed directly, as Taskwarrior would run it.

use crate::support::{TempDir, hook_binary, read_spool};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::process::{Command, Output, Stdio};
use vsync_hook_wire::{HookEvent, SOCKET_ENV, SPOOL_ENV};

/// Runs the binary under the file name `name` with TW-style args and `input` on stdin; the
/// socket does not exist, the spool is `<dir>/spool.jsonl`.
fn run_hook(dir: &TempDir, name: &str, command: &str, input: &[u8]) -> Output {
    let data = dir.path().join("data");
    let mut child = Command::new(hook_binary())
        .arg0(name)
        .args([
            "api:2",
            &format!("args:task {command}"),
            &format!("command:{command}"),
            "rc:/nonexistent/taskrc",
            &format!("data:{}", data.display()),
            "version:2.6.2",
        ])
        .env(SOCKET_ENV, dir.path().join("no.sock"))
        .env(SPOOL_ENV, dir.path().join("spool.jsonl"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn malformed_input_is_echoed_unchanged_with_exit_0() {
    let dir = TempDir::new("bin");
    let out = run_hook(&dir, "on-add.vikunja-sync", "add", b"this is not json\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"this is not json\n");

    let out = run_hook(
        &dir,
        "on-modify.vikunja-sync",
        "modify",
        b"{broken\n\xff\xfe raw\n",
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, b"\xff\xfe raw\n");

    let out = run_hook(&dir, "on-exit.vikunja-sync", "modify", b"garbage\n{\"x\"\n");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(out.stderr.is_empty());
    // Nothing usable, nothing handed over.
    assert!(!dir.path().join("spool.jsonl").exists());

    let out = run_hook(&dir, "on-add.vikunja-sync", "add", b"");
    assert_eq!((out.status.code(), out.stdout.len()), (Some(0), 0));
    let out = run_hook(&dir, "on-launch.vikunja-sync", "list", b"");
    assert_eq!((out.status.code(), out.stdout.len()), (Some(0), 0));
}

#[test]
fn on_modify_echoes_line_two_byte_for_byte_and_hands_nothing_over() {
    let dir = TempDir::new("bin");
    let before = br#"{"description":"a","uuid":"11111111-1111-1111-1111-111111111111"}"#;
    let after = br#"{"description":"b",  "uuid":"11111111-1111-1111-1111-111111111111"}"#;
    let input = [&before[..], b"\n", &after[..], b"\n"].concat();
    let out = run_hook(&dir, "on-modify.vikunja-sync", "modify", &input);
    assert_eq!(out.stdout, [&after[..], b"\n"].concat());
    assert!(!dir.path().join("spool.jsonl").exists());
}

#[test]
fn undo_of_an_add_echoes_line_one_and_reports_the_removal() {
    let dir = TempDir::new("bin");
    let task =
        br#"{"description":"a","status":"pending","uuid":"22222222-2222-2222-2222-222222222222"}"#;
    let input = [&task[..], b"\n{}\n"].concat();
    let out = run_hook(&dir, "on-modify.vikunja-sync", "undo", &input);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(out.stdout, [&task[..], b"\n"].concat());
    let spooled = read_spool(&dir.path().join("spool.jsonl"));
    assert_eq!(spooled.len(), 1);
    assert_eq!(spooled[0].event, HookEvent::Undo);
    assert_eq!(spooled[0].removed, ["22222222-2222-2222-2222-222222222222"]);
}

#[test]
fn on_exit_embeds_the_tasks_as_objects_and_prints_nothing() {
    let dir = TempDir::new("bin");
    let input = b"{\"uuid\":\"u1\",\"description\":\"one\"}\nnot json\n\n{\"uuid\":\"u2\",\"description\":\"two\"}\n";
    let out = run_hook(&dir, "/some/where/on-exit.vikunja-sync", "modify", input);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let spool = std::fs::read_to_string(dir.path().join("spool.jsonl")).unwrap();
    assert_eq!(spool.lines().count(), 1);
    let raw: serde_json::Value = serde_json::from_str(spool.trim_end()).unwrap();
    assert_eq!(raw["v"], 1);
    assert_eq!(raw["event"], "exit");
    assert_eq!(raw["command"], "modify");
    assert!(raw["at_us"].as_i64().unwrap() > 1_600_000_000_000_000);
    assert_eq!(raw["tasks"][0]["uuid"], "u1");
    assert_eq!(raw["tasks"][1]["description"], "two");
    assert_eq!(raw["removed"], serde_json::json!([]));
}

#[test]
fn an_unusable_spool_is_one_stderr_line_and_still_exit_0() {
    let dir = TempDir::new("bin");
    // A file where the spool's directory should be.
    std::fs::write(dir.path().join("blocker"), "").unwrap();
    let mut child = Command::new(hook_binary())
        .arg0("on-exit.vikunja-sync")
        .arg("command:add")
        .env(SOCKET_ENV, dir.path().join("no.sock"))
        .env(SPOOL_ENV, dir.path().join("blocker").join("spool.jsonl"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"{\"uuid\":\"u\",\"description\":\"d\"}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("vikunja-sync: "));
}
