//! What a failed Vikunja call tells its caller: a [`VikunjaError`] carrying Vikunja's own
//! `{"code":N,"message":"…"}` body, and the [`ErrorKind`] callers branch on.

use reqwest::StatusCode;
use serde_json::Value;

/// What went wrong, in the terms a caller decides on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// 404: the task (code 4002), project (3001) or label (8002) does not exist (any more).
    NotFound,
    /// 401 (code 11): the token is invalid or expired, or not scoped for this route.
    Unauthorized,
    /// 403: the token's user may not do this (e.g. 4005, 8003).
    Forbidden,
    /// Any other 4xx: refused as sent. A validation failure (412, code 2002), an archived
    /// project (3008), a conflict such as a label already on the task (8001);
    /// [`VikunjaError::code`] and [`VikunjaError::message`] say which.
    Rejected,
    /// 429, still after waiting for the rate limit as long as the retry policy allows.
    RateLimited,
    /// 5xx, or no connection: Vikunja (or what stands in front of it) is down or failing.
    Unavailable,
    /// No answer within the client's timeout.
    Timeout,
    /// Vikunja answered success with a body this client cannot read.
    Decode,
    /// The client could not be set up (configuration, token file, TLS).
    Setup,
}

/// A failed API call. `route` is the route template (`/tasks/{id}`), never the token.
#[derive(Debug, thiserror::Error)]
pub enum VikunjaError {
    /// No usable answer: no connection, a timeout, or the answer broke off.
    #[error("{route}: {source}")]
    Transport {
        route: String,
        source: reqwest::Error,
    },
    /// Vikunja answered with an error status and (usually) its body `{code, message}`;
    /// `code` is 0 when the body has none (framework errors such as 429 carry only a message).
    #[error("{route}: HTTP {status}, code {code}: {message}")]
    Api {
        route: String,
        status: u16,
        code: i64,
        message: String,
    },
    #[error("{route}: unexpected response: {reason}")]
    Decode { route: String, reason: String },
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
    #[error(transparent)]
    Config(#[from] vsync_config::ConfigError),
}

impl VikunjaError {
    /// What went wrong, for callers to branch on.
    pub fn kind(&self) -> ErrorKind {
        match self {
            VikunjaError::Transport { source, .. } if source.is_timeout() => ErrorKind::Timeout,
            VikunjaError::Transport { .. } => ErrorKind::Unavailable,
            VikunjaError::Api { status, .. } => kind_of_status(*status),
            VikunjaError::Decode { .. } => ErrorKind::Decode,
            VikunjaError::Client(_) | VikunjaError::Config(_) => ErrorKind::Setup,
        }
    }

    /// HTTP status of an API error.
    pub fn status(&self) -> Option<u16> {
        match self {
            VikunjaError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Vikunja's error code from the body (0 when the body had none).
    pub fn code(&self) -> Option<i64> {
        match self {
            VikunjaError::Api { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Vikunja's error message from the body (the status's reason when the body had none).
    pub fn message(&self) -> Option<&str> {
        match self {
            VikunjaError::Api { message, .. } => Some(message),
            _ => None,
        }
    }

    /// The task (4002), project (3001) or label (8002) does not exist.
    pub fn is_not_found(&self) -> bool {
        self.kind() == ErrorKind::NotFound
    }

    /// Whether the request may have taken effect although it failed: it was sent, and nothing
    /// said it was not applied (a timeout, a connection cut after sending, a 5xx, a success
    /// answer that could not be read). A create that may have taken effect is looked up before
    /// it is sent again. Refused connections, 429 and other 4xx were not applied.
    pub fn may_have_applied(&self) -> bool {
        match self {
            VikunjaError::Transport { source, .. } => !source.is_connect(),
            VikunjaError::Api { status, .. } => *status >= 500,
            VikunjaError::Decode { .. } => true,
            VikunjaError::Client(_) | VikunjaError::Config(_) => false,
        }
    }

    /// Worth trying again later, unchanged: rate limited, unavailable or timed out.
    pub fn is_transient(&self) -> bool {
        matches!(
            self.kind(),
            ErrorKind::RateLimited | ErrorKind::Unavailable | ErrorKind::Timeout
        )
    }
}

fn kind_of_status(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Unauthorized,
        403 => ErrorKind::Forbidden,
        404 => ErrorKind::NotFound,
        408 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited,
        500.. => ErrorKind::Unavailable,
        _ => ErrorKind::Rejected,
    }
}

/// The error for a non-success answer, from Vikunja's error body. The message is cut at 300
/// characters: a proxy's HTML page is not a message.
pub(crate) fn from_answer(route: &str, status: StatusCode, body: &[u8]) -> VikunjaError {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    // v1 says `message`; v2 answers problem+json with `detail`.
    let message = match ["message", "detail"]
        .iter()
        .find_map(|k| v.get(*k).and_then(Value::as_str))
    {
        Some(m) => m.chars().take(300).collect(),
        None => status.canonical_reason().unwrap_or("").to_string(),
    };
    VikunjaError::Api {
        route: route.to_string(),
        status: status.as_u16(),
        code: v.get("code").and_then(Value::as_i64).unwrap_or(0),
        message,
    }
}

/// A success body that is not what the route answers.
pub(crate) fn decode_error(route: &str, reason: impl std::fmt::Display) -> VikunjaError {
    VikunjaError::Decode {
        route: route.to_string(),
        reason: reason.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> VikunjaError {
        let status = StatusCode::from_u16(status).expect("status");
        from_answer("/tasks/{id}", status, body.as_bytes())
    }

    #[test]
    fn vikunjas_error_body_gives_code_message_and_kind() {
        let e = answer(404, r#"{"code":4002,"message":"This task does not exist"}"#);
        assert_eq!(e.kind(), ErrorKind::NotFound);
        assert_eq!(e.code(), Some(4002));
        assert_eq!(e.message(), Some("This task does not exist"));
        assert_eq!(
            e.to_string(),
            "/tasks/{id}: HTTP 404, code 4002: This task does not exist"
        );
        let e = answer(
            412,
            r#"{"code":2002,"message":"Invalid Data","invalid_fields":["title"]}"#,
        );
        assert_eq!((e.kind(), e.code()), (ErrorKind::Rejected, Some(2002)));
        assert_eq!(
            answer(401, r#"{"code":11,"message":"x"}"#).kind(),
            ErrorKind::Unauthorized
        );
        assert_eq!(
            answer(403, r#"{"code":4005,"message":"x"}"#).kind(),
            ErrorKind::Forbidden
        );
        assert_eq!(
            answer(400, r#"{"code":8001,"message":"x"}"#).kind(),
            ErrorKind::Rejected
        );
    }

    #[test]
    fn a_body_that_is_not_vikunjas_still_names_the_status() {
        let e = answer(502, "<html><body>Bad Gateway</body></html>");
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert_eq!((e.code(), e.message()), (Some(0), Some("Bad Gateway")));
        assert!(e.is_transient());
        let e = answer(429, r#"{"message":"Too Many Requests"}"#);
        assert_eq!((e.kind(), e.code()), (ErrorKind::RateLimited, Some(0)));
        let long = format!(r#"{{"code":1,"message":"{}"}}"#, "x".repeat(1000));
        assert_eq!(answer(400, &long).message().map(str::len), Some(300));
    }
}
