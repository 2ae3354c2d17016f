//! Messages from a durable JetStream consumer: handled, then acknowledged (or handed back).

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_nats::jetstream::{self, AckKind, consumer};
use futures::{Stream, StreamExt};
use vsync_proto::{TaskEvent, TaskState};

use crate::{BusError, subject, trace};

/// One message of a durable consumer. Unacknowledged, it comes back after the consumer's ack
/// wait, so nothing is lost when its handling fails half-way.
pub struct Delivery(jetstream::Message);

/// What a message on the canonical-state subject says.
#[derive(Debug)]
pub enum StateChange {
    /// A task's new canonical state.
    Stored(Box<TaskState>),
    /// The key was deleted or purged (or the subject is not a task's): nothing to apply.
    Removed,
    /// The payload is not a canonical state.
    Undecodable(BusError),
}

impl Delivery {
    pub fn subject(&self) -> &str {
        self.0.subject.as_str()
    }

    pub fn payload(&self) -> &[u8] {
        &self.0.payload
    }

    /// How often it has been delivered (1 the first time).
    pub fn delivered(&self) -> i64 {
        self.0.info().map(|i| i.delivered).unwrap_or(1)
    }

    /// The span of processing it: `process <subject pattern>`, a child of the publisher's span.
    pub fn process_span(&self) -> tracing::Span {
        trace::process_span(self.subject(), self.0.headers.as_ref())
    }

    /// The task event it carries.
    pub fn task_event(&self) -> Result<TaskEvent, BusError> {
        crate::decode("TaskEvent", self.payload())
    }

    /// The canonical-state change it carries (messages on `$KV.vsync_tasks.<uuid>`).
    pub fn state_change(&self) -> StateChange {
        // The KV convention marks deletes and purges with a `KV-Operation` header; puts have none.
        let removed = self
            .0
            .headers
            .as_ref()
            .and_then(|h| h.get("KV-Operation"))
            .is_some();
        if removed || subject::state_uuid(self.subject()).is_none() {
            return StateChange::Removed;
        }
        match crate::decode::<TaskState>("TaskState", self.payload()) {
            Ok(s) => StateChange::Stored(Box::new(s)),
            Err(e) => StateChange::Undecodable(e),
        }
    }

    /// Done with: it is not delivered again.
    pub async fn ack(&self) -> Result<(), BusError> {
        self.0
            .ack()
            .await
            .map_err(|e| BusError::consumer(self.subject(), e))
    }

    /// Still being handled: the consumer's ack wait starts again, so it is not redelivered
    /// meanwhile.
    pub async fn in_progress(&self) -> Result<(), BusError> {
        self.0
            .ack_with(AckKind::Progress)
            .await
            .map_err(|e| BusError::consumer(self.subject(), e))
    }

    /// Not handled: deliver it again after `delay`.
    pub async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        self.0
            .ack_with(AckKind::Nak(Some(delay)))
            .await
            .map_err(|e| BusError::consumer(self.subject(), e))
    }
}

/// The messages of a pull consumer, pulled with short-lived requests: a pull request the server
/// considers done while the client still waits on it (seen under load against nats-server 2.9)
/// then stalls delivery for at most `expires`, not the client's default 30 s.
pub struct Deliveries(consumer::pull::Stream);

impl Deliveries {
    /// Pulls up to `batch` messages per request.
    pub(crate) async fn pull(
        consumer: &consumer::PullConsumer,
        batch: usize,
    ) -> Result<Deliveries, BusError> {
        consumer
            .stream()
            .max_messages_per_batch(batch)
            .expires(Duration::from_secs(2))
            .heartbeat(Duration::from_millis(500))
            .messages()
            .await
            .map(Deliveries)
            .map_err(|e| BusError::consumer("pull", e))
    }
}

impl Stream for Deliveries {
    type Item = Result<Delivery, BusError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0
            .poll_next_unpin(cx)
            .map(|m| m.map(|r| r.map(Delivery).map_err(|e| BusError::consumer("pull", e))))
    }
}
