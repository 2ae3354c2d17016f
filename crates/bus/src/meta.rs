//! Bookkeeping (KV `vsync_meta`): the reconciler's delta watermark, its last reconcile report,
//! and when adoption ran.

use crate::reports::ReconcileReport;
use crate::{Bus, BusError};

/// Newest Vikunja `updated` seen by a reconcile pass (µs).
const WATERMARK: &str = "vikunja.watermark";
/// The last reconcile pass's report (JSON).
const LAST_RECONCILE: &str = "reconcile.last";
/// When adoption last ran (µs).
const ADOPTED: &str = "adopted";
/// Since when Vikunja rejects the reconciler's API token (µs; `0`: it does not).
const TOKEN_REJECTED: &str = "vikunja.token_rejected";
/// What the mass-deletion guard holds back since the last full pass (empty: nothing). Kept
/// apart from the last report, which the next delta pass replaces.
const HELD_DELETIONS: &str = "deletions.held";

impl Bus {
    /// Where the next delta reconcile starts (µs); `None` before the first pass.
    pub async fn watermark(&self) -> Result<Option<i64>, BusError> {
        let v = self.get_meta(WATERMARK).await?;
        Ok(v.and_then(|v| String::from_utf8_lossy(&v).parse::<i64>().ok()))
    }

    pub async fn set_watermark(&self, at_us: i64) -> Result<(), BusError> {
        self.put_meta(WATERMARK, at_us.to_string().into_bytes())
            .await
    }

    /// The report of the last reconcile pass; `Err` when it cannot be read.
    pub async fn last_reconcile(&self) -> Result<Option<ReconcileReport>, BusError> {
        let v = self.get_meta(LAST_RECONCILE).await?;
        v.map(|v| {
            serde_json::from_slice(&v).map_err(|e| BusError::Decode {
                what: "ReconcileReport",
                reason: e.to_string(),
            })
        })
        .transpose()
    }

    pub async fn set_last_reconcile(&self, report: &ReconcileReport) -> Result<(), BusError> {
        let json = serde_json::to_vec(report).map_err(|e| BusError::Decode {
            what: "ReconcileReport",
            reason: e.to_string(),
        })?;
        self.put_meta(LAST_RECONCILE, json).await
    }

    /// Records what the last full pass's mass-deletion guard held back (`""`: nothing).
    pub async fn set_held_deletions(&self, why: &str) -> Result<(), BusError> {
        self.put_meta(HELD_DELETIONS, why.as_bytes().to_vec()).await
    }

    /// What the last full pass's mass-deletion guard held back, if anything.
    pub async fn held_deletions(&self) -> Result<Option<String>, BusError> {
        let v = self.get_meta(HELD_DELETIONS).await?;
        Ok(v.map(|v| String::from_utf8_lossy(&v).into_owned())
            .filter(|s| !s.is_empty()))
    }

    /// Records that adoption ran at `at_us`.
    pub async fn set_adopted(&self, at_us: i64) -> Result<(), BusError> {
        self.put_meta(ADOPTED, at_us.to_string().into_bytes()).await
    }

    /// Records whether Vikunja rejects the API token (since when), for `status`.
    pub async fn set_token_rejected(&self, since_us: Option<i64>) -> Result<(), BusError> {
        let v = since_us.unwrap_or(0).to_string();
        self.put_meta(TOKEN_REJECTED, v.into_bytes()).await
    }

    /// Since when Vikunja rejects the API token; `None`: it accepts it (or nothing said so).
    pub async fn token_rejected(&self) -> Result<Option<i64>, BusError> {
        let v = self.get_meta(TOKEN_REJECTED).await?;
        Ok(
            v.and_then(|v| String::from_utf8_lossy(&v).parse::<i64>().ok())
                .filter(|since| *since > 0),
        )
    }

    async fn get_meta(&self, key: &str) -> Result<Option<bytes::Bytes>, BusError> {
        self.meta
            .get(key)
            .await
            .map_err(|e| BusError::kv("read", key, e))
    }

    async fn put_meta(&self, key: &str, value: Vec<u8>) -> Result<(), BusError> {
        self.meta
            .put(key, value.into())
            .await
            .map(|_| ())
            .map_err(|e| BusError::kv("write", key, e))
    }
}
