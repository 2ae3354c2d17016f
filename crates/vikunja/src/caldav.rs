//! Which Vikunja task a CalDAV UID names, read-only (adopting syncall's pairs). The REST API
//! never shows a task's UID (`json:"-"`) and cannot filter on it; over CalDAV a `PROPFIND`
//! (Depth 1) of `/dav/projects/{id}/` lists every task of the project as `{UID}.ics` with the
//! ETag `"<task id>-<updated unix seconds>"`, so one request per project maps every UID to
//! its task id without reading a VTODO (docs/MIGRATING.md). CalDAV takes HTTP Basic: the
//! token owner's username with an API token holding `caldav` `access` (Vikunja >= 2.3.0).

use std::sync::atomic::Ordering;

use reqwest::Method;
use secrecy::ExposeSecret;
use serde::Deserialize;
use tracing::Instrument;

use crate::VikunjaClient;
use crate::calls::Call;
use crate::error::{self, VikunjaError};
use crate::transport::Request;

/// Names spans, metrics and errors of the listing.
const ROUTE: &str = "/dav/projects/{id}/";
const DAV: &str = "DAV:";
/// Only the ETags: no VTODO is rendered or sent.
const PROPFIND_ETAGS: &str = r#"<?xml version="1.0" encoding="utf-8"?><d:propfind xmlns:d="DAV:"><d:prop><d:getetag/></d:prop></d:propfind>"#;

/// One task of a project as CalDAV lists it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct CaldavTask {
    /// The VTODO's `UID` (what syncall stored), decoded from the href.
    pub uid: String,
    /// The REST id, from the ETag.
    pub task_id: i64,
}

#[derive(Deserialize)]
struct User {
    username: String,
}

impl VikunjaClient {
    /// The username of the token's owner (`GET /user`; the token needs `other` `user`):
    /// CalDAV accepts an API token only with its owner's username.
    pub async fn current_username(&self) -> Result<String, VikunjaError> {
        let user: User = self
            .json(Request::to(Call::CurrentUser, "/user".into()))
            .await?;
        Ok(user.username)
    }

    /// Every live task of project `project_id` by its CalDAV UID, as `username` (the token's
    /// owner) sees it; one request, not retried. A task without a UID has none to match and
    /// is left out; UIDs are not unique, and Vikunja lists one href once.
    pub async fn caldav_tasks(
        &self,
        project_id: i64,
        username: &str,
    ) -> Result<Vec<CaldavTask>, VikunjaError> {
        let span = tracing::info_span!(
            "vikunja_caldav",
            otel.name = "PROPFIND /dav/projects/{id}/",
            otel.kind = "client",
            http.request.method = "PROPFIND",
            url.template = ROUTE,
            project_id,
            http.response.status_code = tracing::field::Empty,
        );
        let text = self.propfind(project_id, username).instrument(span).await?;
        parse_multistatus(&text).map_err(|reason| error::decode_error(ROUTE, reason))
    }

    async fn propfind(&self, project_id: i64, username: &str) -> Result<String, VikunjaError> {
        let t = &self.transport;
        let method = Method::from_bytes(b"PROPFIND").expect("PROPFIND is a valid method token");
        let url = format!("{}/dav/projects/{project_id}/", t.root);
        let token = t.token.current();
        t.calls.fetch_add(1, Ordering::Relaxed);
        let sent = t
            .http
            .request(method.clone(), url)
            .basic_auth(username, Some(token.expose_secret()))
            .header("Depth", "1")
            .header(http::header::CONTENT_TYPE, "application/xml; charset=utf-8")
            .body(PROPFIND_ETAGS)
            .send()
            .await;
        let transport = |source| VikunjaError::Transport {
            route: ROUTE.to_string(),
            source,
        };
        let resp = match sent {
            Ok(r) => r,
            Err(e) => {
                t.observe(ROUTE, &method, 0);
                return Err(transport(e));
            }
        };
        let status = resp.status();
        t.observe(ROUTE, &method, status.as_u16());
        tracing::Span::current().record("http.response.status_code", status.as_u16());
        // A 401 here says nothing about the token on the API (it may lack `caldav` only), so
        // the token is not marked rejected.
        let bytes = resp.bytes().await.map_err(transport)?;
        if !status.is_success() {
            return Err(error::from_answer(ROUTE, status, &bytes));
        }
        String::from_utf8(bytes.to_vec()).map_err(|e| error::decode_error(ROUTE, e))
    }
}

