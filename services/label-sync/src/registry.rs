//! The label registry: title -> label id in KV (`vsync_labels`, key `t.<encoded title>`).
//! Titles are not unique in Vikunja: the lowest id wins, deterministically, and is reused.

use std::time::Duration;

use futures::StreamExt;
use vsync_bus::async_nats::jetstream::kv;
use vsync_proto::{LabelEntry, Message};
use vsync_vikunja::{VikunjaClient, VikunjaError};

pub struct Registry {
    kv: kv::Store,
}

fn key(title: &str) -> String {
    format!("t.{}", vsync_bus::subject::encode_token(title))
}

fn kv_error(e: impl std::fmt::Display) -> VikunjaError {
    VikunjaError::Decode {
        route: "label registry".into(),
        reason: e.to_string(),
    }
}

impl Registry {
    pub fn new(kv: kv::Store) -> Registry {
        Registry { kv }
    }

    async fn get(&self, title: &str) -> Result<Option<(LabelEntry, u64)>, VikunjaError> {
        match self.kv.entry(key(title)).await.map_err(kv_error)? {
            Some(e) if e.operation == kv::Operation::Put => {
                Ok(LabelEntry::decode(e.value).ok().map(|l| (l, e.revision)))
            }
            _ => Ok(None),
        }
    }

    /// Reads every label (paged) and records the ones the registry does not know yet.
    pub async fn refresh(&self, api: &VikunjaClient) -> Result<(), VikunjaError> {
        let mut labels = api.labels().await?;
        labels.sort_by_key(|l| l.id);
        for l in labels {
            if self.get(&l.title).await?.is_none() {
                let entry = LabelEntry {
                    id: l.id,
                    title: l.title.clone(),
                };
                // Loses to an entry written meanwhile: fine, that one is just as valid.
                let _ = self
                    .kv
                    .create(key(&l.title), entry.encode_to_vec().into())
                    .await;
            }
        }
        Ok(())
    }

    /// The id of the label titled `title`, creating the label once if nobody has.
    pub async fn ensure(&self, title: &str, api: &VikunjaClient) -> Result<i64, VikunjaError> {
        for _ in 0..3 {
            if let Some((l, _)) = self.get(title).await?
                && l.id > 0
            {
                return Ok(l.id);
            }
            let claim = LabelEntry {
                id: 0,
                title: title.to_string(),
            };
            match self
                .kv
                .create(key(title), claim.encode_to_vec().into())
                .await
            {
                Ok(rev) => return self.create(title, rev, api).await,
                Err(_) => {
                    if let Some(id) = self.wait_for(title).await? {
                        return Ok(id);
                    }
                }
            }
        }
        Err(kv_error(format!(
            "label {title:?}: claim kept being released"
        )))
    }

    /// We hold the claim: create the label and record its id.
    async fn create(
        &self,
        title: &str,
        rev: u64,
        api: &VikunjaClient,
    ) -> Result<i64, VikunjaError> {
        let created = match api.create_label(title).await {
            Ok(l) => l,
            Err(e) => {
                // Give the claim back so another try can create it.
                let _ = self.kv.delete_expect_revision(key(title), Some(rev)).await;
                return Err(e);
            }
        };
        tracing::info!(title, id = created.id, "created Vikunja label");
        let entry = LabelEntry {
            id: created.id,
            title: title.to_string(),
        };
        self.kv
            .update(key(title), entry.encode_to_vec().into(), rev)
            .await
            .map_err(kv_error)?;
        Ok(created.id)
    }

    /// Someone else claimed the title: wait until they wrote the id (`None`: they gave up).
    async fn wait_for(&self, title: &str) -> Result<Option<i64>, VikunjaError> {
        let mut watch = self.kv.watch(key(title)).await.map_err(kv_error)?;
        match self.get(title).await? {
            Some((l, _)) if l.id > 0 => return Ok(Some(l.id)),
            None => return Ok(None),
            _ => {}
        }
        let deadline = tokio::time::sleep(Duration::from_secs(30));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => return Err(kv_error(format!("label {title:?} was claimed but never created"))),
                e = watch.next() => match e {
                    Some(Ok(e)) if e.operation == kv::Operation::Put => {
                        if let Ok(l) = LabelEntry::decode(e.value)
                            && l.id > 0
                        {
                            return Ok(Some(l.id));
                        }
                    }
                    Some(Ok(_)) => return Ok(None),
                    Some(Err(e)) => return Err(kv_error(e)),
                    None => return Err(kv_error("label watch ended")),
                },
            }
        }
    }
}
