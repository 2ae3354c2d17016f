//! Tasks the unit tests share: four uuids, and a pending task by description and priority.
#![allow(clippy::unwrap_used)]

use serde_json::json;
use vsync_model::TwTask;

pub(crate) const A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
pub(crate) const B: &str = "bbbbbbbb-0000-4000-8000-000000000002";
pub(crate) const C: &str = "cccccccc-0000-4000-8000-000000000003";
pub(crate) const D: &str = "dddddddd-0000-4000-8000-000000000004";

/// A pending task (no priority when `priority` is empty), last changed at unix second 0.
pub(crate) fn task(uuid: &str, description: &str, priority: &str) -> TwTask {
    let mut v = json!({"uuid": uuid, "status": "pending", "description": description,
        "modified": "19700101T000000Z"});
    if !priority.is_empty() {
        v["priority"] = json!(priority);
    }
    TwTask::from_value(v).unwrap()
}
