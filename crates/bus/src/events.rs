//! Task events in (JetStream, deduplicated by content), the reconciler's durable consumer of
//! them, and the logs beside them: dead letters, conflicts, and hosts' applied notices.

use std::time::Duration;

use async_nats::jetstream::consumer;
use prost::Message as _;
use tracing::Instrument;
use vsync_proto::{Conflict, DeadLetter, HostApplied, TaskEvent, task_event};

use crate::delivery::Deliveries;
use crate::subscription::Subscription;
use crate::{Bus, BusError, RECONCILER_CONSUMER, subject, trace};

/// How long an event delivered to the reconciler may go unacknowledged before it is delivered
/// again; longer than one Vikunja request with its retries, and renewed while the reconciler
/// works on it.
pub const EVENT_ACK_WAIT: Duration = Duration::from_secs(120);

/// What a host waiting to be adopted says about itself (JSON).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Hello {
    /// How many tasks it holds.
    pub tasks: usize,
}

impl Hello {
    /// The hello in a message body; an empty or unreadable one says nothing.
    pub fn read(body: &[u8]) -> Hello {
        serde_json::from_slice(body).unwrap_or_default()
    }
}

/// Where a message could not be processed: the token of its dead-letter subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// The reconciler could not handle an event.
    Reconciler,
    /// Vikunja refused a write of canonical state.
    VikunjaWrite,
    /// A host could not apply canonical state.
    TwApply,
    /// A hook message held a task that is not one.
    TwHook,
}

impl Stage {
    fn token(self) -> &'static str {
        match self {
            Stage::Reconciler => "reconciler",
            Stage::VikunjaWrite => "vikunja-write",
            Stage::TwApply => "tw-apply",
            Stage::TwHook => "tw-watcher",
        }
    }
}

impl Bus {
    /// Publishes a task event to JetStream and waits for the stream's acknowledgement.
    /// `msg_id` makes duplicates within the stream's window a no-op. Returns whether the stream
    /// stored it (false: a duplicate).
    pub async fn publish_event(
        &self,
        subject: &str,
        msg_id: &str,
        event: &TaskEvent,
    ) -> Result<bool, BusError> {
        let span = trace::publish_span(subject);
        match &event.change {
            Some(task_event::Change::Vikunja(v)) => {
                span.record("vikunja.task_id", v.task_id);
            }
            Some(task_event::Change::Taskwarrior(t)) => {
                span.record("task.uuid", t.uuid.as_str());
                span.record("tw.host", event.host.as_str());
            }
            None => {}
        }
        async {
            let mut headers = trace::headers();
            headers.insert("Nats-Msg-Id", msg_id);
            let ack = self
                .publish_js(subject, headers, event.encode_to_vec())
                .await?;
            Ok(!ack.duplicate)
        }
        .instrument(span)
        .await
    }

    /// Says that `host` waits to be adopted (JetStream, so a reconciler started later hears it);
    /// `started_us` tells one start of the watcher from another.
    pub async fn say_hello(
        &self,
        host: &str,
        started_us: i64,
        hello: &Hello,
    ) -> Result<(), BusError> {
        let subject = subject::host_hello(host);
        let span = trace::publish_span(&subject);
        span.record("tw.host", host);
        async {
            let mut headers = trace::headers();
            headers.insert("Nats-Msg-Id", format!("hello-{host}-{started_us}").as_str());
            let body = serde_json::to_vec(hello).map_err(|e| BusError::Decode {
                what: "Hello",
                reason: e.to_string(),
            })?;
            self.publish_js(&subject, headers, body).await?;
            Ok(())
        }
        .instrument(span)
        .await
    }

