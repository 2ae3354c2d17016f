//! The hook program itself: event from the file name, Taskwarrior's stdin/stdout protocol, and
//! the hand-over of what changed.

use std::ffi::{OsStr, OsString};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use vsync_hook_wire::{
    HandOver, HookEvent, HookKind, HookMessage, SOCKET_ENV, SPOOL_ENV, hand_over,
    resolve_socket_path, resolve_spool_path,
};

/// What the hook needs from Taskwarrior's `key:value` arguments.
#[derive(Debug, Default)]
struct HookArgs {
    command: String,
    data: Option<PathBuf>,
}

impl HookArgs {
    fn parse(args: &[OsString]) -> HookArgs {
        let mut out = HookArgs::default();
        for arg in args {
            let arg = arg.to_string_lossy();
            if let Some(cmd) = arg.strip_prefix("command:") {
                out.command = cmd.to_owned();
            } else if let Some(dir) = arg.strip_prefix("data:") {
                out.data = Some(PathBuf::from(dir));
            }
        }
        out
    }

    /// `data:` as Taskwarrior passes it; for manual runs `$TASKDATA`. Deliberately no
    /// `~/.task` guess: a manual run must not write into a real data dir by accident.
    fn data_dir(&self) -> Option<PathBuf> {
        self.data
            .clone()
            .or_else(|| std::env::var_os("TASKDATA").map(PathBuf::from))
    }
}

