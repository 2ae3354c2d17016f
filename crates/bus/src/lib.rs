//! vikunja-sync's bus: one NATS connection, the JetStream streams and KV buckets the services
//! share (declared idempotently), protobuf publishing with content-derived `Nats-Msg-Id` and W3C
//! trace context in headers, and subject naming ([`subject`]).

pub mod control;
pub mod subject;
pub mod trace;

use std::path::PathBuf;
use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream::{self, consumer, kv, stream};
use bytes::Bytes;
use prost::Message;
use sha2::{Digest, Sha256};
use vsync_proto::{Conflict, DeadLetter, HostApplied, TaskEvent, TaskState};

pub use async_nats;

/// The event stream (`vsync.v1.in.>`).
pub const EVENTS_STREAM: &str = "VSYNC_IN";
pub const DEAD_STREAM: &str = "VSYNC_DEAD";
pub const CONFLICTS_STREAM: &str = "VSYNC_CONFLICTS";
/// Canonical task state by uuid.
pub const TASKS_BUCKET: &str = "vsync_tasks";
/// Correlations: `vikunja.task.<id>` -> uuid, project links.
pub const LINKS_BUCKET: &str = "vsync_links";
/// Label registry.
pub const LABELS_BUCKET: &str = "vsync_labels";
/// Bookkeeping: watermarks, last reconcile.
pub const META_BUCKET: &str = "vsync_meta";
/// Stream behind the canonical-state bucket; TW hosts follow it.
pub const TASKS_STREAM: &str = "KV_vsync_tasks";
/// A pause in deliveries this long ends a listing of canonical state (see `all_states`).
const LISTING_PAUSE: Duration = Duration::from_millis(250);
/// Durable name of the reconciler's consumer.
pub const RECONCILER_CONSUMER: &str = "reconciler";

/// How to reach the bus.
#[derive(Clone, Debug)]
pub struct BusConfig {
    pub url: String,
    pub credentials_file: Option<PathBuf>,
    /// JetStream replicas for streams and buckets (1 on a single server).
    pub replicas: usize,
    /// Connection name shown by the server (the service's name).
    pub name: String,
}

impl BusConfig {
    /// The `[bus]` section of the operator config, for the service `name`.
    pub fn from_config(cfg: &vsync_config::Config, url: &str, name: &str) -> BusConfig {
        BusConfig {
            url: url.to_string(),
            credentials_file: cfg.bus.credentials_file.clone(),
            replicas: cfg.bus.replicas,
            name: name.to_string(),
        }
    }
}

/// A failure talking to the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot read NATS credentials file {path}: {source}")]
    Credentials {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error("cannot declare {what}: {reason}")]
    Declare { what: String, reason: String },
    #[error("publish to {subject} failed: {reason}")]
    Publish { subject: String, reason: String },
    #[error("key-value {op} of {key} failed: {reason}")]
    Kv {
        op: &'static str,
        key: String,
        reason: String,
    },
    #[error("cannot decode {what}: {source}")]
    Decode {
        what: &'static str,
        source: prost::DecodeError,
    },
    #[error("consumer {name}: {reason}")]
    Consumer { name: String, reason: String },
}

/// The result of a compare-and-set write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cas {
    /// Written at this revision.
    Written(u64),
    /// Someone else wrote first; read again and retry.
    Stale,
}

/// A connection to the bus with every stream and bucket declared.
#[derive(Clone)]
pub struct Bus {
    client: async_nats::Client,
    js: jetstream::Context,
    tasks: kv::Store,
    links: kv::Store,
    labels: kv::Store,
    meta: kv::Store,
}

