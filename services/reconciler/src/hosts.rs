//! Hosts come and go: which hosts a reconcile waits for (those seen within `[reconcile]
//! host_timeout`; the others are skipped, not awaited), and retiring a host for good
//! (`vikunja-sync hosts retire`): its durable consumer and its adoption entries, which only the
//! reconciler may remove (the operator writes no bucket and deletes no consumer).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use vsync_bus::control::host::reply_host;
use vsync_bus::control::{ControlError, Reply};
use vsync_bus::reports::{HostReport, RetireReport};

use crate::error::SyncError;
use crate::events::EventHandler;

/// How long a host not seen lately has to say it is there after all.
const PROBE: Duration = Duration::from_secs(2);
/// How long the hosts awaited may take to reconcile, together.
const HOSTS_TIMEOUT: Duration = Duration::from_secs(30);

/// Each host's answer to a reconcile, and the hosts not waited for.
pub(crate) struct HostsReconciled {
    pub replies: Vec<Reply<HostReport>>,
    pub skipped: Vec<String>,
}

impl EventHandler {
    /// Asks the hosts to reconcile, waiting for those seen within `host_timeout` and for
    /// any other that answers a probe; the rest are skipped. A host awaited that does not
    /// answer in time gets an error of its own, so the reply names every host.
    pub(crate) async fn reconcile_hosts(
        &self,
        host_timeout: Duration,
    ) -> Result<HostsReconciled, SyncError> {
        let now = vsync_model::dates::now_us();
        let (mut awaited, mut away) = (Vec::new(), Vec::new());
        for h in self.bus.hosts_seen().await? {
            if h.seen_within(host_timeout, now) {
                awaited.push(h.host);
            } else {
                away.push(h.host);
            }
        }
        // A watcher pulls nothing while it is not adopted or busy applying, and its consumer
        // is quiet while nothing changes: one that answers is there.
        let probes = away.iter().map(|h| self.bus.host_info(h, PROBE));
        let answers = futures::future::join_all(probes).await;
        let mut skipped = Vec::new();
        for (host, answer) in away.into_iter().zip(answers) {
            match answer {
                Ok(_) => awaited.push(host),
                Err(_) => skipped.push(host),
            }
        }
        let mut replies = self
            .bus
            .reconcile_named_hosts(&awaited, HOSTS_TIMEOUT)
            .await?;
        let answered =
            |h: &str, replies: &[Reply<HostReport>]| replies.iter().any(|r| reply_host(r) == h);
        skipped.retain(|h| !answered(h, &replies));
        for h in awaited {
            if !answered(&h, &replies) {
                let why = format!("did not answer within {HOSTS_TIMEOUT:?}");
                replies.push(Reply::Error(ControlError::new(format!("host {h}"), why)));
            }
        }
        replies.sort_by(|a, b| reply_host(a).cmp(reply_host(b)));
        if !skipped.is_empty() {
            tracing::info!(
                ?skipped,
                ?host_timeout,
                "hosts not seen lately: not awaited"
            );
        }
        Ok(HostsReconciled { replies, skipped })
    }

    /// Forgets `host`: its durable consumer, its entry in the adoption record and the tasks
    /// held there on its behalf. Refused while its watcher is connected, unless `force`.
    /// Started again, the host is a new one.
    pub async fn retire_host(&self, host: &str, force: bool) -> Result<RetireReport, SyncError> {
        let seen = self
            .bus
            .hosts_seen()
            .await?
            .into_iter()
            .find(|h| h.host == host);
        let record = self.bus.adoption().await?;
        let in_record = record.host_adopted(host)
            || record.held.iter().any(|h| h.host.as_deref() == Some(host));
        if seen.is_none() && !in_record {
            return Err(SyncError::Refused(format!(
                "no host {host:?} is known (`vikunja-sync hosts` lists them)"
            )));
        }
        let connected =
            seen.is_some_and(|s| s.connected) || self.bus.host_info(host, PROBE).await.is_ok();
        if connected && !force {
            return Err(SyncError::Refused(format!(
                "host {host} is connected now: stop its tw-watcher first, or retire it with \
                 --force (a watcher still running makes a new consumer when it restarts)"
            )));
        }
        let consumer_removed = self.bus.delete_host_consumer(host).await?;
        // Compare-and-set may run the change more than once: the last run's counts hold.
        let (was_adopted, held_dropped) = (AtomicBool::new(false), AtomicUsize::new(0));
        self.bus
            .update_adoption(|a| {
                was_adopted.store(a.hosts.remove(host).is_some(), Ordering::Relaxed);
                let before = a.held.len();
                a.held.retain(|h| h.host.as_deref() != Some(host));
                held_dropped.store(before - a.held.len(), Ordering::Relaxed);
            })
            .await?;
        let report = RetireReport {
            host: host.to_string(),
            consumer_removed,
            was_adopted: was_adopted.into_inner(),
            held_dropped: held_dropped.into_inner(),
            forced: connected,
        };
        tracing::info!(host, consumer_removed, forced = connected, "host retired");
        Ok(report)
    }
}
