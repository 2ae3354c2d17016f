//! Which task a CalDAV UID names: one `PROPFIND` per project, as the token's owner, with an
//! API token holding `caldav` `access` (and `other` `user` to learn the owner's name).

use std::time::Duration;

use vikunja_sim::SimConfig;
use vsync_vikunja::{CaldavTask, ErrorKind};

use crate::helpers::{client, new_task, quick_retry, start};

#[tokio::test]
async fn each_live_task_of_a_project_is_found_by_its_caldav_uid() {
    let f = start(SimConfig::default(), quick_retry(1)).await;
    let synced = f.sim.create_project("Synced", 0).id;
    let elsewhere = f.sim.create_project("Elsewhere", 0).id;
    // Made through the API: Vikunja gives it a UID of its own.
    let made = f
        .api
        .create_task(synced, &new_task("made in Vikunja"))
        .await
        .expect("created");
    // Came in over CalDAV from syncall, with the UID syncall's side chose.
    let from_syncall = f.sim.create_task(synced, "from syncall").id;
    f.sim
        .set_caldav_uid(from_syncall, "syncall uid/1 & täsk")
        .expect("uid set");
    let gone = f.sim.create_task(synced, "deleted").id;
    f.sim.delete_task(gone);
    f.sim.create_task(elsewhere, "another project's");
    let token = f
        .sim
        .create_token(&[("caldav", &["access"]), ("other", &["user"])], None)
        .expect("token");
    let api = client(&f.sim, &token, Duration::from_secs(10));

    let username = api.current_username().await.expect("owner");
    assert_eq!(username, "demo");
    let mut listed = api.caldav_tasks(synced, &username).await.expect("listing");
    listed.sort();
    let generated = f.sim.caldav_uid(made.id()).expect("generated uid");
    let mut want = vec![
        CaldavTask {
            uid: generated,
            task_id: made.id(),
        },
        CaldavTask {
            uid: "syncall uid/1 & täsk".into(),
            task_id: from_syncall,
        },
    ];
    want.sort();
    assert_eq!(listed, want);
    let propfinds: Vec<(String, u16)> = f
        .sim
        .requests()
        .iter()
        .filter(|r| r.method == "PROPFIND")
        .map(|r| (r.route.clone(), r.status))
        .collect();
    assert_eq!(propfinds, [("/dav/projects/{id}/".to_string(), 207)]);
}

#[tokio::test]
async fn caldav_is_refused_to_another_name_or_a_token_without_caldav_access() {
    let f = start(SimConfig::default(), quick_retry(1)).await;
    let project = f.sim.create_project("Synced", 0).id;
    let no_caldav = f
        .sim
        .create_token(&[("tasks", &["read_all"])], None)
        .expect("token");
    let api = client(&f.sim, &no_caldav, Duration::from_secs(10));
    let refused = api
        .caldav_tasks(project, "demo")
        .await
        .expect_err("no caldav");
    assert_eq!(refused.kind(), ErrorKind::Unauthorized);
    assert!(
        !api.token_rejected(),
        "a CalDAV 401 says nothing about the token on the API"
    );
    let refused = api.current_username().await.expect_err("no other.user");
    assert_eq!(refused.kind(), ErrorKind::Unauthorized);

    let wrong_name = f.api.caldav_tasks(project, "bob").await.expect_err("bob");
    assert_eq!(wrong_name.kind(), ErrorKind::Unauthorized);
    let missing = f.api.caldav_tasks(4711, "demo").await.expect_err("missing");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}
