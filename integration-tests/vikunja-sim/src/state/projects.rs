//! Projects: create, the update semantics of reference §3.2, recursive delete, listing.

use serde::Deserialize;
use serde_json::json;

use super::{DEFAULT_PROJECT_ID, Event, ProjectRow, State};
use crate::error::SimError;
use crate::model::{Project, ProjectView, normalize_hex, now_s};

/// A project body as Vikunja binds it: omitted fields are zero, except
/// `parent_project_id`, where omitted (`None`) differs from an explicit 0 (≥2.4).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(crate) struct ProjectInput {
    pub title: String,
    pub description: String,
    pub identifier: String,
    pub hex_color: String,
    pub parent_project_id: Option<i64>,
    pub is_archived: bool,
    pub is_favorite: bool,
    pub position: f64,
}

impl ProjectInput {
    /// The whole object as a GET shows it, as the web UI sends it back.
    pub fn from_project(p: &Project) -> ProjectInput {
        ProjectInput {
            title: p.title.clone(),
            description: p.description.clone(),
            identifier: p.identifier.clone(),
            hex_color: p.hex_color.clone(),
            parent_project_id: Some(p.parent_project_id),
            is_archived: p.is_archived,
            is_favorite: p.is_favorite,
            position: p.position,
        }
    }
}

/// The Favorites pseudo project (id -1), listed while any task is a favourite.
fn favorites_project(st: &State) -> Project {
    let now = now_s();
    let view = |id: i64, title: &str, kind: &str, position: f64| ProjectView {
        id,
        title: title.into(),
        project_id: -1,
        view_kind: kind.into(),
        filter: None,
        position,
        bucket_configuration_mode: "none".into(),
        bucket_configuration: None,
        default_bucket_id: 0,
        done_bucket_id: 0,
        updated: now,
        created: now,
    };
    let mut list = view(-1, "List", "list", 100.0);
    list.filter = Some(done_false_filter());
    Project {
        id: -1,
        title: "Favorites".into(),
        description: "This project has all tasks marked as favorites.".into(),
        identifier: String::new(),
        hex_color: String::new(),
        parent_project_id: 0,
        owner: Some(st.doer()),
        is_archived: false,
        background_information: None,
        background_blur_hash: String::new(),
        is_favorite: true,
        position: -1.0,
        views: Some(vec![
            list,
            view(-2, "Gantt", "gantt", 200.0),
            view(-3, "Table", "table", 300.0),
        ]),
        max_permission: 0,
        created: now,
        updated: now,
    }
}

fn done_false_filter() -> serde_json::Value {
    json!({"s": "", "sort_by": null, "order_by": null, "filter": "done = false", "filter_include_nulls": false})
}

/// govalidator's `required,runelength(1|250)` on the title, `runelength(0|10)` on the identifier.
fn validate(input: &ProjectInput) -> Result<(), SimError> {
    if input.title.is_empty() {
        return Err(SimError::invalid_fields(&[
            "title: non zero value required",
        ]));
    }
    if input.title.chars().count() > 250 {
        return Err(SimError::invalid_fields(&[
            "title: does not validate as runelength(1|250)",
        ]));
    }
    if input.identifier.chars().count() > 10 {
        return Err(SimError::invalid_fields(&[
            "identifier: does not validate as runelength(0|10)",
        ]));
    }
    Ok(())
}

impl State {
    /// Parent checks, uppercase unique identifier (`checkProjectBeforeUpdateOrDelete`).
    fn check_project(&self, id: i64, parent: i64, identifier: &str) -> Result<(), SimError> {
        if parent < 0 {
            return Err(SimError::new(
                412,
                3009,
                "This project cannot belong a dynamically generated project.",
            ));
        }
        if parent > 0 {
            if parent == id {
                return Err(SimError::new(
                    412,
                    3010,
                    "This project cannot be a child of itself.",
                ));
            }
            self.project_row(parent)?;
            if id != 0 && self.ancestors(parent).contains(&id) {
                return Err(SimError::new(
                    412,
                    3011,
                    "This project cannot have a cyclic relationship to a parent project.",
                ));
            }
        }
        if !identifier.is_empty()
            && self
                .projects
                .values()
                .any(|p| p.id != id && p.identifier == identifier)
        {
            return Err(SimError::new(
                400,
                3007,
                "A project with this identifier already exists.",
            ));
        }
        Ok(())
    }

