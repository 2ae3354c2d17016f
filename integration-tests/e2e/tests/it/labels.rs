//! Taskwarrior tags <-> Vikunja labels (issue 5): the label registry shared by every replica,
//! label sets written with the fewest calls, no echo, and the tag <-> title mapping.

use std::sync::atomic::{AtomicUsize, Ordering};

use futures::StreamExt;
use serde_json::Value;
use vsync_bus::AppliedNotices;
use vsync_e2e::*;
use vsync_proto::HostApplied;

/// Two hosts and "Home"; no periodic listing in the way of counting API calls.
fn quiet() -> Options {
    quiet_options(&["laptop", "desk"], &["Home"])
}

async fn start(opts: Options) -> System {
    let sys = System::start(opts).await.expect("start the system");
    webhook_registered(&sys, project_id(&sys, "Home")).await;
    sys
}

/// A Taskwarrior task's tags, sorted.
pub(crate) fn tags(t: &Value) -> Vec<String> {
    let mut v: Vec<String> = t["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// A Vikunja task's label titles, sorted.
fn titles(t: &vikunja_sim::Task) -> Vec<String> {
    let mut v: Vec<String> = t.labels.iter().flatten().map(|l| l.title.clone()).collect();
    v.sort();
    v
}

/// How many labels Vikunja has with this title.
fn labels_titled(sys: &System, title: &str) -> Vec<vikunja_sim::Label> {
    sys.sim
        .labels()
        .into_iter()
        .filter(|l| l.title == title)
        .collect()
}

/// Waits until Vikunja's task `id` satisfies `pred`.
pub(crate) async fn vikunja_task(
    sys: &System,
    id: i64,
    what: &str,
    pred: impl Fn(&vikunja_sim::Task) -> bool + Send + Sync + 'static,
) -> vikunja_sim::Task {
    let sim = sys.sim.clone();
    vsync_harness::wait_for(&format!("{what} in Vikunja"), PROPAGATION, move || {
        sim.task(id).filter(|t| pred(t))
    })
    .await
}

/// A task made in Vikunja that reached every host; returns its uuid.
async fn vikunja_made(sys: &System, title: &str) -> (i64, String) {
    let t = sys.sim.create_task(project_id(sys, "Home"), title);
    let on = on_every_host(sys, title, has_vid(t.id)).await;
    (t.id, s(&on[0], "uuid").to_string())
}

/// A task made in Vikunja, then given a new label titled `label`: once every host shows it as
/// `tag`. Returns the task's id and uuid, and the label.
async fn vikunja_made_with_label(
    sys: &System,
    title: &str,
    label: &str,
    tag: &str,
) -> (i64, String, vikunja_sim::Label) {
    let (id, uuid) = vikunja_made(sys, title).await;
    let label = sys.sim.create_label(label);
    sys.sim.add_label(id, label.id).unwrap();
    let (u, tag) = (uuid.clone(), tag.to_string());
    on_every_host(sys, &format!("+{tag}"), move |t| {
        s(t, "uuid") == u && tags(t) == [tag.as_str()]
    })
    .await;
    (id, uuid, label)
}

/// A task made in Taskwarrior on `host` that reached Vikunja and every host.
async fn tw_made(sys: &System, host: &str, title: &str, extra: &[&str]) -> (i64, String) {
    let mut args = vec![title, "project:Home"];
    args.extend_from_slice(extra);
    let uuid = sys.host(host).add(&args);
    let want = uuid.clone();
    let on = on_every_host(sys, title, move |t| {
        s(t, "uuid") == want && t["vikunja_id"].as_f64().is_some()
    })
    .await;
    let id = on[0]["vikunja_id"].as_f64().expect("vikunja id") as i64;
    (id, uuid)
}

/// Waits until everything that happened so far has been handled everywhere: Vikunja has
/// delivered every webhook, and a marker task created in Vikunja after them has been applied on
/// every host (events are handled in order). Returns the host notices that came before the
/// marker's.
async fn settle(sys: &System, notices: &mut AppliedNotices) -> Vec<HostApplied> {
    static MARKERS: AtomicUsize = AtomicUsize::new(0);
    assert!(sys.sim.wait_deliveries_idle(PROPAGATION).await);
    let title = format!("marker {}", MARKERS.fetch_add(1, Ordering::SeqCst));
    let (_, marker) = vikunja_made(sys, &title).await;
    let mut before = Vec::new();
    let mut seen = Vec::new();
    let read = async {
        while seen.len() < sys.hosts.len() {
            let a = notices.next().await.expect("notices end");
            if a.uuid == marker {
                seen.push(a.host);
            } else if !seen.contains(&a.host) {
                before.push(a);
            }
        }
    };
    tokio::time::timeout(PROPAGATION, read)
        .await
        .expect("every host applies the marker");
    before
}

/// Takes `off` (`-tag` arguments) off the laptop's task `uuid` (Vikunja's `id`) when that leaves
/// it without tags; waits until Vikunja and every host show none and everything has settled.
/// Returns the API calls it took and the host notices that came before the settling marker.
async fn take_every_tag_off(
    sys: &System,
    notices: &mut AppliedNotices,
    id: i64,
    uuid: &str,
    off: &[&str],
) -> (Vec<String>, Vec<HostApplied>) {
    sys.sim.clear_requests();
    let mut args = vec![uuid, "modify"];
    args.extend_from_slice(off);
    sys.host("laptop").ok(&args);
    vikunja_task(sys, id, "no labels", |t| titles(t).is_empty()).await;
    let u = uuid.to_string();
    on_every_host(sys, "no tags", move |t| {
        s(t, "uuid") == u && tags(t).is_empty()
    })
    .await;
    let before = settle(sys, notices).await;
    (sys.sim.calls(), before)
}

/// What each host applied of `uuid`, among `notices`.
fn applied(notices: &[HostApplied], uuid: &str) -> Vec<String> {
    notices
        .iter()
        .filter(|a| a.uuid == uuid)
        .map(|a| a.host.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_added_in_taskwarrior_is_a_label_in_two_calls_or_three_for_a_new_label() {
    let sys = start(quiet()).await;
    let laptop = sys.host("laptop");
    let mut ids = Vec::new();
    for title in ["first", "second", "third"] {
        ids.push(tw_made(&sys, "laptop", title, &[]).await.0);
    }
    // "errand" exists in Vikunja but was made after the services started.
    let errand = sys.sim.create_label("errand");
    let mut notices = sys.applied_notices().await.unwrap();
    settle(&sys, &mut notices).await;

    sys.sim.clear_requests();
    laptop.ok(&["3", "modify", "+errand"]);
    let t = vikunja_task(&sys, ids[2], "label errand", |t| titles(t) == ["errand"]).await;
    assert_eq!(t.labels.unwrap()[0].id, errand.id, "the existing label");
    wait_task(sys.host("desk"), "+errand", |t| {
        s(t, "description") == "third" && tags(t) == ["errand"]
    })
    .await;
    let _ = settle(&sys, &mut notices).await;
    let existing = sys.sim.calls();
    eprintln!("existing label: {existing:?}");
    assert!(existing.len() <= 2, "existing label: {existing:?}");
    assert_eq!(labels_titled(&sys, "errand").len(), 1, "no second errand");

    // Once known, another task gets it in one call.
    sys.sim.clear_requests();
    laptop.ok(&["2", "modify", "+errand"]);
    vikunja_task(&sys, ids[1], "label errand", |t| titles(t) == ["errand"]).await;
    let _ = settle(&sys, &mut notices).await;
    let known = sys.sim.calls();
    eprintln!("known label: {known:?}");
    assert_eq!(known, ["PUT /api/v1/tasks/{id}/labels"], "known label");

    // A label nobody has made yet.
    sys.sim.clear_requests();
    laptop.ok(&["3", "modify", "+shopping"]);
    vikunja_task(&sys, ids[2], "label shopping", |t| {
        titles(t) == ["errand", "shopping"]
    })
    .await;
    wait_task(sys.host("desk"), "+shopping", |t| {
        s(t, "description") == "third" && tags(t) == ["errand", "shopping"]
    })
    .await;
    let _ = settle(&sys, &mut notices).await;
    let new = sys.sim.calls();
    eprintln!("new label: {new:?}");
    assert!(new.len() <= 3, "new label: {new:?}");
    assert_eq!(
        new.iter().filter(|c| *c == "PUT /api/v1/labels").count(),
        1,
        "created once: {new:?}"
    );
    assert_eq!(labels_titled(&sys, "shopping").len(), 1);
    assert_eq!(
        titles(&sys.sim.task(ids[0]).unwrap()),
        Vec::<String>::new(),
        "untouched"
    );
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_added_and_removed_in_vikunja_is_a_tag_added_and_removed_on_both_hosts() {
    let sys = start(quiet()).await;
    let (id, uuid) = vikunja_made(&sys, "Call the plumber").await;
    let urgent = sys.sim.create_label("urgent");
    let home = sys.sim.create_label("home");
    let mut notices = sys.applied_notices().await.unwrap();
    settle(&sys, &mut notices).await;
    sys.sim.clear_requests();

    sys.sim.add_label(id, urgent.id).unwrap();
    let u = uuid.clone();
    on_every_host(&sys, "+urgent", move |t| {
        s(t, "uuid") == u && tags(t) == ["urgent"]
    })
    .await;
    sys.sim.add_label(id, home.id).unwrap();
    let u = uuid.clone();
    on_every_host(&sys, "+home", move |t| {
        s(t, "uuid") == u && tags(t) == ["home", "urgent"]
    })
    .await;
    sys.sim.remove_label(id, urgent.id).unwrap();
    let u = uuid.clone();
    on_every_host(&sys, "-urgent", move |t| {
        s(t, "uuid") == u && tags(t) == ["home"]
    })
    .await;
    sys.sim.remove_label(id, home.id).unwrap();
    let u = uuid.clone();
    on_every_host(&sys, "no tags", move |t| {
        s(t, "uuid") == u && tags(t).is_empty()
    })
    .await;
    let before = settle(&sys, &mut notices).await;
    assert_eq!(sys.sim.calls(), Vec::<String>::new(), "no API calls");
    for host in ["laptop", "desk"] {
        let n = applied(&before, &uuid)
            .iter()
            .filter(|h| *h == host)
            .count();
        assert_eq!(n, 4, "{host} applied each change once: {before:?}");
    }
    assert!(
        titles(&sys.sim.task(id).unwrap()).is_empty(),
        "nothing bounced back"
    );
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hosts_adding_the_same_new_tag_at_once_make_one_label() {
    let sys = start(quiet()).await;
    let (a, ua) = vikunja_made(&sys, "task a").await;
    let (b, ub) = vikunja_made(&sys, "task b").await;
    let mut notices = sys.applied_notices().await.unwrap();
    settle(&sys, &mut notices).await;
    let (laptop, desk) = (sys.host("laptop"), sys.host("desk"));
    std::thread::scope(|s| {
        s.spawn(|| laptop.ok(&[&ua, "modify", "+x"]));
        s.spawn(|| desk.ok(&[&ub, "modify", "+x"]));
    });
    let ta = vikunja_task(&sys, a, "label x", |t| titles(t) == ["x"]).await;
    let tb = vikunja_task(&sys, b, "label x", |t| titles(t) == ["x"]).await;
    settle(&sys, &mut notices).await;
    let xs = labels_titled(&sys, "x");
    assert_eq!(xs.len(), 1, "one label x: {xs:?}");
    assert_eq!(ta.labels.unwrap()[0].id, xs[0].id);
    assert_eq!(tb.labels.unwrap()[0].id, xs[0].id);
    for uuid in [ua, ub] {
        on_every_host(&sys, "+x", move |t| {
            s(t, "uuid") == uuid && tags(t) == ["x"]
        })
        .await;
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removing_the_last_tag_empties_the_labels_and_nothing_bounces_back() {
    let sys = start(quiet()).await;
    let (id, uuid) = tw_made(&sys, "laptop", "Return parcel", &["+errand"]).await;
    vikunja_task(&sys, id, "label errand", |t| titles(t) == ["errand"]).await;
    let mut notices = sys.applied_notices().await.unwrap();
    settle(&sys, &mut notices).await;

    let (made, before) = take_every_tag_off(&sys, &mut notices, id, &uuid, &["-errand"]).await;
    eprintln!("last tag removed: {made:?}");
    assert_eq!(made, ["DELETE /api/v1/tasks/{id}/labels/{labelID}"]);
    assert!(
        titles(&sys.sim.task(id).unwrap()).is_empty(),
        "not re-added"
    );
    assert_eq!(
        applied(&before, &uuid),
        ["desk"],
        "only the desk applies the change, once; the laptop gets nothing back"
    );
    for h in &sys.hosts {
        assert!(tags(&h.get(&uuid).unwrap()).is_empty(), "{}", h.name);
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn emptying_several_labels_takes_one_bulk_call_and_nothing_bounces_back() {
    let sys = start(quiet()).await;
    let (id, uuid) = tw_made(&sys, "laptop", "Pack", &["+a", "+b", "+c"]).await;
    vikunja_task(&sys, id, "three labels", |t| titles(t) == ["a", "b", "c"]).await;
    let mut notices = sys.applied_notices().await.unwrap();
    settle(&sys, &mut notices).await;

    let (made, before) =
        take_every_tag_off(&sys, &mut notices, id, &uuid, &["-a", "-b", "-c"]).await;
    eprintln!("three labels removed: {made:?}");
    // One bulk set beats three removes; an empty bulk set fires no webhook at all.
    assert_eq!(made, ["POST /api/v1/tasks/{id}/labels/bulk"]);
    assert!(
        titles(&sys.sim.task(id).unwrap()).is_empty(),
        "not re-added"
    );
    assert_eq!(applied(&before, &uuid), ["desk"], "{before:?}");

    // Two of three go: a bulk set (1 call) beats two removes, and its webhook is no echo.
    let (id2, uuid2) = tw_made(&sys, "desk", "Unpack", &["+a", "+b", "+c"]).await;
    vikunja_task(&sys, id2, "three labels", |t| titles(t) == ["a", "b", "c"]).await;
    settle(&sys, &mut notices).await;
    sys.sim.clear_requests();
    sys.host("desk").ok(&[&uuid2, "modify", "-a", "-c"]);
    vikunja_task(&sys, id2, "one label", |t| titles(t) == ["b"]).await;
    let before = settle(&sys, &mut notices).await;
    let made = sys.sim.calls();
    eprintln!("two of three labels removed: {made:?}");
    assert_eq!(made, ["POST /api/v1/tasks/{id}/labels/bulk"]);
    assert_eq!(applied(&before, &uuid2), ["laptop"], "{before:?}");
    for h in &sys.hosts {
        assert_eq!(tags(&h.get(&uuid2).unwrap()), ["b"], "{}", h.name);
    }
    assert_eq!(
        labels_titled(&sys, "a").len(),
        1,
        "labels are reused, never made twice"
    );
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_title_and_tags_changed_in_one_command_do_not_bounce() {
    let sys = start(quiet()).await;
    let (id, uuid) = tw_made(&sys, "laptop", "Buy paint", &["+a"]).await;
    vikunja_task(&sys, id, "label a", |t| titles(t) == ["a"]).await;
    let mut notices = sys.applied_notices().await.unwrap();
    settle(&sys, &mut notices).await;

    // The task write's own webhook may show the labels from before the label change: it must
    // not be taken for a change made in Vikunja.
    sys.sim.clear_requests();
    sys.host("laptop")
        .ok(&[&uuid, "modify", "Buy blue paint", "-a", "+b"]);
    vikunja_task(&sys, id, "the title and label b", |t| {
        t.title == "Buy blue paint" && titles(t) == ["b"]
    })
    .await;
    let before = settle(&sys, &mut notices).await;
    let made = sys.sim.calls();
    eprintln!("title and two label changes: {made:?}");
    assert_eq!(
        made,
        [
            "PATCH /api/v2/tasks/{id}",
            "GET /api/v1/labels",
            "PUT /api/v1/labels",
            "POST /api/v1/tasks/{id}/labels/bulk"
        ]
    );
    assert_eq!(applied(&before, &uuid), ["desk"], "{before:?}");
    for h in &sys.hosts {
        let t = h.get(&uuid).unwrap();
        assert_eq!(s(&t, "description"), "Buy blue paint", "{}", h.name);
        assert_eq!(tags(&t), ["b"], "{}", h.name);
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_with_spaces_round_trips_to_taskwarrior_and_back_unchanged() {
    let sys = start(quiet()).await;
    let (id, uuid, bob) =
        vikunja_made_with_label(&sys, "Fix the fence", "Waiting on Bob", "Waiting_on_Bob").await;

    // Back: another tag added to that task in Taskwarrior leaves the label as it is.
    sys.host("laptop").ok(&[&uuid, "modify", "+fence"]);
    let t = vikunja_task(&sys, id, "both labels", |t| {
        titles(t) == ["Waiting on Bob", "fence"]
    })
    .await;
    assert!(t.labels.unwrap().iter().any(|l| l.id == bob.id), "kept");
    // The tag on a task made in Taskwarrior is the same label, title unchanged.
    let (other, other_uuid) = tw_made(&sys, "desk", "Paint the fence", &["+Waiting_on_Bob"]).await;
    let t = vikunja_task(&sys, other, "the label", |t| {
        titles(t) == ["Waiting on Bob"]
    })
    .await;
    assert_eq!(t.labels.unwrap()[0].id, bob.id, "the same label");
    // Taken off on the other host; put on a third task.
    sys.host("laptop")
        .ok(&[&other_uuid, "modify", "-Waiting_on_Bob"]);
    vikunja_task(&sys, other, "no label", |t| titles(t).is_empty()).await;
    let (third, third_uuid) = tw_made(&sys, "laptop", "Oil the hinges", &[]).await;
    sys.host("desk")
        .ok(&[&third_uuid, "modify", "+Waiting_on_Bob"]);
    let t = vikunja_task(&sys, third, "the label", |t| {
        titles(t) == ["Waiting on Bob"]
    })
    .await;
    assert_eq!(t.labels.unwrap()[0].id, bob.id, "the same label");
    let mut notices = sys.applied_notices().await.unwrap();
    settle(&sys, &mut notices).await;
    let all: Vec<String> = sys.sim.labels().into_iter().map(|l| l.title).collect();
    assert_eq!(
        all,
        ["Waiting on Bob", "fence"],
        "unchanged, and no second label"
    );
    for h in &sys.hosts {
        let tags_of = |uuid: &str| tags(&h.get(uuid).unwrap());
        assert_eq!(tags_of(&uuid), ["Waiting_on_Bob", "fence"], "{}", h.name);
        assert!(tags_of(&other_uuid).is_empty(), "{}", h.name);
        assert_eq!(tags_of(&third_uuid), ["Waiting_on_Bob"], "{}", h.name);
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tag_taken_off_right_after_it_arrived_from_vikunja_is_taken_off_there_too() {
    let sys = start(quiet()).await;
    let (id, uuid, _) =
        vikunja_made_with_label(&sys, "Fix the gate", "Waiting on Bob", "Waiting_on_Bob").await;
    // Within seconds of the import that brought the tag: the command ran after the import and
    // saw it, so taking the tag off is a change like any other.
    sys.host("laptop").ok(&[&uuid, "modify", "-Waiting_on_Bob"]);
    vikunja_task(&sys, id, "no label", |t| titles(t).is_empty()).await;
    let u = uuid.clone();
    wait_task(sys.host("desk"), "no tag", move |t| {
        s(t, "uuid") == u && tags(t).is_empty()
    })
    .await;
    // Likewise a tag put back on a task the host just received.
    let (other, other_uuid) = tw_made(&sys, "desk", "Fix the latch", &["+Waiting_on_Bob"]).await;
    vikunja_task(&sys, other, "the label", |t| {
        titles(t) == ["Waiting on Bob"]
    })
    .await;
    sys.host("laptop")
        .ok(&[&other_uuid, "modify", "-Waiting_on_Bob"]);
    vikunja_task(&sys, other, "no label", |t| titles(t).is_empty()).await;
    sys.host("laptop")
        .ok(&[&other_uuid, "modify", "+Waiting_on_Bob"]);
    vikunja_task(&sys, other, "the label again", |t| {
        titles(t) == ["Waiting on Bob"]
    })
    .await;
    sys.shutdown().await.unwrap();
}

/// The operator's `[labels]` section, as the services read it, applied to a running system.
async fn with_label_config(sys: &mut System, toml: &str) {
    let cfg = vsync_config::Config::parse(toml, std::iter::empty()).unwrap();
    sys.stop_server().await.unwrap();
    sys.server.labels = cfg.labels;
    sys.start_server().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn excluded_and_tw_only_tags_stay_out_of_vikunja() {
    let mut sys = start(quiet()).await;
    with_label_config(
        &mut sys,
        "[labels]\nexclude = [\"next\"]\ntw_only_prefix = \"tw.\"\n",
    )
    .await;
    let (id, uuid) = tw_made(&sys, "laptop", "Plan party", &["+guests"]).await;
    vikunja_task(&sys, id, "label guests", |t| titles(t) == ["guests"]).await;
    let mut notices = sys.applied_notices().await.unwrap();
    settle(&sys, &mut notices).await;

    // Tags that never reach Vikunja: no API call at all, yet every host has them.
    sys.sim.clear_requests();
    sys.host("laptop")
        .ok(&[&uuid, "modify", "+next", "+tw.private", "+tw.mine"]);
    let u = uuid.clone();
    wait_task(sys.host("desk"), "the new tags", move |t| {
        s(t, "uuid") == u && tags(t) == ["guests", "next", "tw.mine", "tw.private"]
    })
    .await;
    settle(&sys, &mut notices).await;
    assert_eq!(sys.sim.calls(), Vec::<String>::new());
    assert_eq!(titles(&sys.sim.task(id).unwrap()), ["guests"]);

    // Taking the last synced tag off empties the labels; the others stay on every host.
    sys.sim.clear_requests();
    sys.host("desk").ok(&[&uuid, "modify", "-guests"]);
    vikunja_task(&sys, id, "no labels", |t| titles(t).is_empty()).await;
    let before = settle(&sys, &mut notices).await;
    assert_eq!(
        sys.sim.calls(),
        ["DELETE /api/v1/tasks/{id}/labels/{labelID}"]
    );
    assert_eq!(applied(&before, &uuid), ["laptop"], "{before:?}");
    for h in &sys.hosts {
        assert_eq!(
            tags(&h.get(&uuid).unwrap()),
            ["next", "tw.mine", "tw.private"],
            "{}",
            h.name
        );
    }
    for title in ["next", "tw.mine", "tw.private", "tw mine", "tw private"] {
        assert!(labels_titled(&sys, title).is_empty(), "{title}");
    }

    // A label named like one of them, made in Vikunja, stays there: the hosts never see it, and
    // it is not taken off the task.
    let next = sys.sim.create_label("next");
    let overdue = sys.sim.create_label("OVERDUE");
    sys.sim.add_label(id, next.id).unwrap();
    sys.sim.add_label(id, overdue.id).unwrap();
    sys.sim.clear_requests();
    settle(&sys, &mut notices).await;
    sys.host("laptop").ok(&[&uuid, "modify", "+food"]);
    vikunja_task(&sys, id, "label food", |t| {
        titles(t) == ["OVERDUE", "food", "next"]
    })
    .await;
    settle(&sys, &mut notices).await;
    assert_eq!(
        sys.sim.calls().len(),
        3,
        "listing, creating and adding food: {:?}",
        sys.sim.calls()
    );
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn taskwarrior_only_tags_survive_a_label_change_in_vikunja() {
    let mut sys = start(quiet()).await;
    with_label_config(
        &mut sys,
        "[labels]\nexclude = [\"next\"]\ntw_only_prefix = \"tw.\"\n",
    )
    .await;
    let (id, uuid) = tw_made(
        &sys,
        "laptop",
        "Plan party",
        &["+next", "+tw.private", "+guests"],
    )
    .await;
    vikunja_task(&sys, id, "label guests", |t| titles(t) == ["guests"]).await;
    let u = uuid.clone();
    on_every_host(&sys, "every tag", move |t| {
        s(t, "uuid") == u && tags(t) == ["guests", "next", "tw.private"]
    })
    .await;
    let food = sys.sim.create_label("food");
    sys.sim.add_label(id, food.id).unwrap();
    let u = uuid.clone();
    on_every_host(&sys, "+food", move |t| {
        s(t, "uuid") == u && tags(t).contains(&"food".to_string())
    })
    .await;
    let mut notices = sys.applied_notices().await.unwrap();
    settle(&sys, &mut notices).await;
    for h in &sys.hosts {
        assert_eq!(
            tags(&h.get(&uuid).unwrap()),
            ["food", "guests", "next", "tw.private"],
            "{}",
            h.name
        );
    }
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_label_renamed_in_vikunja_renames_the_tag_on_every_host_at_the_next_reconcile() {
    let sys = start(quiet()).await;
    let (id, uuid, label) =
        vikunja_made_with_label(&sys, "Sort the garage", "Errand", "Errand").await;

    // A rename fires no webhook and bumps no task's `updated` (reference §1.2, §3.3): only a
    // full reconcile sees it.
    let http = reqwest::Client::new();
    let res = http
        .post(format!("{}/api/v1/labels/{}", sys.sim.base_url(), label.id))
        .bearer_auth(sys.sim.token())
        .json(&serde_json::json!({"title": "Chores"}))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_success(), "{}", res.status());
    reconcile_now(&test_bus(&sys).await, true).await;
    let u = uuid.clone();
    on_every_host(&sys, "the renamed tag", move |t| {
        s(t, "uuid") == u && tags(t) == ["Chores"]
    })
    .await;
    // The registry follows: the new title is the same label, nothing is made.
    let (other, _) = tw_made(&sys, "desk", "Sweep", &["+Chores"]).await;
    let t = vikunja_task(&sys, other, "label Chores", |t| titles(t) == ["Chores"]).await;
    assert_eq!(t.labels.unwrap()[0].id, label.id);
    let all: Vec<String> = sys.sim.labels().into_iter().map(|l| l.title).collect();
    assert_eq!(all, ["Chores"]);
    assert_eq!(titles(&sys.sim.task(id).unwrap()), ["Chores"]);
    sys.shutdown().await.unwrap();
}