impl Bus {
    /// Connects and declares every stream and KV bucket (idempotent: existing ones are kept).
    pub async fn connect(cfg: &BusConfig) -> Result<Bus, BusError> {
        let mut opts = match &cfg.credentials_file {
            Some(path) => async_nats::ConnectOptions::with_credentials_file(path)
                .await
                .map_err(|source| BusError::Credentials {
                    path: path.clone(),
                    source,
                })?,
            None => async_nats::ConnectOptions::new(),
        };
        opts = opts
            .name(&cfg.name)
            .connection_timeout(Duration::from_secs(5));
        let client = opts
            .connect(cfg.url.as_str())
            .await
            .map_err(|source| BusError::Connect {
                url: cfg.url.clone(),
                source,
            })?;
        Self::declare(client, cfg.replicas.max(1)).await
    }

    async fn declare(client: async_nats::Client, replicas: usize) -> Result<Bus, BusError> {
        let js = jetstream::new(client.clone());
        let streams = [
            (
                EVENTS_STREAM,
                subject::IN_ALL,
                Duration::from_secs(7 * 24 * 3600),
                -1,
            ),
            (
                DEAD_STREAM,
                "vsync.v1.dead.>",
                Duration::from_secs(30 * 24 * 3600),
                -1,
            ),
            (
                CONFLICTS_STREAM,
                "vsync.v1.conflict.>",
                Duration::from_secs(30 * 24 * 3600),
                10_000,
            ),
        ];
        for (name, subjects, max_age, max_messages) in streams {
            js.get_or_create_stream(stream::Config {
                name: name.to_string(),
                subjects: vec![subjects.to_string()],
                max_age,
                max_messages,
                num_replicas: replicas,
                // Vikunja redelivers webhooks for a few seconds; 2 minutes covers its retries.
                duplicate_window: Duration::from_secs(120),
                ..Default::default()
            })
            .await
            .map_err(|e| BusError::Declare {
                what: format!("stream {name}"),
                reason: e.to_string(),
            })?;
        }
        let tasks = Self::kv(&js, TASKS_BUCKET, 1, replicas).await?;
        let links = Self::kv(&js, LINKS_BUCKET, 1, replicas).await?;
        let labels = Self::kv(&js, LABELS_BUCKET, 1, replicas).await?;
        let meta = Self::kv(&js, META_BUCKET, 1, replicas).await?;
        Ok(Bus {
            client,
            js,
            tasks,
            links,
            labels,
            meta,
        })
    }

    /// Declares a bucket by creating its backing stream the way the KV convention lays it out.
    /// (async-nats' `create_key_value` first queries account info, whose reply older servers,
    /// e.g. Debian's 2.9, shape differently.)
    async fn kv(
        js: &jetstream::Context,
        name: &str,
        history: i64,
        replicas: usize,
    ) -> Result<kv::Store, BusError> {
        let declare_err = |e: &dyn std::fmt::Display| BusError::Declare {
            what: format!("bucket {name}"),
            reason: e.to_string(),
        };
        js.get_or_create_stream(stream::Config {
            name: format!("KV_{name}"),
            subjects: vec![format!("$KV.{name}.>")],
            max_messages_per_subject: history,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            num_replicas: replicas,
            ..Default::default()
        })
        .await
        .map_err(|e| declare_err(&e))?;
        js.get_key_value(name).await.map_err(|e| declare_err(&e))
    }

