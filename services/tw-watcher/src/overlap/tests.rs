//! The overlap rules, one by one: which imports a command overlapped, which base a change was
//! computed from, when a re-apply is due, and when the bookkeeping expires.
#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

const A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
const B: &str = "bbbbbbbb-0000-4000-8000-000000000002";
const C: &str = "cccccccc-0000-4000-8000-000000000003";
const D: &str = "dddddddd-0000-4000-8000-000000000004";

fn task(uuid: &str, description: &str, priority: &str) -> TwTask {
    let mut v = json!({"uuid": uuid, "status": "pending", "description": description});
    if !priority.is_empty() {
        v["priority"] = json!(priority);
    }
    TwTask::from_value(v).unwrap()
}

fn uuids(tasks: &[TwTask]) -> Vec<&str> {
    let mut u: Vec<&str> = tasks.iter().map(TwTask::uuid).collect();
    u.sort();
    u
}

/// One import of `tasks` (each with its state before), running from 1_000_000 to 1_100_000 µs,
/// its bookkeeping done at 1_150_000 µs.
fn import(tasks: Vec<(Option<TwTask>, TwTask)>) -> Import {
    Import {
        started_us: 1_000_000,
        returned_us: 1_100_000,
        ended_us: 1_150_000,
        tasks,
    }
}

/// Our import renamed task A ("title" before it, "renamed by us" after), at `at`: the
/// bookkeeping, the task before and the task we imported (what the mirror now holds).
fn renamed_by_us(at: Instant) -> (Overlap, TwTask, TwTask) {
    let mut o = Overlap::default();
    let before = task(A, "title", "");
    let ours = task(A, "renamed by us", "");
    o.imported(import(vec![(Some(before.clone()), ours.clone())]), at);
    (o, before, ours)
}

fn pending(o: &mut Overlap) -> Vec<(String, i64)> {
    let taken = o.take_reapplies();
    let mut out: Vec<(String, i64)> = taken.iter().map(|r| (r.uuid.clone(), r.after_us)).collect();
    for r in taken {
        o.keep(r);
    }
    out.sort();
    out
}

// Which imports a command overlapped.

#[test]
fn a_command_ending_during_an_import_or_within_the_slack_after_it_overlapped_it() {
    let now = Instant::now();
    let ended = 1_150_000;
    for at in [1_000_000, 1_100_000, ended + OVERLAP_SLACK_US] {
        let mut o = Overlap::default();
        o.imported(import(vec![(None, task(A, "ours", ""))]), now);
        let ours = o.overlapped_by(at).map(|w| w.others(|_| false));
        assert_eq!(ours.as_deref().map(uuids), Some(vec![A]), "ended at {at}");
    }
    for at in [999_999, ended + OVERLAP_SLACK_US + 1] {
        let mut o = Overlap::default();
        o.imported(import(vec![(None, task(A, "ours", ""))]), now);
        assert!(o.overlapped_by(at).is_none(), "ended at {at}");
    }
}

#[test]
fn an_overlapped_import_is_checked_once_and_others_are_kept() {
    let now = Instant::now();
    let mut o = Overlap::default();
    o.imported(import(vec![(None, task(A, "early", ""))]), now);
    o.imported(
        Import {
            started_us: 9_000_000,
            returned_us: 9_100_000,
            ended_us: 9_150_000,
            tasks: vec![(None, task(B, "late", ""))],
        },
        now,
    );
    let first = o.overlapped_by(1_050_000).unwrap().others(|_| false);
    assert_eq!(uuids(&first), vec![A]);
    assert!(o.overlapped_by(1_050_000).is_none());
    let second = o.overlapped_by(9_050_000).unwrap().others(|_| false);
    assert_eq!(uuids(&second), vec![B]);
}

#[test]
fn the_commands_own_tasks_are_left_out_and_the_last_imported_version_counts() {
    let now = Instant::now();
    let mut o = Overlap::default();
    o.imported(
        import(vec![
            (None, task(A, "first", "")),
            (None, task(B, "own", "")),
        ]),
        now,
    );
    o.imported(import(vec![(None, task(A, "second", ""))]), now);
    let ours = o.overlapped_by(1_050_000).unwrap().others(|u| u == B);
    assert_eq!(ours, vec![task(A, "second", "")]);
}

