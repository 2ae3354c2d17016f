//! Asking the server whether the token may make a call, without changing anything: the call
//! is sent to its route with every id 0 (which no object has) and a body that cannot be read
//! as the route's object (a JSON string; Vikunja answers 400 "invalid model" before it looks
//! any further, and an empty object could pass: an empty label title is valid). Vikunja checks
//! an API token's permissions before the handler runs, so a route outside the token's scope
//! answers 401 and any other answer (404, 400, 412) means the token may call it.

use serde_json::{Map, Value};

use crate::VikunjaClient;
use crate::calls::Call;
use crate::error::VikunjaError;
use crate::transport::Request;

/// What a probe found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// The server let the request through to the route (which then found nothing).
    Allowed,
    /// 401: the token is not scoped for this route (or not valid at all).
    Refused,
}

impl VikunjaClient {
    /// Probes `call` once (see the module docs). Only unreachable or failing servers are errors.
    pub async fn probe(&self, call: Call) -> Result<Probe, VikunjaError> {
        let empty = Value::Object(Map::new());
        let unreadable = Value::String("vikunja-sync doctor: permission probe".into());
        let path = call.probe_path();
        let answer = match call.method() {
            reqwest::Method::GET | reqwest::Method::DELETE => {
                self.transport.send(Request::to(call, path)).await
            }
            reqwest::Method::PATCH => {
                let req = Request::merge_patch(call, path, &empty);
                self.transport.send(req).await
            }
            _ => {
                let req = Request::with_body(call, path, &unreadable);
                self.transport.send(req).await
            }
        };
        match answer {
            Ok(_) => Ok(Probe::Allowed),
            Err(e) if e.status() == Some(401) => Ok(Probe::Refused),
            Err(e) if e.status().is_some_and(|s| s < 500) => Ok(Probe::Allowed),
            Err(e) => Err(e),
        }
    }
}
