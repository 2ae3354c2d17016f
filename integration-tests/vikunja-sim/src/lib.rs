//! # vikunja-sim
//!
//! A stateful, in-process simulator of Vikunja's REST API for the end-to-end tests,
//! benchmarks and the demo (a test fixture, never a dependency of a product crate). It
//! follows `shared/reference/vikunja-api.md`: PUT creates and POST replaces (§3.4), paging
//! caps at `max_items_per_page`, tasks are soft-deleted, a repeating task marked done
//! reopens with shifted dates, and every change fires signed webhooks to the project's
//! webhooks and its ancestors', asynchronously, re-read as the user who made it (§1.3, §8).
//!
//! [`Simulator::start`] binds `127.0.0.1:0`. The API lives under `<base_url>/api/v1`
//! (`/api/v2/tasks/{id}` from 2.4.0) and needs `Authorization: Bearer <token>`, except
//! `/info`; CalDAV (`PROPFIND /dav/projects/{id}/`) takes HTTP Basic. The "user actions"
//! ([`Simulator::create_task`], [`Simulator::update_task`], …) are what a person does in the
//! web UI, as user 1 unless [`Simulator::as_user`] or [`Simulator::via_link_share`] says
//! otherwise, and fire the same webhooks as the API call would.
//!
//! ## Server settings ([`SimConfig`], fixed at start)
//!
//! | Setting | Default | Effect |
//! |---|---|---|
//! | `version` | `v2.5.0-sim` | `/info` `version`, `User-Agent`; `/api/v2` from 2.4.0, API tokens on CalDAV from 2.3.0 |
//! | `webhooks_enabled` | true | false: webhook routes 404, no deliveries, no `projects_webhooks` token group |
//! | `allow_non_routable_ips` | true (Vikunja: false) | false: deliveries to loopback/private targets fail and are dropped |
//! | `max_items_per_page`, `rate_limit`, `latency`, `token` | 50, none, 0, `tk_sim_token` | paging cap, 429 window, delay, the all-routes token |
//!
//! ## Fault controls (any time, from the test)
//!
//! | Fault | How a test sets it |
//! |---|---|
//! | latency, all / per route / per project | [`Simulator::set_latency`]; `inject(Requests::to("GET /api/v1/projects/{id}/tasks").in_project(p), Fault::Latency(d), When::Always)` |
//! | status before any change (5xx on the Nth call, 503 for a while) | `inject(requests, Fault::status(503), When::For(d))`, `When::Nth(n)`, `When::Next(n)`; [`Simulator::fail_next`] |
//! | 429 with `Retry-After` | `inject(requests, Fault::too_many_requests(d), when)`; Vikunja's own limiter: [`Simulator::set_rate_limit`] |
//! | response lost after commit / answered late | `Fault::LoseResponse` (connection dropped), `Fault::AnswerLate(d)` |
//! | connection refused | [`Simulator::go_offline`], [`Simulator::go_online`], [`Simulator::go_offline_for`] |
//! | missing pagination header | `Fault::omit_header("x-pagination-total-pages")` |
//! | a change between two pages | [`Simulator::after_request`] with `Requests::…with_param("page", "1")` |
//! | dropped / duplicated / delayed / unreachable delivery | [`Simulator::inject_delivery`] with [`DeliveryFault`]; [`Simulator::set_webhook_delivery`], [`Simulator::set_duplicate_deliveries`] |
//! | reordered deliveries | [`Simulator::hold_deliveries`], then [`Simulator::release_deliveries`]`(Release::Reversed)` |
//! | scoped API token (401 outside its scope) | [`Simulator::create_token`] |
//! | the configured token rotated (the old one answers 401) | [`Simulator::rotate_token`] |
//!
//! [`Simulator::remove_fault`], [`Simulator::clear_faults`] and [`Simulator::fault_hits`]
//! manage injected faults; every [`LoggedRequest`] lists the faults applied to it.
//!
//! ## Real-server edges (reference §8)
//!
//! | Edge | How a test makes it happen |
//! |---|---|
//! | a deleted cover image keeps its id; full updates answer 400 code 4020 | [`Simulator::add_attachment`], cover set with [`Simulator::update_task`], [`Simulator::delete_attachment`] |
//! | `is_favorite` per user; a webhook carries the doer's | `sim.as_user(2).update_task(…)` ([`Simulator::as_user`]) |
//! | a link share's change arrives with `null` lists | `sim.via_link_share(4).add_label(…)` ([`Simulator::via_link_share`]) |
//! | a comment bumps `updated`, no `task.updated` | [`Simulator::add_comment`] or `PUT /tasks/{id}/comments` |
//! | the CalDAV UID, `"<id>-<updated>"` ETags | [`Simulator::set_caldav_uid`], [`Simulator::caldav_uid`], `PROPFIND /dav/projects/{id}/` |
//! | v2 ETag and merge-patch PATCH, no conflict detection | `version` ≥ 2.4.0 (the default) |
//!
//! Always on: each assignee change is delivered twice (`task.assignee.*` and `task.updated`),
//! there is no `project.created`, a webhook's URL and secret change only by delete and create,
//! `filter=uid …` answers 400 code 4019.
//!
//! Route templates as logged in [`LoggedRequest::route`]: `/api/v1/info`, `/api/v1/user`,
//! `/api/v1/routes`, `/api/v1/projects`, `/api/v1/projects/{id}`, `/api/v1/projects/{id}/tasks`,
//! `/api/v1/projects/{id}/webhooks`, `/api/v1/projects/{id}/webhooks/{webhookID}`,
//! `/api/v1/webhooks/events`, `/api/v1/tasks`, `/api/v1/tasks/{id}`,
//! `/api/v1/tasks/{id}/labels`, `/api/v1/tasks/{id}/labels/{labelID}`,
//! `/api/v1/tasks/{id}/labels/bulk`, `/api/v1/tasks/{id}/assignees`,
//! `/api/v1/tasks/{id}/assignees/{userID}`, `/api/v1/tasks/{id}/comments`,
//! `/api/v1/tasks/{id}/attachments`, `/api/v1/tasks/{id}/attachments/{attachmentID}`,
//! `/api/v1/labels`, `/api/v1/labels/{id}`, `/api/v2/tasks/{id}`, `/dav/projects/{id}`,
//! `/dav/projects/{id}/`; `""` for a path no route matches.

