//! The one Vikunja API v1 client every service uses, in three layers:
//!
//! - **transport** (`transport`, `retry`, `token`): one pooled HTTP client, the token (read
//!   from its file again after a 401, once, as rotated files change in place), one span per call named after its route template with the trace
//!   context in the request headers, retries with backoff and jitter on 5xx and timeouts, and
//!   waiting out 429 until `Retry-After`/`X-RateLimit-Reset`, bounded by the [`Retry`] policy;
//! - **errors** (`error`): Vikunja's `{code, message}` body as a [`VikunjaError`] whose
//!   [`ErrorKind`] callers branch on;
//! - **endpoints** (`tasks`, `projects`, `labels`, `webhooks`, `info`, with `paging` until
//!   `x-pagination-total-pages`): the typed methods of [`VikunjaClient`], each request one of
//!   the [`Call`]s in `calls`, from which the token permissions the sync needs are derived
//!   ([`needed_permissions`]);
//! - **CalDAV** (`caldav`, read-only): which task each CalDAV UID names, for adopting
//!   syncall's pairs ([`VikunjaClient::caldav_tasks`]);
//! - **task updates** (`write`): [`VikunjaClient::write_task`] sends only what changed, as a
//!   v2 merge patch or, before Vikunja 2.4.0, onto a fresh read, so no Vikunja edit we have
//!   not heard of is reverted.

mod caldav;
mod calls;
mod error;
mod info;
mod labels;
mod paging;
mod probe;
mod projects;
mod retry;
mod tasks;
mod token;
mod transport;
mod types;
mod webhooks;
mod write;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use secrecy::SecretString;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use caldav::CaldavTask;
pub use calls::{Api, Call, needed_permissions};
pub use error::{ErrorKind, VikunjaError};
pub use info::{ServerInfo, version_numbers};
pub use probe::Probe;
pub use retry::Retry;
pub use transport::Observer;
pub use types::{Label, Project, Webhook};
pub use webhooks::WEBHOOK_EVENTS;
pub use write::{TaskWritten, WritePath, stale_cover};

use token::Token;
use transport::{Request, Transport};

/// The Vikunja API client (cheap to clone: one connection pool).
#[derive(Clone)]
pub struct VikunjaClient {
    transport: Transport,
    /// `/info`, once read (see [`VikunjaClient::server_info`]).
    server: Arc<Mutex<Option<ServerInfo>>>,
}

impl VikunjaClient {
    /// `api` is the v1 base, e.g. `https://vikunja.example.org/api/v1` (v2 is found next to
    /// it); `timeout` bounds each request (each retry gets its own).
    pub fn new(
        api: &str,
        token: SecretString,
        timeout: Duration,
    ) -> Result<VikunjaClient, VikunjaError> {
        Self::with_token(api, Token::new(token, None), timeout)
    }

    fn with_token(
        api: &str,
        token: Token,
        timeout: Duration,
    ) -> Result<VikunjaClient, VikunjaError> {
        // rustls with ring, as the NATS client uses; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("vikunja-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(VikunjaError::Client)?;
        let api = api.trim_end_matches('/');
        Ok(VikunjaClient {
            server: Arc::new(Mutex::new(None)),
            transport: Transport {
                http,
                root: api.strip_suffix("/api/v1").unwrap_or(api).into(),
                token: Arc::new(token),
                retry: Retry::default(),
                calls: Arc::new(AtomicU64::new(0)),
                observer: None,
            },
        })
    }

    /// The client the `[vikunja]` section describes (URL, token file, timeout).
    pub fn from_config(cfg: &vsync_config::Config) -> Result<VikunjaClient, VikunjaError> {
        let token_file = cfg
            .vikunja
            .token_file
            .as_deref()
            .ok_or(vsync_config::ConfigError::Missing("vikunja.token_file"))?;
        let token = vsync_config::read_secret(token_file)?;
        Self::with_token(
            &cfg.vikunja_api()?,
            Token::new(token, Some(token_file.to_path_buf())),
            cfg.vikunja.timeout,
        )
    }

    /// Whether Vikunja rejected the API token (401 also after reading the token file
    /// again), until a request succeeds.
    pub fn token_rejected(&self) -> bool {
        self.transport.token.is_rejected()
    }

    /// Reports every request (for metrics).
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.transport.observer = Some(observer);
        self
    }

    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.transport.retry = retry;
        self
    }

    /// HTTP requests sent so far (retries included).
    pub fn calls(&self) -> u64 {
        self.transport.calls.load(Ordering::Relaxed)
    }

    /// Sends `req` and reads the answer as `T`.
    async fn json<T: DeserializeOwned, B: Serialize>(
        &self,
        req: Request<'_, B>,
    ) -> Result<T, VikunjaError> {
        let route = req.route();
        let answer = self.transport.send(req).await?;
        serde_json::from_value(answer.body).map_err(|e| error::decode_error(route, e))
    }
}

/// The lock, even if a holder panicked (the data is a plain cache).
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
