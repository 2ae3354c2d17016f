//! `vikunja-sync hosts [list]`: every host, with when it was last seen (connected now while its
//! watcher pulls or answers), how far behind it is, its versions and whether it has been
//! adopted; `hosts retire NAME [--force]` asks the reconciler to forget one (only it may remove
//! a consumer and write the adoption record).

use std::collections::BTreeSet;
use std::fmt;
use std::time::Duration;

use vsync_bus::Bus;
use vsync_bus::control::RetireRequest;
use vsync_bus::reports::{HostInfo, RetireReport};

/// How long each host has to say what it is: every host is asked at once.
const ASK: Duration = Duration::from_secs(2);
/// How long a retire may take (the reconciler probes the host for as long as [`ASK`]).
const RETIRE_TIMEOUT: Duration = Duration::from_secs(30);

/// What `hosts` does.
#[derive(Clone, Debug, Default, clap::Subcommand)]
pub enum HostsAction {
    /// Every host: last seen, lag, version, adopted (the default).
    #[default]
    List,
    /// Forget host NAME: its consumer of canonical state and its adoption entries. Started
    /// again, it is a new host (adopted when it says hello).
    Retire {
        name: String,
        /// Even when its watcher is connected now.
        #[arg(long)]
        force: bool,
    },
}

/// Runs `action`; what to print.
pub async fn run(bus: &Bus, action: HostsAction) -> anyhow::Result<String> {
    Ok(match action {
        HostsAction::List => list(bus).await?.to_string(),
        HostsAction::Retire { name, force } => retire(bus, &name, force).await?.to_string(),
    })
}

/// One host as the bus and the host itself show it.
#[derive(Clone, Debug)]
pub struct HostRow {
    pub host: String,
    /// Its watcher pulls canonical state or answered just now.
    pub connected: bool,
    /// When its consumer was last active (µs); `None`: it has no consumer.
    pub last_seen_us: Option<i64>,
    /// Changes not applied yet; `None`: it has no consumer.
    pub lag: Option<u64>,
    /// What it says it is; `Err`: why it did not say.
    pub info: Result<HostInfo, String>,
    /// Whether the adoption record lists it (`None`: the record is unreadable).
    pub adopted: Option<bool>,
}

/// Every host.
#[derive(Clone, Debug)]
pub struct HostsReport {
    pub hosts: Vec<HostRow>,
    /// When this was taken (µs).
    pub taken_at_us: i64,
}

impl HostsReport {
    pub fn host(&self, name: &str) -> Option<&HostRow> {
        self.hosts.iter().find(|h| h.host == name)
    }
}

/// Every host with a consumer or an adoption entry, each asked what it is.
pub async fn list(bus: &Bus) -> anyhow::Result<HostsReport> {
    let seen = bus.hosts_seen().await?;
    let adoption = bus.adoption().await.ok();
    let mut names: BTreeSet<String> = seen.iter().map(|h| h.host.clone()).collect();
    if let Some(a) = &adoption {
        names.extend(a.hosts.keys().cloned());
        names.extend(a.held.iter().filter_map(|h| h.host.clone()));
    }
    let asks = names.iter().map(|h| bus.host_info(h, ASK));
    let infos = futures::future::join_all(asks).await;
    let hosts = names
        .into_iter()
        .zip(infos)
        .map(|(host, info)| {
            let s = seen.iter().find(|s| s.host == host);
            HostRow {
                connected: s.is_some_and(|s| s.connected) || info.is_ok(),
                last_seen_us: s.map(|s| s.last_active_us),
                lag: s.map(|s| s.pending),
                info: info.map_err(|e| match e {
                    vsync_bus::BusError::Request { .. } => "unreachable".to_string(),
                    e => e.to_string(),
                }),
                adopted: adoption.as_ref().map(|a| a.host_adopted(&host)),
                host,
            }
        })
        .collect();
    Ok(HostsReport {
        hosts,
        taken_at_us: vsync_model::dates::now_us(),
    })
}

