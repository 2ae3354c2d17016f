//! Webhook delivery (reference §1.3): after commit, from a background worker; the event
//! fans out to the webhooks of its project and all ancestors, the data is re-read then, and
//! each delivery is retried up to 5 times (100 ms, ×2) before it is dropped.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;
use tokio::sync::{Notify, mpsc};
use tokio_util::sync::CancellationToken;

use crate::model::{Webhook, ts};
use crate::shared::{Shared, lock};
use crate::state::Event;

/// Sent as `User-Agent: Vikunja/<version>`.
pub const VERSION: &str = "v2.5.0-sim";
const RETRIES: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(100);

/// One delivery attempt, as [`crate::Simulator::deliveries`] reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub webhook_id: i64,
    pub target_url: String,
    pub event_name: String,
    /// 1 for the first try, up to 6.
    pub attempt: u32,
    pub outcome: DeliveryOutcome,
    /// This attempt failed and was the last: the delivery was dropped.
    pub dropped: bool,
    /// The exact raw body sent (and signed).
    pub body: String,
    pub at: SystemTime,
}

impl Delivery {
    /// HTTP status ≤ 399: Vikunja counts the delivery as done.
    pub fn succeeded(&self) -> bool {
        matches!(self.outcome, DeliveryOutcome::Status(s) if s <= 399)
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Status(u16),
    /// Transport error or timeout.
    Error(String),
}

/// The queue, its switches and the attempt log.
pub(crate) struct Deliverer {
    tx: mpsc::UnboundedSender<Event>,
    /// Events queued plus deliveries in flight (including those waiting for a retry).
    pending: AtomicUsize,
    idle: Notify,
    pub log: Mutex<Vec<Delivery>>,
    pub enabled: AtomicBool,
    pub copies: AtomicUsize,
}

impl Deliverer {
    pub fn new() -> (Deliverer, mpsc::UnboundedReceiver<Event>) {
        let (tx, rx) = mpsc::unbounded_channel();
        let d = Deliverer {
            tx,
            pending: AtomicUsize::new(0),
            idle: Notify::new(),
            log: Mutex::new(Vec::new()),
            enabled: AtomicBool::new(true),
            copies: AtomicUsize::new(1),
        };
        (d, rx)
    }

    pub fn enqueue(&self, ev: Event) {
        if !self.enabled.load(Ordering::SeqCst) {
            return;
        }
        self.pending.fetch_add(1, Ordering::SeqCst);
        if self.tx.send(ev).is_err() {
            self.done();
        }
    }

    fn begin(&self) {
        self.pending.fetch_add(1, Ordering::SeqCst);
    }

    fn done(&self) {
        // Saturating: a shutdown may already have reset the count.
        let before = self
            .pending
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                Some(n.saturating_sub(1))
            });
        if before.unwrap_or(0) <= 1 {
            self.idle.notify_waiters();
        }
    }

    /// After shutdown nothing is pending any more.
    pub fn reset(&self) {
        self.pending.store(0, Ordering::SeqCst);
        self.idle.notify_waiters();
    }

    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let notified = self.idle.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.pending.load(Ordering::SeqCst) == 0 {
                return true;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return self.pending.load(Ordering::SeqCst) == 0;
            }
        }
    }
}

/// One delivery to one webhook: the body is fixed at fan-out and resent as is on retries.
struct Job {
    hook: Webhook,
    event_name: &'static str,
    body: String,
}

#[derive(Serialize)]
struct Payload<'a> {
    event_name: &'a str,
    time: String,
    data: BTreeMap<&'static str, Value>,
}

/// Finds the subscribed webhooks and builds each one's body from the data as it is now.
fn fan_out(shared: &Shared, ev: &Event) -> Vec<Job> {
    shared.read(|st| {
        let mut projects = vec![ev.project_id];
        if !ev.own_only {
            projects.extend(st.ancestors(ev.project_id));
        }
        let hooks: Vec<&Webhook> = st
            .webhooks
            .values()
            .filter(|w| projects.contains(&w.project_id) && w.events.iter().any(|e| e == ev.name))
            .collect();
        if hooks.is_empty() {
            return Vec::new();
        }
        let mut data: BTreeMap<&'static str, Value> = BTreeMap::new();
        data.insert("doer", json(&st.doer()));
        if let Some(a) = &ev.assignee {
            data.insert(
                "assignee",
                json(&st.user(a.id).unwrap_or_else(|| a.clone())),
            );
        }
        if let Some(p) = &ev.project {
            let now = st.projects.get(&p.id).map(|row| st.render_project(row));
            data.insert("project", json(now.as_ref().unwrap_or(p)));
        }
        if let Some(id) = ev.task_id {
            match (st.task(id), &ev.task) {
                (Some(t), _) => data.insert("task", json(&t)),
                (None, Some(snapshot)) => data.insert("task", json(snapshot)),
                (None, None) => None,
            };
        }
        let time = ts::format(time::OffsetDateTime::now_utc());
        hooks
            .into_iter()
            .map(|hook| {
                let mut data = data.clone();
                if !data.contains_key("project")
                    && let Some(row) = st.projects.get(&hook.project_id)
                {
                    data.insert("project", json(&st.render_project(row)));
                }
                let body = serde_json::to_string(&Payload {
                    event_name: ev.name,
                    time: time.clone(),
                    data,
                })
                .unwrap_or_default();
                Job {
                    hook: hook.clone(),
                    event_name: ev.name,
                    body,
                }
            })
            .collect()
    })
}