    /// The reconciler's durable consumer of every event, in order: explicit acks, redelivered
    /// after [`EVENT_ACK_WAIT`] unacknowledged (the handler renews it while it works), and as
    /// often as it takes: the reconciler decides what becomes a dead letter.
    pub async fn events(&self) -> Result<Deliveries, BusError> {
        let stream = self
            .js
            .get_stream(crate::EVENTS_STREAM)
            .await
            .map_err(|e| BusError::consumer(RECONCILER_CONSUMER, e))?;
        // Created, or updated to this config if it exists (an older one had `max_deliver` 20:
        // an event that waits must never run out of deliveries).
        let consumer = stream
            .create_consumer(consumer::pull::Config {
                durable_name: Some(RECONCILER_CONSUMER.to_string()),
                ack_policy: consumer::AckPolicy::Explicit,
                ack_wait: EVENT_ACK_WAIT,
                max_deliver: -1,
                max_ack_pending: 1024,
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::consumer(RECONCILER_CONSUMER, e))?;
        Deliveries::pull(&consumer, 256).await
    }

    /// Sends a message that could not be processed to `vsync.v1.dead.<stage>` with the reason.
    pub async fn dead_letter(
        &self,
        stage: Stage,
        subject: &str,
        payload: &[u8],
        reason: &str,
        at_us: i64,
    ) -> Result<(), BusError> {
        let stage = stage.token();
        tracing::warn!(stage, subject, reason, "dead letter");
        let dl = DeadLetter {
            stage: stage.to_string(),
            subject: subject.to_string(),
            payload: payload.to_vec(),
            reason: reason.to_string(),
            at_us,
        };
        let to = subject::dead(stage);
        async {
            self.publish_js(&to, trace::headers(), dl.encode_to_vec())
                .await
                .map(|_| ())
        }
        .instrument(trace::publish_span(&to))
        .await
    }

    /// Appends to the conflict log.
    pub async fn record_conflict(&self, c: &Conflict) -> Result<(), BusError> {
        let to = subject::conflict(&c.uuid);
        let span = trace::publish_span(&to);
        span.record("task.uuid", c.uuid.as_str());
        async {
            self.publish_js(&to, trace::headers(), c.encode_to_vec())
                .await
                .map(|_| ())
        }
        .instrument(span)
        .await
    }

    /// Tells listeners (status, benchmarks) that a host applied a version (not persisted).
    pub async fn announce_applied(&self, a: &HostApplied) -> Result<(), BusError> {
        let to = subject::applied(&a.host);
        let span = trace::publish_span(&to);
        span.record("task.uuid", a.uuid.as_str());
        span.record("tw.host", a.host.as_str());
        async {
            self.client
                .publish_with_headers(to.clone(), trace::headers(), a.encode_to_vec().into())
                .await
                .map_err(|e| BusError::publish(&to, e))
        }
        .instrument(span)
        .await
    }

    /// Every host's applied notices from now on.
    pub async fn applied_notices(&self) -> Result<AppliedNotices, BusError> {
        let sub = self
            .client
            .subscribe(subject::APPLIED_ALL)
            .await
            .map_err(|e| BusError::subscribe(subject::APPLIED_ALL, e))?;
        self.flush(subject::APPLIED_ALL).await?;
        Ok(Subscription::new(sub, |p| {
            crate::decode::<HostApplied>("HostApplied", p).ok()
        }))
    }

    /// The Vikunja task ids of webhook events published from now on (core NATS, beside the
    /// stream: nothing is consumed). What `doctor` watches for its test delivery.
    pub async fn vikunja_task_events(&self) -> Result<Subscription<i64>, BusError> {
        let sub = self
            .client
            .subscribe(subject::IN_VIKUNJA_TASKS)
            .await
            .map_err(|e| BusError::subscribe(subject::IN_VIKUNJA_TASKS, e))?;
        self.flush(subject::IN_VIKUNJA_TASKS).await?;
        Ok(Subscription::new(
            sub,
            |p| match crate::decode::<TaskEvent>("TaskEvent", p).ok()?.change? {
                task_event::Change::Vikunja(v) => Some(v.task_id),
                task_event::Change::Taskwarrior(_) => None,
            },
        ))
    }

    /// The newest `n` dead letters, oldest first.
    pub async fn recent_dead_letters(&self, n: u64) -> Result<Vec<DeadLetter>, BusError> {
        self.newest(crate::DEAD_STREAM, n, "DeadLetter").await
    }

    /// The newest `n` entries of the conflict log, oldest first.
    pub async fn recent_conflicts(&self, n: u64) -> Result<Vec<Conflict>, BusError> {
        self.newest(crate::CONFLICTS_STREAM, n, "Conflict").await
    }

    async fn newest<M: prost::Message + Default>(
        &self,
        stream: &str,
        n: u64,
        what: &'static str,
    ) -> Result<Vec<M>, BusError> {
        let err = |e: &dyn std::fmt::Display| BusError::kv("read", stream, e);
        let mut s = self.js.get_stream(stream).await.map_err(|e| err(&e))?;
        let state = s.info().await.map_err(|e| err(&e))?.state.clone();
        let mut out = Vec::new();
        if state.messages == 0 || n == 0 {
            return Ok(out);
        }
        let from = state
            .last_sequence
            .saturating_sub(n - 1)
            .max(state.first_sequence);
        for seq in from..=state.last_sequence {
            if let Ok(m) = s.get_raw_message(seq).await
                && let Ok(decoded) = crate::decode::<M>(what, &m.payload)
            {
                out.push(decoded);
            }
        }
        Ok(out)
    }
}

/// Hosts' applied notices, as they come (what cannot be decoded is skipped).
pub type AppliedNotices = Subscription<HostApplied>;
