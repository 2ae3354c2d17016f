//! The Taskwarrior driver: reading tasks (`task export`) and applying complete tasks to a host
//! ([`Apply`]), by hooks-off `task import` ([`Taskwarrior`], every version) or, on Taskwarrior 3,
//! in-process through `taskchampion` where that is provably the same ([`ReplicaWriter`]);
//! [`Backend::select`] picks one at start.

mod apply;
mod backend;
mod cli;
mod error;
mod replica;
mod stamp;

pub use apply::{Apply, TaskResults};
pub use backend::Backend;
pub use cli::{Taskwarrior, is_uuid};
pub use error::TaskwarriorError;
pub use replica::{CHUNK, Refusal, ReplicaWriter, SCHEMA};
pub use stamp::DataStamp;
