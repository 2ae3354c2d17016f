//! Adoption bookkeeping (KV `vsync_meta`, key `adoption`): whether Vikunja and each host have
//! been adopted, and the tasks held back because their match is ambiguous. Until a side is
//! adopted nothing that existed before is created on the other side; a held task is never
//! synced until the user links or separates it (`vikunja-sync adopt --link|--separate`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Bus, BusError};

const KEY: &str = "adoption";
/// Compare-and-set attempts before giving up.
const MAX_TRIES: usize = 20;

/// What adoption has done so far.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Adoption {
    /// When Vikunja's tasks were adopted (µs); `None`: not yet.
    pub vikunja_at_us: Option<i64>,
    /// The newest `created` (Vikunja's clock, µs) among the tasks that adoption listed: an
    /// unlinked task created no later than this was there at adoption and left out on purpose.
    pub vikunja_horizon_us: i64,
    /// Each adopted host, with when (µs).
    pub hosts: BTreeMap<String, i64>,
    /// Tasks held back on either side until the user decides.
    pub held: Vec<HeldTask>,
    /// Hosts waiting for `vikunja-sync adopt` (`[adopt] auto = false`), with their task count.
    pub waiting_hosts: BTreeMap<String, usize>,
    /// Vikunja's task count while it waits for `vikunja-sync adopt`.
    pub pending_vikunja_tasks: Option<usize>,
}

/// A task held back by adoption: one side's view, and why.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct HeldTask {
    /// The host holding it; `None`: Vikunja.
    pub host: Option<String>,
    /// Its uuid on that host.
    pub uuid: Option<String>,
    /// Its Vikunja id.
    pub vikunja_id: Option<i64>,
    pub project: String,
    pub title: String,
    pub status: String,
    pub why: String,
}

impl Adoption {
    /// Whether Vikunja task `id` is held back.
    pub fn holds_vikunja(&self, id: i64) -> bool {
        self.held
            .iter()
            .any(|h| h.host.is_none() && h.vikunja_id == Some(id))
    }

    /// Whether `host` has been adopted.
    pub fn host_adopted(&self, host: &str) -> bool {
        self.hosts.contains_key(host)
    }
}

impl std::fmt::Display for HeldTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (&self.host, &self.uuid, self.vikunja_id) {
            (Some(h), Some(u), _) => write!(f, "{h} {u}")?,
            (_, _, Some(id)) => write!(f, "Vikunja #{id}")?,
            _ => write!(f, "?")?,
        }
        write!(
            f,
            "  project {:?} title {:?} ({}): {}",
            self.project, self.title, self.status, self.why
        )
    }
}

impl Bus {
    /// Adoption so far (nothing adopted when never written).
    pub async fn adoption(&self) -> Result<Adoption, BusError> {
        let v = self
            .meta
            .get(KEY)
            .await
            .map_err(|e| BusError::kv("read", KEY, e))?;
        match v {
            None => Ok(Adoption::default()),
            Some(v) => serde_json::from_slice(&v).map_err(|e| BusError::Decode {
                what: "Adoption",
                reason: e.to_string(),
            }),
        }
    }

    /// Changes the adoption record with `f`, compare-and-set against concurrent writers.
    pub async fn update_adoption(&self, f: impl Fn(&mut Adoption)) -> Result<Adoption, BusError> {
        let mut last = String::new();
        for _ in 0..MAX_TRIES {
            let entry = self
                .meta
                .entry(KEY)
                .await
                .map_err(|e| BusError::kv("read", KEY, e))?;
            let (mut a, rev) = match &entry {
                Some(e) if e.operation == async_nats::jetstream::kv::Operation::Put => (
                    serde_json::from_slice::<Adoption>(&e.value).map_err(|e| BusError::Decode {
                        what: "Adoption",
                        reason: e.to_string(),
                    })?,
                    Some(e.revision),
                ),
                Some(e) => (Adoption::default(), Some(e.revision)),
                None => (Adoption::default(), None),
            };
            f(&mut a);
            let json = serde_json::to_vec(&a).map_err(|e| BusError::Decode {
                what: "Adoption",
                reason: e.to_string(),
            })?;
            let written = match rev {
                Some(r) => self
                    .meta
                    .update(KEY, json.into(), r)
                    .await
                    .map_err(|e| e.to_string()),
                None => self
                    .meta
                    .create(KEY, json.into())
                    .await
                    .map_err(|e| e.to_string()),
            };
            match written {
                Ok(_) => return Ok(a),
                // Someone else wrote it meanwhile: read theirs and apply `f` again.
                Err(e) => last = e,
            }
        }
        Err(BusError::kv("write", KEY, last))
    }
}
