#![allow(clippy::unwrap_used)]
use super::*;
use serde_json::json;

fn vikunja(id: i64, project: &str, title: &str) -> (VikunjaTask, String) {
    let t = VikunjaTask::from_value(json!({
        "id": id, "project_id": 1, "title": title, "done": false,
        "created": "2026-01-01T00:00:00Z", "updated": "2026-01-01T00:00:00Z",
    }))
    .unwrap();
    (t, project.to_string())
}

fn local(uuid: &str, project: &str, title: &str) -> TwTask {
    TwTask::from_value(json!({
        "uuid": uuid, "description": title, "project": project, "status": "pending",
        "entry": "20260101T000000Z",
    }))
    .unwrap()
}

fn everything() -> ProjectScope {
    ProjectScope::new(&[], "Inbox")
}

fn bounds(scope: &ProjectScope) -> Bounds<'_> {
    Bounds {
        history_from_s: 0,
        scope,
    }
}

#[test]
fn vikunja_tasks_sharing_a_project_and_title_are_held_the_rest_created() {
    let scope = everything();
    let listed = vec![
        vikunja(1, "Home", "twice"),
        vikunja(2, "Home", "twice"),
        vikunja(3, "Home", "once"),
        vikunja(4, "Work", "twice"),
        vikunja(5, "Home", "linked"),
    ];
    let plan = plan_vikunja(
        listed,
        &HashSet::from([5]),
        &HashMap::new(),
        &bounds(&scope),
    );
    assert_eq!(plan.already_linked, 1);
    let held: Vec<Option<i64>> = plan.held.iter().map(|h| h.vikunja_id).collect();
    assert_eq!(held, vec![Some(1), Some(2)]);
    let created: Vec<i64> = plan.create.iter().map(|(_, t, _)| t.id()).collect();
    assert_eq!(created, vec![3, 4]);
    assert!(plan.horizon_us > 0);
}

#[test]
fn a_scope_leaves_other_projects_out() {
    let scope = ProjectScope::new(&["Work".to_string()], "Inbox");
    let plan = plan_vikunja(
        vec![vikunja(1, "Home", "a"), vikunja(2, "Work.Sub", "b")],
        &HashSet::new(),
        &HashMap::new(),
        &bounds(&scope),
    );
    assert_eq!(plan.left_out, 1);
    assert_eq!(plan.create.len(), 1);
}

#[test]
fn a_host_links_by_uuid_then_by_unique_title_holds_what_is_ambiguous_and_creates_the_rest() {
    let scope = everything();
    let known = vec![
        Known {
            uuid: "k-same".into(),
            vikunja_id: 0,
            key: ("Home".into(), "renamed elsewhere".into()),
        },
        Known {
            uuid: "k-title".into(),
            vikunja_id: 7,
            key: ("Home".into(), "by title".into()),
        },
        Known {
            uuid: "k-a".into(),
            vikunja_id: 8,
            key: ("Home".into(), "two known".into()),
        },
        Known {
            uuid: "k-b".into(),
            vikunja_id: 9,
            key: ("Home".into(), "two known".into()),
        },
    ];
    let tasks = vec![
        local("k-same", "Home", "same uuid"),
        local("l-title", "Home", "by title"),
        local("l-two", "Home", "two known"),
        local("l-dup1", "Home", "twice here"),
        local("l-dup2", "Home", "twice here"),
        local("l-held", "Home", "held in Vikunja"),
        local("l-new", "Work", "only here"),
    ];
    let held_keys = HashSet::from([("Home".to_string(), "held in Vikunja".to_string())]);
    let plan = plan_host(
        "laptop",
        tasks,
        &known,
        &held_keys,
        &HashMap::new(),
        &bounds(&scope),
    );
    let link: Vec<(&str, &str)> = plan
        .link
        .iter()
        .map(|(t, to, _)| (t.uuid(), to.as_str()))
        .collect();
    assert_eq!(link, vec![("k-same", "k-same"), ("l-title", "k-title")]);
    let mut held: Vec<&str> = plan.held.iter().filter_map(|h| h.uuid.as_deref()).collect();
    held.sort();
    assert_eq!(held, vec!["l-dup1", "l-dup2", "l-held", "l-two"]);
    let created: Vec<&str> = plan.create.iter().map(TwTask::uuid).collect();
    assert_eq!(created, vec!["l-new"]);
    assert_eq!(
        known_after(&plan)[0].key,
        ("Work".into(), "only here".into())
    );
}

