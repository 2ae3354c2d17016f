//! Tasks this process is creating right now (the bus claim cannot tell its own writers apart).

use std::collections::BTreeSet;

use tokio::sync::Mutex;

/// The uuids whose create runs in this process.
#[derive(Default)]
pub(crate) struct CreatingHere(pub(crate) Mutex<BTreeSet<String>>);
