//! Writes to Taskwarrior no hook of ours reported in time: commands run with hooks off (or by
//! another tool), `task undo` on 3.x (no hook sees it), and a `task edit` left open while a
//! Vikunja change was applied. None of them may be wiped by our next import, and none may be
//! published as a change it is not.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use vsync_e2e::*;

/// The task `id` everywhere, once every host shows it; returns its uuid.
async fn synced(sys: &System, id: i64) -> String {
    let on = on_every_host(sys, "the task", has_vid(id)).await;
    s(&on[0], "uuid").to_string()
}

/// `task rc.hooks=off import` of `tasks` on `host`: another tool's write.
fn import_without_hooks(host: &vsync_harness::TwHost, tasks: &Value) {
    let mut child = std::process::Command::new(host.task_bin())
        .args(["rc.hooks=off", "import", "-"])
        .env("TASKRC", host.taskrc())
        .env("TASKDATA", host.data_dir())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(tasks.to_string().as_bytes()).unwrap();
    drop(stdin);
    assert!(child.wait().unwrap().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attributes_written_with_hooks_off_survive_a_later_vikunja_change_and_reach_every_host() {
    let sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let t = sys.sim.create_task(home, "Renew passport");
    let uuid = synced(&sys, t.id).await;
    let laptop = sys.host("laptop");
    // A UDA and `until`, with hooks off; then an attribute no taskrc declares (an orphan UDA),
    // the way another tool writes one.
    laptop.ok(&[
        "rc.hooks=off",
        &uuid,
        "modify",
        "estimate:PT3H",
        "until:2031-01-01T00:00:00Z",
    ]);
    let mut task = laptop.get(&uuid).unwrap();
    task["orphan"] = json!("from another tool");
    import_without_hooks(laptop, &json!([task]));

    sys.sim
        .update_task(t.id, |t| t.title = "Renew passport now".into());
    let got = wait_task(laptop, "the rename", |t| {
        s(t, "description") == "Renew passport now"
    })
    .await;
    assert_eq!(s(&got, "estimate"), "PT3H", "a UDA survives");
    assert_eq!(s(&got, "until"), "20310101T000000Z", "until survives");
    assert_eq!(
        s(&got, "orphan"),
        "from another tool",
        "an orphan UDA survives"
    );
    // They were local changes like any other: the other host has them too, and they stay.
    let desk = wait_task(sys.host("desk"), "the attributes", |t| {
        s(t, "description") == "Renew passport now" && s(t, "orphan") == "from another tool"
    })
    .await;
    assert_eq!(s(&desk, "estimate"), "PT3H");
    assert_eq!(s(&desk, "until"), "20310101T000000Z");
    sys.sim
        .update_task(t.id, |t| t.title = "Renew passport today".into());
    let got = wait_task(laptop, "the second rename", |t| {
        s(t, "description") == "Renew passport today"
    })
    .await;
    assert_eq!(s(&got, "orphan"), "from another tool");
    assert_eq!(s(&got, "until"), "20310101T000000Z");
    sys.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_field_changed_with_hooks_off_is_published_not_overwritten() {
    let sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let (a, b) = (
        sys.sim.create_task(home, "changed with hooks off"),
        sys.sim.create_task(home, "changed in Vikunja"),
    );
    let uuid = synced(&sys, a.id).await;
    synced(&sys, b.id).await;
    let laptop = sys.host("laptop");
    laptop.ok(&["rc.hooks=off", &uuid, "modify", "priority:H", "+errand"]);
    // Vikunja changes the same task (another field) and a second one: both are applied to
    // the laptop over what its file really holds.
    sys.sim.update_task(a.id, |t| {
        t.due_date = vikunja_sim::model::ts::parse("2030-02-03T04:05:06Z").unwrap()
    });
    sys.sim
        .update_task(b.id, |t| t.title = "changed in Vikunja, renamed".into());
    for h in &sys.hosts {
        wait_task(h, "both changes", |t| {
            s(t, "description") == "changed with hooks off"
                && s(t, "priority") == "H"
                && s(t, "due") == "20300203T040506Z"
                && t["tags"] == json!(["errand"])
        })
        .await;
    }
    let sim = sys.sim.clone();
    vsync_harness::wait_for("the priority in Vikunja", PROPAGATION, move || {
        sim.task(a.id).filter(|t| t.priority == 3).map(|_| ())
    })
    .await;
    sys.shutdown().await.unwrap();
}

/// A `task undo` on Taskwarrior 3 reaches no hook: it is a local change like one made with
/// hooks off, and reaches Vikunja and the other host.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_undo_no_hook_saw_reaches_vikunja_and_the_other_host_tw3() {
    vsync_harness::require_taskwarrior(3);
    let sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let t = sys.sim.create_task(home, "undo me");
    let other = sys.sim.create_task(home, "something else");
    let uuid = synced(&sys, t.id).await;
    synced(&sys, other.id).await;
    let laptop = sys.host("laptop");
    laptop.ok(&[&uuid, "modify", "priority:H"]);
    on_every_host(&sys, "the priority", |t| {
        s(t, "description") == "undo me" && s(t, "priority") == "H"
    })
    .await;
    laptop.ok(&["undo"]);
    assert_eq!(s(&laptop.get(&uuid).unwrap(), "priority"), "");
    // The next apply (here: a change of another task) finds the undo.
    sys.sim
        .update_task(other.id, |t| t.title = "something else, renamed".into());
    wait_task(sys.host("desk"), "the undo", |t| {
        s(t, "description") == "undo me" && s(t, "priority").is_empty()
    })
    .await;
    let sim = sys.sim.clone();
    vsync_harness::wait_for("the undo in Vikunja", PROPAGATION, move || {
        sim.task(t.id).filter(|t| t.priority == 0).map(|_| ())
    })
    .await;
    sys.shutdown().await.unwrap();
}
/// Writes an executable shell script.
fn script(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, format!("#!/bin/sh\n{text}")).unwrap();
    let mut perms = std::fs::metadata(path).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(path, perms).unwrap();
    path.to_path_buf()
}

/// An editor that stays open until the test says so, then sets priority H: `EDITOR` for `task
/// edit`. It announces itself by creating `<dir>/open`, and closes once `<dir>/close` exists.
fn slow_editor(dir: &Path) -> PathBuf {
    let (open, close) = (dir.join("open"), dir.join("close"));
    script(
        &dir.join("editor.sh"),
        &format!(
            "touch '{}'\nwhile [ ! -e '{}' ]; do sleep 0.02; done\n\
             sed -i 's/^  UDA priority:.*$/  UDA priority:       H/' \"$1\"\n",
            open.display(),
            close.display(),
        ),
    )
}

/// Holds `host`'s on-exit hook of a `task edit` (whose data are written by then) until
/// `<dir>/release` exists, announcing it with `<dir>/held`: the watcher meets the edit in the
/// files before its hook message.
fn hold_the_edit_hook(host: &vsync_harness::TwHost, dir: &Path) {
    // The hook takes its event from its file name: the real one keeps its name elsewhere.
    let real = dir.join("hook");
    std::fs::create_dir(&real).unwrap();
    let real = real.join("on-exit.vikunja-sync");
    std::os::unix::fs::symlink(hook_bin(), &real).unwrap();
    let installed = host.hooks_dir().join("on-exit.vikunja-sync");
    std::fs::remove_file(&installed).unwrap();
    let (held, release) = (dir.join("held"), dir.join("release"));
    script(
        &installed,
        &format!(
            "case \" $* \" in *\" command:edit \"*)\n  touch '{}'\n  \
             while [ ! -e '{}' ]; do sleep 0.02; done ;;\nesac\nexec '{}' \"$@\"\n",
            held.display(),
            release.display(),
            real.display(),
        ),
    );
}

/// A `task edit` left open while Vikunja changes the edited task and another one: when it
/// saves, Taskwarrior 2.6 rewrites its whole file from what it read before our imports. Both
/// Vikunja's changes and the user's edit must end up everywhere, and stay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_task_edit_keeps_the_vikunja_changes_made_meanwhile() {
    long_edit(Duration::from_secs(3), false).await;
}

