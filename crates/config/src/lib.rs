//! vsync-config
