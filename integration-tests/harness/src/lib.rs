//! Test harness: a real `nats-server -js` on a free port ([`NatsServer`]), throw-away
//! Taskwarrior hosts ([`TwHost`]), and waiting on conditions with deadlines ([`wait_for`]).
//! `vikunja-sync demo` uses the same pieces.

mod nats;
mod process;
mod tw;
mod wait;

pub use nats::{NatsServer, anonymous_answer};
pub use process::ServiceProcess;
pub use tw::{TwHost, require_taskwarrior, task_program, taskwarrior_version};
pub use wait::{poll_until, wait_for, wait_for_async};

/// Finds a program: `$<env_var>` first, then `PATH`, then the given fallback directories.
pub fn find_program(name: &str, env_var: &str, fallbacks: &[&str]) -> Option<std::path::PathBuf> {
    if let Some(p) = std::env::var_os(env_var) {
        return Some(p.into());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(fallbacks.iter().map(std::path::PathBuf::from))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}