    /// `PUT /projects`.
    pub fn create_project(&mut self, mut input: ProjectInput) -> Result<Project, SimError> {
        validate(&input)?;
        input.identifier = input.identifier.to_uppercase();
        let parent = input.parent_project_id.unwrap_or(0);
        self.check_project(0, parent, &input.identifier)?;
        if parent > 0 {
            self.writable_project(parent)?;
        }
        let id = self.next_project_id();
        let now = now_s();
        let mut views = Vec::new();
        for (title, kind, position) in [
            ("List", "list", 100.0),
            ("Gantt", "gantt", 200.0),
            ("Table", "table", 300.0),
            ("Kanban", "kanban", 400.0),
        ] {
            let view_id = self.next_view_id();
            views.push(ProjectView {
                id: view_id,
                title: title.into(),
                project_id: id,
                view_kind: kind.into(),
                filter: (kind == "list").then(done_false_filter),
                position,
                bucket_configuration_mode: if kind == "kanban" { "manual" } else { "none" }.into(),
                bucket_configuration: None,
                // The backlog bucket; bucket ids are never used, so the view id stands in.
                default_bucket_id: if kind == "kanban" { view_id } else { 0 },
                done_bucket_id: 0,
                updated: now,
                created: now,
            });
        }
        let row = ProjectRow {
            id,
            title: input.title,
            description: input.description,
            identifier: input.identifier,
            hex_color: normalize_hex(&input.hex_color),
            parent_project_id: parent,
            is_archived: input.is_archived,
            is_favorite: input.is_favorite,
            position: if input.position > 0.0 {
                input.position
            } else {
                id as f64 * 65536.0
            },
            views,
            created: now,
            updated: now,
        };
        let out = self.render_project(&row);
        self.projects.insert(id, row);
        Ok(out)
    }

    /// `POST /projects/{id}`: title, is_archived, identifier, hex_color and position are always
    /// written; description only when non-empty; parent only when sent.
    pub fn update_project(
        &mut self,
        id: i64,
        mut input: ProjectInput,
    ) -> Result<Project, SimError> {
        validate(&input)?;
        let stored = self.project_row(id)?.clone();
        input.identifier = input.identifier.to_uppercase();
        let parent = input.parent_project_id.unwrap_or(stored.parent_project_id);
        self.check_project(id, parent, &input.identifier)?;
        if input.is_archived && id == DEFAULT_PROJECT_ID {
            return Err(SimError::new(
                412,
                3013,
                "This project cannot be archived because it is the default project of a user.",
            ));
        }
        if input.is_archived != stored.is_archived {
            for d in self.descendants(id) {
                if let Some(p) = self.projects.get_mut(&d) {
                    p.is_archived = input.is_archived;
                }
            }
        }
        let Some(p) = self.projects.get_mut(&id) else {
            return Err(SimError::project_missing());
        };
        p.title = input.title;
        p.is_archived = input.is_archived;
        p.identifier = input.identifier;
        p.hex_color = normalize_hex(&input.hex_color);
        // A position near 0 makes Vikunja recalculate positions; keeping the old one is the same order.
        if input.position >= 0.1 {
            p.position = input.position;
        }
        p.parent_project_id = parent;
        if !input.description.is_empty() {
            p.description = input.description;
        }
        p.is_favorite = input.is_favorite;
        p.updated = now_s();
        let out = match self.projects.get(&id) {
            Some(p) => self.render_project(p),
            None => return Err(SimError::project_missing()),
        };
        self.emit(Event {
            name: "project.updated",
            project_id: id,
            own_only: false,
            task_id: None,
            task: None,
            project: Some(out.clone()),
            assignee: None,
            extra: None,
            doer: self.actor,
        });
        Ok(out)
    }

    /// `DELETE /projects/{id}`: children too, their tasks hard-deleted; each deleted project
    /// fires `project.deleted` to its own webhooks only, and no `task.deleted` fires.
    pub fn delete_project(&mut self, id: i64) -> Result<(), SimError> {
        self.project_row(id)?;
        if id == DEFAULT_PROJECT_ID {
            return Err(SimError::new(
                412,
                3012,
                "This project cannot be deleted because it is the default project of a user.",
            ));
        }
        let mut doomed = vec![id];
        doomed.extend(self.descendants(id));
        for pid in doomed {
            let Some(row) = self.projects.remove(&pid) else {
                continue;
            };
            self.tasks.retain(|_, t| t.project_id != pid);
            let snapshot = self.render_project(&row);
            self.emit(Event {
                name: "project.deleted",
                project_id: pid,
                own_only: true,
                task_id: None,
                task: None,
                project: Some(snapshot),
                assignee: None,
                extra: None,
                doer: self.actor,
            });
        }
        Ok(())
    }

    /// `GET /projects`: archived ones only with `is_archived=true`; Favorites (-1) first
    /// while any task is a favourite; ordered by position.
    pub fn list_projects(&self, include_archived: bool, search: &str) -> Vec<Project> {
        let needle = search.to_lowercase();
        let mut rows: Vec<&ProjectRow> = self
            .projects
            .values()
            .filter(|p| include_archived || !p.is_archived)
            .filter(|p| needle.is_empty() || p.title.to_lowercase().contains(&needle))
            .collect();
        rows.sort_by(|a, b| a.position.total_cmp(&b.position).then(a.id.cmp(&b.id)));
        let mut out = Vec::new();
        let favorite = |t: &super::TaskRow| self.is_favorite(super::DOER_ID, t.id);
        if needle.is_empty() && self.tasks.values().any(|t| favorite(t) && !t.deleted) {
            out.push(favorites_project(self));
        }
        out.extend(rows.into_iter().map(|p| self.render_project(p)));
        out
    }
}
