use super::*;
use vsync_proto::TaskStatus;

fn fields(description: &str, due: Option<i64>, priority: i32) -> TaskFields {
    let mut f = TaskFields {
        description: description.into(),
        due,
        priority,
        ..Default::default()
    };
    f.set_status(TaskStatus::Pending);
    f
}

fn tw<'a>(at_us: i64, base: Option<&'a TaskFields>, new: &'a TaskFields) -> Change<'a> {
    Change {
        origin: Origin::Taskwarrior,
        host: "laptop",
        at_us,
        base,
        new,
    }
}

fn vk<'a>(at_us: i64, base: Option<&'a TaskFields>, new: &'a TaskFields) -> Change<'a> {
    Change {
        origin: Origin::Vikunja,
        host: "",
        at_us,
        base,
        new,
    }
}

fn seeded(f: &TaskFields) -> TaskState {
    let mut s = TaskState {
        uuid: "u1".into(),
        ..Default::default()
    };
    let m = merge(&mut s, &vk(1, None, f));
    assert!(m.is_change());
    s
}

fn current(s: &TaskState) -> TaskFields {
    s.fields.clone().unwrap_or_default()
}

#[test]
fn first_sight_takes_every_field() {
    let f = fields("buy milk", Some(100), 2);
    let s = seeded(&f);
    assert_eq!(s.version, 1);
    assert_eq!(current(&s).description, "buy milk");
    assert_eq!(current(&s).due, Some(100));
    assert!(s.stamps.contains_key("description"));
}

#[test]
fn a_change_on_one_side_wins_and_leaves_other_fields_alone() {
    let base = fields("buy milk", Some(100), 2);
    let mut s = seeded(&base);
    let new = fields("buy milk", Some(200), 2);
    let m = merge(&mut s, &tw(10, Some(&base), &new));
    assert_eq!(m.changed, ["due"]);
    assert!(m.conflicts.is_empty());
    assert_eq!(current(&s).due, Some(200));
    assert_eq!(s.version, 2);
    assert_eq!(s.host_seen_us.get("laptop"), Some(&10));
}

#[test]
fn concurrent_edits_of_different_fields_are_both_kept() {
    let base = fields("buy milk", Some(100), 2);
    let mut s = seeded(&base);
    let from_vikunja = fields("buy oat milk", Some(100), 2);
    let from_tw = fields("buy milk", Some(100), 3);
    merge(&mut s, &vk(10, Some(&base), &from_vikunja));
    let m = merge(&mut s, &tw(11, Some(&base), &from_tw));
    assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
    assert_eq!(current(&s).description, "buy oat milk");
    assert_eq!(current(&s).priority, 3);
}

#[test]
fn same_field_on_both_sides_converges_to_the_later_whatever_the_order() {
    let base = fields("buy milk", None, 0);
    let a = fields("from vikunja", None, 0);
    let b = fields("from taskwarrior", None, 0);
    for (first_vikunja, at_v, at_t, expect) in [
        (true, 10, 20, "from taskwarrior"),
        (false, 10, 20, "from taskwarrior"),
        (true, 30, 20, "from vikunja"),
        (false, 30, 20, "from vikunja"),
    ] {
        let mut s = seeded(&base);
        let (v, t) = (vk(at_v, Some(&base), &a), tw(at_t, Some(&base), &b));
        let (m1, m2) = if first_vikunja {
            (merge(&mut s, &v), merge(&mut s, &t))
        } else {
            (merge(&mut s, &t), merge(&mut s, &v))
        };
        assert_eq!(current(&s).description, expect);
        let conflicts: Vec<_> = m1.conflicts.iter().chain(&m2.conflicts).collect();
        assert_eq!(conflicts.len(), 1, "one conflict logged");
        assert_eq!(conflicts[0].kept_value, expect);
        assert_eq!(conflicts[0].field, "description");
    }
}

#[test]
fn merging_the_same_change_twice_changes_nothing_the_second_time() {
    let base = fields("buy milk", None, 0);
    let mut s = seeded(&base);
    let new = fields("buy bread", Some(5), 1);
    let first = merge(&mut s, &tw(10, Some(&base), &new));
    let snapshot = s.clone();
    let second = merge(&mut s, &tw(10, Some(&base), &new));
    assert!(first.is_change());
    assert!(!second.is_change());
    assert!(second.conflicts.is_empty());
    assert_eq!(s, snapshot);
}

#[test]
fn taskwarrior_high_over_vikunja_urgent_is_no_change() {
    let base = fields("t", None, 5);
    let mut s = seeded(&base);
    let tw_view = fields("t", None, 3);
    let m = merge(&mut s, &tw(10, None, &tw_view));
    assert!(!m.is_change());
    assert_eq!(current(&s).priority, 5);
}

#[test]
fn a_lagging_host_does_not_revert_fields_it_did_not_touch() {
    let base = fields("old title", None, 0);
    let mut s = seeded(&base);
    let renamed = fields("new title", None, 0);
    merge(&mut s, &vk(10, Some(&base), &renamed));
    // The host still shows the old title and only set a due date, later.
    let host_new = fields("old title", Some(77), 0);
    let m = merge(&mut s, &tw(20, Some(&base), &host_new));
    assert_eq!(m.changed, ["due"]);
    assert_eq!(current(&s).description, "new title");
    assert_eq!(current(&s).due, Some(77));
}

#[test]
fn an_extra_attribute_removed_on_a_host_is_removed() {
    let mut base = fields("t", None, 0);
    base.tw_extra.insert("estimate".into(), "\"PT2H\"".into());
    let mut s = TaskState::default();
    merge(&mut s, &tw(1, None, &base));
    let mut new = base.clone();
    new.tw_extra.clear();
    let m = merge(&mut s, &tw(5, Some(&base), &new));
    assert_eq!(m.changed, ["x.estimate"]);
    assert!(current(&s).tw_extra.is_empty());
    assert!(s.stamps.contains_key("x.estimate"));
}

#[test]
fn vikunja_cannot_change_what_it_does_not_have() {
    let mut base = fields("t", None, 0);
    base.depends = vec!["d".into()];
    base.tw_extra.insert("estimate".into(), "\"PT2H\"".into());
    let mut s = TaskState::default();
    merge(&mut s, &tw(1, None, &base));
    let vikunja_view = fields("t2", None, 0);
    merge(&mut s, &vk(5, None, &vikunja_view));
    assert_eq!(current(&s).depends, ["d"]);
    assert_eq!(current(&s).tw_extra.len(), 1);
}
