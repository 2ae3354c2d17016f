//! `/labels` and the labels on a task (`/tasks/{id}/labels`, incl. the bulk set).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{delete, get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ApiResult, Params, Sh, body, created, deleted, id, ok, one, paged};
use crate::model::{now_s, ts};
use crate::shared::Shared;
use crate::state::{LabelInput, bind};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/labels", get(list).put(create))
        .route("/api/v1/labels/{id}", get(read).post(update).delete(remove))
        .route("/api/v1/tasks/{id}/labels", get(task_labels).put(add))
        .route("/api/v1/tasks/{id}/labels/{labelID}", delete(take_off))
        .route("/api/v1/tasks/{id}/labels/bulk", post(bulk))
}

async fn list(State(sh): Sh, Query(q): Query<Params>) -> ApiResult {
    let needle = super::param(&q, "s").unwrap_or("").to_lowercase();
    let labels: Vec<_> = sh.read(|st| {
        st.labels
            .values()
            .filter(|l| l.title.to_lowercase().contains(&needle))
            .cloned()
            .collect()
    });
    paged(labels, &q, sh.server.max_per_page)
}

async fn read(State(sh): Sh, Path(raw): Path<String>) -> ApiResult {
    let lid = id(&raw)?;
    one(sh.read(|st| st.label(lid).cloned())?)
}

async fn create(State(sh): Sh, raw: Bytes) -> ApiResult {
    let input: LabelInput = bind(&body(&raw)?)?;
    created(sh.mutate(|st| st.create_label(input))?)
}

async fn update(State(sh): Sh, Path(raw_id): Path<String>, raw: Bytes) -> ApiResult {
    let lid = id(&raw_id)?;
    let input: LabelInput = bind(&body(&raw)?)?;
    ok(sh.mutate(|st| st.update_label(lid, input))?)
}

async fn remove(State(sh): Sh, Path(raw): Path<String>) -> ApiResult {
    let lid = id(&raw)?;
    sh.mutate(|st| st.delete_label(lid))?;
    deleted()
}

async fn task_labels(State(sh): Sh, Path(raw): Path<String>, Query(q): Query<Params>) -> ApiResult {
    let tid = id(&raw)?;
    paged(
        sh.read(|st| st.task_labels(tid))?,
        &q,
        sh.server.max_per_page,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LabelTaskInput {
    label_id: i64,
}

async fn add(State(sh): Sh, Path(raw_id): Path<String>, raw: Bytes) -> ApiResult {
    let tid = id(&raw_id)?;
    let input: LabelTaskInput = bind(&body(&raw)?)?;
    sh.mutate(|st| st.add_label(tid, input.label_id))?;
    created(json!({ "label_id": input.label_id, "created": ts::format(now_s()) }))
}

async fn take_off(State(sh): Sh, Path((raw_id, raw_label)): Path<(String, String)>) -> ApiResult {
    let (tid, lid) = (id(&raw_id)?, id(&raw_label)?);
    sh.mutate(|st| st.remove_label(tid, lid))?;
    deleted()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LabelRef {
    id: i64,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct BulkInput {
    labels: Vec<LabelRef>,
}

/// 201 with the request's own `labels` echoed.
async fn bulk(State(sh): Sh, Path(raw_id): Path<String>, raw: Bytes) -> ApiResult {
    let tid = id(&raw_id)?;
    let input_json = body(&raw)?;
    let input: BulkInput = bind(&input_json)?;
    let ids: Vec<i64> = input.labels.iter().map(|l| l.id).collect();
    sh.mutate(|st| st.set_labels(tid, &ids))?;
    created(json!({ "labels": input_json.get("labels").cloned().unwrap_or(Value::Null) }))
}
