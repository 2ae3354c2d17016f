//! The reconciler's endpoint (`vsync.v1.ctl.reconciler.<verb>`, queue group `reconciler`):
//! reconcile now, repair correlations, adopt existing data, replay dead letters, retire a host.
//! Answered by one reconciler.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Requests, body, from_body, request};
use crate::reports::{AdoptReport, ReconcileReply, RepairReport, ReplayReport, RetireReport};
use crate::subscription::Subscription;
use crate::{Bus, BusError, subject};

/// Who answers on this endpoint.
const BY: &str = "reconciler";
const RECONCILE: &str = "reconcile";
const REPAIR: &str = "repair";
const ADOPT: &str = "adopt";
const REPLAY: &str = "replay";
const RETIRE: &str = "retire";

/// What the reconciler can be asked.
#[derive(Clone, Debug, PartialEq)]
pub enum ReconcilerRequest {
    /// Reconcile Vikunja, then every host: answered with a [`ReconcileReply`].
    Reconcile(ReconcileRequest),
    /// Rebuild correlations from canonical state: answered with a [`RepairReport`].
    Repair,
    /// Adopt existing data on both sides: answered with an [`AdoptReport`].
    Adopt(AdoptRequest),
    /// Replay dead letters: answered with a [`ReplayReport`].
    Replay(ReplayRequest),
    /// Forget a host (its consumer and its adoption entries): answered with a
    /// [`RetireReport`]. Only the reconciler may do it: the operator writes no bucket and
    /// removes no consumer.
    RetireHost(RetireRequest),
}

/// Ask the reconciler to reconcile now.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReconcileRequest {
    /// A full listing (finds deletions) rather than a delta poll.
    pub full: bool,
    /// Only this project path (and its children).
    pub project: Option<String>,
    /// Delete tasks Vikunja no longer has even when there are so many that the mass-deletion
    /// guard would hold them back.
    #[serde(default)]
    pub confirm_deletions: bool,
}

/// Ask the reconciler to adopt existing data on both sides.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AdoptRequest {
    pub dry_run: bool,
    /// Where to send progress ([`Progress`]); the asker listens there.
    pub progress: Option<String>,
    /// Resolve a held match: this Taskwarrior uuid is this Vikunja task.
    #[serde(default)]
    pub link: Option<(String, i64)>,
    /// Resolve a held match: this uuid or Vikunja id is a task of its own (synced as new).
    #[serde(default)]
    pub separate: Option<String>,
    /// Pairs syncall had correlated (`adopt --from-syncall`): link these where the CalDAV UID
    /// names a Vikunja task. Default (older askers): none.
    #[serde(default)]
    pub syncall: Vec<SyncallLink>,
    /// Remove the webhooks on synced projects that point anywhere but our webhook URL
    /// (without it they are only listed). Default (older askers): false.
    #[serde(default)]
    pub remove_foreign_webhooks: bool,
}

/// One pair from syncall's correlation file (`Tw_caldav_ids`): a Taskwarrior task and the
/// CalDAV UID of the VTODO syncall kept it in step with. Vikunja serves each task over
/// CalDAV as `/dav/projects/{project}/{UID}.ics`, so the UID leads to a Vikunja task id.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct SyncallLink {
    /// The Taskwarrior uuid (lower-case, hyphenated).
    pub uuid: String,
    /// The VTODO's `UID`, as syncall stored it.
    pub caldav_uid: String,
}

/// Ask the reconciler to replay dead letters, so their work is done again.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplayRequest {
    /// The dead letter's sequence number (`vikunja-sync dead-letters` lists them); `None`: all.
    pub seq: Option<u64>,
}

/// Ask the reconciler to retire a host.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetireRequest {
    pub host: String,
    /// Even when its watcher is connected now.
    #[serde(default)]
    pub force: bool,
}

impl ReconcilerRequest {
    fn verb(&self) -> &'static str {
        match self {
            ReconcilerRequest::Reconcile(_) => RECONCILE,
            ReconcilerRequest::Repair => REPAIR,
            ReconcilerRequest::Adopt(_) => ADOPT,
            ReconcilerRequest::Replay(_) => REPLAY,
            ReconcilerRequest::RetireHost(_) => RETIRE,
        }
    }

    fn body(&self) -> Vec<u8> {
        match self {
            ReconcilerRequest::Reconcile(r) => body(r),
            ReconcilerRequest::Repair => body(&()),
            ReconcilerRequest::Adopt(r) => body(r),
            ReconcilerRequest::Replay(r) => body(r),
            ReconcilerRequest::RetireHost(r) => body(r),
        }
    }

    fn decode(subject: &str, payload: &[u8]) -> Result<ReconcilerRequest, String> {
        let is = |verb| subject == subject::ctl_reconciler(verb);
        if is(RECONCILE) {
            Ok(ReconcilerRequest::Reconcile(from_body(payload)?))
        } else if is(REPAIR) {
            Ok(ReconcilerRequest::Repair)
        } else if is(ADOPT) {
            Ok(ReconcilerRequest::Adopt(from_body(payload)?))
        } else if is(REPLAY) {
            Ok(ReconcilerRequest::Replay(from_body(payload)?))
        } else if is(RETIRE) {
            Ok(ReconcilerRequest::RetireHost(from_body(payload)?))
        } else {
            Err(format!("unknown request {subject}"))
        }
    }
}

