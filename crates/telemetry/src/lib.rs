//! Telemetry shared by every service: the tracing subscriber (`RUST_LOG`, text or JSON),
//! OTLP/gRPC span export only when an endpoint is configured (nothing at all otherwise), W3C
//! trace-context propagation, and Prometheus metrics ([`metrics`]). The process life cycle
//! (signals, readiness) is `vsync-lifecycle`'s.

pub mod metrics;

use std::time::Duration;

use anyhow::Context as _;
use opentelemetry::KeyValue;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Keeps the span exporter alive; flushes it when dropped.
#[must_use = "dropping the guard stops span export"]
pub struct TelemetryGuard {
    provider: Option<SdkTracerProvider>,
}

impl TelemetryGuard {
    /// Whether spans are exported.
    pub fn exporting(&self) -> bool {
        self.provider.is_some()
    }
}

impl Drop for TelemetryGuard {
    fn drop(&mut self) {
        if let Some(p) = self.provider.take() {
            let _ = p.force_flush();
            let _ = p.shutdown();
        }
    }
}

/// Installs the global subscriber. `service` names the binary (`service.name` unless the config
/// overrides it); `instance` becomes `service.instance.id` (the host id for tw-watcher).
/// Must be called inside a Tokio runtime when an OTLP endpoint is configured.
pub fn init(
    service: &str,
    instance: &str,
    cfg: &vsync_config::Telemetry,
) -> anyhow::Result<TelemetryGuard> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Logs go to stderr: stdout stays for what a command prints (and systemd takes both).
    let fmt = if cfg.log_format.as_deref() == Some("json") {
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(std::io::stderr)
            .boxed()
    } else {
        tracing_subscriber::fmt::layer()
            .with_target(false)
            .with_writer(std::io::stderr)
            .boxed()
    };
    let Some(endpoint) = cfg.otlp_endpoint.as_deref() else {
        tracing_subscriber::registry()
            .with(filter)
            .with(fmt)
            .try_init()
            .context("a tracing subscriber is already installed")?;
        return Ok(TelemetryGuard { provider: None });
    };
    let name = cfg.service_name.as_deref().unwrap_or(service);
    let provider = tracer_provider(name, instance, endpoint)?;
    let tracer = provider.tracer(name.to_string());
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    tracing_subscriber::registry()
        .with(filter)
        .with(fmt)
        .with(tracing_opentelemetry::layer().with_tracer(tracer))
        .try_init()
        .context("a tracing subscriber is already installed")?;
    Ok(TelemetryGuard {
        provider: Some(provider),
    })
}

/// An OTLP/gRPC tracer provider for one service.
pub fn tracer_provider(
    service: &str,
    instance: &str,
    endpoint: &str,
) -> anyhow::Result<SdkTracerProvider> {
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(endpoint)
        .with_timeout(Duration::from_secs(5))
        .build()
        .with_context(|| format!("cannot set up OTLP export to {endpoint}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(service.to_string())
        .with_attributes([
            KeyValue::new("service.instance.id", instance.to_string()),
            KeyValue::new("service.version", env!("CARGO_PKG_VERSION")),
        ])
        .build();
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}
