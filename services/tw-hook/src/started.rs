//! When the `task` command that runs the hook started: tells the watcher whether the command
//! could have read the data before one of its own imports (docs/ARCHITECTURE.md §5.3).

use vsync_hook_wire::now_us;

/// When the parent process (the `task` command running this hook) started, in Unix
/// microseconds: its start in clock ticks since boot (`/proc/<ppid>/stat`), against the uptime
/// now (`/proc/uptime`). Linux only; ticks are assumed to be 100 Hz (USER_HZ).
pub fn parent_started_us() -> Option<i64> {
    let own = std::fs::read_to_string("/proc/self/stat").ok()?;
    let ppid: u32 = stat_field(&own, 4)?.parse().ok()?;
    let parent = std::fs::read_to_string(format!("/proc/{ppid}/stat")).ok()?;
    let start_ticks: f64 = stat_field(&parent, 22)?.parse().ok()?;
    let uptime: f64 = std::fs::read_to_string("/proc/uptime")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let age_us = ((uptime - start_ticks / 100.0) * 1e6) as i64;
    Some(now_us() - age_us.max(0))
}

/// Field `n` (1-based, as in proc(5)) of a `/proc/<pid>/stat` line; the command name (field 2)
/// may contain spaces, so counting starts after its closing parenthesis.
fn stat_field(stat: &str, n: usize) -> Option<&str> {
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(n.checked_sub(3)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let stat =
            "4242 (task (odd) name) S 17 4242 4242 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 1 0 987654 0";
        assert_eq!(stat_field(stat, 4), Some("17"));
        assert_eq!(stat_field(stat, 22), Some("987654"));
    }

    #[test]
    fn the_parent_started_before_now() {
        let started = parent_started_us().expect("Linux /proc");
        assert!(started <= now_us() && started > now_us() - 86_400_000_000 * 365);
    }
}
