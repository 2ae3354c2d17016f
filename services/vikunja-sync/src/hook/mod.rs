//! `vikunja-sync hook install|uninstall`: link the hook program into a Taskwarrior hooks
//! directory ([`links`]) and declare the UDA the sync needs in the taskrc.

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
/// Installs the hook for the data dir `data` and declares the UDA in `taskrc` (when it exists or
/// is given). `with_undo` also links on-modify, which is what sees `task undo` on Taskwarrior 2.6.
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
    let hooks = data.join("hooks");
    std::fs::create_dir_all(&hooks)
        .with_context(|| format!("cannot create {}", hooks.display()))?;
    let report = links::link(&hooks, &bin, events)
        .with_context(|| format!("cannot install the hook in {}", hooks.display()))?;
    let mut out = report.to_string();
    if let Some(rc) = taskrc {
        let added = declare_udas(rc)?;
        if added > 0 {
            out.push_str(&format!("\nadded {added} line(s) to {}", rc.display()));
        }
    }
    Ok(out)
}

/// Removes our hook links from `<data>/hooks` (nothing else).
pub fn remove(data: &Path) -> anyhow::Result<String> {
    let hooks = data.join("hooks");
    Ok(links::unlink(&hooks)
        .with_context(|| format!("cannot uninstall from {}", hooks.display()))?
        .to_string())
}

/// Appends the UDA declarations the taskrc lacks; returns how many lines were added.
fn declare_udas(rc: &Path) -> anyhow::Result<usize> {
    let current = std::fs::read_to_string(rc).unwrap_or_default();
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
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(rc)
        .with_context(|| format!("cannot write {}", rc.display()))?;
    let mut text = String::new();
    if !current.is_empty() && !current.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# vikunja-sync\n");
    for l in &missing {
        text.push_str(l);
        text.push('\n');
    }
    f.write_all(text.as_bytes())?;
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
}
