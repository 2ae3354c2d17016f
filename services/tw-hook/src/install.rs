//! Linking the hook binary into a Taskwarrior hooks directory, and undoing that.

use crate::hook::HookKind;
use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

/// Suffix of our hook file names: `on-add.vikunja-sync`, ….
pub const HOOK_SUFFIX: &str = "vikunja-sync";

/// The events [`install`] links.
pub const DEFAULT_EVENTS: &[HookKind] = &[HookKind::Add, HookKind::Modify, HookKind::Exit];

/// The taskrc lines the sync needs (the UDA that holds the Vikunja task id).
pub fn taskrc_lines() -> &'static [&'static str] {
    &[
        "uda.vikunja_id.type=numeric",
        "uda.vikunja_id.label=Vikunja ID",
    ]
}

/// Our hook file name for an event, e.g. `on-add.vikunja-sync`.
pub fn hook_file_name(kind: HookKind) -> String {
    format!("{}.{HOOK_SUFFIX}", kind.event_name())
}

/// What [`install`]/[`uninstall`] did with one hook file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InstallAction {
    /// A new link to the binary.
    Created,
    /// Our link pointed elsewhere (an older binary) and now points to the binary.
    Replaced {
        /// Where it pointed before.
        old_target: PathBuf,
    },
    /// Our link already pointed to the binary.
    Unchanged,
    /// Our link was removed.
    Removed,
    /// There was nothing to remove.
    NotPresent,
    /// A file with our name that is not a symlink: not ours, not touched.
    LeftAlone,
}

/// The outcome of [`install`] or [`uninstall`]; `Display` gives one line per hook file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallReport {
    /// The hooks directory.
    pub hooks_dir: PathBuf,
    /// The binary the links point to (install only).
    pub target: Option<PathBuf>,
    /// One entry per hook file looked at.
    pub entries: Vec<(PathBuf, InstallAction)>,
}

impl InstallReport {
    /// Whether anything on disk changed.
    pub fn changed(&self) -> bool {
        self.entries.iter().any(|(_, a)| {
            matches!(
                a,
                InstallAction::Created | InstallAction::Replaced { .. } | InstallAction::Removed
            )
        })
    }
}

impl fmt::Display for InstallReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Taskwarrior hooks in {}:", self.hooks_dir.display())?;
        let target = self
            .target
            .as_ref()
            .map(|t| format!(" -> {}", t.display()))
            .unwrap_or_default();
        for (path, action) in &self.entries {
            let name = path
                .file_name()
                .unwrap_or(path.as_os_str())
                .to_string_lossy();
            match action {
                InstallAction::Created => write!(f, "\n  created    {name}{target}")?,
                InstallAction::Replaced { old_target } => write!(
                    f,
                    "\n  replaced   {name}{target} (was {})",
                    old_target.display()
                )?,
                InstallAction::Unchanged => write!(f, "\n  unchanged  {name}{target}")?,
                InstallAction::Removed => write!(f, "\n  removed    {name}")?,
                InstallAction::NotPresent => write!(f, "\n  absent     {name}")?,
                InstallAction::LeftAlone => {
                    write!(f, "\n  left alone {name} (not a symlink, not ours)")?
                }
            }
        }
        Ok(())
    }
}

/// Links [`DEFAULT_EVENTS`] (`on-add`, `on-modify`, `on-exit`, each `.vikunja-sync`) in
/// `hooks_dir` to `hook_binary`; see [`install_events`].
pub fn install(hooks_dir: &Path, hook_binary: &Path) -> io::Result<InstallReport> {
    install_events(hooks_dir, hook_binary, DEFAULT_EVENTS)
}

/// Makes `hooks_dir` hold exactly our links for `events`, pointing to `hook_binary` (made
/// absolute, symlinks in it kept so a profile path survives upgrades). Our old links are
/// replaced atomically; our links for other events are removed; other files are never
/// touched. Fails without changing anything when a non-symlink file has one of our names or
/// the binary is not an executable file.
pub fn install_events(
    hooks_dir: &Path,
    hook_binary: &Path,
    events: &[HookKind],
) -> io::Result<InstallReport> {
    let target = std::path::absolute(hook_binary)?;
    let meta = fs::metadata(&target)?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not an executable file", target.display()),
        ));
    }
    for kind in events {
        let path = hooks_dir.join(hook_file_name(*kind));
        if let Ok(m) = fs::symlink_metadata(&path)
            && !m.file_type().is_symlink()
        {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                    "{} exists and is not our symlink; not touching it",
                    path.display()
                ),
            ));
        }
    }
    fs::create_dir_all(hooks_dir)?;

    let mut entries = Vec::new();
    for kind in HookKind::ALL {
        let path = hooks_dir.join(hook_file_name(kind));
        let existing = read_our_link(&path)?;
        if !events.contains(&kind) {
            if let Some(Some(_)) = existing {
                fs::remove_file(&path)?;
                entries.push((path, InstallAction::Removed));
            }
            continue;
        }
        let action = match existing {
            Some(Some(old)) if old == target => InstallAction::Unchanged,
            Some(Some(old)) => {
                replace_link(&target, &path)?;
                InstallAction::Replaced { old_target: old }
            }
            Some(None) => InstallAction::LeftAlone, // checked above; only in a race
            None => {
                symlink(&target, &path)?;
                InstallAction::Created
            }
        };
        entries.push((path, action));
    }
    Ok(InstallReport {
        hooks_dir: hooks_dir.to_path_buf(),
        target: Some(target),
        entries,
    })
}

