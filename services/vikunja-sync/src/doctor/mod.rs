//! `vikunja-sync doctor`: checks everything a new setup gets wrong and says, in plain words,
//! what is wrong and how to fix it. Each check is a [`Finding`]; the command exits 0 only when
//! none is a [`Verdict::Problem`].
//!
//! - Vikunja ([`vikunja`]): reachable, its version and how tasks are written to it, the clock
//!   against ours, the API token holding every permission the sync needs, webhooks enabled and
//!   registered, and a test delivery reaching `webhook_url` ([`delivery`]);
//! - the bus ([`bus`]): reachable with our credentials;
//! - a Taskwarrior host ([`taskwarrior`]): `task`, the taskrc and data in use, the UDA, the hook,
//!   the watcher's socket.

mod bus;
mod delivery;
mod taskwarrior;
mod vikunja;

use std::fmt;
use std::path::Path;

use vsync_config::Config;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    Ok,
    /// Something the sync needs does not hold: `doctor` exits non-zero.
    Problem,
    /// Worth knowing; not a failure (a check that could not run, a part not configured here).
    Note,
}

/// One check's outcome: what was checked, what was found, and the fix for a problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub check: &'static str,
    pub verdict: Verdict,
    pub found: String,
    pub fix: Option<String>,
}

impl Finding {
    pub fn ok(check: &'static str, found: impl Into<String>) -> Finding {
        Finding {
            check,
            verdict: Verdict::Ok,
            found: found.into(),
            fix: None,
        }
    }

    pub fn problem(
        check: &'static str,
        found: impl Into<String>,
        fix: impl Into<String>,
    ) -> Finding {
        Finding {
            check,
            verdict: Verdict::Problem,
            found: found.into(),
            fix: Some(fix.into()),
        }
    }

    pub fn note(check: &'static str, found: impl Into<String>) -> Finding {
        Finding {
            check,
            verdict: Verdict::Note,
            found: found.into(),
            fix: None,
        }
    }
}

/// Every finding, in the order checked.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
}

impl Report {
    /// Nothing is a problem.
    pub fn healthy(&self) -> bool {
        self.problems().next().is_none()
    }

    pub fn problems(&self) -> impl Iterator<Item = &Finding> {
        self.findings
            .iter()
            .filter(|f| f.verdict == Verdict::Problem)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for x in &self.findings {
            let mark = match x.verdict {
                Verdict::Ok => "ok     ",
                Verdict::Problem => "PROBLEM",
                Verdict::Note => "note   ",
            };
            writeln!(f, "{mark} {}: {}", x.check, x.found)?;
            if let Some(fix) = &x.fix {
                writeln!(f, "        fix: {fix}")?;
            }
        }
        let problems = self.problems().count();
        match problems {
            0 => writeln!(f, "\nEverything the sync needs holds."),
            1 => writeln!(f, "\n1 problem."),
            n => writeln!(f, "\n{n} problems."),
        }
    }
}

/// Runs every check the config calls for. `config`: the file given (for the messages).
pub async fn run(config: Option<&Path>) -> Report {
    let mut report = Report::default();
    let cfg = match Config::load(config) {
        Ok(c) => {
            let file = config.map_or("no file; defaults and environment".into(), |p| {
                p.display().to_string()
            });
            report.findings.push(Finding::ok("config", file));
            c
        }
        Err(e) => {
            report.findings.push(Finding::problem(
                "config",
                e.to_string(),
                "correct the config file (`vikunja-sync config check FILE` says what is wrong)",
            ));
            return report;
        }
    };
    let bus = bus::check(&cfg, &mut report.findings).await;
    if cfg.vikunja.url.is_some() {
        vikunja::check(&cfg, bus.as_ref(), &mut report.findings).await;
    } else {
        report.findings.push(Finding::note(
            "Vikunja",
            "no `vikunja.url` in the config: not a server machine, Vikunja not checked",
        ));
    }
    taskwarrior::check(&cfg, &mut report.findings).await;
    report
}
