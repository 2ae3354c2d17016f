//! A Taskwarrior host: `task` runs (its version), the taskrc and data directory the sync uses
//! are the ones `task` uses, the UDA is declared, the hook is installed and executable with
//! hooks on, and the watcher's socket takes messages where the hook sends them.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::Command;
use vsync_config::Config;
use vsync_config::paths::TaskEnv;
use vsync_hook_wire::HookKind;

use super::Finding;

pub async fn check(cfg: &Config, out: &mut Vec<Finding>) {
    let tw = &cfg.taskwarrior;
    let data = tw.data();
    let configured = tw.host.is_some() || tw.data.is_some() || tw.taskrc.is_some();
    if !configured && !data.is_dir() {
        return out.push(Finding::note(
            "Taskwarrior",
            format!(
                "no Taskwarrior data at {}: not a Taskwarrior host",
                data.display()
            ),
        ));
    }
    let task = Task {
        bin: tw.task_bin(),
        taskrc: tw.taskrc(),
    };
    match task.get(&["_version"], None).await {
        Ok(v) => out.push(Finding::ok(
            "Taskwarrior",
            format!("task {v} ({}), host `{}`", task.bin.display(), tw.host()),
        )),
        Err(e) => {
            return out.push(Finding::problem(
                "Taskwarrior",
                format!("cannot run {}: {e}", task.bin.display()),
                "install Taskwarrior, or name the program in `[taskwarrior] task_bin`",
            ));
        }
    }
    if !task.taskrc.is_file() {
        return out.push(Finding::problem(
            "taskrc",
            format!("{} does not exist", task.taskrc.display()),
            "run `task` once to create it, or name yours in `[taskwarrior] taskrc`",
        ));
    }
    out.push(locations(&task, &data));
    out.push(uda(&task, &data).await);
    out.push(hook(&task, &data));
    out.push(watcher(&tw.socket(), &data));
}

/// `task` as the user runs it: their taskrc, hooks as configured.
struct Task {
    bin: PathBuf,
    taskrc: PathBuf,
}

impl Task {
    /// The trimmed output of `task <args>`; `data` sets TASKDATA as the sync does.
    async fn get(&self, args: &[&str], data: Option<&Path>) -> Result<String, String> {
        let mut cmd = Command::new(&self.bin);
        cmd.args(["rc.verbose=nothing", "rc.confirmation=off"])
            .args(args)
            .env("TASKRC", &self.taskrc)
            .env_remove("TASKDATA")
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true);
        if let Some(d) = data {
            cmd.env("TASKDATA", d);
        }
        let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
            .await
            .map_err(|_| "no answer within 30 s".to_string())?
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    }
}

/// The data directory the user's `task` uses (their TASKDATA, else the taskrc's
/// `data.location`, found as `task` finds it) is the one the sync watches.
fn locations(task: &Task, data: &Path) -> Finding {
    let theirs = TaskEnv::current().data(&task.taskrc);
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    };
    if !data.is_dir() {
        return Finding::problem(
            "task data",
            format!("{} does not exist", data.display()),
            "run `task` once, or name your data directory in `[taskwarrior] data`",
        );
    }
    if !same(&theirs, data) {
        return Finding::problem(
            "task data",
            format!(
                "`task` keeps your tasks in {} but the sync watches {}",
                theirs.display(),
                data.display()
            ),
            format!(
                "set `[taskwarrior] data = \"{}\"` (and `taskrc`) to what `task` uses",
                theirs.display()
            ),
        );
    }
    Finding::ok(
        "task data",
        format!("taskrc {}, data {}", task.taskrc.display(), data.display()),
    )
}

async fn uda(task: &Task, data: &Path) -> Finding {
    match task
        .get(
            &["rc.hooks=off", "_get", "rc.uda.vikunja_id.type"],
            Some(data),
        )
        .await
    {
        Ok(t) if t == "numeric" => Finding::ok("UDA", "`vikunja_id` is declared (numeric)"),
        Ok(t) => Finding::problem(
            "UDA",
            if t.is_empty() {
                "`vikunja_id` is not declared: Taskwarrior would drop the Vikunja id of every task"
                    .to_string()
            } else {
                format!("`vikunja_id` is declared as `{t}`, not numeric")
            },
            format!(
                "`vikunja-sync hook install` declares it (or add `uda.vikunja_id.type=numeric` \
                 to {})",
                task.taskrc.display()
            ),
        ),
        Err(e) => Finding::problem("UDA", format!("cannot ask `task`: {e}"), "see the error"),
    }
}

fn hook(task: &Task, data: &Path) -> Finding {
    let install = "`vikunja-sync hook install` links it (and declares the UDA)";
    let env = TaskEnv::current();
    if let Some(off) = env
        .setting(&task.taskrc, "hooks")
        .filter(|v| matches!(v.as_str(), "off" | "0" | "no" | "false"))
    {
        return Finding::problem(
            "hook",
            format!("hooks={off} in {}", task.taskrc.display()),
            "remove `hooks=off` from the taskrc: without hooks no change reaches the sync",
        );
    }
    let dir = env.hooks(&task.taskrc, data);
    let file = dir.join(HookKind::Exit.file_name());
    let meta = match std::fs::metadata(&file) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let found = match std::fs::symlink_metadata(&file) {
                Ok(_) => format!("{} points to a program that is gone", file.display()),
                Err(_) => format!("not installed: {} does not exist", file.display()),
            };
            return Finding::problem("hook", found, install);
        }
        Err(e) => return Finding::problem("hook", format!("{}: {e}", file.display()), install),
    };
    if meta.permissions().mode() & 0o111 == 0 {
        return Finding::problem(
            "hook",
            format!("{} is not executable", file.display()),
            format!("chmod +x {} (or run {install})", file.display()),
        );
    }
    Finding::ok(
        "hook",
        format!("{} is installed and executable", file.display()),
    )
}

/// The watcher takes a message at the socket the hook sends to.
fn watcher(socket: &Path, data: &Path) -> Finding {
    let hook_sends_to = vsync_hook_wire::resolve_socket_path(data);
    if hook_sends_to != socket {
        return Finding::problem(
            "watcher",
            format!(
                "the watcher listens at {} but the hook sends to {}",
                socket.display(),
                hook_sends_to.display()
            ),
            format!(
                "leave `[taskwarrior] socket` out, or set VIKUNJA_SYNC_SOCKET={} where you run \
                 `task`",
                socket.display()
            ),
        );
    }
    match vsync_hook_wire::nudge(socket) {
        Ok(()) => {
            let spool = vsync_hook_wire::resolve_spool_path(data);
            let waiting = std::fs::read_to_string(&spool)
                .map(|s| s.lines().filter(|l| !l.trim().is_empty()).count())
                .unwrap_or(0);
            let found = format!("tw-watcher takes messages at {}", socket.display());
            match waiting {
                0 => Finding::ok("watcher", found),
                n => Finding::ok(
                    "watcher",
                    format!("{found}; {n} wait in {}", spool.display()),
                ),
            }
        }
        Err(e) => Finding::problem(
            "watcher",
            match e.kind() {
                std::io::ErrorKind::NotFound => {
                    format!(
                        "no watcher socket at {}: tw-watcher is not running",
                        socket.display()
                    )
                }
                std::io::ErrorKind::ConnectionRefused => format!(
                    "nothing listens at {} (a socket file left behind): tw-watcher is not running",
                    socket.display()
                ),
                _ => format!("{}: {e}", socket.display()),
            },
            "start it: `vikunja-sync up --config FILE` (or its systemd user unit); meanwhile the \
             hook keeps changes in the spool",
        ),
    }
}
