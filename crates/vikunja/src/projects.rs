//! Project endpoints: the listing, read, create.

use serde_json::json;

use crate::calls::Call;
use crate::error::VikunjaError;
use crate::transport::Request;
use crate::{Project, VikunjaClient};

impl VikunjaClient {
    /// Every real project (pseudo-projects with id <= 0 skipped), archived ones included.
    pub async fn projects(&self) -> Result<Vec<Project>, VikunjaError> {
        let query = [("is_archived", "true")];
        let all: Vec<Project> = self
            .transport
            .all_pages(Call::ListProjects, "/projects", &query)
            .await?;
        Ok(all.into_iter().filter(|p| p.id > 0).collect())
    }

    pub async fn get_project(&self, id: i64) -> Result<Project, VikunjaError> {
        self.json(Request::to(Call::GetProject, format!("/projects/{id}")))
            .await
    }

    pub async fn create_project(&self, title: &str, parent: i64) -> Result<Project, VikunjaError> {
        let body = json!({"title": title, "parent_project_id": parent});
        self.json(Request::with_body(
            Call::CreateProject,
            "/projects".into(),
            &body,
        ))
        .await
    }
}
