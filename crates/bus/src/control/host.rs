//! Each TW host's endpoint (`vsync.v1.ctl.tw.<host>.<verb>`, and `vsync.v1.ctl.tw.reconcile`
//! that every host answers): reconcile now, its `task export`, re-key tasks, adopted, release
//! held tasks, what it is (version, Taskwarrior, adopted).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Reply, Requests, body, from_body, gather, gather_until};
use crate::reports::{HostInfo, HostReport};
use crate::{Bus, BusError, RequestFailure, subject};

const RECONCILE: &str = "reconcile";
const EXPORT: &str = "export";
const REKEY: &str = "rekey";
const ADOPTED: &str = "adopted";
const RELEASE: &str = "release";
const INFO: &str = "info";

/// What a host can be asked.
#[derive(Clone, Debug, PartialEq)]
pub enum HostRequest {
    /// Compare `task export` with the mirror and canonical state: answered with a
    /// [`HostReport`].
    Reconcile,
    /// Every task of the host as `task export` shows it: answered with JSON objects.
    Export,
    /// Re-key local tasks (first adoption matched them): answered with nothing.
    Rekey(Vec<Rekey>),
    /// The host has been adopted: follow canonical state and publish local changes, except
    /// for the held tasks (uuids), which stay unsynced. Answered with nothing.
    Adopted(Vec<String>),
    /// Held tasks (uuids) the user decided on: sync them from now on. Answered with nothing.
    Release(Vec<String>),
    /// What the host is: answered with a [`HostInfo`].
    Info,
}

/// Re-key a local task: the same task is known under `to` everywhere else.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rekey {
    pub from: String,
    pub to: String,
}

impl HostRequest {
    fn decode(host: &str, subject: &str, payload: &[u8]) -> Result<HostRequest, String> {
        let is = |verb| subject == subject::ctl_host(host, verb);
        if subject == subject::CTL_HOSTS_RECONCILE || is(RECONCILE) {
            Ok(HostRequest::Reconcile)
        } else if is(EXPORT) {
            Ok(HostRequest::Export)
        } else if is(REKEY) {
            Ok(HostRequest::Rekey(from_body(payload)?))
        } else if is(ADOPTED) {
            Ok(HostRequest::Adopted(from_body(payload)?))
        } else if is(RELEASE) {
            Ok(HostRequest::Release(from_body(payload)?))
        } else if is(INFO) {
            Ok(HostRequest::Info)
        } else {
            Err(format!("unknown request {subject}"))
        }
    }
}

impl Bus {
    /// The control requests for `host`, and those every host answers.
    pub async fn host_requests(&self, host: &str) -> Result<Requests<HostRequest>, BusError> {
        let own = subject::ctl_host_all(host);
        let host_name = host.to_string();
        Requests::subscribe(
            self,
            &[&own, subject::CTL_HOSTS_RECONCILE],
            None,
            &format!("host {host}"),
            Box::new(move |s, p| HostRequest::decode(&host_name, s, p)),
        )
        .await
    }

    /// Asks every host following canonical state to reconcile; each one's answer, sorted by
    /// host (hosts that do not answer within `timeout` are missing).
    pub async fn reconcile_hosts(
        &self,
        timeout: Duration,
    ) -> Result<Vec<Reply<HostReport>>, BusError> {
        self.reconcile_named_hosts(&self.hosts().await?, timeout)
            .await
    }

    /// Asks every host to reconcile, waiting for the answers of `hosts` only (or `timeout`);
    /// each answer that came, sorted by host, others' included.
    pub async fn reconcile_named_hosts(
        &self,
        hosts: &[String],
        timeout: Duration,
    ) -> Result<Vec<Reply<HostReport>>, BusError> {
        let all_in = |got: &[Reply<HostReport>]| {
            hosts
                .iter()
                .all(|h| got.iter().any(|r| reply_host(r) == h.as_str()))
        };
        let mut replies = gather_until(
            self,
            subject::CTL_HOSTS_RECONCILE,
            body(&()),
            timeout,
            all_in,
        )
        .await?;
        replies.sort_by(|a, b| reply_host(a).cmp(reply_host(b)));
        Ok(replies)
    }

