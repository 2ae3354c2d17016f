//! From a webhook body to a task event: which events we sync, their subject and message id.

use serde_json::Value;
use vsync_proto::{EventKind, Origin, TaskEvent, VikunjaChange, task_event};

/// What to do with a verified webhook.
#[derive(Debug)]
pub enum Classified {
    /// An event we do not sync (comments, attachments, reminders, ...): acknowledged, counted.
    Ignored { event_name: String },
    /// Signed, but sent longer ago than the allowed age: a replay, refused.
    Stale { age_us: i64 },
    Publish {
        subject: String,
        /// From content: Vikunja has no delivery id and delivers duplicates.
        msg_id: String,
        event: TaskEvent,
    },
}

/// Parses a webhook body `{event_name, time, data}`; `Err` says why it is not a Vikunja event.
/// A body whose `time` (when Vikunja sent it) is more than `max_age_us` before
/// `received_at_us` is [`Classified::Stale`].
pub fn classify(body: &[u8], received_at_us: i64, max_age_us: i64) -> Result<Classified, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON: {e}"))?;
    let event_name = v
        .get("event_name")
        .and_then(Value::as_str)
        .ok_or("no `event_name`")?
        .to_string();
    let sent_at_us = v
        .get("time")
        .and_then(Value::as_str)
        .and_then(vsync_model::dates::parse_vikunja_us)
        .ok_or("no valid `time`")?;
    let age_us = received_at_us.saturating_sub(sent_at_us);
    if age_us > max_age_us {
        return Ok(Classified::Stale { age_us });
    }
    let data = v
        .get("data")
        .filter(|d| d.is_object())
        .ok_or("no `data` object")?;
    let kind = match event_name.as_str() {
        "task.created" => EventKind::Created,
        "task.deleted" | "project.deleted" => EventKind::Deleted,
        "task.updated"
        | "task.assignee.created"
        | "task.assignee.deleted"
        | "task.relation.created"
        | "task.relation.deleted"
        | "project.updated" => EventKind::Updated,
        _ => return Ok(Classified::Ignored { event_name }),
    };
    let project_json = data
        .get("project")
        .map(Value::to_string)
        .unwrap_or_default();
    if let Some(project) = event_name.strip_prefix("project.").and(data.get("project")) {
        let project_id = positive_id(project, "data.project.id")?;
        let updated = project
            .get("updated")
            .map(Value::to_string)
            .unwrap_or_default();
        let msg_id = vsync_bus::content_id(&[
            event_name.as_bytes(),
            project_id.to_string().as_bytes(),
            updated.as_bytes(),
            project_json.as_bytes(),
        ]);
        let event = event(
            kind,
            received_at_us,
            VikunjaChange {
                event_name,
                task_id: 0,
                project_id,
                task_json: String::new(),
                project_json,
                doer_id: doer_id(data),
            },
        );
        return Ok(Classified::Publish {
            subject: vsync_bus::subject::vikunja_project(project_id, kind),
            msg_id,
            event,
        });
    }
    let task = data
        .get("task")
        .filter(|t| t.is_object())
        .ok_or("no `data.task` object")?;
    let task_id = positive_id(task, "data.task.id")?;
    let project_id = task
        .get("project_id")
        .and_then(Value::as_i64)
        .ok_or("no `data.task.project_id`")?;
    // serde_json orders keys, so equal tasks give equal text whatever order Vikunja used.
    let task_json = task.to_string();
    let updated = task.get("updated").and_then(Value::as_str).unwrap_or("");
    // `updated` has one-second resolution, so A -> B -> A within a second would repeat an id:
    // the fan-out `time` (nanoseconds) tells separate events apart, while a redelivery of the
    // same event carries the same body and so the same id.
    let time = v.get("time").and_then(Value::as_str).unwrap_or("");
    let fanned_out_us = vsync_model::dates::parse_vikunja_us(time);
    let changed_at_us = change_time(updated, fanned_out_us.unwrap_or(received_at_us));
    let msg_id = vsync_bus::content_id(&[
        event_name.as_bytes(),
        task_id.to_string().as_bytes(),
        updated.as_bytes(),
        time.as_bytes(),
        task_json.as_bytes(),
    ]);
    let mut ev = event(
        kind,
        received_at_us,
        VikunjaChange {
            event_name,
            task_id,
            project_id,
            task_json,
            project_json,
            doer_id: doer_id(data),
        },
    );
    ev.changed_at_us = changed_at_us;
    Ok(Classified::Publish {
        subject: vsync_bus::subject::vikunja_task(project_id, kind),
        msg_id,
        event: ev,
    })
}

/// When the change happened. Vikunja's `updated` usually has one-second resolution: the change
/// happened within that second, just before Vikunja fanned its event out, so the fan-out `time`
/// (nanoseconds; the receipt time when there is none), capped to that second, orders it against
/// changes made elsewhere within the same second — and against the same task's other changes of
/// that second whatever order their webhooks arrive in.
fn change_time(updated: &str, fanned_out_us: i64) -> i64 {
    match vsync_model::dates::parse_vikunja_us(updated) {
        Some(u) if u % 1_000_000 == 0 => fanned_out_us.clamp(u, u + 999_999),
        Some(u) => u,
        None => fanned_out_us,
    }
}

