//! label-sync
