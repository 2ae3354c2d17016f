//! webhook-ingress: receives Vikunja's webhooks, verifies the signature over the raw body in
//! constant time before parsing anything, and publishes each task or project event to the bus.
//! It answers 200 only once JetStream stored the event, so Vikunja's retries cover a bus outage.

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
    secret: Option<SecretString>,
    pub metrics: Metrics,
}

impl Ingress {
    pub fn new(bus: Bus, secret: Option<SecretString>) -> Ingress {
        if secret.is_none() {
            tracing::warn!("no webhook secret configured: accepting unsigned webhooks");
        }
        Ingress {
            bus,
            secret,
            metrics: Metrics::default(),
        }
    }
}

/// The routes: `POST /webhook`, `GET /healthz`, `GET /metrics`.
pub fn router(state: Arc<Ingress>, max_body_bytes: usize) -> Router {
    let observability = vsync_telemetry::metrics::router(state.metrics.0.clone());
    Router::new()
        .route("/webhook", post(webhook))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(30),
        ))
        .with_state(state)
        .merge(observability)
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
    if let Some(secret) = &s.secret {
        let sig = headers
            .get("x-vikunja-signature")
            .and_then(|v| v.to_str().ok());
        if !verify::signature_ok(secret, &body, sig) {
            s.metrics.refused();
            tracing::warn!("webhook refused: bad or missing signature");
            return (StatusCode::UNAUTHORIZED, "invalid signature\n".into());
        }
    }
    let classified = match classify(&body, received_at_us) {
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
            (StatusCode::OK, format!("ignored {event_name}\n"))
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
}

impl App {
    /// Connects to the bus, reads the secret and binds the listener.
    pub async fn build(cfg: &Config, bus_url: &str, name: &str) -> anyhow::Result<App> {
        let bus = Bus::connect(&vsync_bus::BusConfig::from_config(cfg, bus_url, name)).await?;
        let secret = cfg.webhook_secret()?;
        let listener = TcpListener::bind(cfg.ingress.listen)
            .await
            .with_context(|| format!("cannot listen on {}", cfg.ingress.listen))?;
        let state = Arc::new(Ingress::new(bus, secret));
        Ok(App {
            listener,
            router: router(state, cfg.ingress.max_body_bytes),
        })
    }

    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then finishes in-flight requests.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        tracing::info!(addr = %self.listener.local_addr()?, "webhook-ingress listening");
        axum::serve(self.listener, self.router)
            .with_graceful_shutdown(shutdown)
            .await
            .context("HTTP server failed")
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
