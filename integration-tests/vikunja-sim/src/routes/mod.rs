//! The router: the `/api/v1` routes (`/api/v2` and the webhook routes only when the server
//! has them), CalDAV, and the gate in front of all of them.

mod caldav;
mod extras;
mod gate;
mod labels;
mod meta;
mod projects;
pub(crate) mod scopes;
mod tasks;
mod v2;
mod webhooks;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::error::SimError;
use crate::shared::Shared;

pub(crate) type Sh = State<Arc<Shared>>;
pub(crate) type ApiResult = Result<Response, SimError>;
/// Query parameters in order, repeated keys kept (`sort_by`, `order_by`).
pub(crate) type Params = Vec<(String, String)>;

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let mut app = Router::new()
        .merge(meta::routes())
        .merge(projects::routes())
        .merge(tasks::routes())
        .merge(labels::routes())
        .merge(extras::routes())
        .merge(caldav::routes());
    if shared.server.webhooks_enabled {
        app = app.merge(webhooks::routes());
    }
    if shared.server.version.has_v2() {
        app = app.merge(v2::routes());
    }
    app.fallback(not_found)
        .layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            gate::gate,
        ))
        .with_state(shared)
}

async fn not_found() -> Response {
    SimError::plain(404, "Not Found").into_response()
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
