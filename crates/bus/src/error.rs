//! What can go wrong talking to the bus.

/// A failure talking to the bus.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error(transparent)]
    Credentials(vsync_bus_auth::AuthError),
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        url: String,
        source: async_nats::ConnectError,
    },
    #[error("cannot declare {what}: {reason}")]
    Declare { what: String, reason: String },
    #[error("publish to {subject} failed: {reason}")]
    Publish { subject: String, reason: String },
    #[error("cannot subscribe to {subject}: {reason}")]
    Subscribe { subject: String, reason: String },
    #[error("request to {subject} failed: {failure}")]
    Request {
        subject: String,
        failure: RequestFailure,
    },
    /// The service answered with an error.
    #[error("{subject} refused: {error}")]
    Refused {
        subject: String,
        error: crate::control::ControlError,
    },
    #[error("key-value {op} of {key} failed: {reason}")]
    Kv {
        op: &'static str,
        key: String,
        reason: String,
    },
    #[error("cannot decode {what}: {reason}")]
    Decode { what: &'static str, reason: String },
    #[error("consumer {name}: {reason}")]
    Consumer { name: String, reason: String },
}

/// Why a request got no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestFailure {
    /// Nobody listens on the subject (the service is not running).
    #[error("nobody answers (is the service running?)")]
    NoResponders,
    #[error("no answer within {0:?}")]
    TimedOut(std::time::Duration),
    #[error("{0}")]
    Other(String),
}

impl BusError {
    pub(crate) fn kv(op: &'static str, key: &str, e: impl std::fmt::Display) -> BusError {
        BusError::Kv {
            op,
            key: key.to_string(),
            reason: e.to_string(),
        }
    }

    pub(crate) fn publish(subject: &str, e: impl std::fmt::Display) -> BusError {
        BusError::Publish {
            subject: subject.to_string(),
            reason: e.to_string(),
        }
    }

    pub(crate) fn subscribe(subject: &str, e: impl std::fmt::Display) -> BusError {
        BusError::Subscribe {
            subject: subject.to_string(),
            reason: e.to_string(),
        }
    }

    pub(crate) fn consumer(name: &str, e: impl std::fmt::Display) -> BusError {
        BusError::Consumer {
            name: name.to_string(),
            reason: e.to_string(),
        }
    }
}