/// `data.doer.id`: negative for a link share; 0 when missing.
fn doer_id(data: &Value) -> i64 {
    data.pointer("/doer/id")
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

fn positive_id(v: &Value, what: &str) -> Result<i64, String> {
    v.get("id")
        .and_then(Value::as_i64)
        .filter(|id| *id > 0)
        .ok_or_else(|| format!("no positive `{what}`"))
}

fn event(kind: EventKind, at_us: i64, change: VikunjaChange) -> TaskEvent {
    TaskEvent {
        origin: Origin::Vikunja as i32,
        kind: kind as i32,
        host: String::new(),
        changed_at_us: at_us,
        published_at_us: at_us,
        change: Some(task_event::Change::Vikunja(change)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(event: &str, task: Value) -> Vec<u8> {
        serde_json::json!({"event_name": event, "time": "2026-01-01T00:00:00Z",
            "data": {"task": task, "doer": {"id": 1}, "project": {"id": 3}}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn task_events_are_published_on_their_project_subject() {
        let b = body(
            "task.updated",
            serde_json::json!({"id": 7, "project_id": 3, "title": "x", "updated": "2026-01-01T00:00:01Z"}),
        );
        let Ok(Classified::Publish { subject, event, .. }) = classify(&b, 5, i64::MAX) else {
            panic!("published")
        };
        assert_eq!(
            subject,
            vsync_bus::subject::vikunja_task(3, EventKind::Updated)
        );
        // received 5 µs after the epoch, long before `updated`: the second's start
        assert_eq!(event.changed_at_us, 1_767_225_601_000_000);
        let Some(task_event::Change::Vikunja(ch)) = &event.change else {
            panic!("a Vikunja change")
        };
        assert_eq!(ch.doer_id, 1, "who made it (negative: a link share)");
        assert_eq!(
            change_time("2026-01-01T00:00:01Z", 1_767_225_601_250_000),
            1_767_225_601_250_000
        );
        assert_eq!(
            change_time("2026-01-01T00:00:01Z", 1_767_225_609_000_000),
            1_767_225_601_999_999
        );
        assert_eq!(
            change_time("2026-01-01T00:00:01.5Z", 1_767_225_609_000_000),
            1_767_225_601_500_000
        );
    }

    #[test]
    fn a_webhook_sent_longer_ago_than_the_allowed_age_is_stale() {
        let b = body(
            "task.updated",
            serde_json::json!({"id": 7, "project_id": 3}),
        );
        let sent = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
        let minute = 60_000_000;
        assert!(matches!(
            classify(&b, sent + minute, 5 * minute),
            Ok(Classified::Publish { .. })
        ));
        assert!(matches!(
            classify(&b, sent + 6 * minute, 5 * minute),
            Ok(Classified::Stale { age_us }) if age_us == 6 * minute
        ));
        let ignored = body("task.comment.created", serde_json::json!({"id": 1}));
        assert!(matches!(
            classify(&ignored, sent + 6 * minute, 5 * minute),
            Ok(Classified::Stale { .. })
        ));
    }

    #[test]
    fn changes_within_one_second_are_ordered_by_fan_out_not_by_arrival() {
        let at = |time: &str| {
            let b = serde_json::json!({"event_name": "task.updated", "time": time,
                "data": {"task": {"id": 7, "project_id": 3, "updated": "2026-01-01T00:00:01Z"}}})
            .to_string();
            match classify(b.as_bytes(), 1_767_225_609_000_000, i64::MAX) {
                Ok(Classified::Publish { event, .. }) => event.changed_at_us,
                _ => panic!("published"),
            }
        };
        // Received late and in reverse: the fan-out times still order them.
        assert_eq!(at("2026-01-01T00:00:01.700000001Z"), 1_767_225_601_700_000);
        assert_eq!(at("2026-01-01T00:00:01.2Z"), 1_767_225_601_200_000);
        assert_eq!(at("2026-01-01T01:00:01.2+01:00"), 1_767_225_601_200_000);
    }

    #[test]
    fn duplicates_share_a_message_id_and_changes_do_not() {
        let t = serde_json::json!({"id": 7, "project_id": 3, "title": "x", "updated": "2026-01-01T00:00:01Z"});
        let id = |b: &[u8]| match classify(b, 0, i64::MAX) {
            Ok(Classified::Publish { msg_id, .. }) => msg_id,
            other => panic!("{other:?}"),
        };
        let a = id(&body("task.updated", t.clone()));
        // same content delivered again, keys in another order
        let again = br#"{"time":"2026-01-01T00:00:00Z","data":{"project":{"id":3},"doer":{"id":1},"task":{"updated":"2026-01-01T00:00:01Z","title":"x","project_id":3,"id":7}},"event_name":"task.updated"}"#;
        assert_eq!(a, id(again));
        // a different change within the same second
        let mut t2 = t.clone();
        t2["title"] = "y".into();
        assert_ne!(a, id(&body("task.updated", t2)));
        // the same content from a later fan-out (A -> B -> A within one second)
        let later = String::from_utf8(body("task.updated", t))
            .unwrap_or_default()
            .replace(
                "\"time\":\"2026-01-01T00:00:00Z\"",
                "\"time\":\"2026-01-01T00:00:00.5Z\"",
            );
        assert_ne!(a, id(later.as_bytes()));
    }

    #[test]
    fn events_we_do_not_sync_are_ignored_and_garbage_is_refused() {
        assert!(matches!(
            classify(
                &body("task.comment.created", serde_json::json!({"id": 1})),
                0,
                i64::MAX
            ),
            Ok(Classified::Ignored { .. })
        ));
        assert!(classify(b"not json", 0, i64::MAX).is_err());
        assert!(classify(br#"{"event_name":"task.created","data":{}}"#, 0, i64::MAX).is_err());
        // no time, or one that is not a time: not from Vikunja
        let no_time = br#"{"event_name":"task.created","data":{"task":{"id":1,"project_id":1}}}"#;
        assert!(classify(no_time, 0, i64::MAX).is_err());
        assert!(classify(br#"{"data":{}}"#, 0, i64::MAX).is_err());
    }
}
