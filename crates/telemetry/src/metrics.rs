//! Prometheus metrics: counters, gauges and latency histograms in a small registry every service shares
//! the shape of, rendered in the text exposition format, and served on `/metrics` (with
//! `/healthz`) when `[metrics] listen` is set.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Upper bounds (seconds) of the latency buckets: 1 ms to 1 min.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// Called after every Vikunja request: route template, method, HTTP status (0: no response).
pub type ApiObserver = Arc<dyn Fn(&'static str, &str, u16) + Send + Sync>;

#[derive(Default)]
struct Histogram {
    counts: Vec<u64>,
    sum: f64,
    count: u64,
}

#[derive(Default)]
struct Registry {
    help: BTreeMap<&'static str, (&'static str, &'static str)>,
    counters: BTreeMap<(&'static str, String), u64>,
    gauges: BTreeMap<(&'static str, String), f64>,
    histograms: BTreeMap<(&'static str, String), Histogram>,
}

/// A service's metrics (cheap to clone; one registry behind).
#[derive(Clone, Default)]
pub struct Metrics(Arc<Mutex<Registry>>);

/// Label pairs in the text format, values escaped as it requires (backslash, double quote,
/// line feed), so no value can end a line or a label early.
fn labels(l: &[(&str, &str)]) -> String {
    l.iter()
        .map(|(k, v)| {
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            format!("{k}=\"{v}\"")
        })
        .collect::<Vec<_>>()
        .join(",")
}

impl Metrics {
    /// Declares a metric's help text (shown once in the output).
    pub fn describe(&self, name: &'static str, kind: &'static str, help: &'static str) {
        if let Ok(mut r) = self.0.lock() {
            r.help.insert(name, (kind, help));
        }
    }

    /// Adds 1 to a counter.
    pub fn inc(&self, name: &'static str, l: &[(&str, &str)]) {
        self.add(name, l, 1);
    }

    pub fn add(&self, name: &'static str, l: &[(&str, &str)], n: u64) {
        if let Ok(mut r) = self.0.lock() {
            *r.counters.entry((name, labels(l))).or_default() += n;
        }
    }

    /// Sets a gauge (a value that goes up and down, e.g. bytes in use).
    pub fn set(&self, name: &'static str, l: &[(&str, &str)], value: f64) {
        if let Ok(mut r) = self.0.lock() {
            r.gauges.insert((name, labels(l)), value);
        }
    }

    /// Records a duration in seconds.
    pub fn observe(&self, name: &'static str, l: &[(&str, &str)], seconds: f64) {
        if let Ok(mut r) = self.0.lock() {
            let h = r.histograms.entry((name, labels(l))).or_default();
            if h.counts.is_empty() {
                h.counts = vec![0; BUCKETS.len()];
            }
            for (i, b) in BUCKETS.iter().enumerate() {
                if seconds <= *b {
                    h.counts[i] += 1;
                }
            }
            h.sum += seconds;
            h.count += 1;
        }
    }

    /// Records the time from `origin_us` (unix micros, when a change happened) until now.
    pub fn observe_since(&self, name: &'static str, l: &[(&str, &str)], origin_us: i64) {
        if origin_us <= 0 {
            return;
        }
        let now_us = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros() as i64)
            .unwrap_or(0);
        self.observe(name, l, ((now_us - origin_us).max(0) as f64) / 1e6);
    }

    /// A Vikunja client observer counting requests by route, method and status.
    pub fn api_observer(&self) -> ApiObserver {
        self.describe(
            "vsync_vikunja_api_calls_total",
            "counter",
            "Vikunja API requests, by route, method and status.",
        );
        let m = self.clone();
        Arc::new(move |route, method, status| {
            m.inc(
                "vsync_vikunja_api_calls_total",
                &[
                    ("route", route),
                    ("method", method),
                    ("status", &status.to_string()),
                ],
            );
        })
    }

    /// The Prometheus text format.
    pub fn render(&self) -> String {
        let Ok(r) = self.0.lock() else {
            return String::new();
        };
        let mut out = String::new();
        let mut described = std::collections::BTreeSet::new();
        let mut head = |out: &mut String, name: &'static str, default_kind: &str| {
            if described.insert(name) {
                let (kind, help) = r.help.get(name).copied().unwrap_or((default_kind, ""));
                if !help.is_empty() {
                    out.push_str(&format!("# HELP {name} {help}\n"));
                }
                out.push_str(&format!("# TYPE {name} {kind}\n"));
            }
        };
        for ((name, l), v) in &r.counters {
            head(&mut out, name, "counter");
            out.push_str(&format!("{name}{} {v}\n", braces(l)));
        }
        for ((name, l), v) in &r.gauges {
            head(&mut out, name, "gauge");
            out.push_str(&format!("{name}{} {v}\n", braces(l)));
        }
        for ((name, l), h) in &r.histograms {
            head(&mut out, name, "histogram");
            let sep = if l.is_empty() { "" } else { "," };
            for (i, b) in BUCKETS.iter().enumerate() {
                out.push_str(&format!(
                    "{name}_bucket{{{l}{sep}le=\"{b}\"}} {}\n",
                    h.counts[i]
                ));
            }
            out.push_str(&format!(
                "{name}_bucket{{{l}{sep}le=\"+Inf\"}} {}\n",
                h.count
            ));
            out.push_str(&format!("{name}_sum{} {}\n", braces(l), h.sum));
            out.push_str(&format!("{name}_count{} {}\n", braces(l), h.count));
        }
        out
    }
}

fn braces(l: &str) -> String {
    if l.is_empty() {
        String::new()
    } else {
        format!("{{{l}}}")
    }
}

/// Serves `/metrics` and `/healthz` on `listen` until `shutdown`; returns the bound address.
pub async fn serve(
    listen: SocketAddr,
    metrics: Metrics,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let app = router(metrics);
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
    });
    Ok(addr)
}

