//! Bus identities an operator makes (`vikunja-sync bus config` and `bus add-host NAME`) and
//! the ones `up`'s own bus runs with: NKey seed files (0600) in one private directory,
//! `<state>/bus-identities` unless `--dir` says otherwise (vsync-bus-auth's layout).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use vsync_bus_auth::{Identity, IdentityStore, Role};
use vsync_config::Config;

/// Where `up` and the `bus` commands keep identities by default.
pub fn default_dir() -> PathBuf {
    crate::state_dir::state_dir().join("bus-identities")
}

/// `bus config`: the server and operator identities (made when missing), and the server
/// configuration fragment with a user for every identity in `dir`.
pub fn config(dir: &Path) -> anyhow::Result<String> {
    let store = IdentityStore::new(dir);
    for role in [Role::Server, Role::Operator] {
        store.ensure(&role)?;
    }
    Ok(vsync_bus_auth::server_config_fragment(&store.identities()?))
}

/// `bus add-host NAME`: host `name`'s identity (made when missing); what to do with it.
pub fn add_host(dir: &Path, name: &str) -> anyhow::Result<String> {
    let store = IdentityStore::new(dir);
    let role = Role::Host(name.to_string());
    let existed = store.path(&role).exists();
    let path = store.ensure(&role)?;
    let public = public_key(&path)?;
    Ok(format!(
        "{} {name}: {}\n  public key {public}\n\
         Copy the file to that machine (mode 0600) as its `[bus] credentials_file`, and give \
         the bus the new users: `vikunja-sync bus config` (or, with NixOS, \
         server.nats.authorization.hosts.{name}.publicKey = \"{public}\").\n",
        if existed { "kept" } else { "made" },
        path.display(),
    ))
}

fn public_key(path: &Path) -> anyhow::Result<String> {
    vsync_bus_auth::Credentials::load(path)?
        .public_key()
        .with_context(|| format!("{} holds no NKey seed", path.display()))
}

/// The identities `up` runs its own bus with: the server's, the operator's, this machine's
/// host (when it runs a watcher), and every host added with `bus add-host`.
pub struct LocalIdentities {
    pub server: PathBuf,
    pub host: Option<PathBuf>,
    pub all: Vec<Identity>,
}

impl LocalIdentities {
    pub fn make(cfg: &Config, with_host: bool) -> anyhow::Result<LocalIdentities> {
        let store = IdentityStore::new(default_dir());
        let server = store.ensure(&Role::Server)?;
        store.ensure(&Role::Operator)?;
        let host = if with_host {
            let id = cfg.taskwarrior.host();
            anyhow::ensure!(
                vsync_bus_auth::permissions::valid_host_id(&id),
                "the host id {id:?} cannot name a bus identity: set `[taskwarrior] host` to \
                 letters, digits, '-' and '_'"
            );
            Some(store.ensure(&Role::Host(id))?)
        } else {
            None
        };
        Ok(LocalIdentities {
            server,
            host,
            all: store.identities()?,
        })
    }
}

/// The credentials the CLI's operator commands use: `[bus] credentials_file`, else, for the
/// bus a local `up` runs, its operator identity.
pub fn operator_credentials(cfg: &Config) -> Option<PathBuf> {
    if let Some(f) = &cfg.bus.credentials_file {
        return Some(f.clone());
    }
    let local = IdentityStore::new(default_dir()).path(&Role::Operator);
    (cfg.bus.url.is_none() && local.exists()).then_some(local)
}

/// How the CLI's operator commands (and `doctor`) connect to the bus at `url`: with
/// [`operator_credentials`], as the operator role (its inbox prefix).
pub fn operator_bus_config(cfg: &Config, url: &str, name: &str) -> vsync_bus::BusConfig {
    let mut cfg = cfg.clone();
    cfg.bus.credentials_file = operator_credentials(&cfg);
    vsync_bus::BusConfig::from_config(&cfg, url, name).with_role(vsync_bus::Role::Operator)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_host_added_appears_in_the_server_config_by_public_key_only() {
        let dir = tempfile::tempdir().unwrap();
        let report = add_host(dir.path(), "desk").unwrap();
        assert!(report.starts_with("made "), "{report}");
        let seed_file = dir.path().join("hosts/desk.nk");
        let seed = std::fs::read_to_string(&seed_file).unwrap();
        let public = public_key(&seed_file).unwrap();
        let conf = config(dir.path()).unwrap();
        assert!(conf.contains(&public), "{conf}");
        assert!(conf.contains("vsync.v1.in.tw.desk.>"), "{conf}");
        assert!(
            !conf.contains(seed.lines().next().unwrap()),
            "no seed in the config"
        );
        assert!(add_host(dir.path(), "desk").unwrap().starts_with("kept "));
        assert!(add_host(dir.path(), "a.b").is_err());
    }
}
