//! The one Vikunja API v1 client every service uses: one pooled HTTP client, the token read once
//! (from a file, by the caller), typed methods, the v1 error body, paging until
//! `x-pagination-total-pages`, retries with backoff and jitter on 5xx and timeouts, and waiting
//! out 429 until `X-RateLimit-Reset`. Each call is one span named after its route template.

mod types;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;
pub use types::{Label, Project, Webhook};
use vsync_model::VikunjaTask;

/// Task events the sync subscribes to.
pub const WEBHOOK_EVENTS: &[&str] = &[
    "task.created",
    "task.updated",
    "task.deleted",
    "task.assignee.created",
    "task.assignee.deleted",
    "task.relation.created",
    "task.relation.deleted",
    "project.updated",
    "project.deleted",
];

/// A failed API call.
#[derive(Debug, thiserror::Error)]
pub enum VikunjaError {
    #[error("{route}: {source}")]
    Transport {
        route: String,
        source: reqwest::Error,
    },
    /// Vikunja answered with its error body `{code, message}`.
    #[error("{route}: HTTP {status}, code {code}: {message}")]
    Api {
        route: String,
        status: u16,
        code: i64,
        message: String,
    },
    #[error("{route}: unexpected response: {reason}")]
    Decode { route: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error(transparent)]
    Config(#[from] vsync_config::ConfigError),
}

impl VikunjaError {
    /// HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            VikunjaError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The task (4002) or project (3001) does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, VikunjaError::Api { status: 404, .. })
    }
}

