//! The `/api/v1` router and the gate every request passes: request log, latency, rate limit,
//! injected failures, bearer token.

mod labels;
mod projects;
mod tasks;
mod webhooks;

use std::sync::Arc;
use std::time::SystemTime;

use axum::Json;
use axum::Router;
use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde_json::{Value, json};

use crate::LoggedRequest;
use crate::delivery::VERSION;
use crate::error::SimError;
use crate::shared::Shared;

pub(crate) type Sh = State<Arc<Shared>>;
pub(crate) type ApiResult = Result<Response, SimError>;
/// Query parameters in order, repeated keys kept (`sort_by`, `order_by`).
pub(crate) type Params = Vec<(String, String)>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/info", get(info))
        .route("/api/v1/user", get(current_user))
        .merge(projects::routes())
        .merge(tasks::routes())
        .merge(labels::routes())
        .merge(webhooks::routes())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(Arc::clone(&shared), gate))
        .with_state(shared)
}

async fn info(State(sh): Sh) -> Response {
    Json(json!({
        "version": VERSION,
        "frontend_url": "",
        "motd": "",
        "link_sharing_enabled": true,
        "max_file_size": "20MB",
        "max_items_per_page": sh.max_per_page,
        "available_migrators": [],
        "task_attachments_enabled": true,
        "enabled_background_providers": [],
        "totp_enabled": false,
        "legal": {"imprint_url": "", "privacy_policy_url": ""},
        "caldav_enabled": false,
        "auth": {"local": {"enabled": true}, "openid_connect": {"enabled": false, "providers": null}},
        "email_reminders_enabled": false,
        "user_deletion_enabled": true,
        "task_comments_enabled": true,
        "demo_mode_enabled": false,
        "webhooks_enabled": true,
        "public_teams_enabled": false,
    }))
    .into_response()
}

async fn current_user(State(sh): Sh) -> Response {
    Json(sh.read(|st| st.doer())).into_response()
}

async fn not_found() -> Response {
    SimError::plain(404, "Not Found").into_response()
}

fn authorized(header: Option<&str>, token: &str) -> bool {
    header
        .and_then(|h| h.strip_prefix("Bearer "))
        .is_some_and(|t| t.trim() == token)
}

/// Every request passes here, refused ones included, and lands in the request log.
async fn gate(State(sh): Sh, req: Request, next: Next) -> Response {
    let method = req.method().to_string();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let auth = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, 64 << 20).await.unwrap_or_default();
    let body_text = String::from_utf8_lossy(&bytes).into_owned();
    let req = Request::from_parts(parts, Body::from(bytes));

    let latency = sh.faults.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let rate = sh.faults.rate_tick();
    let mut resp = if rate.as_ref().is_some_and(|r| r.exceeded) {
        SimError::plain(429, "Too Many Requests").into_response()
    } else if let Some(status) = sh.faults.take_failure() {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let message = status.canonical_reason().unwrap_or("Injected failure");
        (status, Json(json!({ "message": message }))).into_response()
    } else if route != "/api/v1/info" && !authorized(auth.as_deref(), &sh.token) {
        SimError::unauthorized().into_response()
    } else {
        next.run(req).await
    };
    if let Some(r) = rate {
        let h = resp.headers_mut();
        h.insert("X-RateLimit-Limit", HeaderValue::from(r.limit));
        h.insert("X-RateLimit-Remaining", HeaderValue::from(r.remaining));
        h.insert("X-RateLimit-Reset", HeaderValue::from(r.reset));
    }
    sh.log_request(LoggedRequest {
        method,
        path,
        route,
        query,
        status: resp.status().as_u16(),
        body: body_text,
        at: SystemTime::now(),
    });
    resp
}

/// The first value of a query parameter (also accepts the `name[]` form).
pub(crate) fn param<'a>(q: &'a Params, name: &str) -> Option<&'a str> {
    q.iter()
        .find(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
        .map(|(_, v)| v.as_str())
}

/// Every value of a repeatable query parameter.
pub(crate) fn params<'a>(q: &'a Params, name: &str) -> Vec<&'a str> {
    q.iter()
        .filter(|(k, _)| k == name || k.strip_suffix("[]") == Some(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

/// A numeric path segment; anything else is an invalid model (as `/tasks/all` on ≥1.0).
pub(crate) fn id(raw: &str) -> Result<i64, SimError> {
    raw.parse()
        .map_err(|_| SimError::new(400, 2004, "Invalid model provided."))
}

/// A JSON request body; an empty body binds as `{}`.
pub(crate) fn body(raw: &Bytes) -> Result<Value, SimError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(json!({}));
    }
    serde_json::from_slice(raw).map_err(SimError::invalid_model)
}

pub(crate) fn ok<T: Serialize>(v: T) -> ApiResult {
    Ok(Json(v).into_response())
}

pub(crate) fn created<T: Serialize>(v: T) -> ApiResult {
    Ok((StatusCode::CREATED, Json(v)).into_response())
}

/// A single-object GET also says what the caller may do with it (2 = admin).
pub(crate) fn one<T: Serialize>(v: T) -> ApiResult {
    let mut resp = Json(v).into_response();
    resp.headers_mut()
        .insert("x-max-permission", HeaderValue::from_static("2"));
    Ok(resp)
}

pub(crate) fn deleted() -> ApiResult {
    ok(json!({ "message": "Successfully deleted." }))
}

/// Vikunja's list handler: `page` (1-based, 0 = everything), `per_page` capped at the
/// maximum, `x-pagination-total-pages` (0 when the page is empty) and `-result-count`.
pub(crate) fn paged<T: Serialize>(items: Vec<T>, q: &Params, max: usize) -> ApiResult {
    let page: i64 = param(q, "page")
        .unwrap_or("1")
        .parse()
        .map_err(|_| SimError::plain(400, "Bad page requested."))?;
    if page < 0 {
        return Err(SimError::plain(400, "Page number cannot be negative."));
    }
    let mut per_page: i64 = match param(q, "per_page") {
        Some(v) if !v.is_empty() => v
            .parse()
            .map_err(|_| SimError::plain(400, "Bad per page amount requested."))?,
        _ => 0,
    };
    let max = i64::try_from(max.max(1)).unwrap_or(50);
    if per_page == 0 {
        per_page = max;
    }
    if per_page < 1 {
        return Err(SimError::plain(400, "Per page amount cannot be negative."));
    }
    per_page = per_page.min(max);
    let total = items.len();
    let page_items: Vec<T> = if page == 0 {
        items
    } else {
        let per = usize::try_from(per_page).unwrap_or(1);
        let skip = usize::try_from(page - 1).unwrap_or(0).saturating_mul(per);
        items.into_iter().skip(skip).take(per).collect()
    };
    let count = page_items.len();
    let per = usize::try_from(per_page).unwrap_or(1);
    let pages = if count == 0 { 0 } else { total.div_ceil(per) };
    let mut resp = Json(page_items).into_response();
    let h = resp.headers_mut();
    h.insert("x-pagination-total-pages", HeaderValue::from(pages));
    h.insert("x-pagination-result-count", HeaderValue::from(count));
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("x-pagination-total-pages, x-pagination-result-count"),
    );
    Ok(resp)
}
