//! Labels on the bus: the registry label-sync keeps (KV `vsync_labels`, title -> label id,
//! shared by every replica), and label work (`vsync.v1.ctl.labels.apply`, queue group
//! `label-sync`): the reconciler asks for a task's label set, one label-sync replica sets it.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use async_nats::jetstream::kv;
use futures::{Stream, StreamExt};
use prost::Message as _;
use serde::{Deserialize, Serialize};
use vsync_proto::{LabelEntry, LabelWork};

use crate::control::{Requests, request};
use crate::{Bus, BusError, subject};

/// Who answers label work.
const BY: &str = "label-sync";

/// The registry key of a label title: `t.<encoded title>`.
pub fn key(title: &str) -> String {
    format!("t.{}", subject::encode_token(title))
}

/// What label-sync can be asked.
#[derive(Clone, Debug, PartialEq)]
pub enum LabelsRequest {
    /// Set a task's labels: answered with [`LabelsApplied`].
    Apply(LabelWork),
}

impl LabelsRequest {
    fn decode(subject: &str, payload: &[u8]) -> Result<LabelsRequest, String> {
        if subject == subject::CTL_LABELS_APPLY {
            crate::decode::<LabelWork>("LabelWork", payload)
                .map(LabelsRequest::Apply)
                .map_err(|e| e.to_string())
        } else {
            Err(format!("unknown request {subject}"))
        }
    }
}

/// A task's labels as set: the ids in the order of the titles asked for.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelsApplied {
    pub label_ids: Vec<i64>,
    /// Vikunja API requests it took.
    pub api_calls: u32,
}

impl Bus {
    /// Asks label-sync to set a task's labels to `work.titles` and waits up to `timeout`.
    pub async fn apply_labels(
        &self,
        work: &LabelWork,
        timeout: Duration,
    ) -> Result<LabelsApplied, BusError> {
        request(
            self,
            subject::CTL_LABELS_APPLY,
            work.encode_to_vec(),
            timeout,
        )
        .await
    }

    /// Label work for label-sync (one replica of the queue group gets each).
    pub async fn label_requests(&self) -> Result<Requests<LabelsRequest>, BusError> {
        Requests::subscribe(
            self,
            &[subject::CTL_LABELS_APPLY],
            Some(BY),
            BY,
            Box::new(LabelsRequest::decode),
        )
        .await
    }

    /// The label registry.
    pub fn label_registry(&self) -> LabelStore {
        LabelStore(self.labels.clone())
    }
}

/// The label registry's entries, by [`key`], each with its revision for compare-and-set.
#[derive(Clone)]
pub struct LabelStore(kv::Store);

impl LabelStore {
    /// The entry under `key` (`None`: none, or not an entry).
    pub async fn get(&self, key: &str) -> Result<Option<(LabelEntry, u64)>, BusError> {
        match self
            .0
            .entry(key)
            .await
            .map_err(|e| BusError::kv("read", key, e))?
        {
            Some(e) if e.operation == kv::Operation::Put => {
                Ok(LabelEntry::decode(e.value).ok().map(|l| (l, e.revision)))
            }
            _ => Ok(None),
        }
    }

    /// Every key with an entry.
    pub async fn keys(&self) -> Result<Vec<String>, BusError> {
        crate::keys(&self.0).await
    }

    /// Writes `entry` if `key` has none: its revision (`Err`: someone wrote first).
    pub async fn create(&self, key: &str, entry: &LabelEntry) -> Result<u64, BusError> {
        self.0
            .create(key, entry.encode_to_vec().into())
            .await
            .map_err(|e| BusError::kv("create", key, e))
    }

    /// Replaces the entry at revision `rev`: its new revision (`Err`: it changed meanwhile).
    pub async fn update(&self, key: &str, entry: &LabelEntry, rev: u64) -> Result<u64, BusError> {
        self.0
            .update(key, entry.encode_to_vec().into(), rev)
            .await
            .map_err(|e| BusError::kv("update", key, e))
    }

    /// Deletes the entry if it is still at revision `rev`.
    pub async fn delete(&self, key: &str, rev: u64) -> Result<(), BusError> {
        self.0
            .delete_expect_revision(key, Some(rev))
            .await
            .map_err(|e| BusError::kv("delete", key, e))
    }

    /// The changes of `key` from now on: `Some` entry written, `None` removed.
    pub async fn watch(&self, key: &str) -> Result<LabelChanges, BusError> {
        let w = self
            .0
            .watch(key)
            .await
            .map_err(|e| BusError::kv("watch", key, e))?;
        Ok(LabelChanges {
            watch: w,
            key: key.to_string(),
        })
    }
}

/// Changes of one registry key (what is not an entry is skipped).
pub struct LabelChanges {
    watch: kv::Watch,
    key: String,
}

impl Stream for LabelChanges {
    type Item = Result<Option<LabelEntry>, BusError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let item = match self.watch.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(e))) if e.operation == kv::Operation::Put => {
                    match LabelEntry::decode(e.value) {
                        Ok(l) => Ok(Some(l)),
                        Err(_) => continue,
                    }
                }
                Poll::Ready(Some(Ok(_))) => Ok(None),
                Poll::Ready(Some(Err(e))) => Err(BusError::kv("watch", &self.key, e)),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => return Poll::Pending,
            };
            return Poll::Ready(Some(item));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_work_reads_back_from_its_subject() {
        let work = LabelWork {
            uuid: "u".into(),
            vikunja_task_id: 7,
            titles: vec!["errand".into()],
            current_label_ids: vec![3],
        };
        assert_eq!(
            LabelsRequest::decode(subject::CTL_LABELS_APPLY, &work.encode_to_vec()),
            Ok(LabelsRequest::Apply(work))
        );
        assert!(LabelsRequest::decode(subject::CTL_LABELS_APPLY, b"\xff\xff").is_err());
        assert!(LabelsRequest::decode("vsync.v1.ctl.labels.remove", b"").is_err());
        assert_eq!(key("Home.Garden"), "t.Home=2EGarden");
    }
}
