//! API tokens (reference §2, §8). The configured token acts as a login (every route); a
//! token made with [`crate::Simulator::create_token`] holds route groups and verbs, and a
//! route outside them answers 401 code 11, like a revoked token.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

/// Route group → verbs, e.g. `{"tasks": {"read_all", "update"}}`.
pub(crate) type Permissions = BTreeMap<String, BTreeSet<String>>;

pub(crate) struct ApiToken {
    pub secret: String,
    /// `None`: every route (the configured token).
    pub permissions: Option<Permissions>,
    pub expires_at: Option<OffsetDateTime>,
}

impl ApiToken {
    pub fn allows(&self, group: &str, verb: &str) -> bool {
        self.permissions
            .as_ref()
            .is_none_or(|p| p.get(group).is_some_and(|v| v.contains(verb)))
    }

    fn expired(&self) -> bool {
        self.expires_at
            .is_some_and(|t| t <= OffsetDateTime::now_utc())
    }
}

pub(crate) struct Tokens {
    list: Vec<ApiToken>,
}

impl Tokens {
    /// The configured token, good for every route. Every token is user 1's.
    pub fn new(default_secret: &str) -> Tokens {
        Tokens {
            list: vec![ApiToken {
                secret: default_secret.to_owned(),
                permissions: None,
                expires_at: None,
            }],
        }
    }

    /// The configured token's value.
    pub fn default_secret(&self) -> &str {
        self.list.first().map_or("", |t| t.secret.as_str())
    }

    /// Replaces the configured token's value (the old one is revoked: 401 from now on);
    /// returns the new value.
    pub fn rotate_default(&mut self) -> String {
        let secret = Self::new_secret(self.list.len());
        if let Some(t) = self.list.first_mut() {
            t.secret = secret.clone();
        }
        secret
    }

    fn new_secret(n: usize) -> String {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        let digest = Sha256::digest(format!("{n}-{nanos}").as_bytes());
        format!("tk_{}", &hex::encode(digest)[..40])
    }

    /// A new token of user 1 with these permissions; returns its `tk_…` value.
    pub fn add(&mut self, permissions: Permissions, expires_at: Option<OffsetDateTime>) -> String {
        let secret = Self::new_secret(self.list.len());
        self.list.push(ApiToken {
            secret: secret.clone(),
            permissions: Some(permissions),
            expires_at,
        });
        secret
    }

    /// The live token with this value.
    pub fn find(&self, secret: &str) -> Option<&ApiToken> {
        self.list
            .iter()
            .find(|t| t.secret == secret && !t.expired())
    }
}
