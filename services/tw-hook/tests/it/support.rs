//! Test support: temp dirs, a throw-away Taskwarrior, a stand-in watcher socket.
#![allow(dead_code)]

use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use vsync_hook_wire::{HookKind, HookMessage, SOCKET_ENV, SPOOL_ENV};

/// A directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        // Short: Unix socket paths must stay under 108 bytes.
        let dir = std::env::temp_dir().join(format!(
            "vsh-{tag}-{}-{}-{nanos}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The hook binary built by cargo for this package.
pub fn hook_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_vikunja-sync-hook"))
}

/// A throw-away Taskwarrior: its own taskrc and data dir.
pub struct Tw {
    pub dir: TempDir,
    pub data: PathBuf,
    pub taskrc: PathBuf,
    /// Extra environment for every `task` call (e.g. the socket/spool overrides).
    pub env: Vec<(String, PathBuf)>,
}

impl Tw {
    pub fn new(tag: &str) -> Tw {
        let dir = TempDir::new(tag);
        let data = dir.path().join("data");
        std::fs::create_dir_all(&data).expect("create data dir");
        let taskrc = dir.path().join("taskrc");
        let mut rc = format!(
            "data.location={}\nconfirmation=off\nhooks=on\nverbose=nothing\n",
            data.display()
        );
        for line in vikunja_sync::hook::TASKRC_LINES {
            rc.push_str(line);
            rc.push('\n');
        }
        std::fs::write(&taskrc, rc).expect("write taskrc");
        Tw {
            dir,
            data,
            taskrc,
            env: Vec::new(),
        }
    }

    pub fn hooks_dir(&self) -> PathBuf {
        self.data.join("hooks")
    }

    pub fn install_hook(&self) {
        vikunja_sync::hook::links::link(
            &self.hooks_dir(),
            &hook_binary(),
            &[HookKind::Add, HookKind::Modify, HookKind::Exit],
        )
        .expect("install hook");
    }

    pub fn default_socket(&self) -> PathBuf {
        vsync_hook_wire::socket_path(&self.data)
    }

    pub fn default_spool(&self) -> PathBuf {
        vsync_hook_wire::spool_path(&self.data)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(std::env::var_os("TASK_BIN").unwrap_or_else(|| "task".into()));
        cmd.args(args)
            .env("TASKRC", &self.taskrc)
            .env("TASKDATA", &self.data)
            .env_remove(SOCKET_ENV)
            .env_remove(SPOOL_ENV)
            .stdin(Stdio::null());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs `task <args>` and asserts that it succeeded.
    pub fn task(&self, args: &[&str]) -> Output {
        let out = self
            .command(args)
            .output()
            .expect("run task (is Taskwarrior installed?)");
        assert!(
            out.status.success(),
            "task {args:?} failed with {}: stdout={} stderr={}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `task add <words>` and the new task's uuid.
    pub fn add(&self, words: &[&str]) -> String {
        let mut args = vec!["rc.verbose=new-uuid", "add"];
        args.extend_from_slice(words);
        let out = self.task(&args);
        let text = String::from_utf8_lossy(&out.stdout);
        text.split_whitespace()
            .map(|w| w.trim_end_matches('.'))
            .find(|w| w.len() == 36 && w.chars().filter(|c| *c == '-').count() == 4)
            .unwrap_or_else(|| panic!("no uuid in {text:?}"))
            .to_owned()
    }

    /// All tasks, via `task export` with hooks off.
    pub fn export(&self) -> Vec<serde_json::Value> {
        let out = self.task(&["rc.hooks=off", "export"]);
        serde_json::from_slice(&out.stdout).expect("export is a JSON array")
    }
}

/// A stand-in for tw-watcher's socket: every datagram it receives goes to `rx`.
pub struct Listener {
    pub rx: Receiver<String>,
    pub path: PathBuf,
    /// Kept open, unread, for a listener that does not read.
    socket: Option<UnixDatagram>,
}

impl Listener {
    /// Receives each datagram when `read`, else keeps the socket bound and never reads it
    /// (a watcher that hangs: its queue fills).
    pub fn start(path: &Path, read: bool) -> Listener {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).expect("create socket dir");
        }
        let socket = UnixDatagram::bind(path).expect("bind test socket");
        let (tx, rx) = mpsc::channel();
        if !read {
            return Listener {
                rx,
                path: path.to_path_buf(),
                socket: Some(socket),
            };
        }
        std::thread::spawn(move || {
            let mut buf = vec![0u8; 1 << 20];
            while let Ok(n) = socket.recv(&mut buf) {
                let text = String::from_utf8_lossy(&buf[..n]).into_owned();
                if tx.send(text).is_err() {
                    return;
                }
            }
        });
        Listener {
            rx,
            path: path.to_path_buf(),
            socket: None,
        }
    }

    /// The next message, waiting at most `within`.
    pub fn next(&self, within: Duration) -> HookMessage {
        let line = self
            .rx
            .recv_timeout(within)
            .expect("no message reached the listener in time");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("bad line {line:?}: {e}"))
    }

    /// The unread socket of a listener started with `read: false`.
    pub fn into_socket(self) -> Option<UnixDatagram> {
        self.socket
    }

    /// Everything received so far, without waiting.
    pub fn pending(&self) -> Vec<String> {
        self.rx.try_iter().collect()
    }
}

/// Polls `cond` until it holds or `within` passes.
pub fn wait_until(within: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::yield_now();
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// Spool lines parsed as messages, without draining.
pub fn read_spool(path: &Path) -> Vec<HookMessage> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad spool line {l:?}: {e}")))
        .collect()
}
