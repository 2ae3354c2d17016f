//! How much the event streams may hold, and how full they are. The event and dead-letter
//! streams have a size limit besides their age, separate from the KV buckets: a flood of
//! events fills its own stream, which then refuses new ones (publishers get an error and keep
//! or retry what they sent), and never the store canonical state is written to. The conflict
//! log keeps its newest 10,000.

use std::time::Duration;

use async_nats::jetstream::{self, stream};

use crate::{BusError, CONFLICTS_STREAM, DEAD_STREAM, EVENTS_STREAM, subject};

/// From this share of its limit on, a stream is reported as nearly full.
pub const NEARLY_FULL: f64 = 0.8;

/// The size limits of the event and dead-letter streams.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamLimits {
    pub events_max_bytes: i64,
    pub dead_letters_max_bytes: i64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        let d = vsync_config::Bus::default();
        StreamLimits::from_mib(d.events_max_mib, d.dead_letters_max_mib)
    }
}

impl StreamLimits {
    pub fn from_mib(events: u64, dead_letters: u64) -> StreamLimits {
        let bytes = |mib: u64| i64::try_from(mib.saturating_mul(1 << 20)).unwrap_or(i64::MAX);
        StreamLimits {
            events_max_bytes: bytes(events),
            dead_letters_max_bytes: bytes(dead_letters),
        }
    }
}

/// How full one stream is.
#[derive(Clone, Debug, PartialEq)]
pub struct StreamUse {
    pub stream: String,
    pub bytes: u64,
    pub messages: u64,
    /// `None`: no size limit.
    pub max_bytes: Option<u64>,
}

impl StreamUse {
    /// The share of its limit in use (0 without a limit).
    pub fn used(&self) -> f64 {
        match self.max_bytes {
            Some(max) if max > 0 => self.bytes as f64 / max as f64,
            _ => 0.0,
        }
    }

    pub fn nearly_full(&self) -> bool {
        self.used() >= NEARLY_FULL
    }
}

impl std::fmt::Display for StreamUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mib = |b: u64| b as f64 / f64::from(1 << 20);
        write!(f, "{}: {:.1} MiB", self.stream, mib(self.bytes))?;
        if let Some(max) = self.max_bytes {
            write!(f, " of {:.0} MiB ({:.0}%)", mib(max), self.used() * 100.0)?;
            if self.nearly_full() {
                write!(f, ", nearly full: when full, new messages are refused")?;
            }
        }
        Ok(())
    }
}

/// The three streams as the server declares them.
pub(crate) fn streams(limits: StreamLimits, replicas: usize) -> [stream::Config; 3] {
    let day = Duration::from_secs(24 * 3600);
    let one = |name: &str, subjects: &str, max_age, max_bytes, max_messages, discard| {
        stream::Config {
            name: name.to_string(),
            subjects: vec![subjects.to_string()],
            max_age,
            max_bytes,
            max_messages,
            discard,
            num_replicas: replicas,
            // Vikunja redelivers webhooks for a few seconds; 2 minutes covers its retries.
            duplicate_window: Duration::from_secs(120),
            ..Default::default()
        }
    };
    use stream::DiscardPolicy::{New, Old};
    [
        one(
            EVENTS_STREAM,
            subject::IN_ALL,
            7 * day,
            limits.events_max_bytes,
            -1,
            New,
        ),
        one(
            DEAD_STREAM,
            subject::DEAD_ALL,
            30 * day,
            limits.dead_letters_max_bytes,
            -1,
            New,
        ),
        one(
            CONFLICTS_STREAM,
            subject::CONFLICT_ALL,
            30 * day,
            -1,
            10_000,
            Old,
        ),
    ]
}

/// Creates `config`'s stream, or brings an existing one to its limits (a stream declared by an
/// older version had none).
pub(crate) async fn declare(
    js: &jetstream::Context,
    config: stream::Config,
) -> Result<(), BusError> {
    let err = |e: &dyn std::fmt::Display| BusError::Declare {
        what: format!("stream {}", config.name),
        reason: e.to_string(),
    };
    let mut s = js
        .get_or_create_stream(config.clone())
        .await
        .map_err(|e| err(&e))?;
    let have = &s.info().await.map_err(|e| err(&e))?.config;
    if (
        have.max_bytes,
        have.max_age,
        have.max_messages,
        have.discard,
    ) != (
        config.max_bytes,
        config.max_age,
        config.max_messages,
        config.discard,
    ) {
        let mut update = have.clone();
        update.max_bytes = config.max_bytes;
        update.max_age = config.max_age;
        update.max_messages = config.max_messages;
        update.discard = config.discard;
        js.update_stream(&update).await.map_err(|e| err(&e))?;
    }
    Ok(())
}

impl crate::Bus {
    /// How full the event, dead-letter and conflict streams are.
    pub async fn stream_use(&self) -> Result<Vec<StreamUse>, BusError> {
        let mut out = Vec::new();
        for name in [EVENTS_STREAM, DEAD_STREAM, CONFLICTS_STREAM] {
            let err = |e: &dyn std::fmt::Display| BusError::kv("read", name, e);
            let mut s = self.js.get_stream(name).await.map_err(|e| err(&e))?;
            let info = s.info().await.map_err(|e| err(&e))?;
            out.push(StreamUse {
                stream: name.to_string(),
                bytes: info.state.bytes,
                messages: info.state.messages,
                max_bytes: u64::try_from(info.config.max_bytes).ok().filter(|b| *b > 0),
            });
        }
        Ok(out)
    }
}
