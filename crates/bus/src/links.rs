//! Correlations (KV `vsync_links`): which canonical uuid a Vikunja task is. A link never
//! changes once made, except when `repair` rewrites it from canonical state.

use async_nats::jetstream::kv;

use crate::{Bus, BusError};

/// The key of a Vikunja task's link: `vikunja.task.<id>`.
fn key(vikunja_id: i64) -> String {
    format!("vikunja.task.{vikunja_id}")
}

impl Bus {
    /// The uuid a Vikunja task is linked to.
    pub async fn linked_uuid(&self, vikunja_id: i64) -> Result<Option<String>, BusError> {
        let key = key(vikunja_id);
        let value = self
            .links
            .get(&key)
            .await
            .map_err(|e| BusError::kv("read", &key, e))?;
        Ok(value.map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Links a Vikunja task to `uuid` unless it is linked already: whether this call made the
    /// link (false: someone else linked it first; read theirs).
    pub async fn link_if_new(&self, vikunja_id: i64, uuid: &str) -> Result<bool, BusError> {
        let key = key(vikunja_id);
        match self.links.create(&key, uuid.to_string().into()).await {
            Ok(_) => Ok(true),
            Err(e) if e.kind() == kv::CreateErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(BusError::kv("create", &key, e)),
        }
    }

    /// Links a Vikunja task to `uuid`, whatever it was linked to before.
    pub async fn link(&self, vikunja_id: i64, uuid: &str) -> Result<(), BusError> {
        let key = key(vikunja_id);
        self.links
            .put(&key, uuid.to_string().into())
            .await
            .map(|_| ())
            .map_err(|e| BusError::kv("write", &key, e))
    }

    /// Forgets a Vikunja task's link (with its history).
    pub async fn unlink(&self, vikunja_id: i64) -> Result<(), BusError> {
        let key = key(vikunja_id);
        self.links
            .purge(&key)
            .await
            .map_err(|e| BusError::kv("purge", &key, e))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_link_key_names_the_vikunja_task() {
        assert_eq!(super::key(42), "vikunja.task.42");
    }
}
