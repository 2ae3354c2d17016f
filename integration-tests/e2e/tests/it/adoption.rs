//! Adoption: both sides arrive with tasks. Nothing that existed before is created on the other
//! side until its side is adopted; pairs are linked, ambiguous ones held until resolved; a host
//! away during adoption is adopted when it connects. 0 duplicates anywhere, whatever the order.

use std::collections::BTreeMap;

use vikunja_sync_demo::{Options, System};
use vsync_e2e::*;

/// How long one resolution may take to reach every host on a loaded 2-core machine.
const PASS_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// Pending tasks of a host: description -> (uuid, vikunja id) for each copy.
fn pending(h: &vsync_harness::TwHost) -> BTreeMap<String, Vec<(String, Option<i64>)>> {
    let mut out: BTreeMap<String, Vec<(String, Option<i64>)>> = BTreeMap::new();
    for t in h
        .export()
        .into_iter()
        .filter(|t| s(t, "status") == "pending")
    {
        out.entry(s(&t, "description").to_string())
            .or_default()
            .push((
                s(&t, "uuid").to_string(),
                t["vikunja_id"].as_f64().map(|v| v as i64),
            ));
    }
    out
}

fn copies(h: &vsync_harness::TwHost) -> usize {
    pending(h).values().map(Vec::len).sum()
}

