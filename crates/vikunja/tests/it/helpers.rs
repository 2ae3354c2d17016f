//! A simulator with a client pointed at it, and the simulator's request log in short form.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use vikunja_sim::{SimConfig, Simulator};
use vsync_model::VikunjaTask;
use vsync_vikunja::{Retry, VikunjaClient};

pub struct Fixture {
    pub sim: Simulator,
    pub api: VikunjaClient,
}

/// Retries that would be over in milliseconds if the client only backed off.
pub fn quick_retry(attempts: u32) -> Retry {
    Retry {
        attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(5),
        ..Retry::default()
    }
}

/// [`quick_retry`] that never sends a create twice after a timeout or 5xx.
pub fn creates_not_repeated(attempts: u32) -> Retry {
    Retry {
        retry_creates: false,
        ..quick_retry(attempts)
    }
}

pub async fn start(cfg: SimConfig, retry: Retry) -> Fixture {
    start_with_timeout(cfg, retry, Duration::from_secs(10)).await
}

pub async fn start_with_timeout(cfg: SimConfig, retry: Retry, timeout: Duration) -> Fixture {
    let sim = Simulator::start(cfg).await.expect("simulator starts");
    let api = client(&sim, &sim.token(), timeout).with_retry(retry);
    Fixture { sim, api }
}

pub fn client(sim: &Simulator, token: &str, timeout: Duration) -> VikunjaClient {
    let base = format!("{}/api/v1", sim.base_url());
    VikunjaClient::new(&base, SecretString::from(token.to_string()), timeout).expect("client")
}

/// A new task's body for `create_task`.
pub fn new_task(title: &str) -> VikunjaTask {
    VikunjaTask::from_value(json!({ "title": title })).expect("object")
}

/// The statuses the simulator answered on `route` (e.g. `GET /api/v1/tasks/{id}`), in order.
pub fn statuses(sim: &Simulator, call: &str) -> Vec<u16> {
    sim.requests()
        .iter()
        .filter(|r| format!("{} {}", r.method, r.route) == call)
        .map(|r| r.status)
        .collect()
}

/// The `page` of every request on `route`, in order.
pub fn pages(sim: &Simulator, route: &str) -> Vec<u32> {
    sim.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.route == route)
        .map(|r| {
            r.query
                .split('&')
                .find_map(|kv| kv.strip_prefix("page="))
                .and_then(|p| p.parse().ok())
                .unwrap_or_else(|| panic!("no page in {:?}", r.query))
        })
        .collect()
}

/// The `filter` of every request on `route`, in order, decoded (`None`: no filter).
pub fn filters(sim: &Simulator, route: &str) -> Vec<Option<String>> {
    sim.requests()
        .iter()
        .filter(|r| r.method == "GET" && r.route == route)
        .map(|r| {
            r.query
                .split('&')
                .find_map(|kv| kv.strip_prefix("filter="))
                .map(decode)
        })
        .collect()
}

/// A query value, percent-decoded (`+` is a space).
fn decode(v: &str) -> String {
    let bytes = v.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