    pub fn client(&self) -> &async_nats::Client {
        &self.client
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    pub fn links(&self) -> &kv::Store {
        &self.links
    }

    pub fn labels(&self) -> &kv::Store {
        &self.labels
    }

    pub fn meta(&self) -> &kv::Store {
        &self.meta
    }

    pub fn tasks(&self) -> &kv::Store {
        &self.tasks
    }

    /// Publishes a task event to JetStream and waits for the stream's acknowledgement.
    /// `msg_id` makes duplicates within the stream's window a no-op. Returns whether the stream
    /// stored it (false: a duplicate).
    pub async fn publish_event(
        &self,
        subject: &str,
        msg_id: &str,
        event: &TaskEvent,
    ) -> Result<bool, BusError> {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", msg_id);
        trace::inject(&mut headers);
        let ack = self
            .publish_js(subject, headers, event.encode_to_vec())
            .await?;
        Ok(!ack.duplicate)
    }

    async fn publish_js(
        &self,
        subject: &str,
        headers: HeaderMap,
        payload: Vec<u8>,
    ) -> Result<jetstream::publish::PublishAck, BusError> {
        let err = |e: &dyn std::fmt::Display| BusError::Publish {
            subject: subject.to_string(),
            reason: e.to_string(),
        };
        self.js
            .publish_with_headers(subject.to_string(), headers, Bytes::from(payload))
            .await
            .map_err(|e| err(&e))?
            .await
            .map_err(|e| err(&e))
    }

    /// Sends a message that could not be processed to `vsync.v1.dead.<stage>` with the reason.
    pub async fn dead_letter(
        &self,
        stage: &str,
        subject: &str,
        payload: &[u8],
        reason: &str,
        at_us: i64,
    ) -> Result<(), BusError> {
        tracing::warn!(stage, subject, reason, "dead letter");
        let dl = DeadLetter {
            stage: stage.to_string(),
            subject: subject.to_string(),
            payload: payload.to_vec(),
            reason: reason.to_string(),
            at_us,
        };
        let mut headers = HeaderMap::new();
        trace::inject(&mut headers);
        self.publish_js(&subject::dead(stage), headers, dl.encode_to_vec())
            .await
            .map(|_| ())
    }

    /// Appends to the conflict log.
    pub async fn record_conflict(&self, c: &Conflict) -> Result<(), BusError> {
        self.publish_js(
            &subject::conflict(&c.uuid),
            HeaderMap::new(),
            c.encode_to_vec(),
        )
        .await
        .map(|_| ())
    }

    /// Tells listeners (status, benchmarks) that a host applied a version (not persisted).
    pub async fn announce_applied(&self, a: &HostApplied) -> Result<(), BusError> {
        self.client
            .publish(subject::applied(&a.host), Bytes::from(a.encode_to_vec()))
            .await
            .map_err(|e| BusError::Publish {
                subject: subject::applied(&a.host),
                reason: e.to_string(),
            })
    }

    /// Canonical state of a task and its revision.
    pub async fn load_state(&self, uuid: &str) -> Result<Option<(TaskState, u64)>, BusError> {
        let entry = self.tasks.entry(uuid).await.map_err(|e| BusError::Kv {
            op: "read",
            key: uuid.to_string(),
            reason: e.to_string(),
        })?;
        match entry {
            Some(e) if e.operation == kv::Operation::Put => {
                let state = TaskState::decode(e.value).map_err(|source| BusError::Decode {
                    what: "TaskState",
                    source,
                })?;
                Ok(Some((state, e.revision)))
            }
            _ => Ok(None),
        }
    }

    /// Writes canonical state if its revision is still `expected` (`None`: the key must be new).
    /// The write carries the current trace context, so every host's apply joins the trace.
    pub async fn store_state(
        &self,
        state: &TaskState,
        expected: Option<u64>,
    ) -> Result<Cas, BusError> {
        let subject = format!("$KV.{TASKS_BUCKET}.{}", state.uuid);
        let mut headers = HeaderMap::new();
        headers.insert(
            "Nats-Expected-Last-Subject-Sequence",
            expected.unwrap_or(0).to_string().as_str(),
        );
        trace::inject(&mut headers);
        match self
            .publish_js(&subject, headers, state.encode_to_vec())
            .await
        {
            Ok(ack) => Ok(Cas::Written(ack.sequence)),
            Err(BusError::Publish { reason, .. }) if reason.contains("wrong last sequence") => {
                Ok(Cas::Stale)
            }
            Err(e) => Err(e),
        }
    }

    /// Every task's current canonical state (one pass over the bucket, newest value per key).
    /// States written while it runs may or may not be in it.
    pub async fn all_states(&self) -> Result<Vec<TaskState>, BusError> {
        use futures::StreamExt;
        let err = |e: &dyn std::fmt::Display| BusError::Kv {
            op: "list",
            key: "*".into(),
            reason: e.to_string(),
        };
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
        let mut by_key: std::collections::HashMap<String, Option<TaskState>> =
            std::collections::HashMap::new();
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
            let state = (entry.operation == kv::Operation::Put)
                .then(|| TaskState::decode(entry.value).ok())
                .flatten();
            by_key.insert(entry.key, state);
            if entry.delta == 0 {
                break;
            }
        }
        // A key rewritten during the listing may have been passed over: its older revision was
        // removed before delivery and the listing ended before the newer one. Read those directly.
        let prefix = format!("$KV.{TASKS_BUCKET}.");
        let mut subjects = stream
            .info_with_subjects(format!("{prefix}>"))
            .await
            .map_err(|e| err(&e))?;
        let mut missed = Vec::new();
        while let Some(subject) = subjects.next().await {
            let (subject, _) = subject.map_err(|e| err(&e))?;
            if let Some(key) = subject.strip_prefix(&prefix)
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

    /// The durable consumer through which the reconciler reads every event, in order.
    pub async fn events_consumer(&self) -> Result<consumer::PullConsumer, BusError> {
        let stream = self
            .js
            .get_stream(EVENTS_STREAM)
            .await
            .map_err(|e| consumer_err(RECONCILER_CONSUMER, e))?;
        stream
            .get_or_create_consumer(
                RECONCILER_CONSUMER,
                consumer::pull::Config {
                    durable_name: Some(RECONCILER_CONSUMER.to_string()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(60),
                    max_deliver: 20,
                    max_ack_pending: 1024,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| consumer_err(RECONCILER_CONSUMER, e))
    }

    /// The durable consumer through which one TW host follows canonical state: the latest state
    /// of every task on first start, then every change, each once, including what was written
    /// while the host was away.
    pub async fn host_consumer(&self, host: &str) -> Result<consumer::PullConsumer, BusError> {
        let name = format!("host-{}", subject::encode_token(host));
        let stream = self
            .js
            .get_stream(TASKS_STREAM)
            .await
            .map_err(|e| consumer_err(&name, e))?;
        stream
            .get_or_create_consumer(
                &name,
                consumer::pull::Config {
                    durable_name: Some(name.clone()),
                    deliver_policy: consumer::DeliverPolicy::LastPerSubject,
                    filter_subject: format!("$KV.{TASKS_BUCKET}.>"),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(60),
                    max_ack_pending: 4096,
                    ..Default::default()
                },
            )
            .await
            .map_err(|e| consumer_err(&name, e))
    }
}

/// The messages of a pull consumer, pulled with short-lived requests: a pull request the server
/// considers done while the client still waits on it (seen under load against nats-server 2.9)
/// then stalls delivery for at most `expires`, not the client's default 30 s.
pub async fn pull(consumer: &consumer::PullConsumer) -> Result<consumer::pull::Stream, BusError> {
    consumer
        .stream()
        .max_messages_per_batch(256)
        .expires(Duration::from_secs(2))
        .heartbeat(Duration::from_millis(500))
        .messages()
        .await
        .map_err(|e| consumer_err("pull", e))
}

fn consumer_err(name: &str, e: impl std::fmt::Display) -> BusError {
    BusError::Consumer {
        name: name.to_string(),
        reason: e.to_string(),
    }
}

/// A message id derived from content: equal content, equal id (so the stream drops duplicates).
pub fn content_id(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    hex::encode(&h.finalize()[..16])
}

/// Decodes a protobuf message from a bus payload.
pub fn decode<M: Message + Default>(what: &'static str, payload: &[u8]) -> Result<M, BusError> {
    M::decode(payload).map_err(|source| BusError::Decode { what, source })
}

/// The uuid of a canonical-state message (`$KV.vsync_tasks.<uuid>`).
pub fn state_key(subject: &str) -> Option<&str> {
    subject.strip_prefix(&format!("$KV.{TASKS_BUCKET}.")[..])
}