/// The same, with the edit's hook message arriving only after the watcher found the edit in
/// the files on its own (a slow hook, a loaded machine) and Vikunja renamed the task again
/// meanwhile; the user slower than the 10 s a change without its command's start was once
/// matched to our imports.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_task_edit_found_in_the_files_before_its_hook_message_keeps_the_vikunja_changes() {
    long_edit(Duration::from_secs(11), true).await;
}

/// The user keeps the editor open `think` after the Vikunja changes are applied; with
/// `late_hook` the edit's hook message is held until the watcher published the edit it found.
async fn long_edit(think: Duration, late_hook: bool) {
    // What the edited task is called in the end.
    let title = match late_hook {
        true => "edited at length, renamed twice",
        false => "edited at length, renamed",
    };
    let sys = system(&["laptop", "desk"], &["Home"]).await;
    let home = project_id(&sys, "Home");
    webhook_registered(&sys, home).await;
    let (edited, other) = (
        sys.sim.create_task(home, "edited at length"),
        sys.sim.create_task(home, "changed meanwhile"),
    );
    let uuid = synced(&sys, edited.id).await;
    synced(&sys, other.id).await;
    let laptop = sys.host("laptop");
    let dir = tempfile::tempdir().unwrap();
    let editor = slow_editor(dir.path());
    if late_hook {
        hold_the_edit_hook(laptop, dir.path());
    }
    let (bin, rc, data) = (
        laptop.task_bin().to_path_buf(),
        laptop.taskrc(),
        laptop.data_dir(),
    );
    let edit = tokio::task::spawn_blocking(move || {
        std::process::Command::new(bin)
            .args([uuid.as_str(), "edit"])
            .env("TASKRC", rc)
            .env("TASKDATA", data)
            .env("EDITOR", editor)
            .output()
            .unwrap()
    });
    let open = dir.path().join("open");
    vsync_harness::wait_for("the editor", PROPAGATION, move || {
        open.exists().then_some(())
    })
    .await;

    sys.sim
        .update_task(edited.id, |t| t.title = "edited at length, renamed".into());
    sys.sim
        .update_task(other.id, |t| t.title = "changed meanwhile, renamed".into());
    for title in ["changed meanwhile, renamed", "edited at length, renamed"] {
        wait_task(laptop, "the renames", move |t| s(t, "description") == title).await;
    }
    // The user takes a while: longer than any fixed window around our imports.
    let later = Instant::now() + think;
    vsync_harness::wait_for("the user", think + PROPAGATION, move || {
        (Instant::now() >= later).then_some(())
    })
    .await;
    std::fs::write(dir.path().join("close"), "").unwrap();
    if late_hook {
        let held = dir.path().join("held");
        vsync_harness::wait_for("the edit written", PROPAGATION, move || {
            held.exists().then_some(())
        })
        .await;
        let sim = sys.sim.clone();
        vsync_harness::wait_for("the edit found in the files", PROPAGATION, move || {
            sim.task(edited.id).filter(|t| t.priority == 3).map(|_| ())
        })
        .await;
        // Vikunja renames it again, applied over the edit before its hook message comes.
        sys.sim.update_task(edited.id, |t| t.title = title.into());
        wait_task(laptop, "the second rename", move |t| {
            s(t, "description") == title && s(t, "priority") == "H"
        })
        .await;
        std::fs::write(dir.path().join("release"), "").unwrap();
    }
    let out = edit.await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    for h in &sys.hosts {
        wait_task(h, "the user's edit with Vikunja's rename", move |t| {
            s(t, "description") == title && s(t, "priority") == "H"
        })
        .await;
        wait_task(h, "the other rename", |t| {
            s(t, "description") == "changed meanwhile, renamed"
        })
        .await;
    }
    let sim = sys.sim.clone();
    vsync_harness::wait_for("both in Vikunja", PROPAGATION, move || {
        let (e, o) = (sim.task(edited.id)?, sim.task(other.id)?);
        (e.title == title && e.priority == 3 && o.title == "changed meanwhile, renamed")
            .then_some(())
    })
    .await;
    // And it stays so: a host reconcile finds nothing to publish (the file is no user edit).
    reconcile_every_host(&sys).await;
    for h in &sys.hosts {
        let t = h.find("changed meanwhile, renamed");
        assert!(t.is_some(), "{} lost the rename after a reconcile", h.name);
    }
    let (e, o) = (
        sys.sim.task(edited.id).unwrap(),
        sys.sim.task(other.id).unwrap(),
    );
    assert_eq!(
        (e.title.as_str(), o.title.as_str()),
        (title, "changed meanwhile, renamed")
    );
    sys.shutdown().await.unwrap();
}
