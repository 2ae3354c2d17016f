//! tw-watcher: one per Taskwarrior host. The Taskwarrior hook hands each local change to it
//! ([`intake`]); it publishes the change as a task event with the host's previous state of the
//! task as the diff base (`outbound`), and applies canonical state to the local Taskwarrior
//! (`inbound`, `write`: in-process on Taskwarrior 3, else one hooks-off `task import` of the
//! complete tasks that changed), first exporting what something else wrote since (`local`: the
//! data files' change stamp tells). An import is not re-exported to verify it: Taskwarrior 2.6
//! loses a write only when a user command runs at the same time, so a command's hook message
//! whose run overlapped one of our imports triggers the check (`overlap`, docs/ARCHITECTURE.md
//! §5.3). Until the host is adopted (`adoption`) it does neither. `control` answers control
//! requests and runs the periodic host reconcile; `scope` keeps both directions and adoption to
//! the host's `[taskwarrior] filter`; `journal` keeps each write of ours on disk until it is
//! recorded, so that one a crash cut short is not taken for the user's at the next start;
//! `fault` is the tests' stop point in a write (debug builds only); `app` wires it all together.

mod adoption;
mod app;
mod control;
mod fault;
mod inbound;
pub mod intake;
mod journal;
mod local;
mod mirror;
mod outbound;
mod overlap;
mod scope;
mod socket_file;
#[cfg(test)]
mod test_tasks;
mod verified;
mod watcher;
mod write;

pub use app::App;
pub use watcher::Watcher;
