//! Task endpoints: read, create (`PUT`), full-replace update (`POST`), delete, listings.

use serde_json::Value;
use vsync_model::VikunjaTask;

use crate::VikunjaClient;
use crate::error::{VikunjaError, decode_error};
use crate::transport::Request;

impl VikunjaClient {
    pub async fn get_task(&self, id: i64) -> Result<VikunjaTask, VikunjaError> {
        let req = Request::get("/tasks/{id}", format!("/tasks/{id}"));
        let route = req.route();
        task(route, self.transport.send(req).await?.body)
    }

    /// `PUT /projects/{id}/tasks` (v1 creates with PUT).
    pub async fn create_task(
        &self,
        project_id: i64,
        body: &VikunjaTask,
    ) -> Result<VikunjaTask, VikunjaError> {
        let path = format!("/projects/{project_id}/tasks");
        let req = Request::create("/projects/{id}/tasks", path, &body.0);
        let route = req.route();
        task(route, self.transport.send(req).await?.body)
    }

    /// `POST /tasks/{id}`: replaces the whole task, so `body` must be complete.
    pub async fn update_task(&self, body: &VikunjaTask) -> Result<VikunjaTask, VikunjaError> {
        let path = format!("/tasks/{}", body.id());
        let req = Request::post("/tasks/{id}", path, &body.0);
        let route = req.route();
        task(route, self.transport.send(req).await?.body)
    }

    pub async fn delete_task(&self, id: i64) -> Result<(), VikunjaError> {
        let req = Request::delete("/tasks/{id}", format!("/tasks/{id}"));
        self.transport.send(req).await.map(|_| ())
    }

    /// `GET /tasks`, optionally filtered (e.g. `updated > 2026-01-01T00:00:00Z`), every page,
    /// by id.
    pub async fn list_tasks(&self, filter: Option<&str>) -> Result<Vec<VikunjaTask>, VikunjaError> {
        let mut query = vec![("sort_by", "id"), ("order_by", "asc")];
        if let Some(f) = filter {
            query.push(("filter", f));
        }
        let all: Vec<Value> = self.transport.all_pages("/tasks", "/tasks", &query).await?;
        all.into_iter().map(|t| task("/tasks", t)).collect()
    }

    /// `GET /projects/{id}/tasks`, every page.
    pub async fn project_tasks(&self, project_id: i64) -> Result<Vec<VikunjaTask>, VikunjaError> {
        let route = "/projects/{id}/tasks";
        let path = format!("/projects/{project_id}/tasks");
        let all: Vec<Value> = self.transport.all_pages(route, &path, &[]).await?;
        all.into_iter().map(|t| task(route, t)).collect()
    }
}

fn task(route: &str, v: Value) -> Result<VikunjaTask, VikunjaError> {
    VikunjaTask::from_value(v).map_err(|e| decode_error(route, e))
}