/// Retry policy for 5xx, timeouts and 429.
#[derive(Clone, Debug)]
pub struct Retry {
    pub attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for Retry {
    fn default() -> Self {
        Retry {
            attempts: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
        }
    }
}

/// Called after every request: route template, method, HTTP status (0: no response).
pub type Observer = Arc<dyn Fn(&'static str, &str, u16) + Send + Sync>;

/// The Vikunja API client (cheap to clone: one connection pool).
#[derive(Clone)]
pub struct VikunjaClient {
    http: reqwest::Client,
    api: Arc<str>,
    token: Arc<SecretString>,
    retry: Retry,
    calls: Arc<AtomicU64>,
    observer: Option<Observer>,
}

struct Page<T> {
    items: Vec<T>,
    total_pages: u32,
}

impl VikunjaClient {
    /// `api` is the v1 base, e.g. `https://vikunja.example.org/api/v1`.
    pub fn new(
        api: &str,
        token: SecretString,
        timeout: Duration,
    ) -> Result<VikunjaClient, VikunjaError> {
        // rustls with ring, as the NATS client uses; installing twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("vikunja-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(VikunjaError::Client)?;
        Ok(VikunjaClient {
            http,
            api: api.trim_end_matches('/').into(),
            token: Arc::new(token),
            retry: Retry::default(),
            calls: Arc::new(AtomicU64::new(0)),
            observer: None,
        })
    }

    /// Reports every request (for metrics).
    pub fn with_observer(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    fn observe(&self, route: &'static str, method: &Method, status: u16) {
        if let Some(o) = &self.observer {
            o(route, method.as_str(), status);
        }
    }

    /// The client the `[vikunja]` section describes (URL, token file, timeout).
    pub fn from_config(cfg: &vsync_config::Config) -> Result<VikunjaClient, VikunjaError> {
        let token_file = cfg
            .vikunja
            .token_file
            .as_deref()
            .ok_or(vsync_config::ConfigError::Missing("vikunja.token_file"))?;
        Self::new(
            &cfg.vikunja_api()?,
            vsync_config::read_secret(token_file)?,
            cfg.vikunja.timeout,
        )
    }

    pub fn with_retry(mut self, retry: Retry) -> Self {
        self.retry = retry;
        self
    }

    /// HTTP requests sent so far (retries included).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    /// One call: `route` is the template for spans and errors, `path` the concrete path.
    async fn call<B: Serialize>(
        &self,
        method: Method,
        route: &'static str,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<(http::HeaderMap, Value), VikunjaError> {
        let span = tracing::info_span!(
            "vikunja_api",
            otel.name = %format!("{method} /api/v1{route}"),
            otel.kind = "client",
            http.request.method = %method,
            url.template = route,
            http.response.status_code = tracing::field::Empty,
        );
        self.call_inner(method, route, path, query, body)
            .instrument(span)
            .await
    }

    async fn call_inner<B: Serialize>(
        &self,
        method: Method,
        route: &'static str,
        path: &str,
        query: &[(&str, String)],
        body: Option<&B>,
    ) -> Result<(http::HeaderMap, Value), VikunjaError> {
        let url = format!("{}{path}", self.api);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut req = self
                .http
                .request(method.clone(), &url)
                .bearer_auth(self.token.expose_secret())
                .query(query);
            if let Some(b) = body {
                req = req.json(b);
            }
            let mut trace_headers = http::HeaderMap::new();
            inject_trace(&mut trace_headers);
            req = req.headers(trace_headers);
            self.calls.fetch_add(1, Ordering::Relaxed);
            let res = req.send().await;
            self.observe(
                route,
                &method,
                res.as_ref().map(|r| r.status().as_u16()).unwrap_or(0),
            );
            let wait = match res {
                Err(e) if (e.is_timeout() || e.is_connect()) && attempt < self.retry.attempts => {
                    tracing::warn!(route, attempt, error = %e, "Vikunja unreachable, retrying");
                    self.backoff(attempt)
                }
                Err(source) => {
                    return Err(VikunjaError::Transport {
                        route: route.to_string(),
                        source,
                    });
                }
                Ok(resp) => {
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
                    if status.is_success() {
                        let v = if bytes.is_empty() {
                            Value::Null
                        } else {
                            serde_json::from_slice(&bytes).map_err(|e| VikunjaError::Decode {
                                route: route.to_string(),
                                reason: e.to_string(),
                            })?
                        };
                        return Ok((headers, v));
                    }
                    let retryable =
                        status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
                    if !retryable || attempt >= self.retry.attempts {
                        return Err(api_error(route, status, &bytes));
                    }
                    if status == StatusCode::TOO_MANY_REQUESTS {
                        rate_limit_wait(&headers).unwrap_or_else(|| self.backoff(attempt))
                    } else {
                        tracing::warn!(route, attempt, %status, "Vikunja error, retrying");
                        self.backoff(attempt)
                    }
                }
            };
            tokio::time::sleep(wait).await;
        }
    }

    /// Exponential backoff with jitter.
    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self.retry.base_delay.saturating_mul(1 << attempt.min(16));
        let capped = exp.min(self.retry.max_delay);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        // 50–100 % of the capped delay.
        capped / 2 + capped.mul_f64(f64::from(nanos % 1000) / 2000.0)
    }

    async fn get_json<T: DeserializeOwned>(
        &self,
        route: &'static str,
        path: &str,
    ) -> Result<T, VikunjaError> {
        let (_, v) = self.call::<()>(Method::GET, route, path, &[], None).await?;
        decode(route, v)
    }

    async fn send_json<T: DeserializeOwned, B: Serialize>(
        &self,
        method: Method,
        route: &'static str,
        path: &str,
        body: &B,
    ) -> Result<T, VikunjaError> {
        let (_, v) = self.call(method, route, path, &[], Some(body)).await?;
        decode(route, v)
    }

    async fn page<T: DeserializeOwned>(
        &self,
        route: &'static str,
        path: &str,
        query: &[(&str, String)],
        page: u32,
    ) -> Result<Page<T>, VikunjaError> {
        let mut q = query.to_vec();
        q.push(("page", page.to_string()));
        q.push(("per_page", "50".to_string()));
        let (headers, v) = self.call::<()>(Method::GET, route, path, &q, None).await?;
        let total_pages = headers
            .get("x-pagination-total-pages")
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.parse().ok())
            .unwrap_or(1);
        // Vikunja answers an empty list as `null`.
        let items = if v.is_null() {
            Vec::new()
        } else {
            decode(route, v)?
        };
        Ok(Page { items, total_pages })
    }

