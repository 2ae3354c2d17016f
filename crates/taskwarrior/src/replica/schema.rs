//! Whether a replica is one taskchampion may write as it is. Opening a replica read-write
//! migrates an older schema, and a user's database is never ours to migrate: so before
//! taskchampion opens it, a read-only connection of our own reads the schema version and the
//! tables, and anything but exactly the schema the linked taskchampion writes is refused (the
//! CLI applies instead). Checked again before every batch: Taskwarrior may be upgraded while the
//! watcher runs.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};

/// The replica schema (major, minor) of the linked taskchampion (3.0.x); Taskwarrior 3.5 writes
/// the same. `the_linked_taskchampion_writes_this_schema` proves it for the crate.
pub const SCHEMA: (u32, u32) = (0, 2);

/// Columns each table must have (the ones taskchampion reads and writes).
const TABLES: &[(&str, &[&str])] = &[
    ("tasks", &["uuid", "data"]),
    ("operations", &["id", "data", "uuid", "synced"]),
    ("working_set", &["id", "uuid"]),
    ("sync_meta", &["key", "value"]),
];

/// Why the in-process backend is not used (the CLI is).
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum Refusal {
    #[error("Taskwarrior {0} is not 3.x")]
    NotTaskwarrior3(String),
    #[error("no replica at {0} yet")]
    NoReplica(PathBuf),
    #[error("replica schema {found:?}, taskchampion writes {wanted:?}: not migrating it")]
    Schema {
        found: Option<(u32, u32)>,
        wanted: (u32, u32),
    },
    #[error("replica table {table} lacks column {column}")]
    Table { table: String, column: String },
    #[error("cannot read the replica: {0}")]
    Unreadable(String),
    #[error("cannot read Taskwarrior's configuration: {0}")]
    Config(String),
    #[error("the in-process backend is turned off")]
    TurnedOff,
}

/// A read-only look at one replica file.
pub(crate) struct Probe {
    con: Connection,
    path: PathBuf,
}

impl Probe {
    pub(crate) fn open(db: &Path) -> Result<Probe, Refusal> {
        if !db.is_file() {
            return Err(Refusal::NoReplica(db.to_path_buf()));
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let con = Connection::open_with_flags(db, flags)
            .map_err(|e| Refusal::Unreadable(e.to_string()))?;
        Ok(Probe {
            con,
            path: db.to_path_buf(),
        })
    }

    /// `Ok` when the replica's schema is exactly [`SCHEMA`] with every table taskchampion uses.
    pub(crate) fn check(&self) -> Result<(), Refusal> {
        let unreadable =
            |e: rusqlite::Error| Refusal::Unreadable(format!("{}: {e}", self.path.display()));
        let has_version: bool = self
            .con
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'version'",
                [],
                |r| r.get::<_, i64>(0),
            )
            .map_err(unreadable)?
            > 0;
        let found = if has_version {
            self.con
                .query_row("SELECT major, minor FROM version", [], |r| {
                    Ok((r.get::<_, u32>(0)?, r.get::<_, u32>(1)?))
                })
                .optional()
                .map_err(unreadable)?
        } else {
            None
        };
        if found != Some(SCHEMA) {
            return Err(Refusal::Schema {
                found,
                wanted: SCHEMA,
            });
        }
        for (table, columns) in TABLES {
            for column in *columns {
                let n: i64 = self
                    .con
                    .query_row(
                        "SELECT count(*) FROM pragma_table_xinfo(?1) WHERE name = ?2",
                        [table, column],
                        |r| r.get(0),
                    )
                    .map_err(unreadable)?;
                if n == 0 {
                    return Err(Refusal::Table {
                        table: table.to_string(),
                        column: column.to_string(),
                    });
                }
            }
        }
        Ok(())
    }
}

impl Probe {
    /// How many tasks the replica holds.
    pub(crate) fn count(&self) -> Result<usize, Refusal> {
        self.con
            .query_row("SELECT count(*) FROM tasks", [], |r| r.get::<_, i64>(0))
            .map(|n| usize::try_from(n).unwrap_or(0))
            .map_err(|e| Refusal::Unreadable(format!("{}: {e}", self.path.display())))
    }
}

/// The file's identity: a replica replaced under the same name (a restore, `rm`) is another.
pub(crate) fn file_id(db: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    std::fs::metadata(db).ok().map(|m| (m.dev(), m.ino()))
}
