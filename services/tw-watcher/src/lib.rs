//! tw-watcher
