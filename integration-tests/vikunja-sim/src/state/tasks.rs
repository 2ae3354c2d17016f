//! Tasks: create (`PUT /projects/{id}/tasks`), full-replacement update (`POST /tasks/{id}`,
//! reference §3.4), soft delete.

use serde::Deserialize;
use serde_json::Value;
use time::OffsetDateTime;

use super::repeat::{self, Next};
use super::{State, TaskRow, bind};
use crate::error::SimError;
use crate::model::{Reminder, Task, ZERO_TIME, is_zero, normalize_hex, now_s, ts};

/// Ten years, Vikunja's `MaxTaskRepeatAfterSeconds`.
const MAX_REPEAT_AFTER: i64 = 10 * 365 * 24 * 3600;

fn zero() -> OffsetDateTime {
    ZERO_TIME
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IdOnly {
    id: i64,
}

/// A task body bound like Go binds it: every omitted field is its zero value.
#[derive(Debug, Deserialize)]
#[serde(default)]
struct TaskInput {
    title: String,
    description: String,
    done: bool,
    #[serde(with = "ts", default = "zero")]
    done_at: OffsetDateTime,
    #[serde(with = "ts", default = "zero")]
    due_date: OffsetDateTime,
    #[serde(with = "ts", default = "zero")]
    start_date: OffsetDateTime,
    #[serde(with = "ts", default = "zero")]
    end_date: OffsetDateTime,
    reminders: Vec<Reminder>,
    project_id: i64,
    repeat_after: i64,
    repeat_mode: i64,
    priority: i64,
    hex_color: String,
    percent_done: f64,
    assignees: Vec<IdOnly>,
    is_favorite: bool,
    cover_image_attachment_id: i64,
}

impl Default for TaskInput {
    fn default() -> Self {
        TaskInput {
            title: String::new(),
            description: String::new(),
            done: false,
            done_at: ZERO_TIME,
            due_date: ZERO_TIME,
            start_date: ZERO_TIME,
            end_date: ZERO_TIME,
            reminders: Vec::new(),
            project_id: 0,
            repeat_after: 0,
            repeat_mode: 0,
            priority: 0,
            hex_color: String::new(),
            percent_done: 0.0,
            assignees: Vec::new(),
            is_favorite: false,
            cover_image_attachment_id: 0,
        }
    }
}

fn check_repeat_after(v: i64) -> Result<(), SimError> {
    if !(0..=MAX_REPEAT_AFTER).contains(&v) {
        return Err(SimError::new(
            400,
            4029,
            format!(
                "The task repeat interval must be between 0 and {MAX_REPEAT_AFTER} seconds (10 years)."
            ),
        ));
    }
    Ok(())
}

/// `updateReminders`: relative reminders recomputed from the task's dates, duplicates
/// (same second) collapsed, sorted.
fn settle_reminders(
    mut rs: Vec<Reminder>,
    due: OffsetDateTime,
    start: OffsetDateTime,
    end: OffsetDateTime,
) -> Result<Vec<Reminder>, SimError> {
    for r in &mut rs {
        let base = match r.relative_to.as_str() {
            "due_date" => Some(due),
            "start_date" => Some(start),
            "end_date" => Some(end),
            "" if r.relative_period != 0 => {
                return Err(SimError::new(
                    400,
                    4022,
                    "Please provide what the reminder date is relative to",
                ));
            }
            _ => None,
        };
        if !r.relative_to.is_empty() {
            r.reminder = match base {
                Some(b) if !is_zero(b) => b + time::Duration::seconds(r.relative_period),
                _ => ZERO_TIME,
            };
        }
        r.reminder = r.reminder.truncate_to_second();
    }
    let mut out: Vec<Reminder> = Vec::new();
    for r in rs {
        match out.iter_mut().find(|o| o.reminder == r.reminder) {
            Some(existing) => *existing = r,
            None => out.push(r),
        }
    }
    out.sort_by_key(|r| r.reminder);
    Ok(out)
}

impl State {
    fn next_index(&self, project_id: i64) -> i64 {
        self.tasks
            .values()
            .filter(|t| t.project_id == project_id)
            .map(|t| t.index)
            .max()
            .unwrap_or(0)
            + 1
    }

    /// Validates a new assignee list against the current one; returns the ids to add.
    /// A user listed twice fails like Vikunja (4021), before anything is written.
    fn new_assignees(&self, current: &[i64], wanted: &[IdOnly]) -> Result<Vec<i64>, SimError> {
        let mut added: Vec<i64> = Vec::new();
        for a in wanted {
            if current.contains(&a.id) && !added.contains(&a.id) {
                continue;
            }
            self.user(a.id).ok_or_else(SimError::user_missing)?;
            if added.contains(&a.id) {
                return Err(SimError::new(
                    400,
                    4021,
                    "This user is already assigned to that task.",
                ));
            }
            added.push(a.id);
        }
        Ok(added)
    }

    fn emit_assigned(&mut self, task_id: i64, added: &[i64]) {
        for uid in added {
            let user = self.user(*uid);
            self.emit_task("task.assignee.created", task_id, user);
            self.emit_task("task.updated", task_id, None);
        }
    }

    /// `PUT /projects/{id}/tasks`. Labels in the body are ignored; assignees and reminders
    /// are honoured; a `done_at` sent along is stored as it is.
    pub fn create_task(&mut self, project_id: i64, body: &Value) -> Result<Task, SimError> {
        let input: TaskInput = bind(body)?;
        self.writable_project(project_id)?;
        if input.title.is_empty() {
            return Err(SimError::new(
                400,
                4001,
                "You must provide at least a task title.",
            ));
        }
        check_repeat_after(input.repeat_after)?;
        let reminders = settle_reminders(
            input.reminders,
            input.due_date,
            input.start_date,
            input.end_date,
        )?;
        let assignees = self.new_assignees(&[], &input.assignees)?;
        let id = self.next_task_id();
        if input.is_favorite {
            self.set_favorite(id, true);
        }
        let now = now_s();
        let row = TaskRow {
            id,
            title: input.title,
            description: input.description,
            done: input.done,
            done_at: input.done_at.truncate_to_second(),
            due_date: input.due_date.truncate_to_second(),
            start_date: input.start_date.truncate_to_second(),
            end_date: input.end_date.truncate_to_second(),
            reminders,
            project_id,
            repeat_after: input.repeat_after,
            repeat_mode: input.repeat_mode,
            priority: input.priority,
            hex_color: normalize_hex(&input.hex_color),
            percent_done: input.percent_done,
            index: self.next_index(project_id),
            cover_image_attachment_id: input.cover_image_attachment_id,
            created: now,
            updated: now,
            created_by: self.actor_id(),
            deleted: false,
            labels: Vec::new(),
            assignees: assignees.clone(),
            attachments: Vec::new(),
            uid: uuid::Uuid::new_v4().to_string(),
        };
        self.tasks.insert(id, row);
        self.touch_project(project_id);
        self.emit_assigned(id, &assignees);
        self.emit_task("task.created", id, None);
        self.task(id).ok_or_else(SimError::task_missing)
    }

    /// `POST /tasks/{id}`: the body replaces the task (§3.4). Returns the stored task.
    pub fn update_task(&mut self, id: i64, body: &Value) -> Result<Task, SimError> {
        let mut input: TaskInput = bind(body)?;
        let old = self.writable_task(id)?.clone();
        if input.project_id == 0 {
            input.project_id = old.project_id;
        }
        if input.project_id != old.project_id {
            self.writable_project(input.project_id)?;
        }
        let added = self.new_assignees(&old.assignees, &input.assignees)?;
        check_repeat_after(input.repeat_after)?;
        // Checked on every update, so a cover whose attachment was deleted blocks the task.
        let cover = input.cover_image_attachment_id;
        if cover != 0 && !old.attachments.iter().any(|a| a.id == cover) {
            return Err(SimError::new(
                400,
                4020,
                "This attachment does not belong to that task.",
            ));
        }
        let moved = input.project_id != old.project_id;
        let new_index = if moved {
            self.next_index(input.project_id)
        } else {
            old.index
        };

        let mut done_at = input.done_at;
        let done_changed = repeat::update_done(
            &old,
            Next {
                done: &mut input.done,
                done_at: &mut done_at,
                due_date: &mut input.due_date,
                start_date: &mut input.start_date,
                end_date: &mut input.end_date,
                reminders: &mut input.reminders,
                description: &mut input.description,
            },
        );
        let reminders = settle_reminders(
            input.reminders,
            input.due_date,
            input.start_date,
            input.end_date,
        )?;

        let mut assignees: Vec<i64> = old
            .assignees
            .iter()
            .copied()
            .filter(|a| input.assignees.iter().any(|w| w.id == *a))
            .collect();
        assignees.extend(&added);
        let Some(t) = self.tasks.get_mut(&id) else {
            return Err(SimError::task_missing());
        };
        if !input.title.is_empty() {
            t.title = input.title;
        }
        t.description = input.description;
        t.done = input.done;
        if done_changed {
            t.done_at = done_at.truncate_to_second();
        }
        t.due_date = input.due_date.truncate_to_second();
        t.start_date = input.start_date.truncate_to_second();
        t.end_date = input.end_date.truncate_to_second();
        t.reminders = reminders;
        t.repeat_after = input.repeat_after;
        t.repeat_mode = input.repeat_mode;
        t.priority = input.priority;
        t.hex_color = normalize_hex(&input.hex_color);
        t.percent_done = input.percent_done;
        t.cover_image_attachment_id = input.cover_image_attachment_id;
        t.project_id = input.project_id;
        t.index = new_index;
        t.assignees = assignees;
        t.updated = now_s();
        let project_id = t.project_id;
        self.set_favorite(id, input.is_favorite);
        self.touch_project(project_id);
        self.emit_assigned(id, &added);
        self.emit_task("task.updated", id, None);
        self.task(id).ok_or_else(SimError::task_missing)
    }

    /// `DELETE /tasks/{id}`: soft delete; `task.deleted` carries the pre-delete snapshot.
    pub fn delete_task(&mut self, id: i64) -> Result<(), SimError> {
        let project_id = self.task_row(id)?.project_id;
        self.writable_project(project_id)?;
        self.emit_task("task.deleted", id, None);
        if let Some(t) = self.tasks.get_mut(&id) {
            t.deleted = true;
        }
        self.touch_project(project_id);
        Ok(())
    }

    /// `PUT /tasks/{id}/assignees`: fires `task.assignee.created` and `task.updated`.
    pub fn add_assignee(&mut self, task_id: i64, user_id: i64) -> Result<(), SimError> {
        self.user(user_id).ok_or_else(SimError::user_missing)?;
        let t = self.writable_task(task_id)?;
        if t.assignees.contains(&user_id) {
            return Err(SimError::new(
                400,
                4021,
                "This user is already assigned to that task.",
            ));
        }
        let project_id = t.project_id;
        if let Some(t) = self.tasks.get_mut(&task_id) {
            t.assignees.push(user_id);
            // Vikunja bumps `updated` from a listener right after; done inline here.
            t.updated = now_s();
        }
        self.touch_project(project_id);
        self.emit_assigned(task_id, &[user_id]);
        Ok(())
    }

    /// `DELETE /tasks/{id}/assignees/{userID}`: fires `task.assignee.deleted` and `task.updated`.
    pub fn remove_assignee(&mut self, task_id: i64, user_id: i64) -> Result<(), SimError> {
        let project_id = self.writable_task(task_id)?.project_id;
        if let Some(t) = self.tasks.get_mut(&task_id) {
            t.assignees.retain(|a| *a != user_id);
            t.updated = now_s();
        }
        self.touch_project(project_id);
        let user = self.user(user_id);
        self.emit_task("task.assignee.deleted", task_id, user);
        self.emit_task("task.updated", task_id, None);
        Ok(())
    }
}
