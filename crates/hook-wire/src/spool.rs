//! The spool: an append-only JSON-lines file that takes the hook's messages while tw-watcher
//! is not answering, and that the watcher drains when it (re)starts.
//!
//! Writers open the file in append mode, take an exclusive `flock`, check that the path still
//! names the file they opened (the drainer renames it away), and write each line with one
//! `write_all`. The drainer renames the spool to `<spool>.draining` first, then takes the same
//! lock to wait out writers that opened the old file before the rename, so no line is lost or
//! torn and new writers start a fresh spool.

use crate::message::HookMessage;
use std::ffi::OsString;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// How often a writer retries when the drainer keeps renaming the spool under it.
const MAX_APPEND_ATTEMPTS: usize = 64;
/// How much of a malformed line a report keeps.
const MALFORMED_EXCERPT: usize = 200;

/// Appends one line (without embedded newlines; a trailing `\n` is added if missing) to the
/// spool at `path`, creating its directory (mode 0700) and the file (mode 0600) as needed.
pub fn append_to_spool(path: &Path, line: &str) -> io::Result<()> {
    let body = line.strip_suffix('\n').unwrap_or(line);
    if body.contains('\n') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a spool entry must be a single line",
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }
    let mut buf = Vec::with_capacity(body.len() + 1);
    buf.extend_from_slice(body.as_bytes());
    buf.push(b'\n');

    for _ in 0..MAX_APPEND_ATTEMPTS {
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(path)?;
        file.lock()?;
        let ours = file.metadata()?;
        match fs::metadata(path) {
            Ok(now) if now.dev() == ours.dev() && now.ino() == ours.ino() => {
                // One write under the lock: readers never see a torn or interleaved line.
                file.write_all(&buf)?;
                return Ok(());
            }
            // The drainer renamed (and maybe removed) the file we opened: start over.
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other(
        "spool file kept being replaced while appending",
    ))
}

/// A line of the spool that was not a valid [`HookMessage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MalformedLine {
    /// The file the line was in (`<spool>.draining`).
    pub file: PathBuf,
    /// 1-based line number within that file.
    pub line_no: usize,
    /// Why it did not parse.
    pub error: String,
    /// The start of the line (lossy UTF-8, at most 200 bytes).
    pub excerpt: String,
}

/// Everything one drain took from the spool.
#[derive(Debug, Default)]
pub struct SpoolDrain {
    /// The messages, oldest first.
    pub messages: Vec<HookMessage>,
    /// Lines that were skipped because they did not parse.
    pub malformed: Vec<MalformedLine>,
}

/// Takes everything currently in the spool at `path`, oldest first; see [`drain_spool_report`].
/// Malformed lines are skipped and noted on stderr.
pub fn drain_spool(path: &Path) -> io::Result<Vec<HookMessage>> {
    let drained = drain_spool_report(path)?;
    for bad in &drained.malformed {
        eprintln!(
            "vikunja-sync: skipped malformed spool line {}:{}: {}",
            bad.file.display(),
            bad.line_no,
            bad.error
        );
    }
    Ok(drained.messages)
}

/// Atomically takes the current spool: a `<spool>.draining` left over from a crashed drain
/// first (it is older), then the spool itself, renamed to `<spool>.draining`, locked to wait
/// out writers, read and removed. Returns the messages in order plus the malformed lines
/// skipped. A missing spool is not an error. Meant for one drainer at a time (the watcher).
///
/// If reading the renamed spool fails after a leftover was already taken, the messages taken
/// so far are returned and the renamed file stays for the next drain, so nothing is lost.
pub fn drain_spool_report(path: &Path) -> io::Result<SpoolDrain> {
    let draining = draining_path(path);
    let mut out = SpoolDrain::default();

    if let Some(content) = read_locked(&draining)? {
        parse_into(&draining, &content, &mut out);
        fs::remove_file(&draining)?;
    }

    match fs::rename(path, &draining) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(out),
        Err(e) if out.messages.is_empty() && out.malformed.is_empty() => return Err(e),
        Err(_) => return Ok(out),
    }
    match read_locked(&draining) {
        Ok(Some(content)) => {
            parse_into(&draining, &content, &mut out);
            // If this fails the next drain reads the file again: duplicates are harmless.
            let _ = fs::remove_file(&draining);
        }
        Ok(None) => {}
        Err(e) if out.messages.is_empty() && out.malformed.is_empty() => return Err(e),
        Err(_) => {}
    }
    Ok(out)
}

