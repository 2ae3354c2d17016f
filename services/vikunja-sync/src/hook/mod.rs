//! `vikunja-sync hook install|uninstall`: link the hook program into a Taskwarrior hooks
//! directory ([`links`]) and declare the UDA the sync needs in the taskrc. The directory is the
//! one `task` runs (the taskrc's `hooks.location`, else `<data>/hooks`); a taskrc is never
//! created (a new `~/.taskrc` would shadow a home-manager `$XDG_CONFIG_HOME/task/taskrc`), and
//! one that cannot be written (a read-only link into the Nix store) is reported, not an error:
//! Taskwarrior keeps an undeclared `vikunja_id` as an orphan attribute all the same.

pub mod links;

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use vsync_hook_wire::HookKind;

/// The taskrc lines the sync needs (the UDA that holds the Vikunja task id).
pub const TASKRC_LINES: &[&str] = &[
    "uda.vikunja_id.type=numeric",
    "uda.vikunja_id.label=Vikunja ID",
];

/// The hook program: `$VIKUNJA_SYNC_HOOK_BIN`, next to this program (Nix, cargo), else on PATH.
pub fn hook_binary() -> Option<PathBuf> {
    crate::programs::find("vikunja-sync-hook", Some("VIKUNJA_SYNC_HOOK_BIN"), &[])
}
/// Installs the hook for the data dir `data` (into the hooks directory `taskrc` names, if any)
/// and declares the UDA in `taskrc` when it exists. `with_undo` also links on-modify, which is
/// what sees `task undo` on Taskwarrior 2.6.
pub fn install(
    data: &Path,
    taskrc: Option<&Path>,
    hook_bin: Option<&Path>,
    with_undo: bool,
) -> anyhow::Result<String> {
    let bin = match hook_bin {
        Some(b) => b.to_path_buf(),
        None => {
            hook_binary().context("cannot find the vikunja-sync-hook program (use --hook-bin)")?
        }
    };
    let events: &[HookKind] = if with_undo {
        &[HookKind::Modify, HookKind::Exit]
    } else {
        &[HookKind::Exit]
    };
    let hooks = match taskrc {
        Some(rc) => vsync_config::paths::TaskEnv::current().hooks(rc, data),
        None => data.join("hooks"),
    };
    std::fs::create_dir_all(&hooks)
        .with_context(|| format!("cannot create {}", hooks.display()))?;
    let report = links::link(&hooks, &bin, events)
        .with_context(|| format!("cannot install the hook in {}", hooks.display()))?;
    let mut out = report.to_string();
    if let Some(rc) = taskrc {
        match declare_udas(rc) {
            Ok(0) => {}
            Ok(added) => out.push_str(&format!("\nadded {added} line(s) to {}", rc.display())),
            Err(why) => out.push_str(&format!(
                "\n{why}: the UDA is not declared there (the sync works without it); to \
                 declare it, add to your Taskwarrior configuration: {}",
                TASKRC_LINES.join(" ")
            )),
        }
    }
    Ok(out)
}

/// Removes our hook links from `<data>/hooks` (nothing else).
pub fn remove(data: &Path) -> anyhow::Result<String> {
    uninstall(&data.join("hooks"))
}

/// Removes our hook links from the hooks directory `hooks` (nothing else).
pub fn uninstall(hooks: &Path) -> anyhow::Result<String> {
    Ok(links::unlink(hooks)
        .with_context(|| format!("cannot uninstall from {}", hooks.display()))?
        .to_string())
}

/// Appends the UDA declarations the taskrc lacks; returns how many lines were added. A taskrc
/// that does not exist is not created, and one that cannot be written is left alone: the error
/// says which.
fn declare_udas(rc: &Path) -> Result<usize, String> {
    let current = match std::fs::read_to_string(rc) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("no taskrc at {}", rc.display()));
        }
        Err(e) => return Err(format!("cannot read {}: {e}", rc.display())),
    };
    let missing: Vec<&str> = TASKRC_LINES
        .iter()
        .copied()
        .filter(|l| {
            let key = l.split('=').next().unwrap_or(l);
            !current.lines().any(|c| c.trim_start().starts_with(key))
        })
        .collect();
    if missing.is_empty() {
        return Ok(0);
    }
    let cannot_write = |e: std::io::Error| format!("cannot write {}: {e}", rc.display());
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(rc)
        .map_err(cannot_write)?;
    let mut text = String::new();
    if !current.is_empty() && !current.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# vikunja-sync\n");
    for l in &missing {
        text.push_str(l);
        text.push('\n');
    }
    f.write_all(text.as_bytes()).map_err(cannot_write)?;
    Ok(missing.len())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_uda_is_declared_once_and_other_lines_stay() {
        let dir = tempfile::tempdir().unwrap();
        let rc = dir.path().join("taskrc");
        std::fs::write(&rc, "data.location=/x\nuda.vikunja_id.type=numeric").unwrap();
        assert_eq!(declare_udas(&rc).unwrap(), 1);
        assert_eq!(declare_udas(&rc).unwrap(), 0);
        assert_eq!(
            std::fs::read_to_string(&rc).unwrap(),
            "data.location=/x\nuda.vikunja_id.type=numeric\n# vikunja-sync\nuda.vikunja_id.label=Vikunja ID\n"
        );
    }

    #[test]
    fn a_missing_taskrc_is_not_created() {
        let dir = tempfile::tempdir().unwrap();
        let rc = dir.path().join(".taskrc");
        let why = declare_udas(&rc).unwrap_err();
        assert!(why.contains("no taskrc"), "{why}");
        assert!(!rc.exists());
    }

    #[test]
    fn a_read_only_taskrc_is_reported_and_kept() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let rc = dir.path().join("taskrc");
        std::fs::write(&rc, "data.location=/x\n").unwrap();
        std::fs::set_permissions(&rc, std::fs::Permissions::from_mode(0o444)).unwrap();
        // root writes anyway; the refusal is what a Nix store link gives a user
        if std::fs::OpenOptions::new().append(true).open(&rc).is_ok() {
            return;
        }
        assert!(declare_udas(&rc).unwrap_err().contains("cannot write"));
        assert_eq!(std::fs::read_to_string(&rc).unwrap(), "data.location=/x\n");
    }
}
