//! The control channel: request/reply over the bus, so the operator CLI works from any host and
//! the services ask each other for work. Three endpoints, each with its request enum: the
//! reconciler ([`reconciler::ReconcilerRequest`]: reconcile, repair, adopt, replay, retire a
//! host), each TW host ([`host::HostRequest`]: reconcile, export, re-key, info) and label-sync
//! ([`crate::labels::LabelsRequest`]). The verb is the subject's last token and the arguments
//! are the body; both are read here, in one place, into the enum.
//!
//! Every answer on every control subject has one shape, [`Reply`]: `{"ok": <value>}` or
//! `{"error": {"by": <who>, "message": <why>}}` (JSON, made by serde).

pub mod host;
pub mod reconciler;

pub use host::{HostRequest, Rekey};
pub use reconciler::{
    AdoptRequest, Progress, ReconcileRequest, ReconcilerRequest, ReplayRequest, RetireRequest,
    SyncallLink,
};

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use tracing::Instrument;

use crate::{Bus, BusError, RequestFailure, trace};

/// The answer to any control request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reply<T> {
    Ok(T),
    Error(ControlError),
}

/// Why a control request failed, and who said so.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{by}: {message}")]
pub struct ControlError {
    /// Who answered: `reconciler`, `label-sync`, `host <name>`.
    pub by: String,
    pub message: String,
}

impl ControlError {
    pub fn new(by: impl Into<String>, message: impl std::fmt::Display) -> ControlError {
        ControlError {
            by: by.into(),
            message: message.to_string(),
        }
    }
}

impl<T> Reply<T> {
    pub fn as_ref(&self) -> Result<&T, &ControlError> {
        match self {
            Reply::Ok(v) => Ok(v),
            Reply::Error(e) => Err(e),
        }
    }

    pub fn into_result(self) -> Result<T, ControlError> {
        match self {
            Reply::Ok(v) => Ok(v),
            Reply::Error(e) => Err(e),
        }
    }
}

impl<T> From<Result<T, ControlError>> for Reply<T> {
    fn from(r: Result<T, ControlError>) -> Reply<T> {
        match r {
            Ok(v) => Reply::Ok(v),
            Err(e) => Reply::Error(e),
        }
    }
}

impl<T: std::fmt::Display> std::fmt::Display for Reply<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reply::Ok(v) => write!(f, "{v}"),
            Reply::Error(e) => writeln!(f, "{e}"),
        }
    }
}

/// Reads a request enum from a message's subject and body.
type Decoder<R> = Box<dyn Fn(&str, &[u8]) -> Result<R, String> + Send + Sync>;

/// The requests arriving on one endpoint.
pub struct Requests<R> {
    messages: futures::stream::BoxStream<'static, async_nats::Message>,
    client: async_nats::Client,
    /// Who answers, for the errors this side makes.
    by: String,
    decode: std::sync::Arc<Decoder<R>>,
}

impl<R> Requests<R> {
    pub(crate) async fn subscribe(
        bus: &Bus,
        subjects: &[&str],
        queue_group: Option<&str>,
        by: &str,
        decode: Decoder<R>,
    ) -> Result<Requests<R>, BusError> {
        let mut subs = Vec::new();
        for s in subjects {
            let sub = match queue_group {
                Some(g) => {
                    bus.client
                        .queue_subscribe(s.to_string(), g.to_string())
                        .await
                }
                None => bus.client.subscribe(s.to_string()).await,
            };
            subs.push(sub.map_err(|e| BusError::subscribe(s, e))?);
        }
        bus.flush(subjects.first().copied().unwrap_or_default())
            .await?;
        Ok(Requests {
            messages: futures::stream::select_all(subs).boxed(),
            client: bus.client.clone(),
            by: by.to_string(),
            decode: std::sync::Arc::new(decode),
        })
    }
}

impl<R> Stream for Requests<R> {
    type Item = Incoming<R>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Incoming<R>>> {
        self.messages.poll_next_unpin(cx).map(|m| {
            m.map(|m| {
                let request = (self.decode)(m.subject.as_str(), &m.payload)
                    .map_err(|e| ControlError::new(self.by.clone(), e));
                Incoming {
                    request,
                    responder: Responder {
                        span: trace::process_span(m.subject.as_str(), m.headers.as_ref()),
                        reply_to: m.reply,
                        client: self.client.clone(),
                        by: self.by.clone(),
                    },
                }
            })
        })
    }
}

/// One control request, to be answered once.
pub struct Incoming<R> {
    request: Result<R, ControlError>,
    responder: Responder,
}

impl<R> Incoming<R> {
    /// What is asked (`Err`: the message is not a request of this endpoint; answer with it),
    /// and how to answer.
    pub fn into_parts(self) -> (Result<R, ControlError>, Responder) {
        (self.request, self.responder)
    }
}

/// Answers one control request.
pub struct Responder {
    span: tracing::Span,
    reply_to: Option<async_nats::Subject>,
    client: async_nats::Client,
    by: String,
}

