//! Where Taskwarrior keeps its configuration and data, found the way `task` finds them, so the
//! watcher, the hook and `hook install` look where the user's own `task` does:
//!
//! - the taskrc: `$TASKRC`; else `~/.taskrc` when it exists; else
//!   `$XDG_CONFIG_HOME/task/taskrc` (default `~/.config/task/taskrc`, the home-manager layout)
//!   when it exists; else `~/.taskrc` (where `task` would offer to create one);
//! - the data directory: `$TASKDATA`; else the taskrc's `data.location` (its last assignment,
//!   `include`d files read in place, `~` and `$VARIABLES` expanded); else `~/.task`;
//! - the hooks directory: the taskrc's `hooks.location`, else `<data>/hooks`.
//!
//! Checked against Taskwarrior 2.6.2 and 3.5: both read `~/.taskrc` before the XDG file,
//! default `data.location` to `~/.task` (not `$XDG_DATA_HOME`), expand `$HOME` in values and
//! honour `hooks.location`.

use std::path::{Path, PathBuf};

/// How deep `include`s are followed (Taskwarrior refuses more than 10 levels).
const MAX_INCLUDE_DEPTH: usize = 10;

/// The environment the paths depend on (a seam for tests).
#[derive(Clone, Debug, Default)]
pub struct TaskEnv {
    pub home: PathBuf,
    pub taskrc: Option<PathBuf>,
    pub taskdata: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    /// Values for `$VARIABLE`s in the taskrc.
    pub vars: Vec<(String, String)>,
}

impl TaskEnv {
    /// This process's environment.
    pub fn current() -> TaskEnv {
        let var = |k: &str| {
            std::env::var_os(k)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        TaskEnv {
            home: var("HOME").unwrap_or_else(|| PathBuf::from("/")),
            taskrc: var("TASKRC"),
            taskdata: var("TASKDATA"),
            xdg_config_home: var("XDG_CONFIG_HOME"),
            vars: std::env::vars().collect(),
        }
    }

    fn var(&self, name: &str) -> Option<String> {
        if name == "HOME" {
            return Some(self.home.display().to_string());
        }
        self.vars
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }

    /// The taskrc `task` reads.
    pub fn taskrc(&self) -> PathBuf {
        if let Some(rc) = &self.taskrc {
            return rc.clone();
        }
        let home_rc = self.home.join(".taskrc");
        if home_rc.exists() {
            return home_rc;
        }
        let xdg = self
            .xdg_config_home
            .clone()
            .unwrap_or_else(|| self.home.join(".config"))
            .join("task/taskrc");
        if xdg.exists() { xdg } else { home_rc }
    }

    /// The data directory `task` uses with the taskrc `rc`.
    pub fn data(&self, rc: &Path) -> PathBuf {
        if let Some(d) = &self.taskdata {
            return d.clone();
        }
        self.setting(rc, "data.location")
            .map(|v| self.expand(&v))
            .unwrap_or_else(|| self.home.join(".task"))
    }

    /// The hooks directory `task` runs, with the taskrc `rc` and data directory `data`.
    pub fn hooks(&self, rc: &Path, data: &Path) -> PathBuf {
        self.setting(rc, "hooks.location")
            .map(|v| self.expand(&v))
            .unwrap_or_else(|| data.join("hooks"))
    }

    /// The value the taskrc `rc` gives `key` (its last assignment, includes read in place).
    pub fn setting(&self, rc: &Path, key: &str) -> Option<String> {
        let mut found = None;
        self.scan(rc, key, 0, &mut found);
        found.filter(|v: &String| !v.is_empty())
    }

    fn scan(&self, file: &Path, key: &str, depth: usize, found: &mut Option<String>) {
        let Ok(text) = std::fs::read_to_string(file) else {
            return;
        };
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("").trim();
            if let Some(inc) = line
                .strip_prefix("include")
                .filter(|r| r.starts_with([' ', '\t']))
            {
                if depth < MAX_INCLUDE_DEPTH {
                    let inc = self.expand(inc.trim());
                    let inc = match (inc.is_absolute(), file.parent()) {
                        (false, Some(dir)) => dir.join(inc),
                        _ => inc,
                    };
                    self.scan(&inc, key, depth + 1, found);
                }
                continue;
            }
            if let Some((k, v)) = line.split_once('=')
                && k.trim() == key
            {
                *found = Some(v.trim().to_string());
            }
        }
    }

