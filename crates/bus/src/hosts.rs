//! The hosts following canonical state, as their durable consumers (`host-<host>` on
//! `KV_vsync_tasks`) show them: how far behind each is, whether its watcher pulls right now and
//! when it was last active; a host's consumer removed when it is retired. What a watcher says
//! of itself is [`HostInfo`] (its `info` request, `control::host`).

use std::fmt;
use std::time::Duration;

use async_nats::jetstream::{self, consumer, context::ConsumerInfoErrorKind, stream};
use serde::{Deserialize, Serialize};

use crate::{Bus, BusError, TASKS_STREAM};

/// One host as its durable consumer shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostSeen {
    pub host: String,
    /// Changes not applied (or not acknowledged) yet.
    pub pending: u64,
    /// Its watcher has pull requests waiting: connected now.
    pub connected: bool,
    /// The consumer's newest activity (µs): a delivery, an acknowledgement, else its creation.
    pub last_active_us: i64,
}

impl HostSeen {
    fn from_info(host: String, info: &consumer::Info) -> HostSeen {
        let us = |t: &async_nats::datetime::DateTime| (t.unix_timestamp_nanos() / 1_000) as i64;
        let last_active_us = [&info.delivered.last_active, &info.ack_floor.last_active]
            .into_iter()
            .flatten()
            .map(us)
            .chain([us(&info.created)])
            .max()
            .unwrap_or_default();
        HostSeen {
            host,
            pending: info.num_pending + info.num_ack_pending as u64,
            connected: info.num_waiting > 0,
            last_active_us,
        }
    }

    /// Whether it is connected, or was active within `within` before `now_us`.
    pub fn seen_within(&self, within: Duration, now_us: i64) -> bool {
        let within = i64::try_from(within.as_micros()).unwrap_or(i64::MAX);
        self.connected || now_us.saturating_sub(self.last_active_us) <= within
    }
}

/// What a watcher says of itself (its answer to `info`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HostInfo {
    pub host: String,
    /// The watcher's own version.
    pub version: String,
    /// What `task _version` says.
    pub taskwarrior: String,
    /// Whether the host holds itself adopted (its state directory's `adoption.json`).
    pub adopted: bool,
    /// Tasks it knows locally (its mirror).
    pub tasks: usize,
}

/// What retiring a host removed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RetireReport {
    pub host: String,
    /// Its durable consumer existed and is gone.
    pub consumer_removed: bool,
    /// The adoption record listed it as adopted; the entry is gone.
    pub was_adopted: bool,
    /// Its held tasks dropped from the adoption record.
    pub held_dropped: usize,
    /// It was connected and retired anyway (`--force`).
    pub forced: bool,
}

impl fmt::Display for RetireReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let yes_no = |b| if b { "removed" } else { "none" };
        writeln!(f, "retired host {}:", self.host)?;
        writeln!(f, "  durable consumer: {}", yes_no(self.consumer_removed))?;
        writeln!(f, "  adoption record entry: {}", yes_no(self.was_adopted))?;
        writeln!(f, "  held tasks dropped: {}", self.held_dropped)?;
        if self.forced {
            writeln!(
                f,
                "  it was connected (--force): its watcher stops following"
            )?;
        }
        writeln!(
            f,
            "  if it starts again it is a new host: adopted when it says hello"
        )
    }
}

impl Bus {
    /// Every host following canonical state as its consumer shows it, sorted by host. A
    /// consumer removed while this runs is left out.
    pub async fn hosts_seen(&self) -> Result<Vec<HostSeen>, BusError> {
        let stream = self.tasks_stream().await?;
        let mut out = Vec::new();
        for (host, name) in self.host_consumers().await? {
            match stream.consumer_info(&name).await {
                Ok(info) => out.push(HostSeen::from_info(host, &info)),
                Err(e) if e.kind() == ConsumerInfoErrorKind::NotFound => {}
                Err(e) => return Err(BusError::consumer(&name, e)),
            }
        }
        Ok(out)
    }

    /// Removes `host`'s durable consumer (false: it had none). Its watcher, if still running,
    /// stops receiving canonical state; started again it makes a new consumer from scratch.
    pub async fn delete_host_consumer(&self, host: &str) -> Result<bool, BusError> {
        let name = crate::state::host_consumer(host);
        let stream = self.tasks_stream().await?;
        match stream.delete_consumer(&name).await {
            Ok(status) => Ok(status.success),
            Err(e) => match e.kind() {
                stream::ConsumerErrorKind::JetStream(j)
                    if j.error_code() == jetstream::ErrorCode::CONSUMER_NOT_FOUND =>
                {
                    Ok(false)
                }
                _ => Err(BusError::consumer(&name, e)),
            },
        }
    }

    /// Whether `host` has its durable consumer already (false: it never had one, it was
    /// retired, or the bus is new).
    pub async fn host_consumer_exists(&self, host: &str) -> Result<bool, BusError> {
        let name = crate::state::host_consumer(host);
        let stream = self.tasks_stream().await?;
        match stream.consumer_info(&name).await {
            Ok(_) => Ok(true),
            Err(e) => {
                use async_nats::jetstream::context::ConsumerInfoErrorKind as Kind;
                match e.kind() {
                    Kind::NotFound => Ok(false),
                    Kind::JetStream(j)
                        if j.error_code() == jetstream::ErrorCode::CONSUMER_NOT_FOUND =>
                    {
                        Ok(false)
                    }
                    _ => Err(BusError::consumer(&name, e)),
                }
            }
        }
    }

    async fn tasks_stream(&self) -> Result<jetstream::stream::Stream, BusError> {
        self.js
            .get_stream(TASKS_STREAM)
            .await
            .map_err(|e| BusError::consumer("host-*", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_is_seen_when_connected_or_recently_active() {
        let h = |connected, last_active_us| HostSeen {
            host: "desk".into(),
            pending: 0,
            connected,
            last_active_us,
        };
        let minute = Duration::from_secs(60);
        let now = 1_000_000_000_000;
        assert!(h(true, 0).seen_within(minute, now));
        assert!(h(false, now - 59_000_000).seen_within(minute, now));
        assert!(!h(false, now - 61_000_000).seen_within(minute, now));
        assert!(h(false, now).seen_within(Duration::MAX, now));
    }

    #[test]
    fn a_retire_report_says_what_went() {
        let r = RetireReport {
            host: "desk".into(),
            consumer_removed: true,
            held_dropped: 2,
            ..Default::default()
        };
        let text = r.to_string();
        assert!(text.contains("durable consumer: removed"), "{text}");
        assert!(text.contains("adoption record entry: none"), "{text}");
        assert!(text.contains("held tasks dropped: 2"), "{text}");
    }
}