/// `<spool>.draining`, next to the spool.
pub fn draining_path(path: &Path) -> PathBuf {
    let mut name = OsString::from(path.as_os_str());
    name.push(".draining");
    PathBuf::from(name)
}

fn read_locked(path: &Path) -> io::Result<Option<Vec<u8>>> {
    let mut file = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    // Writers that opened the spool before the rename hold (or wait for) this lock.
    file.lock()?;
    let mut content = Vec::new();
    file.read_to_end(&mut content)?;
    Ok(Some(content))
}

fn parse_into(file: &Path, content: &[u8], out: &mut SpoolDrain) {
    for (idx, line) in content.split(|b| *b == b'\n').enumerate() {
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match serde_json::from_slice::<HookMessage>(line) {
            Ok(msg) => out.messages.push(msg),
            Err(e) => {
                let end = line.len().min(MALFORMED_EXCERPT);
                out.malformed.push(MalformedLine {
                    file: file.to_path_buf(),
                    line_no: idx + 1,
                    error: e.to_string(),
                    excerpt: String::from_utf8_lossy(&line[..end]).into_owned(),
                });
            }
        }
    }
}

/// Creates `dir` and its parents; new directories get mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::message::HookEvent;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "vsh-spool-{tag}-{}-{}",
            std::process::id(),
            crate::message::now_us()
        ));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn msg(n: usize) -> String {
        HookMessage::new(HookEvent::Exit, format!("c{n}"), vec![], vec![]).to_line()
    }

    #[test]
    fn missing_spool_drains_to_nothing() {
        let dir = temp_dir("missing");
        assert!(drain_spool(&dir.join("nope.jsonl")).unwrap().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn leftover_draining_file_comes_first_and_malformed_lines_are_skipped() {
        let dir = temp_dir("leftover");
        let spool = dir.join("sub").join("spool.jsonl");
        append_to_spool(&spool, &msg(1)).unwrap();
        fs::rename(&spool, draining_path(&spool)).unwrap(); // a drain that crashed
        append_to_spool(&spool, &msg(2)).unwrap();
        append_to_spool(&spool, "not json").unwrap();
        append_to_spool(&spool, &msg(3)).unwrap();

        let drained = drain_spool_report(&spool).unwrap();
        let commands: Vec<_> = drained
            .messages
            .iter()
            .map(|m| m.command.as_str())
            .collect();
        assert_eq!(commands, ["c1", "c2", "c3"]);
        assert_eq!(drained.malformed.len(), 1);
        assert_eq!(drained.malformed[0].line_no, 2);
        assert_eq!(drained.malformed[0].excerpt, "not json");
        assert!(!spool.exists());
        assert!(!draining_path(&spool).exists());
        assert!(drain_spool(&spool).unwrap().is_empty());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn spool_dir_and_file_are_private() {
        let dir = temp_dir("private");
        let spool = dir.join("state").join("spool.jsonl");
        append_to_spool(&spool, &msg(1)).unwrap();
        let dmode = fs::metadata(spool.parent().unwrap()).unwrap().mode() & 0o777;
        let fmode = fs::metadata(&spool).unwrap().mode() & 0o777;
        assert_eq!((dmode, fmode), (0o700, 0o600));
        assert!(append_to_spool(&spool, "two\nlines").is_err());
        fs::remove_dir_all(dir).unwrap();
    }
}