    /// What `host` says it is; [`BusError::Request`] when it does not answer within `timeout`.
    pub async fn host_info(&self, host: &str, timeout: Duration) -> Result<HostInfo, BusError> {
        self.ask_host(host, INFO, body(&()), timeout).await
    }

    /// What `host`'s `task export` shows (JSON objects).
    pub async fn host_tasks(
        &self,
        host: &str,
        timeout: Duration,
    ) -> Result<Vec<serde_json::Value>, BusError> {
        self.ask_host(host, EXPORT, body(&()), timeout).await
    }

    /// Re-keys tasks on `host`.
    pub async fn rekey(
        &self,
        host: &str,
        rekeys: &[Rekey],
        timeout: Duration,
    ) -> Result<(), BusError> {
        self.ask_host(host, REKEY, body(&rekeys), timeout).await
    }

    /// Tells `host` it has been adopted, with the uuids it holds back.
    pub async fn tell_adopted(
        &self,
        host: &str,
        held: &[String],
        timeout: Duration,
    ) -> Result<(), BusError> {
        self.ask_host(host, ADOPTED, body(&held), timeout).await
    }

    /// Tells `host` to sync held tasks `uuids` from now on.
    pub async fn release_held(
        &self,
        host: &str,
        uuids: &[String],
        timeout: Duration,
    ) -> Result<(), BusError> {
        self.ask_host(host, RELEASE, body(&uuids), timeout).await
    }

    async fn ask_host<T: serde::de::DeserializeOwned>(
        &self,
        host: &str,
        verb: &str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> Result<T, BusError> {
        let subject = subject::ctl_host(host, verb);
        // Not a plain request: a host may be down, and that is an answer too (no responders
        // would not tell it from a slow one).
        let reply = gather::<T>(self, &subject, body, 1, timeout).await?;
        match reply.into_iter().next() {
            Some(Reply::Ok(v)) => Ok(v),
            Some(Reply::Error(error)) => Err(BusError::Refused { subject, error }),
            None => Err(BusError::Request {
                subject,
                failure: RequestFailure::TimedOut(timeout),
            }),
        }
    }
}

/// The host a reconcile answer is from (an error names it as `host <name>`).
pub fn reply_host(r: &Reply<HostReport>) -> &str {
    match r {
        Reply::Ok(h) => &h.host,
        Reply::Error(e) => e.by.strip_prefix("host ").unwrap_or(&e.by),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_host_reads_its_own_requests_and_the_one_for_every_host() {
        let host = "lap top";
        let decode = |verb: &str, body: &[u8]| {
            HostRequest::decode(host, &subject::ctl_host(host, verb), body)
        };
        assert_eq!(decode(RECONCILE, b"null"), Ok(HostRequest::Reconcile));
        assert_eq!(
            HostRequest::decode(host, subject::CTL_HOSTS_RECONCILE, b""),
            Ok(HostRequest::Reconcile)
        );
        assert_eq!(decode(EXPORT, b"null"), Ok(HostRequest::Export));
        let rekeys = vec![Rekey {
            from: "a".into(),
            to: "b".into(),
        }];
        assert_eq!(
            decode(REKEY, &body(&rekeys)),
            Ok(HostRequest::Rekey(rekeys))
        );
        assert!(decode(REKEY, b"{").is_err());
        let held = vec!["u".to_string()];
        assert_eq!(
            decode(ADOPTED, &body(&held)),
            Ok(HostRequest::Adopted(held.clone()))
        );
        assert_eq!(
            decode(RELEASE, &body(&held)),
            Ok(HostRequest::Release(held))
        );
        assert_eq!(decode(INFO, b"null"), Ok(HostRequest::Info));
        assert_eq!(decode(INFO, b""), Ok(HostRequest::Info));
        assert!(decode("format", b"null").is_err());
        assert!(HostRequest::decode("desk", &subject::ctl_host(host, EXPORT), b"").is_err());
    }

    #[test]
    fn a_reconcile_answer_names_its_host() {
        let ok = Reply::Ok(HostReport {
            host: "lap top".into(),
            ..Default::default()
        });
        assert_eq!(reply_host(&ok), "lap top");
        let err = Reply::Error(crate::control::ControlError::new("host desk", "locked"));
        assert_eq!(reply_host(&err), "desk");
    }
}
