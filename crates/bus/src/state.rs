//! Canonical task state (KV `vsync_tasks`, one key per uuid): compare-and-set writes that carry
//! trace context, reads, listings, and the durable consumers through which hosts follow it.

use std::collections::HashMap;
use std::time::Duration;

use async_nats::jetstream::{consumer, kv};
use futures::StreamExt;
use prost::Message as _;
use tracing::Instrument;
use vsync_proto::TaskState;

use crate::delivery::Deliveries;
use crate::{Bus, BusError, TASKS_STREAM, subject, trace};

/// A pause in deliveries this long ends a listing of canonical state (see `all_states`).
const LISTING_PAUSE: Duration = Duration::from_millis(250);
/// Prefix of a host's durable consumer name.
const HOST_CONSUMER: &str = "host-";

/// The name of `host`'s durable consumer.
pub(crate) fn host_consumer(host: &str) -> String {
    format!("{HOST_CONSUMER}{}", subject::encode_token(host))
}

/// The result of a compare-and-set write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cas {
    /// Written at this revision.
    Written(u64),
    /// Someone else wrote first; read again and retry.
    Stale,
}

/// The canonical state a KV entry holds (`None`: deleted or purged, or not a state).
pub(crate) fn stored_state(entry: &kv::Entry) -> Option<TaskState> {
    (entry.operation == kv::Operation::Put)
        .then(|| TaskState::decode(entry.value.clone()).ok())
        .flatten()
}

impl Bus {
    /// Canonical state of a task and its revision.
    pub async fn load_state(&self, uuid: &str) -> Result<Option<(TaskState, u64)>, BusError> {
        let entry = self
            .tasks
            .entry(uuid)
            .await
            .map_err(|e| BusError::kv("read", uuid, e))?;
        match entry {
            Some(e) if e.operation == kv::Operation::Put => {
                let state = crate::decode::<TaskState>("TaskState", &e.value)?;
                Ok(Some((state, e.revision)))
            }
            _ => Ok(None),
        }
    }

    /// Writes canonical state if its revision is still `expected` (`None`: the key must be new).
    /// The write carries its publish span's trace context, so every host's apply joins the trace.
    pub async fn store_state(
        &self,
        state: &TaskState,
        expected: Option<u64>,
    ) -> Result<Cas, BusError> {
        let to = subject::state(&state.uuid);
        let span = trace::publish_span(&to);
        span.record("task.uuid", state.uuid.as_str());
        async {
            let mut headers = trace::headers();
            headers.insert(
                "Nats-Expected-Last-Subject-Sequence",
                expected.unwrap_or(0).to_string().as_str(),
            );
            match self.publish_js(&to, headers, state.encode_to_vec()).await {
                Ok(ack) => Ok(Cas::Written(ack.sequence)),
                Err(BusError::Publish { reason, .. }) if reason.contains("wrong last sequence") => {
                    Ok(Cas::Stale)
                }
                Err(e) => Err(e),
            }
        }
        .instrument(span)
        .await
    }

    /// The uuid of every task with canonical state (deleted keys aside).
    pub async fn state_uuids(&self) -> Result<Vec<String>, BusError> {
        crate::keys(&self.tasks).await
    }