mod actions;
mod base64;
mod controls;
mod delivery;
mod error;
mod faults;
mod filter;
mod inspect;
mod lock;
pub mod model;
mod routes;
mod server;
mod shared;
mod state;
mod tokens;
mod version;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

pub use delivery::{Delivery, DeliveryOutcome, VERSION, sign as webhook_signature};
pub use error::SimError;
pub use faults::{
    Deliveries, DeliveryFault, Fault, FaultId, Hook, RateLimit, Release, Requests, When,
};
pub use model::{
    Attachment, Comment, Label, Project, ProjectView, Reminder, Task, User, WEBHOOK_EVENTS,
    Webhook, ZERO_TIME,
};
pub use state::Actor;

use delivery::queue::Deliverer;
use faults::Faults;
use server::{Availability, Conn, SimListener};
use shared::{Server, Shared, lock};
use state::State;
use tokens::Tokens;
use version::Version;

/// How the simulator starts: the server's configuration.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The API token user 1 ("demo") authenticates with; it may call every route.
    pub token: String,
    /// `service.maxitemsperpage`: default and cap of `per_page`.
    pub max_items_per_page: usize,
    /// Delay before every API response.
    pub latency: Duration,
    pub rate_limit: Option<RateLimit>,
    /// What `/api/v1/info` says; decides which features exist (see the crate docs).
    pub version: String,
    /// `webhooks.enabled`.
    pub webhooks_enabled: bool,
    /// `outgoingrequests.allownonroutableips`; true by default here (Vikunja's default is
    /// false) because the tests' receivers listen on 127.0.0.1.
    pub allow_non_routable_ips: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            token: "tk_sim_token".into(),
            max_items_per_page: 50,
            latency: Duration::ZERO,
            rate_limit: None,
            version: VERSION.into(),
            webhooks_enabled: true,
            allow_non_routable_ips: true,
        }
    }
}

