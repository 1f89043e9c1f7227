//! The statements inside one statement: a `WITH`'s CTE bodies and main statement, and a
//! `MERGE`'s actions as the UPDATE, INSERT and DELETE they perform, so that the write
//! analysis reads a balance change however the statement wraps it
//! (`WITH t AS (UPDATE bonus … RETURNING *) SELECT * FROM t`, `MERGE INTO bonus … WHEN
//! MATCHED THEN UPDATE SET balance = …`).

use super::tokens::{close, Tok};
use std::borrow::Cow;

/// One statement to analyze.
pub struct Part<'a> {
    /// Its tokens: a slice of the text's, or rebuilt from a MERGE action.
    pub toks: Cow<'a, [Tok]>,
    /// How many `?` placeholders stand before it in the text (positional values bind
    /// in order of appearance); `None` where its tokens were rebuilt out of order.
    pub qmarks_before: Option<usize>,
}

/// A `WITH` clause at the start of `t`: its CTE names, the ranges of their bodies, and
/// where the main statement starts. `None` for anything else (`COPY … WITH CSV`).
fn with_clause(t: &[Tok]) -> Option<(Vec<String>, Vec<std::ops::Range<usize>>, usize)> {
    let mut i: usize = t.first()?.kw("WITH").then_some(1)?;
    if t.get(i)?.kw("RECURSIVE") {
        i += 1;
    }
    let (mut names, mut bodies) = (Vec::new(), Vec::new());
    loop {
        let name = match t.get(i)? {
            Tok::Word(w, _, _) => w.to_ascii_lowercase(),
            _ => return None,
        };
        i += 1;
        if t.get(i)?.sym("(") {
            i = close(t, i)? + 1;
        }
        if !t.get(i)?.kw("AS") {
            return None;
        }
        i += 1;
        if t.get(i)?.kw("NOT") {
            i += 1;
        }
        if t.get(i)?.kw("MATERIALIZED") {
            i += 1;
        }
        if !t.get(i)?.sym("(") {
            return None;
        }
        let end = close(t, i)?;
        names.push(name);
        bodies.push(i + 1..end);
        i = end + 1;
        if t.get(i).is_some_and(|x| x.sym(",")) {
            i += 1;
        } else {
            return Some((names, bodies, i));
        }
    }
}

/// The names a statement gives its CTEs, at any depth: relations of the statement
/// itself, not tables of the database.
pub fn cte_names(t: &[Tok]) -> Vec<String> {
    (0..t.len())
        .filter(|&i| t[i].kw("WITH"))
        .filter_map(|i| with_clause(&t[i..]))
        .flat_map(|(names, _, _)| names)
        .collect()
}

/// Whether a statement that opens with `WITH` writes: a CTE body or the main statement
/// is an INSERT, UPDATE, DELETE or MERGE.
pub fn writes(t: &[Tok]) -> bool {
    let mut parts = Vec::new();
    expand(t, 0, &mut parts);
    parts.iter().any(|p| {
        p.toks
            .first()
            .is_some_and(|x| x.kw("INSERT") || x.kw("UPDATE") || x.kw("DELETE") || x.kw("MERGE"))
    })
}

/// The statements inside `t`, in order: a WITH's bodies and main statement (each
/// expanded again), a MERGE's actions, else `t` itself.
pub fn parts(t: &[Tok]) -> Vec<Part<'_>> {
    let mut out = Vec::new();
    expand(t, 0, &mut out);
    out
}

fn expand<'a>(t: &'a [Tok], offset: usize, out: &mut Vec<Part<'a>>) {
    let start = t.iter().take_while(|x| x.sym("(")).count();
    let qmarks = |at: usize| {
        offset
            + t[..at]
                .iter()
                .filter(|x| matches!(x, Tok::Param(q) if &**q == "?"))
                .count()
    };
    if let Some((_, bodies, main)) = with_clause(&t[start..]) {
        for b in bodies {
            let b = start + b.start..start + b.end;
            expand(&t[b.clone()], qmarks(b.start), out);
        }
        if start + main < t.len() {
            expand(&t[start + main..], qmarks(start + main), out);
        }
        return;
    }
    if t.get(start).is_some_and(|x| x.kw("MERGE")) {
        if let Some(actions) = merge_actions(&t[start..]) {
            out.extend(actions.into_iter().map(|a| Part {
                toks: Cow::Owned(a),
                qmarks_before: None,
            }));
            return;
        }
    }
    // MySQL's `INSERT … SET` and PostgreSQL's tuple assignments in the standard form
    // (placeholders keep their order).
    let toks = match super::forms::standard(&t[start..]) {
        Some(v) => Cow::Owned(v),
        None => Cow::Borrowed(&t[start..]),
    };
    out.push(Part {
        toks,
        qmarks_before: Some(qmarks(start)),
    });
}