impl Bus {
    /// The reconciler's control requests (one reconciler of the queue group gets each).
    pub async fn reconciler_requests(&self) -> Result<Requests<ReconcilerRequest>, BusError> {
        Requests::subscribe(
            self,
            &[subject::CTL_RECONCILER_ALL],
            Some(BY),
            BY,
            Box::new(ReconcilerRequest::decode),
        )
        .await
    }

    async fn ask_reconciler<T: serde::de::DeserializeOwned>(
        &self,
        req: &ReconcilerRequest,
        timeout: Duration,
    ) -> Result<T, BusError> {
        let subject = subject::ctl_reconciler(req.verb());
        request(self, &subject, req.body(), timeout).await
    }

    /// Asks the reconciler to reconcile now and waits up to `timeout` for its report.
    pub async fn reconcile(
        &self,
        req: ReconcileRequest,
        timeout: Duration,
    ) -> Result<ReconcileReply, BusError> {
        self.ask_reconciler(&ReconcilerRequest::Reconcile(req), timeout)
            .await
    }

    /// Asks the reconciler to repair correlations.
    pub async fn repair(&self, timeout: Duration) -> Result<RepairReport, BusError> {
        self.ask_reconciler(&ReconcilerRequest::Repair, timeout)
            .await
    }

    /// Asks the reconciler to adopt existing data.
    pub async fn adopt(
        &self,
        req: AdoptRequest,
        timeout: Duration,
    ) -> Result<AdoptReport, BusError> {
        self.ask_reconciler(&ReconcilerRequest::Adopt(req), timeout)
            .await
    }

    /// Asks the reconciler to replay dead letters.
    pub async fn replay_dead_letters(
        &self,
        req: ReplayRequest,
        timeout: Duration,
    ) -> Result<ReplayReport, BusError> {
        self.ask_reconciler(&ReconcilerRequest::Replay(req), timeout)
            .await
    }

    /// Asks the reconciler to retire a host.
    pub async fn retire_host(
        &self,
        req: RetireRequest,
        timeout: Duration,
    ) -> Result<RetireReport, BusError> {
        self.ask_reconciler(&ReconcilerRequest::RetireHost(req), timeout)
            .await
    }

    /// A subject of this client's own for progress, and what arrives on it.
    pub async fn progress_inbox(&self) -> Result<(String, ProgressUpdates), BusError> {
        let inbox = self.client.new_inbox();
        let sub = self
            .client
            .subscribe(inbox.clone())
            .await
            .map_err(|e| BusError::subscribe(&inbox, e))?;
        self.flush(&inbox).await?;
        let updates = Subscription::new(sub, |p| serde_json::from_slice(p).ok());
        Ok((inbox, updates))
    }

    /// Reports progress (`done` of `total`) to whoever asked on `to`.
    pub async fn report_progress(&self, to: &str, p: Progress) -> Result<(), BusError> {
        self.client
            .publish(to.to_string(), body(&p).into())
            .await
            .map_err(|e| BusError::publish(to, e))
    }
}

/// How far a long request has come.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub done: usize,
    pub total: usize,
}

/// Progress reports, as they come (what is not one is skipped).
pub type ProgressUpdates = Subscription<Progress>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_request_reads_back_from_its_subject_and_body() {
        for req in [
            ReconcilerRequest::Reconcile(ReconcileRequest {
                full: true,
                project: Some("Work".into()),
                confirm_deletions: true,
            }),
            ReconcilerRequest::Repair,
            ReconcilerRequest::Adopt(AdoptRequest {
                dry_run: true,
                progress: Some("_INBOX.x".into()),
                syncall: vec![SyncallLink {
                    uuid: "0a1b2c3d-1111-4aaa-8bbb-000000000001".into(),
                    caldav_uid: "uid: with colon".into(),
                }],
                remove_foreign_webhooks: true,
                ..Default::default()
            }),
            ReconcilerRequest::Adopt(AdoptRequest {
                link: Some(("u".into(), 7)),
                ..Default::default()
            }),
            ReconcilerRequest::Replay(ReplayRequest { seq: Some(7) }),
            ReconcilerRequest::Replay(ReplayRequest { seq: None }),
            ReconcilerRequest::RetireHost(RetireRequest {
                host: "lap top".into(),
                force: true,
            }),
        ] {
            let subject = subject::ctl_reconciler(req.verb());
            assert_eq!(
                ReconcilerRequest::decode(&subject, &req.body()).as_ref(),
                Ok(&req)
            );
        }
        assert!(ReconcilerRequest::decode("vsync.v1.ctl.reconciler.nuke", b"null").is_err());
        // An asker from before `--from-syncall` sends neither new field.
        assert_eq!(
            ReconcilerRequest::decode(
                &subject::ctl_reconciler(ADOPT),
                br#"{"dry_run":true,"progress":null}"#
            ),
            Ok(ReconcilerRequest::Adopt(AdoptRequest {
                dry_run: true,
                ..AdoptRequest::default()
            }))
        );
        assert!(
            ReconcilerRequest::decode(&subject::ctl_reconciler(RECONCILE), b"{\"full\":1}")
                .is_err()
        );
        // `force` may be left out; the host may not.
        let retire = subject::ctl_reconciler(RETIRE);
        assert_eq!(
            ReconcilerRequest::decode(&retire, br#"{"host":"desk"}"#),
            Ok(ReconcilerRequest::RetireHost(RetireRequest {
                host: "desk".into(),
                force: false,
            }))
        );
        assert!(ReconcilerRequest::decode(&retire, b"{}").is_err());
        assert!(ReconcilerRequest::decode(&retire, b"null").is_err());
    }
}