/// One API request as it was answered (refused ones included).
#[derive(Debug, Clone)]
pub struct LoggedRequest {
    pub method: String,
    pub path: String,
    /// The route template, e.g. `/api/v1/tasks/{id}`.
    pub route: String,
    /// The raw query string, still percent-encoded.
    pub query: String,
    /// The status answered (for a lost response: the one the client never got).
    pub status: u16,
    /// The request body.
    pub body: String,
    pub at: SystemTime,
    /// The injected faults applied to this request.
    pub faults: Vec<Fault>,
}

pub(crate) struct Tasks {
    server: Mutex<Option<JoinHandle<()>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    cancel: CancellationToken,
    availability: Arc<Availability>,
    /// Stops everything once the last handle is dropped.
    _guard: DropGuard,
}

/// A running simulator; clones share it. A clone from [`Simulator::as_user`] or
/// [`Simulator::via_link_share`] makes its user actions as someone else.
#[derive(Clone)]
pub struct Simulator {
    pub(crate) shared: Arc<Shared>,
    pub(crate) addr: SocketAddr,
    pub(crate) tasks: Arc<Tasks>,
    pub(crate) actor: Actor,
}

impl Simulator {
    /// Binds 127.0.0.1 on a free port and serves on background tasks.
    pub async fn start(cfg: SimConfig) -> std::io::Result<Simulator> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(std::io::Error::other)?;
        let (listener, availability) = SimListener::bind().await?;
        let addr = listener.addr();
        let cancel = CancellationToken::new();
        let (deliverer, rx) = Deliverer::new(client, cancel.clone());
        let shared = Arc::new(Shared {
            server: Server {
                version: Version::parse(&cfg.version),
                max_per_page: cfg.max_items_per_page.max(1),
                webhooks_enabled: cfg.webhooks_enabled,
                allow_non_routable_ips: cfg.allow_non_routable_ips,
            },
            tokens: Mutex::new(Tokens::new(&cfg.token)),
            state: Mutex::new(State::new()),
            faults: Faults::new(cfg.latency, cfg.rate_limit),
            requests: Mutex::new(Vec::new()),
            deliverer,
            handle: std::sync::OnceLock::new(),
        });
        let app = routes::router(Arc::clone(&shared)).into_make_service_with_connect_info::<Conn>();
        let stop = cancel.clone();
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
            {
                tracing::error!(error = %e, "vikunja-sim server stopped");
            }
        });
        let worker = tokio::spawn(delivery::run(Arc::clone(&shared), rx));
        let tasks = Arc::new(Tasks {
            server: Mutex::new(Some(server)),
            worker: Mutex::new(Some(worker)),
            _guard: cancel.clone().drop_guard(),
            cancel,
            availability,
        });
        let _ = shared.handle.set((addr, Arc::downgrade(&tasks)));
        Ok(Simulator {
            shared,
            addr,
            tasks,
            actor: Actor::User(state::DOER_ID),
        })
    }

    /// `http://127.0.0.1:PORT`; the API is under `/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bearer token the API accepts for every route.
    pub fn token(&self) -> String {
        lock(&self.shared.tokens).default_secret().to_owned()
    }

    /// Stops serving and drops pending deliveries.
    pub async fn shutdown(&self) {
        self.tasks.cancel.cancel();
        let server = lock(&self.tasks.server).take();
        if let Some(mut server) = server
            && tokio::time::timeout(Duration::from_secs(5), &mut server)
                .await
                .is_err()
        {
            server.abort();
        }
        let worker = lock(&self.tasks.worker).take();
        if let Some(worker) = worker {
            let _ = worker.await;
        }
        self.shared.deliverer.reset();
    }
}
