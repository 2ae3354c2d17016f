//! `/tasks` and `/projects/{id}/tasks`: listing with filter and sort, create, get,
//! full-replacement update, delete, assignees.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{delete, get, put};
use serde::Deserialize;
use serde_json::Value;

use super::{ApiResult, Params, Sh, body, created, deleted, id, ok, one, paged, param, params};
use crate::error::SimError;
use crate::filter::{Filter, sort_tasks};
use crate::model::{Task, now_s, ts};
use crate::shared::Shared;
use crate::state::bind;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/tasks", get(list_all))
        .route("/api/v1/projects/{id}/tasks", get(list_project).put(create))
        .route("/api/v1/tasks/{id}", get(read).post(update).delete(remove))
        .route(
            "/api/v1/tasks/{id}/assignees",
            put(add_assignee).get(assignees),
        )
        .route(
            "/api/v1/tasks/{id}/assignees/{userID}",
            delete(remove_assignee),
        )
}

/// Title or description contains `s`, or `s` is the task's `#index`.
fn matches_search(t: &Task, s: &str) -> bool {
    let needle = s.to_lowercase();
    let index = s.trim_start_matches('#').parse::<i64>().ok();
    t.title.to_lowercase().contains(&needle)
        || t.description.to_lowercase().contains(&needle)
        || index == Some(t.index)
}

fn list(sh: &Shared, project: Option<i64>, q: &Params) -> ApiResult {
    let include_nulls = param(q, "filter_include_nulls") == Some("true");
    let filter = Filter::parse(param(q, "filter").unwrap_or(""), include_nulls)?;
    let search = param(q, "s").unwrap_or("");
    let mut tasks = sh.read(|st| -> Result<Vec<Task>, SimError> {
        if let Some(pid) = project {
            st.project_row(pid)?;
        }
        let visible = st.unarchived_projects();
        Ok(st
            .tasks
            .values()
            .filter(|t| !t.deleted)
            .filter(|t| match project {
                Some(pid) => t.project_id == pid,
                None => visible.contains(&t.project_id),
            })
            .map(|t| st.render_task(t))
            .filter(|t| filter.matches(t))
            .filter(|t| search.is_empty() || matches_search(t, search))
            .collect())
    })?;
    sort_tasks(&mut tasks, &params(q, "sort_by"), &params(q, "order_by"))?;
    paged(tasks, q, sh.server.max_per_page)
}

async fn list_all(State(sh): Sh, Query(q): Query<Params>) -> ApiResult {
    list(&sh, None, &q)
}

async fn list_project(
    State(sh): Sh,
    Path(raw): Path<String>,
    Query(q): Query<Params>,
) -> ApiResult {
    list(&sh, Some(id(&raw)?), &q)
}

async fn read(State(sh): Sh, Path(raw): Path<String>) -> ApiResult {
    let tid = id(&raw)?;
    one(sh
        .read(|st| st.task(tid))
        .ok_or_else(SimError::task_missing)?)
}

/// Vikunja answers with the struct it bound and then filled in, not with a re-read:
/// `labels` (never stored on create) and `assignees` are whatever the request sent.
async fn create(State(sh): Sh, Path(raw_id): Path<String>, raw: Bytes) -> ApiResult {
    let pid = id(&raw_id)?;
    let input = body(&raw)?;
    let task = sh.mutate(|st| st.create_task(pid, &input))?;
    let mut out = serde_json::to_value(&task).map_err(SimError::invalid_model)?;
    out["labels"] = input.get("labels").cloned().unwrap_or(Value::Null);
    out["assignees"] = match input.get("assignees") {
        Some(Value::Array(a)) if !a.is_empty() => Value::Array(a.clone()),
        _ => Value::Array(Vec::new()),
    };
    created(out)
}

/// §3.4: the response echoes `labels`, `identifier` and `created_by` from the request.
async fn update(State(sh): Sh, Path(raw_id): Path<String>, raw: Bytes) -> ApiResult {
    let tid = id(&raw_id)?;
    let input = body(&raw)?;
    let task = sh.mutate(|st| st.update_task(tid, &input))?;
    let mut out = serde_json::to_value(&task).map_err(SimError::invalid_model)?;
    out["labels"] = input.get("labels").cloned().unwrap_or(Value::Null);
    out["identifier"] = input
        .get("identifier")
        .cloned()
        .unwrap_or_else(|| Value::String(String::new()));
    out["created_by"] = input.get("created_by").cloned().unwrap_or(Value::Null);
    out["assignees"] = match input.get("assignees") {
        Some(Value::Array(a)) if !a.is_empty() => Value::Array(a.clone()),
        _ => Value::Null,
    };
    one(out)
}

async fn remove(State(sh): Sh, Path(raw): Path<String>) -> ApiResult {
    let tid = id(&raw)?;
    sh.mutate(|st| st.delete_task(tid))?;
    deleted()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AssigneeInput {
    user_id: i64,
}

async fn add_assignee(State(sh): Sh, Path(raw_id): Path<String>, raw: Bytes) -> ApiResult {
    let tid = id(&raw_id)?;
    let input: AssigneeInput = bind(&body(&raw)?)?;
    sh.mutate(|st| st.add_assignee(tid, input.user_id))?;
    created(serde_json::json!({ "user_id": input.user_id, "created": ts::format(now_s()) }))
}

async fn assignees(State(sh): Sh, Path(raw): Path<String>, Query(q): Query<Params>) -> ApiResult {
    let tid = id(&raw)?;
    let users = sh
        .read(|st| st.task(tid).map(|t| t.assignees.unwrap_or_default()))
        .ok_or_else(SimError::task_missing)?;
    paged(users, &q, sh.server.max_per_page)
}

async fn remove_assignee(
    State(sh): Sh,
    Path((raw_id, raw_user)): Path<(String, String)>,
) -> ApiResult {
    let (tid, uid) = (id(&raw_id)?, id(&raw_user)?);
    sh.mutate(|st| st.remove_assignee(tid, uid))?;
    ok(serde_json::json!({ "message": "Successfully deleted." }))
}
