//! The API token, and reading it again when Vikunja rejects it: systemd credentials and sops
//! rotate the token file in place, so after a 401 the file may hold a newer token than the
//! one read at start.

use std::path::PathBuf;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::{ExposeSecret, SecretString};

/// The token in use, the file it came from, and whether Vikunja rejected the newest one.
pub(crate) struct Token {
    current: RwLock<SecretString>,
    file: Option<PathBuf>,
    rejected: AtomicBool,
}

impl Token {
    pub fn new(token: SecretString, file: Option<PathBuf>) -> Token {
        Token {
            current: RwLock::new(token),
            file,
            rejected: AtomicBool::new(false),
        }
    }

    /// The token to send.
    pub fn current(&self) -> SecretString {
        let t = self.current.read().unwrap_or_else(|e| e.into_inner());
        SecretString::from(t.expose_secret().to_string())
    }

    /// After a 401 with `sent`: reads the token file again. `true` when it now holds another
    /// token (worth one more try); `false` (nothing changed, or no file) marks the token
    /// rejected.
    pub fn reread_after_rejection(&self, sent: &SecretString) -> bool {
        let Some(file) = &self.file else {
            self.rejected.store(true, Ordering::Relaxed);
            return false;
        };
        match vsync_config::read_secret(file) {
            Ok(fresh) if fresh.expose_secret() != sent.expose_secret() => {
                tracing::info!(file = %file.display(), "Vikunja rejected the API token; the token file holds a new one");
                *self.current.write().unwrap_or_else(|e| e.into_inner()) = fresh;
                true
            }
            Ok(_) => {
                self.rejected.store(true, Ordering::Relaxed);
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, "Vikunja rejected the API token and its file cannot be read again");
                self.rejected.store(true, Ordering::Relaxed);
                false
            }
        }
    }

    /// The token read again was rejected too.
    pub fn rejected(&self) {
        self.rejected.store(true, Ordering::Relaxed);
    }

    /// A request succeeded with the current token.
    pub fn accepted(&self) {
        self.rejected.store(false, Ordering::Relaxed);
    }

    /// Whether Vikunja rejected the newest token (until a request succeeds again).
    pub fn is_rejected(&self) -> bool {
        self.rejected.load(Ordering::Relaxed)
    }
}
