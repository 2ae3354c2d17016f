//! NKey identities kept in one private directory, the way an operator (or `up`'s embedded
//! bus) holds them: `server.nk`, `operator.nk` and `hosts/<host id>.nk`, each an NKey user
//! seed file (the seed, then the public key: the format of `nk -gen user -pubout`), mode 0600
//! in directories of mode 0700.

use std::path::{Path, PathBuf};

use crate::permissions::valid_host_id;
use crate::{AuthError, Credentials, Role, private_dir, write_private};

/// One identity: its role and public key (the seed stays in its file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub role: Role,
    pub public_key: String,
}

/// A directory of identities.
#[derive(Clone, Debug)]
pub struct IdentityStore {
    dir: PathBuf,
}

impl IdentityStore {
    pub fn new(dir: impl Into<PathBuf>) -> IdentityStore {
        IdentityStore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The seed file of `role`.
    pub fn path(&self, role: &Role) -> PathBuf {
        match role {
            Role::Server => self.dir.join("server.nk"),
            Role::Operator => self.dir.join("operator.nk"),
            Role::Host(h) => self.dir.join("hosts").join(format!("{h}.nk")),
        }
    }

    /// The seed file of `role`, made (a new key pair) when missing. Returns its path.
    pub fn ensure(&self, role: &Role) -> Result<PathBuf, AuthError> {
        if let Role::Host(h) = role
            && !valid_host_id(h)
        {
            return Err(AuthError::HostId(h.clone()));
        }
        let path = self.path(role);
        if path.exists() {
            Credentials::load(&path)?;
            return Ok(path);
        }
        let dir = path.parent().unwrap_or(&self.dir);
        private_dir(&self.dir).map_err(|e| AuthError::write(&self.dir, &e))?;
        private_dir(dir).map_err(|e| AuthError::write(dir, &e))?;
        let kp = nkeys::KeyPair::new_user();
        let seed = kp.seed().map_err(|e| AuthError::Write {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        let text = format!("{seed}\n{}\n", kp.public_key());
        write_private(&path, text.as_bytes()).map_err(|e| AuthError::write(&path, &e))?;
        Ok(path)
    }

    /// Every identity in the store: the server's and the operator's when present, then the
    /// hosts by id.
    pub fn identities(&self) -> Result<Vec<Identity>, AuthError> {
        let mut roles = vec![Role::Server, Role::Operator];
        let hosts = self.dir.join("hosts");
        let mut ids: Vec<String> = match std::fs::read_dir(&hosts) {
            Ok(entries) => entries
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let name = e.file_name().to_str()?.strip_suffix(".nk")?.to_string();
                    valid_host_id(&name).then_some(name)
                })
                .collect(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(AuthError::read(&hosts, &e)),
        };
        ids.sort();
        roles.extend(ids.into_iter().map(Role::Host));
        let mut out = Vec::new();
        for role in roles {
            let path = self.path(&role);
            if !path.exists() {
                continue;
            }
            let public_key = Credentials::load(&path)?
                .public_key()
                .ok_or(AuthError::Format { path: path.clone() })?;
            out.push(Identity { role, public_key });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn identities_are_made_once_and_kept_private() {
        let root = tempfile::tempdir().unwrap();
        let store = IdentityStore::new(root.path().join("creds"));
        let server = store.ensure(&Role::Server).unwrap();
        let laptop = store.ensure(&Role::Host("laptop".into())).unwrap();
        let first = std::fs::read_to_string(&server).unwrap();
        store.ensure(&Role::Server).unwrap();
        assert_eq!(std::fs::read_to_string(&server).unwrap(), first, "kept");
        assert_eq!((mode(&server), mode(&laptop)), (0o600, 0o600));
        assert_eq!(
            (mode(store.dir()), mode(laptop.parent().unwrap())),
            (0o700, 0o700)
        );
        let ids = store.identities().unwrap();
        let roles: Vec<_> = ids.iter().map(|i| i.role.clone()).collect();
        assert_eq!(roles, [Role::Server, Role::Host("laptop".into())]);
        assert!(ids.iter().all(|i| i.public_key.starts_with('U')));
        assert!(store.ensure(&Role::Host("a.b".into())).is_err());
    }
}
