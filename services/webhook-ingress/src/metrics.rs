//! webhook-ingress's metrics (served at `/metrics` on `[ingress] metrics_listen`, apart from
//! `/webhook`). Label values come from fixed sets: an event name Vikunja does not document
//! counts as `other`, so a webhook cannot make up series.

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

/// Vikunja's documented webhook events (reference §1.2); any other name is counted as `other`.
const KNOWN_EVENTS: &[&str] = &[
    "task.created",
    "task.updated",
    "task.deleted",
    "task.assignee.created",
    "task.assignee.deleted",
    "task.comment.created",
    "task.comment.edited",
    "task.comment.deleted",
    "task.attachment.created",
    "task.attachment.deleted",
    "task.relation.created",
    "task.relation.deleted",
    "project.updated",
    "project.deleted",
    "project.shared.user",
    "project.shared.team",
    "task.reminder.fired",
    "task.overdue",
    "tasks.overdue",
];

/// The label value for an event name: itself when Vikunja documents it, else `other`.
fn event_label(name: &str) -> &str {
    KNOWN_EVENTS
        .iter()
        .find(|k| **k == name)
        .copied()
        .unwrap_or("other")
}

impl Metrics {
    /// A signed webhook older than `[ingress] max_age` (a replay).
    pub fn stale(&self) {
        self.0.inc("vsync_webhooks_total", &[("outcome", "stale")]);
    }
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
        self.0.inc(
            "vsync_webhooks_ignored_total",
            &[("event", event_label(event))],
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_event_names_count_as_other() {
        let m = Metrics::default();
        m.ignored("task.comment.created");
        m.ignored("x\"} 1\nvsync_evil_total 9\n#");
        let text = m.0.render();
        assert!(
            text.contains("vsync_webhooks_ignored_total{event=\"task.comment.created\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("vsync_webhooks_ignored_total{event=\"other\"} 1"),
            "{text}"
        );
        assert!(!text.contains("evil"), "{text}");
    }
}
