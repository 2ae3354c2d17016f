//! `GET /info`: the server's version (which decides how tasks are written), whether it has
//! webhooks, and its clock (the `Date` header).

use std::time::SystemTime;

use serde::Deserialize;

use crate::VikunjaClient;
use crate::calls::Call;
use crate::error::{VikunjaError, decode_error};
use crate::transport::Request;

/// What `/api/v1/info` says about the server.
#[derive(Clone, Debug, PartialEq)]
pub struct ServerInfo {
    /// As the server reports it, e.g. `v2.5.0` or `v0.24.6-12-gabc`.
    pub version: String,
    pub webhooks_enabled: bool,
    pub caldav_enabled: bool,
    pub max_items_per_page: u64,
    /// The server's clock when it answered (the `Date` header, whole seconds).
    pub date: Option<SystemTime>,
}

#[derive(Deserialize)]
struct InfoBody {
    #[serde(default)]
    version: String,
    #[serde(default)]
    webhooks_enabled: bool,
    #[serde(default)]
    caldav_enabled: bool,
    #[serde(default)]
    max_items_per_page: u64,
}

impl ServerInfo {
    /// `PATCH /api/v2/tasks/{id}` (a JSON merge patch) exists: Vikunja >= 2.4.0. A version
    /// that does not parse (a development build) is taken as new; a missing route is noticed
    /// on the first write and the version read again.
    pub fn has_merge_patch(&self) -> bool {
        version_numbers(&self.version).is_none_or(|v| v >= (2, 4, 0))
    }
}

/// `[v]MAJOR.MINOR.PATCH` at the start of a version string.
pub fn version_numbers(version: &str) -> Option<(u64, u64, u64)> {
    let core = version.trim().trim_start_matches('v');
    let core = core.split(['-', '+', ' ']).next()?;
    let mut n = core.split('.').map(|p| p.parse::<u64>().ok());
    let major = n.next()??;
    Some((
        major,
        n.next().flatten().unwrap_or(0),
        n.next().flatten().unwrap_or(0),
    ))
}

impl VikunjaClient {
    /// Reads `/info` now (no token needed), and keeps it for [`VikunjaClient::server_info`].
    pub async fn fetch_server_info(&self) -> Result<ServerInfo, VikunjaError> {
        let answer = self
            .transport
            .send(Request::to(Call::Info, "/info".into()))
            .await?;
        let body: InfoBody =
            serde_json::from_value(answer.body).map_err(|e| decode_error(Call::Info.route(), e))?;
        let date = answer
            .headers
            .get(http::header::DATE)
            .and_then(|d| d.to_str().ok())
            .and_then(|d| httpdate::parse_http_date(d).ok());
        let info = ServerInfo {
            version: body.version,
            webhooks_enabled: body.webhooks_enabled,
            caldav_enabled: body.caldav_enabled,
            max_items_per_page: body.max_items_per_page,
            date,
        };
        *crate::lock(&self.server) = Some(info.clone());
        Ok(info)
    }

    /// The server's `/info`, read once and kept until [`VikunjaClient::forget_server_info`].
    pub async fn server_info(&self) -> Result<ServerInfo, VikunjaError> {
        if let Some(info) = crate::lock(&self.server).clone() {
            return Ok(info);
        }
        self.fetch_server_info().await
    }

    /// The next [`VikunjaClient::server_info`] reads `/info` again (after a failed write: the
    /// server may have been upgraded or replaced).
    pub fn forget_server_info(&self) {
        *crate::lock(&self.server) = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(version: &str) -> ServerInfo {
        ServerInfo {
            version: version.into(),
            webhooks_enabled: true,
            caldav_enabled: true,
            max_items_per_page: 50,
            date: None,
        }
    }

    #[test]
    fn merge_patch_from_2_4_0() {
        assert!(info("v2.4.0").has_merge_patch());
        assert!(info("v2.5.0-160-g762dc4e").has_merge_patch());
        assert!(info("v3.0").has_merge_patch());
        assert!(!info("v2.3.9").has_merge_patch());
        assert!(!info("0.24.6").has_merge_patch());
        assert!(info("unstable").has_merge_patch());
        assert_eq!(version_numbers("v2.5.0-sim"), Some((2, 5, 0)));
    }
}
