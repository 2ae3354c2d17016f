//! webhook-ingress: receives Vikunja's webhooks, verifies the signature over the raw body in
//! constant time before parsing anything, refuses replays older than `[ingress] max_age`, and
//! publishes each task or project event to the bus. It answers 200 only once JetStream stored
//! the event, so Vikunja's retries cover a bus outage. It fails closed: no secret, no start.
//! `/metrics` listens apart from `/webhook` (`[ingress] metrics_listen`, loopback by default).

mod event;
mod metrics;
pub mod verify;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use tokio::net::TcpListener;
use vsync_bus::Bus;
use vsync_config::{Config, SecretString};

pub use event::{Classified, classify};
pub use metrics::Metrics;

/// What the handlers share.
pub struct Ingress {
    bus: Bus,
    secret: SecretString,
    /// Older signed webhooks are replays.
    max_age: Duration,
    pub metrics: Metrics,
}

impl Ingress {
    pub fn new(bus: Bus, secret: SecretString, max_age: Duration) -> Ingress {
        Ingress {
            bus,
            secret,
            max_age,
            metrics: Metrics::default(),
        }
    }
}

/// The webhook routes: `POST /webhook`, `GET /healthz` (metrics: [`App`]'s own listener).
pub fn router(state: Arc<Ingress>, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/webhook", post(webhook))
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .with_state(state)
}

#[tracing::instrument(
    name = "webhook",
    skip_all,
    fields(otel.name = "POST /webhook", otel.kind = "server")
)]
async fn webhook(
    State(s): State<Arc<Ingress>>,
    headers: HeaderMap,
    body: Bytes,
) -> (StatusCode, String) {
    let received_at_us = vsync_model::dates::now_us();
    let sig = headers
        .get("x-vikunja-signature")
        .and_then(|v| v.to_str().ok());
    if !verify::signature_ok(&s.secret, &body, sig) {
        s.metrics.refused();
        tracing::warn!("webhook refused: bad or missing signature");
        return (StatusCode::UNAUTHORIZED, "invalid signature\n".into());
    }
    let max_age_us = i64::try_from(s.max_age.as_micros()).unwrap_or(i64::MAX);
    let classified = match classify(&body, received_at_us, max_age_us) {
        Ok(c) => c,
        Err(reason) => {
            s.metrics.malformed();
            tracing::warn!(%reason, "webhook is not a Vikunja event");
            return (
                StatusCode::BAD_REQUEST,
                format!("not a Vikunja event: {reason}\n"),
            );
        }
    };
    match classified {
        Classified::Ignored { event_name } => {
            s.metrics.ignored(&event_name);
            (StatusCode::OK, "ignored\n".into())
        }
        Classified::Stale { age_us } => {
            s.metrics.stale();
            tracing::warn!(
                age_ms = age_us / 1000,
                "webhook refused: sent too long ago (a replay?)"
            );
            // 4xx: Vikunja does not retry it
            (StatusCode::BAD_REQUEST, "stale webhook\n".into())
        }
        Classified::Publish {
            subject,
            msg_id,
            event,
        } => {
            // The bus publishes it in a `publish <subject>` span of its own.
            match s.bus.publish_event(&subject, &msg_id, &event).await {
                Ok(stored) => {
                    s.metrics.published(event.kind(), stored);
                    (
                        StatusCode::OK,
                        if stored { "ok\n" } else { "duplicate\n" }.into(),
                    )
                }
                Err(e) => {
                    s.metrics.error();
                    tracing::error!(error = %e, "cannot publish webhook");
                    (StatusCode::SERVICE_UNAVAILABLE, "bus unavailable\n".into())
                }
            }
        }
    }
}

/// The running service.
pub struct App {
    listener: TcpListener,
    router: Router,
    metrics_listener: TcpListener,
    metrics: vsync_telemetry::metrics::Metrics,
}

impl App {
    /// Reads the secret (none: refuses to start, a configuration error), connects to the bus
    /// and binds both listeners.
    pub async fn build(cfg: &Config, bus_url: &str, name: &str) -> anyhow::Result<App> {
        let secret = cfg
            .webhook_secret()?
            .ok_or(vsync_config::ConfigError::Missing("vikunja.webhook_secret_file"))
            .context("webhook-ingress accepts only signed webhooks and needs the secret Vikunja signs them with")?;
        let bus = Bus::connect(&vsync_bus::BusConfig::from_config(cfg, bus_url, name)).await?;
        let listener = TcpListener::bind(cfg.ingress.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.ingress.listen))?;
        let metrics_listener = TcpListener::bind(cfg.ingress.metrics_listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.ingress.metrics_listen))?;
        let state = Arc::new(Ingress::new(bus, secret, cfg.ingress.max_age));
        Ok(App {
            listener,
            metrics: state.metrics.0.clone(),
            router: router(state, cfg.ingress.max_body_bytes),
            metrics_listener,
        })
    }

    /// Where `/webhook` listens.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Where `/metrics` listens.
    pub fn metrics_addr(&self) -> std::io::Result<SocketAddr> {
        self.metrics_listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(
            addr = %self.listener.local_addr()?,
            metrics = %self.metrics_listener.local_addr()?,
            "webhook-ingress listening"
        );
        let stop = tokio_util::sync::CancellationToken::new();
        let metrics = axum::serve(
            self.metrics_listener,
            vsync_telemetry::metrics::router(self.metrics),
        )
        .with_graceful_shutdown(stop.clone().cancelled_owned());
        let metrics = tokio::spawn(async move { metrics.await });
        let served = axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("HTTP server failed");
        stop.cancel();
        let _ = metrics.await;
        served
    }
}

impl vsync_lifecycle::Service for App {
    fn run(
        self,
        shutdown: tokio_util::sync::CancellationToken,
    ) -> impl Future<Output = anyhow::Result<()>> + Send {
        App::run(self, shutdown.cancelled_owned())
    }
}