/// Removes our hook links (`on-*.vikunja-sync` symlinks) from `hooks_dir`; anything else,
/// including a regular file with one of our names, stays.
pub fn uninstall(hooks_dir: &Path) -> io::Result<InstallReport> {
    let mut entries = Vec::new();
    for kind in HookKind::ALL {
        let path = hooks_dir.join(hook_file_name(kind));
        match read_our_link(&path)? {
            Some(Some(_)) => {
                fs::remove_file(&path)?;
                entries.push((path, InstallAction::Removed));
            }
            Some(None) => entries.push((path, InstallAction::LeftAlone)),
            None if kind == HookKind::Launch => {} // never installed by us
            None => entries.push((path, InstallAction::NotPresent)),
        }
    }
    Ok(InstallReport {
        hooks_dir: hooks_dir.to_path_buf(),
        target: None,
        entries,
    })
}

/// `None`: nothing there; `Some(None)`: something that is not a symlink;
/// `Some(Some(target))`: a symlink.
fn read_our_link(path: &Path) -> io::Result<Option<Option<PathBuf>>> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Ok(Some(Some(fs::read_link(path)?))),
        Ok(_) => Ok(Some(None)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Points `path` at `target` atomically (new link beside it, then rename over it). The
/// temporary name starts with a dot so Taskwarrior never takes it for a hook.
fn replace_link(target: &Path, path: &Path) -> io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let tmp = path.with_file_name(format!(".{name}.tmp-{}", std::process::id()));
    let _ = fs::remove_file(&tmp);
    symlink(target, &tmp)?;
    fs::rename(&tmp, path).inspect_err(|_| {
        let _ = fs::remove_file(&tmp);
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "vsh-install-{tag}-{}-{}",
            std::process::id(),
            crate::message::now_us()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn fake_binary(dir: &Path, name: &str) -> PathBuf {
        let bin = dir.join(name);
        fs::write(&bin, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&bin, fs::Permissions::from_mode(0o755)).unwrap();
        bin
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn install_links_replaces_our_old_links_and_uninstall_removes_only_ours() {
        let dir = temp_dir("cycle");
        let hooks = dir.join("hooks");
        let old = fake_binary(&dir, "old-hook");
        let new = fake_binary(&dir, "new-hook");
        fs::create_dir_all(&hooks).unwrap();
        fs::write(hooks.join("on-add.timewarrior"), "x").unwrap();

        let report = install(&hooks, &old).unwrap();
        assert!(report.changed());
        assert!(
            report
                .entries
                .iter()
                .all(|(_, a)| *a == InstallAction::Created)
        );
        assert_eq!(
            fs::read_link(hooks.join("on-exit.vikunja-sync")).unwrap(),
            old
        );

        let report = install(&hooks, &new).unwrap();
        assert_eq!(report.entries.len(), 3);
        assert!(matches!(
            report.entries[0].1,
            InstallAction::Replaced { .. }
        ));
        assert!(
            report
                .to_string()
                .contains("replaced   on-add.vikunja-sync")
        );
        for name in ["on-add", "on-modify", "on-exit"] {
            let link = hooks.join(format!("{name}.vikunja-sync"));
            assert_eq!(fs::read_link(link).unwrap(), new);
        }
        let again = install(&hooks, &new).unwrap();
        assert!(!again.changed());

        // Narrowing the events removes our other links.
        let report = install_events(&hooks, &new, &[HookKind::Exit]).unwrap();
        assert_eq!(
            names(&hooks),
            ["on-add.timewarrior", "on-exit.vikunja-sync"]
        );
        assert_eq!(report.entries.len(), 3);

        let report = uninstall(&hooks).unwrap();
        assert!(
            report
                .to_string()
                .contains("removed    on-exit.vikunja-sync")
        );
        assert_eq!(names(&hooks), ["on-add.timewarrior"]);
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn foreign_file_with_our_name_is_never_touched() {
        let dir = temp_dir("foreign");
        let hooks = dir.join("hooks");
        let bin = fake_binary(&dir, "hook");
        fs::create_dir_all(&hooks).unwrap();
        fs::write(hooks.join("on-modify.vikunja-sync"), "mine").unwrap();

        let err = install(&hooks, &bin).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(names(&hooks), ["on-modify.vikunja-sync"]);

        let report = uninstall(&hooks).unwrap();
        assert!(report.entries.contains(&(
            hooks.join("on-modify.vikunja-sync"),
            InstallAction::LeftAlone
        )));
        assert_eq!(
            fs::read_to_string(hooks.join("on-modify.vikunja-sync")).unwrap(),
            "mine"
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn non_executable_binary_is_rejected() {
        let dir = temp_dir("noexec");
        let bin = dir.join("hook");
        fs::write(&bin, "x").unwrap();
        assert!(install(&dir.join("hooks"), &bin).is_err());
        assert!(!dir.join("hooks").exists());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn taskrc_lines_declare_the_uda() {
        assert_eq!(
            taskrc_lines(),
            [
                "uda.vikunja_id.type=numeric",
                "uda.vikunja_id.label=Vikunja ID"
            ]
        );
    }
}
