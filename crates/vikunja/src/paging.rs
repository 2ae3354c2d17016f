//! Listings, `per_page` 50 (Vikunja's cap). Tasks are read by an id cursor (`sort_by=id`,
//! `filter=id > <last id seen>`): numbered pages are cut from the listing as it is when each
//! page is asked for, so a task deleted between two pages would shift another one out of the
//! listing unseen, and a sync would take it for deleted. Other listings (projects, labels,
//! webhooks) cannot be filtered by id and are read by page number. Either way the last page is
//! the one `x-pagination-total-pages` names; without that header, listing goes on until an
//! empty page.

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
        let mut previous: Option<Value> = None;
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
            let body = non_null(answer.body);
            // A server (or proxy) that ignores `page` answers the same page again.
            if page > 1 && previous.as_ref() == Some(&body) {
                return Ok(out);
            }
            let items: Vec<T> =
                serde_json::from_value(body.clone()).map_err(|e| decode_error(call.route(), e))?;
            if items.is_empty() {
                return Ok(out);
            }
            out.extend(items);
            if total_pages.is_some_and(|total| page >= total) {
                return Ok(out);
            }
            previous = Some(body);
            page += 1;
        }
    }

    /// Every task of the listing at `path` (optionally narrowed by `filter`), in id order, read
    /// by an id cursor: each request asks for the tasks after the last id seen.
    pub(crate) async fn all_by_id(
        &self,
        call: Call,
        path: &str,
        filter: Option<&str>,
    ) -> Result<Vec<Value>, VikunjaError> {
        let mut out = Vec::new();
        let mut last: Option<i64> = None;
        loop {
            let mut req = Request::to(call, path.to_string())
                .query("sort_by", "id")
                .query("order_by", "asc")
                .query("per_page", PER_PAGE.to_string());
            if let Some(f) = cursor_filter(filter, last) {
                req = req.query("filter", f);
            }
            let answer = self.send(req).await?;
            let total_pages = total_pages(&answer);
            let items: Vec<Value> = serde_json::from_value(non_null(answer.body))
                .map_err(|e| decode_error(call.route(), e))?;
            let Some(newest) = items.iter().filter_map(|t| t["id"].as_i64()).max() else {
                return Ok(out);
            };
            if last.is_some_and(|l| newest <= l) {
                return Err(decode_error(call.route(), "the id cursor did not advance"));
            }
            last = Some(newest);
            out.extend(items);
            // The header counts the pages left from the cursor on: one means this was the last.
            if total_pages.is_some_and(|total| total <= 1) {
                return Ok(out);
            }
        }
    }
}

/// The filter asking for the tasks after `last` (and matching `filter`).
fn cursor_filter(filter: Option<&str>, last: Option<i64>) -> Option<String> {
    match (filter, last) {
        (None, None) => None,
        (Some(f), None) => Some(f.to_string()),
        (None, Some(id)) => Some(format!("id > {id}")),
        (Some(f), Some(id)) => Some(format!("({f}) && id > {id}")),
    }
}

/// Vikunja answers an empty list as `null`.
fn non_null(body: Value) -> Value {
    match body {
        Value::Null => Value::Array(Vec::new()),
        v => v,
    }
}

/// `x-pagination-total-pages`, when the answer has it.
fn total_pages(answer: &Answer) -> Option<u32> {
    answer
        .headers
        .get("x-pagination-total-pages")
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::cursor_filter;

    #[test]
    fn the_cursor_narrows_the_callers_filter() {
        assert_eq!(cursor_filter(None, None), None);
        assert_eq!(
            cursor_filter(Some("updated >= x"), None).as_deref(),
            Some("updated >= x")
        );
        assert_eq!(cursor_filter(None, Some(7)).as_deref(), Some("id > 7"));
        assert_eq!(
            cursor_filter(Some("done = false || priority > 2"), Some(7)).as_deref(),
            Some("(done = false || priority > 2) && id > 7")
        );
    }
}
