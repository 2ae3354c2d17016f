//! What a test can inject: a [`Fault`] on the API requests a [`Requests`] matches, or a
//! [`DeliveryFault`] on the webhook deliveries a [`Deliveries`] matches, [`When`] it says.

mod rate;
mod rules;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use rate::RateLimit;
pub(crate) use rate::RateLimiter;
pub(crate) use rules::{Faults, RequestInfo};

use crate::Simulator;

/// Which API requests a fault applies to: every request, or those matching each part set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requests {
    method: Option<String>,
    route: Option<String>,
    project: Option<i64>,
    params: Vec<String>,
}

impl Requests {
    /// Every API request (`/info` and CalDAV included).
    pub fn all() -> Requests {
        Requests::default()
    }

    /// `"PUT /api/v1/projects/{id}/tasks"`: a method and a route template, written as
    /// [`crate::Simulator::calls`] shows them; a bare template matches every method.
    pub fn to(call: &str) -> Requests {
        let call = call.trim();
        let (method, route) = match call.split_once(' ') {
            Some((m, r)) => (Some(m.to_ascii_uppercase()), r.trim()),
            None => (None, call),
        };
        Requests {
            method,
            route: Some(route.to_owned()),
            ..Requests::default()
        }
    }

    /// Only requests about project `id`: a `/projects/{id}/…` or `/dav/projects/{id}/…` path
    /// with this id, or a `/tasks/{id}/…` path of a task in it (deleted tasks included).
    pub fn in_project(mut self, id: i64) -> Requests {
        self.project = Some(id);
        self
    }

    /// Only requests whose query has `name=value` (compared with the raw, still
    /// percent-encoded query), e.g. `.with_param("page", "2")`.
    pub fn with_param(mut self, name: &str, value: &str) -> Requests {
        self.params.push(format!("{name}={value}"));
        self
    }

    pub(crate) fn needs_project(&self) -> bool {
        self.project.is_some()
    }

    pub(crate) fn matches(&self, r: &RequestInfo<'_>) -> bool {
        self.method
            .as_deref()
            .is_none_or(|m| m.eq_ignore_ascii_case(r.method))
            && self.route.as_deref().is_none_or(|t| t == r.route)
            && self.project.is_none_or(|p| r.project == Some(p))
            && self
                .params
                .iter()
                .all(|p| r.query.split('&').any(|q| q == p))
    }
}

/// Runs between handling a request and answering it; see [`crate::Simulator::after_request`].
#[derive(Clone)]
pub struct Hook(pub(crate) Arc<dyn Fn(&Simulator) + Send + Sync>);

impl fmt::Debug for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Hook")
    }
}

impl PartialEq for Hook {
    fn eq(&self, other: &Hook) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// What an API fault does to a request it applies to.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Waits this long before the request is handled (adds to [`crate::SimConfig::latency`]).
    Latency(Duration),
    /// Answers `status` with a `{"message":…}` body before anything changes; with
    /// `retry_after`, also a `Retry-After: <seconds>` header (Vikunja's own limiter sends
    /// only `X-RateLimit-*`; a proxy in front of it may add `Retry-After`).
    Status {
        status: u16,
        retry_after: Option<Duration>,
    },
    /// Handles the request (its change is committed and its webhooks fire), then closes the
    /// connection without an answer: the client sees the connection drop.
    LoseResponse,
    /// Handles the request, then holds the answer back this long: a client with a shorter
    /// timeout gives up although the change was made.
    AnswerLate(Duration),
    /// Leaves this header out of the answer, e.g. `x-pagination-total-pages`.
    OmitHeader(String),
    /// Runs after the request was handled, before its answer is sent.
    Hook(Hook),
}

impl Fault {
    /// [`Fault::Status`] without `Retry-After`.
    pub fn status(status: u16) -> Fault {
        Fault::Status {
            status,
            retry_after: None,
        }
    }

    /// 429 `{"message":"Too Many Requests"}` with `Retry-After`.
    pub fn too_many_requests(retry_after: Duration) -> Fault {
        Fault::Status {
            status: 429,
            retry_after: Some(retry_after),
        }
    }

    pub fn omit_header(name: &str) -> Fault {
        Fault::OmitHeader(name.to_ascii_lowercase())
    }
}

/// Which webhook deliveries a [`DeliveryFault`] applies to: all, or those matching each part set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Deliveries {
    event: Option<String>,
    webhook: Option<i64>,
}

impl Deliveries {
    pub fn all() -> Deliveries {
        Deliveries::default()
    }

    /// Deliveries of this event, e.g. `"task.updated"`.
    pub fn of(event: &str) -> Deliveries {
        Deliveries {
            event: Some(event.to_owned()),
            webhook: None,
        }
    }

    /// Only deliveries to this webhook.
    pub fn to_webhook(mut self, id: i64) -> Deliveries {
        self.webhook = Some(id);
        self
    }

    pub(crate) fn matches(&self, event: &str, webhook: i64) -> bool {
        self.event.as_deref().is_none_or(|e| e == event)
            && self.webhook.is_none_or(|w| w == webhook)
    }
}

/// What a delivery fault does to one delivery (one event to one webhook).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryFault {
    /// Never sent (as when Vikunja restarts with the delivery queued).
    Drop,
    /// Sent this many times, identical bodies (Vikunja #1724).
    Duplicate(usize),
    /// Sent this much later, on its own, so later deliveries overtake it.
    Delay(Duration),
    /// Every attempt fails as if the target could not be reached (nothing is sent), so after
    /// the 5 retries the delivery is dropped, as Vikunja does.
    Unreachable,
}

/// When a fault applies to a request (or delivery) it matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Every one, until the fault is removed.
    Always,
    /// The next `n`.
    Next(usize),
    /// Only the `n`th from now (1 = the next one).
    Nth(usize),
    /// Every one for this long from now (e.g. an outage of three minutes).
    For(Duration),
}

/// Names an injected fault, to remove it or ask how often it applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FaultId(pub(crate) u64);

/// Which way [`crate::Simulator::release_deliveries`] sends the held deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    /// In the order they were held.
    InOrder,
    /// Newest first.
    Reversed,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info<'a>(
        method: &'a str,
        route: &'a str,
        query: &'a str,
        project: Option<i64>,
    ) -> RequestInfo<'a> {
        RequestInfo {
            method,
            route,
            query,
            project,
        }
    }

    #[test]
    fn requests_match_method_route_project_and_params() {
        let list = "/api/v1/projects/{id}/tasks";
        let r = Requests::to("get /api/v1/projects/{id}/tasks")
            .in_project(7)
            .with_param("page", "2");
        assert!(r.matches(&info("GET", list, "per_page=50&page=2", Some(7))));
        assert!(!r.matches(&info("GET", list, "page=20", Some(7))));
        assert!(!r.matches(&info("GET", list, "page=2", Some(8))));
        assert!(!r.matches(&info("PUT", list, "page=2", Some(7))));
        assert!(Requests::to(list).matches(&info("PUT", list, "", None)));
        assert!(Requests::all().matches(&info("GET", "", "", None)));
    }
}
