//! Linking the hook program into a Taskwarrior hooks directory, and undoing that.

use std::fmt;
use std::fs;
use std::io;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};
use vsync_hook_wire::HookKind;

/// What [`link`]/[`unlink`] did with one hook file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkAction {
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

/// The outcome of [`link`] or [`unlink`]; `Display` gives one line per hook file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkReport {
    /// The hooks directory.
    pub hooks_dir: PathBuf,
    /// The binary the links point to ([`link`] only).
    pub target: Option<PathBuf>,
    /// One entry per hook file looked at.
    pub entries: Vec<(PathBuf, LinkAction)>,
}

impl LinkReport {
    /// Whether anything on disk changed.
    pub fn changed(&self) -> bool {
        self.entries.iter().any(|(_, a)| {
            matches!(
                a,
                LinkAction::Created | LinkAction::Replaced { .. } | LinkAction::Removed
            )
        })
    }
}

impl fmt::Display for LinkReport {
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
                LinkAction::Created => write!(f, "\n  created    {name}{target}")?,
                LinkAction::Replaced { old_target } => write!(
                    f,
                    "\n  replaced   {name}{target} (was {})",
                    old_target.display()
                )?,
                LinkAction::Unchanged => write!(f, "\n  unchanged  {name}{target}")?,
                LinkAction::Removed => write!(f, "\n  removed    {name}")?,
                LinkAction::NotPresent => write!(f, "\n  absent     {name}")?,
                LinkAction::LeftAlone => {
                    write!(f, "\n  left alone {name} (not a symlink, not ours)")?
                }
            }
        }
        Ok(())
    }
}

/// Makes `hooks_dir` hold exactly our links for `events`, pointing to `hook_binary` (made
/// absolute, symlinks in it kept so a profile path survives upgrades). Our old links are
/// replaced atomically; our links for other events are removed; other files are never
/// touched. Fails without changing anything when a non-symlink file has one of our names or
/// the binary is not an executable file.
pub fn link(hooks_dir: &Path, hook_binary: &Path, events: &[HookKind]) -> io::Result<LinkReport> {
    let target = std::path::absolute(hook_binary)?;
    let meta = fs::metadata(&target)?;
    if !meta.is_file() || meta.permissions().mode() & 0o111 == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not an executable file", target.display()),
        ));
    }
    for kind in events {
        let path = hooks_dir.join(kind.file_name());
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
        let path = hooks_dir.join(kind.file_name());
        let existing = read_our_link(&path)?;
        if !events.contains(&kind) {
            if let Some(Some(_)) = existing {
                fs::remove_file(&path)?;
                entries.push((path, LinkAction::Removed));
            }
            continue;
        }
        let action = match existing {
            Some(Some(old)) if old == target => LinkAction::Unchanged,
            Some(Some(old)) => {
                replace_link(&target, &path)?;
                LinkAction::Replaced { old_target: old }
            }
            Some(None) => LinkAction::LeftAlone, // checked above; only in a race
            None => {
                symlink(&target, &path)?;
                LinkAction::Created
            }
        };
        entries.push((path, action));
    }
    Ok(LinkReport {
        hooks_dir: hooks_dir.to_path_buf(),
        target: Some(target),
        entries,
    })
}

/// Removes our hook links (`on-*.vikunja-sync` symlinks) from `hooks_dir`; anything else,
/// including a regular file with one of our names, stays.
pub fn unlink(hooks_dir: &Path) -> io::Result<LinkReport> {
    let mut entries = Vec::new();
    for kind in HookKind::ALL {
        let path = hooks_dir.join(kind.file_name());
        match read_our_link(&path)? {
            Some(Some(_)) => {
                fs::remove_file(&path)?;
                entries.push((path, LinkAction::Removed));
            }
            Some(None) => entries.push((path, LinkAction::LeftAlone)),
            None if kind == HookKind::Launch => {} // never installed by us
            None => entries.push((path, LinkAction::NotPresent)),
        }
    }
    Ok(LinkReport {
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

    const ALL_THREE: &[HookKind] = &[HookKind::Add, HookKind::Modify, HookKind::Exit];

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "vsh-install-{tag}-{}-{}",
            std::process::id(),
            vsync_hook_wire::now_us()
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
    fn link_creates_replaces_our_old_links_and_unlink_removes_only_ours() {
        let dir = temp_dir("cycle");
        let hooks = dir.join("hooks");
        let old = fake_binary(&dir, "old-hook");
        let new = fake_binary(&dir, "new-hook");
        fs::create_dir_all(&hooks).unwrap();
        fs::write(hooks.join("on-add.timewarrior"), "x").unwrap();

        let report = link(&hooks, &old, ALL_THREE).unwrap();
        assert!(report.changed());
        assert!(
            report
                .entries
                .iter()
                .all(|(_, a)| *a == LinkAction::Created)
        );
        assert_eq!(
            fs::read_link(hooks.join("on-exit.vikunja-sync")).unwrap(),
            old
        );

        let report = link(&hooks, &new, ALL_THREE).unwrap();
        assert_eq!(report.entries.len(), 3);
        assert!(matches!(report.entries[0].1, LinkAction::Replaced { .. }));
        assert!(
            report
                .to_string()
                .contains("replaced   on-add.vikunja-sync")
        );
        for name in ["on-add", "on-modify", "on-exit"] {
            let link = hooks.join(format!("{name}.vikunja-sync"));
            assert_eq!(fs::read_link(link).unwrap(), new);
        }
        let again = link(&hooks, &new, ALL_THREE).unwrap();
        assert!(!again.changed());

        // Narrowing the events removes our other links.
        let report = link(&hooks, &new, &[HookKind::Exit]).unwrap();
        assert_eq!(
            names(&hooks),
            ["on-add.timewarrior", "on-exit.vikunja-sync"]
        );
        assert_eq!(report.entries.len(), 3);

        let report = unlink(&hooks).unwrap();
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

        let err = link(&hooks, &bin, ALL_THREE).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(names(&hooks), ["on-modify.vikunja-sync"]);

        let report = unlink(&hooks).unwrap();
        assert!(
            report
                .entries
                .contains(&(hooks.join("on-modify.vikunja-sync"), LinkAction::LeftAlone))
        );
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
        assert!(link(&dir.join("hooks"), &bin, ALL_THREE).is_err());
        assert!(!dir.join("hooks").exists());
        fs::remove_dir_all(dir).unwrap();
    }
}
