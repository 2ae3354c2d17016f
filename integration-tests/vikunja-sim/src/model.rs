//! Vikunja's JSON shapes (reference §4, §5), field for field and in Go's field order.
//!
//! Dates are `OffsetDateTime`s rendered in UTC as RFC 3339; an unset date is
//! [`ZERO_TIME`], rendered `"0001-01-01T00:00:00Z"` like Go's zero `time.Time`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

/// Go's zero `time.Time`: how Vikunja renders an unset date.
pub const ZERO_TIME: OffsetDateTime = time::macros::datetime!(0001-01-01 00:00:00 UTC);

/// The current time at the database's one-second resolution.
pub fn now_s() -> OffsetDateTime {
    OffsetDateTime::now_utc().truncate_to_second()
}

/// True for Go's zero time (and any year-1 value, which Vikunja treats as unset).
pub fn is_zero(t: OffsetDateTime) -> bool {
    t.year() <= 1
}

/// Serde for Vikunja dates: RFC 3339 out (UTC), RFC 3339 or `null` in.
pub mod ts {
    use serde::{Deserialize, Deserializer, Serializer};
    use time::format_description::well_known::Rfc3339;
    use time::{OffsetDateTime, UtcOffset};

    /// Renders in UTC with `Z`, fractional seconds only when present (like Go's RFC3339Nano).
    pub fn format(t: OffsetDateTime) -> String {
        t.to_offset(UtcOffset::UTC)
            .format(&Rfc3339)
            .unwrap_or_else(|_| "0001-01-01T00:00:00Z".to_owned())
    }

    /// Parses RFC 3339 (any offset) into UTC.
    pub fn parse(s: &str) -> Result<OffsetDateTime, time::error::Parse> {
        OffsetDateTime::parse(s, &Rfc3339).map(|t| t.to_offset(UtcOffset::UTC))
    }

    pub fn serialize<S: Serializer>(t: &OffsetDateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<OffsetDateTime, D::Error> {
        // Go's time.Time leaves the zero value on `null`.
        match Option::<String>::deserialize(d)? {
            None => Ok(super::ZERO_TIME),
            Some(s) => {
                parse(&s).map_err(|e| serde::de::Error::custom(format!("parsing time {s:?}: {e}")))
            }
        }
    }
}

/// Go's encoding/json writes a whole float without a fraction (`0`, `65536`), serde_json
/// would write `0.0`.
pub mod gofloat {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        if v.fract() == 0.0 && v.abs() < 1e15 {
            s.serialize_i64(*v as i64)
        } else {
            s.serialize_f64(*v)
        }
    }
}

fn zero_time() -> OffsetDateTime {
    ZERO_TIME
}

/// A Vikunja user (`created`/`updated` included, e-mail hidden as for other users).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub username: String,
    #[serde(with = "ts", default = "zero_time")]
    pub created: OffsetDateTime,
    #[serde(with = "ts", default = "zero_time")]
    pub updated: OffsetDateTime,
}

/// A task reminder: absolute, or relative to one of the task's dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reminder {
    #[serde(with = "ts", default = "zero_time")]
    pub reminder: OffsetDateTime,
    #[serde(default)]
    pub relative_period: i64,
    #[serde(default)]
    pub relative_to: String,
}

/// A label (§5). Titles are not unique.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Label {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub hex_color: String,
    pub created_by: Option<User>,
    #[serde(with = "ts", default = "zero_time")]
    pub created: OffsetDateTime,
    #[serde(with = "ts", default = "zero_time")]
    pub updated: OffsetDateTime,
}

/// A task as `GET /tasks/{id}` renders it (§4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Task {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub done: bool,
    #[serde(with = "ts", default = "zero_time")]
    pub done_at: OffsetDateTime,
    #[serde(with = "ts", default = "zero_time")]
    pub due_date: OffsetDateTime,
    pub reminders: Option<Vec<Reminder>>,
    pub project_id: i64,
    pub repeat_after: i64,
    pub repeat_mode: i64,
    pub priority: i64,
    #[serde(with = "ts", default = "zero_time")]
    pub start_date: OffsetDateTime,
    #[serde(with = "ts", default = "zero_time")]
    pub end_date: OffsetDateTime,
    pub assignees: Option<Vec<User>>,
    pub labels: Option<Vec<Label>>,
    pub hex_color: String,
    #[serde(serialize_with = "gofloat::serialize")]
    pub percent_done: f64,
    pub identifier: String,
    pub index: i64,
    #[serde(default)]
    pub related_tasks: serde_json::Map<String, Value>,
    pub attachments: Option<Vec<Attachment>>,
    pub cover_image_attachment_id: i64,
    pub is_favorite: bool,
    #[serde(with = "ts", default = "zero_time")]
    pub created: OffsetDateTime,
    #[serde(with = "ts", default = "zero_time")]
    pub updated: OffsetDateTime,
    pub bucket_id: i64,
    #[serde(serialize_with = "gofloat::serialize")]
    pub position: f64,
    pub reactions: Option<Value>,
    pub created_by: Option<User>,
    /// The CalDAV UID: stored, but never in Vikunja's JSON (`json:"-"`) nor filterable.
    #[serde(skip)]
    pub uid: String,
}

