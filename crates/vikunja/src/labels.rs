//! Label endpoints: the label list, creating a label, and a task's labels (add, remove, set).

use serde_json::{Value, json};

use crate::calls::Call;
use crate::error::VikunjaError;
use crate::transport::Request;
use crate::{Label, VikunjaClient};

impl VikunjaClient {
    pub async fn labels(&self) -> Result<Vec<Label>, VikunjaError> {
        self.transport
            .all_pages(Call::ListLabels, "/labels", &[])
            .await
    }

    pub async fn create_label(&self, title: &str) -> Result<Label, VikunjaError> {
        let body = json!({"title": title});
        self.json(Request::with_body(
            Call::CreateLabel,
            "/labels".into(),
            &body,
        ))
        .await
    }

    /// Puts a label on a task (8001 if it is already there).
    pub async fn add_label(&self, task_id: i64, label_id: i64) -> Result<(), VikunjaError> {
        let body = json!({"label_id": label_id});
        let path = format!("/tasks/{task_id}/labels");
        let req = Request::with_body(Call::AddTaskLabel, path, &body);
        self.transport.send(req).await.map(|_| ())
    }

    pub async fn remove_label(&self, task_id: i64, label_id: i64) -> Result<(), VikunjaError> {
        let path = format!("/tasks/{task_id}/labels/{label_id}");
        let req = Request::to(Call::RemoveTaskLabel, path);
        self.transport.send(req).await.map(|_| ())
    }

    /// Replaces a task's label set in one call.
    pub async fn set_labels(&self, task_id: i64, label_ids: &[i64]) -> Result<(), VikunjaError> {
        let labels: Vec<Value> = label_ids.iter().map(|id| json!({"id": id})).collect();
        let body = json!({"labels": labels});
        let path = format!("/tasks/{task_id}/labels/bulk");
        let req = Request::with_body(Call::SetTaskLabels, path, &body);
        self.transport.send(req).await.map(|_| ())
    }
}
