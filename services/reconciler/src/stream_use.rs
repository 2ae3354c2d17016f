//! How full the event streams are, as metrics and, when one is nearly full, a warning: a full
//! event stream refuses new events (webhooks answered 5xx, host changes kept for later).

use crate::App;

impl App {
    /// Reads the streams' use into `vsync_stream_bytes` / `vsync_stream_max_bytes`.
    pub(crate) async fn report_stream_use(&self) {
        let m = &self.events.metrics;
        match self.events.bus.stream_use().await {
            Ok(all) => {
                for s in all {
                    let l = [("stream", s.stream.as_str())];
                    m.set("vsync_stream_bytes", &l, s.bytes as f64);
                    if let Some(max) = s.max_bytes {
                        m.set("vsync_stream_max_bytes", &l, max as f64);
                    }
                    if s.nearly_full() {
                        tracing::warn!(stream = %s, "stream nearly full");
                    }
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot read how full the streams are"),
        }
    }
}

pub(crate) fn describe(m: &vsync_telemetry::metrics::Metrics) {
    m.describe(
        "vsync_stream_bytes",
        "gauge",
        "Bytes held by each event stream (events, dead letters, conflicts).",
    );
    m.describe(
        "vsync_stream_max_bytes",
        "gauge",
        "Each event stream's size limit; when reached, new messages are refused.",
    );
}
