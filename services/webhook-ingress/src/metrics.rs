//! webhook-ingress's metrics (served on its own listener at `/metrics`).

use vsync_proto::EventKind;
use vsync_telemetry::metrics::Metrics as Registry;

pub struct Metrics(pub Registry);

impl Default for Metrics {
    fn default() -> Self {
        let r = Registry::default();
        r.describe(
            "vsync_webhooks_total",
            "counter",
            "Webhooks received, by outcome.",
        );
        r.describe(
            "vsync_events_out_total",
            "counter",
            "Events published to the bus, by kind.",
        );
        r.describe(
            "vsync_webhooks_ignored_total",
            "counter",
            "Vikunja events we do not sync, by event.",
        );
        r.describe("vsync_errors_total", "counter", "Failures, by stage.");
        Metrics(r)
    }
}

impl Metrics {
    pub fn refused(&self) {
        self.0
            .inc("vsync_webhooks_total", &[("outcome", "refused")]);
    }
    pub fn malformed(&self) {
        self.0
            .inc("vsync_webhooks_total", &[("outcome", "malformed")]);
    }
    pub fn error(&self) {
        self.0.inc("vsync_errors_total", &[("stage", "publish")]);
    }
    pub fn ignored(&self, event: &str) {
        self.0
            .inc("vsync_webhooks_total", &[("outcome", "ignored")]);
        self.0
            .inc("vsync_webhooks_ignored_total", &[("event", event)]);
    }
    pub fn published(&self, kind: EventKind, stored: bool) {
        if stored {
            self.0
                .inc("vsync_webhooks_total", &[("outcome", "published")]);
            self.0
                .inc("vsync_events_out_total", &[("kind", kind.as_str_name())]);
        } else {
            self.0
                .inc("vsync_webhooks_total", &[("outcome", "duplicate")]);
        }
    }
}
