//! Whether this host has been adopted, kept in its state directory (`adoption.json`, 0600).
//! Until it is, the host neither publishes its tasks nor applies canonical state: the tasks it
//! already had would otherwise be created a second time on the other side. Adoption (by the
//! reconciler) matches them first, then says so with the tasks it holds back; a held task stays
//! unsynced until the user links or separates it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

const FILE: &str = "adoption.json";

/// This host's adoption.
#[derive(Debug)]
pub struct HostAdoption {
    path: PathBuf,
    record: Option<Record>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Record {
    adopted_at_us: i64,
    held: BTreeSet<String>,
}

impl HostAdoption {
    /// Reads the record in `state_dir` (not adopted when there is none).
    pub fn load(state_dir: &Path) -> std::io::Result<HostAdoption> {
        let path = state_dir.join(FILE);
        let record = match std::fs::read(&path) {
            Ok(bytes) => Some(serde_json::from_slice(&bytes).map_err(|e| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {e}", path.display()),
                )
            })?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e),
        };
        Ok(HostAdoption { path, record })
    }

    pub fn adopted(&self) -> bool {
        self.record.is_some()
    }

    /// Whether task `uuid` must not be synced: the host is not adopted yet, or it is held.
    pub fn holds(&self, uuid: &str) -> bool {
        self.record.as_ref().is_none_or(|r| r.held.contains(uuid))
    }

    /// Whether it holds back exactly `held`.
    pub fn holds_exactly(&self, held: &[String]) -> bool {
        self.record
            .as_ref()
            .is_some_and(|r| r.held.len() == held.len() && held.iter().all(|u| r.held.contains(u)))
    }

    /// Adopted now, holding `held` back.
    pub fn adopt(&mut self, held: &[String], now_us: i64) -> std::io::Result<()> {
        let record = Record {
            adopted_at_us: now_us,
            held: held.iter().cloned().collect(),
        };
        self.save(&record)?;
        self.record = Some(record);
        Ok(())
    }

    /// Not adopted any more (retired, or the bus is new): the host asks again, and its tasks,
    /// already known by uuid, are matched to themselves.
    pub fn forget(&mut self) -> std::io::Result<()> {
        crate::mirror::remove_if_present(&self.path)?;
        self.record = None;
        Ok(())
    }

    /// Stops holding `uuids` back; returns those that were held.
    pub fn release(&mut self, uuids: &[String]) -> std::io::Result<Vec<String>> {
        let Some(record) = self.record.as_mut() else {
            return Ok(Vec::new());
        };
        let released: Vec<String> = uuids
            .iter()
            .filter(|u| record.held.remove(u.as_str()))
            .cloned()
            .collect();
        let json = serde_json::to_vec(&*record).map_err(std::io::Error::other)?;
        vsync_bus_auth::write_private(&self.path, &json)?;
        Ok(released)
    }

    fn save(&self, record: &Record) -> std::io::Result<()> {
        let json = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        if let Some(dir) = self.path.parent() {
            vsync_bus_auth::private_dir(dir)?;
        }
        vsync_bus_auth::write_private(&self.path, &json)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_host_holds_everything_until_adopted_then_only_what_it_was_told() {
        let dir = tempfile::tempdir().unwrap();
        let mut a = HostAdoption::load(dir.path()).unwrap();
        assert!(!a.adopted() && a.holds("any"));
        a.adopt(&["held".to_string()], 1).unwrap();
        assert!(a.adopted() && a.holds("held") && !a.holds("other"));
        assert!(a.holds_exactly(&["held".to_string()]) && !a.holds_exactly(&[]));
        let again = HostAdoption::load(dir.path()).unwrap();
        assert!(again.adopted() && again.holds("held") && !again.holds("other"));
        let released = a
            .release(&["held".to_string(), "never".to_string()])
            .unwrap();
        assert_eq!(released, vec!["held".to_string()]);
        assert!(!HostAdoption::load(dir.path()).unwrap().holds("held"));
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(dir.path().join(FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        a.forget().unwrap();
        assert!(!a.adopted() && !HostAdoption::load(dir.path()).unwrap().adopted());
    }
}