/// The `/metrics` and `/healthz` routes.
pub fn router(metrics: Metrics) -> axum::Router {
    use axum::routing::get;
    axum::Router::new()
        .route(
            "/metrics",
            get(move || {
                let m = metrics.clone();
                async move { ([("content-type", "text/plain; version=0.0.4")], m.render()) }
            }),
        )
        .route("/healthz", get(|| async { "ok" }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_and_histograms_render_in_the_text_format() {
        let m = Metrics::default();
        m.describe("vsync_x_total", "counter", "Things.");
        m.inc("vsync_x_total", &[("kind", "a")]);
        m.inc("vsync_x_total", &[("kind", "a")]);
        m.observe("vsync_latency_seconds", &[("direction", "d")], 0.003);
        let text = m.render();
        assert!(text.contains("# HELP vsync_x_total Things.\n# TYPE vsync_x_total counter\n"));
        assert!(text.contains("vsync_x_total{kind=\"a\"} 2\n"), "{text}");
        assert!(text.contains("vsync_latency_seconds_bucket{direction=\"d\",le=\"0.0025\"} 0\n"));
        assert!(text.contains("vsync_latency_seconds_bucket{direction=\"d\",le=\"0.005\"} 1\n"));
        assert!(text.contains("vsync_latency_seconds_count{direction=\"d\"} 1\n"));
    }

    #[test]
    fn a_gauge_shows_its_last_value() {
        let m = Metrics::default();
        m.describe("vsync_stream_bytes", "gauge", "Bytes.");
        m.set("vsync_stream_bytes", &[("stream", "S")], 10.0);
        m.set("vsync_stream_bytes", &[("stream", "S")], 7.0);
        let text = m.render();
        assert!(text.contains("# TYPE vsync_stream_bytes gauge\n"), "{text}");
        assert!(
            text.contains("vsync_stream_bytes{stream=\"S\"} 7\n"),
            "{text}"
        );
    }

    #[test]
    fn label_values_cannot_break_a_line_or_a_label() {
        let m = Metrics::default();
        m.inc("vsync_x_total", &[("event", "a\"}\nvsync_evil 1\n\\")]);
        let text = m.render();
        assert_eq!(text.lines().count(), 2, "{text}");
        assert!(
            text.contains(r#"vsync_x_total{event="a\"}\nvsync_evil 1\n\\"} 1"#),
            "{text}"
        );
    }
}