impl Responder {
    /// The span of processing the request (`process <subject pattern>`, a child of the asker's
    /// span).
    pub fn span(&self) -> tracing::Span {
        self.span.clone()
    }

    /// An error from this endpoint.
    pub fn error(&self, message: impl std::fmt::Display) -> ControlError {
        ControlError::new(self.by.clone(), message)
    }

    /// Answers with `result`, its error as this endpoint's.
    pub async fn answer<T: Serialize, E: std::fmt::Display>(
        self,
        result: Result<T, E>,
    ) -> Result<(), BusError> {
        let reply = result.map_err(|e| self.error(e));
        self.reply(reply).await
    }

    /// Answers (nothing is sent to a request that wants no answer).
    pub async fn reply<T: Serialize>(self, reply: impl Into<Reply<T>>) -> Result<(), BusError> {
        let Some(to) = self.reply_to else {
            return Ok(());
        };
        let body = serde_json::to_vec(&reply.into()).map_err(|e| BusError::Decode {
            what: "control reply",
            reason: e.to_string(),
        })?;
        self.client
            .publish(to.clone(), body.into())
            .await
            .map_err(|e| BusError::publish(&to, e))
    }
}

/// Reads a reply.
fn parse<T: DeserializeOwned>(subject: &str, body: &[u8]) -> Result<T, BusError> {
    match serde_json::from_slice::<Reply<T>>(body) {
        Ok(Reply::Ok(v)) => Ok(v),
        Ok(Reply::Error(error)) => Err(BusError::Refused {
            subject: subject.to_string(),
            error,
        }),
        Err(e) => Err(BusError::Decode {
            what: "control reply",
            reason: e.to_string(),
        }),
    }
}

/// Sends a request one service answers and waits for its answer.
pub(crate) async fn request<T: DeserializeOwned>(
    bus: &Bus,
    subject: &str,
    body: Vec<u8>,
    timeout: Duration,
) -> Result<T, BusError> {
    let payload = async {
        let req = async_nats::client::Request::new()
            .payload(body.into())
            .headers(trace::headers())
            .timeout(Some(timeout));
        bus.client
            .send_request(subject.to_string(), req)
            .await
            .map(|m| m.payload)
            .map_err(|e| BusError::Request {
                subject: subject.to_string(),
                failure: match e.kind() {
                    async_nats::client::RequestErrorKind::TimedOut => {
                        RequestFailure::TimedOut(timeout)
                    }
                    async_nats::client::RequestErrorKind::NoResponders => {
                        RequestFailure::NoResponders
                    }
                    _ => RequestFailure::Other(e.to_string()),
                },
            })
    }
    .instrument(trace::publish_span(subject))
    .await?;
    parse(subject, &payload)
}

/// Sends a request several services answer and collects the answers: until `expected` arrived
/// or `timeout` passed. An answer that is not a reply at all is left out.
pub(crate) async fn gather<T: DeserializeOwned>(
    bus: &Bus,
    subject: &str,
    body: Vec<u8>,
    expected: usize,
    timeout: Duration,
) -> Result<Vec<Reply<T>>, BusError> {
    gather_until(bus, subject, body, timeout, |got| got.len() >= expected).await
}

/// Sends a request several services answer and collects the answers: until `done` says the
/// ones arrived are enough, or `timeout` passed.
pub(crate) async fn gather_until<T: DeserializeOwned>(
    bus: &Bus,
    subject: &str,
    body: Vec<u8>,
    timeout: Duration,
    done: impl Fn(&[Reply<T>]) -> bool,
) -> Result<Vec<Reply<T>>, BusError> {
    let inbox = bus.client.new_inbox();
    let mut replies = bus
        .client
        .subscribe(inbox.clone())
        .await
        .map_err(|e| BusError::subscribe(&inbox, e))?;
    async {
        bus.client
            .publish_with_reply_and_headers(
                subject.to_string(),
                inbox,
                trace::headers(),
                body.into(),
            )
            .await
            .map_err(|e| BusError::publish(subject, e))
    }
    .instrument(trace::publish_span(subject))
    .await?;
    let mut out = Vec::new();
    let deadline = tokio::time::sleep(timeout);
    tokio::pin!(deadline);
    while !done(&out) {
        tokio::select! {
            _ = &mut deadline => break,
            m = replies.next() => match m {
                Some(m) => match serde_json::from_slice::<Reply<T>>(&m.payload) {
                    Ok(r) => out.push(r),
                    Err(e) => tracing::warn!(subject, error = %e, "not a control reply"),
                },
                None => break,
            },
        }
    }
    Ok(out)
}

/// Encodes a request body.
pub(crate) fn body<T: Serialize>(value: &T) -> Vec<u8> {
    // Our request types are plain data: serialising them cannot fail.
    serde_json::to_vec(value).unwrap_or_default()
}

/// Decodes a request body.
pub(crate) fn from_body<T: DeserializeOwned>(payload: &[u8]) -> Result<T, String> {
    serde_json::from_slice(payload).map_err(|e| format!("invalid request body: {e}"))
}
