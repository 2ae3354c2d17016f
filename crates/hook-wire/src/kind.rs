//! The Taskwarrior hook events and our hook file names: `hook install` links
//! `<data>/hooks/on-exit.vikunja-sync`, and the hook program learns its event from that name.

/// Suffix of our hook file names: `on-add.vikunja-sync`, ….
pub const HOOK_SUFFIX: &str = "vikunja-sync";

/// The Taskwarrior hook events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HookKind {
    /// `on-launch`: nothing to do for the sync.
    Launch,
    /// `on-add`: one new task on stdin, echoed back.
    Add,
    /// `on-modify`: original and modified task on stdin, the modified one echoed back.
    Modify,
    /// `on-exit`: every task the command added or modified.
    Exit,
}

impl HookKind {
    /// All events, in Taskwarrior's order.
    pub const ALL: [HookKind; 4] = [
        HookKind::Launch,
        HookKind::Add,
        HookKind::Modify,
        HookKind::Exit,
    ];

    /// The event's name, which a hook file name must start with (`on-add`, …).
    pub fn event_name(self) -> &'static str {
        match self {
            HookKind::Launch => "on-launch",
            HookKind::Add => "on-add",
            HookKind::Modify => "on-modify",
            HookKind::Exit => "on-exit",
        }
    }

    /// The event a hook file name stands for, as Taskwarrior decides it (by prefix).
    pub fn from_file_name(name: &str) -> Option<HookKind> {
        HookKind::ALL
            .into_iter()
            .find(|k| name.starts_with(k.event_name()))
    }

    /// Our hook file name for this event, e.g. `on-add.vikunja-sync`.
    pub fn file_name(self) -> String {
        format!("{}.{HOOK_SUFFIX}", self.event_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_comes_from_the_file_name_prefix() {
        assert_eq!(
            HookKind::from_file_name("on-modify.vikunja-sync"),
            Some(HookKind::Modify)
        );
        assert_eq!(HookKind::from_file_name("on-exit-x"), Some(HookKind::Exit));
        assert_eq!(HookKind::from_file_name("xon-add"), None);
        for k in HookKind::ALL {
            assert_eq!(HookKind::from_file_name(&k.file_name()), Some(k));
        }
    }
}
