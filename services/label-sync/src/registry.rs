//! The label registry: title -> label id in KV (`vsync_labels`, key `t.<encoded title>`).
//!
//! Titles are not unique in Vikunja: the lowest id wins, deterministically, and is reused for as
//! long as it exists with that title. A title the registry does not know is first looked up in
//! Vikunja (`GET /labels`, paged) and only then created, by whoever claims the title first: a
//! claim is an entry with a negative id (minus the claim time in ms), replaced by the real id
//! once the label exists. A claim left behind by a replica that died is taken over after
//! [`CLAIM_TTL`].

use std::collections::BTreeMap;
use std::time::Duration;

use futures::StreamExt;
use vsync_bus::labels::LabelStore;
use vsync_proto::LabelEntry;
use vsync_vikunja::{Label, VikunjaClient};

use crate::LabelError;

/// How long a claim may stay unfinished before another replica takes it over.
pub const CLAIM_TTL: Duration = Duration::from_secs(10);

pub struct Registry {
    kv: LabelStore,
    /// Titles that differ only in case are one label (the `lowercase` tag mapping).
    fold_case: bool,
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// A registry entry as read: a label's id, or a claim (made at `since_ms`).
enum Known {
    Id(i64),
    Claim { since_ms: i64, rev: u64 },
}

impl Registry {
    pub fn new(kv: LabelStore, fold_case: bool) -> Registry {
        Registry { kv, fold_case }
    }

    fn key(&self, title: &str) -> String {
        let title = if self.fold_case {
            title.to_lowercase()
        } else {
            title.to_string()
        };
        vsync_bus::labels::key(&title)
    }

    async fn get(&self, key: &str) -> Result<Option<(LabelEntry, u64)>, LabelError> {
        Ok(self.kv.get(key).await?)
    }

    async fn known(&self, key: &str) -> Result<Option<Known>, LabelError> {
        Ok(self.get(key).await?.map(|(l, rev)| {
            if l.id > 0 {
                Known::Id(l.id)
            } else {
                Known::Claim {
                    since_ms: -l.id,
                    rev,
                }
            }
        }))
    }

    /// Reads every label (paged) and brings the registry in line: titles it does not know are
    /// recorded (lowest id), entries whose label is gone or was renamed are corrected or
    /// removed. Claims, and entries written after the listing began, are left alone. This walks
    /// every key: at start, periodically, and when a known label turned out to be gone.
    pub async fn refresh(&self, api: &VikunjaClient) -> Result<Vec<Label>, LabelError> {
        let before = self.snapshot().await?;
        let labels = api.labels().await?;
        let listed = self.record_listing(&labels).await?;
        // Titles no label has any more (renamed or deleted in Vikunja).
        for (key, (l, rev)) in before {
            if l.id > 0 && !listed.contains_key(&key) {
                let _ = self.kv.delete(&key, rev).await;
            }
        }
        Ok(labels)
    }

    /// Reads every label (paged) and records the titles listed: the lighter refresh for a
    /// title the registry does not know (it walks only the listed titles' keys).
    pub async fn look_up_all(&self, api: &VikunjaClient) -> Result<Vec<Label>, LabelError> {
        let labels = api.labels().await?;
        self.record_listing(&labels).await?;
        Ok(labels)
    }

    /// Every entry with its revision.
    async fn snapshot(&self) -> Result<BTreeMap<String, (LabelEntry, u64)>, LabelError> {
        let keys = self.kv.keys().await?;
        let mut out = BTreeMap::new();
        for key in keys {
            if let Some(e) = self.get(&key).await? {
                out.insert(key, e);
            }
        }
        Ok(out)
    }

    /// Records a listing: per title, the lowest id, where the registry has none or its label is
    /// not among those with the title any more. Returns the listed ids per key.
    async fn record_listing(
        &self,
        labels: &[Label],
    ) -> Result<BTreeMap<String, Vec<i64>>, LabelError> {
        let mut by_key: BTreeMap<String, (Vec<i64>, LabelEntry)> = BTreeMap::new();
        for l in labels {
            let (ids, best) = by_key.entry(self.key(&l.title)).or_insert_with(|| {
                (
                    Vec::new(),
                    LabelEntry {
                        id: l.id,
                        title: l.title.clone(),
                    },
                )
            });
            ids.push(l.id);
            if l.id < best.id {
                *best = LabelEntry {
                    id: l.id,
                    title: l.title.clone(),
                };
            }
        }
        for (key, (ids, best)) in &by_key {
            match self.get(key).await? {
                None => {
                    // Loses to an entry written meanwhile: fine, that one is just as valid.
                    let _ = self.kv.create(key, best).await;
                }
                // The label we use is gone or renamed: the lowest with the title instead
                // (unless the entry changes meanwhile). Claims stay.
                Some((l, rev)) if l.id > 0 && !ids.contains(&l.id) => {
                    let _ = self.kv.update(key, best, rev).await;
                }
                Some(_) => {}
            }
        }
        Ok(by_key.into_iter().map(|(k, (ids, _))| (k, ids)).collect())
    }

