//! Vikunja creates in flight (KV `vsync_links`, beside the correlations they lead to). Before
//! the reconciler sends a create it claims the task (`creating.<uuid>`, compare-and-set) and
//! notes the claim under each project it creates in (`creating-in.<project id>`); it releases
//! both once the new task's link is stored. So two writers (the event loop and a reconcile pass,
//! or two reconciler replicas) never both create one task; a claim left over (its answer was
//! lost, or its writer died) says the task may exist already: look it up before creating it
//! again; and a webhook for a task nobody linked yet finds, through its project's note, whose
//! create it probably is.

use async_nats::jetstream::kv;
use serde::{Deserialize, Serialize};

use crate::{Bus, BusError};

/// A claim on creating one task in Vikunja.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreateClaim {
    pub uuid: String,
    /// Who holds it: a reconciler, by host and name (the same after a restart).
    pub holder: String,
    /// Until when (µs) it is held; after that anyone may take it over.
    pub until_us: i64,
    /// When it was first claimed (µs): a task it made was created since.
    pub since_us: i64,
    /// The projects it created in, and the titles it sent (a create sent again may go to
    /// another project or carry a newer title).
    pub project_ids: Vec<i64>,
    pub titles: Vec<String>,
}

/// What claiming a create got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The claim is ours. `previous`: the claim we took over (ours from an earlier attempt,
    /// or an expired one of someone else's): a create may have been sent, look it up first.
    Taken {
        claim: CreateClaim,
        previous: Option<CreateClaim>,
    },
    /// Someone else holds it.
    Held(CreateClaim),
}

fn claim_key(uuid: &str) -> String {
    format!("creating.{uuid}")
}

fn project_key(project_id: i64) -> String {
    format!("creating-in.{project_id}")
}

impl Bus {
    /// Claims the create `want` describes at `now_us`: new, or taken over from an earlier
    /// claim of the same holder or one that expired (keeping its start, projects and titles).
    pub async fn claim_create(&self, want: &CreateClaim, now_us: i64) -> Result<Claim, BusError> {
        let key = claim_key(&want.uuid);
        let claim = loop {
            let Some((previous, revision)) = self.read_json::<CreateClaim>(&key).await? else {
                match self.links.create(&key, to_json(want)?.into()).await {
                    Ok(_) => break (want.clone(), None),
                    Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(BusError::kv("create", &key, e)),
                }
            };
            if previous.holder != want.holder && previous.until_us > now_us {
                return Ok(Claim::Held(previous));
            }
            let mut merged = want.clone();
            merged.since_us = previous.since_us.min(want.since_us);
            merged.project_ids = union(&previous.project_ids, &want.project_ids);
            merged.titles = union(&previous.titles, &want.titles);
            match self
                .links
                .update(&key, to_json(&merged)?.into(), revision)
                .await
            {
                Ok(_) => break (merged, Some(previous)),
                Err(e) if e.kind() == kv::UpdateErrorKind::WrongLastRevision => continue,
                Err(e) => return Err(BusError::kv("update", &key, e)),
            }
        };
        for project_id in &claim.0.project_ids {
            self.edit_note(*project_id, |uuids| {
                if !uuids.contains(&want.uuid) {
                    uuids.push(want.uuid.clone());
                }
            })
            .await?;
        }
        Ok(Claim::Taken {
            claim: claim.0,
            previous: claim.1,
        })
    }

    /// Releases the claim on creating `uuid` (nothing when there is none).
    pub async fn release_create(&self, uuid: &str) -> Result<(), BusError> {
        let key = claim_key(uuid);
        let Some((claim, _)) = self.read_json::<CreateClaim>(&key).await? else {
            return Ok(());
        };
        for project_id in &claim.project_ids {
            self.edit_note(*project_id, |uuids| uuids.retain(|u| u != uuid))
                .await?;
        }
        self.links
            .delete(&key)
            .await
            .map_err(|e| BusError::kv("delete", &key, e))
    }

    /// The claims on creating a task in `project_id`.
    pub async fn creates_in(&self, project_id: i64) -> Result<Vec<CreateClaim>, BusError> {
        let note = project_key(project_id);
        let Some((uuids, _)) = self.read_json::<Vec<String>>(&note).await? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for uuid in uuids {
            if let Some((claim, _)) = self.read_json::<CreateClaim>(&claim_key(&uuid)).await? {
                out.push(claim);
            }
        }
        Ok(out)
    }

    /// Changes the list of claims noted under a project (compare-and-set; an empty list is
    /// removed).
    async fn edit_note(
        &self,
        project_id: i64,
        edit: impl Fn(&mut Vec<String>),
    ) -> Result<(), BusError> {
        let key = project_key(project_id);
        loop {
            let (mut uuids, revision) = match self.read_json::<Vec<String>>(&key).await? {
                Some((u, r)) => (u, Some(r)),
                None => (Vec::new(), None),
            };
            let before = uuids.clone();
            edit(&mut uuids);
            if uuids == before {
                return Ok(());
            }
            let stale = |e: &kv::UpdateError| e.kind() == kv::UpdateErrorKind::WrongLastRevision;
            let written = match (revision, uuids.is_empty()) {
                (Some(r), true) => match self.links.delete_expect_revision(&key, Some(r)).await {
                    Err(e) if stale(&e) => None,
                    r => Some(r.map_err(|e| BusError::kv("delete", &key, e))),
                },
                (Some(r), false) => match self.links.update(&key, to_json(&uuids)?.into(), r).await
                {
                    Err(e) if stale(&e) => None,
                    r => Some(r.map(|_| ()).map_err(|e| BusError::kv("update", &key, e))),
                },
                (None, _) => match self.links.create(&key, to_json(&uuids)?.into()).await {
                    Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => None,
                    r => Some(r.map(|_| ()).map_err(|e| BusError::kv("create", &key, e))),
                },
            };
            // `None`: someone changed the note meanwhile; read it again.
            if let Some(done) = written {
                return done;
            }
        }
    }

    /// A JSON value in the links bucket and its revision (`None`: absent or deleted).
    async fn read_json<T: serde::de::DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Option<(T, u64)>, BusError> {
        let entry = self
            .links
            .entry(key)
            .await
            .map_err(|e| BusError::kv("read", key, e))?;
        match entry {
            Some(e) if e.operation == kv::Operation::Put => {
                let value = serde_json::from_slice(&e.value).map_err(|err| BusError::Decode {
                    what: "create claim",
                    reason: err.to_string(),
                })?;
                Ok(Some((value, e.revision)))
            }
            _ => Ok(None),
        }
    }
}

fn to_json<T: Serialize>(v: &T) -> Result<Vec<u8>, BusError> {
    serde_json::to_vec(v).map_err(|e| BusError::Decode {
        what: "create claim",
        reason: e.to_string(),
    })
}

fn union<T: Clone + PartialEq>(a: &[T], b: &[T]) -> Vec<T> {
    let mut out = a.to_vec();
    out.extend(b.iter().filter(|x| !a.contains(x)).cloned());
    out
}
