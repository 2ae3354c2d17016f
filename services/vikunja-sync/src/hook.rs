//! `vikunja-sync hook install|uninstall`: link the hook program into a Taskwarrior hooks
//! directory and declare the UDA the sync needs.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use vikunja_sync_hook::{HookKind, install_events, taskrc_lines, uninstall};

/// The hook binary: next to this program (Nix, cargo), else on PATH.
pub fn hook_binary() -> Option<PathBuf> {
    let sibling = std::env::current_exe()
        .ok()?
        .parent()?
        .join("vikunja-sync-hook");
    if sibling.is_file() {
        return Some(sibling);
    }
    vsync_harness::find_program("vikunja-sync-hook", "VIKUNJA_SYNC_HOOK_BIN", &[])
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
    let report = install_events(&hooks, &bin, events)
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

pub fn remove(data: &Path) -> anyhow::Result<String> {
    let hooks = data.join("hooks");
    Ok(uninstall(&hooks)
        .with_context(|| format!("cannot uninstall from {}", hooks.display()))?
        .to_string())
}

/// Appends the UDA declarations the taskrc lacks; returns how many lines were added.
fn declare_udas(rc: &Path) -> anyhow::Result<usize> {
    let current = std::fs::read_to_string(rc).unwrap_or_default();
    let missing: Vec<&str> = taskrc_lines()
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
