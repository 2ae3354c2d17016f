//! `PROPFIND /dav/projects/{id}/`: every task by its CalDAV UID, with the ETag
//! `"<task id>-<updated unix>"` that maps the UID to the REST id.

use std::collections::BTreeMap;

use vikunja_sim::SimConfig;

use crate::helpers::Api;

fn propfind(
    api: &Api,
    path: &str,
    depth: &str,
    user: &str,
    password: &str,
) -> reqwest::RequestBuilder {
    let method = reqwest::Method::from_bytes(b"PROPFIND").unwrap();
    api.http
        .request(method, format!("{}{path}", api.sim.base_url()))
        .basic_auth(user, Some(password))
        .header("Depth", depth)
        .header("Content-Type", "application/xml")
        .body(r#"<?xml version="1.0"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>"#)
}

/// href → ETag of every `<d:response>`.
fn etags(xml: &str) -> BTreeMap<String, String> {
    let between = |s: &str, open: &str, close: &str| {
        let start = s.find(open)? + open.len();
        Some(s[start..start + s[start..].find(close)?].to_owned())
    };
    xml.split("<d:response>")
        .skip(1)
        .filter_map(|r| {
            Some((
                between(r, "<d:href>", "</d:href>")?,
                between(r, "<d:getetag>", "</d:getetag>")?,
            ))
        })
        .collect()
}

#[tokio::test]
async fn propfind_maps_each_uid_to_its_task_id() {
    let api = Api::start().await;
    let p = api.sim.create_project("Synced", 0);
    let old = api.sim.create_task(p.id, "from syncall");
    api.sim.set_caldav_uid(old.id, "syncall-uid-1").unwrap();
    let new = api.sim.create_task(p.id, "made in Vikunja");
    let gone = api.sim.create_task(p.id, "deleted");
    api.sim.delete_task(gone.id);
    let token = api
        .sim
        .create_token(&[("caldav", &["access"])], None)
        .unwrap();

    let path = format!("/dav/projects/{}/", p.id);
    let r = propfind(&api, &path, "1", "demo", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 207);
    let listed = etags(&r.text().await.unwrap());
    let old = api.sim.task(old.id).unwrap();
    let new_uid = api.sim.caldav_uid(new.id).unwrap();
    let new = api.sim.task(new.id).unwrap();
    assert_eq!(
        listed.get(&format!("/dav/projects/{}/syncall-uid-1.ics", p.id)),
        Some(&format!("\"{}-{}\"", old.id, old.updated.unix_timestamp()))
    );
    assert_eq!(
        listed.get(&format!("/dav/projects/{}/{new_uid}.ics", p.id)),
        Some(&format!("\"{}-{}\"", new.id, new.updated.unix_timestamp()))
    );
    assert!(listed.contains_key(&path), "the collection itself");
    assert_eq!(
        listed.len(),
        3,
        "the deleted task is not listed: {listed:?}"
    );

    let shallow = propfind(&api, &path, "0", "demo", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(etags(&shallow.text().await.unwrap()).len(), 1);
    let missing = propfind(&api, "/dav/projects/4711/", "1", "demo", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

#[tokio::test]
async fn caldav_takes_basic_auth_with_a_token_holding_caldav_access() {
    let api = Api::start().await;
    let no_caldav = api
        .sim
        .create_token(&[("tasks", &["read_all"])], None)
        .unwrap();
    let token = api.sim.token();
    for (user, password) in [
        ("demo", no_caldav.as_str()),
        ("bob", token.as_str()),
        ("demo", "wrong"),
    ] {
        let r = propfind(&api, "/dav/projects/1/", "1", user, password)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 401, "{user}");
        assert!(r.headers().contains_key("www-authenticate"));
    }
    let ok = propfind(&api, "/dav/projects/1/", "1", "demo", &token)
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status().as_u16(), 207);

    let old = Api::with(SimConfig {
        version: "v2.2.0".into(),
        ..SimConfig::default()
    })
    .await;
    let r = propfind(&old, "/dav/projects/1/", "1", "demo", &old.sim.token())
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status().as_u16(),
        401,
        "API tokens work on CalDAV from 2.3.0"
    );
}