#[test]
fn an_overlap_with_only_the_commands_own_tasks_is_still_an_overlap() {
    let mut o = Overlap::default();
    o.imported(import(vec![(None, task(A, "own", ""))]), Instant::now());
    let overlapped = o.overlapped_by(1_050_000).expect("an overlap");
    assert!(overlapped.others(|u| u == A).is_empty());
}

// What an overlapping command lost.

#[test]
fn an_import_the_file_does_not_show_is_reapplied_without_waiting() {
    let now = Instant::now();
    let mut o = Overlap::default();
    let imported = [
        task(A, "ours", ""),
        task(B, "ours", ""),
        task(C, "ours", ""),
    ];
    let exported = [task(A, "ours", ""), task(B, "the user's", "")];
    let lost = o.check_ours(&imported, &exported, now);
    assert_eq!(lost, vec![B.to_string(), C.to_string()]);
    assert_eq!(pending(&mut o), vec![(B.into(), 0), (C.into(), 0)]);
}

#[test]
fn a_lost_import_does_not_replace_a_wait_for_a_local_change() {
    let now = Instant::now();
    let mut o = Overlap::default();
    o.reapply_once_merged(A, 5_000_000, now);
    o.check_ours(&[task(A, "ours", "")], &[], now);
    assert_eq!(pending(&mut o), vec![(A.into(), 5_000_000)]);
}

#[test]
fn a_user_change_the_file_shows_as_the_mirror_had_it_is_reapplied_after_its_merge() {
    let now = Instant::now();
    let mut o = Overlap::default();
    let mirror = [
        task(A, "ours", ""),
        task(B, "ours", ""),
        task(C, "ours", ""),
        task(D, "ours", ""),
    ];
    let get = |u: &str| mirror.iter().find(|t| t.uuid() == u);
    let reported = [
        task(A, "ours", "H"),
        task(B, "ours", "H"),
        task(C, "ours", "H"),
        task(D, "ours", ""),
    ];
    // A: overwritten by our import; B: the file shows the change; C: something else again;
    // D: a command that changed nothing, shown as it reported it.
    let exported = [
        task(A, "ours", ""),
        task(B, "ours", "H"),
        task(C, "other", ""),
        task(D, "ours", ""),
    ];
    let lost = o.check_own(&reported, &exported, get, 7_000_000, now);
    assert_eq!(lost, vec![A.to_string()]);
    assert_eq!(pending(&mut o), vec![(A.into(), 7_000_000)]);
}

// Which base a user's change was computed from.

#[test]
fn without_a_recent_import_the_base_is_the_mirror() {
    let o = Overlap::default();
    let mirror = task(A, "mirror", "");
    let base = o.base_for(A, Some(&task(A, "new", "")), None, Some(&mirror));
    assert_eq!(base, Some(mirror));
}

#[test]
fn a_change_computed_from_the_state_before_our_import_is_diffed_against_it() {
    let (o, before, ours) = renamed_by_us(Instant::now());
    // The user set a priority on the old title: one field from `before`, two from ours.
    let new = task(A, "title", "H");
    for started in [None, Some(1_050_000), Some(1_100_000 + START_SLACK_US)] {
        let base = o.base_for(A, Some(&new), started, Some(&ours));
        assert_eq!(base.as_ref(), Some(&before), "started at {started:?}");
    }
}

#[test]
fn a_command_started_after_our_import_returned_saw_it() {
    let (o, _, ours) = renamed_by_us(Instant::now());
    let started = Some(1_100_000 + START_SLACK_US + 1);
    let base = o.base_for(A, Some(&task(A, "title", "H")), started, Some(&ours));
    assert_eq!(base, Some(ours));
}