    /// `~` and `$VAR`/`${VAR}` expanded, as Taskwarrior does for values.
    fn expand(&self, value: &str) -> PathBuf {
        let value = match value.strip_prefix('~') {
            Some(rest) if rest.is_empty() || rest.starts_with('/') => {
                format!("{}{rest}", self.home.display())
            }
            _ => value.to_string(),
        };
        let mut out = String::new();
        let mut rest = value.as_str();
        while let Some(at) = rest.find('$') {
            out.push_str(&rest[..at]);
            let after = &rest[at + 1..];
            let (name, tail) = match after.strip_prefix('{') {
                Some(b) => match b.find('}') {
                    Some(end) => (&b[..end], &b[end + 1..]),
                    None => (b, ""),
                },
                None => {
                    let end = after
                        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                        .unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            match self.var(name) {
                Some(v) if !name.is_empty() => out.push_str(&v),
                _ => {
                    out.push('$');
                    out.push_str(&after[..after.len() - tail.len()]);
                }
            }
            rest = tail;
        }
        out.push_str(rest);
        PathBuf::from(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(home: &Path) -> TaskEnv {
        TaskEnv {
            home: home.to_path_buf(),
            ..Default::default()
        }
    }

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("dir");
        std::fs::write(path, text).expect("write");
    }

    #[test]
    fn home_taskrc_first_then_xdg_then_home_again() {
        let dir = tempfile::tempdir().expect("dir");
        let home = dir.path();
        let e = env(home);
        assert_eq!(e.taskrc(), home.join(".taskrc"), "neither exists");
        write(&home.join(".config/task/taskrc"), "");
        assert_eq!(e.taskrc(), home.join(".config/task/taskrc"));
        let custom = TaskEnv {
            xdg_config_home: Some(home.join("cfg")),
            ..env(home)
        };
        assert_eq!(
            custom.taskrc(),
            home.join(".taskrc"),
            "the XDG file is elsewhere"
        );
        write(&home.join(".taskrc"), "");
        assert_eq!(e.taskrc(), home.join(".taskrc"));
        let forced = TaskEnv {
            taskrc: Some(home.join("other")),
            ..env(home)
        };
        assert_eq!(forced.taskrc(), home.join("other"));
    }

    #[test]
    fn data_location_comes_from_the_taskrc_and_its_includes() {
        let dir = tempfile::tempdir().expect("dir");
        let home = dir.path();
        let rc = home.join(".config/task/taskrc");
        let e = TaskEnv {
            vars: vec![("XDG_DATA_HOME".into(), format!("{}/share", home.display()))],
            ..env(home)
        };
        assert_eq!(e.data(&rc), home.join(".task"), "no taskrc: ~/.task");
        write(
            &rc,
            "# home-manager\ndata.location=~/.local/share/task  # comment\ninclude extra.rc\n",
        );
        assert_eq!(e.data(&rc), home.join(".local/share/task"));
        write(
            &home.join(".config/task/extra.rc"),
            "data.location=${XDG_DATA_HOME}/task\n",
        );
        assert_eq!(
            e.data(&rc),
            home.join("share/task"),
            "the include comes later"
        );
        write(&rc, "data.location=$HOME/tasks\nhooks.location=~/hooks\n");
        assert_eq!(e.data(&rc), home.join("tasks"));
        assert_eq!(e.hooks(&rc, &e.data(&rc)), home.join("hooks"));
        write(&rc, "data.location=/srv/t\n");
        assert_eq!(e.hooks(&rc, &e.data(&rc)), PathBuf::from("/srv/t/hooks"));
        let env_wins = TaskEnv {
            taskdata: Some(PathBuf::from("/env/data")),
            ..e.clone()
        };
        assert_eq!(env_wins.data(&rc), PathBuf::from("/env/data"));
    }

    #[test]
    fn includes_that_loop_end() {
        let dir = tempfile::tempdir().expect("dir");
        let rc = dir.path().join("taskrc");
        write(&rc, "include taskrc\ndata.location=/d\n");
        assert_eq!(env(dir.path()).data(&rc), PathBuf::from("/d"));
    }
}
