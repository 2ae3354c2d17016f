//! Reading syncall's correlation files for `vikunja-sync adopt --from-syncall DIR`.
//!
//! syncall's `tw_caldav_sync` keeps, per saved combination, `~/.config/syncall/<name>.yaml`
//! holding the key `Tw_caldav_ids`: a `bidict` Taskwarrior uuid -> CalDAV UID, written by
//! PyYAML's `yaml.dump` with python object tags (docs/MIGRATING.md). With the `bidict` syncall
//! pins (0.21) that is the object's slots: `_fwdm` (uuid -> UID), `_invm` and `_inv` (the
//! inverse, as anchors and aliases); a newer `bidict` writes
//! `!!python/object/apply:…_from_other [class, {uuid: UID}, invert]`. The YAML parser drops
//! the `!!python/…` tags, so both read as plain mappings and sequences here.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_norway::Value;
use vsync_bus::control::SyncallLink;

/// The key of the correlations in a combination's file.
pub const IDS_KEY: &str = "Tw_caldav_ids";
/// syncall's saved combinations (filter arguments only, no correlations).
const CONFIGS_FILE: &str = "tw_caldav_configs.yaml";

/// Why syncall's files could not be read. The cause is part of the message (not a
/// `source`), so `{:#}` does not say it twice.
#[derive(Debug, thiserror::Error)]
pub enum SyncallError {
    #[error("cannot read {}: {error}", path.display())]
    Read {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{} is not YAML: {error}", path.display())]
    Yaml {
        path: PathBuf,
        error: serde_norway::Error,
    },
    #[error("{}: {IDS_KEY} {why}", path.display())]
    Malformed { path: PathBuf, why: String },
}

/// Every (Taskwarrior uuid, CalDAV UID) pair in the `*.yaml`/`*.yml` files of `dir` that hold
/// [`IDS_KEY`], deduplicated and sorted; files without the key are skipped.
pub fn read_correlations(dir: &Path) -> Result<Vec<SyncallLink>, SyncallError> {
    let read_dir = |error| SyncallError::Read {
        path: dir.to_path_buf(),
        error,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_dir)? {
        let path = entry.map_err(read_dir)?.path();
        let yaml = path.extension().is_some_and(|e| e == "yaml" || e == "yml");
        if yaml && path.is_file() && path.file_name().is_none_or(|n| n != CONFIGS_FILE) {
            files.push(path);
        }
    }
    // The first bad file named is the same on every run.
    files.sort();
    let mut links = BTreeSet::new();
    for path in files {
        links.extend(read_file(&path)?);
    }
    Ok(links.into_iter().collect())
}

/// The pairs of one file; none when it has no [`IDS_KEY`].
pub fn read_file(path: &Path) -> Result<Vec<SyncallLink>, SyncallError> {
    let text = std::fs::read_to_string(path).map_err(|error| SyncallError::Read {
        path: path.to_path_buf(),
        error,
    })?;
    let doc: Value = serde_norway::from_str(&text).map_err(|error| SyncallError::Yaml {
        path: path.to_path_buf(),
        error,
    })?;
    // PrefsManager starts a file as `{}`; an empty file reads as null.
    let Some(ids) = untagged(&doc).get(IDS_KEY) else {
        return Ok(Vec::new());
    };
    links(ids).map_err(|why| SyncallError::Malformed {
        path: path.to_path_buf(),
        why,
    })
}

/// The value under a custom tag (`!tag`; the `!!python/…` ones are already dropped).
fn untagged(v: &Value) -> &Value {
    match v {
        Value::Tagged(t) => untagged(&t.value),
        v => v,
    }
}

/// The pairs of the `Tw_caldav_ids` value, in whichever shape its `bidict` was written.
fn links(ids: &Value) -> Result<Vec<SyncallLink>, String> {
    let ids = untagged(ids);
    match ids {
        Value::Null => Ok(Vec::new()),
        Value::Mapping(m) => match m.get("_fwdm") {
            // bidict <= 0.21: its slots; `_fwdm` is uuid -> UID.
            Some(fwdm) => forward(untagged(fwdm), false),
            // A plain dict (written by hand, or by another dumper).
            None => forward(ids, false),
        },
        // bidict >= 0.22: `_from_other(class, dict, invert)`.
        Value::Sequence(args) => {
            let map = args
                .iter()
                .map(untagged)
                .find(|a| a.is_mapping())
                .ok_or("has no mapping among its arguments")?;
            let inverted = args.get(2).and_then(Value::as_bool).unwrap_or(false);
            forward(map, inverted)
        }
        _ => Err("is neither a bidict nor a mapping".into()),
    }
}

/// uuid -> UID pairs of a mapping (UID -> uuid when `inverted`).
fn forward(map: &Value, inverted: bool) -> Result<Vec<SyncallLink>, String> {
    let Value::Mapping(map) = map else {
        return Err("holds no mapping of uuids to CalDAV UIDs".into());
    };
    map.iter()
        .map(|(k, v)| {
            let (uuid, uid) = if inverted { (v, k) } else { (k, v) };
            link(uuid, uid)
        })
        .collect()
}

fn link(uuid: &Value, uid: &Value) -> Result<SyncallLink, String> {
    let uuid_text = uuid
        .as_str()
        .ok_or_else(|| format!("has a key that is not a Taskwarrior uuid: {uuid:?}"))?;
    let parsed = uuid::Uuid::try_parse(uuid_text)
        .map_err(|_| format!("has a key that is not a Taskwarrior uuid: {uuid_text:?}"))?;
    // A YAML 1.2 number (`0o17`) PyYAML left unquoted is the only way to get here; the
    // operator can quote it in the file.
    let caldav_uid = match uid {
        Value::String(s) if !s.is_empty() => s.clone(),
        other => {
            return Err(format!(
                "maps {uuid_text} to {other:?}, not a CalDAV UID (quote it in the file)"
            ));
        }
    };
    Ok(SyncallLink {
        uuid: parsed.hyphenated().to_string(),
        caldav_uid,
    })
}

#[cfg(test)]
mod tests;
