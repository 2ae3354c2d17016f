//! Fan-out (reference §1.3): the webhooks of the event's project and its ancestors, each with
//! a body built from the data as it is now, re-read as the user who made the change. A change
//! made through a link share is not re-read: its body is the object as it was dispatched.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use crate::model::{Webhook, ts};
use crate::shared::Shared;
use crate::state::{Actor, Event};

use super::queue::Job;

#[derive(Serialize)]
struct Payload<'a> {
    event_name: &'a str,
    time: String,
    data: BTreeMap<&'static str, Value>,
}

/// Our model structs always serialise.
fn json<T: Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Finds the subscribed webhooks and builds each one's body.
pub(crate) fn fan_out(shared: &Shared, ev: &Event) -> Vec<Job> {
    shared.read(|st| {
        let mut projects = vec![ev.project_id];
        if !ev.own_only {
            projects.extend(st.ancestors(ev.project_id));
        }
        let hooks: Vec<&Webhook> = st
            .webhooks
            .values()
            .filter(|w| projects.contains(&w.project_id) && w.events.iter().any(|e| e == ev.name))
            .collect();
        if hooks.is_empty() {
            return Vec::new();
        }
        let mut data: BTreeMap<&'static str, Value> = BTreeMap::new();
        data.insert("doer", json(&st.actor_user(ev.doer)));
        if let Some(a) = &ev.assignee {
            data.insert(
                "assignee",
                json(&st.user(a.id).unwrap_or_else(|| a.clone())),
            );
        }
        if let Some((key, value)) = &ev.extra {
            data.insert(key, value.clone());
        }
        let reread = match ev.doer {
            Actor::User(id) => Some(id),
            Actor::LinkShare(_) => None,
        };
        if let Some(p) = &ev.project {
            let now = reread
                .and_then(|_| st.projects.get(&p.id))
                .map(|row| st.render_project(row));
            data.insert("project", json(now.as_ref().unwrap_or(p)));
        }
        if let Some(id) = ev.task_id {
            let now = reread.and_then(|viewer| st.task_as(id, viewer));
            match (now, &ev.task) {
                (Some(t), _) => data.insert("task", json(&t)),
                (None, Some(snapshot)) => data.insert("task", snapshot.clone()),
                (None, None) => None,
            };
        }
        let time = ts::format(time::OffsetDateTime::now_utc());
        hooks
            .into_iter()
            .map(|hook| {
                let mut data = data.clone();
                if !data.contains_key("project")
                    && let Some(row) = st.projects.get(&hook.project_id)
                {
                    data.insert("project", json(&st.render_project(row)));
                }
                let body = serde_json::to_string(&Payload {
                    event_name: ev.name,
                    time: time.clone(),
                    data,
                })
                .unwrap_or_default();
                Job {
                    hook: hook.clone(),
                    event_name: ev.name,
                    body,
                    unreachable: false,
                }
            })
            .collect()
    })
}