    /// Every page of a listing.
    async fn all_pages<T: DeserializeOwned>(
        &self,
        route: &'static str,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<Vec<T>, VikunjaError> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let p: Page<T> = self.page(route, path, query, page).await?;
            let empty = p.items.is_empty();
            out.extend(p.items);
            if page >= p.total_pages || empty {
                return Ok(out);
            }
            page += 1;
        }
    }

    // ---- tasks

    pub async fn get_task(&self, id: i64) -> Result<VikunjaTask, VikunjaError> {
        let v: Value = self
            .get_json("/tasks/{id}", &format!("/tasks/{id}"))
            .await?;
        task("/tasks/{id}", v)
    }

    /// `PUT /projects/{id}/tasks` (v1 creates with PUT).
    pub async fn create_task(
        &self,
        project_id: i64,
        body: &VikunjaTask,
    ) -> Result<VikunjaTask, VikunjaError> {
        let route = "/projects/{id}/tasks";
        let v: Value = self
            .send_json(
                Method::PUT,
                route,
                &format!("/projects/{project_id}/tasks"),
                &body.0,
            )
            .await?;
        task(route, v)
    }

    /// `POST /tasks/{id}`: replaces the whole task, so `body` must be complete.
    pub async fn update_task(&self, body: &VikunjaTask) -> Result<VikunjaTask, VikunjaError> {
        let route = "/tasks/{id}";
        let v: Value = self
            .send_json(
                Method::POST,
                route,
                &format!("/tasks/{}", body.id()),
                &body.0,
            )
            .await?;
        task(route, v)
    }

    pub async fn delete_task(&self, id: i64) -> Result<(), VikunjaError> {
        self.call::<()>(
            Method::DELETE,
            "/tasks/{id}",
            &format!("/tasks/{id}"),
            &[],
            None,
        )
        .await
        .map(|_| ())
    }

    /// `GET /tasks`, optionally filtered (e.g. `updated > 2026-01-01T00:00:00Z`), every page.
    pub async fn list_tasks(&self, filter: Option<&str>) -> Result<Vec<VikunjaTask>, VikunjaError> {
        let mut q = vec![
            ("sort_by", "id".to_string()),
            ("order_by", "asc".to_string()),
        ];
        if let Some(f) = filter {
            q.push(("filter", f.to_string()));
        }
        let v: Vec<Value> = self.all_pages("/tasks", "/tasks", &q).await?;
        v.into_iter().map(|t| task("/tasks", t)).collect()
    }

    /// `GET /projects/{id}/tasks`, every page.
    pub async fn project_tasks(&self, project_id: i64) -> Result<Vec<VikunjaTask>, VikunjaError> {
        let route = "/projects/{id}/tasks";
        let v: Vec<Value> = self
            .all_pages(route, &format!("/projects/{project_id}/tasks"), &[])
            .await?;
        v.into_iter().map(|t| task(route, t)).collect()
    }

    // ---- projects

    /// Every real project (pseudo-projects with id <= 0 skipped), archived ones included.
    pub async fn projects(&self) -> Result<Vec<Project>, VikunjaError> {
        let all: Vec<Project> = self
            .all_pages(
                "/projects",
                "/projects",
                &[("is_archived", "true".to_string())],
            )
            .await?;
        Ok(all.into_iter().filter(|p| p.id > 0).collect())
    }

    pub async fn get_project(&self, id: i64) -> Result<Project, VikunjaError> {
        self.get_json("/projects/{id}", &format!("/projects/{id}"))
            .await
    }

    pub async fn create_project(&self, title: &str, parent: i64) -> Result<Project, VikunjaError> {
        self.send_json(
            Method::PUT,
            "/projects",
            "/projects",
            &json!({"title": title, "parent_project_id": parent}),
        )
        .await
    }

    // ---- labels

    pub async fn labels(&self) -> Result<Vec<Label>, VikunjaError> {
        self.all_pages("/labels", "/labels", &[]).await
    }

    pub async fn create_label(&self, title: &str) -> Result<Label, VikunjaError> {
        self.send_json(Method::PUT, "/labels", "/labels", &json!({"title": title}))
            .await
    }

    pub async fn add_label(&self, task_id: i64, label_id: i64) -> Result<(), VikunjaError> {
        self.call(
            Method::PUT,
            "/tasks/{id}/labels",
            &format!("/tasks/{task_id}/labels"),
            &[],
            Some(&json!({"label_id": label_id})),
        )
        .await
        .map(|_| ())
    }

    pub async fn remove_label(&self, task_id: i64, label_id: i64) -> Result<(), VikunjaError> {
        self.call::<()>(
            Method::DELETE,
            "/tasks/{id}/labels/{label}",
            &format!("/tasks/{task_id}/labels/{label_id}"),
            &[],
            None,
        )
        .await
        .map(|_| ())
    }

    /// Replaces a task's label set in one call.
    pub async fn set_labels(&self, task_id: i64, label_ids: &[i64]) -> Result<(), VikunjaError> {
        let labels: Vec<Value> = label_ids.iter().map(|id| json!({"id": id})).collect();
        self.call(
            Method::POST,
            "/tasks/{id}/labels/bulk",
            &format!("/tasks/{task_id}/labels/bulk"),
            &[],
            Some(&json!({"labels": labels})),
        )
        .await
        .map(|_| ())
    }

    // ---- webhooks

    pub async fn webhooks(&self, project_id: i64) -> Result<Vec<Webhook>, VikunjaError> {
        self.all_pages(
            "/projects/{id}/webhooks",
            &format!("/projects/{project_id}/webhooks"),
            &[],
        )
        .await
    }

    pub async fn create_webhook(
        &self,
        project_id: i64,
        target_url: &str,
        secret: &SecretString,
    ) -> Result<Webhook, VikunjaError> {
        self.send_json(
            Method::PUT,
            "/projects/{id}/webhooks",
            &format!("/projects/{project_id}/webhooks"),
            &json!({"target_url": target_url, "events": WEBHOOK_EVENTS, "secret": secret.expose_secret()}),
        )
        .await
    }
}