/// Runs the hook: `argv0` picks the event (its file name starts with `on-add`, `on-modify`,
/// `on-exit` or `on-launch`; for manual runs the first argument may name it instead), `args`
/// are Taskwarrior's `api:2 args:… command:… rc:… data:… version:…`. Returns the exit code,
/// which is 0 whenever Taskwarrior ran us: sync trouble never fails the user's command.
pub fn run(
    argv0: &OsStr,
    args: &[OsString],
    stdin: &mut dyn BufRead,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> i32 {
    let own_name = Path::new(argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let (kind, args) = match HookKind::from_file_name(&own_name) {
        Some(kind) => (kind, args),
        None => match args
            .first()
            .and_then(|a| HookKind::from_file_name(&a.to_string_lossy()))
        {
            Some(kind) => (kind, &args[1..]),
            None => {
                let _ = writeln!(
                    stderr,
                    "vikunja-sync-hook {}: a Taskwarrior hook; link it as <data>/hooks/on-add.vikunja-sync \
                     (or on-modify/on-exit), e.g. with `vikunja-sync hook install`",
                    env!("CARGO_PKG_VERSION")
                );
                return 2;
            }
        },
    };
    let args = HookArgs::parse(args);
    match kind {
        HookKind::Launch => {}
        HookKind::Add => {
            let line = read_line(stdin);
            echo(stdout, &line);
        }
        HookKind::Modify => on_modify(&args, stdin, stdout, stderr),
        HookKind::Exit => on_exit(&args, stdin, stderr),
    }
    0
}

fn on_modify(
    args: &HookArgs,
    stdin: &mut dyn BufRead,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) {
    let original = read_line(stdin);
    let modified = read_line(stdin);
    // Undoing an add gives a literal `{}` (2.6); echoing it would break `task undo`.
    let removed_by_undo = modified.trim_ascii() == b"{}";
    if removed_by_undo || modified.is_empty() {
        echo(stdout, &original);
    } else {
        echo(stdout, &modified);
    }
    // TW 2.6 runs no on-exit with the undo result, so this is the only place to see it.
    if args.command != "undo" {
        return;
    }
    let msg = if removed_by_undo {
        let uuid = vsync_hook_wire::tw_json::parse::<serde_json::Value>(&original)
            .ok()
            .and_then(|v| v.get("uuid").and_then(|u| u.as_str()).map(str::to_owned));
        match uuid {
            Some(uuid) => HookMessage::new(HookEvent::Undo, "undo", vec![], vec![uuid]),
            None => return,
        }
    } else {
        match vsync_hook_wire::tw_json::parse::<serde_json::Value>(&modified) {
            Ok(task) if task.is_object() => {
                HookMessage::new(HookEvent::Undo, "undo", vec![task], vec![])
            }
            _ => return,
        }
    };
    deliver(args, &msg, stderr);
}

fn on_exit(args: &HookArgs, stdin: &mut dyn BufRead, stderr: &mut dyn Write) {
    let mut tasks = Vec::new();
    while let Some(line) = next_line(stdin) {
        if line.trim_ascii().is_empty() {
            continue;
        }
        // A line that is not a task object cannot be synced; the watcher's export catches up.
        if let Ok(task) = vsync_hook_wire::tw_json::parse::<serde_json::Value>(&line)
            && task.is_object()
        {
            tasks.push(task);
        }
    }
    if tasks.is_empty() {
        return;
    }
    let mut msg = HookMessage::new(HookEvent::Exit, args.command.clone(), tasks, vec![]);
    msg.started_us = crate::started::parent_started_us();
    deliver(args, &msg, stderr);
}

fn deliver(args: &HookArgs, msg: &HookMessage, stderr: &mut dyn Write) {
    let (socket, spool) = match args.data_dir() {
        Some(data) => (resolve_socket_path(&data), resolve_spool_path(&data)),
        None => match (std::env::var_os(SOCKET_ENV), std::env::var_os(SPOOL_ENV)) {
            (Some(socket), Some(spool)) => (PathBuf::from(socket), PathBuf::from(spool)),
            _ => {
                let _ = writeln!(
                    stderr,
                    "vikunja-sync: no data directory known; change not queued for sync"
                );
                return;
            }
        },
    };
    match hand_over(&msg.to_line(), &socket, &spool) {
        Ok(HandOver::Delivered | HandOver::Spooled { .. }) => {}
        Err(e) => {
            let _ = writeln!(
                stderr,
                "vikunja-sync: could not queue change for sync ({}): {e}",
                spool.display()
            );
        }
    }
}

/// One line without its `\n`; empty at EOF or on a read error.
fn read_line(stdin: &mut dyn BufRead) -> Vec<u8> {
    next_line(stdin).unwrap_or_default()
}

/// One line without its `\n`; `None` at EOF or on a read error.
fn next_line(stdin: &mut dyn BufRead) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    match stdin.read_until(b'\n', &mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => {
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            Some(line)
        }
    }
}

/// Echoes the line unchanged plus `\n`; nothing at all for an empty input.
fn echo(stdout: &mut dyn Write, line: &[u8]) {
    if line.is_empty() {
        return;
    }
    let _ = stdout.write_all(line);
    let _ = stdout.write_all(b"\n");
    let _ = stdout.flush();
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn run_as(name: &str, args: &[&str], input: &str) -> (i32, String, String) {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        let mut out = Vec::new();
        let mut err = Vec::new();
        let code = run(
            OsStr::new(name),
            &args,
            &mut input.as_bytes(),
            &mut out,
            &mut err,
        );
        (
            code,
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    #[test]
    fn on_add_and_on_modify_echo_exactly() {
        let t = r#"{"uuid":"a","description":"x"}"#;
        assert_eq!(
            run_as(
                "/h/on-add.vikunja-sync",
                &["command:add"],
                &format!("{t}\n")
            ),
            (0, format!("{t}\n"), String::new())
        );
        let t2 = r#"{"uuid":"a","description":"y"}"#;
        let (code, out, _) = run_as(
            "on-modify.vikunja-sync",
            &["command:modify"],
            &format!("{t}\n{t2}\n"),
        );
        assert_eq!((code, out), (0, format!("{t2}\n")));
        // Last line without a newline still counts.
        let (_, out, _) = run_as("on-modify.x", &["command:modify"], &format!("{t}\n{t2}"));
        assert_eq!(out, format!("{t2}\n"));
    }

    #[test]
    fn unknown_name_without_event_argument_is_a_usage_error() {
        let (code, out, err) = run_as("vikunja-sync-hook", &[], "");
        assert_eq!((code, out.as_str()), (2, ""));
        assert!(err.contains("hook"));
        let (code, out, _) = run_as("vikunja-sync-hook", &["on-add"], "{\"a\":1}\n");
        assert_eq!((code, out.as_str()), (0, "{\"a\":1}\n"));
    }

    #[test]
    fn on_launch_and_empty_on_exit_do_nothing() {
        assert_eq!(
            run_as("on-launch.vikunja-sync", &["command:list"], ""),
            (0, String::new(), String::new())
        );
        assert_eq!(
            run_as("on-exit.vikunja-sync", &["command:list"], ""),
            (0, String::new(), String::new())
        );
    }
}
