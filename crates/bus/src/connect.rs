//! Connecting: who we are (a `.creds` file or a bare NKey seed file), TLS to a remote bus,
//! the role's own inbox prefix; then the streams and buckets. The server declares them;
//! every other role (a host, the operator) only looks them up, and waits while the server
//! has not declared them yet: a host may not create any (docs/SECURITY.md).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, context::GetStreamErrorKind};
use vsync_bus_auth::{Credentials, Role};

use crate::{
    BusError, CONFLICTS_STREAM, DEAD_STREAM, EVENTS_STREAM, LABELS_BUCKET, LINKS_BUCKET,
    META_BUCKET, TASKS_BUCKET,
};

/// How long the operator waits for streams the server has not declared (a host waits for
/// as long as it runs).
const OPERATOR_PATIENCE: Duration = Duration::from_secs(10);

/// How to reach the bus.
#[derive(Clone, Debug)]
pub struct BusConfig {
    pub url: String,
    /// This client's identity: a `.creds` file or a bare NKey seed file.
    pub credentials_file: Option<PathBuf>,
    /// JetStream replicas for streams and buckets (1 on a single server).
    pub replicas: usize,
    /// Connection name shown by the server (the service's name).
    pub name: String,
    /// Who connects: the server declares streams and buckets, the others look them up.
    pub role: Role,
    /// CA certificate(s) to verify the server with (requires TLS).
    pub tls_ca: Option<PathBuf>,
    /// Client certificate and its key, for a server that verifies clients.
    pub tls_client: Option<(PathBuf, PathBuf)>,
    /// Size limits the server declares the event streams with.
    pub limits: crate::StreamLimits,
}

impl BusConfig {
    /// The server role on `url`, no credentials, no TLS.
    pub fn new(url: &str, name: &str) -> BusConfig {
        BusConfig {
            url: url.to_string(),
            credentials_file: None,
            replicas: 1,
            name: name.to_string(),
            role: Role::Server,
            tls_ca: None,
            tls_client: None,
            limits: crate::StreamLimits::default(),
        }
    }

    /// The `[bus]` section of the operator config, for the server service `name`.
    pub fn from_config(cfg: &vsync_config::Config, url: &str, name: &str) -> BusConfig {
        BusConfig {
            credentials_file: cfg.bus.credentials_file.clone(),
            replicas: cfg.bus.replicas,
            tls_ca: cfg.bus.tls_ca.clone(),
            tls_client: cfg.bus.tls_cert.clone().zip(cfg.bus.tls_key.clone()),
            limits: crate::StreamLimits::from_mib(
                cfg.bus.events_max_mib,
                cfg.bus.dead_letters_max_mib,
            ),
            ..BusConfig::new(url, name)
        }
    }

    /// The same, connecting as `role`.
    pub fn with_role(mut self, role: Role) -> BusConfig {
        self.role = role;
        self
    }

    pub fn with_credentials(mut self, file: PathBuf) -> BusConfig {
        self.credentials_file = Some(file);
        self
    }

    /// The client's options: identity, TLS, inbox prefix, name.
    pub(crate) fn options(&self) -> Result<async_nats::ConnectOptions, BusError> {
        if let Role::Host(h) = &self.role
            && !vsync_bus_auth::permissions::valid_host_id(h)
        {
            return Err(BusError::Credentials(vsync_bus_auth::AuthError::HostId(
                h.clone(),
            )));
        }
        let mut opts = match &self.credentials_file {
            Some(path) => match Credentials::load(path).map_err(BusError::Credentials)? {
                Credentials::Creds(text) => async_nats::ConnectOptions::with_credentials(&text)
                    .map_err(|e| {
                        BusError::Credentials(vsync_bus_auth::AuthError::Read {
                            path: path.clone(),
                            reason: e.kind().to_string(),
                        })
                    })?,
                Credentials::Seed(seed) => async_nats::ConnectOptions::with_nkey(seed),
            },
            None => async_nats::ConnectOptions::new(),
        };
        if let Some(ca) = &self.tls_ca {
            opts = opts.add_root_certificates(ca.clone()).require_tls(true);
        }
        if let Some((cert, key)) = &self.tls_client {
            opts = opts
                .add_client_certificate(cert.clone(), key.clone())
                .require_tls(true);
        }
        if let Some(prefix) = self.role.inbox_prefix() {
            opts = opts.custom_inbox_prefix(prefix);
        }
        Ok(opts
            .name(&self.name)
            .connection_timeout(Duration::from_secs(5)))
    }

    /// How long to wait for streams the server has not declared (`None`: for good).
    pub(crate) fn patience(&self) -> Option<Duration> {
        match self.role {
            Role::Server | Role::Host(_) => None,
            Role::Operator => Some(OPERATOR_PATIENCE),
        }
    }
}

/// Every stream a client of the bus uses, the buckets' included.
const STREAMS: [&str; 7] = [
    EVENTS_STREAM,
    DEAD_STREAM,
    CONFLICTS_STREAM,
    concat!("KV_", "vsync_tasks"),
    concat!("KV_", "vsync_links"),
    concat!("KV_", "vsync_labels"),
    concat!("KV_", "vsync_meta"),
];

/// Waits until the server services declared every stream (looking up only), then opens the
/// buckets.
pub(crate) async fn look_up(
    js: &jetstream::Context,
    patience: Option<Duration>,
) -> Result<[jetstream::kv::Store; 4], BusError> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(100);
    let mut told = false;
    while let Some(name) = missing(js).await? {
        if patience.is_some_and(|p| started.elapsed() >= p) {
            return Err(BusError::Declare {
                what: format!("stream {name}"),
                reason: "not declared on the bus yet (are the server services running?)".into(),
            });
        }
        if !told {
            tracing::info!(
                stream = name,
                "waiting for the server services to declare the bus's streams"
            );
            told = true;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
    let mut stores = Vec::new();
    for bucket in [TASKS_BUCKET, LINKS_BUCKET, LABELS_BUCKET, META_BUCKET] {
        stores.push(
            js.get_key_value(bucket)
                .await
                .map_err(|e| BusError::Declare {
                    what: format!("bucket {bucket}"),
                    reason: e.to_string(),
                })?,
        );
    }
    stores.try_into().map_err(|_| BusError::Declare {
        what: "buckets".into(),
        reason: "not four".into(),
    })
}

/// The first stream the server has not declared yet.
async fn missing(js: &jetstream::Context) -> Result<Option<&'static str>, BusError> {
    for name in STREAMS {
        match js.get_stream(name).await {
            Ok(_) => {}
            Err(e)
                if matches!(e.kind(), GetStreamErrorKind::JetStream(j)
                if j.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND) =>
            {
                return Ok(Some(name));
            }
            Err(e) => {
                return Err(BusError::Declare {
                    what: format!("stream {name}"),
                    reason: e.to_string(),
                });
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_streams_looked_up_are_the_buckets_streams_too() {
        for b in [TASKS_BUCKET, LINKS_BUCKET, LABELS_BUCKET, META_BUCKET] {
            assert!(STREAMS.contains(&format!("KV_{b}").as_str()), "{b}");
        }
        assert_eq!(
            crate::TASKS_STREAM,
            vsync_bus_auth::permissions::TASKS_STREAM
        );
    }
}
