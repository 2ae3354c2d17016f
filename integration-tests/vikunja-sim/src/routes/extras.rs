//! `/tasks/{id}/comments` and `/tasks/{id}/attachments` (listing and deleting; an upload is a
//! user action, [`crate::Simulator::add_attachment`]).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{delete, get};
use serde::Deserialize;

use super::{ApiResult, Params, Sh, body, created, deleted, id, paged};
use crate::shared::Shared;
use crate::state::bind;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/tasks/{id}/comments", get(comments).put(comment))
        .route("/api/v1/tasks/{id}/attachments", get(attachments))
        .route(
            "/api/v1/tasks/{id}/attachments/{attachmentID}",
            delete(remove_attachment),
        )
}

async fn comments(State(sh): Sh, Path(raw): Path<String>, Query(q): Query<Params>) -> ApiResult {
    let tid = id(&raw)?;
    paged(
        sh.read(|st| st.task_comments(tid))?,
        &q,
        sh.server.max_per_page,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CommentInput {
    comment: String,
}

async fn comment(State(sh): Sh, Path(raw_id): Path<String>, raw: Bytes) -> ApiResult {
    let tid = id(&raw_id)?;
    let input: CommentInput = bind(&body(&raw)?)?;
    created(sh.mutate(|st| st.add_comment(tid, &input.comment))?)
}

async fn attachments(State(sh): Sh, Path(raw): Path<String>, Query(q): Query<Params>) -> ApiResult {
    let tid = id(&raw)?;
    let list = sh.read(|st| st.task_row(tid).map(|t| t.attachments.clone()))?;
    paged(list, &q, sh.server.max_per_page)
}

async fn remove_attachment(
    State(sh): Sh,
    Path((raw_id, raw_attachment)): Path<(String, String)>,
) -> ApiResult {
    let (tid, aid) = (id(&raw_id)?, id(&raw_attachment)?);
    sh.mutate(|st| st.delete_attachment(tid, aid))?;
    deleted()
}
