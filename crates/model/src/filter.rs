//! What a host or the whole sync covers: a Taskwarrior filter (`[taskwarrior] filter`, e.g.
//! `project:Work or +vikunja`) and the Vikunja projects (`vikunja.projects`), evaluated on the
//! sync's own view of a task ([`TaskFields`]) so that both directions decide alike.
//!
//! The filter language is the part of Taskwarrior's that names what a task belongs to:
//! `project:P` (P or any project whose name starts with P, as `task` matches it),
//! `project.is:P`, `project.not:P`, `+tag`, `-tag`, `status:S`, joined by `and` (also implied
//! between terms), `or` and parentheses. Anything else is refused when the filter is read, so
//! a filter never means something other than what `task` would show.

use vsync_proto::{TaskFields, TaskStatus};

/// A filter that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Taskwarrior filter `{filter}`: {reason}")]
pub struct FilterError {
    pub filter: String,
    pub reason: String,
}

/// A parsed Taskwarrior filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskFilter {
    text: String,
    expr: Expr,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Expr {
    All,
    Project(String),
    ProjectIs(String),
    ProjectNot(String),
    Tag(String),
    NoTag(String),
    Status(TaskStatus),
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

impl TaskFilter {
    /// Reads `text`; an empty filter matches every task.
    pub fn parse(text: &str) -> Result<TaskFilter, FilterError> {
        let fail = |reason: String| FilterError {
            filter: text.to_string(),
            reason,
        };
        let tokens = tokenize(text).map_err(fail)?;
        let mut p = Parser { tokens, at: 0 };
        let expr = if p.tokens.is_empty() {
            Expr::All
        } else {
            p.or().map_err(fail)?
        };
        if let Some(t) = p.tokens.get(p.at) {
            return Err(fail(format!("unexpected `{t}`")));
        }
        Ok(TaskFilter {
            text: text.to_string(),
            expr,
        })
    }

    /// Whether the task belongs.
    pub fn matches(&self, task: &TaskFields) -> bool {
        self.expr.matches(task)
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The host's `[taskwarrior] filter`, read as tw-watcher and `config check` read it: a
    /// filter that cannot be used is a config error naming the key.
    pub fn of_host(
        t: &vsync_config::Taskwarrior,
    ) -> Result<Option<TaskFilter>, vsync_config::ConfigError> {
        t.filter
            .as_deref()
            .map(TaskFilter::parse)
            .transpose()
            .map_err(|e| vsync_config::ConfigError::Invalid {
                key: "taskwarrior.filter",
                reason: e.to_string(),
            })
    }
}

impl Expr {
    fn matches(&self, t: &TaskFields) -> bool {
        match self {
            Expr::All => true,
            Expr::Project(p) => t.project.starts_with(p.as_str()),
            Expr::ProjectIs(p) => t.project == *p,
            Expr::ProjectNot(p) => !t.project.starts_with(p.as_str()),
            Expr::Tag(tag) => t.tags.iter().any(|x| x == tag),
            Expr::NoTag(tag) => !t.tags.iter().any(|x| x == tag),
            Expr::Status(s) => t.status() == *s,
            Expr::And(a, b) => a.matches(t) && b.matches(t),
            Expr::Or(a, b) => a.matches(t) || b.matches(t),
        }
    }
}

/// Words, with `(` and `)` apart and quotes kept together (`project:"My Work"`).
fn tokenize(text: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote = None;
    for c in text.chars() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => cur.push(c),
            (None, '"' | '\'') => quote = Some(c),
            (None, '(' | ')') => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
                out.push(c.to_string());
            }
            (None, c) if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (None, c) => cur.push(c),
        }
    }
    if quote.is_some() {
        return Err("an unclosed quote".into());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

struct Parser {
    tokens: Vec<String>,
    at: usize,
}

impl Parser {
    fn peek(&self) -> Option<&str> {
        self.tokens.get(self.at).map(String::as_str)
    }

    fn or(&mut self) -> Result<Expr, String> {
        let mut left = self.and()?;
        while self.peek() == Some("or") {
            self.at += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, String> {
        let mut left = self.term()?;
        loop {
            match self.peek() {
                Some("and") => self.at += 1,
                None | Some("or" | ")") => return Ok(left),
                Some(_) => {} // juxtaposed terms: and
            }
            left = Expr::And(Box::new(left), Box::new(self.term()?));
        }
    }

    fn term(&mut self) -> Result<Expr, String> {
        let Some(tok) = self.tokens.get(self.at).cloned() else {
            return Err("ends where a term is needed".into());
        };
        self.at += 1;
        if tok == "(" {
            let inner = self.or()?;
            if self.peek() != Some(")") {
                return Err("a `(` without its `)`".into());
            }
            self.at += 1;
            return Ok(inner);
        }
        if let Some(tag) = tok.strip_prefix('+').filter(|t| !t.is_empty()) {
            return Ok(Expr::Tag(tag.to_string()));
        }
        if let Some(tag) = tok.strip_prefix('-').filter(|t| !t.is_empty()) {
            return Ok(Expr::NoTag(tag.to_string()));
        }
        let unsupported = || {
            format!(
                "`{tok}` is not supported here (use project:, project.is:, project.not:, +tag, \
                 -tag, status:, and, or, parentheses)"
            )
        };
        let Some((attr, value)) = tok.split_once(':') else {
            return Err(unsupported());
        };
        let (name, modifier) = attr.split_once('.').unwrap_or((attr, ""));
        // Taskwarrior takes any abbreviation of an attribute down to 3 letters.
        let is = |full: &str| name.len() >= 3 && full.starts_with(name);
        if is("project") {
            return match modifier {
                "" | "startswith" | "left" => Ok(Expr::Project(value.to_string())),
                "is" | "equals" => Ok(Expr::ProjectIs(value.to_string())),
                "not" => Ok(Expr::ProjectNot(value.to_string())),
                _ => Err(unsupported()),
            };
        }
        if is("status") && modifier.is_empty() {
            let status = match value {
                "pending" | "waiting" => TaskStatus::Pending,
                "completed" => TaskStatus::Completed,
                "deleted" => TaskStatus::Deleted,
                _ => return Err(format!("unknown status `{value}`")),
            };
            return Ok(Expr::Status(status));
        }
        Err(unsupported())
    }
}

/// The Vikunja projects the sync covers (`vikunja.projects`: top-level titles; empty: all),
/// by Taskwarrior project path; "" is the default project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectScope {
    top_level: Vec<String>,
    default_project: String,
}

impl ProjectScope {
    pub fn new(top_level: &[String], default_project: &str) -> ProjectScope {
        ProjectScope {
            top_level: top_level.to_vec(),
            default_project: default_project.to_string(),
        }
    }

    /// Whether tasks of the project at `path` are synced.
    pub fn contains(&self, path: &str) -> bool {
        if self.top_level.is_empty() {
            return true;
        }
        let top = match path {
            "" => self.default_project.as_str(),
            p => p.split('.').next().unwrap_or(p),
        };
        self.top_level.iter().any(|t| t == top)
    }

    /// Whether every project is synced.
    pub fn is_everything(&self) -> bool {
        self.top_level.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(project: &str, tags: &[&str], status: TaskStatus) -> TaskFields {
        let mut t = TaskFields {
            project: project.into(),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        t.set_status(status);
        t
    }

    fn pending(project: &str, tags: &[&str]) -> TaskFields {
        task(project, tags, TaskStatus::Pending)
    }

    #[test]
    fn project_or_tag_as_task_shows_it() {
        let f = TaskFilter::parse("project:Work or +vikunja").expect("parses");
        // `task project:Work` also lists Work.Sub and Workshop (checked on 2.6 and 3.5).
        for p in ["Work", "Work.Sub", "Workshop"] {
            assert!(f.matches(&pending(p, &[])), "{p}");
        }
        assert!(!f.matches(&pending("Home", &[])));
        assert!(f.matches(&pending("Home", &["vikunja"])));
        assert!(!f.matches(&pending("", &[])));
    }

    #[test]
    fn and_binds_tighter_than_or_and_terms_side_by_side_are_and() {
        let f = TaskFilter::parse("pro:Home +a or project.is:Work -b").expect("parses");
        assert!(f.matches(&pending("Home.Garden", &["a"])));
        assert!(!f.matches(&pending("Home", &[])));
        assert!(f.matches(&pending("Work", &[])));
        assert!(!f.matches(&pending("Work", &["b"])));
        assert!(!f.matches(&pending("Work.Sub", &[])));
        let g = TaskFilter::parse("( project:Work or +x ) and status:pending").expect("parses");
        assert!(g.matches(&pending("Work", &[])));
        assert!(!g.matches(&task("Work", &[], TaskStatus::Completed)));
        let n = TaskFilter::parse("project.not:Private").expect("parses");
        assert!(n.matches(&pending("Work", &[])) && !n.matches(&pending("Private.X", &[])));
        let q = TaskFilter::parse("project.is:\"My Work\"").expect("parses");
        assert!(q.matches(&pending("My Work", &[])));
    }

    #[test]
    fn an_empty_filter_is_everything_and_unknown_terms_are_refused() {
        assert!(
            TaskFilter::parse("  ")
                .expect("empty")
                .matches(&pending("X", &[]))
        );
        for bad in [
            "due:today",
            "Work",
            "project:Work or",
            "( +a",
            "+a )",
            "status:sleeping",
            "\"open",
        ] {
            let e = TaskFilter::parse(bad).expect_err(bad);
            assert_eq!(e.filter, bad);
        }
    }

    #[test]
    fn a_hosts_filter_that_cannot_be_used_is_a_config_error_naming_the_key() {
        let mut t = vsync_config::Taskwarrior::default();
        assert_eq!(TaskFilter::of_host(&t).expect("none"), None);
        t.filter = Some("project:Work or +vikunja".into());
        let f = TaskFilter::of_host(&t).expect("parses");
        assert_eq!(f.as_ref().map(TaskFilter::as_str), t.filter.as_deref());
        t.filter = Some("due:today".into());
        let e = TaskFilter::of_host(&t).expect_err("refused").to_string();
        assert!(
            e.contains("`taskwarrior.filter`") && e.contains("due:today"),
            "{e}"
        );
    }

    #[test]
    fn a_project_scope_is_its_top_level_titles() {
        let all = ProjectScope::new(&[], "Inbox");
        assert!(all.contains("Anything") && all.is_everything());
        let work = ProjectScope::new(&["Work".into()], "Inbox");
        assert!(work.contains("Work") && work.contains("Work.ClientA"));
        assert!(!work.contains("Workshop") && !work.contains("Home") && !work.contains(""));
        let inbox = ProjectScope::new(&["Inbox".into()], "Inbox");
        assert!(inbox.contains(""));
    }
}
