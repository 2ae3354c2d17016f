//! vikunja-sync-hook
