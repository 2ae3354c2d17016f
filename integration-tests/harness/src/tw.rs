use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

/// A throw-away Taskwarrior "host": its own taskrc and data directory under a temp dir.
pub struct TwHost {
    pub name: String,
    dir: tempfile::TempDir,
    task_bin: PathBuf,
}

const HINT: &str = "task (Taskwarrior) not found: install it (Debian: `apt-get install \
                    taskwarrior`, Nix: `nix develop`) or set TASK_BIN";

/// The Taskwarrior the tests run: `$TASK_BIN`, else `task` on PATH (scripts/test.sh sets
/// `TASK_BIN` to a 2.6 and then to a 3.x).
pub fn task_program() -> PathBuf {
    crate::find_program("task", "TASK_BIN", &["/usr/bin", "/usr/local/bin"]).expect(HINT)
}

/// The version of [`task_program`], e.g. `3.5.0` (asked once per test binary).
pub fn taskwarrior_version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let empty = tempfile::tempdir().expect("temp dir");
        let out = Command::new(task_program())
            .arg("_version")
            .env("TASKRC", "/dev/null")
            .env("TASKDATA", empty.path())
            .output()
            .expect("run task _version");
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            out.status.success() && !version.is_empty(),
            "task _version failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        version
    })
}

/// The first line of a test that holds only on one major version of Taskwarrior (its name
/// ends in `_tw26` or `_tw3`; scripts/test.sh skips it by name on the other): on the other
/// version it fails, saying so, rather than passing without having checked anything.
pub fn require_taskwarrior(major: u32) {
    let version = taskwarrior_version();
    assert!(
        version.split('.').next() == Some(major.to_string().as_str()),
        "this test is for Taskwarrior {major}.x, but TASK_BIN runs {version} \
         (scripts/test.sh runs it on {major}.x only)"
    );
}

impl TwHost {
    /// A new empty host with the sync's UDA declared.
    pub fn new(name: &str) -> TwHost {
        Self::with_bin(name, task_program())
    }

    /// A new empty host that runs `task_bin` (e.g. a wrapper counting invocations).
    pub fn with_bin(name: &str, task_bin: PathBuf) -> TwHost {
        let dir = tempfile::Builder::new()
            .prefix(&format!("tw-{name}-"))
            .tempdir()
            .expect("temp dir for a Taskwarrior host");
        let data = dir.path().join("data");
        std::fs::create_dir_all(data.join("hooks")).expect("data dir");
        // The same on 2.6 and 3.x: no prompts, no news nag (3.x), JSON arrays, hooks on.
        let rc = format!(
            "data.location={}\nconfirmation=off\nverbose=nothing\njson.array=on\nhooks=on\n\
             uda.vikunja_id.type=numeric\nuda.vikunja_id.label=Vikunja ID\nnews.version=99.99.99\n",
            data.display()
        );
        std::fs::write(dir.path().join("taskrc"), rc).expect("taskrc");
        TwHost {
            name: name.to_string(),
            dir,
            task_bin,
        }
    }

    /// Appends a line to the host's taskrc (e.g. a UDA declaration).
    pub fn configure(&self, line: &str) {
        use std::io::Write as _;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.taskrc())
            .expect("open taskrc");
        writeln!(f, "{line}").expect("write taskrc");
    }

    pub fn taskrc(&self) -> PathBuf {
        self.dir.path().join("taskrc")
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn hooks_dir(&self) -> PathBuf {
        self.data_dir().join("hooks")
    }

    pub fn task_bin(&self) -> &Path {
        &self.task_bin
    }

    /// Runs `task <args>` as the user would (hooks on).
    pub fn task(&self, args: &[&str]) -> Output {
        Command::new(&self.task_bin)
            .args(args)
            .env("TASKRC", self.taskrc())
            .env("TASKDATA", self.data_dir())
            .output()
            .expect("run task")
    }

    /// Runs `task <args>` and panics with its output if it failed.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.task(args);
        assert!(
            out.status.success(),
            "task {args:?} failed on {}: {}{}",
            self.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `task add <description> [more args]`, returning the new task's uuid (from the command's
    /// own output: `+LATEST` could name a task the sync imported meanwhile).
    pub fn add(&self, args: &[&str]) -> String {
        let mut a = vec!["rc.verbose=new-uuid", "add"];
        a.extend_from_slice(args);
        let out = self.ok(&a);
        out.split_whitespace()
            .find(|w| w.len() >= 36 && w.matches('-').count() == 4)
            .map(|w| w.trim_end_matches('.').to_string())
            .unwrap_or_else(|| panic!("no uuid in the output of task add: {out}"))
    }

    /// Every task (`task export`, hooks off so exports never reach the sync). Garbage
    /// collection off: 2.6's export otherwise rewrites `pending.data`, a write with no hook that
    /// can undo an import the watcher makes at the same moment (an observer must not write).
    pub fn export(&self) -> Vec<Value> {
        let out = self.ok(&["rc.hooks=off", "rc.gc=off", "export"]);
        match serde_json::from_str(&out) {
            Ok(Value::Array(v)) => v,
            _ => panic!("task export on {} printed no JSON array: {out}", self.name),
        }
    }

    /// One task by uuid, if this host has it.
    pub fn get(&self, uuid: &str) -> Option<Value> {
        self.export()
            .into_iter()
            .find(|t| t.get("uuid").and_then(Value::as_str) == Some(uuid))
    }

    /// The first task with this description.
    pub fn find(&self, description: &str) -> Option<Value> {
        self.export()
            .into_iter()
            .find(|t| t.get("description").and_then(Value::as_str) == Some(description))
    }
}
