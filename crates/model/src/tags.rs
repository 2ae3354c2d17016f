//! Taskwarrior tag <-> Vikunja label title.
//!
//! Titles that are valid tags stay as they are. A tag cannot hold whitespace or a comma, so the
//! default mapping writes a space as `_` and escapes `_`, `%`, `,` and other whitespace as `%HH`;
//! that keeps every title reversible ("Waiting on Bob" <-> `Waiting_on_Bob`).

use serde::Deserialize;

/// How tags and labels map; the defaults keep titles as they are where Taskwarrior allows it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct TagMap {
    /// Lower-case every label title as a tag (labels created from tags keep the tag's case).
    pub lowercase: bool,
    /// Tags that are never synced (besides Taskwarrior's virtual tags, which exports never carry).
    pub exclude: Vec<String>,
    /// Tags starting with this prefix stay in Taskwarrior only.
    pub tw_only_prefix: Option<String>,
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
        for c in title.chars() {
            match c {
                ' ' => out.push('_'),
                '_' | '%' | ',' => push_escaped(&mut out, c),
                c if c.is_whitespace() => push_escaped(&mut out, c),
                c => out.push(c),
            }
        }
        out
    }

    /// The Vikunja label title for a tag, or `None` when the tag is not synced.
    pub fn tag_to_label(&self, tag: &str) -> Option<String> {
        if !self.syncs(tag) {
            return None;
        }
        let bytes = tag.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'_' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => match (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push(h * 16 + l);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                },
                b => out.push(b),
            }
            i += 1;
        }
        Some(String::from_utf8_lossy(&out).into_owned())
    }

    /// Whether a tag is synced to Vikunja at all.
    pub fn syncs(&self, tag: &str) -> bool {
        !self.exclude.iter().any(|t| t == tag)
            && !self
                .tw_only_prefix
                .as_deref()
                .is_some_and(|p| !p.is_empty() && tag.starts_with(p))
    }
}

fn hex(b: u8) -> Option<u8> {
    (b as char).to_digit(16).map(|d| d as u8)
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
            "x,y",
            "tab\there",
            "ünï",
        ] {
            let tag = map.label_to_tag(title);
            assert!(!tag.contains(' ') && !tag.contains(','), "{tag}");
            assert_eq!(map.tag_to_label(&tag).as_deref(), Some(title));
        }
        assert_eq!(map.label_to_tag("Waiting on Bob"), "Waiting_on_Bob");
        assert_eq!(map.label_to_tag("errand"), "errand");
    }

    #[test]
    fn excluded_and_prefixed_tags_stay_in_taskwarrior() {
        let map = TagMap {
            exclude: vec!["next".into()],
            tw_only_prefix: Some("tw.".into()),
            ..Default::default()
        };
        assert_eq!(map.tag_to_label("next"), None);
        assert_eq!(map.tag_to_label("tw.private"), None);
        assert_eq!(map.tag_to_label("home").as_deref(), Some("home"));
    }
}