fn decode<T: DeserializeOwned>(route: &str, v: Value) -> Result<T, VikunjaError> {
    serde_json::from_value(v).map_err(|e| VikunjaError::Decode {
        route: route.to_string(),
        reason: e.to_string(),
    })
}

fn task(route: &str, v: Value) -> Result<VikunjaTask, VikunjaError> {
    VikunjaTask::from_value(v).map_err(|e| VikunjaError::Decode {
        route: route.to_string(),
        reason: e.to_string(),
    })
}

fn api_error(route: &str, status: StatusCode, body: &[u8]) -> VikunjaError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    VikunjaError::Api {
        route: route.to_string(),
        status: status.as_u16(),
        code: v.get("code").and_then(Value::as_i64).unwrap_or(0),
        message: v
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("")
            .chars()
            .take(300)
            .collect(),
    }
}

/// How long to wait for a 429 to clear: until `X-RateLimit-Reset` (unix seconds), at most 60 s.
fn rate_limit_wait(headers: &http::HeaderMap) -> Option<Duration> {
    let reset: u64 = headers
        .get("x-ratelimit-reset")?
        .to_str()
        .ok()?
        .parse()
        .ok()?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_secs();
    Some(Duration::from_secs(reset.saturating_sub(now).min(60)) + Duration::from_millis(50))
}

fn inject_trace(headers: &mut http::HeaderMap) {
    struct Inj<'a>(&'a mut http::HeaderMap);
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
