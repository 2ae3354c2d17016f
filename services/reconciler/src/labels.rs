//! Asking label-sync to set a task's labels (request/reply over the bus).

use std::time::Duration;

use bytes::Bytes;
use vsync_proto::{LabelWork, LabelWorkResult, Message};

use crate::error::SyncError;

/// The request subject label-sync serves.
pub fn subject() -> String {
    vsync_bus::subject::ctl("labels", "apply")
}

#[derive(Clone)]
pub struct LabelClient {
    client: vsync_bus::async_nats::Client,
}

impl LabelClient {
    pub fn new(client: vsync_bus::async_nats::Client) -> LabelClient {
        LabelClient { client }
    }

    /// Sets the task's labels to `work.titles`; returns the label ids, in the order of the titles.
    pub async fn apply(&self, work: &LabelWork) -> Result<LabelWorkResult, SyncError> {
        let mut headers = vsync_bus::async_nats::HeaderMap::new();
        vsync_bus::trace::inject(&mut headers);
        let req =
            self.client
                .request_with_headers(subject(), headers, Bytes::from(work.encode_to_vec()));
        let reply = tokio::time::timeout(Duration::from_secs(30), req)
            .await
            .map_err(|_| SyncError::Labels("no answer within 30 s".into()))?
            .map_err(|e| SyncError::Labels(e.to_string()))?;
        let res: LabelWorkResult = vsync_bus::decode("LabelWorkResult", &reply.payload)?;
        if !res.error.is_empty() {
            return Err(SyncError::Labels(res.error));
        }
        Ok(res)
    }
}
