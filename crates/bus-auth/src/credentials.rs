//! What a client was given to prove who it is: a `.creds` file (a user JWT and its NKey seed,
//! from `nsc`) or a bare NKey user seed file (`nk -gen user -pubout`, the NixOS module's
//! `credentialsFile`, `vikunja-sync bus add-host`).

use std::path::Path;

use crate::AuthError;

/// A client's credentials. `Debug` shows the kind, never the secret.
#[derive(Clone)]
pub enum Credentials {
    /// The text of a `.creds` file.
    Creds(String),
    /// An NKey user seed (`SU...`).
    Seed(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::Creds(_) => "Credentials::Creds(..)",
            Credentials::Seed(_) => "Credentials::Seed(..)",
        })
    }
}

impl Credentials {
    /// Reads `path`: a `.creds` file when it holds a user JWT block, else the first line that
    /// is not empty or a `#` comment, which must be a valid NKey user seed.
    pub fn load(path: &Path) -> Result<Credentials, AuthError> {
        let text = std::fs::read_to_string(path).map_err(|e| AuthError::read(path, &e))?;
        Self::parse(&text).ok_or_else(|| AuthError::Format {
            path: path.to_path_buf(),
        })
    }

    fn parse(text: &str) -> Option<Credentials> {
        if text.contains("-----BEGIN NATS USER JWT-----") {
            return Some(Credentials::Creds(text.to_string()));
        }
        let seed = text
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with('#'))?;
        let valid = seed.starts_with("SU") && nkeys::KeyPair::from_seed(seed).is_ok();
        valid.then(|| Credentials::Seed(seed.to_string()))
    }

    /// The public key of a seed (`None` for a `.creds` file, whose JWT names the user).
    pub fn public_key(&self) -> Option<String> {
        match self {
            Credentials::Seed(s) => nkeys::KeyPair::from_seed(s).ok().map(|k| k.public_key()),
            Credentials::Creds(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_bare_seed_file_and_a_creds_file_are_told_apart() {
        let kp = nkeys::KeyPair::new_user();
        let seed = kp.seed().unwrap();
        let file = format!("{seed}\n{}\n", kp.public_key());
        let c = Credentials::parse(&file).unwrap();
        assert!(matches!(&c, Credentials::Seed(s) if *s == seed));
        assert_eq!(c.public_key(), Some(kp.public_key()));
        let creds = format!(
            "-----BEGIN NATS USER JWT-----\neyJ0\n------END NATS USER JWT------\n\n\
             -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n"
        );
        assert!(matches!(
            Credentials::parse(&creds),
            Some(Credentials::Creds(_))
        ));
    }

    #[test]
    fn anything_else_is_refused_without_showing_it() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("creds");
        let account = nkeys::KeyPair::new_account().seed().unwrap();
        for bad in ["", "hunter2\n", "SUAAAA\n", account.as_str()] {
            std::fs::write(&f, bad).unwrap();
            let err = Credentials::load(&f).unwrap_err().to_string();
            assert!(err.contains(&f.display().to_string()), "{err}");
            assert!(bad.is_empty() || !err.contains(bad.trim()), "{err}");
        }
        let missing = Credentials::load(&dir.path().join("none")).unwrap_err();
        assert!(missing.to_string().contains("cannot read"), "{missing}");
    }

    #[test]
    fn debug_never_shows_the_seed() {
        let seed = nkeys::KeyPair::new_user().seed().unwrap();
        assert!(!format!("{:?}", Credentials::Seed(seed.clone())).contains(&seed));
    }
}