/// Our model structs always serialise.
fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Lowercase hex HMAC-SHA256 of the raw body, keyed with the secret.
pub fn sign(secret: &str, body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    }
}

fn base64(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One POST; records the attempt. True when the delivery is finished (success, or the
/// webhook is gone, which Vikunja does not retry).
async fn attempt(shared: &Shared, client: &reqwest::Client, job: &Job, n: u32) -> bool {
    if !shared.read(|st| st.webhooks.contains_key(&job.hook.id)) {
        return true;
    }
    let mut req = client
        .post(&job.hook.target_url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header(reqwest::header::USER_AGENT, format!("Vikunja/{VERSION}"))
        .body(job.body.clone());
    if !job.hook.secret.is_empty() {
        req = req.header(
            "X-Vikunja-Signature",
            sign(&job.hook.secret, job.body.as_bytes()),
        );
    }
    if !job.hook.basic_auth_user.is_empty() && !job.hook.basic_auth_password.is_empty() {
        let creds = format!(
            "{}:{}",
            job.hook.basic_auth_user, job.hook.basic_auth_password
        );
        req = req.header(
            reqwest::header::AUTHORIZATION,
            format!("Basic {}", base64(creds.as_bytes())),
        );
    }
    let outcome = match req.send().await {
        Ok(resp) => DeliveryOutcome::Status(resp.status().as_u16()),
        Err(e) => DeliveryOutcome::Error(e.to_string()),
    };
    let ok = matches!(outcome, DeliveryOutcome::Status(s) if s <= 399);
    if !ok {
        tracing::debug!(
            webhook = job.hook.id,
            attempt = n,
            ?outcome,
            "webhook delivery failed"
        );
    }
    lock(&shared.deliverer.log).push(Delivery {
        webhook_id: job.hook.id,
        target_url: job.hook.target_url.clone(),
        event_name: job.event_name.to_owned(),
        attempt: n,
        outcome,
        dropped: !ok && n > RETRIES,
        body: job.body.clone(),
        at: SystemTime::now(),
    });
    ok
}

async fn retry(shared: Arc<Shared>, client: reqwest::Client, job: Arc<Job>) {
    let mut backoff = FIRST_BACKOFF;
    for n in 2..=RETRIES + 1 {
        tokio::time::sleep(backoff).await;
        if attempt(&shared, &client, &job, n).await {
            break;
        }
        backoff *= 2;
    }
    shared.deliverer.done();
}

/// The worker: first attempts in queue order; failed deliveries retry on their own task.
pub(crate) async fn run(
    shared: Arc<Shared>,
    client: reqwest::Client,
    mut rx: mpsc::UnboundedReceiver<Event>,
    cancel: CancellationToken,
) {
    loop {
        let ev = tokio::select! {
            _ = cancel.cancelled() => break,
            ev = rx.recv() => ev,
        };
        let Some(ev) = ev else { break };
        let work = async {
            let copies = shared.deliverer.copies.load(Ordering::SeqCst).max(1);
            for job in fan_out(&shared, &ev) {
                let job = Arc::new(job);
                for _ in 0..copies {
                    shared.deliverer.begin();
                    if attempt(&shared, &client, &job, 1).await {
                        shared.deliverer.done();
                    } else {
                        let retrying = retry(Arc::clone(&shared), client.clone(), Arc::clone(&job));
                        let cancel = cancel.clone();
                        tokio::spawn(async move {
                            tokio::select! {
                                _ = cancel.cancelled() => {}
                                _ = retrying => {}
                            }
                        });
                    }
                }
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => break,
            _ = work => {}
        }
        shared.deliverer.done();
    }
    shared.deliverer.reset();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_rfc4648() {
        assert_eq!(base64(b"user:pass"), "dXNlcjpwYXNz");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn signature_is_lowercase_hex_hmac() {
        // RFC 4231 test case 2.
        assert_eq!(
            sign("Jefe", b"what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
