//! vsync-bus
