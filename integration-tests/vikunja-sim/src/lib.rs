//! vikunja-sim
