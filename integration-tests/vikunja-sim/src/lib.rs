//! # vikunja-sim
//!
//! A stateful, in-process simulator of Vikunja's REST API v1 for the end-to-end tests,
//! benchmarks and `vikunja-sync demo`. It follows `shared/reference/vikunja-api.md`:
//! PUT creates and POST replaces (§3.4), paging caps at `max_items_per_page`, tasks are
//! soft-deleted, a repeating task marked done reopens with shifted dates, and every change
//! fires signed webhooks to the project's webhooks and its ancestors', asynchronously and
//! with the data re-read at delivery time.
//!
//! [`Simulator::start`] binds `127.0.0.1:0`; the API lives under `<base_url>/api/v1` and
//! needs `Authorization: Bearer <token>` (except `/info`). The "user actions"
//! ([`Simulator::create_task`], [`Simulator::update_task`], …) are what a person does in the
//! web UI as user 1 and fire the same webhooks as the API call would. Faults (latency,
//! failures, rate limits, dropped or duplicated deliveries) can be injected at any time.
//!
//! Route templates as logged in [`LoggedRequest::route`]: `/api/v1/info`, `/api/v1/user`,
//! `/api/v1/projects`, `/api/v1/projects/{id}`, `/api/v1/projects/{id}/tasks`,
//! `/api/v1/projects/{id}/webhooks`, `/api/v1/projects/{id}/webhooks/{webhookID}`,
//! `/api/v1/webhooks/events`, `/api/v1/tasks`, `/api/v1/tasks/{id}`,
//! `/api/v1/tasks/{id}/labels`, `/api/v1/tasks/{id}/labels/{labelID}`,
//! `/api/v1/tasks/{id}/labels/bulk`, `/api/v1/tasks/{id}/assignees`,
//! `/api/v1/tasks/{id}/assignees/{userID}`, `/api/v1/labels`, `/api/v1/labels/{id}`;
//! `""` for a path no route matches.

mod delivery;
mod error;
mod filter;
pub mod model;
mod routes;
mod shared;
mod state;

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use serde_json::json;
use tokio::task::JoinHandle;
use tokio_util::sync::{CancellationToken, DropGuard};

pub use delivery::{Delivery, DeliveryOutcome, VERSION, sign as webhook_signature};
pub use error::SimError;
pub use model::{
    Label, Project, ProjectView, Reminder, Task, User, WEBHOOK_EVENTS, Webhook, ZERO_TIME,
};

use delivery::Deliverer;
use shared::{Faults, Shared, lock};
use state::{LabelInput, ProjectInput, State};

/// How the simulator starts.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// The API token user 1 ("demo") authenticates with.
    pub token: String,
    /// `service.maxitemsperpage`: default and cap of `per_page`.
    pub max_items_per_page: usize,
    /// Delay before every API response.
    pub latency: Duration,
    pub rate_limit: Option<RateLimit>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            token: "tk_sim_token".into(),
            max_items_per_page: 50,
            latency: Duration::ZERO,
            rate_limit: None,
        }
    }
}

/// At most `limit` API requests per `period` (a fixed window); beyond that 429.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimit {
    pub limit: u32,
    pub period: Duration,
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
    pub status: u16,
    /// The request body.
    pub body: String,
    pub at: SystemTime,
}

struct Tasks {
    server: Mutex<Option<JoinHandle<()>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    cancel: CancellationToken,
    /// Stops everything once the last handle is dropped.
    _guard: DropGuard,
}

