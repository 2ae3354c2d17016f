//! The injected rules and how a request or delivery picks up the ones that apply to it:
//! checked in the order they were added, each counting what it matched.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::{
    Deliveries, DeliveryFault, Fault, FaultId, Hook, RateLimit, RateLimiter, Requests, When,
};
use crate::shared::lock;

/// What a request is, as far as matching goes.
pub(crate) struct RequestInfo<'a> {
    pub method: &'a str,
    /// The route template (`""` when no route matched).
    pub route: &'a str,
    pub query: &'a str,
    pub project: Option<i64>,
}

struct Schedule {
    when: When,
    seen: usize,
    fired: usize,
    since: Instant,
}

impl Schedule {
    fn new(when: When) -> Schedule {
        Schedule {
            when,
            seen: 0,
            fired: 0,
            since: Instant::now(),
        }
    }

    /// Counts one match; true when the fault applies to it.
    fn fire(&mut self) -> bool {
        if self.spent() {
            return false;
        }
        self.seen += 1;
        let fire = match self.when {
            When::Always | When::Next(_) => true,
            When::Nth(n) => self.seen == n,
            When::For(d) => self.since.elapsed() < d,
        };
        if fire {
            self.fired += 1;
        }
        fire
    }

    fn spent(&self) -> bool {
        match self.when {
            When::Always => false,
            When::Next(n) => self.fired >= n,
            When::Nth(n) => self.seen >= n,
            When::For(d) => self.since.elapsed() >= d,
        }
    }
}

struct RequestRule {
    id: u64,
    requests: Requests,
    fault: Fault,
    schedule: Schedule,
}

struct DeliveryRule {
    id: u64,
    deliveries: Deliveries,
    fault: DeliveryFault,
    schedule: Schedule,
}

#[derive(Default)]
struct Table {
    requests: Vec<RequestRule>,
    deliveries: Vec<DeliveryRule>,
    next_id: u64,
    /// The rule [`crate::Simulator::fail_next`] set, replaced by its next call.
    fail_next: Option<u64>,
}

impl Table {
    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// What applies before a request is handled.
pub(crate) struct Before {
    pub latency: Duration,
    /// A [`Fault::Status`] to answer instead of handling the request.
    pub answer: Option<Fault>,
    pub applied: Vec<Fault>,
}

/// What applies to the answer of a handled request.
#[derive(Default)]
pub(crate) struct After {
    pub lose: bool,
    pub late: Duration,
    pub omit: Vec<String>,
    pub hooks: Vec<Hook>,
    pub applied: Vec<Fault>,
}

/// What happens to one delivery.
pub(crate) struct DeliveryPlan {
    pub drop: bool,
    pub copies: usize,
    pub delay: Duration,
    pub unreachable: bool,
}

/// Every injected fault: the global latency, the rate limit and the rules.
pub(crate) struct Faults {
    latency: Mutex<Duration>,
    pub rate: RateLimiter,
    table: Mutex<Table>,
}

fn before_handling(f: &Fault) -> bool {
    matches!(f, Fault::Latency(_) | Fault::Status { .. })
}

impl Faults {
    pub fn new(latency: Duration, rate: Option<RateLimit>) -> Faults {
        Faults {
            latency: Mutex::new(latency),
            rate: RateLimiter::new(rate),
            table: Mutex::new(Table::default()),
        }
    }

    pub fn latency(&self) -> Duration {
        *lock(&self.latency)
    }

    pub fn set_latency(&self, d: Duration) {
        *lock(&self.latency) = d;
    }

    pub fn inject(&self, requests: Requests, fault: Fault, when: When) -> FaultId {
        let mut t = lock(&self.table);
        let id = t.id();
        t.requests.push(RequestRule {
            id,
            requests,
            fault,
            schedule: Schedule::new(when),
        });
        FaultId(id)
    }

    pub fn inject_delivery(
        &self,
        deliveries: Deliveries,
        fault: DeliveryFault,
        when: When,
    ) -> FaultId {
        let mut t = lock(&self.table);
        let id = t.id();
        t.deliveries.push(DeliveryRule {
            id,
            deliveries,
            fault,
            schedule: Schedule::new(when),
        });
        FaultId(id)
    }

    /// The next `n` requests answer `status`; replaces what the previous call set.
    pub fn fail_next(&self, n: usize, status: u16) {
        let old = lock(&self.table).fail_next.take();
        if let Some(old) = old {
            self.remove(FaultId(old));
        }
        let id = self.inject(Requests::all(), Fault::status(status), When::Next(n));
        lock(&self.table).fail_next = Some(id.0);
    }

    pub fn remove(&self, id: FaultId) -> bool {
        let mut t = lock(&self.table);
        let before = t.requests.len() + t.deliveries.len();
        t.requests.retain(|r| r.id != id.0);
        t.deliveries.retain(|r| r.id != id.0);
        before != t.requests.len() + t.deliveries.len()
    }

    pub fn clear(&self) {
        let mut t = lock(&self.table);
        t.requests.clear();
        t.deliveries.clear();
        t.fail_next = None;
    }