/// The tasks of a `multistatus` answer; the collection's own entry is skipped.
fn parse_multistatus(xml: &str) -> Result<Vec<CaldavTask>, String> {
    let doc = roxmltree::Document::parse(xml).map_err(|e| format!("not XML: {e}"))?;
    let mut out = Vec::new();
    for response in doc
        .descendants()
        .filter(|n| n.has_tag_name((DAV, "response")))
    {
        let text = |name: &str| {
            response
                .descendants()
                .find(|n| n.has_tag_name((DAV, name)))
                .and_then(|n| n.text())
                .map(str::trim)
        };
        let Some(uid) = text("href").and_then(uid_of) else {
            continue;
        };
        let etag = text("getetag").ok_or_else(|| format!("{uid}.ics has no ETag"))?;
        let task_id = task_id_of(etag)
            .ok_or_else(|| format!("{uid}.ics: ETag {etag} is not \"<task id>-<updated>\""))?;
        out.push(CaldavTask { uid, task_id });
    }
    Ok(out)
}

/// The UID of a task's href (`…/{percent-encoded UID}.ics`, path or absolute URL); `None` for
/// a collection or a task without a UID (`…/.ics`).
fn uid_of(href: &str) -> Option<String> {
    let name = href.rsplit('/').next()?.strip_suffix(".ics")?;
    let uid = percent_encoding::percent_decode_str(name).decode_utf8_lossy();
    (!uid.is_empty()).then(|| uid.into_owned())
}

/// The task id of Vikunja's ETag `"<task id>-<updated unix seconds>"` (the seconds may be
/// negative: `"7--62135596800"` for a zero time).
fn task_id_of(etag: &str) -> Option<i64> {
    let bare = etag.trim_start_matches("W/").trim_matches('"');
    let (id, _) = bare.split_once('-')?;
    id.parse().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As caldav-go writes it: `D:` prefix, the collection first, hrefs percent-encoded.
    const VIKUNJA: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<D:multistatus xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav">
  <D:response><D:href>/dav/projects/36/</D:href>
    <D:propstat><D:prop><D:getetag>"36-1724000000"</D:getetag></D:prop>
    <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
  <D:response><D:href>/dav/projects/36/550e8400-e29b-41d4-a716-446655440000.ics</D:href>
    <D:propstat><D:prop><D:getetag>"12-1724000000"</D:getetag></D:prop>
    <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
  <D:response><D:href>https://v.example/dav/projects/36/sale%202026%20spring%26more.ics</D:href>
    <D:propstat><D:prop><D:getetag>W/"13--62135596800"</D:getetag></D:prop>
    <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
  <D:response><D:href>/dav/projects/36/t%C3%A4sk-%CE%A9%2Fx.ics</D:href>
    <D:propstat><D:prop><D:getetag>"14-1724000001"</D:getetag></D:prop>
    <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
  <D:response><D:href>/dav/projects/36/.ics</D:href>
    <D:propstat><D:prop><D:getetag>"15-1724000001"</D:getetag></D:prop>
    <D:status>HTTP/1.1 200 OK</D:status></D:propstat></D:response>
</D:multistatus>"#;

    fn task(uid: &str, task_id: i64) -> CaldavTask {
        CaldavTask {
            uid: uid.into(),
            task_id,
        }
    }

    #[test]
    fn each_href_gives_its_uid_and_each_etag_its_task_id() {
        assert_eq!(
            parse_multistatus(VIKUNJA),
            Ok(vec![
                task("550e8400-e29b-41d4-a716-446655440000", 12),
                task("sale 2026 spring&more", 13),
                task("täsk-Ω/x", 14),
            ])
        );
    }

    #[test]
    fn an_etag_of_another_shape_is_an_error_not_a_wrong_link() {
        let xml = VIKUNJA.replace("\"12-1724000000\"", "\"abc\"");
        let err = parse_multistatus(&xml).expect_err("unknown ETag");
        assert!(
            err.contains("550e8400-e29b-41d4-a716-446655440000.ics"),
            "{err}"
        );
        assert!(parse_multistatus("<D:multistatus").is_err());
        assert_eq!(task_id_of("\"0-17\""), None);
    }
}