/// 50 tasks shared by Vikunja and two hosts, "twice" twice in Vikunja and once on each host
/// (ambiguous), one only in Vikunja, one only on the laptop.
fn shared(mut o: Options) -> Options {
    for i in 0..50 {
        let project = if i % 2 == 0 { "Home" } else { "Work" };
        let title = format!("shared {i:02}");
        o.vikunja_tasks.push((project.into(), title.clone()));
        for host in ["laptop", "desk"] {
            o.host_tasks.push((
                host.into(),
                vec![title.clone(), format!("project:{project}")],
            ));
        }
    }
    o.vikunja_tasks.push(("Home".into(), "twice".into()));
    o.vikunja_tasks.push(("Home".into(), "twice".into()));
    for host in ["laptop", "desk"] {
        o.host_tasks
            .push((host.into(), vec!["twice".into(), "project:Home".into()]));
    }
    o.vikunja_tasks
        .push(("Work".into(), "only in Vikunja".into()));
    o.host_tasks.push((
        "laptop".into(),
        vec!["only on the laptop".into(), "project:Work".into()],
    ));
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_syncs_before_adoption_then_pairs_link_and_the_ambiguous_pair_waits_for_the_user() {
    let mut o = shared(options(
        &["laptop", "desk"],
        &["Home", "Work"],
        Default::default(),
    ));
    o.adopt_auto = false;
    let sys = System::start(o).await.unwrap();
    let bus = test_bus(&sys).await;
    let (laptop, desk) = (sys.host("laptop"), sys.host("desk"));

    // Three reconcile passes (and both hosts' first passes) before adoption: nothing moves.
    reconcile_passes(&sys, 3).await;
    assert_eq!(sys.sim.tasks().len(), 53);
    assert_eq!((copies(laptop), copies(desk)), (52, 51));
    let status = bus.status(0).await.unwrap().to_string();
    assert!(
        status.contains("adoption pending: 53 Vikunja tasks, 51 on desk, 52 on laptop"),
        "{status}"
    );

    let plan = vikunja_sync::ctl::adopt(&bus, true, false).await.unwrap();
    assert_eq!(plan.link.len(), 50, "{plan}");
    assert_eq!(plan.create_in_vikunja.len(), 1, "{plan}");
    assert_eq!(plan.create_in_taskwarrior.len(), 1, "{plan}");
    assert_eq!(plan.ambiguous.len(), 1, "{plan}");
    assert!(plan.ambiguous[0].contains("twice"), "{plan}");
    assert_eq!(plan.held.len(), 4, "two in Vikunja, one per host: {plan}");
    // Vikunja's tasks take the first host's uuids: only the other host re-keys its copies.
    assert_eq!(plan.rekey.len(), 50, "{plan}");
    assert_eq!(sys.sim.tasks().len(), 53, "a dry run changes nothing");

    let done = vikunja_sync::ctl::adopt(&bus, false, false).await.unwrap();
    assert_eq!(done.link.len(), 50, "{done}");
    let sim = sys.sim.clone();
    vsync_harness::wait_for("the laptop-only task in Vikunja", PROPAGATION, move || {
        sim.tasks()
            .into_iter()
            .find(|t| t.title == "only on the laptop")
    })
    .await;
    for h in &sys.hosts {
        wait_task(h, "the Vikunja-only task", |t| {
            s(t, "description") == "only in Vikunja"
        })
        .await;
        wait_task(h, "the laptop-only task", |t| {
            s(t, "description") == "only on the laptop"
        })
        .await;
    }
    // Three more passes, then count: one copy of everything everywhere.
    reconcile_passes(&sys, 3).await;
    assert_eq!(sys.sim.tasks().len(), 54, "50 + 2 held + 1 + 1");
    let (l, d) = (pending(laptop), pending(desk));
    for (title, copies) in l.iter().chain(d.iter()) {
        assert_eq!(copies.len(), 1, "{title}: {copies:?}");
    }
    assert_eq!((l.len(), d.len()), (53, 53));
    for i in 0..50 {
        let title = format!("shared {i:02}");
        assert_eq!(
            l[&title], d[&title],
            "same uuid and Vikunja id on both hosts"
        );
        assert!(l[&title][0].1.is_some(), "{title} linked");
    }
    assert_eq!(l["twice"][0].1, None, "the ambiguous one is untouched");
    assert_ne!(l["twice"][0].0, d["twice"][0].0);
    let status = bus.status(0).await.unwrap().to_string();
    assert!(status.contains("held by adoption: 4"), "{status}");

    // Linked both ways: a change on either side reaches the twin.
    let vid = l["shared 07"][0].1.unwrap();
    sys.sim.update_task(vid, |t| t.priority = 3);
    for h in &sys.hosts {
        wait_task(h, "the Vikunja edit", |t| {
            s(t, "description") == "shared 07" && s(t, "priority") == "H"
        })
        .await;
    }
    let uuid = l["shared 08"][0].0.clone();
    laptop.ok(&[&uuid, "modify", "+fromlaptop"]);
    let vid8 = l["shared 08"][0].1.unwrap();
    let sim = sys.sim.clone();
    vsync_harness::wait_for("the laptop edit in Vikunja", PROPAGATION, move || {
        sim.task(vid8)
            .filter(|t| t.labels.iter().flatten().any(|l| l.title == "fromlaptop"))
    })
    .await;

    // The user decides: the laptop's and the desk's "twice" are one Vikunja task, the other
    // Vikunja "twice" is a task of its own.
    let twins: Vec<i64> = sys
        .sim
        .tasks()
        .into_iter()
        .filter(|t| t.title == "twice")
        .map(|t| t.id)
        .collect();
    let resolve = |link: Option<(String, i64)>, separate: Option<String>| {
        let bus = bus.clone();
        async move {
            let req = vsync_bus::control::AdoptRequest {
                link,
                separate,
                ..Default::default()
            };
            vikunja_sync::ctl::adopt_with(&bus, req, false)
                .await
                .unwrap()
        }
    };
    resolve(Some((l["twice"][0].0.clone(), twins[0])), None).await;
    resolve(Some((d["twice"][0].0.clone(), twins[0])), None).await;
    resolve(None, Some(twins[1].to_string())).await;
    let mut want = vec![Some(twins[0]), Some(twins[1])];
    want.sort();
    for h in &sys.hosts {
        let deadline = tokio::time::Instant::now() + PASS_DEADLINE;
        loop {
            let mut ids: Vec<Option<i64>> = pending(h)
                .get("twice")
                .map(|c| c.iter().map(|c| c.1).collect())
                .unwrap_or_default();
            ids.sort();
            if ids == want {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}: both twice linked, want {want:?}: {:#?}\nadoption: {:#?}\nstates: {:#?}",
                h.name,
                pending(h).get("twice"),
                bus.adoption().await,
                sys.bus.all_states().await.map(|s| s
                    .into_iter()
                    .filter(|s| s.fields.as_ref().is_some_and(|f| f.description == "twice"))
                    .map(|s| (s.uuid, s.vikunja_id, s.fields.map(|f| f.status)))
                    .collect::<Vec<_>>()),
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    reconcile_passes(&sys, 1).await;
    assert_eq!(
        sys.sim.tasks().len(),
        54,
        "resolving created nothing in Vikunja"
    );
    assert_eq!((copies(laptop), copies(desk)), (54, 54));
    let a = bus.adoption().await.unwrap();
    assert!(a.held.is_empty(), "{:?}", a.held);
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_away_during_adoption_is_adopted_when_it_connects_without_duplicates() {
    let mut o = options(&["laptop"], &["Home"], Default::default());
    for i in 0..20 {
        let title = format!("shared {i:02}");
        o.vikunja_tasks.push(("Home".into(), title.clone()));
        o.host_tasks
            .push(("laptop".into(), vec![title, "project:Home".into()]));
    }
    // Started with auto adoption: Vikunja and the laptop are adopted at start.
    let mut sys = System::start(o).await.unwrap();
    reconcile_passes(&sys, 3).await;
    assert_eq!(sys.sim.tasks().len(), 20);
    assert_eq!(copies(sys.host("laptop")), 20);

    // The desk was away: it has the same 20 tasks and one of its own.
    let desk = vsync_harness::TwHost::new("desk");
    desk.configure("uda.estimate.type=duration");
    for i in 0..20 {
        desk.ok(&[
            "rc.hooks=off",
            "add",
            &format!("shared {i:02}"),
            "project:Home",
        ]);
    }
    desk.ok(&["rc.hooks=off", "add", "only on the desk", "project:Home"]);
    vikunja_sync::hook::install(&desk.data_dir(), None, Some(&hook_bin()), false).unwrap();
    sys.hosts.push(desk);
    sys.start_host("desk").await.unwrap();
    sys.wait_adopted(&["laptop".into(), "desk".into()])
        .await
        .unwrap();
    let sim = sys.sim.clone();
    vsync_harness::wait_for("the desk-only task in Vikunja", PROPAGATION, move || {
        sim.tasks()
            .into_iter()
            .find(|t| t.title == "only on the desk")
    })
    .await;
    wait_task(sys.host("laptop"), "the desk-only task", |t| {
        s(t, "description") == "only on the desk"
    })
    .await;
    reconcile_passes(&sys, 3).await;
    assert_eq!(sys.sim.tasks().len(), 21);
    let (l, d) = (pending(sys.host("laptop")), pending(sys.host("desk")));
    assert_eq!(l, d, "the same tasks with the same uuids and ids");
    assert_eq!(copies(sys.host("desk")), 21);
    assert!(d.values().all(|c| c[0].1.is_some()), "{d:?}");
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_vikunja_projects_set_no_task_of_another_project_crosses_in_either_direction() {
    let mut o = options(&["laptop", "desk"], &["Home", "Work"], Default::default());
    o.vikunja_projects = vec!["Work".into()];
    o.vikunja_tasks.push(("Home".into(), "v home".into()));
    o.vikunja_tasks.push(("Work".into(), "v work".into()));
    o.host_tasks.push((
        "laptop".into(),
        vec!["t home".into(), "project:Home".into()],
    ));
    o.host_tasks.push((
        "laptop".into(),
        vec!["t work".into(), "project:Work".into()],
    ));
    let sys = System::start(o).await.unwrap();
    let home = project_id(&sys, "Home");
    sys.sim.create_task(home, "v home later");
    let laptop = sys.host("laptop");
    laptop.add(&["t home later", "project:Home"]);
    laptop.add(&["t work later", "project:Work.Sub"]);
    let sim = sys.sim.clone();
    vsync_harness::wait_for("the Work tasks in Vikunja", PROPAGATION, move || {
        let titles: Vec<String> = sim.tasks().into_iter().map(|t| t.title).collect();
        (titles.iter().any(|t| t == "t work") && titles.iter().any(|t| t == "t work later"))
            .then_some(())
    })
    .await;
    wait_task(sys.host("desk"), "the Vikunja Work task", |t| {
        s(t, "description") == "v work"
    })
    .await;
    reconcile_passes(&sys, 3).await;
    let titles: Vec<String> = sys.sim.tasks().into_iter().map(|t| t.title).collect();
    assert!(
        !titles.iter().any(|t| t.starts_with("t home")),
        "no Home task of Taskwarrior's in Vikunja: {titles:?}"
    );
    for h in &sys.hosts {
        let p = pending(h);
        assert!(
            !p.keys().any(|t| t.starts_with("v home")),
            "{}: no Home task of Vikunja's: {p:?}",
            h.name
        );
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_starts_while_the_server_is_down_is_adopted_once_it_is_back() {
    let mut o = options(&["laptop"], &["Home"], Default::default());
    for i in 0..10 {
        let title = format!("shared {i:02}");
        o.vikunja_tasks.push(("Home".into(), title.clone()));
        o.host_tasks
            .push(("laptop".into(), vec![title, "project:Home".into()]));
    }
    let mut sys = System::start(o).await.unwrap();
    sys.stop_server().await.unwrap();
    // The desk starts while no reconciler runs: its hello waits in the event stream, and
    // meanwhile nothing of the desk's is published or applied.
    let desk = vsync_harness::TwHost::new("desk");
    for i in 0..10 {
        desk.ok(&[
            "rc.hooks=off",
            "add",
            &format!("shared {i:02}"),
            "project:Home",
        ]);
    }
    vikunja_sync::hook::install(&desk.data_dir(), None, Some(&hook_bin()), false).unwrap();
    sys.hosts.push(desk);
    sys.start_host("desk").await.unwrap();
    sys.host("desk")
        .add(&["added while waiting", "project:Home"]);
    sys.start_server().await.unwrap();
    sys.wait_adopted(&["laptop".into(), "desk".into()])
        .await
        .unwrap();
    wait_task(sys.host("laptop"), "the task added while waiting", |t| {
        s(t, "description") == "added while waiting"
    })
    .await;
    reconcile_passes(&sys, 2).await;
    let (l, d) = (pending(sys.host("laptop")), pending(sys.host("desk")));
    assert_eq!(l, d, "the same tasks with the same uuids and ids");
    assert_eq!(copies(sys.host("desk")), 11, "{d:?}");
    assert_eq!(sys.sim.tasks().len(), 11);
    sys.shutdown().await.unwrap();
}
