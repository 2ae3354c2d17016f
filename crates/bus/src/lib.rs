//! vikunja-sync's bus, and the only crate that talks NATS: one connection, the JetStream
//! streams and KV buckets the services share (declared idempotently), every subject
//! ([`subject`]), protobuf encoding of every message, W3C trace context on every publish
//! ([`trace`]), canonical state and its correlations ([`state`], [`links`]), the label
//! registry and label work ([`labels`]), and the typed control channel ([`control`]).
//! Services hold typed values only: no service uses `async_nats` itself.

mod adopt_report;
pub mod adoption;
mod connect;
pub mod control;
mod creates;
mod dead_letters;
mod delivery;
mod error;
mod events;
mod hosts;
pub mod labels;
mod limits;
pub mod links;
mod meta;
pub mod reports;
pub mod state;
mod state_watch;
mod status;
pub mod subject;
mod subscription;
pub mod trace;

use std::time::Duration;

use async_nats::jetstream::{self, kv, stream};
use sha2::{Digest, Sha256};

pub use connect::BusConfig;
pub use creates::{Claim, CreateClaim};
pub use dead_letters::StoredDeadLetter;
pub use delivery::{Deliveries, Delivery, StateChange};
pub use error::{BusError, RequestFailure};
pub use events::{AppliedNotices, Hello, Stage};
pub use hosts::HostSeen;
pub use limits::{NEARLY_FULL, StreamLimits, StreamUse};
pub use state::Cas;
pub use state_watch::{StateWatch, Watched};
pub use status::{HostLag, StatusReport};
pub use subscription::Subscription;
pub use vsync_bus_auth::Role;

/// The event stream (`vsync.v1.in.>`).
pub const EVENTS_STREAM: &str = "VSYNC_IN";
/// Dead letters (`vsync.v1.dead.>`).
pub const DEAD_STREAM: &str = "VSYNC_DEAD";
/// The conflict log (`vsync.v1.conflict.>`).
pub const CONFLICTS_STREAM: &str = "VSYNC_CONFLICTS";
/// Canonical task state by uuid.
pub const TASKS_BUCKET: &str = "vsync_tasks";
/// Correlations: Vikunja task id -> uuid ([`links`]).
pub const LINKS_BUCKET: &str = "vsync_links";
/// Label registry ([`labels`]).
pub const LABELS_BUCKET: &str = "vsync_labels";
/// Bookkeeping: watermarks, last reconcile.
pub const META_BUCKET: &str = "vsync_meta";
/// Stream behind the canonical-state bucket; TW hosts follow it.
pub const TASKS_STREAM: &str = "KV_vsync_tasks";
/// Durable name of the reconciler's consumer.
pub const RECONCILER_CONSUMER: &str = "reconciler";

/// A connection to the bus, its streams and buckets declared (by the server) or found.
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
    /// Connects as `cfg.role`: the server declares every stream and KV bucket (idempotent:
    /// existing ones are kept); any other role looks them up, waiting until they exist.
    pub async fn connect(cfg: &BusConfig) -> Result<Bus, BusError> {
        let client = cfg
            .options()?
            .connect(cfg.url.as_str())
            .await
            .map_err(|source| BusError::Connect {
                url: cfg.url.clone(),
                source,
            })?;
        if cfg.role == Role::Server {
            return Self::declare(client, cfg.replicas.max(1), cfg.limits).await;
        }
        let js = jetstream::new(client.clone());
        let [tasks, links, labels, meta] = connect::look_up(&js, cfg.patience()).await?;
        Ok(Bus {
            client,
            js,
            tasks,
            links,
            labels,
            meta,
        })
    }

    async fn declare(
        client: async_nats::Client,
        replicas: usize,
        limits: StreamLimits,
    ) -> Result<Bus, BusError> {
        let js = jetstream::new(client.clone());
        for config in limits::streams(limits, replicas) {
            limits::declare(&js, config).await?;
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

    /// Waits until the server has processed everything this connection sent so far, so a
    /// subscription just made receives what others publish from now on. (async-nats' `flush`
    /// only writes to the socket: a message published right after by another connection could
    /// still find no subscriber.) The server handles a connection's commands in order, so a
    /// message to ourselves coming back is the proof.
    pub(crate) async fn flush(&self, subject: &str) -> Result<(), BusError> {
        use futures::StreamExt;
        let err = |e: &dyn std::fmt::Display| BusError::subscribe(subject, e);
        let probe = self.client.new_inbox();
        let mut echo = self
            .client
            .subscribe(probe.clone())
            .await
            .map_err(|e| err(&e))?;
        self.client
            .publish(probe, bytes::Bytes::new())
            .await
            .map_err(|e| err(&e))?;
        match tokio::time::timeout(Duration::from_secs(10), echo.next()).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(err(&"connection closed")),
            Err(_) => Err(err(&"the server did not confirm the subscription")),
        }
    }

    /// Publishes to JetStream and waits for the stream's acknowledgement.
    async fn publish_js(
        &self,
        subject: &str,
        headers: async_nats::HeaderMap,
        payload: Vec<u8>,
    ) -> Result<jetstream::publish::PublishAck, BusError> {
        self.js
            .publish_with_headers(subject.to_string(), headers, payload.into())
            .await
            .map_err(|e| BusError::publish(subject, e))?
            .await
            .map_err(|e| BusError::publish(subject, e))
    }
}

/// Every key of a bucket (deleted keys aside).
pub(crate) async fn keys(store: &kv::Store) -> Result<Vec<String>, BusError> {
    use futures::TryStreamExt;
    let err = |e: &dyn std::fmt::Display| BusError::kv("list", "*", e);
    store
        .keys()
        .await
        .map_err(|e| err(&e))?
        .try_collect()
        .await
        .map_err(|e| err(&e))
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
pub(crate) fn decode<M: prost::Message + Default>(
    what: &'static str,
    payload: &[u8],
) -> Result<M, BusError> {
    M::decode(payload).map_err(|e| BusError::Decode {
        what,
        reason: e.to_string(),
    })
}
