//! vsync-e2e
