//! Task endpoints: read, create (`PUT`), full-replace update (v1 `POST`), merge patch (v2
//! `PATCH`), delete, listings.

use serde_json::{Map, Value};
use vsync_model::VikunjaTask;

use crate::VikunjaClient;
use crate::calls::Call;
use crate::error::{VikunjaError, decode_error};
use crate::transport::Request;

impl VikunjaClient {
    pub async fn get_task(&self, id: i64) -> Result<VikunjaTask, VikunjaError> {
        let req = Request::to(Call::GetTask, format!("/tasks/{id}"));
        task(Call::GetTask, self.transport.send(req).await?.body)
    }

    /// `PUT /projects/{id}/tasks` (v1 creates with PUT).
    pub async fn create_task(
        &self,
        project_id: i64,
        body: &VikunjaTask,
    ) -> Result<VikunjaTask, VikunjaError> {
        let path = format!("/projects/{project_id}/tasks");
        let req = Request::with_body(Call::CreateTask, path, &body.0);
        task(Call::CreateTask, self.transport.send(req).await?.body)
    }

    /// `POST /tasks/{id}`: replaces the whole task, so `body` must be complete (see
    /// [`VikunjaClient::write_task`], which reads it first).
    pub async fn update_task(&self, body: &VikunjaTask) -> Result<VikunjaTask, VikunjaError> {
        let path = format!("/tasks/{}", body.id());
        let req = Request::with_body(Call::UpdateTask, path, &body.0);
        task(Call::UpdateTask, self.transport.send(req).await?.body)
    }

    /// `PATCH /api/v2/tasks/{id}` (Vikunja >= 2.4.0) with a JSON merge patch: the members sent
    /// are set, every other field keeps its stored value. `None` when nothing changed (304).
    pub async fn patch_task(
        &self,
        id: i64,
        patch: &Map<String, Value>,
    ) -> Result<Option<VikunjaTask>, VikunjaError> {
        let req = Request::merge_patch(Call::PatchTask, format!("/tasks/{id}"), patch);
        match self.transport.send(req).await?.body {
            Value::Null => Ok(None),
            body => task(Call::PatchTask, body).map(Some),
        }
    }

    pub async fn delete_task(&self, id: i64) -> Result<(), VikunjaError> {
        let req = Request::to(Call::DeleteTask, format!("/tasks/{id}"));
        self.transport.send(req).await.map(|_| ())
    }

    /// `GET /tasks`, optionally filtered (e.g. `updated > 2026-01-01T00:00:00Z`), every task,
    /// by id (read by an id cursor: see `paging`).
    pub async fn list_tasks(&self, filter: Option<&str>) -> Result<Vec<VikunjaTask>, VikunjaError> {
        let all = self
            .transport
            .all_by_id(Call::ListTasks, "/tasks", filter)
            .await?;
        all.into_iter().map(|t| task(Call::ListTasks, t)).collect()
    }

    /// The first task `GET /tasks?filter=…` lists (one page of one task), if any.
    pub async fn first_task(&self, filter: &str) -> Result<Option<VikunjaTask>, VikunjaError> {
        let req = Request::to(Call::ListTasks, "/tasks".into())
            .query("filter", filter)
            .query("page", "1")
            .query("per_page", "1");
        match self.transport.send(req).await?.body {
            Value::Array(mut tasks) if !tasks.is_empty() => {
                task(Call::ListTasks, tasks.swap_remove(0)).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// `GET /projects/{id}/tasks`, every task, by id.
    pub async fn project_tasks(&self, project_id: i64) -> Result<Vec<VikunjaTask>, VikunjaError> {
        self.project_tasks_matching(project_id, None).await
    }

    /// `GET /projects/{id}/tasks` narrowed by `filter` (e.g. `created >= …`), by id.
    pub async fn project_tasks_matching(
        &self,
        project_id: i64,
        filter: Option<&str>,
    ) -> Result<Vec<VikunjaTask>, VikunjaError> {
        let path = format!("/projects/{project_id}/tasks");
        let all = self
            .transport
            .all_by_id(Call::ProjectTasks, &path, filter)
            .await?;
        all.into_iter()
            .map(|t| task(Call::ProjectTasks, t))
            .collect()
    }
}

fn task(call: Call, v: Value) -> Result<VikunjaTask, VikunjaError> {
    VikunjaTask::from_value(v).map_err(|e| decode_error(call.route(), e))
}
