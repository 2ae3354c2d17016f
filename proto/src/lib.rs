//! vsync-proto
