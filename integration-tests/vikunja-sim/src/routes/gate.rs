//! The gate every request passes, refused ones included: injected faults, rate limit, the
//! API token and its permissions, then the handler, then the faults on the answer; every
//! request lands in the request log.

use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::{Body, to_bytes};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::Sh;
use super::scopes::{Need, need};
use crate::LoggedRequest;
use crate::error::SimError;
use crate::faults::{Fault, RequestInfo};
use crate::server::Conn;
use crate::shared::{Shared, lock};

/// The answer of an injected [`Fault::Status`].
fn injected(status: u16, retry_after: Option<Duration>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = status.canonical_reason().unwrap_or("Injected failure");
    let mut resp = (status, Json(json!({ "message": message }))).into_response();
    if let Some(d) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(d.as_secs().max(1)));
    }
    resp
}

/// The bearer token may call this route (401 code 11 otherwise, whatever was missing).
fn authorize(sh: &Shared, method: &str, route: &str, auth: Option<&str>) -> Result<(), SimError> {
    let need = need(method, route);
    if matches!(need, Need::Public | Need::Dav) {
        return Ok(());
    }
    let tokens = lock(&sh.tokens);
    let token = auth
        .and_then(|h| h.strip_prefix("Bearer "))
        .and_then(|t| tokens.find(t.trim()))
        .ok_or_else(SimError::unauthorized)?;
    let allowed = match &need {
        Need::Scoped(perms) => perms.iter().all(|(g, v)| token.allows(g, v)),
        Need::LoginOnly => token.permissions.is_none(),
        Need::Public | Need::Dav => true,
    };
    if !allowed {
        return Err(SimError::unauthorized());
    }
    Ok(())
}

/// The middleware in front of every route.
pub(crate) async fn gate(State(sh): Sh, req: Request, next: Next) -> Response {
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
    let conn = req
        .extensions()
        .get::<ConnectInfo<Conn>>()
        .map(|c| c.0.clone());
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, 64 << 20).await.unwrap_or_default();
    let body_text = String::from_utf8_lossy(&bytes).into_owned();
    let req = Request::from_parts(parts, Body::from(bytes));

    let project = if sh.faults.needs_project() {
        sh.read(|st| st.project_of(&path))
    } else {
        None
    };
    let info = RequestInfo {
        method: &method,
        route: &route,
        query: &query,
        project,
    };
    let before = sh.faults.before(&info);
    if !before.latency.is_zero() {
        tokio::time::sleep(before.latency).await;
    }
    let mut faults = before.applied;
    let rate = sh.faults.rate.tick();
    let mut resp = if rate.as_ref().is_some_and(|r| r.exceeded) {
        SimError::plain(429, "Too Many Requests").into_response()
    } else if let Some(Fault::Status {
        status,
        retry_after,
    }) = before.answer
    {
        injected(status, retry_after)
    } else if let Err(e) = authorize(&sh, &method, &route, auth.as_deref()) {
        e.into_response()
    } else {
        let mut resp = next.run(req).await;
        let after = sh.faults.after(&info);
        for h in &after.omit {
            resp.headers_mut().remove(h.as_str());
        }
        for hook in &after.hooks {
            if let Some(sim) = sh.simulator() {
                (hook.0)(&sim);
            }
        }
        if after.lose {
            if let Some(conn) = &conn {
                conn.cut();
            }
        } else if !after.late.is_zero() {
            tokio::time::sleep(after.late).await;
        }
        faults.extend(after.applied);
        resp
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
        faults,
    });
    resp
}
