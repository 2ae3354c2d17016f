//! The three-way, field-by-field merge of one side's change into canonical state.
//!
//! A side changed a field when its new value differs from its own previous value (the base).
//! A field changed on one side only wins. When the side had not seen the canonical value (it
//! changed concurrently with another side), the later modification wins, ties broken by origin,
//! host and value, so the result does not depend on the order changes arrive in; the loser is
//! reported as a `Conflict`. Merging the same change twice changes nothing the second time.

use std::cmp::Ordering;

use vsync_proto::{Conflict, FieldStamp, Origin, TaskFields, TaskState};

use crate::fields::{self, Side, Value};

/// One side's change to one task.
#[derive(Clone, Debug)]
pub struct Change<'a> {
    pub origin: Origin,
    /// Taskwarrior host id ("" for Vikunja).
    pub host: &'a str,
    /// When the change happened (unix micros).
    pub at_us: i64,
    /// The side's previous view of the task; `None` when unknown (first sight, reconcile).
    pub base: Option<&'a TaskFields>,
    /// The side's view after the change.
    pub new: &'a TaskFields,
}

/// What a merge did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Merged {
    /// Fields whose canonical value changed.
    pub changed: Vec<String>,
    /// Fields changed on two sides, with the value that lost.
    pub conflicts: Vec<Conflict>,
}

impl Merged {
    pub fn is_change(&self) -> bool {
        !self.changed.is_empty()
    }
}

/// Merges `change` into `state`, bumping its version when anything changed.
pub fn merge(state: &mut TaskState, change: &Change<'_>) -> Merged {
    let side = Side::of(change.origin);
    let stamp = FieldStamp {
        at_us: change.at_us,
        origin: change.origin as i32,
        host: change.host.to_string(),
    };
    let mut out = Merged::default();
    let is_new = state.version == 0;
    let mut canonical = state.fields.take().unwrap_or_default();

    let mut names = fields::names(side, change.new);
    if let Some(base) = change.base {
        // An extra attribute the side removed.
        for n in fields::names(side, base) {
            if !names.contains(&n) {
                names.push(n);
            }
        }
    }
    for name in names {
        let theirs = fields::get(change.new, &name, side);
        let base = change.base.map(|b| fields::get(b, &name, side));
        if !is_new && base.as_ref() == Some(&theirs) {
            continue; // this side did not touch the field
        }
        let ours = fields::get(&canonical, &name, side);
        if theirs == ours {
            continue; // the side shows what canonical already has
        }
        let previous = state.stamps.get(&name);
        let concurrent = !is_new && base.as_ref() != Some(&ours);
        let wins = !concurrent
            || previous.is_none_or(|p| later(&stamp, &theirs, p, &ours) == Ordering::Greater);
        if concurrent && let Some(p) = previous {
            let (kept, lost, kept_stamp, lost_stamp) = if wins {
                (&theirs, &ours, &stamp, p)
            } else {
                (&ours, &theirs, p, &stamp)
            };
            out.conflicts.push(Conflict {
                uuid: state.uuid.clone(),
                field: name.clone(),
                kept_value: kept.display(),
                lost_value: lost.display(),
                kept: Some(kept_stamp.clone()),
                lost: Some(lost_stamp.clone()),
                at_us: change.at_us,
            });
        }
        if wins {
            fields::copy(&mut canonical, change.new, &name);
            state.stamps.insert(name.clone(), stamp.clone());
            out.changed.push(name);
        }
    }
    if is_new && canonical.entry.is_none() {
        canonical.entry = change.new.entry;
    }
    state.fields = Some(canonical);
    if change.origin == Origin::Taskwarrior {
        let seen = state
            .host_seen_us
            .entry(change.host.to_string())
            .or_default();
        *seen = (*seen).max(change.at_us);
    }
    if out.is_change() {
        state.version += 1;
        state.changed_at_us = change.at_us;
        state.changed_by = change.origin as i32;
        state.changed_by_host = change.host.to_string();
    }
    out
}

/// Total order of two modifications of one field: time, then origin, host and value.
fn later(a: &FieldStamp, a_value: &Value, b: &FieldStamp, b_value: &Value) -> Ordering {
    a.at_us
        .cmp(&b.at_us)
        .then(a.origin.cmp(&b.origin))
        .then_with(|| a.host.cmp(&b.host))
        .then_with(|| a_value.display().cmp(&b_value.display()))
}

#[cfg(test)]
mod tests;
