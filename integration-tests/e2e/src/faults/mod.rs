//! The fault suite's one checker. A case injects a fault, makes its changes on both sides,
//! says what every side should show in the end ([`Want`]), and waits for it with
//! [`Measure::converge`]: Vikunja and every host agree (converged), no wanted task (or
//! deletion) is missing anywhere (lost), no task is there twice or unasked for (duplicated), no
//! wanted field is missing or different (wiped), and no dead letter is left. The time from the
//! end of the fault to that moment is the case's time to converge.
//!
//! Each measurement is one JSON line appended to the file `$VSYNC_FAULTS_OUT` names (when set;
//! `scripts/faults.sh` sets it and makes `docs/FAULTS.md` of the lines), whether the case
//! passed or not, so the table shows what was measured, never what was hoped for.

mod judge;
mod sides;
mod table;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::time::{Duration, Instant};

use serde_json::json;

pub use judge::Verdict;
pub use sides::Sides;
pub use table::table;

/// What every side should show of one task in the end, by its title (titles are unique within
/// a case).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Want {
    pub title: String,
    /// The Taskwarrior project path (`Home`, `Work.ClientA`; "" for the default project).
    pub project: String,
    /// Gone everywhere: deleted in Vikunja, `deleted` (or absent) on every host.
    pub deleted: bool,
    pub done: bool,
    /// Unix seconds.
    pub due: Option<i64>,
    /// `H`, `M` or `L`.
    pub priority: Option<String>,
    pub tags: BTreeSet<String>,
    pub annotations: Vec<String>,
}

impl Want {
    /// A pending task titled `title` in project `project`, nothing else set.
    pub fn task(project: &str, title: &str) -> Want {
        Want {
            title: title.to_string(),
            project: project.to_string(),
            ..Want::default()
        }
    }

    pub fn deleted(mut self) -> Want {
        self.deleted = true;
        self
    }

    pub fn done(mut self) -> Want {
        self.done = true;
        self
    }

    pub fn due(mut self, unix_secs: i64) -> Want {
        self.due = Some(unix_secs);
        self
    }

    pub fn priority(mut self, p: &str) -> Want {
        self.priority = Some(p.to_string());
        self
    }

    pub fn tag(mut self, t: &str) -> Want {
        self.tags.insert(t.to_string());
        self
    }

    pub fn annotation(mut self, a: &str) -> Want {
        self.annotations.push(a.to_string());
        self
    }
}

/// One case's measurement: started when the case is set up, stopped by
/// [`Measure::converge`].
pub struct Measure {
    /// The family (the file under `tests/it/faults/`), e.g. `reconciler`.
    pub family: &'static str,
    /// The case, e.g. `a lost create answer`.
    pub case: &'static str,
    /// What was injected, in a few words.
    pub injected: String,
    started: Instant,
}

impl Measure {
    pub fn new(family: &'static str, case: &'static str, injected: impl Into<String>) -> Measure {
        Measure {
            family,
            case,
            injected: injected.into(),
            started: Instant::now(),
        }
    }

    /// Waits (up to `within`) until every side shows `wants` with nothing lost, duplicated or
    /// wiped and no dead letter; records the measurement; fails the test if it never did.
    /// Call it when the fault is over: the time to converge is counted from here.
    pub async fn converge(self, sides: &Sides<'_>, wants: &[Want], within: Duration) -> Verdict {
        let fault_over = Instant::now();
        let deadline = fault_over + within;
        let verdict = loop {
            let v = sides.check(wants).await;
            if v.ok() || Instant::now() >= deadline {
                break v;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let converge_ms = fault_over.elapsed().as_millis() as u64;
        self.record(&verdict, converge_ms);
        assert!(
            verdict.ok(),
            "{} / {}: not converged within {within:?}: {:#?}",
            self.family,
            self.case,
            verdict
        );
        verdict
    }

    fn record(&self, v: &Verdict, converge_ms: u64) {
        let Some(path) = std::env::var_os("VSYNC_FAULTS_OUT") else {
            return;
        };
        let line = json!({
            "family": self.family,
            "case": self.case,
            "injected": self.injected,
            "tw": vsync_harness::taskwarrior_version(),
            "passed": v.ok(),
            "converged": v.converged,
            "lost": v.lost,
            "duplicated": v.duplicated,
            "wiped": v.wiped,
            "dead_letters": v.dead_letters,
            "converge_ms": converge_ms,
            "case_ms": self.started.elapsed().as_millis() as u64,
        });
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .expect("open $VSYNC_FAULTS_OUT");
        writeln!(f, "{line}").expect("write the measurement");
    }
}
