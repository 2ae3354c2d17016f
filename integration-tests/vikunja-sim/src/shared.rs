//! What the HTTP handlers, the delivery worker and the [`crate::Simulator`] handle share:
//! the server's configuration, the database behind one lock, the API tokens, the injected
//! faults and the request log.

use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock, Weak};

use crate::delivery::queue::Deliverer;
use crate::error::SimError;
use crate::faults::Faults;
use crate::state::{Actor, DOER_ID, State};
use crate::tokens::Tokens;
use crate::version::Version;
use crate::{LoggedRequest, Simulator};

pub(crate) use crate::lock::lock;

/// The server's configuration, fixed at start as Vikunja reads its config file once.
pub(crate) struct Server {
    pub version: Version,
    pub max_per_page: usize,
    /// `webhooks.enabled`: without it the webhook routes do not exist and nothing is delivered.
    pub webhooks_enabled: bool,
    /// `outgoingrequests.allownonroutableips`.
    pub allow_non_routable_ips: bool,
}

pub(crate) struct Shared {
    pub server: Server,
    pub tokens: Mutex<Tokens>,
    pub state: Mutex<State>,
    pub faults: Faults,
    pub requests: Mutex<Vec<LoggedRequest>>,
    pub deliverer: Deliverer,
    /// How a hook gets the [`Simulator`] it runs against, without keeping it alive.
    pub handle: OnceLock<(SocketAddr, Weak<crate::Tasks>)>,
}

impl Shared {
    /// Runs a change; its events are queued for delivery only if it succeeds, and while the
    /// lock is held so that deliveries follow the order of the changes.
    pub fn mutate<R>(
        &self,
        f: impl FnOnce(&mut State) -> Result<R, SimError>,
    ) -> Result<R, SimError> {
        self.mutate_as(Actor::User(DOER_ID), f)
    }

    /// As [`Shared::mutate`], the change made by `actor`.
    pub fn mutate_as<R>(
        &self,
        actor: Actor,
        f: impl FnOnce(&mut State) -> Result<R, SimError>,
    ) -> Result<R, SimError> {
        let mut st = lock(&self.state);
        st.outbox.clear();
        st.actor = actor;
        let out = f(&mut st);
        st.actor = Actor::User(DOER_ID);
        let events = std::mem::take(&mut st.outbox);
        if out.is_ok() && self.server.webhooks_enabled {
            for ev in events {
                self.deliverer.enqueue(ev);
            }
        }
        out
    }

    pub fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&lock(&self.state))
    }

    pub fn log_request(&self, r: LoggedRequest) {
        lock(&self.requests).push(r);
    }

    /// The running simulator, for a hook; `None` once it stopped.
    pub fn simulator(self: &std::sync::Arc<Self>) -> Option<Simulator> {
        let (addr, tasks) = self.handle.get()?;
        Some(Simulator {
            shared: std::sync::Arc::clone(self),
            addr: *addr,
            tasks: tasks.upgrade()?,
            actor: Actor::User(DOER_ID),
        })
    }
}
