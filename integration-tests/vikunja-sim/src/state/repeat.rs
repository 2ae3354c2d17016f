//! Vikunja's `updateDone`: marking a repeating task done reopens it with its dates shifted
//! (#2040), and `done_at` follows the done flag.

use time::{Duration, Month, OffsetDateTime};

use super::TaskRow;
use crate::model::{Reminder, ZERO_TIME, is_zero, now_s};

/// The part of an incoming update the repeat logic rewrites.
pub(crate) struct Next<'a> {
    pub done: &'a mut bool,
    pub done_at: &'a mut OffsetDateTime,
    pub due_date: &'a mut OffsetDateTime,
    pub start_date: &'a mut OffsetDateTime,
    pub end_date: &'a mut OffsetDateTime,
    pub reminders: &'a mut Vec<Reminder>,
    pub description: &'a mut String,
}

pub(crate) fn is_repeating(repeat_after: i64, repeat_mode: i64) -> bool {
    repeat_after > 0 || repeat_mode == 1
}

/// Applies the done transition of `old` -> `new`; true when the done flag changed,
/// which is when Vikunja writes the `done_at` column.
pub(crate) fn update_done(old: &TaskRow, mut new: Next<'_>) -> bool {
    let changed = old.done != *new.done;
    if !old.done && *new.done {
        // The stored repeat settings decide, not the ones being sent.
        match old.repeat_mode {
            0 => shift_default(old, &mut new),
            1 => shift_month(old, &mut new),
            2 => shift_from_now(old, &mut new),
            _ => {}
        }
        if is_repeating(old.repeat_after, old.repeat_mode) && !*new.done {
            *new.description = new
                .description
                .replace("data-checked=\"true\"", "data-checked=\"false\"");
        }
        *new.done_at = now_s();
    }
    if old.done && !*new.done {
        *new.done_at = ZERO_TIME;
    }
    changed
}

/// Advances `t` by whole intervals until it is after `now` (at least one interval).
fn add_interval(now: OffsetDateTime, t: OffsetDateTime, secs: i64) -> OffsetDateTime {
    if secs <= 0 {
        return t;
    }
    let step = Duration::seconds(secs);
    if t >= now {
        return t.checked_add(step).unwrap_or(t);
    }
    let behind = (now - t).whole_seconds();
    let intervals = behind / secs + 1;
    secs.checked_mul(intervals)
        .and_then(|total| t.checked_add(Duration::seconds(total)))
        .unwrap_or_else(|| now.checked_add(step).unwrap_or(now))
}

/// Go's `time.Date(y, m+1, d, …)`: an overflowing day rolls into the following month.
fn add_one_month(t: OffsetDateTime) -> OffsetDateTime {
    let (year, month) = if t.month() == Month::December {
        (t.year() + 1, Month::January)
    } else {
        (t.year(), t.month().next())
    };
    match t
        .replace_day(1)
        .and_then(|d| d.replace_year(year))
        .and_then(|d| d.replace_month(month))
    {
        Ok(first) => first
            .checked_add(Duration::days(i64::from(t.day()) - 1))
            .unwrap_or(t),
        Err(_) => t,
    }
}

fn shift(t: OffsetDateTime, from: OffsetDateTime, to: OffsetDateTime) -> OffsetDateTime {
    t.checked_add(to - from).unwrap_or(t)
}

fn shift_default(old: &TaskRow, new: &mut Next<'_>) {
    if old.repeat_after == 0 {
        return;
    }
    let now = now_s();
    let every = old.repeat_after;
    if !is_zero(old.due_date) {
        *new.due_date = add_interval(now, old.due_date, every);
    }
    *new.reminders = old
        .reminders
        .iter()
        .map(|r| Reminder {
            reminder: add_interval(now, r.reminder, every),
            ..r.clone()
        })
        .collect();
    if !is_zero(old.start_date) {
        *new.start_date = add_interval(now, old.start_date, every);
    }
    if !is_zero(old.end_date) {
        *new.end_date = add_interval(now, old.end_date, every);
    }
    *new.done = false;
}

fn shift_month(old: &TaskRow, new: &mut Next<'_>) {
    if !is_zero(old.due_date) {
        *new.due_date = add_one_month(old.due_date);
    }
    *new.reminders = old
        .reminders
        .iter()
        .map(|r| Reminder {
            reminder: add_one_month(r.reminder),
            ..r.clone()
        })
        .collect();
    if !is_zero(old.start_date) && !is_zero(old.end_date) {
        let start = add_one_month(old.start_date);
        *new.start_date = start;
        *new.end_date = shift(old.end_date, old.start_date, start);
    } else {
        if !is_zero(old.start_date) {
            *new.start_date = add_one_month(old.start_date);
        }
        if !is_zero(old.end_date) {
            *new.end_date = add_one_month(old.end_date);
        }
    }
    *new.done = false;
}

fn shift_from_now(old: &TaskRow, new: &mut Next<'_>) {
    if old.repeat_after == 0 {
        return;
    }
    let next = now_s()
        .checked_add(Duration::seconds(old.repeat_after))
        .unwrap_or_else(now_s);
    if !is_zero(old.due_date) {
        *new.due_date = next;
    }
    if let Some(first) = old.reminders.iter().map(|r| r.reminder).min() {
        *new.reminders = old
            .reminders
            .iter()
            .map(|r| Reminder {
                reminder: shift(r.reminder, first, next),
                ..r.clone()
            })
            .collect();
    } else {
        new.reminders.clear();
    }
    if is_zero(old.due_date) {
        if !is_zero(old.start_date) && !is_zero(old.end_date) {
            *new.start_date = next;
            *new.end_date = shift(old.end_date, old.start_date, next);
        } else {
            if !is_zero(old.start_date) {
                *new.start_date = next;
            }
            if !is_zero(old.end_date) {
                *new.end_date = next;
            }
        }
    } else {
        let due = *new.due_date;
        if !is_zero(old.start_date) {
            *new.start_date = shift(old.start_date, old.due_date, due);
        }
        if !is_zero(old.end_date) {
            *new.end_date = shift(old.end_date, old.due_date, due);
        }
    }
    *new.done = false;
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn one_month_rolls_over_like_go() {
        assert_eq!(
            add_one_month(datetime!(2026-01-31 10:00 UTC)),
            datetime!(2026-03-03 10:00 UTC)
        );
        assert_eq!(
            add_one_month(datetime!(2026-12-15 08:30 UTC)),
            datetime!(2027-01-15 08:30 UTC)
        );
    }

    #[test]
    fn interval_moves_past_now() {
        let now = datetime!(2026-08-10 12:00 UTC);
        assert_eq!(
            add_interval(now, datetime!(2026-08-01 12:00 UTC), 86400),
            datetime!(2026-08-11 12:00 UTC)
        );
        assert_eq!(
            add_interval(now, datetime!(2026-08-20 12:00 UTC), 86400),
            datetime!(2026-08-21 12:00 UTC)
        );
    }
}
