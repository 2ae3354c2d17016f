//! vsync-telemetry
