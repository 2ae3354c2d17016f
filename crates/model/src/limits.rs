//! How large a task may be. Past these limits a change is refused with a dead letter naming
//! the field and its size, before it reaches the bus's payload limit (1 MB by default: an
//! event carries the task and its previous state) or a host's `task import`: never a crash or
//! a blocked host.

use vsync_proto::TaskFields;

/// The most one text field may hold (a title, an annotation, the description as a whole, a
/// tag, a project path, an attribute's value).
pub const MAX_FIELD_BYTES: usize = 64 * 1024;
/// The most a whole task may hold (its fields encoded, or a side's JSON of it).
pub const MAX_TASK_BYTES: usize = 256 * 1024;

/// A field over its limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field} is {bytes} bytes, over the limit of {limit} bytes")]
pub struct Oversized {
    pub field: String,
    pub bytes: usize,
    pub limit: usize,
}

/// `text` as field `field`, if it is within [`MAX_FIELD_BYTES`].
pub fn check_text(field: &str, text: &str) -> Result<(), Oversized> {
    check_len(field, text.len(), MAX_FIELD_BYTES)
}

/// A whole task's serialized form (`what`: which), within [`MAX_TASK_BYTES`].
pub fn check_task_len(what: &str, bytes: usize) -> Result<(), Oversized> {
    check_len(what, bytes, MAX_TASK_BYTES)
}

fn check_len(field: &str, bytes: usize, limit: usize) -> Result<(), Oversized> {
    if bytes > limit {
        return Err(Oversized {
            field: field.to_string(),
            bytes,
            limit,
        });
    }
    Ok(())
}

/// Every text field of `f` and the whole of it within the limits.
pub fn check(f: &TaskFields) -> Result<(), Oversized> {
    check_text("description", &f.description)?;
    check_text("project", &f.project)?;
    for a in &f.annotations {
        check_text("an annotation", &a.description)?;
    }
    for t in &f.tags {
        check_text("a tag", t)?;
    }
    for (k, v) in &f.tw_extra {
        check_text(
            &format!("attribute {}", k.chars().take(64).collect::<String>()),
            v,
        )?;
        check_text("an attribute name", k)?;
    }
    check_task_len("the task", prost::Message::encoded_len(f))
}

#[cfg(test)]
mod tests {
    use super::*;
    use vsync_proto::Annotation;

    #[test]
    fn a_field_over_its_limit_is_named_with_its_size() {
        let ok = TaskFields {
            description: "x".repeat(MAX_FIELD_BYTES),
            ..Default::default()
        };
        assert_eq!(check(&ok), Ok(()));
        let big = TaskFields {
            description: "x".repeat(MAX_FIELD_BYTES + 1),
            ..Default::default()
        };
        let Err(e) = check(&big) else {
            panic!("a description over the limit was accepted")
        };
        assert_eq!(
            (e.field.as_str(), e.bytes),
            ("description", MAX_FIELD_BYTES + 1)
        );
        assert_eq!(
            e.to_string(),
            format!(
                "description is {} bytes, over the limit of {MAX_FIELD_BYTES} bytes",
                MAX_FIELD_BYTES + 1
            )
        );
    }

    #[test]
    fn many_fields_each_within_the_limit_can_still_make_a_task_too_large() {
        let f = TaskFields {
            annotations: (0..5)
                .map(|i| Annotation {
                    entry: i,
                    description: "y".repeat(MAX_FIELD_BYTES),
                })
                .collect(),
            ..Default::default()
        };
        let Err(e) = check(&f) else {
            panic!("a task over the limit was accepted")
        };
        assert_eq!(e.field, "the task");
    }
}
