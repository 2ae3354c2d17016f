//! Taskwarrior tag <-> Vikunja label title.
//!
//! Titles that are valid tags stay as they are. A tag cannot hold whitespace, a comma or a colon
//! (Taskwarrior 2.6 stores a tag `a:b` as a broken attribute), so the default mapping writes a
//! space as `_` and escapes `_`, `,`, `:` and other whitespace as `%HH` (UTF-8 bytes, upper-case
//! hex). A `%` is escaped (`%25`) only where it would otherwise read as one of those escapes, so
//! tags like `50%off` stay as typed. Every title is reversible ("Waiting on Bob" <->
//! `Waiting_on_Bob`), and so is every tag that does not itself contain such an escape.
//!
//! Some tags never reach Vikunja: the configured `exclude` list, tags with the `tw_only_prefix`,
//! and Taskwarrior's virtual tags (a label titled `OVERDUE` stays in Vikunja only: as a tag it
//! would read as the virtual one).

/// Taskwarrior's virtual tags (2.6 and 3.x): computed, never stored, reserved in filters.
pub const VIRTUAL_TAGS: &[&str] = &[
    "ACTIVE",
    "ANNOTATED",
    "BLOCKED",
    "BLOCKING",
    "CHILD",
    "COMPLETED",
    "DELETED",
    "DUE",
    "DUETODAY",
    "INSTANCE",
    "LATEST",
    "MONTH",
    "ORPHAN",
    "OVERDUE",
    "PARENT",
    "PENDING",
    "PRIORITY",
    "PROJECT",
    "QUARTER",
    "READY",
    "SCHEDULED",
    "TAGGED",
    "TEMPLATE",
    "TODAY",
    "TOMORROW",
    "UDA",
    "UNBLOCKED",
    "UNTIL",
    "WAITING",
    "WEEK",
    "YEAR",
    "YESTERDAY",
];

/// How tags and labels map; the defaults keep titles as they are where Taskwarrior allows it.
/// Built from the operator's `[labels]` section ([`vsync_config::Labels`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TagMap {
    /// Lower-case every label title as a tag (labels created from tags keep the tag's case).
    pub lowercase: bool,
    /// Tags that are never synced (besides Taskwarrior's virtual tags, which never are).
    pub exclude: Vec<String>,
    /// Tags starting with this prefix stay in Taskwarrior only.
    pub tw_only_prefix: Option<String>,
}

impl From<&vsync_config::Labels> for TagMap {
    fn from(l: &vsync_config::Labels) -> Self {
        TagMap {
            lowercase: l.lowercase,
            exclude: l.exclude.clone(),
            tw_only_prefix: l.tw_only_prefix.clone(),
        }
    }
}

impl TagMap {
    /// The tag for a Vikunja label title.
    pub fn label_to_tag(&self, title: &str) -> String {
        let title = if self.lowercase {
            title.to_lowercase()
        } else {
            title.to_string()
        };
        let mut out = String::with_capacity(title.len());
        for (i, c) in title.char_indices() {
            match c {
                ' ' => out.push('_'),
                '%' if decode_escape(&title[i..]).is_none() => out.push('%'),
                c if escaped(c) => push_escaped(&mut out, c),
                c => out.push(c),
            }
        }
        out
    }

    /// The tag for a Vikunja label title, or `None` when that tag is not synced (the label then
    /// stays in Vikunja only).
    pub fn label_tag(&self, title: &str) -> Option<String> {
        let tag = self.label_to_tag(title);
        self.syncs(&tag).then_some(tag)
    }

    /// The Vikunja label title for a tag, or `None` when the tag is not synced.
    pub fn tag_to_label(&self, tag: &str) -> Option<String> {
        if !self.syncs(tag) {
            return None;
        }
        let mut out = String::with_capacity(tag.len());
        let mut rest = tag;
        while let Some(c) = rest.chars().next() {
            match (c, decode_escape(rest)) {
                ('%', Some((decoded, len))) => {
                    out.push(decoded);
                    rest = &rest[len..];
                    continue;
                }
                ('_', _) => out.push(' '),
                (c, _) => out.push(c),
            }
            rest = &rest[c.len_utf8()..];
        }
        Some(out)
    }

    /// Whether a tag is synced to Vikunja at all.
    pub fn syncs(&self, tag: &str) -> bool {
        !tag.is_empty()
            && !VIRTUAL_TAGS.contains(&tag)
            && !self.exclude.iter().any(|t| t == tag)
            && !self
                .tw_only_prefix
                .as_deref()
                .is_some_and(|p| !p.is_empty() && tag.starts_with(p))
    }

    /// The label titles a task should carry in Vikunja for the canonical `tags`, given the labels
    /// it has (`current`, id and title), sorted and without duplicates. A synced tag that a label
    /// on the task already maps to keeps that label's title (a folded title such as "Errand" with
    /// `lowercase` is the same label); labels whose tag is not synced stay.
    pub fn titles_for(&self, tags: &[String], current: &[(i64, String)]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for tag in tags {
            let Some(own) = self.tag_to_label(tag) else {
                continue;
            };
            let title = current
                .iter()
                .map(|(_, t)| t)
                .find(|t| **t == own)
                .or_else(|| {
                    current
                        .iter()
                        .map(|(_, t)| t)
                        .find(|t| self.label_tag(t).as_deref() == Some(tag.as_str()))
                })
                .cloned()
                .unwrap_or(own);
            out.push(title);
        }
        out.extend(
            current
                .iter()
                .filter(|(_, t)| self.label_tag(t).is_none())
                .map(|(_, t)| t.clone()),
        );
        out.sort();
        out.dedup();
        out
    }

