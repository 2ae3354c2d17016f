//! Reading the JSON Taskwarrior prints (`task export`, what it hands its hooks): 2.6 and 3.x
//! escape `\n`, `\t`, `\r` and `\b` inside strings but print every other control character
//! raw, which is not JSON, so one task holding an ESC would make a whole export unreadable.
//! Those bytes are escaped (`\u001b`) before parsing; what the text then holds is the model's
//! to clean (`vsync_model::text`). Shared by the hook and the Taskwarrior driver.

use std::borrow::Cow;

/// Parses JSON as Taskwarrior prints it.
pub fn parse<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> serde_json::Result<T> {
    serde_json::from_slice(&escape_raw_controls(bytes))
}

/// `bytes` with each raw control byte other than JSON's own whitespace escaped as `\u00XX`:
/// outside a string such a byte is no JSON either, so only strings can have held one.
pub fn escape_raw_controls(bytes: &[u8]) -> Cow<'_, [u8]> {
    let raw = |b: u8| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r');
    if !bytes.iter().any(|&b| raw(b)) {
        return Cow::Borrowed(bytes);
    }
    let mut out = Vec::with_capacity(bytes.len() + 16);
    for &b in bytes {
        if raw(b) {
            out.extend_from_slice(format!("\\u{b:04x}").as_bytes());
        } else {
            out.push(b);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::Value;

    #[test]
    fn an_export_with_raw_control_characters_is_read_with_them_escaped() {
        let printed = b"[\n{\"description\":\"Tidy\x1b[1m up\x07\\n\x1f\",\"uuid\":\"u\"}\n]";
        assert!(serde_json::from_slice::<Value>(printed).is_err());
        let v: Value = parse(printed).unwrap();
        assert_eq!(v[0]["description"], "Tidy\u{1b}[1m up\u{7}\n\u{1f}");
    }

    #[test]
    fn clean_json_is_read_as_it_is() {
        let clean = b"{\"a\": \"b\\u001b\"}\n";
        assert!(matches!(escape_raw_controls(clean), Cow::Borrowed(_)));
        assert_eq!(parse::<Value>(clean).unwrap()["a"], "b\u{1b}");
    }
}
