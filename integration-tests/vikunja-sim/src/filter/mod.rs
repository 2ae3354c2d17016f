//! The task `filter` language (reference §3.3): `field op value` joined by `&&` / `||`
//! with parentheses; `sort_by` / `order_by`. Dates compare in UTC; an unset date is SQL NULL.

use std::cmp::Ordering;

mod values;

use crate::error::SimError;
use crate::model::Task;
use values::{Kind, Val, cmp_vals, kind, parse_value, values_of};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
    Like,
    In,
    NotIn,
}

#[derive(Debug, Clone)]
enum Expr {
    Cmp {
        field: String,
        op: Op,
        values: Vec<Val>,
    },
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
}

/// A parsed filter; `None` inside matches everything.
#[derive(Debug, Clone)]
pub(crate) struct Filter {
    expr: Option<Expr>,
    include_nulls: bool,
}

struct Parser<'a> {
    src: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }

    fn eat(&mut self, tok: &str) -> bool {
        self.skip_ws();
        if self.rest().starts_with(tok) {
            self.pos += tok.len();
            true
        } else {
            false
        }
    }

    fn fail(&self, why: &str) -> SimError {
        SimError::bad_filter_expr(self.src, why)
    }

    fn or(&mut self) -> Result<Expr, SimError> {
        let mut left = self.and()?;
        while self.eat("||") {
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, SimError> {
        let mut left = self.atom()?;
        while self.eat("&&") {
            left = Expr::And(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Expr, SimError> {
        if self.eat("(") {
            let inner = self.or()?;
            if !self.eat(")") {
                return Err(self.fail("missing closing parenthesis"));
            }
            return Ok(inner);
        }
        self.skip_ws();
        let field: String = self
            .rest()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if field.is_empty() {
            return Err(self.fail("expected a field name"));
        }
        self.pos += field.len();
        let after = self.rest();
        let trimmed = after.trim_start();
        let spaced = trimmed.len() < after.len();
        let words = [("not in", Op::NotIn), ("in", Op::In), ("like", Op::Like)];
        let symbols = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("!=", Op::Ne),
            ("=", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
        ];
        let word = words.into_iter().find(|(tok, _)| {
            spaced
                && trimmed.starts_with(tok)
                && trimmed[tok.len()..].starts_with(char::is_whitespace)
        });
        let Some((tok, op)) = word.or_else(|| {
            symbols
                .into_iter()
                .find(|(tok, _)| trimmed.starts_with(tok))
        }) else {
            return Err(self.fail("expected a comparator"));
        };
        self.pos = self.src.len() - trimmed.len() + tok.len();
        let end = self
            .rest()
            .find(['&', '|', '(', ')'])
            .map_or(self.src.len(), |i| self.pos + i);
        let raw = self.src[self.pos..end].trim();
        self.pos = end;
        let raw = raw.trim_matches(|c| c == '\'' || c == '"');
        let field = if field == "project" {
            "project_id".to_owned()
        } else {
            field
        };
        let k = kind(&field).ok_or_else(|| SimError::bad_filter_field(&field))?;
        // A valid column, but `Task` has no field `Uid` to read the value into (its `UID` is
        // tagged out of the JSON), so Vikunja refuses every value.
        if field == "uid" {
            return Err(SimError::bad_filter_value(&field, raw));
        }
        let values = if matches!(op, Op::In | Op::NotIn) {
            raw.split(',')
                .map(|v| parse_value(&field, &k, v.trim()))
                .collect::<Result<_, _>>()?
        } else {
            vec![parse_value(&field, &k, raw)?]
        };
        Ok(Expr::Cmp { field, op, values })
    }
}

impl Filter {
    pub fn parse(src: &str, include_nulls: bool) -> Result<Filter, SimError> {
        if src.trim().is_empty() {
            return Ok(Filter {
                expr: None,
                include_nulls,
            });
        }
        let mut p = Parser { src, pos: 0 };
        let expr = p.or()?;
        p.skip_ws();
        if !p.rest().is_empty() {
            return Err(p.fail("unexpected trailing input"));
        }
        Ok(Filter {
            expr: Some(expr),
            include_nulls,
        })
    }

    pub fn matches(&self, t: &Task) -> bool {
        self.expr
            .as_ref()
            .is_none_or(|e| eval(e, t, self.include_nulls))
    }
}

fn test(op: Op, have: &Val, want: &[Val]) -> bool {
    let first = want.first();
    let ord = first.and_then(|w| cmp_vals(have, w));
    match op {
        Op::Eq => ord == Some(Ordering::Equal),
        Op::Ne => ord.is_some_and(|o| o != Ordering::Equal),
        Op::Gt => ord == Some(Ordering::Greater),
        Op::Ge => matches!(ord, Some(Ordering::Greater | Ordering::Equal)),
        Op::Lt => ord == Some(Ordering::Less),
        Op::Le => matches!(ord, Some(Ordering::Less | Ordering::Equal)),
        Op::Like => match (have, first) {
            (Val::Str(h), Some(Val::Str(w))) => h.to_lowercase().contains(&w.to_lowercase()),
            _ => false,
        },
        Op::In => want
            .iter()
            .any(|w| cmp_vals(have, w) == Some(Ordering::Equal)),
        Op::NotIn => !want
            .iter()
            .any(|w| cmp_vals(have, w) == Some(Ordering::Equal)),
    }
}

fn eval(e: &Expr, t: &Task, include_nulls: bool) -> bool {
    match e {
        Expr::And(a, b) => eval(a, t, include_nulls) && eval(b, t, include_nulls),
        Expr::Or(a, b) => eval(a, t, include_nulls) || eval(b, t, include_nulls),
        Expr::Cmp { field, op, values } => {
            let have = values_of(t, field);
            if have.is_empty() {
                return include_nulls || (*op == Op::NotIn);
            }
            if include_nulls && have.iter().all(|v| matches!(v, Val::Int(0))) {
                return true;
            }
            let multi = matches!(field.as_str(), "labels" | "assignees" | "reminders");
            match (multi, op) {
                (true, Op::Ne) => !have.iter().any(|h| test(Op::Eq, h, values)),
                (true, Op::NotIn) => !have.iter().any(|h| test(Op::In, h, values)),
                _ => have.iter().any(|h| test(*op, h, values)),
            }
        }
    }
}

/// `sort_by` / `order_by` pairs, validated (4016 / 4014); `id asc` breaks ties.
pub(crate) fn sort_tasks(
    tasks: &mut [Task],
    sort_by: &[&str],
    order_by: &[&str],
) -> Result<(), SimError> {
    let mut keys = Vec::new();
    for (i, field) in sort_by.iter().enumerate() {
        let order = order_by.get(i).copied().unwrap_or("asc");
        if order != "asc" && order != "desc" {
            return Err(SimError::new(
                400,
                4014,
                format!("The task sort order '{order}' is invalid. Allowed is either asc or desc."),
            ));
        }
        if matches!(
            kind(field),
            None | Some(Kind::Labels | Kind::Assignees | Kind::Reminders)
        ) {
            return Err(SimError::bad_filter_field(field));
        }
        keys.push((*field, order == "desc"));
    }
    tasks.sort_by(|a, b| {
        for (field, desc) in &keys {
            let (va, vb) = (values_of(a, field), values_of(b, field));
            let ord = match (va.first(), vb.first()) {
                (Some(x), Some(y)) => cmp_vals(x, y).unwrap_or(Ordering::Equal),
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            };
            let ord = if *desc { ord.reverse() } else { ord };
            if ord != Ordering::Equal {
                return ord;
            }
        }
        a.id.cmp(&b.id)
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unknown_fields_and_bad_values() {
        assert_eq!(
            Filter::parse("colour = red", false).err().map(|e| e.code),
            Some(Some(4016))
        );
        assert_eq!(
            Filter::parse("updated > yesterday-ish", false)
                .err()
                .map(|e| e.code),
            Some(Some(4019))
        );
        assert!(Filter::parse("done = false && (priority >= 3 || project = 2)", false).is_ok());
        assert_eq!(
            Filter::parse("uid = abc", false).err().map(|e| e.code),
            Some(Some(4019))
        );
    }
}
