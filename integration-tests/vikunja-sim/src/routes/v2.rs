//! `/api/v2/tasks/{id}` (Vikunja ≥ 2.4.0, `pkg/routes/api/v2/tasks.go`): GET sends an ETag
//! (`"<updated unix nanos>-<max permission>"`) and honours `If-None-Match`; PUT replaces the
//! task as v1's POST does; PATCH is huma's autopatch: a GET, a JSON merge patch over it, a PUT
//! of the result, so the fields not sent keep the values just read. Neither PUT nor PATCH
//! checks `If-Match`: a conflict is never detected. Errors are problem+json.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::{Sh, id};
use crate::error::SimError;
use crate::shared::Shared;

/// What the owner of every token may do with every task: admin.
const MAX_PERMISSION: i64 = 2;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new().route(
        "/api/v2/tasks/{id}",
        get(read).put(replace).patch(patch).delete(remove),
    )
}

/// A v2 error: `application/problem+json` with Vikunja's code.
fn problem(e: SimError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut body = json!({
        "title": status.canonical_reason().unwrap_or(""),
        "status": e.status,
        "detail": e.message,
    });
    if let Some(code) = e.code.filter(|c| *c != 0) {
        body["code"] = json!(code);
    }
    let mut resp = (status, Json(body)).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    resp
}

/// The task as `GET /api/v2/tasks/{id}` shows it, and its ETag.
fn current(sh: &Shared, tid: i64) -> Result<(Value, String), SimError> {
    let task = sh
        .read(|st| st.task(tid))
        .ok_or_else(SimError::task_missing)?;
    let nanos = task.updated.unix_timestamp_nanos();
    let mut v = serde_json::to_value(&task).map_err(SimError::invalid_model)?;
    v["max_permission"] = json!(MAX_PERMISSION);
    Ok((v, format!("\"{nanos}-{MAX_PERMISSION}\"")))
}

fn tags(headers: &HeaderMap, name: header::HeaderName) -> Option<Vec<String>> {
    let raw = headers.get(name)?.to_str().ok()?;
    Some(raw.split(',').map(|t| t.trim().to_owned()).collect())
}

async fn read(State(sh): Sh, Path(raw): Path<String>, headers: HeaderMap) -> Response {
    let (task, etag) = match id(&raw).and_then(|tid| current(&sh, tid)) {
        Ok(found) => found,
        Err(e) => return problem(e),
    };
    // huma's conditional reads: a failed precondition on a GET is a 304.
    let matches = |list: &[String]| list.iter().any(|t| t == "*" || *t == etag);
    let none_match = tags(&headers, header::IF_NONE_MATCH).is_some_and(|l| matches(&l));
    let match_failed = tags(&headers, header::IF_MATCH).is_some_and(|l| !matches(&l));
    let mut resp = if none_match || match_failed {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Json(task).into_response()
    };
    if let Ok(v) = HeaderValue::from_str(&etag) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

/// v1's full replacement; the answer is the stored task, without an ETag.
fn put(sh: &Shared, tid: i64, body: &Value) -> Response {
    match sh.mutate(|st| st.update_task(tid, body)) {
        Ok(task) => Json(task).into_response(),
        Err(e) => problem(e),
    }
}

async fn replace(State(sh): Sh, Path(raw): Path<String>, raw_body: Bytes) -> Response {
    let parsed = id(&raw).and_then(|tid| Ok((tid, super::body(&raw_body)?)));
    match parsed {
        Ok((tid, body)) => put(&sh, tid, &body),
        Err(e) => problem(e),
    }
}

/// RFC 7396: objects merge member by member, `null` removes, anything else replaces.
fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(map) = target {
        for (key, value) in patch {
            if value.is_null() {
                map.remove(key);
            } else {
                merge_patch(map.entry(key.clone()).or_insert(Value::Null), value);
            }
        }
    }
}

async fn patch(
    State(sh): Sh,
    Path(raw): Path<String>,
    headers: HeaderMap,
    raw_body: Bytes,
) -> Response {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = content_type.split(';').next().unwrap_or("").trim();
    if !matches!(
        media,
        "application/merge-patch+json" | "application/json" | ""
    ) {
        return problem(SimError::plain(
            415,
            "Content type should be one of application/merge-patch+json or application/json-patch+json",
        ));
    }
    let tid = match id(&raw) {
        Ok(tid) => tid,
        Err(e) => return problem(e),
    };
    let (original, _) = match current(&sh, tid) {
        Ok(found) => found,
        Err(e) => return problem(e),
    };
    let patch: Value = match serde_json::from_slice(&raw_body) {
        Ok(p) => p,
        Err(e) => return problem(SimError::plain(422, format!("Unable to apply patch: {e}"))),
    };
    let mut patched = original.clone();
    merge_patch(&mut patched, &patch);
    if patched == original {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    put(&sh, tid, &patched)
}

async fn remove(State(sh): Sh, Path(raw): Path<String>) -> Response {
    match id(&raw).and_then(|tid| sh.mutate(|st| st.delete_task(tid))) {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => problem(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}, "keep": 1});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}, "new": [1]}));
        assert_eq!(
            doc,
            json!({"a": "z", "c": {"d": "e"}, "keep": 1, "new": [1]})
        );
    }
}
