//! Control characters never cross: text from either side reaches canonical fields without C0
//! and C1 controls (a Vikunja title's `&#x1b;` decodes to ESC, which `task list` would print to
//! the user's terminal) and without NUL. Both views ([`crate::tw::view`],
//! [`crate::vikunja::view`]) end in [`clean_fields`], so the other side only ever sees clean
//! text, whichever side it came from.

use std::borrow::Cow;

use serde_json::Value;
use vsync_proto::TaskFields;

/// Free text (descriptions, annotations, extra attributes): keeps newline and tab, which
/// Taskwarrior and Vikunja both store as text, and drops every other control character.
pub fn clean_text(s: &str) -> Cow<'_, str> {
    clean(s, |c| c == '\n' || c == '\t')
}

/// A name (a tag, a project path): no control character at all.
pub fn clean_name(s: &str) -> Cow<'_, str> {
    clean(s, |_| false)
}

fn clean(s: &str, keep: impl Fn(char) -> bool) -> Cow<'_, str> {
    // `char::is_control`: U+0000-U+001F, U+007F-U+009F (C0, DEL, C1).
    let unwanted = |c: char| c.is_control() && !keep(c);
    if !s.chars().any(unwanted) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(s.chars().filter(|c| !unwanted(*c)).collect())
}

/// Every string in a JSON value (an extra attribute may be a string, a list or an object).
pub fn clean_value(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(clean_text(s).into_owned()),
        Value::Array(a) => Value::Array(a.iter().map(clean_value).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, v)| (clean_text(k).into_owned(), clean_value(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Removes control characters from every text field of a view.
pub fn clean_fields(f: &mut TaskFields) {
    let own = |s: &mut String, cleaned: fn(&str) -> Cow<'_, str>| {
        if let Cow::Owned(c) = cleaned(s) {
            *s = c;
        }
    };
    own(&mut f.description, clean_text);
    own(&mut f.project, clean_name);
    for a in &mut f.annotations {
        own(&mut a.description, clean_text);
    }
    for t in f.tags.iter_mut().chain(f.depends.iter_mut()) {
        own(t, clean_name);
    }
    f.tags.retain(|t| !t.is_empty());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn c0_c1_del_and_nul_go_newline_and_tab_stay_in_text() {
        let hostile = "a\u{1b}[31mred\u{0}\u{9b}2J\u{7f}\r\u{85}b\tc\nd";
        assert_eq!(clean_text(hostile), "a[31mred2Jb\tc\nd");
        assert_eq!(clean_name("Home\u{1b}.Kit\tchen\n"), "Home.Kitchen");
        assert!(matches!(clean_text("plain ünïcode"), Cow::Borrowed(_)));
    }

    #[test]
    fn values_are_cleaned_all_the_way_down() {
        let v = json!({"k\u{1b}": ["x\u{0}y", 3, {"z": "\u{9b}w"}]});
        assert_eq!(clean_value(&v), json!({"k": ["xy", 3, {"z": "w"}]}));
    }

    #[test]
    fn a_tag_of_control_characters_only_is_no_tag() {
        let mut f = TaskFields {
            description: "t\u{1b}itle".into(),
            tags: vec!["\u{1b}".into(), "ok\u{0}".into()],
            ..Default::default()
        };
        clean_fields(&mut f);
        assert_eq!(f.description, "title");
        assert_eq!(f.tags, ["ok"]);
    }
}