    /// How many requests or deliveries the fault has applied to so far.
    pub fn hits(&self, id: FaultId) -> usize {
        let t = lock(&self.table);
        t.requests
            .iter()
            .find(|r| r.id == id.0)
            .map(|r| r.schedule.fired)
            .or_else(|| {
                t.deliveries
                    .iter()
                    .find(|r| r.id == id.0)
                    .map(|r| r.schedule.fired)
            })
            .unwrap_or(0)
    }

    /// Whether any rule still to come asks for a request's project.
    pub fn needs_project(&self) -> bool {
        lock(&self.table)
            .requests
            .iter()
            .any(|r| r.requests.needs_project() && !r.schedule.spent())
    }

    /// Latency rules all add up; the first status rule that fires answers the request.
    pub fn before(&self, req: &RequestInfo<'_>) -> Before {
        let mut out = Before {
            latency: self.latency(),
            answer: None,
            applied: Vec::new(),
        };
        let mut t = lock(&self.table);
        for rule in t.requests.iter_mut() {
            if !before_handling(&rule.fault) || !rule.requests.matches(req) {
                continue;
            }
            if let Fault::Latency(d) = rule.fault
                && rule.schedule.fire()
            {
                out.latency += d;
                out.applied.push(rule.fault.clone());
            }
        }
        for rule in t.requests.iter_mut() {
            if matches!(rule.fault, Fault::Status { .. })
                && rule.requests.matches(req)
                && rule.schedule.fire()
            {
                out.applied.push(rule.fault.clone());
                out.answer = Some(rule.fault.clone());
                break;
            }
        }
        out
    }

    /// The faults on the answer of a request that was handled.
    pub fn after(&self, req: &RequestInfo<'_>) -> After {
        let mut out = After::default();
        let mut t = lock(&self.table);
        for rule in t.requests.iter_mut() {
            if before_handling(&rule.fault) || !rule.requests.matches(req) || !rule.schedule.fire()
            {
                continue;
            }
            match &rule.fault {
                Fault::LoseResponse => out.lose = true,
                Fault::AnswerLate(d) => out.late += *d,
                Fault::OmitHeader(h) => out.omit.push(h.clone()),
                Fault::Hook(h) => out.hooks.push(h.clone()),
                Fault::Latency(_) | Fault::Status { .. } => {}
            }
            out.applied.push(rule.fault.clone());
        }
        out
    }

    /// Every delivery rule that matches and fires shapes the delivery.
    pub fn delivery(&self, event: &str, webhook: i64) -> DeliveryPlan {
        let mut plan = DeliveryPlan {
            drop: false,
            copies: 1,
            delay: Duration::ZERO,
            unreachable: false,
        };
        let mut t = lock(&self.table);
        for rule in t.deliveries.iter_mut() {
            if !rule.deliveries.matches(event, webhook) || !rule.schedule.fire() {
                continue;
            }
            match rule.fault {
                DeliveryFault::Drop => plan.drop = true,
                DeliveryFault::Duplicate(n) => plan.copies = plan.copies.saturating_mul(n.max(1)),
                DeliveryFault::Delay(d) => plan.delay += d,
                DeliveryFault::Unreachable => plan.unreachable = true,
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIST: &str = "/api/v1/tasks";

    fn get() -> RequestInfo<'static> {
        RequestInfo {
            method: "GET",
            route: LIST,
            query: "",
            project: None,
        }
    }

    #[test]
    fn nth_fires_once_on_the_nth_match_and_next_on_the_first_n() {
        let f = Faults::new(Duration::ZERO, None);
        let nth = f.inject(Requests::to(LIST), Fault::status(500), When::Nth(3));
        let answers: Vec<bool> = (0..5).map(|_| f.before(&get()).answer.is_some()).collect();
        assert_eq!(answers, [false, false, true, false, false]);
        assert_eq!(f.hits(nth), 1);

        let next = f.inject(Requests::all(), Fault::LoseResponse, When::Next(2));
        let lost: Vec<bool> = (0..3).map(|_| f.after(&get()).lose).collect();
        assert_eq!(lost, [true, true, false]);
        assert_eq!(f.hits(next), 2);
        assert!(f.remove(next) && !f.remove(next));
    }

    #[test]
    fn latencies_add_up_and_the_first_status_answers() {
        let f = Faults::new(Duration::from_millis(5), None);
        f.inject(
            Requests::all(),
            Fault::Latency(Duration::from_millis(10)),
            When::Always,
        );
        f.inject(
            Requests::to(LIST),
            Fault::too_many_requests(Duration::from_secs(2)),
            When::Always,
        );
        f.inject(Requests::all(), Fault::status(503), When::Always);
        let b = f.before(&get());
        assert_eq!(b.latency, Duration::from_millis(15));
        assert_eq!(
            b.answer,
            Some(Fault::too_many_requests(Duration::from_secs(2)))
        );
    }

    #[test]
    fn fail_next_replaces_its_previous_count() {
        let f = Faults::new(Duration::ZERO, None);
        f.fail_next(5, 500);
        f.fail_next(1, 502);
        assert_eq!(f.before(&get()).answer, Some(Fault::status(502)));
        assert!(f.before(&get()).answer.is_none());
    }
}