/// Where each of `t`'s words `k` stands outside parentheses, from `from`.
fn top_level(t: &[Tok], from: usize, k: &str) -> Vec<usize> {
    let mut depth = 0i32;
    let mut out = Vec::new();
    for (i, x) in t.iter().enumerate() {
        if x.sym("(") {
            depth += 1;
        } else if x.sym(")") {
            depth -= 1;
        } else if depth == 0 && i >= from && x.kw(k) {
            out.push(i);
        }
    }
    out
}

fn word(w: &str) -> Tok {
    Tok::Word(w.into(), w.into(), false)
}

/// A MERGE's actions as plain statements: `WHEN MATCHED [AND c] THEN UPDATE SET a`
/// as `UPDATE target SET a WHERE on [AND c]`, `THEN DELETE` likewise, `WHEN NOT MATCHED
/// BY SOURCE` without the join condition (rows the source does not name), and `WHEN NOT
/// MATCHED THEN INSERT (cols) VALUES (…)` as that INSERT, or as `INSERT … SELECT` where
/// its values come from the source's rows (another query picks them).
fn merge_actions(t: &[Tok]) -> Option<Vec<Vec<Tok>>> {
    let into = usize::from(t.get(1)?.kw("INTO")) + 1;
    let using = *top_level(t, into, "USING").first()?;
    let on = *top_level(t, using, "ON").first()?;
    let whens = top_level(t, on, "WHEN");
    let target = &t[into..using];
    let cond = &t[on + 1..*whens.first()?];
    let mut out = Vec::new();
    for (k, &w) in whens.iter().enumerate() {
        let end = whens.get(k + 1).copied().unwrap_or(t.len());
        let clause = &t[w + 1..end];
        let then = clause.iter().position(|x| x.kw("THEN"))?;
        let head = &clause[..then];
        let not = head.first().is_some_and(|x| x.kw("NOT"));
        let by_source = head.windows(2).any(|p| p[0].kw("BY") && p[1].kw("SOURCE"));
        let extra = head
            .iter()
            .position(|x| x.kw("AND"))
            .map(|a| &head[a + 1..]);
        let action = &clause[then + 1..];
        let Some(verb) = action.first() else { continue };
        let mut filter = Vec::new();
        if !by_source {
            filter.extend_from_slice(cond);
        }
        if let Some(extra) = extra {
            if !filter.is_empty() {
                filter.push(word("AND"));
            }
            filter.extend_from_slice(extra);
        }
        let with_filter = |mut s: Vec<Tok>| {
            if !filter.is_empty() {
                s.push(word("WHERE"));
                s.extend_from_slice(&filter);
            }
            s
        };
        if verb.kw("UPDATE") && (!not || by_source) {
            let mut s = vec![word("UPDATE")];
            s.extend_from_slice(target);
            s.extend_from_slice(&action[1..]);
            // The source, as `UPDATE … FROM` names it: its rows may be the values the
            // assignment reads (`USING (VALUES (7, 500)) v(id, amt)`).
            if !by_source {
                s.push(word("FROM"));
                s.extend_from_slice(&t[using + 1..on]);
            }
            out.push(with_filter(s));
        } else if verb.kw("DELETE") && (!not || by_source) {
            let mut s = vec![word("DELETE"), word("FROM")];
            s.extend_from_slice(target);
            out.push(with_filter(s));
        } else if verb.kw("INSERT") && not && !by_source {
            let mut s = vec![word("INSERT"), word("INTO")];
            s.extend_from_slice(target);
            let values = action.iter().position(|x| x.kw("VALUES"));
            match values {
                Some(v) if literal_rows(&action[v + 1..]) => s.extend_from_slice(&action[1..]),
                Some(v) => {
                    s.extend_from_slice(&action[1..v]);
                    s.push(word("SELECT"));
                    let row = action.get(v + 1..).unwrap_or_default();
                    let inner = match row.first() {
                        Some(x) if x.sym("(") => close(row, 0).map_or(&row[1..], |c| &row[1..c]),
                        _ => row,
                    };
                    s.extend_from_slice(inner);
                }
                None => s.extend_from_slice(&action[1..]),
            }
            out.push(s);
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Whether every value of `(…), (…)` rows is one literal or bound parameter
/// (optionally signed).
fn literal_rows(t: &[Tok]) -> bool {
    let mut cell = 0usize;
    let mut depth = 0i32;
    for x in t {
        if x.sym("(") {
            depth += 1;
            cell = 0;
            if depth > 1 {
                return false;
            }
        } else if x.sym(")") {
            depth -= 1;
        } else if x.sym(",") {
            cell = 0;
        } else if depth == 1 {
            match x {
                Tok::Sym(s) if &**s == "-" && cell == 0 => {}
                Tok::Num(_) | Tok::Str(_) | Tok::Param(_) if cell == 0 => cell = 1,
                Tok::Word(_, u, false) if cell == 0 && matches!(&**u, "NULL" | "DEFAULT") => {
                    cell = 1
                }
                _ => return false,
            }
        }
    }
    true
}
