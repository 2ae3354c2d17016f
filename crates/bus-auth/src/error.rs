//! What can go wrong with identities and credentials. No error carries a secret.

use std::path::PathBuf;

/// A failure reading or making bus credentials.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("cannot read NATS credentials file {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error(
        "NATS credentials file {path} holds neither a .creds file (a user JWT and its NKey seed) \
         nor an NKey user seed (a line starting with \"SU\")"
    )]
    Format { path: PathBuf },
    #[error("cannot write {path}: {reason}")]
    Write { path: PathBuf, reason: String },
    #[error("invalid host id {0:?}: use letters, digits, '-' and '_' (at most 64)")]
    HostId(String),
}

impl AuthError {
    pub(crate) fn read(path: &std::path::Path, e: &std::io::Error) -> AuthError {
        AuthError::Read {
            path: path.to_path_buf(),
            reason: e.kind().to_string(),
        }
    }

    pub(crate) fn write(path: &std::path::Path, e: &std::io::Error) -> AuthError {
        AuthError::Write {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    }
}