/// Asks the reconciler to retire `host`.
pub async fn retire(bus: &Bus, host: &str, force: bool) -> anyhow::Result<RetireReport> {
    let req = RetireRequest {
        host: host.to_string(),
        force,
    };
    bus.retire_host(req, RETIRE_TIMEOUT)
        .await
        .map_err(crate::ctl::explain)
}

/// `3 s`, `4 min`, `2 h`, `5 d`.
fn ago(us: i64) -> String {
    let s = us.max(0) / 1_000_000;
    match s {
        0..120 => format!("{s} s"),
        120..7_200 => format!("{} min", s / 60),
        7_200..172_800 => format!("{} h", s / 3_600),
        _ => format!("{} d", s / 86_400),
    }
}

impl HostRow {
    fn last_seen(&self, now_us: i64) -> String {
        match (self.connected, self.last_seen_us) {
            (true, _) => "connected now".into(),
            (false, Some(at)) => {
                let when = vsync_model::dates::format_vikunja(Some(at / 1_000_000));
                format!("{} ago ({when})", ago(now_us - at))
            }
            (false, None) => "never (no consumer)".into(),
        }
    }

    fn adopted_text(&self) -> String {
        let record = match self.adopted {
            Some(true) => "yes",
            Some(false) => "no",
            None => "?",
        };
        match &self.info {
            // The host's own mark disagrees (retired, then started with its old state).
            Ok(i) if Some(i.adopted) != self.adopted => {
                format!(
                    "{record} (host says {})",
                    if i.adopted { "yes" } else { "no" }
                )
            }
            _ => record.into(),
        }
    }
}

impl fmt::Display for HostsReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.hosts.is_empty() {
            return writeln!(
                f,
                "no hosts yet (a host appears when its tw-watcher starts)"
            );
        }
        writeln!(
            f,
            "{:<16} {:<40} {:>6}  {:<12} {:<12} {:>6}  adopted",
            "host", "last seen", "lag", "version", "taskwarrior", "tasks"
        )?;
        for h in &self.hosts {
            let lag = h.lag.map_or("-".into(), |l| l.to_string());
            let (version, tw, tasks) = match &h.info {
                Ok(i) => (
                    i.version.clone(),
                    i.taskwarrior.clone(),
                    i.tasks.to_string(),
                ),
                Err(why) => (why.clone(), "-".into(), "-".into()),
            };
            writeln!(
                f,
                "{:<16} {:<40} {:>6}  {:<12} {:<12} {:>6}  {}",
                h.host,
                h.last_seen(self.taken_at_us),
                lag,
                version,
                tw,
                tasks,
                h.adopted_text()
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_shows_when_it_was_seen_and_what_it_is() {
        let now = 1_700_000_000_000_000;
        let row = |connected, info: Result<HostInfo, String>| HostRow {
            host: "desk".into(),
            connected,
            last_seen_us: Some(now - 300_000_000),
            lag: Some(4),
            info,
            adopted: Some(true),
        };
        let info = HostInfo {
            host: "desk".into(),
            version: "0.1.0".into(),
            taskwarrior: "3.1.0".into(),
            adopted: true,
            tasks: 12,
        };
        let report = HostsReport {
            hosts: vec![row(true, Ok(info.clone()))],
            taken_at_us: now,
        };
        let text = report.to_string();
        assert!(text.contains("connected now"), "{text}");
        assert!(text.contains("0.1.0") && text.contains("3.1.0"), "{text}");
        assert!(text.trim_end().ends_with("yes"), "{text}");
        let away = HostsReport {
            hosts: vec![row(false, Err("unreachable".into()))],
            taken_at_us: now,
        };
        let text = away.to_string();
        assert!(text.contains("5 min ago (2023-11-14T22:08:20Z)"), "{text}");
        assert!(text.contains("unreachable"), "{text}");
        let retired = HostsReport {
            hosts: vec![HostRow {
                adopted: Some(false),
                ..row(true, Ok(info))
            }],
            taken_at_us: now,
        };
        assert!(retired.to_string().contains("no (host says yes)"));
        assert_eq!(ago(59_000_000), "59 s");
        assert_eq!(ago(3 * 86_400_000_000), "3 d");
    }
}
