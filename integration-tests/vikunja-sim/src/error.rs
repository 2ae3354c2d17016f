//! Vikunja's v1 error body `{"code":N,"message":"…"}` and the codes the simulator answers.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error as Vikunja would answer it: HTTP status, Vikunja code and message.
/// User actions return the same error the equivalent API call would.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status}, code {}: {message}", code.unwrap_or(0))]
pub struct SimError {
    pub status: u16,
    /// Vikunja's error code; `None` for framework errors that carry only `message` (e.g. 429).
    pub code: Option<i64>,
    pub message: String,
    /// Set on validation failures (HTTP 412, code 2002).
    pub invalid_fields: Option<Vec<String>>,
}

impl SimError {
    pub(crate) fn new(status: u16, code: i64, message: impl Into<String>) -> Self {
        SimError {
            status,
            code: Some(code),
            message: message.into(),
            invalid_fields: None,
        }
    }

    /// A framework error: only `message` in the body.
    pub(crate) fn plain(status: u16, message: impl Into<String>) -> Self {
        SimError {
            status,
            code: None,
            message: message.into(),
            invalid_fields: None,
        }
    }

    /// HTTP 412 code 2002 with `invalid_fields`.
    pub(crate) fn invalid_fields(fields: &[&str]) -> Self {
        SimError {
            status: 412,
            code: Some(2002),
            message: "Invalid Data".to_owned(),
            invalid_fields: Some(fields.iter().map(|f| (*f).to_owned()).collect()),
        }
    }

    pub(crate) fn invalid_model(detail: impl std::fmt::Display) -> Self {
        SimError::new(
            400,
            2004,
            format!("Invalid model provided. Error was: {detail}"),
        )
    }

    pub(crate) fn unauthorized() -> Self {
        SimError::new(
            401,
            11,
            "missing, malformed, expired or otherwise invalid token provided",
        )
    }

    pub(crate) fn forbidden() -> Self {
        SimError::new(403, 0, "Forbidden")
    }

    pub(crate) fn project_missing() -> Self {
        SimError::new(404, 3001, "This project does not exist.")
    }

    pub(crate) fn project_archived() -> Self {
        SimError::new(
            412,
            3008,
            "This project is archived. Editing or creating new tasks is not possible.",
        )
    }

    pub(crate) fn task_missing() -> Self {
        SimError::new(404, 4002, "This task does not exist")
    }

    pub(crate) fn label_missing() -> Self {
        SimError::new(404, 8002, "This label does not exist.")
    }

    pub(crate) fn user_missing() -> Self {
        SimError::new(404, 1005, "The user does not exist.")
    }

    pub(crate) fn bad_filter_field(field: &str) -> Self {
        SimError::new(400, 4016, format!("The task field '{field}' is invalid."))
    }

    pub(crate) fn bad_filter_value(field: &str, value: &str) -> Self {
        SimError::new(
            400,
            4019,
            format!("The task filter value '{value}' for field '{field}' is invalid."),
        )
    }

    pub(crate) fn bad_filter_expr(expr: &str, why: &str) -> Self {
        SimError::new(
            400,
            4024,
            format!("The filter expression '{expr}' is invalid: {why}"),
        )
    }

    /// The JSON body Vikunja sends for this error.
    pub fn body(&self) -> serde_json::Value {
        let mut body = serde_json::Map::new();
        if let Some(code) = self.code {
            body.insert("code".into(), json!(code));
        }
        body.insert("message".into(), json!(self.message));
        if let Some(fields) = &self.invalid_fields {
            body.insert("invalid_fields".into(), json!(fields));
        }
        serde_json::Value::Object(body)
    }
}

impl IntoResponse for SimError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self.body())).into_response()
    }
}
