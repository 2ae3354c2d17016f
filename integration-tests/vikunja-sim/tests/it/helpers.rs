//! A reqwest client bound to a started simulator, a tiny webhook receiver, and waiting
//! on conditions with a deadline.

use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use time::OffsetDateTime;
use vikunja_sim::{SimConfig, Simulator};

pub const WAIT: Duration = Duration::from_secs(10);

pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
}

impl Resp {
    pub fn header(&self, name: &str) -> String {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned()
    }
}

pub struct Api {
    pub sim: Simulator,
    pub http: reqwest::Client,
}

impl Api {
    pub async fn start() -> Api {
        Api::with(SimConfig::default()).await
    }

    pub async fn with(cfg: SimConfig) -> Api {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let sim = Simulator::start(cfg).await.expect("simulator starts");
        let http = reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client");
        Api { sim, http }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{}", self.sim.base_url(), path)
    }

    pub fn v2_url(&self, path: &str) -> String {
        format!("{}/api/v2{}", self.sim.base_url(), path)
    }

    /// A request with `token` instead of the simulator's all-routes token.
    pub async fn send_as(&self, token: &str, req: reqwest::RequestBuilder) -> Resp {
        Resp::read(req.bearer_auth(token).send().await.expect("request sent")).await
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let resp = req
            .bearer_auth(self.sim.token())
            .send()
            .await
            .expect("request sent");
        Resp::read(resp).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Resp {
        self.send(self.http.put(self.url(path)).json(&body)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.http.delete(self.url(path))).await
    }

    /// Registers a webhook on `project` through the API.
    pub async fn hook(&self, project: i64, url: &str, events: &[&str], secret: &str) -> i64 {
        let r = self
            .put(
                &format!("/projects/{project}/webhooks"),
                serde_json::json!({"target_url": url, "events": events, "secret": secret}),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        r.json["id"].as_i64().expect("webhook id")
    }
}

impl Resp {
    pub async fn read(resp: reqwest::Response) -> Resp {
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body");
        let json = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Resp {
            status,
            headers,
            json,
        }
    }
}

#[derive(Clone)]
pub struct Hit {
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Hit {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("webhook body is JSON")
    }

    pub fn event(&self) -> String {
        self.json()["event_name"].as_str().unwrap_or("").to_owned()
    }
}

/// Records every POST and answers with a settable status.
pub struct Receiver {
    pub url: String,
    hits: Arc<Mutex<Vec<Hit>>>,
    status: Arc<AtomicU16>,
    delay_ms: Arc<AtomicU64>,
}

impl Receiver {
    pub async fn start() -> Receiver {
        let hits: Arc<Mutex<Vec<Hit>>> = Arc::default();
        let status = Arc::new(AtomicU16::new(200));
        let delay_ms = Arc::new(AtomicU64::new(0));
        let (h, s, d) = (
            Arc::clone(&hits),
            Arc::clone(&status),
            Arc::clone(&delay_ms),
        );
        let app = axum::Router::new().fallback(move |headers: HeaderMap, body: Bytes| {
            let (h, s, d) = (Arc::clone(&h), Arc::clone(&s), Arc::clone(&d));
            async move {
                h.lock().expect("hits").push(Hit { headers, body });
                tokio::time::sleep(Duration::from_millis(d.load(Ordering::SeqCst))).await;
                StatusCode::from_u16(s.load(Ordering::SeqCst)).unwrap_or(StatusCode::OK)
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind receiver");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            hits,
            status,
            delay_ms,
        }
    }

    pub fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    /// Holds every answer back this long (a slow receiver).
    pub fn delay(&self, d: Duration) {
        self.delay_ms.store(
            u64::try_from(d.as_millis()).unwrap_or(u64::MAX),
            Ordering::SeqCst,
        );
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("hits").clone()
    }

    pub fn events(&self) -> Vec<String> {
        self.hits().iter().map(Hit::event).collect()
    }

    /// Waits until at least `n` deliveries arrived.
    pub async fn wait_for(&self, n: usize) -> Vec<Hit> {
        assert!(
            eventually(|| self.hits().len() >= n).await,
            "expected {n} deliveries, got {:?}",
            self.events()
        );
        self.hits()
    }
}

/// Polls `cond` until it holds or [`WAIT`] passes.
pub async fn eventually(cond: impl Fn() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    loop {
        tick.tick().await;
        if cond() {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
    }
}

/// Waits until the wall clock is in a later second than `t` (timestamps have 1 s resolution).
pub async fn after_second(t: OffsetDateTime) {
    assert!(eventually(|| OffsetDateTime::now_utc().unix_timestamp() > t.unix_timestamp()).await);
}
