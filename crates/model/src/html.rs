//! Vikunja descriptions (HTML) <-> Taskwarrior annotations (one plain-text paragraph each).

/// Splits an HTML (or plain-text) description into its non-empty text paragraphs.
pub fn paragraphs(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut rest = html;
    while let Some(start) = rest.find(['<', '\n']) {
        current.push_str(&rest[..start]);
        if rest[start..].starts_with('\n') {
            flush(&mut current, &mut out);
            rest = &rest[start + 1..];
            continue;
        }
        let Some(end) = rest[start..].find('>') else {
            // A lone '<' is text.
            current.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let tag = rest[start + 1..start + end]
            .trim_start_matches('/')
            .to_ascii_lowercase();
        let name: String = tag
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        if matches!(
            name.as_str(),
            "p" | "br"
                | "div"
                | "li"
                | "ul"
                | "ol"
                | "h1"
                | "h2"
                | "h3"
                | "h4"
                | "h5"
                | "h6"
                | "blockquote"
                | "pre"
                | "tr"
        ) {
            flush(&mut current, &mut out);
        }
        rest = &rest[start + end + 1..];
    }
    current.push_str(rest);
    flush(&mut current, &mut out);
    out
}

fn flush(current: &mut String, out: &mut Vec<String>) {
    let text = unescape(current.trim());
    let text = text.trim();
    if !text.is_empty() {
        out.push(text.to_string());
    }
    current.clear();
}

/// Renders paragraphs as the HTML Vikunja's editor writes (`<p>…</p>` each).
pub fn render(paragraphs: &[&str]) -> String {
    paragraphs
        .iter()
        .map(|p| format!("<p>{}</p>", escape(p)))
        .collect()
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let entity = tail.find(';').filter(|&e| e <= 10).map(|e| &tail[..=e]);
        let decoded = entity.and_then(|e| match e {
            "&amp;" => Some('&'),
            "&lt;" => Some('<'),
            "&gt;" => Some('>'),
            "&quot;" => Some('"'),
            "&#39;" | "&apos;" => Some('\''),
            "&nbsp;" => Some(' '),
            _ => e
                .strip_prefix("&#x")
                .and_then(|h| u32::from_str_radix(h.trim_end_matches(';'), 16).ok())
                .or_else(|| {
                    e.strip_prefix("&#")
                        .and_then(|d| d.trim_end_matches(';').parse().ok())
                })
                .and_then(char::from_u32),
        });
        match (entity, decoded) {
            (Some(e), Some(c)) => {
                out.push(c);
                rest = &tail[e.len()..];
            }
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn editor_html_splits_into_paragraphs() {
        assert_eq!(
            paragraphs("<p>first</p><p>second &amp; <b>more</b></p><p></p>"),
            vec!["first", "second & more"]
        );
        assert_eq!(paragraphs("<ul><li>a</li><li>b</li></ul>"), vec!["a", "b"]);
        assert_eq!(paragraphs("plain\ntext"), vec!["plain", "text"]);
        assert_eq!(paragraphs(""), Vec::<String>::new());
        assert_eq!(paragraphs("a < b"), vec!["a < b"]);
    }

    #[test]
    fn rendered_paragraphs_round_trip() {
        let texts = ["call <Bob> & \"Alice\"", "ünïcode"];
        let html = render(&texts);
        assert_eq!(paragraphs(&html), texts);
    }
}
