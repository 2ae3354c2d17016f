//! vsync-harness
