//! vsync-vikunja
