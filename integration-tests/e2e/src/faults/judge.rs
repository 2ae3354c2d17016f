//! Judging what each side shows against what a case wants.

use std::collections::{BTreeMap, BTreeSet};

use super::Want;

/// A task as one side shows it, in the terms both sides share.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Seen {
    pub title: String,
    pub project: String,
    pub done: bool,
    pub due: Option<i64>,
    pub priority: Option<String>,
    pub tags: BTreeSet<String>,
    pub annotations: Vec<String>,
    /// The Vikunja task it is (on a host: its `vikunja_id`): sides agree only once linked.
    pub vikunja_id: Option<i64>,
}

/// What the checker found at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// Every side shows the same tasks.
    pub converged: bool,
    /// Wanted tasks missing on some side, and wanted deletions still live somewhere.
    pub lost: usize,
    /// Extra copies of a task, and tasks nobody asked for, on the side that has most of them.
    pub duplicated: usize,
    /// Wanted fields (of tasks present once) missing or different on some side.
    pub wiped: usize,
    /// Messages in the dead-letter stream.
    pub dead_letters: u64,
    /// What is wrong, for the failure message.
    pub problems: Vec<String>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.converged
            && self.lost == 0
            && self.duplicated == 0
            && self.wiped == 0
            && self.dead_letters == 0
    }
}

/// Compares what each side shows with what is wanted.
pub(super) fn judge(sides: &[(String, Vec<Seen>)], wants: &[Want], dead_letters: u64) -> Verdict {
    let mut v = Verdict {
        dead_letters,
        ..Verdict::default()
    };
    let wanted: BTreeSet<&str> = wants.iter().map(|w| w.title.as_str()).collect();
    for w in wants {
        let mut lost_here = false;
        let mut wiped_fields = BTreeSet::new();
        for (side, seen) in sides {
            let copies: Vec<&Seen> = seen.iter().filter(|s| s.title == w.title).collect();
            if w.deleted {
                if !copies.is_empty() {
                    lost_here = true;
                    v.problems
                        .push(format!("{side}: {:?} is still there", w.title));
                }
                continue;
            }
            match copies.as_slice() {
                [] => {
                    lost_here = true;
                    v.problems.push(format!("{side}: {:?} is missing", w.title));
                }
                [one] => {
                    for field in wiped(w, one) {
                        v.problems
                            .push(format!("{side}: {:?} has a wrong {field}", w.title));
                        wiped_fields.insert(field);
                    }
                }
                _ => {}
            }
        }
        v.lost += usize::from(lost_here);
        v.wiped += wiped_fields.len();
    }
    // Extra copies and unasked-for tasks, counted on the side that shows most of them.
    let mut extra = 0;
    for (side, seen) in sides {
        let mut by_title: BTreeMap<&str, usize> = BTreeMap::new();
        for s in seen {
            *by_title.entry(s.title.as_str()).or_default() += 1;
        }
        let mut here = 0;
        for (title, n) in by_title {
            let unasked = !wanted.contains(title);
            let copies = if unasked { n } else { n - 1 };
            if copies > 0 {
                v.problems.push(format!(
                    "{side}: {title:?} {}",
                    if unasked {
                        format!("is there {n} time(s) unasked")
                    } else {
                        format!("is there {n} times")
                    }
                ));
            }
            here += copies;
        }
        extra = extra.max(here);
    }
    v.duplicated = extra;
    let mut shown = sides.iter().map(|(_, seen)| {
        let mut seen = seen.clone();
        seen.sort();
        seen
    });
    let first = shown.next().unwrap_or_default();
    v.converged = shown.all(|s| s == first);
    if !v.converged {
        v.problems.push("the sides do not agree".into());
    }
    if dead_letters > 0 {
        v.problems.push(format!("{dead_letters} dead letter(s)"));
    }
    v
}

/// The wanted fields `seen` does not show.
fn wiped(w: &Want, seen: &Seen) -> Vec<&'static str> {
    let mut out = Vec::new();
    let checks = [
        ("project", w.project == seen.project),
        ("status", w.done == seen.done),
        ("due", w.due == seen.due),
        ("priority", w.priority == seen.priority),
        ("tags", w.tags == seen.tags),
        ("annotations", w.annotations == seen.annotations),
    ];
    for (field, same) in checks {
        if !same {
            out.push(field);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(title: &str) -> Seen {
        Seen {
            title: title.into(),
            project: "Home".into(),
            done: false,
            due: None,
            priority: None,
            tags: BTreeSet::new(),
            annotations: Vec::new(),
            vikunja_id: Some(1),
        }
    }

    fn sides(v: Vec<Seen>, a: Vec<Seen>, b: Vec<Seen>) -> Vec<(String, Vec<Seen>)> {
        vec![
            ("vikunja".into(), v),
            ("host a".into(), a),
            ("host b".into(), b),
        ]
    }

    #[test]
    fn every_side_showing_what_is_wanted_passes() {
        let all = vec![seen("x"), seen("y")];
        let v = judge(
            &sides(all.clone(), all.clone(), all),
            &[Want::task("Home", "x"), Want::task("Home", "y")],
            0,
        );
        assert!(v.ok(), "{v:?}");
    }

    #[test]
    fn lost_duplicated_wiped_and_dead_letters_are_counted() {
        let mut wiped_due = seen("y");
        wiped_due.due = None;
        let v = judge(
            &sides(
                vec![seen("x"), seen("x"), seen("y")],
                vec![seen("y")],
                vec![wiped_due, seen("stray")],
            ),
            &[Want::task("Home", "x"), Want::task("Home", "y").due(100)],
            2,
        );
        assert!(!v.converged);
        assert_eq!(
            (v.lost, v.duplicated, v.wiped, v.dead_letters),
            (1, 1, 1, 2)
        );
        assert!(!v.ok());
    }

    #[test]
    fn a_wanted_deletion_still_live_somewhere_is_lost() {
        let v = judge(
            &sides(vec![], vec![seen("gone")], vec![]),
            &[Want::task("Home", "gone").deleted()],
            0,
        );
        assert_eq!(v.lost, 1);
        assert!(!v.converged);
    }
}
