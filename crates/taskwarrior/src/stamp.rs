//! The change stamp of a host's task data: size and modification time of every file Taskwarrior
//! writes (2.6: `pending.data`, `completed.data`, `undo.data`; 3.x: the replica and its WAL).
//! Any write changes it, so comparing it with the stamp taken after our own last write tells
//! whether something wrote the data that no hook reported: `task undo` on 3.x, `task sync`, a
//! command with hooks off. Reading it is a few `stat`s, cheap enough for every second.

use std::path::Path;
use std::time::SystemTime;

/// Files whose change means the task data changed.
const FILES: &[&str] = &[
    "taskchampion.sqlite3",
    "taskchampion.sqlite3-wal",
    "pending.data",
    "completed.data",
    "undo.data",
];

/// What the data files looked like at one moment.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DataStamp(Vec<Option<(u64, SystemTime)>>);

impl DataStamp {
    /// The stamp of the data directory `data` now (a missing file is part of it too).
    pub fn read(data: &Path) -> DataStamp {
        DataStamp(
            FILES
                .iter()
                .map(|f| {
                    let m = std::fs::metadata(data.join(f)).ok()?;
                    Some((m.len(), m.modified().ok()?))
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_write_to_a_data_file_changes_the_stamp() {
        let dir = tempfile::tempdir().expect("dir");
        let empty = DataStamp::read(dir.path());
        assert_eq!(empty, DataStamp::read(dir.path()), "nothing changed");
        std::fs::write(dir.path().join("taskchampion.sqlite3-wal"), b"x").expect("write");
        let written = DataStamp::read(dir.path());
        assert_ne!(empty, written);
        std::fs::write(dir.path().join("taskchampion.sqlite3-wal"), b"xy").expect("write");
        let grown = DataStamp::read(dir.path());
        assert_ne!(written, grown);
        std::fs::write(dir.path().join("unrelated"), b"x").expect("write");
        assert_eq!(
            grown,
            DataStamp::read(dir.path()),
            "other files do not count"
        );
    }
}
