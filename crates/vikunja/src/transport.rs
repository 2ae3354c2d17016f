//! Sending one API request: the pooled HTTP client, the bearer token, one span per call named
//! after its route template with the trace context in the request headers, the request count
//! and observer, and repeating the request as the [`Retry`] policy says.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::HeaderMap;
use reqwest::Method;
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::calls::{Api, Call};
use crate::error::{self, VikunjaError};
use crate::retry::{Outcome, Retry};
use crate::token::Token;

/// Called after every request: route template, method, HTTP status (0: no response).
pub type Observer = Arc<dyn Fn(&'static str, &str, u16) + Send + Sync>;

/// One API request: a [`Call`] (method, API version, route template that names it in spans,
/// metrics and errors) to a concrete `path` under the API base.
pub(crate) struct Request<'a, B = ()> {
    call: Call,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<&'a B>,
    /// Sent as a JSON merge patch (RFC 7396).
    merge_patch: bool,
}

impl Request<'static> {
    /// A request without a body (GET, DELETE).
    pub fn to(call: Call, path: String) -> Self {
        Request {
            call,
            path,
            query: Vec::new(),
            body: None,
            merge_patch: false,
        }
    }
}

impl<'a, B: Serialize> Request<'a, B> {
    /// A request with a JSON body (PUT, POST).
    pub fn with_body(call: Call, path: String, body: &'a B) -> Self {
        Request {
            call,
            path,
            query: Vec::new(),
            body: Some(body),
            merge_patch: false,
        }
    }

    /// A PATCH whose body is a JSON merge patch.
    pub fn merge_patch(call: Call, path: String, patch: &'a B) -> Self {
        Request {
            merge_patch: true,
            ..Request::with_body(call, path, patch)
        }
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub fn route(&self) -> &'static str {
        self.call.route()
    }
}

/// A success answer: its headers and JSON body (`Null` when empty).
pub(crate) struct Answer {
    pub headers: HeaderMap,
    pub body: Value,
}

/// The HTTP side of the client (cheap to clone: one connection pool).
#[derive(Clone)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    /// The server's base URL, without `/api/v1` and without a trailing `/`.
    pub root: Arc<str>,
    pub token: Arc<Token>,
    pub retry: Retry,
    pub calls: Arc<AtomicU64>,
    pub observer: Option<Observer>,
}

impl Transport {
    /// Sends `req` (again, as the retry policy allows) inside one span for the whole call.
    pub async fn send<B: Serialize>(&self, req: Request<'_, B>) -> Result<Answer, VikunjaError> {
        let method = req.call.method();
        let template = format!("{}{}", api_prefix(req.call.api()), req.call.template());
        let span = tracing::info_span!(
            "vikunja_api",
            otel.name = %format!("{method} {template}"),
            otel.kind = "client",
            http.request.method = %method,
            url.template = %template,
            http.response.status_code = tracing::field::Empty,
        );
        self.send_with_retries(req).instrument(span).await
    }

    async fn send_with_retries<B: Serialize>(
        &self,
        req: Request<'_, B>,
    ) -> Result<Answer, VikunjaError> {
        let route = req.route();
        let method = req.call.method();
        let url = format!("{}{}{}", self.root, api_prefix(req.call.api()), req.path);
        let mut attempt = 0;
        let mut reread = false;
        let res = loop {
            attempt += 1;
            let token = self.token.current();
            let res = self.attempt(&req, &url, &token).await;
            let status = res.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
            self.observe(route, &method, status);
            // A rejected token did nothing on the server: once, read the file again and
            // repeat with what it holds now.
            if status == 401 && !reread {
                reread = true;
                if self.token.reread_after_rejection(&token) {
                    continue;
                }
            } else if status == 401 {
                self.token.rejected();
            } else if res.as_ref().is_ok_and(|r| r.status().is_success()) {
                self.token.accepted();
            }
            let outcome = match &res {
                Err(e) if e.is_timeout() => Some(Outcome::TimedOut),
                Err(e) if e.is_connect() => Some(Outcome::NotSent),
                Ok(r) if !answered_ok(r.status()) => {
                    Some(Outcome::Answered(r.status(), r.headers()))
                }
                _ => None,
            };
            let safe_to_repeat = req.call.safe_to_repeat();
            let wait =
                outcome.and_then(|o| self.retry.wait_before_next(&o, attempt, safe_to_repeat));
            let Some(wait) = wait else {
                break res;
            };
            match &res {
                Err(e) => {
                    tracing::warn!(route, attempt, error = %e, "Vikunja unreachable, retrying");
                }
                Ok(_) => tracing::warn!(route, attempt, status, ?wait, "Vikunja error, retrying"),
            }
            tokio::time::sleep(wait).await;
        };
        let resp = res.map_err(|source| VikunjaError::Transport {
            route: route.to_string(),
            source,
        })?;
        read(route, resp).await
    }

    /// One HTTP request, with the token and the current trace context.
    async fn attempt<B: Serialize>(
        &self,
        req: &Request<'_, B>,
        url: &str,
        token: &secrecy::SecretString,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut builder = self
            .http
            .request(req.call.method(), url)
            .bearer_auth(token.expose_secret())
            .query(&req.query);
        match req.body {
            Some(body) if req.merge_patch => {
                let bytes = serde_json::to_vec(body).unwrap_or_default();
                builder = builder
                    .header(http::header::CONTENT_TYPE, "application/merge-patch+json")
                    .body(bytes);
            }
            Some(body) => builder = builder.json(body),
            None => {}
        }
        let mut trace_headers = HeaderMap::new();
        inject_trace(&mut trace_headers);
        self.calls.fetch_add(1, Ordering::Relaxed);
        builder.headers(trace_headers).send().await
    }

    pub(crate) fn observe(&self, route: &'static str, method: &Method, status: u16) {
        if let Some(o) = &self.observer {
            o(route, method.as_str(), status);
        }
    }
}

/// The answer's JSON body, or the error its status and body describe.
async fn read(route: &str, resp: reqwest::Response) -> Result<Answer, VikunjaError> {
    let status = resp.status();
    tracing::Span::current().record("http.response.status_code", status.as_u16());
    let headers = resp.headers().clone();
    let bytes = resp
        .bytes()
        .await
        .map_err(|source| VikunjaError::Transport {
            route: route.to_string(),
            source,
        })?;
    if !answered_ok(status) {
        return Err(error::from_answer(route, status, &bytes));
    }
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).map_err(|e| error::decode_error(route, e))?
    };
    Ok(Answer { headers, body })
}

/// Success, or 304: a merge patch that changed nothing (its body is empty).
fn answered_ok(status: reqwest::StatusCode) -> bool {
    status.is_success() || status == reqwest::StatusCode::NOT_MODIFIED
}

fn api_prefix(api: Api) -> &'static str {
    match api {
        Api::V1 => "/api/v1",
        Api::V2 => "/api/v2",
    }
}

fn inject_trace(headers: &mut HeaderMap) {
    struct Inj<'a>(&'a mut HeaderMap);
    impl opentelemetry::propagation::Injector for Inj<'_> {
        fn set(&mut self, key: &str, value: String) {
            if let (Ok(k), Ok(v)) = (
                http::HeaderName::from_bytes(key.as_bytes()),
                http::HeaderValue::from_str(&value),
            ) {
                self.0.insert(k, v);
            }
        }
    }
    let cx = tracing::Span::current().context();
    opentelemetry::global::get_text_map_propagator(|p| p.inject_context(&cx, &mut Inj(headers)));
}
