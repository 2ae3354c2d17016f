//! Which periodic reconcile pass runs when. Passes run one at a time; a tick that comes while
//! one runs is owed, never dropped: with the default intervals (delta 60 s, full 15 min) the
//! full tick always comes together with a delta tick, and dropping it meant the full listing
//! (the only thing that finds deletions whose webhook was lost) never ran. A full pass owed
//! outranks a delta: it lists everything the delta would.

/// A periodic reconcile pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Pass {
    /// Tasks updated since the watermark.
    Delta,
    /// Every task of every synced project (deletions, moves).
    Full,
}

impl Pass {
    pub(crate) fn is_full(self) -> bool {
        self == Pass::Full
    }
}

/// The pass running and the one owed after it.
#[derive(Debug, Default)]
pub(crate) struct PassSchedule {
    running: Option<Pass>,
    owed: Option<Pass>,
}

impl PassSchedule {
    /// `pass` is due (its timer ticked): the pass to start now, if any. While another runs it
    /// is owed instead.
    pub(crate) fn due(&mut self, pass: Pass) -> Option<Pass> {
        if self.running.is_some() {
            self.owed = self.owed.max(Some(pass));
            return None;
        }
        self.running = Some(pass);
        Some(pass)
    }

    /// The running pass ended: the owed pass to start now, if any.
    pub(crate) fn finished(&mut self) -> Option<Pass> {
        self.running = self.owed.take();
        self.running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_tick_during_a_delta_pass_runs_right_after_it() {
        let mut s = PassSchedule::default();
        assert_eq!(s.due(Pass::Delta), Some(Pass::Delta));
        assert_eq!(s.due(Pass::Full), None, "owed, not dropped");
        assert_eq!(s.finished(), Some(Pass::Full));
        assert_eq!(s.finished(), None);
        assert_eq!(s.due(Pass::Delta), Some(Pass::Delta));
    }

    #[test]
    fn a_full_pass_owed_outranks_a_delta_and_ticks_do_not_pile_up() {
        let mut s = PassSchedule::default();
        assert_eq!(s.due(Pass::Full), Some(Pass::Full));
        assert_eq!(s.due(Pass::Delta), None);
        assert_eq!(s.due(Pass::Full), None);
        assert_eq!(s.due(Pass::Delta), None);
        assert_eq!(s.finished(), Some(Pass::Full));
        assert_eq!(s.finished(), None, "one owed pass covers every tick");
    }
}
