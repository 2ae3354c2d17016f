//! `[taskwarrior] filter`: a host syncs only the tasks its filter matches. Its other tasks stay
//! local and are never created elsewhere, canonical state outside the filter never appears on
//! it, and a synced task that leaves the filter is not deleted elsewhere, only no longer synced
//! there (docs/ARCHITECTURE.md §5.10).

use serde_json::Value;
use vsync_e2e::*;

/// Waits until Vikunja has a task titled `title` in `project`.
async fn in_vikunja(sys: &System, title: &'static str, project: i64) -> vikunja_sim::Task {
    let sim = sys.sim.clone();
    vsync_harness::wait_for(&format!("{title} in Vikunja"), PROPAGATION, move || {
        sim.tasks()
            .into_iter()
            .find(|t| t.title == title && t.project_id == project)
    })
    .await
}

fn described(d: &'static str) -> impl Fn(&Value) -> bool + Send + Sync + 'static {
    move |t: &Value| s(t, "description") == d
}

/// Every description a host shows.
fn descriptions(h: &vsync_harness::TwHost) -> Vec<String> {
    h.export()
        .iter()
        .map(|t| s(t, "description").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_with_a_filter_syncs_only_the_tasks_in_it_both_ways() {
    let mut o = options(&["laptop", "desk"], &["Home", "Work"], Default::default());
    o.host_filters = vec![("laptop".into(), "project:Work".into())];
    // Adoption, too, sees only the laptop's Work tasks.
    for (title, project) in [("old home", "project:Home"), ("old work", "project:Work")] {
        o.host_tasks
            .push(("laptop".into(), vec![title.into(), project.into()]));
    }
    o.vikunja_tasks.push(("Home".into(), "v old home".into()));
    let sys = System::start(o).await.unwrap();
    let (laptop, desk) = (sys.host("laptop"), sys.host("desk"));
    let (home, work) = (project_id(&sys, "Home"), project_id(&sys, "Work"));

    laptop.add(&["t home", "project:Home"]);
    let uuid = laptop.add(&["t work", "project:Work"]);
    sys.sim.create_task(home, "v home");
    sys.sim.create_task(work, "v work");
    let moved = in_vikunja(&sys, "t work", work).await;
    in_vikunja(&sys, "old work", work).await;
    for d in ["t work", "old work", "v home", "v old home", "v work"] {
        wait_task(desk, d, described(d)).await;
    }
    wait_task(laptop, "the Vikunja Work task", described("v work")).await;
    // Created everywhere: no state from before the move is on its way to the laptop.
    wait_task(laptop, "the Vikunja id", has_vid(moved.id)).await;

    // Leaving the filter: that change syncs, nothing after it, in either direction.
    laptop.ok(&[&uuid, "modify", "project:Home"]);
    in_vikunja(&sys, "t work", home).await;
    wait_task(desk, "the move", |t| {
        s(t, "description") == "t work" && s(t, "project") == "Home"
    })
    .await;
    laptop.ok(&[&uuid, "modify", "t work renamed"]);
    sys.sim
        .update_task(moved.id, |t| t.title = "t work edited".into());
    wait_task(desk, "the Vikunja edit", described("t work edited")).await;

    // Later tasks in the filter arrive both ways: what came before them was decided.
    laptop.add(&["later work", "project:Work"]);
    sys.sim.create_task(work, "v later work");
    in_vikunja(&sys, "later work", work).await;
    wait_task(desk, "the later laptop task", described("later work")).await;
    wait_task(laptop, "the later Vikunja task", described("v later work")).await;
    reconcile_passes(&sys, 2).await;
    reconcile_every_host(&sys).await;

    let titles: Vec<String> = sys.sim.tasks().into_iter().map(|t| t.title).collect();
    for never in ["t home", "old home", "t work renamed"] {
        assert!(!titles.iter().any(|t| t == never), "{never}: {titles:?}");
    }
    let kept = sys.sim.task(moved.id).map(|t| (t.title, t.project_id));
    assert_eq!(kept, Some(("t work edited".into(), home)), "not deleted");
    let on_desk = descriptions(desk);
    for never in ["t home", "old home", "t work renamed"] {
        assert!(!on_desk.iter().any(|t| t == never), "{never}: {on_desk:?}");
    }
    let on_laptop = descriptions(laptop);
    for never in ["v home", "v old home", "t work edited"] {
        assert!(
            !on_laptop.iter().any(|t| t == never),
            "{never}: {on_laptop:?}"
        );
    }
    for kept in ["t home", "old home", "t work renamed", "old work", "v work"] {
        let n = on_laptop.iter().filter(|t| *t == kept).count();
        assert_eq!(n, 1, "{kept}: {on_laptop:?}");
    }

    // Back in the filter: synced again, from canonical state but for the change that brought it
    // back (the rename made while it was out was never sent).
    laptop.ok(&[&uuid, "modify", "project:Work"]);
    in_vikunja(&sys, "t work edited", work).await;
    wait_task(laptop, "canonical state again", |t| {
        s(t, "description") == "t work edited" && s(t, "project") == "Work"
    })
    .await;
    sys.shutdown().await.unwrap();
}
