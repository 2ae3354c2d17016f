//! vsync-model