#[test]
fn old_history_stays_behind_and_the_vikunja_id_uda_links() {
    let scope = everything();
    let mut done = local("l-done", "Home", "done long ago");
    done.0.insert("status".into(), json!("completed"));
    done.0.insert("end".into(), json!("20200101T000000Z"));
    let mut by_id = local("l-id", "Home", "title changed");
    by_id.0.insert("vikunja_id".into(), json!(7));
    let known = vec![Known {
        uuid: "k".into(),
        vikunja_id: 7,
        key: ("Home".into(), "other title".into()),
    }];
    let b = Bounds {
        history_from_s: 1_700_000_000,
        scope: &scope,
    };
    let plan = plan_host(
        "desk",
        vec![done, by_id],
        &known,
        &HashSet::new(),
        &HashMap::new(),
        &b,
    );
    assert_eq!(plan.left_out, 1);
    assert_eq!(plan.link.len(), 1);
    assert_eq!(plan.link[0].1, "k");
}

#[test]
fn a_syncall_pair_links_by_id_where_titles_are_ambiguous_and_what_is_left_is_unique() {
    let scope = everything();
    let listed = vec![vikunja(1, "Home", "twice"), vikunja(2, "Home", "twice")];
    let pinned = HashMap::from([(1, "l-1".to_string())]);
    let plan = plan_vikunja(listed, &HashSet::new(), &pinned, &bounds(&scope));
    let created: Vec<(&str, i64)> = plan
        .create
        .iter()
        .map(|(u, t, _)| (u.as_str(), t.id()))
        .collect();
    assert_eq!(
        created[0],
        ("l-1", 1),
        "the pinned one keeps the host's uuid"
    );
    assert_eq!(created.len(), 2, "the other is alone with its title now");
    assert!(plan.held.is_empty());
    let known: Vec<Known> = plan
        .create
        .iter()
        .map(|(u, t, p)| Known {
            uuid: u.clone(),
            vikunja_id: t.id(),
            key: (p.clone(), t.title().to_string()),
        })
        .collect();
    let named = HashMap::from([("l-1".to_string(), 1)]);
    let tasks = vec![local("l-1", "Home", "twice"), local("l-2", "Home", "twice")];
    let host = plan_host(
        "laptop",
        tasks,
        &known,
        &HashSet::new(),
        &named,
        &bounds(&scope),
    );
    let link: Vec<(&str, i64)> = host.link.iter().map(|(t, _, id)| (t.uuid(), *id)).collect();
    assert_eq!(link, vec![("l-1", 1), ("l-2", 2)]);
    assert_eq!(host.link[0].1, "l-1", "linked to itself: nothing re-keyed");
    assert!(host.held.is_empty() && host.create.is_empty());
}

#[test]
fn vikunja_tasks_take_the_uuid_of_the_first_host_copy_and_the_next_host_links_to_it() {
    let scope = everything();
    let pinned_uuid = "cccccccc-0000-4000-8000-000000000000";
    let mut vikunja_plan = plan_vikunja(
        vec![vikunja(1, "Home", "a"), vikunja(2, "Home", "pinned")],
        &HashSet::new(),
        &HashMap::from([(2, pinned_uuid.to_string())]),
        &bounds(&scope),
    );
    let named = HashMap::from([(pinned_uuid.to_string(), 2)]);
    let mut fresh = fresh_uuids(&vikunja_plan, &named);
    assert_eq!(fresh.len(), 1, "syncall's uuid is a host's already");
    let mut known: Vec<Known> = vikunja_plan
        .create
        .iter()
        .map(|(uuid, t, path)| Known {
            uuid: uuid.clone(),
            vikunja_id: t.id(),
            key: (path.clone(), t.title().to_string()),
        })
        .collect();
    let first = "aaaaaaaa-0000-4000-8000-000000000000";
    let mut laptop = plan_host(
        "laptop",
        vec![local(first, "Home", "a")],
        &known,
        &HashSet::new(),
        &named,
        &bounds(&scope),
    );
    keep_host_uuids(&mut vikunja_plan, &mut laptop, &mut known, &mut fresh);
    assert_eq!(laptop.link[0].1, first, "the laptop keeps its uuid");
    let uuids: HashSet<&str> = vikunja_plan.create.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(uuids, HashSet::from([first, pinned_uuid]));
    let mut desk = plan_host(
        "desk",
        vec![local("bbbbbbbb-0000-4000-8000-000000000000", "Home", "a")],
        &known,
        &HashSet::new(),
        &named,
        &bounds(&scope),
    );
    keep_host_uuids(&mut vikunja_plan, &mut desk, &mut known, &mut fresh);
    assert_eq!(
        desk.link[0].1, first,
        "the desk is re-keyed to the laptop's uuid"
    );
    assert!(fresh.is_empty());
}