    /// Forgets what the registry says about `title` (its label turned out to be gone).
    pub async fn forget(&self, title: &str) -> Result<(), LabelError> {
        let key = self.key(title);
        if let Some((l, rev)) = self.get(&key).await?
            && l.id > 0
        {
            let _ = self.kv.delete(&key, rev).await;
        }
        Ok(())
    }

    /// The id the registry knows for `title`, if any (no API call).
    pub async fn lookup(&self, title: &str) -> Result<Option<i64>, LabelError> {
        Ok(match self.known(&self.key(title)).await? {
            Some(Known::Id(id)) => Some(id),
            _ => None,
        })
    }

    /// The id of the label titled `title`: the one the registry knows, else the lowest one
    /// Vikunja lists, else a new label, created once however many ask at the same moment.
    /// `refreshed`: the caller has just brought the registry in line with Vikunja's listing, so
    /// a title still unknown need not be looked up again before it is created.
    pub async fn ensure(
        &self,
        title: &str,
        api: &VikunjaClient,
        refreshed: bool,
    ) -> Result<i64, LabelError> {
        let key = self.key(title);
        for _ in 0..4 {
            let claim = LabelEntry {
                id: -now_ms().max(1),
                title: title.to_string(),
            };
            // A claim given up or taken over may have left a label behind: look again then.
            let (held, look) = match self.known(&key).await? {
                Some(Known::Id(id)) => return Ok(id),
                None => (self.kv.create(&key, &claim).await.ok(), !refreshed),
                Some(Known::Claim { since_ms, rev }) => {
                    let age = Duration::from_millis((now_ms() - since_ms).max(0) as u64);
                    if age >= CLAIM_TTL {
                        tracing::warn!(title, "taking over a label claim nobody finished");
                        let held = self.kv.update(&key, &claim, rev).await.ok();
                        (held, true)
                    } else {
                        if let Some(id) = self.wait_for(&key, CLAIM_TTL - age).await? {
                            return Ok(id);
                        }
                        continue;
                    }
                }
            };
            if let Some(rev) = held {
                return self.create(title, &key, rev, api, look).await;
            }
            // Someone else claimed it first: the next round waits for them.
        }
        Err(LabelError::ClaimReleased {
            title: title.to_string(),
        })
    }

    /// We hold the claim: use the label if Vikunja has it already (when `look`), else create
    /// it; record it.
    async fn create(
        &self,
        title: &str,
        key: &str,
        rev: u64,
        api: &VikunjaClient,
        look: bool,
    ) -> Result<i64, LabelError> {
        let found = async {
            let mut existing = None;
            if look {
                // The other titles are recorded too, while we are at it (claims stay).
                let labels = self.look_up_all(api).await?;
                existing = labels
                    .iter()
                    .filter(|l| self.key(&l.title) == key)
                    .min_by_key(|l| l.id)
                    .cloned();
            }
            match existing {
                Some(l) => Ok(l),
                None => {
                    let l = api.create_label(title).await?;
                    tracing::info!(title, id = l.id, "created Vikunja label");
                    Ok(l)
                }
            }
        }
        .await;
        let label = match found {
            Ok(l) => l,
            Err(e) => {
                // Give the claim back so another try can create it.
                let _ = self.kv.delete(key, rev).await;
                return Err(e);
            }
        };
        let entry = LabelEntry {
            id: label.id,
            title: label.title.clone(),
        };
        if let Err(e) = self.kv.update(key, &entry, rev).await {
            // Our claim was taken over (we were too slow): theirs is the entry to use.
            if let Some(Known::Id(id)) = self.known(key).await? {
                return Ok(id);
            }
            return Err(e.into());
        }
        Ok(label.id)
    }

    /// Someone else holds the claim: wait until they wrote the id (`None`: they gave up, or
    /// did not finish within `patience`).
    async fn wait_for(&self, key: &str, patience: Duration) -> Result<Option<i64>, LabelError> {
        let mut watch = self.kv.watch(key).await?;
        match self.known(key).await? {
            Some(Known::Id(id)) => return Ok(Some(id)),
            None => return Ok(None),
            Some(Known::Claim { .. }) => {}
        }
        let deadline = tokio::time::sleep(patience);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => return Ok(None),
                e = watch.next() => match e {
                    Some(Ok(Some(l))) => {
                        if l.id > 0 {
                            return Ok(Some(l.id));
                        }
                    }
                    Some(Ok(None)) => return Ok(None),
                    Some(Err(e)) => return Err(e.into()),
                    None => return Err(LabelError::WatchEnded),
                },
            }
        }
    }
}
