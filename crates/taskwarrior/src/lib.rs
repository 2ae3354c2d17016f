//! vsync-taskwarrior