/// A running simulator; clones share it.
#[derive(Clone)]
pub struct Simulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    tasks: Arc<Tasks>,
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
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (deliverer, rx) = Deliverer::new();
        let shared = Arc::new(Shared {
            token: cfg.token,
            max_per_page: cfg.max_items_per_page.max(1),
            state: Mutex::new(State::new()),
            faults: Faults::new(cfg.latency, cfg.rate_limit),
            requests: Mutex::new(Vec::new()),
            deliverer,
        });
        let cancel = CancellationToken::new();
        let app = routes::router(Arc::clone(&shared));
        let stop = cancel.clone();
        let server = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app)
                .with_graceful_shutdown(stop.cancelled_owned())
                .await
            {
                tracing::error!(error = %e, "vikunja-sim server stopped");
            }
        });
        let worker = tokio::spawn(delivery::run(
            Arc::clone(&shared),
            client,
            rx,
            cancel.clone(),
        ));
        let tasks = Tasks {
            server: Mutex::new(Some(server)),
            worker: Mutex::new(Some(worker)),
            _guard: cancel.clone().drop_guard(),
            cancel,
        };
        Ok(Simulator {
            shared,
            addr,
            tasks: Arc::new(tasks),
        })
    }

    /// `http://127.0.0.1:PORT`; the API is under `/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The bearer token the API accepts.
    pub fn token(&self) -> String {
        self.shared.token.clone()
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

    // ---- user actions (user 1 in the web UI) ----

    /// Panics if the parent project does not exist or is archived.
    pub fn create_project(&self, title: &str, parent_project_id: i64) -> Project {
        let input = ProjectInput {
            title: title.into(),
            parent_project_id: Some(parent_project_id),
            ..ProjectInput::default()
        };
        self.shared
            .mutate(|st| st.create_project(input))
            .unwrap_or_else(|e| panic!("create_project({title:?}, {parent_project_id}): {e}"))
    }

    /// Edits the project as the UI does (the whole object is sent back); `None` if it does
    /// not exist or the change is refused.
    pub fn update_project(&self, id: i64, f: impl FnOnce(&mut Project)) -> Option<Project> {
        let mut p = self.project(id)?;
        f(&mut p);
        self.shared
            .mutate(|st| st.update_project(id, ProjectInput::from_project(&p)))
            .ok()
    }

    /// Deletes the project and its children, hard-deleting their tasks; only
    /// `project.deleted` fires, to each deleted project's own webhooks.
    pub fn delete_project(&self, id: i64) -> bool {
        self.shared.mutate(|st| st.delete_project(id)).is_ok()
    }

    /// Panics if the project does not exist or is archived, or the title is empty.
    pub fn create_task(&self, project_id: i64, title: &str) -> Task {
        self.create_task_with(project_id, json!({ "title": title }))
            .unwrap_or_else(|e| panic!("create_task({project_id}, {title:?}): {e}"))
    }

    /// Same semantics as `PUT /projects/{id}/tasks` with `body`.
    pub fn create_task_with(
        &self,
        project_id: i64,
        body: serde_json::Value,
    ) -> Result<Task, SimError> {
        self.shared.mutate(|st| st.create_task(project_id, &body))
    }

    /// A UI edit: the task as stored, changed by `f`, sent back whole through the
    /// `POST /tasks/{id}` logic (bumps `updated`, fires `task.updated`, applies the repeat
    /// logic). Label changes in `f` are ignored, as by the API: use [`Simulator::add_label`].
    pub fn update_task(&self, id: i64, f: impl FnOnce(&mut Task)) -> Option<Task> {
        let mut t = self.task(id)?;
        f(&mut t);
        let body = serde_json::to_value(&t).ok()?;
        self.shared.mutate(|st| st.update_task(id, &body)).ok()
    }

    /// Soft-deletes the task (fires `task.deleted` with the snapshot); false if it does not exist.
    pub fn delete_task(&self, id: i64) -> bool {
        self.shared.mutate(|st| st.delete_task(id)).is_ok()
    }

    /// Creates a label (no webhook event exists for labels). Titles need not be unique.
    pub fn create_label(&self, title: &str) -> Label {
        let input = LabelInput {
            title: title.into(),
            ..LabelInput::default()
        };
        self.shared
            .mutate(|st| st.create_label(input))
            .unwrap_or_else(|e| panic!("create_label({title:?}): {e}"))
    }

    /// Puts a label on a task: bumps `updated`, fires `task.updated` (8001 if already there).
    pub fn add_label(&self, task_id: i64, label_id: i64) -> Result<(), SimError> {
        self.shared.mutate(|st| st.add_label(task_id, label_id))
    }

    /// Takes a label off a task: bumps `updated`, fires `task.updated`.
    pub fn remove_label(&self, task_id: i64, label_id: i64) -> Result<(), SimError> {
        self.shared.mutate(|st| st.remove_label(task_id, label_id))
    }

    /// Assigns a user: fires `task.assignee.created` and `task.updated`.
    pub fn add_assignee(&self, task_id: i64, user_id: i64) -> Result<(), SimError> {
        self.shared.mutate(|st| st.add_assignee(task_id, user_id))
    }

    /// Unassigns a user: fires `task.assignee.deleted` and `task.updated`.
    pub fn remove_assignee(&self, task_id: i64, user_id: i64) -> Result<(), SimError> {
        self.shared
            .mutate(|st| st.remove_assignee(task_id, user_id))
    }

    // ---- inspection ----

    /// A live (not deleted) task as `GET /tasks/{id}` shows it.
    pub fn task(&self, id: i64) -> Option<Task> {
        self.shared.read(|st| st.task(id))
    }

    /// Every live task, archived projects included, by id.
    pub fn tasks(&self) -> Vec<Task> {
        self.shared.read(|st| {
            st.tasks
                .values()
                .filter(|t| !t.deleted)
                .map(|t| st.render_task(t))
                .collect()
        })
    }

    /// A project as `GET /projects/{id}` shows it.
    pub fn project(&self, id: i64) -> Option<Project> {
        self.shared
            .read(|st| st.projects.get(&id).map(|p| st.render_project(p)))
    }

    /// Every real project (no pseudo projects), archived included, by id.
    pub fn projects(&self) -> Vec<Project> {
        self.shared
            .read(|st| st.projects.values().map(|p| st.render_project(p)).collect())
    }

    /// Every label, by id.
    pub fn labels(&self) -> Vec<Label> {
        self.shared.read(|st| st.labels.values().cloned().collect())
    }

    /// The project's own webhooks with their stored secrets (the API never shows them).
    pub fn webhooks(&self, project_id: i64) -> Vec<Webhook> {
        self.shared.read(|st| st.project_webhooks(project_id))
    }

    /// Every API request so far, in arrival order.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        lock(&self.shared.requests).clone()
    }

    /// Every API request so far (since the last `clear_requests`), as `METHOD route`.
    pub fn calls(&self) -> Vec<String> {
        lock(&self.shared.requests)
            .iter()
            .map(|r| format!("{} {}", r.method, r.route))
            .collect()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Every delivery attempt so far, in the order they were made.
    pub fn deliveries(&self) -> Vec<Delivery> {
        lock(&self.shared.deliverer.log).clone()
    }

    /// True once no delivery is queued, in flight or waiting for a retry.
    pub async fn wait_deliveries_idle(&self, timeout: Duration) -> bool {
        self.shared.deliverer.wait_idle(timeout).await
    }

    // ---- fault injection ----

    /// Delays every API response by `d` from now on.
    pub fn set_latency(&self, d: Duration) {
        self.shared.faults.set_latency(d);
    }

    /// The next `n` API requests answer `status` with a `{"message":…}` body, before any change.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.shared.faults.fail_next(n, status);
    }

    /// Replaces the limit and starts a new window.
    pub fn set_rate_limit(&self, rl: Option<RateLimit>) {
        self.shared.faults.set_rate_limit(rl);
    }

    /// `false`: changes still happen but no webhook is delivered for them.
    pub fn set_webhook_delivery(&self, on: bool) {
        self.shared.deliverer.enabled.store(on, Ordering::SeqCst);
    }

    /// Each delivery is sent `n` times (Vikunja #1724); default 1.
    pub fn set_duplicate_deliveries(&self, n: usize) {
        self.shared
            .deliverer
            .copies
            .store(n.max(1), Ordering::SeqCst);
    }
}
