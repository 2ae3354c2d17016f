//! `/projects/{id}/webhooks` and `/webhooks/events`. The secret and basic-auth
//! credentials are write-only: every response blanks them.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::{get, post};
use serde::Deserialize;

use super::{ApiResult, Params, Sh, body, created, deleted, id, ok, paged};
use crate::model::{WEBHOOK_EVENTS, Webhook};
use crate::shared::Shared;
use crate::state::{WebhookInput, bind};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/projects/{id}/webhooks", get(list).put(create))
        .route(
            "/api/v1/projects/{id}/webhooks/{webhookID}",
            post(update).delete(remove),
        )
        .route("/api/v1/webhooks/events", get(events))
}

async fn list(State(sh): Sh, Path(raw): Path<String>, Query(q): Query<Params>) -> ApiResult {
    let pid = id(&raw)?;
    let hooks: Vec<Webhook> =
        sh.read(|st| st.project_row(pid).map(|_| st.project_webhooks(pid)))?;
    paged(
        hooks.iter().map(Webhook::masked).collect(),
        &q,
        sh.server.max_per_page,
    )
}

async fn create(State(sh): Sh, Path(raw_id): Path<String>, raw: Bytes) -> ApiResult {
    let pid = id(&raw_id)?;
    let input: WebhookInput = bind(&body(&raw)?)?;
    created(sh.mutate(|st| st.create_webhook(pid, input))?.masked())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct EventsInput {
    events: Vec<String>,
}

async fn update(
    State(sh): Sh,
    Path((raw_pid, raw_wid)): Path<(String, String)>,
    raw: Bytes,
) -> ApiResult {
    let (pid, wid) = (id(&raw_pid)?, id(&raw_wid)?);
    let input: EventsInput = bind(&body(&raw)?)?;
    ok(sh
        .mutate(|st| st.update_webhook(pid, wid, input.events))?
        .masked())
}

async fn remove(State(sh): Sh, Path((raw_pid, raw_wid)): Path<(String, String)>) -> ApiResult {
    let (pid, wid) = (id(&raw_pid)?, id(&raw_wid)?);
    sh.mutate(|st| st.delete_webhook(pid, wid))?;
    deleted()
}

async fn events() -> ApiResult {
    ok(WEBHOOK_EVENTS)
}
