//! Field kinds, filter values (dates in every accepted form) and a task's values per field.

use std::cmp::Ordering;

use time::format_description::FormatItem;
use time::macros::format_description;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};

use crate::error::SimError;
use crate::model::{Task, is_zero, ts};

/// A value a filter compares against, typed by the field.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    Time(OffsetDateTime),
}

/// How a field's filter values parse; the last three match when any element does.
pub(super) enum Kind {
    Int,
    Float,
    Bool,
    Str,
    Time,
    Labels,
    Assignees,
    Reminders,
}

pub(super) fn kind(field: &str) -> Option<Kind> {
    Some(match field {
        "id" | "index" | "priority" | "repeat_after" | "project_id" | "bucket_id"
        | "created_by_id" | "position" => Kind::Int,
        "percent_done" => Kind::Float,
        "done" => Kind::Bool,
        "title" | "description" | "hex_color" | "uid" => Kind::Str,
        "done_at" | "due_date" | "start_date" | "end_date" | "created" | "updated" => Kind::Time,
        "labels" => Kind::Labels,
        "assignees" => Kind::Assignees,
        "reminders" => Kind::Reminders,
        _ => return None,
    })
}

const DATE_TIME: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]");
const DATE: &[FormatItem<'static>] = format_description!("[year]-[month]-[day]");

/// `now`, `now-1d`, `now+2h/d`: the datemath subset the sync uses.
fn datemath(s: &str) -> Option<OffsetDateTime> {
    let mut rest = s.strip_prefix("now")?;
    let mut t = OffsetDateTime::now_utc();
    while !rest.is_empty() {
        let sign = rest.chars().next()?;
        rest = &rest[1..];
        let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
        rest = &rest[digits.len()..];
        let unit = rest.chars().next()?;
        rest = &rest[unit.len_utf8()..];
        let n: i64 = if digits.is_empty() {
            1
        } else {
            digits.parse().ok()?
        };
        let step = match unit {
            's' => Duration::seconds(n),
            'm' => Duration::minutes(n),
            'h' | 'H' => Duration::hours(n),
            'd' => Duration::days(n),
            'w' => Duration::weeks(n),
            'M' => Duration::days(30 * n),
            'y' => Duration::days(365 * n),
            _ => return None,
        };
        t = match sign {
            '+' => t.checked_add(step)?,
            '-' => t.checked_sub(step)?,
            '/' => match unit {
                'd' => t.replace_time(Time::MIDNIGHT),
                'h' | 'H' => t
                    .replace_minute(0)
                    .ok()?
                    .replace_second(0)
                    .ok()?
                    .replace_nanosecond(0)
                    .ok()?,
                _ => return None,
            },
            _ => return None,
        };
    }
    Some(t)
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    if let Some(t) = datemath(s) {
        return Some(t);
    }
    if let Ok(t) = ts::parse(s) {
        return Some(t);
    }
    if let Ok(t) = PrimitiveDateTime::parse(s, DATE_TIME) {
        return Some(t.assume_utc());
    }
    if let Ok(d) = Date::parse(s, DATE) {
        return Some(d.midnight().assume_utc());
    }
    // `2026-8-1`, which Vikunja splits by hand.
    let parts: Vec<&str> = s.split('-').collect();
    if let [y, m, d] = parts[..] {
        let month = time::Month::try_from(m.parse::<u8>().ok()?).ok()?;
        return Some(
            Date::from_calendar_date(y.parse().ok()?, month, d.parse().ok()?)
                .ok()?
                .midnight()
                .assume_utc(),
        );
    }
    None
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

pub(super) fn parse_value(field: &str, k: &Kind, raw: &str) -> Result<Val, SimError> {
    let bad = || SimError::bad_filter_value(field, raw);
    Ok(match k {
        Kind::Int | Kind::Labels => Val::Int(raw.parse().map_err(|_| bad())?),
        Kind::Float => Val::Float(raw.parse().map_err(|_| bad())?),
        Kind::Bool => Val::Bool(parse_bool(raw).ok_or_else(bad)?),
        Kind::Str | Kind::Assignees => Val::Str(raw.to_owned()),
        Kind::Time | Kind::Reminders => Val::Time(parse_time(raw).ok_or_else(bad)?),
    })
}

pub(super) fn cmp_vals(a: &Val, b: &Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Int(x), Val::Int(y)) => Some(x.cmp(y)),
        (Val::Float(x), Val::Float(y)) => x.partial_cmp(y),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(y)),
        (Val::Str(x), Val::Str(y)) => Some(x.cmp(y)),
        (Val::Time(x), Val::Time(y)) => Some(x.cmp(y)),
        _ => None,
    }
}

/// The task's values for `field`; an empty list is NULL.
pub(super) fn values_of(t: &Task, field: &str) -> Vec<Val> {
    let time = |d: OffsetDateTime| {
        if is_zero(d) {
            vec![]
        } else {
            vec![Val::Time(d)]
        }
    };
    match field {
        "id" => vec![Val::Int(t.id)],
        "index" => vec![Val::Int(t.index)],
        "priority" => vec![Val::Int(t.priority)],
        "repeat_after" => vec![Val::Int(t.repeat_after)],
        "project_id" => vec![Val::Int(t.project_id)],
        "bucket_id" => vec![Val::Int(t.bucket_id)],
        "position" => vec![Val::Int(0)],
        "created_by_id" => vec![Val::Int(t.created_by.as_ref().map_or(0, |u| u.id))],
        "percent_done" => vec![Val::Float(t.percent_done)],
        "done" => vec![Val::Bool(t.done)],
        "title" => vec![Val::Str(t.title.clone())],
        "description" => vec![Val::Str(t.description.clone())],
        "hex_color" => vec![Val::Str(t.hex_color.clone())],
        "uid" => vec![Val::Str(t.uid.clone())],
        "done_at" => time(t.done_at),
        "due_date" => time(t.due_date),
        "start_date" => time(t.start_date),
        "end_date" => time(t.end_date),
        "created" => time(t.created),
        "updated" => time(t.updated),
        "labels" => t.labels.iter().flatten().map(|l| Val::Int(l.id)).collect(),
        "assignees" => t
            .assignees
            .iter()
            .flatten()
            .flat_map(|u| [Val::Str(u.username.clone()), Val::Str(u.id.to_string())])
            .collect(),
        "reminders" => t
            .reminders
            .iter()
            .flatten()
            .map(|r| Val::Time(r.reminder))
            .collect(),
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_dates_in_every_accepted_form() {
        for s in [
            "2026-08-01T10:00:00Z",
            "2026-08-01T12:00:00+02:00",
            "2026-08-01 10:00",
            "2026-08-01",
            "2026-8-1",
            "now-1d",
        ] {
            assert!(parse_time(s).is_some(), "{s}");
        }
        assert_eq!(
            parse_time("2026-08-01T12:00:00+02:00"),
            parse_time("2026-08-01 10:00")
        );
    }
}