    /// The tags Vikunja shows (`shown`) with the tags of `canonical` that never reach Vikunja
    /// added: Vikunja cannot see them, so it cannot have changed them. Merge a Vikunja view only
    /// after this, or a label change in Vikunja drops every Taskwarrior-only tag.
    pub fn with_unsynced(&self, shown: &[String], canonical: &[String]) -> Vec<String> {
        let mut out: Vec<String> = shown.to_vec();
        out.extend(canonical.iter().filter(|t| !self.syncs(t)).cloned());
        out.sort();
        out.dedup();
        out
    }
}

/// Characters written as `%HH` in tags (a space is `_`; `%` only where ambiguous).
fn escaped(c: char) -> bool {
    matches!(c, '%' | '_' | ',' | ':') || (c.is_whitespace() && c != ' ')
}

fn hex(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The escape at the start of `s` (`%HH`, or several for a multi-byte character), if it is one
/// `label_to_tag` writes: the character and the escape's length.
fn decode_escape(s: &str) -> Option<(char, usize)> {
    let b = s.as_bytes();
    let mut bytes = Vec::with_capacity(4);
    let mut at = 0;
    while bytes.len() < 4 && b.get(at) == Some(&b'%') {
        let (h, l) = (hex(*b.get(at + 1)?)?, hex(*b.get(at + 2)?)?);
        bytes.push(h * 16 + l);
        at += 3;
        if let Ok(text) = std::str::from_utf8(&bytes) {
            let c = text.chars().next()?;
            return escaped(c).then_some((c, at));
        }
    }
    None
}

fn push_escaped(out: &mut String, c: char) {
    let mut buf = [0u8; 4];
    for b in c.encode_utf8(&mut buf).bytes() {
        out.push_str(&format!("%{b:02X}"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_round_trip_through_tags() {
        let map = TagMap::default();
        for title in [
            "errand",
            "Waiting on Bob",
            "a_b",
            "50% done",
            "50%off",
            "x,y",
            "a:b",
            "tab\there",
            "ünï",
            "ideographic\u{3000}space",
            "%25",
            "%5F",
            "a%2Cb",
            "%E3%80%80",
            "%",
            "100%",
            "%%5F",
            " lead and trail ",
        ] {
            let tag = map.label_to_tag(title);
            assert!(
                !tag.contains(char::is_whitespace) && !tag.contains(',') && !tag.contains(':'),
                "{title:?} -> {tag:?}"
            );
            assert_eq!(map.tag_to_label(&tag).as_deref(), Some(title), "{tag:?}");
        }
        assert_eq!(map.label_to_tag("Waiting on Bob"), "Waiting_on_Bob");
        assert_eq!(map.label_to_tag("errand"), "errand");
        assert_eq!(map.label_to_tag("a:b"), "a%3Ab");
        assert_eq!(map.label_to_tag("%5F"), "%255F");
    }

    #[test]
    fn tags_as_typed_round_trip_through_titles() {
        let map = TagMap::default();
        for tag in [
            "errand",
            "Waiting_on_Bob",
            "50%off",
            "100%",
            "%41",
            "a%2cb",
            "ünï",
            "a.b",
            "a-b",
            "+x",
            "a(b)",
        ] {
            let title = map.tag_to_label(tag).expect("synced");
            assert_eq!(map.label_to_tag(&title), tag, "{tag:?} -> {title:?}");
        }
    }

    #[test]
    fn excluded_prefixed_and_virtual_tags_stay_in_taskwarrior() {
        let map = TagMap::from(&vsync_config::Labels {
            exclude: vec!["next".into()],
            tw_only_prefix: Some("tw.".into()),
            ..Default::default()
        });
        assert_eq!(map.tag_to_label("next"), None);
        assert_eq!(map.tag_to_label("tw.private"), None);
        assert_eq!(map.tag_to_label("OVERDUE"), None);
        assert_eq!(map.tag_to_label("home").as_deref(), Some("home"));
        // The other way: such labels stay in Vikunja.
        assert_eq!(map.label_tag("next"), None);
        assert_eq!(map.label_tag("OVERDUE"), None);
        assert_eq!(map.label_tag("Overdue").as_deref(), Some("Overdue"));
    }

    #[test]
    fn wanted_titles_keep_the_labels_a_task_has() {
        let map = TagMap {
            lowercase: true,
            exclude: vec!["next".into()],
            ..Default::default()
        };
        let current = vec![(1, "Errand".to_string()), (2, "next".to_string())];
        let tags = vec!["errand".to_string(), "new_one".to_string()];
        assert_eq!(
            map.titles_for(&tags, &current),
            ["Errand", "new one", "next"],
            "the folded title is the same label; the Vikunja-only label stays"
        );
        assert_eq!(map.titles_for(&[], &current), ["next"]);
    }

    #[test]
    fn taskwarrior_only_tags_are_added_to_what_vikunja_shows() {
        let map = TagMap {
            tw_only_prefix: Some("tw.".into()),
            ..Default::default()
        };
        let canonical = vec!["a".to_string(), "tw.x".to_string(), "next".to_string()];
        assert_eq!(
            map.with_unsynced(&["b".to_string()], &canonical),
            ["b", "tw.x"]
        );
    }
}
