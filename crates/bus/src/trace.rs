//! W3C trace context in NATS headers, and the messaging spans around every publish and every
//! processing of a message, so one trace spans every hop.
//!
//! Span names follow OpenTelemetry's messaging conventions and stay low-cardinality:
//! `publish <subject pattern>` (producer) and `process <subject pattern>` (consumer), where
//! ids and names in the subject are `*` ([`crate::subject::pattern`]); the full subject is the
//! `messaging.destination.name` attribute. Every publish of the bus runs in its own publish
//! span and carries that span's `traceparent`, whichever flow (event, reconcile pass, control
//! request) it belongs to. Without an OpenTelemetry layer and propagator installed (no OTLP
//! endpoint configured) there is no trace context, and nothing is written.

use async_nats::HeaderMap;
use opentelemetry::propagation::{Extractor, Injector};
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::subject;

struct HeaderInjector<'a>(&'a mut HeaderMap);

impl Injector for HeaderInjector<'_> {
    fn set(&mut self, key: &str, value: String) {
        self.0.insert(key, value.as_str());
    }
}

struct HeaderExtractor<'a>(&'a HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).map(|v| v.as_str())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.iter().map(|(k, _)| k.as_ref()).collect()
    }
}

/// Writes the current span's context (`traceparent`, `tracestate`) into `headers`.
pub(crate) fn inject(headers: &mut HeaderMap) {
    let cx = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&cx, &mut HeaderInjector(headers))
    });
}

/// Headers carrying the current span's context.
pub(crate) fn headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    inject(&mut h);
    h
}

/// Makes `span` a child of the context carried in `headers`, if any.
pub(crate) fn set_parent(span: &tracing::Span, headers: Option<&HeaderMap>) {
    let Some(headers) = headers else { return };
    if headers.get("traceparent").is_none() {
        return;
    }
    let cx =
        opentelemetry::global::get_text_map_propagator(|p| p.extract(&HeaderExtractor(headers)));
    let _ = span.set_parent(cx);
}

/// The span of one publish to `subject` (a child of the current span). The ids a flow knows
/// can be recorded on it: `task.uuid`, `vikunja.task_id`, `tw.host`.
pub(crate) fn publish_span(subject: &str) -> tracing::Span {
    tracing::info_span!(
        "publish",
        otel.name = %format!("publish {}", subject::pattern(subject)),
        otel.kind = "producer",
        messaging.system = "nats",
        messaging.destination.name = %subject,
        task.uuid = tracing::field::Empty,
        vikunja.task_id = tracing::field::Empty,
        tw.host = tracing::field::Empty,
    )
}

/// The span of processing a message received on `subject`, a child of the context its
/// `headers` carry. The ids a flow learns can be recorded on it (`task.uuid`,
/// `vikunja.task_id`, `tw.host`), and for a batch its size (`batch`) and what it did
/// (`applied`).
pub(crate) fn process_span(subject: &str, headers: Option<&HeaderMap>) -> tracing::Span {
    let span = tracing::info_span!(
        "process",
        otel.name = %format!("process {}", subject::pattern(subject)),
        otel.kind = "consumer",
        messaging.system = "nats",
        messaging.destination.name = %subject,
        task.uuid = tracing::field::Empty,
        vikunja.task_id = tracing::field::Empty,
        tw.host = tracing::field::Empty,
        batch = tracing::field::Empty,
        applied = tracing::field::Empty,
    );
    set_parent(&span, headers);
    span
}

/// Whether `value` is a valid W3C `traceparent` (version 00, non-zero trace and span ids).
pub fn is_valid_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    let nonzero = |s: &str| s.bytes().any(|b| b != b'0');
    matches!(parts.as_slice(), [v, trace, span, flags]
        if *v == "00" && hex(trace, 32) && nonzero(trace) && hex(span, 16) && nonzero(span) && hex(flags, 2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_traceparent_is_checked_field_by_field() {
        assert!(is_valid_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        ] {
            assert!(!is_valid_traceparent(bad), "{bad}");
        }
    }
}
