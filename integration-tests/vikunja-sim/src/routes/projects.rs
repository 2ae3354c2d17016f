//! `/projects`: list, get, create (PUT), update (POST), delete.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::routing::get;

use super::{ApiResult, Params, Sh, body, created, deleted, id, one, paged, param};
use crate::shared::Shared;
use crate::state::{ProjectInput, bind};

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/projects", get(list).put(create))
        .route(
            "/api/v1/projects/{id}",
            get(read).post(update).delete(remove),
        )
}

async fn list(State(sh): Sh, Query(q): Query<Params>) -> ApiResult {
    let archived = param(&q, "is_archived") == Some("true");
    let search = param(&q, "s").unwrap_or("");
    let projects = sh.read(|st| st.list_projects(archived, search));
    paged(projects, &q, sh.server.max_per_page)
}

async fn read(State(sh): Sh, Path(raw): Path<String>) -> ApiResult {
    let pid = id(&raw)?;
    let p = sh.read(|st| st.project_row(pid).map(|row| st.render_project(row)))?;
    one(p)
}

async fn create(State(sh): Sh, raw: Bytes) -> ApiResult {
    let input: ProjectInput = bind(&body(&raw)?)?;
    created(sh.mutate(|st| st.create_project(input))?)
}

async fn update(State(sh): Sh, Path(raw_id): Path<String>, raw: Bytes) -> ApiResult {
    let pid = id(&raw_id)?;
    let input: ProjectInput = bind(&body(&raw)?)?;
    one(sh.mutate(|st| st.update_project(pid, input))?)
}

async fn remove(State(sh): Sh, Path(raw): Path<String>) -> ApiResult {
    let pid = id(&raw)?;
    sh.mutate(|st| st.delete_project(pid))?;
    deleted()
}
