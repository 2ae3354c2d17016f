//! The sync domain: canonical [`TaskState`](vsync_proto::TaskState), how Vikunja and
//! Taskwarrior show it ([`vikunja::view`], [`tw::view`]), how to write it back to each side
//! ([`vikunja::apply`], [`tw::apply`]), and the three-way field merge ([`merge::merge`]).

pub mod dates;
pub mod fields;
pub mod filter;
pub mod html;
pub mod limits;
pub mod merge;
pub mod tags;
pub mod text;
pub mod tw;
pub mod vikunja;

pub use fields::Side;
pub use filter::{FilterError, ProjectScope, TaskFilter};
pub use merge::{Change, Merged, merge};
pub use tags::TagMap;
pub use tw::TwTask;
pub use vikunja::VikunjaTask;

/// Input that is not a task.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0} is not a JSON object")]
    NotAnObject(&'static str),
    #[error("missing field `{0}`")]
    MissingField(&'static str),
}
