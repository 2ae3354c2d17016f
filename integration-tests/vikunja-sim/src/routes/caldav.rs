//! CalDAV, as far as mapping UIDs goes (reference §6, §8): `PROPFIND /dav/projects/{id}/`
//! lists the project (Depth 0) and each live task as `{UID}.ics` (Depth 1), with ETags
//! `"<task id>-<updated unix seconds>"` and, for the collection, `"<project id>-<newest
//! updated>"`. HTTP Basic as user 1 with an API token holding `caldav` `access` (≥ 2.3.0).

use std::fmt::Write;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;

use super::Sh;
use crate::base64;
use crate::error::SimError;
use crate::shared::{Shared, lock};
use crate::state::State as Db;

pub(super) fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/dav/projects/{id}", any(project))
        .route("/dav/projects/{id}/", any(project))
}

/// Echo's BasicAuth refusal.
fn unauthorized() -> Response {
    let mut resp = SimError::plain(401, "Unauthorized").into_response();
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("basic realm=\"Restricted\""),
    );
    resp
}

/// The user name and API token match user 1 and a token with `caldav` `access`.
fn authenticated(sh: &Shared, headers: &HeaderMap) -> bool {
    let Some((user, password)) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(base64::decode)
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())))
    else {
        return false;
    };
    let owner = sh.read(|st| st.doer().username);
    sh.server.version.caldav_tokens()
        && password.starts_with("tk_")
        && user == owner
        && lock(&sh.tokens)
            .find(&password)
            .is_some_and(|t| t.allows("caldav", "access"))
}

/// `url.PathEscape` plus `&`, as Vikunja writes hrefs.
fn path_escape(segment: &str) -> String {
    let mut out = String::new();
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~!$'()*+,;=:@".contains(&b) {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn response(out: &mut String, href: &str, props: &str) {
    let _ = write!(
        out,
        "<d:response><d:href>{}</d:href><d:propstat><d:prop>{props}</d:prop>\
         <d:status>HTTP/1.1 200 OK</d:status></d:propstat></d:response>",
        xml_escape(href)
    );
}

/// The multistatus body, `None` when the project does not exist.
fn multistatus(st: &Db, pid: i64, href: &str, depth_one: bool) -> Option<String> {
    let project = st.projects.get(&pid)?;
    let tasks: Vec<_> = st
        .tasks
        .values()
        .filter(|t| t.project_id == pid && !t.deleted)
        .collect();
    let newest = tasks
        .iter()
        .map(|t| t.updated)
        .chain([project.updated])
        .max()
        .unwrap_or(project.updated);
    let mut out = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
         <d:multistatus xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\">",
    );
    let collection = format!(
        "<d:displayname>{}</d:displayname><d:getetag>\"{pid}-{}\"</d:getetag>\
         <d:resourcetype><d:collection/><c:calendar/></d:resourcetype>",
        xml_escape(&project.title),
        newest.unix_timestamp()
    );
    response(&mut out, href, &collection);
    if depth_one {
        let mut seen = std::collections::BTreeSet::new();
        for t in tasks {
            // UIDs are not unique; Vikunja lists one href once.
            let href = format!("/dav/projects/{pid}/{}.ics", path_escape(&t.uid));
            if !seen.insert(href.clone()) {
                continue;
            }
            let props = format!(
                "<d:displayname>{}</d:displayname><d:getetag>\"{}-{}\"</d:getetag>\
                 <d:getcontenttype>text/calendar; charset=utf-8; component=vtodo</d:getcontenttype>\
                 <d:resourcetype/>",
                xml_escape(&t.title),
                t.id,
                t.updated.unix_timestamp()
            );
            response(&mut out, &href, &props);
        }
    }
    out.push_str("</d:multistatus>");
    Some(out)
}

async fn project(State(sh): Sh, Path(raw): Path<String>, req: Request) -> Response {
    if !authenticated(&sh, req.headers()) {
        return unauthorized();
    }
    if req.method().as_str() != "PROPFIND" {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    let Ok(pid) = raw.parse::<i64>() else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let depth_one = req
        .headers()
        .get("depth")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|d| d.trim() != "0");
    let href = req.uri().path().to_owned();
    match sh.read(|st| multistatus(st, pid, &href, depth_one)) {
        Some(body) => {
            let mut resp = (StatusCode::MULTI_STATUS, body).into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/xml; charset=utf-8"),
            );
            resp
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
