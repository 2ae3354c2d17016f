//! Listings: every page of a route, `per_page` 50 (Vikunja's cap), until
//! `x-pagination-total-pages` or an empty page.

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::calls::Call;
use crate::error::{VikunjaError, decode_error};
use crate::transport::{Answer, Request, Transport};

/// Vikunja's default and cap of `per_page` (`service.maxitemsperpage`).
const PER_PAGE: u32 = 50;

impl Transport {
    /// Every page of the listing at `path` with `query`; each page is one GET.
    pub(crate) async fn all_pages<T: DeserializeOwned>(
        &self,
        call: Call,
        path: &str,
        query: &[(&'static str, &str)],
    ) -> Result<Vec<T>, VikunjaError> {
        let mut out = Vec::new();
        let mut page = 1;
        loop {
            let mut req = Request::to(call, path.to_string());
            for (name, value) in query {
                req = req.query(name, *value);
            }
            let req = req
                .query("page", page.to_string())
                .query("per_page", PER_PAGE.to_string());
            let answer = self.send(req).await?;
            let total_pages = total_pages(&answer);
            // Vikunja answers an empty list as `null`.
            let items: Vec<T> = match answer.body {
                Value::Null => Vec::new(),
                v => serde_json::from_value(v).map_err(|e| decode_error(call.route(), e))?,
            };
            let empty = items.is_empty();
            out.extend(items);
            if page >= total_pages || empty {
                return Ok(out);
            }
            page += 1;
        }
    }
}

/// `x-pagination-total-pages`; a listing without it is taken as one page.
fn total_pages(answer: &Answer) -> u32 {
    answer
        .headers
        .get("x-pagination-total-pages")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse().ok())
        .unwrap_or(1)
}
