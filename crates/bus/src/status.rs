//! `vikunja-sync status`: what the bus knows: tasks, pending events, hosts and their lag, the
//! last reconcile, dead letters, recent conflicts and how full the streams are (a nearly full
//! one is named first).

use async_nats::jetstream::consumer;
use vsync_proto::Conflict;

use crate::reports::ReconcileReport;
use crate::{Bus, BusError, RECONCILER_CONSUMER};

/// A snapshot of the system as the bus sees it.
#[derive(Clone, Debug)]
pub struct StatusReport {
    /// Tasks with canonical state (every revision kept counts once per task).
    pub tasks: u64,
    /// Events the reconciler has not taken yet (`None`: it never started).
    pub pending_events: Option<u64>,
    pub hosts: Vec<HostLag>,
    /// The last reconcile pass (`Err`: its report cannot be read).
    pub last_reconcile: Result<Option<ReconcileReport>, String>,
    pub dead_letters: u64,
    /// The newest conflicts, oldest first.
    pub recent_conflicts: Vec<Conflict>,
    /// When this was taken (µs).
    pub taken_at_us: i64,
    /// Since when Vikunja rejects the reconciler's API token (µs), if it does.
    pub token_rejected_since_us: Option<i64>,
    /// How full the event, dead-letter and conflict streams are.
    pub streams: Vec<crate::StreamUse>,
    /// What adoption has done and holds back (`Err`: unreadable).
    pub adoption: Result<crate::adoption::Adoption, String>,
    /// Deletions the mass-deletion guard holds back, and what to do about them.
    pub held_deletions: Option<String>,
}

/// How far behind canonical state one host is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostLag {
    pub host: String,
    /// Changes not applied (or not acknowledged) yet.
    pub pending: u64,
}

impl Bus {
    /// What the bus knows now, with the newest `conflicts` conflicts.
    pub async fn status(&self, conflicts: u64) -> Result<StatusReport, BusError> {
        let err = |what: &str, e: &dyn std::fmt::Display| BusError::kv("read", what, e);
        let mut tasks = self
            .js
            .get_stream(crate::TASKS_STREAM)
            .await
            .map_err(|e| err(crate::TASKS_STREAM, &e))?;
        let tasks_count = tasks
            .info()
            .await
            .map_err(|e| err(crate::TASKS_STREAM, &e))?
            .state
            .messages;
        let events = self
            .js
            .get_stream(crate::EVENTS_STREAM)
            .await
            .map_err(|e| err(crate::EVENTS_STREAM, &e))?;
        let pending_events = match events
            .get_consumer::<consumer::pull::Config>(RECONCILER_CONSUMER)
            .await
        {
            Ok(mut c) => Some(
                c.info()
                    .await
                    .map_err(|e| BusError::consumer(RECONCILER_CONSUMER, e))?
                    .num_pending,
            ),
            Err(_) => None,
        };
        let hosts = self
            .hosts_seen()
            .await?
            .into_iter()
            .map(|h| HostLag {
                host: h.host,
                pending: h.pending,
            })
            .collect();
        let mut dead = self
            .js
            .get_stream(crate::DEAD_STREAM)
            .await
            .map_err(|e| err(crate::DEAD_STREAM, &e))?;
        let dead_letters = dead
            .info()
            .await
            .map_err(|e| err(crate::DEAD_STREAM, &e))?
            .state
            .messages;
        Ok(StatusReport {
            tasks: tasks_count,
            pending_events,
            hosts,
            last_reconcile: self.last_reconcile().await.map_err(|e| e.to_string()),
            dead_letters,
            recent_conflicts: self.recent_conflicts(conflicts).await?,
            taken_at_us: now_us(),
            token_rejected_since_us: self.token_rejected().await?,
            streams: self.stream_use().await?,
            adoption: self.adoption().await.map_err(|e| e.to_string()),
            held_deletions: self.held_deletions().await?,
        })
    }
}

fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as i64)
        .unwrap_or(0)
}

impl std::fmt::Display for StatusReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(since) = self.token_rejected_since_us {
            let ago = (self.taken_at_us - since).max(0) / 1_000_000;
            writeln!(
                f,
                "Vikunja rejected the API token ({ago} s ago, also after reading the token file \
                 again): changes for Vikunja wait until the token file holds a valid token"
            )?;
        }
        if let Some(why) = &self.held_deletions {
            writeln!(f, "deletions held back: {why}")?;
        }
        for s in self.streams.iter().filter(|s| s.nearly_full()) {
            writeln!(f, "stream {s}")?;
        }
        if let Ok(a) = &self.adoption {
            let waiting: Vec<&str> = self
                .hosts
                .iter()
                .map(|h| h.host.as_str())
                .filter(|h| !a.host_adopted(h))
                .collect();
            if a.vikunja_at_us.is_none() || !waiting.is_empty() {
                let mut sides = Vec::new();
                if a.vikunja_at_us.is_none() {
                    sides.push(match a.pending_vikunja_tasks {
                        Some(n) => format!("{n} Vikunja tasks"),
                        None => "Vikunja's tasks".to_string(),
                    });
                }
                for h in waiting {
                    sides.push(match a.waiting_hosts.get(h) {
                        Some(n) => format!("{n} on {h}"),
                        None => format!("the tasks on {h}"),
                    });
                }
                writeln!(
                    f,
                    "adoption pending: {} (by itself with `[adopt] auto = true`, else \
                     `vikunja-sync adopt`)",
                    sides.join(", ")
                )?;
            }
            if !a.held.is_empty() {
                writeln!(
                    f,
                    "held by adoption: {} task(s), unsynced until `vikunja-sync adopt --link \
                     <uuid> <vikunja id>` or `--separate <uuid>|<vikunja id>`",
                    a.held.len()
                )?;
                for h in &a.held {
                    writeln!(f, "  {h}")?;
                }
            }
        }
        writeln!(f, "tasks (canonical): {}", self.tasks)?;
        match self.pending_events {
            Some(n) => writeln!(f, "events waiting for the reconciler: {n}")?,
            None => writeln!(
                f,
                "events waiting for the reconciler: reconciler not started yet"
            )?,
        }
        writeln!(f, "hosts:")?;
        for h in &self.hosts {
            writeln!(
                f,
                "  {:<20} {} change(s) not applied yet",
                h.host, h.pending
            )?;
        }
        match &self.last_reconcile {
            Ok(Some(r)) => {
                let ago = (self.taken_at_us - r.finished_at_us) / 1_000_000;
                write!(f, "last reconcile {ago} s ago: {r}")?;
            }
            Ok(None) => writeln!(f, "last reconcile: none yet")?,
            Err(_) => writeln!(f, "last reconcile: unreadable")?,
        }
        writeln!(f, "dead letters: {}", self.dead_letters)?;
        writeln!(f, "streams:")?;
        for s in &self.streams {
            writeln!(f, "  {s}")?;
        }
        writeln!(f, "recent conflicts:")?;
        for c in &self.recent_conflicts {
            writeln!(
                f,
                "  {} {}: kept {:?}, overwrote {:?}",
                c.uuid, c.field, c.kept_value, c.lost_value
            )?;
        }
        Ok(())
    }
}
