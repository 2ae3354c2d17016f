//! Finding the programs the CLI runs: the hook it links, the nats-server `up` starts, the
//! demo.

use std::path::{Path, PathBuf};

/// `$<env_var>` when set, else `name` next to this executable (a Nix package's `bin/`, cargo's
/// `target/<profile>/`), else on `PATH`, else in one of `fallbacks`.
pub fn find(name: &str, env_var: Option<&str>, fallbacks: &[&str]) -> Option<PathBuf> {
    if let Some(p) = env_var.and_then(std::env::var_os).filter(|p| !p.is_empty()) {
        return Some(p.into());
    }
    let own_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf));
    let path = std::env::var_os("PATH").unwrap_or_default();
    own_dir
        .into_iter()
        .chain(std::env::split_paths(&path))
        .chain(fallbacks.iter().map(PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_programs_on_the_path_and_not_missing_ones() {
        assert!(find("sh", None, &[]).is_some_and(|p| p.is_file()));
        assert_eq!(find("no-such-program-vsync", None, &[]), None);
        assert_eq!(
            find("no-such-program-vsync", None, &["/bin"]),
            None,
            "fallbacks are searched for the same name"
        );
    }
}
