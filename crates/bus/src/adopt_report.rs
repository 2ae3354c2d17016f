//! What an adoption answers: what it linked, created, held back and left alone, per side,
//! with syncall's pairs and the webhooks pointing elsewhere. Printed by the CLI.

use serde::{Deserialize, Serialize};

/// What adoption links, creates and leaves alone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AdoptReport {
    pub dry_run: bool,
    /// (uuid, Vikunja id, title) linked across sides.
    pub link: Vec<(String, i64, String)>,
    /// (uuid, title) only in Taskwarrior: created in Vikunja.
    pub create_in_vikunja: Vec<(String, String)>,
    /// (Vikunja id, title) only in Vikunja: created on every host.
    pub create_in_taskwarrior: Vec<(i64, String)>,
    /// (host, local uuid, canonical uuid): the same task under another uuid on that host.
    pub rekey: Vec<(String, String, String)>,
    /// Matches that are not unique, one line per project + title: held back on both sides.
    pub ambiguous: Vec<String>,
    /// Each task held back, with its side's details; `vikunja-sync adopt --link|--separate`
    /// resolves them.
    #[serde(default)]
    pub held: Vec<crate::adoption::HeldTask>,
    /// Already linked before.
    pub already_linked: usize,
    /// Completed or deleted before the history bound, or outside the synced projects.
    #[serde(default)]
    pub left_out: usize,
    /// Whether Vikunja's tasks were part of it (not adopted before).
    #[serde(default)]
    pub vikunja: bool,
    /// The hosts adopted (or, in a dry run, that would be).
    pub hosts: Vec<String>,
    /// Hosts that did not answer: adopted when they next connect.
    #[serde(default)]
    pub skipped: Vec<String>,
    /// syncall's pairs whose CalDAV UID named one Vikunja task (`--from-syncall`).
    #[serde(default)]
    pub syncall_matched: usize,
    /// syncall's pairs that could not be mapped, with why: matched by title, if at all.
    #[serde(default)]
    pub syncall_unmatched: Vec<String>,
    /// Webhooks on synced projects pointing anywhere but ours.
    #[serde(default)]
    pub foreign_webhooks: Vec<String>,
    /// Whether they were removed (`--remove-foreign-webhooks`).
    #[serde(default)]
    pub foreign_webhooks_removed: bool,
    pub took_ms: u64,
}

impl std::fmt::Display for AdoptReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let verb = if self.dry_run { "would" } else { "did" };
        writeln!(
            f,
            "adoption ({}), hosts: {}",
            if self.dry_run { "dry run" } else { "done" },
            self.hosts.join(", ")
        )?;
        writeln!(
            f,
            "  {verb} link {} task(s) present on both sides",
            self.link.len()
        )?;
        for (uuid, id, title) in &self.link {
            writeln!(f, "    link  #{id} <-> {uuid}  {title}")?;
        }
        writeln!(
            f,
            "  {verb} create {} task(s) in Vikunja",
            self.create_in_vikunja.len()
        )?;
        for (uuid, title) in &self.create_in_vikunja {
            writeln!(f, "    new in Vikunja  {uuid}  {title}")?;
        }
        writeln!(
            f,
            "  {verb} create {} task(s) in Taskwarrior",
            self.create_in_taskwarrior.len()
        )?;
        for (id, title) in &self.create_in_taskwarrior {
            writeln!(f, "    new in Taskwarrior  #{id}  {title}")?;
        }
        for (host, from, to) in &self.rekey {
            writeln!(f, "    re-key on {host}: {from} -> {to}")?;
        }
        writeln!(
            f,
            "  left alone: {} ambiguous match(es), {} already linked, {} outside the history bound or the synced projects",
            self.ambiguous.len(),
            self.already_linked,
            self.left_out
        )?;
        for a in &self.ambiguous {
            writeln!(f, "    ambiguous: {a}")?;
        }
        for h in &self.held {
            writeln!(f, "    held: {h}")?;
        }
        if !self.held.is_empty() {
            writeln!(
                f,
                "  resolve with `vikunja-sync adopt --link <uuid> <vikunja id>` or `--separate <uuid>|<vikunja id>`"
            )?;
        }
        for s in &self.skipped {
            writeln!(f, "  skipped host {s}")?;
        }
        if self.syncall_matched + self.syncall_unmatched.len() > 0 {
            writeln!(
                f,
                "  syncall: {} pair(s) named one Vikunja task, {} did not",
                self.syncall_matched,
                self.syncall_unmatched.len()
            )?;
            for u in &self.syncall_unmatched {
                writeln!(f, "    {u}")?;
            }
        }
        if !self.foreign_webhooks.is_empty() {
            let what = match self.foreign_webhooks_removed {
                true => "removed",
                false => "left in place (remove with --remove-foreign-webhooks)",
            };
            writeln!(f, "  webhooks pointing elsewhere, {what}:")?;
            for w in &self.foreign_webhooks {
                writeln!(f, "    {w}")?;
            }
        }
        Ok(())
    }
}