/// A file attached to a task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: i64,
    pub task_id: i64,
    pub created_by: Option<User>,
    pub file: AttachedFile,
    #[serde(with = "ts", default = "zero_time")]
    pub created: OffsetDateTime,
}

/// The stored file of an [`Attachment`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttachedFile {
    pub id: i64,
    pub name: String,
    pub mime: String,
    pub size: i64,
    #[serde(with = "ts", default = "zero_time")]
    pub created: OffsetDateTime,
}

/// A task comment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comment {
    pub id: i64,
    pub comment: String,
    pub author: Option<User>,
    pub reactions: Option<Value>,
    #[serde(with = "ts", default = "zero_time")]
    pub created: OffsetDateTime,
    #[serde(with = "ts", default = "zero_time")]
    pub updated: OffsetDateTime,
}

/// One of a project's views (list, gantt, table, kanban).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProjectView {
    pub id: i64,
    pub title: String,
    pub project_id: i64,
    pub view_kind: String,
    pub filter: Option<Value>,
    #[serde(serialize_with = "gofloat::serialize")]
    pub position: f64,
    pub bucket_configuration_mode: String,
    pub bucket_configuration: Option<Value>,
    pub default_bucket_id: i64,
    pub done_bucket_id: i64,
    #[serde(with = "ts", default = "zero_time")]
    pub updated: OffsetDateTime,
    #[serde(with = "ts", default = "zero_time")]
    pub created: OffsetDateTime,
}

/// A project (§5). `parent_project_id` 0 = top level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Project {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub identifier: String,
    pub hex_color: String,
    pub parent_project_id: i64,
    pub owner: Option<User>,
    pub is_archived: bool,
    pub background_information: Option<Value>,
    pub background_blur_hash: String,
    pub is_favorite: bool,
    #[serde(serialize_with = "gofloat::serialize")]
    pub position: f64,
    pub views: Option<Vec<ProjectView>>,
    pub max_permission: i64,
    #[serde(with = "ts", default = "zero_time")]
    pub created: OffsetDateTime,
    #[serde(with = "ts", default = "zero_time")]
    pub updated: OffsetDateTime,
}

/// A project webhook (§1.1). The API masks `secret` and the basic-auth fields as `""`;
/// [`crate::Simulator::webhooks`] shows the stored values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: i64,
    pub target_url: String,
    pub events: Vec<String>,
    pub project_id: i64,
    pub user_id: i64,
    pub secret: String,
    pub basic_auth_user: String,
    pub basic_auth_password: String,
    pub created_by: Option<User>,
    #[serde(with = "ts", default = "zero_time")]
    pub created: OffsetDateTime,
    #[serde(with = "ts", default = "zero_time")]
    pub updated: OffsetDateTime,
}

impl Webhook {
    /// The write-only fields blanked, as every API response shows them.
    pub(crate) fn masked(&self) -> Webhook {
        Webhook {
            secret: String::new(),
            basic_auth_user: String::new(),
            basic_auth_password: String::new(),
            ..self.clone()
        }
    }
}

/// Every event a webhook can subscribe to at Vikunja HEAD, sorted as `GET /webhooks/events` lists them.
pub const WEBHOOK_EVENTS: &[&str] = &[
    "project.deleted",
    "project.shared.team",
    "project.shared.user",
    "project.updated",
    "task.assignee.created",
    "task.assignee.deleted",
    "task.attachment.created",
    "task.attachment.deleted",
    "task.comment.created",
    "task.comment.deleted",
    "task.comment.edited",
    "task.created",
    "task.deleted",
    "task.overdue",
    "task.relation.created",
    "task.relation.deleted",
    "task.reminder.fired",
    "task.updated",
    "tasks.overdue",
];

/// Strips a leading `#`, as Vikunja's `utils.NormalizeHex` does.
pub(crate) fn normalize_hex(s: &str) -> String {
    s.strip_prefix('#').unwrap_or(s).to_owned()
}
