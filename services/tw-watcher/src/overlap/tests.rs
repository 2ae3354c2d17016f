//! The overlap rules, one by one: which imports a command overlapped, what a lost import looks
//! like, which base a change was computed from, when a re-apply is due, and when the bookkeeping
//! expires.
#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

// Tasks last changed at unix second 0, before any of the imports below.
use crate::test_tasks::{A, B, C, D, task};

/// One import of `tasks` (each with its state before), running from 1_000_000 to 1_100_000 µs,
/// its bookkeeping done at 1_150_000 µs.
fn import(tasks: Vec<(Option<TwTask>, TwTask)>) -> Import {
    import_at(1_000_000, tasks)
}

/// One import starting at `start` µs, returning 100 ms later, done 50 ms after that.
fn import_at(start: i64, tasks: Vec<(Option<TwTask>, TwTask)>) -> Import {
    Import {
        started_us: start,
        returned_us: start + 100_000,
        ended_us: start + 150_000,
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

fn others(o: &Overlap, started: Option<i64>, ended: i64) -> Option<Vec<String>> {
    o.overlapped_by(started, ended).map(|w| w.others(|_| false))
}

// Which imports a command overlapped.

#[test]
fn without_its_start_a_command_ending_during_an_import_or_within_the_slack_overlapped_it() {
    let mut o = Overlap::default();
    o.imported(import(vec![(None, task(A, "ours", ""))]), Instant::now());
    let ended = 1_150_000;
    for at in [1_000_000, 1_100_000, ended + OVERLAP_SLACK_US] {
        assert_eq!(
            others(&o, None, at),
            Some(vec![A.to_string()]),
            "ended at {at}"
        );
    }
    for at in [999_999, ended + OVERLAP_SLACK_US + 1] {
        assert!(others(&o, None, at).is_none(), "ended at {at}");
    }
}

#[test]
fn a_command_overlapped_every_import_during_its_whole_run_however_long() {
    let mut o = Overlap::default();
    o.imported(import(vec![(None, task(A, "ours", ""))]), Instant::now());
    // A `task edit` opened before our import and saved ten minutes later.
    let ten_minutes = 600_000_000;
    assert_eq!(
        others(&o, Some(900_000), 1_000_000 + ten_minutes),
        Some(vec![A.to_string()])
    );
    // Started once our import was done, or ended before it began: no overlap.
    assert!(others(&o, Some(1_150_000 + START_SLACK_US + 1), ten_minutes).is_none());
    assert!(others(&o, Some(500_000), 999_999).is_none());
}

#[test]
fn an_overlapped_import_stays_for_the_next_command_that_overlaps_it() {
    let now = Instant::now();
    let mut o = Overlap::default();
    o.imported(import(vec![(None, task(A, "early", ""))]), now);
    o.imported(import_at(9_000_000, vec![(None, task(B, "late", ""))]), now);
    assert_eq!(others(&o, None, 1_050_000), Some(vec![A.to_string()]));
    assert_eq!(others(&o, None, 1_050_000), Some(vec![A.to_string()]));
    assert_eq!(others(&o, None, 9_050_000), Some(vec![B.to_string()]));
    assert_eq!(
        others(&o, Some(900_000), 9_050_000),
        Some(vec![A.to_string(), B.to_string()])
    );
}

#[test]
fn the_commands_own_tasks_are_left_out() {
    let mut o = Overlap::default();
    o.imported(
        import(vec![
            (None, task(A, "first", "")),
            (None, task(B, "own", "")),
        ]),
        Instant::now(),
    );
    o.imported(import(vec![(None, task(A, "second", ""))]), Instant::now());
    let ours = o.overlapped_by(None, 1_050_000).unwrap().others(|u| u == B);
    assert_eq!(ours, vec![A.to_string()]);
    let only_own = o.overlapped_by(None, 1_050_000).expect("an overlap");
    assert!(only_own.others(|u| u == A || u == B).is_empty());
}

// What a lost import looks like.

#[test]
fn an_import_the_file_shows_reverted_is_reapplied_without_waiting() {
    let now = Instant::now();
    let mut o = Overlap::default();
    o.imported(
        import(vec![
            (Some(task(A, "before", "")), task(A, "ours", "")),
            (Some(task(B, "before", "")), task(B, "ours", "")),
            (None, task(C, "ours", "")),
            (Some(task(D, "before", "")), task(D, "ours", "")),
        ]),
        now,
    );
    let mirror = [
        task(A, "ours", ""),
        task(B, "ours", ""),
        task(C, "ours", ""),
        task(D, "ours", ""),
    ];
    let get = |u: &str| mirror.iter().find(|t| t.uuid() == u).cloned();
    // A: as imported; B: reverted; C: a task we created, gone again; D: something else (a
    // change whose hook message is still on its way) is left alone.
    let exported = [
        task(A, "ours", ""),
        task(B, "before", ""),
        task(D, "the user's", ""),
    ];
    let all: Vec<String> = [A, B, C, D].iter().map(|u| u.to_string()).collect();
    let lost = o.check_ours(&all, &exported, get, now);
    assert_eq!(lost, vec![B.to_string(), C.to_string()]);
    assert_eq!(pending(&mut o), vec![(B.into(), 0), (C.into(), 0)]);
}

#[test]
fn a_file_older_than_our_import_is_reverted_but_the_same_text_written_later_is_not() {
    let (o, before, _) = renamed_by_us(Instant::now());
    assert!(o.reverted(A, Some(&before)));
    // The user wrote the old title back after our import: a change of theirs.
    let mut rewritten = before.clone();
    rewritten
        .0
        .insert("modified".into(), json!("19700101T000002Z"));
    assert!(!o.reverted(A, Some(&rewritten)));
    assert!(!o.reverted(A, None), "A existed before our import");
    assert!(
        !o.reverted(B, Some(&task(B, "title", ""))),
        "never imported"
    );
}

#[test]
fn a_lost_import_does_not_replace_a_wait_for_a_local_change() {
    let now = Instant::now();
    let mut o = Overlap::default();
    o.imported(import(vec![(None, task(A, "ours", ""))]), now);
    o.reapply_once_merged(A, 5_000_000, now);
    let ours = task(A, "ours", "");
    o.check_ours(&[A.to_string()], &[], |_| Some(ours.clone()), now);
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
    let get = |u: &str| mirror.iter().find(|t| t.uuid() == u).cloned();
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
    let now = Instant::now();
    let (o, before, ours) = renamed_by_us(now);
    // The user set a priority on the old title: one field from `before`, two from ours.
    let new = task(A, "title", "H");
    for started in [
        None,
        Some(500_000),
        Some(1_050_000),
        Some(1_100_000 + START_SLACK_US),
    ] {
        let base = o.base_for(A, Some(&new), started, Some(&ours));
        assert_eq!(base.as_ref(), Some(&before), "started at {started:?}");
    }
}

#[test]
fn the_base_is_the_state_before_the_first_import_the_command_did_not_see() {
    let now = Instant::now();
    let mut o = Overlap::default();
    let (first, second, third) = (
        task(A, "first", ""),
        task(A, "second", ""),
        task(A, "third", ""),
    );
    o.imported(import(vec![(Some(first.clone()), second.clone())]), now);
    o.imported(
        import_at(5_000_000, vec![(Some(second.clone()), third.clone())]),
        now,
    );
    // A long edit from before both: built on the first version.
    let edited = task(A, "first", "H");
    assert_eq!(
        o.base_for(A, Some(&edited), Some(900_000), Some(&third)),
        Some(first)
    );
    // Started between them: it saw the first import, not the second.
    let edited = task(A, "second", "H");
    assert_eq!(
        o.base_for(A, Some(&edited), Some(2_000_000), Some(&third)),
        Some(second)
    );
}

#[test]
fn a_command_started_after_our_import_returned_saw_it() {
    let now = Instant::now();
    let (o, _, ours) = renamed_by_us(now);
    let started = Some(1_100_000 + START_SLACK_US + 1);
    let base = o.base_for(A, Some(&task(A, "title", "H")), started, Some(&ours));
    assert_eq!(base, Some(ours));
}

#[test]
fn a_change_closer_to_our_import_or_undoing_it_exactly_is_diffed_against_the_mirror() {
    let now = Instant::now();
    let (o, before, ours) = renamed_by_us(now);
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
    let now = Instant::now();
    let mut o = Overlap::default();
    let ours = task(A, "created by us", "");
    o.imported(
        import(vec![
            (Some(task(B, "b", "")), task(B, "b by us", "")),
            (None, ours.clone()),
        ]),
        now,
    );
    let mirror_b = task(B, "b by us", "");
    assert_eq!(o.base_for(B, None, None, Some(&mirror_b)), Some(mirror_b));
    let new = task(A, "created by us", "H");
    assert_eq!(o.base_for(A, Some(&new), None, Some(&ours)), Some(ours));
}

#[test]
fn a_change_computed_from_the_state_before_our_import_needs_no_mirror_entry() {
    let now = Instant::now();
    let (o, before, _) = renamed_by_us(now);
    let base = o.base_for(A, Some(&task(A, "title", "H")), None, None);
    assert_eq!(base, Some(before));
}

/// Found in the files (no start known), maybe before its hook message: the same base as the
/// hook message would give, however long the command ran, after several imports of ours.
#[test]
fn without_the_commands_start_the_closest_state_before_any_remembered_import_is_the_base() {
    let then = Instant::now();
    let (mut o, before, ours) = renamed_by_us(then);
    let third = task(A, "renamed by us", "L");
    o.imported(
        import_at(5_000_000, vec![(Some(ours.clone()), third.clone())]),
        then + HISTORY / 2,
    );
    o.expire(then + HISTORY - Duration::from_millis(1));
    let edited = task(A, "title", "H");
    assert_eq!(
        o.base_for(A, Some(&edited), None, Some(&third)),
        Some(before.clone())
    );
    assert_eq!(
        o.base_for(A, Some(&edited), Some(900_000), Some(&third)),
        Some(before)
    );
}

// When a re-apply is due.

#[test]
fn a_lost_import_is_due_at_once() {
    let now = Instant::now();
    let mut o = Overlap::default();
    o.reapply_now(A, now);
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
fn imports_are_remembered_for_the_history_and_at_most_so_many() {
    let then = Instant::now();
    let (mut o, before, _) = renamed_by_us(then);
    o.expire(then + HISTORY - Duration::from_millis(1));
    assert!(o.reverted(A, Some(&before)));
    o.expire(then + HISTORY);
    assert!(!o.reverted(A, Some(&before)));
    assert!(o.overlapped_by(Some(0), 1_050_000).is_none());

    let mut o = Overlap::default();
    for i in 0..=MAX_REMEMBERED {
        let uuid = format!("00000000-0000-4000-8000-{i:012}");
        o.imported(import(vec![(None, task(&uuid, "ours", ""))]), then);
    }
    o.expire(then);
    let first = "00000000-0000-4000-8000-000000000000";
    assert!(!o.reverted(first, None), "the oldest went first");
    assert!(o.reverted("00000000-0000-4000-8000-000000000001", None));
}

#[test]
fn pending_reapplies_do_not_expire() {
    let then = Instant::now();
    let mut o = Overlap::default();
    o.reapply_once_merged(A, 5_000_000, then);
    o.expire(then + HISTORY * 2);
    assert_eq!(pending(&mut o), vec![(A.into(), 5_000_000)]);
}
