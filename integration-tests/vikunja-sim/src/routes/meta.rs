//! `/info` (no token), `/user` and `/routes`.

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::{Sh, scopes};
use crate::shared::Shared;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/api/v1/info", get(info))
        .route("/api/v1/user", get(current_user))
        .route("/api/v1/routes", get(token_routes))
}

async fn info(axum::extract::State(sh): Sh) -> Response {
    let server = &sh.server;
    Json(json!({
        "version": server.version.text,
        "frontend_url": "",
        "motd": "",
        "link_sharing_enabled": true,
        "max_file_size": "20MB",
        "max_items_per_page": server.max_per_page,
        "available_migrators": [],
        "task_attachments_enabled": true,
        "enabled_background_providers": [],
        "totp_enabled": false,
        "legal": {"imprint_url": "", "privacy_policy_url": ""},
        "caldav_enabled": true,
        "auth": {"local": {"enabled": true}, "openid_connect": {"enabled": false, "providers": null}},
        "email_reminders_enabled": false,
        "user_deletion_enabled": true,
        "task_comments_enabled": true,
        "demo_mode_enabled": false,
        "webhooks_enabled": server.webhooks_enabled,
        "public_teams_enabled": false,
    }))
    .into_response()
}

async fn current_user(axum::extract::State(sh): Sh) -> Response {
    Json(sh.read(|st| st.doer())).into_response()
}

/// Every permission a token can be given on this server: group → verb → route.
async fn token_routes(axum::extract::State(sh): Sh) -> Response {
    Json(scopes::table(&sh.server)).into_response()
}