#[test]
fn a_change_closer_to_our_import_or_undoing_it_exactly_is_diffed_against_the_mirror() {
    let (o, before, ours) = renamed_by_us(Instant::now());
    // Built on our import: one field from ours, two from `before`.
    let on_ours = task(A, "renamed by us", "H");
    assert_eq!(
        o.base_for(A, Some(&on_ours), None, Some(&ours)),
        Some(ours.clone())
    );
    // Exactly the state before: the command only undid our import, so it saw it.
    assert_eq!(
        o.base_for(A, Some(&before), None, Some(&ours)),
        Some(ours.clone())
    );
    // As far from both: the mirror.
    let far = task(A, "the user's", "");
    assert_eq!(o.base_for(A, Some(&far), None, Some(&ours)), Some(ours));
}

#[test]
fn a_deletion_or_a_task_our_import_created_is_diffed_against_the_mirror() {
    let mut o = Overlap::default();
    let ours = task(A, "created by us", "");
    o.imported(
        import(vec![
            (Some(task(B, "b", "")), task(B, "b by us", "")),
            (None, ours.clone()),
        ]),
        Instant::now(),
    );
    let mirror_b = task(B, "b by us", "");
    assert_eq!(o.base_for(B, None, None, Some(&mirror_b)), Some(mirror_b));
    let new = task(A, "created by us", "H");
    assert_eq!(o.base_for(A, Some(&new), None, Some(&ours)), Some(ours));
}

#[test]
fn a_change_computed_from_the_state_before_our_import_needs_no_mirror_entry() {
    let (o, before, _) = renamed_by_us(Instant::now());
    let base = o.base_for(A, Some(&task(A, "title", "H")), None, None);
    assert_eq!(base, Some(before));
}

// When a re-apply is due.

#[test]
fn a_lost_import_is_due_at_once() {
    let now = Instant::now();
    let mut o = Overlap::default();
    o.check_ours(&[task(A, "ours", "")], &[], now);
    let r = o.take_reapplies().pop().unwrap();
    assert!(!r.waits_for_merge());
    assert!(r.is_due(None, now));
}

#[test]
fn a_reapply_after_a_local_change_waits_for_its_merge_or_for_patience_to_run_out() {
    let now = Instant::now();
    let mut o = Overlap::default();
    o.reapply_once_merged(A, 5_000_000, now);
    let r = o.take_reapplies().pop().unwrap();
    assert!(o.take_reapplies().is_empty(), "taken out");
    assert!(r.waits_for_merge());
    assert!(!r.is_due(None, now));
    assert!(!r.is_due(Some(4_999_999), now));
    assert!(r.is_due(Some(5_000_000), now));
    assert!(!r.is_due(None, now + REAPPLY_PATIENCE));
    assert!(r.is_due(None, now + REAPPLY_PATIENCE + Duration::from_millis(1)));
    o.keep(r);
    assert_eq!(pending(&mut o), vec![(A.into(), 5_000_000)]);
}

#[test]
fn a_later_local_change_moves_the_wait() {
    let now = Instant::now();
    let mut o = Overlap::default();
    o.reapply_once_merged(A, 5_000_000, now);
    o.reapply_once_merged(A, 6_000_000, now);
    assert_eq!(pending(&mut o), vec![(A.into(), 6_000_000)]);
}

// Expiry.

#[test]
fn imports_and_their_before_states_expire_after_the_contention_window() {
    let then = Instant::now();
    let (mut o, before, ours) = renamed_by_us(then);
    let new = task(A, "title", "H");

    o.expire(then + CONTENTION_WINDOW - Duration::from_millis(1));
    assert_eq!(o.base_for(A, Some(&new), None, Some(&ours)), Some(before));
    o.expire(then + CONTENTION_WINDOW);
    assert_eq!(o.base_for(A, Some(&new), None, Some(&ours)), Some(ours));
    assert!(o.overlapped_by(1_050_000).is_none());
}

#[test]
fn pending_reapplies_do_not_expire() {
    let then = Instant::now();
    let mut o = Overlap::default();
    o.reapply_once_merged(A, 5_000_000, then);
    o.expire(then + CONTENTION_WINDOW * 10);
    assert_eq!(pending(&mut o), vec![(A.into(), 5_000_000)]);
}
