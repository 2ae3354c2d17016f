//! What became of a Vikunja write.

/// What became of a Vikunja write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// Vikunja has canonical state now.
    Written,
    /// It waits (parked) and is tried again later.
    Parked,
    /// Vikunja refused it for good (a dead letter); the reason.
    Refused(String),
}

impl Pushed {
    /// Why it was refused, if it was.
    pub(crate) fn refusal(self) -> Option<String> {
        match self {
            Pushed::Refused(why) => Some(why),
            _ => None,
        }
    }
}
