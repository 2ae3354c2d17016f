//! Who may do what on the bus, with NATS's own mechanisms: NKey users with per-role
//! permissions. One table ([`permissions`]) says what each role may publish and subscribe to;
//! the NixOS module reads the same table (`permissions.json`, generated from it and
//! freshness-tested); [`authorization`] renders nats-server's `authorization` block for a set
//! of identities; [`identity`] makes and stores NKey identities; [`Credentials`] reads what a
//! client was given (a `.creds` file or a bare NKey seed file).
//!
//! A leaf crate (no NATS client): the CLI, `up`'s embedded bus, the bus client and the test
//! harness all use it.

mod authorization;
mod credentials;
mod error;
pub mod identity;
pub mod permissions;
mod private;

pub use authorization::{authorization, server_config_fragment};
pub use credentials::Credentials;
pub use error::AuthError;
pub use identity::{Identity, IdentityStore};
pub use permissions::{Permissions, Role};
pub use private::{private_dir, write_private};