    /// Every task's current canonical state (one pass over the bucket, newest value per key).
    /// States written while it runs may or may not be in it.
    pub async fn all_states(&self) -> Result<Vec<TaskState>, BusError> {
        let err = |e: &dyn std::fmt::Display| BusError::kv("list", "*", e);
        let mut stream = self
            .js
            .get_stream(TASKS_STREAM)
            .await
            .map_err(|e| err(&e))?;
        if stream.info().await.map_err(|e| err(&e))?.state.messages == 0 {
            return Ok(Vec::new());
        }
        let mut watch = self
            .tasks
            .watch_with_history(">")
            .await
            .map_err(|e| err(&e))?;
        // Each key delivered, with its newest state (`None`: deleted, or not a state).
        let mut by_key: HashMap<String, Option<TaskState>> = HashMap::new();
        // The pending count can stay above 0 for good: an older revision counted as pending is
        // removed from the bucket when its key is rewritten, before it is delivered (seen with a
        // host listing while 50 changes landed). So a pause in deliveries also ends the listing;
        // a rewritten key's newest revision arrives without one.
        let mut wait = Duration::from_secs(30);
        loop {
            let entry = match tokio::time::timeout(wait, watch.next()).await {
                Ok(Some(entry)) => entry.map_err(|e| err(&e))?,
                Ok(None) => break,
                // Nothing at all yet, while the bucket has messages.
                Err(_) if wait > LISTING_PAUSE => {
                    return Err(err(&"timed out reading canonical state"));
                }
                Err(_) => break,
            };
            wait = LISTING_PAUSE;
            let state = stored_state(&entry);
            by_key.insert(entry.key, state);
            if entry.delta == 0 {
                break;
            }
        }
        // A key rewritten during the listing may have been passed over: its older revision was
        // removed before delivery and the listing ended before the newer one. Read those directly.
        let mut subjects = stream
            .info_with_subjects(subject::STATE_ALL)
            .await
            .map_err(|e| err(&e))?;
        let mut missed = Vec::new();
        while let Some(s) = subjects.next().await {
            let (s, _) = s.map_err(|e| err(&e))?;
            if let Some(key) = subject::state_uuid(&s)
                && !by_key.contains_key(key)
            {
                missed.push(key.to_string());
            }
        }
        let mut out: Vec<TaskState> = by_key.into_values().flatten().collect();
        for key in missed {
            if let Some((s, _)) = self.load_state(&key).await? {
                out.push(s);
            }
        }
        Ok(out)
    }

    /// How one TW host follows canonical state, through its durable consumer: the latest state
    /// of every task on first start, then every change, each once, including what was written
    /// while the host was away.
    pub async fn follow_states(&self, host: &str) -> Result<Deliveries, BusError> {
        let consumer = self.host_durable(host).await?;
        // A host applies a burst in batches as large as what has come (one `task import` each).
        Deliveries::pull(&consumer, 1024).await
    }

    /// Makes `host`'s durable consumer without reading it (a host not adopted yet: the
    /// consumer is how the reconciler knows it, and reading starts once it is adopted; a pull
    /// started and dropped would keep taking deliveries nobody acknowledges).
    pub async fn declare_host(&self, host: &str) -> Result<(), BusError> {
        self.host_durable(host).await.map(|_| ())
    }

    async fn host_durable(
        &self,
        host: &str,
    ) -> Result<consumer::Consumer<consumer::pull::Config>, BusError> {
        let name = host_consumer(host);
        let stream = self
            .js
            .get_stream(TASKS_STREAM)
            .await
            .map_err(|e| BusError::consumer(&name, e))?;
        let consumer = stream
            .get_or_create_consumer(
                &name,
                consumer::pull::Config {
                    durable_name: Some(name.clone()),
                    deliver_policy: consumer::DeliverPolicy::LastPerSubject,
                    filter_subject: subject::STATE_ALL.to_string(),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(60),
                    max_ack_pending: 4096,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| BusError::consumer(&name, e))?;
        Ok(consumer)
    }

    /// The hosts following canonical state (one durable consumer each), sorted.
    pub async fn hosts(&self) -> Result<Vec<String>, BusError> {
        Ok(self
            .host_consumers()
            .await?
            .into_iter()
            .map(|(host, _)| host)
            .collect())
    }

    /// Each host with the name of its consumer, sorted by host.
    pub(crate) async fn host_consumers(&self) -> Result<Vec<(String, String)>, BusError> {
        let err = |e: &dyn std::fmt::Display| BusError::consumer("host-*", e);
        let stream = self
            .js
            .get_stream(TASKS_STREAM)
            .await
            .map_err(|e| err(&e))?;
        let mut names = stream.consumer_names();
        let mut out = Vec::new();
        while let Some(n) = names.next().await {
            let n = n.map_err(|e| err(&e))?;
            if let Some(h) = n
                .strip_prefix(HOST_CONSUMER)
                .and_then(subject::decode_token)
            {
                out.push((h, n));
            }
        }
        out.sort();
        Ok(out)
    }
}
