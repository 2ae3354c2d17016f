//! Counters, rendered in the Prometheus text format.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use vsync_proto::EventKind;

#[derive(Default)]
pub struct Metrics {
    refused: AtomicU64,
    malformed: AtomicU64,
    errors: AtomicU64,
    duplicates: AtomicU64,
    published: Mutex<BTreeMap<&'static str, u64>>,
    ignored: Mutex<BTreeMap<String, u64>>,
}

impl Metrics {
    pub fn refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }
    pub fn malformed(&self) {
        self.malformed.fetch_add(1, Ordering::Relaxed);
    }
    pub fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }
    pub fn ignored(&self, event: &str) {
        if let Ok(mut m) = self.ignored.lock() {
            *m.entry(event.to_string()).or_default() += 1;
        }
    }
    pub fn published(&self, kind: EventKind, stored: bool) {
        if !stored {
            self.duplicates.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Ok(mut m) = self.published.lock() {
            *m.entry(kind.as_str_name()).or_default() += 1;
        }
    }

    /// Webhooks refused for their signature.
    pub fn refused_count(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        out.push_str("# TYPE vsync_ingress_webhooks_refused_total counter\n");
        out.push_str(&format!(
            "vsync_ingress_webhooks_refused_total {}\n",
            self.refused.load(Ordering::Relaxed)
        ));
        out.push_str("# TYPE vsync_ingress_webhooks_malformed_total counter\n");
        out.push_str(&format!(
            "vsync_ingress_webhooks_malformed_total {}\n",
            self.malformed.load(Ordering::Relaxed)
        ));
        out.push_str("# TYPE vsync_ingress_publish_errors_total counter\n");
        out.push_str(&format!(
            "vsync_ingress_publish_errors_total {}\n",
            self.errors.load(Ordering::Relaxed)
        ));
        out.push_str("# TYPE vsync_ingress_duplicates_total counter\n");
        out.push_str(&format!(
            "vsync_ingress_duplicates_total {}\n",
            self.duplicates.load(Ordering::Relaxed)
        ));
        out.push_str("# TYPE vsync_ingress_events_published_total counter\n");
        if let Ok(m) = self.published.lock() {
            for (k, n) in m.iter() {
                out.push_str(&format!(
                    "vsync_ingress_events_published_total{{kind=\"{k}\"}} {n}\n"
                ));
            }
        }
        out.push_str("# TYPE vsync_ingress_events_ignored_total counter\n");
        if let Ok(m) = self.ignored.lock() {
            for (k, n) in m.iter() {
                out.push_str(&format!(
                    "vsync_ingress_events_ignored_total{{event=\"{k}\"}} {n}\n"
                ));
            }
        }
        out
    }
}
