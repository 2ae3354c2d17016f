//! Fault controls and server-side settings a test changes while the simulator runs (the
//! table in the crate docs says which to use for what).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use time::OffsetDateTime;

use crate::Simulator;
use crate::error::SimError;
use crate::faults::{
    Deliveries, DeliveryFault, Fault, FaultId, Hook, RateLimit, Release, Requests, When,
};
use crate::routes::scopes;
use crate::shared::lock;

impl Simulator {
    /// Delays every API response by `d` from now on.
    pub fn set_latency(&self, d: Duration) {
        self.shared.faults.set_latency(d);
    }

    /// The next `n` API requests answer `status` with a `{"message":…}` body, before any
    /// change; replaces what the previous call set.
    pub fn fail_next(&self, n: usize, status: u16) {
        self.shared.faults.fail_next(n, status);
    }

    /// Vikunja's own rate limiter (`X-RateLimit-*` headers, 429); replaces the limit and
    /// starts a new window.
    pub fn set_rate_limit(&self, rl: Option<RateLimit>) {
        self.shared.faults.rate.set(rl);
    }

    /// Applies `fault` to the API requests `requests` matches, `when` it says.
    pub fn inject(&self, requests: Requests, fault: Fault, when: When) -> FaultId {
        self.shared.faults.inject(requests, fault, when)
    }

    /// Runs `f` after each matching request was handled and before it is answered, e.g. a
    /// task deleted between page 1 and page 2 of a listing:
    /// `after_request(Requests::to("GET /api/v1/projects/{id}/tasks").with_param("page", "1"), When::Next(1), move |sim| { sim.delete_task(id); })`.
    pub fn after_request(
        &self,
        requests: Requests,
        when: When,
        f: impl Fn(&Simulator) + Send + Sync + 'static,
    ) -> FaultId {
        self.inject(requests, Fault::Hook(Hook(Arc::new(f))), when)
    }

    /// Applies `fault` to the webhook deliveries `deliveries` matches, `when` it says.
    pub fn inject_delivery(
        &self,
        deliveries: Deliveries,
        fault: DeliveryFault,
        when: When,
    ) -> FaultId {
        self.shared.faults.inject_delivery(deliveries, fault, when)
    }

    /// Removes an injected fault; false if it was not there.
    pub fn remove_fault(&self, id: FaultId) -> bool {
        self.shared.faults.remove(id)
    }

    /// Removes every injected fault (not the latency, rate limit or delivery switches).
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// How many requests or deliveries the fault has applied to so far.
    pub fn fault_hits(&self, id: FaultId) -> usize {
        self.shared.faults.hits(id)
    }

    /// Connections are refused from now on and open ones are cut (the webhook worker keeps
    /// going; hold the deliveries too to model a stopped server). Returns once the port is closed.
    pub async fn go_offline(&self) {
        self.tasks.availability.go_offline().await;
    }

    /// Listens on the same port again.
    pub async fn go_online(&self) -> std::io::Result<()> {
        self.tasks.availability.go_online().await
    }

    /// Offline now and back after `d`, on its own.
    pub async fn go_offline_for(&self, d: Duration) {
        self.go_offline().await;
        let avail = Arc::clone(&self.tasks.availability);
        let cancel = self.tasks.cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = tokio::time::sleep(d) => {
                    if let Err(e) = avail.go_online().await {
                        tracing::error!(error = %e, "vikunja-sim could not come back online");
                    }
                }
            }
        });
    }

    pub fn is_online(&self) -> bool {
        self.tasks.availability.is_online()
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

    /// From now on deliveries are built as usual (data read now) but held back until
    /// [`Simulator::release_deliveries`].
    pub fn hold_deliveries(&self) {
        self.shared.deliverer.hold();
    }

    /// How many deliveries are held back.
    pub fn held_deliveries(&self) -> usize {
        self.shared.deliverer.held_count()
    }

    /// Sends the held deliveries, one after the other in `order`, and stops holding.
    pub fn release_deliveries(&self, order: Release) {
        crate::delivery::release(&self.shared, order);
    }

    /// Rotates the configured API token (as a user regenerating it): the old value answers
    /// 401 from now on; returns the new one (also [`crate::Simulator::token`]).
    pub fn rotate_token(&self) -> String {
        lock(&self.shared.tokens).rotate_default()
    }

    /// A new API token of user 1 holding these route groups and verbs (reference §8), e.g.
    /// `&[("tasks", &["read_all", "update"]), ("caldav", &["access"])]`; `GET /routes` lists
    /// what exists. An unknown group or verb is refused with 400 code 14002, as by Vikunja.
    pub fn create_token(
        &self,
        permissions: &[(&str, &[&str])],
        expires_at: Option<OffsetDateTime>,
    ) -> Result<String, SimError> {
        let table = scopes::table(&self.shared.server);
        let mut granted: BTreeMap<String, _> = BTreeMap::new();
        for (group, verbs) in permissions {
            let known = table.get(*group);
            for verb in *verbs {
                if !known.is_some_and(|k| k.contains_key(*verb)) {
                    return Err(SimError::new(
                        400,
                        14002,
                        format!("The permission {verb} of group {group} is invalid."),
                    ));
                }
            }
            granted
                .entry((*group).to_owned())
                .or_insert_with(std::collections::BTreeSet::new)
                .extend(verbs.iter().map(|v| (*v).to_owned()));
        }
        Ok(lock(&self.shared.tokens).add(granted, expires_at))
    }
}
