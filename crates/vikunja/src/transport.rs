//! Sending one API request: the pooled HTTP client, the bearer token, one span per call named
//! after its route template with the trace context in the request headers, the request count
//! and observer, and repeating the request as the [`Retry`] policy says.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use http::HeaderMap;
use reqwest::Method;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

use crate::error::{self, VikunjaError};
use crate::retry::{Outcome, Retry};

/// Called after every request: route template, method, HTTP status (0: no response).
pub type Observer = Arc<dyn Fn(&'static str, &str, u16) + Send + Sync>;

/// One API request. `route` is the template (`/tasks/{id}`) that names it in spans, metrics
/// and errors; `path` the concrete path under the API base.
pub(crate) struct Request<'a, B = ()> {
    method: Method,
    route: &'static str,
    path: String,
    query: Vec<(&'static str, String)>,
    body: Option<&'a B>,
    /// Sending it twice does no more than sending it once.
    safe_to_repeat: bool,
}

impl Request<'static> {
    pub fn get(route: &'static str, path: String) -> Self {
        Request::new(Method::GET, route, path, None, true)
    }

    pub fn delete(route: &'static str, path: String) -> Self {
        Request::new(Method::DELETE, route, path, None, true)
    }
}

impl<'a, B: Serialize> Request<'a, B> {
    fn new(
        method: Method,
        route: &'static str,
        path: String,
        body: Option<&'a B>,
        safe_to_repeat: bool,
    ) -> Self {
        Request {
            method,
            route,
            path,
            query: Vec::new(),
            body,
            safe_to_repeat,
        }
    }

    /// `PUT` that creates an object (v1 creates with PUT): sent twice, it makes two.
    pub fn create(route: &'static str, path: String, body: &'a B) -> Self {
        Request::new(Method::PUT, route, path, Some(body), false)
    }

    /// `PUT` that is safe to repeat (adding a label a task already has answers 8001).
    pub fn put(route: &'static str, path: String, body: &'a B) -> Self {
        Request::new(Method::PUT, route, path, Some(body), true)
    }

    /// `POST`, which in v1 replaces the object: sent twice, the same result.
    pub fn post(route: &'static str, path: String, body: &'a B) -> Self {
        Request::new(Method::POST, route, path, Some(body), true)
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub fn route(&self) -> &'static str {
        self.route
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
    /// The v1 base, without a trailing `/`.
    pub api: Arc<str>,
    pub token: Arc<SecretString>,
    pub retry: Retry,
    pub calls: Arc<AtomicU64>,
    pub observer: Option<Observer>,
}

impl Transport {
    /// Sends `req` (again, as the retry policy allows) inside one span for the whole call.
    pub async fn send<B: Serialize>(&self, req: Request<'_, B>) -> Result<Answer, VikunjaError> {
        let span = tracing::info_span!(
            "vikunja_api",
            otel.name = %format!("{} /api/v1{}", req.method, req.route),
            otel.kind = "client",
            http.request.method = %req.method,
            url.template = req.route,
            http.response.status_code = tracing::field::Empty,
        );
        self.send_with_retries(req).instrument(span).await
    }

    async fn send_with_retries<B: Serialize>(
        &self,
        req: Request<'_, B>,
    ) -> Result<Answer, VikunjaError> {
        let route = req.route;
        let url = format!("{}{}", self.api, req.path);
        let mut attempt = 0;
        let res = loop {
            attempt += 1;
            let res = self.attempt(&req, &url).await;
            let status = res.as_ref().map(|r| r.status().as_u16()).unwrap_or(0);
            self.observe(route, &req.method, status);
            let outcome = match &res {
                Err(e) if e.is_timeout() => Some(Outcome::TimedOut),
                Err(e) if e.is_connect() => Some(Outcome::NotSent),
                Ok(r) if !r.status().is_success() => {
                    Some(Outcome::Answered(r.status(), r.headers()))
                }
                _ => None,
            };
            let wait =
                outcome.and_then(|o| self.retry.wait_before_next(&o, attempt, req.safe_to_repeat));
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
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut builder = self
            .http
            .request(req.method.clone(), url)
            .bearer_auth(self.token.expose_secret())
            .query(&req.query);
        if let Some(body) = req.body {
            builder = builder.json(body);
        }
        let mut trace_headers = HeaderMap::new();
        inject_trace(&mut trace_headers);
        self.calls.fetch_add(1, Ordering::Relaxed);
        builder.headers(trace_headers).send().await
    }

    fn observe(&self, route: &'static str, method: &Method, status: u16) {
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
    if !status.is_success() {
        return Err(error::from_answer(route, status, &bytes));
    }
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes).map_err(|e| error::decode_error(route, e))?
    };
    Ok(Answer { headers, body })
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
