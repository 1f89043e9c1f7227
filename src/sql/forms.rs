//! Writes in a dialect's other forms, rewritten into the standard form the analysis
//! reads: MySQL's `INSERT INTO t SET c = v, …` as `INSERT INTO t (c, …) VALUES (v, …)`,
//! and PostgreSQL's `UPDATE t SET (a, b) = (x, y)` as `SET a = x, b = y`.

use super::tokens::Tok;

fn sym(s: &str) -> Tok {
    Tok::Sym(s.into())
}

/// The standard form of `t`, or None where it is in that form already.
pub fn standard(t: &[Tok]) -> Option<Vec<Tok>> {
    match t.first()? {
        x if x.kw("INSERT") || x.kw("REPLACE") => insert_set(t),
        x if x.kw("UPDATE") => update_tuples(t),
        _ => None,
    }
}

/// The top-level items of a comma-separated list from `from`, up to the first
/// top-level token that `stop` accepts or an unmatched `)`: (start, end) of each.
fn items(t: &[Tok], from: usize, stop: impl Fn(&Tok) -> bool) -> (Vec<(usize, usize)>, usize) {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, from);
    let mut i = from;
    while i < t.len() {
        let x = &t[i];
        if x.sym("(") {
            depth += 1;
        } else if x.sym(")") {
            if depth == 0 {
                break;
            }
            depth -= 1;
        } else if depth == 0 && x.sym(",") {
            out.push((start, i));
            start = i + 1;
        } else if depth == 0 && stop(x) {
            break;
        }
        i += 1;
    }
    out.push((start, i));
    (out, i)
}

/// Where the top-level SET of a statement stands.
fn set_at(t: &[Tok]) -> Option<usize> {
    let mut depth = 0i32;
    for (i, x) in t.iter().enumerate() {
        if x.sym("(") {
            depth += 1;
        } else if x.sym(")") {
            depth -= 1;
        } else if depth == 0 && x.kw("SET") {
            return Some(i);
        } else if depth == 0 && (x.kw("VALUES") || x.kw("SELECT") || x.kw("WHERE")) {
            return None;
        }
    }
    None
}

/// `INSERT INTO t SET c = v, …` (MySQL) as `INSERT INTO t (c, …) VALUES (v, …)`, what
/// follows (`ON DUPLICATE KEY UPDATE …`) kept.
fn insert_set(t: &[Tok]) -> Option<Vec<Tok>> {
    let set = set_at(t)?;
    let (list, end) = items(t, set + 1, |x| x.kw("ON") || x.sym(";"));
    let mut cols = Vec::new();
    let mut values = Vec::new();
    for (a, b) in list {
        // `c = v`, the column maybe qualified (`t.c`).
        let eq = (a..b).find(|&i| t[i].sym("="))?;
        let col = t[..eq].last().filter(|x| matches!(x, Tok::Word(..)))?;
        if eq + 1 >= b {
            return None;
        }
        cols.push(col.clone());
        values.push(&t[eq + 1..b]);
    }
    let mut out = t[..set].to_vec();
    out.push(sym("("));
    for (k, c) in cols.into_iter().enumerate() {
        if k > 0 {
            out.push(sym(","));
        }
        out.push(c);
    }
    out.push(sym(")"));
    out.push(Tok::Word("VALUES".into(), "VALUES".into(), false));
    out.push(sym("("));
    for (k, v) in values.into_iter().enumerate() {
        if k > 0 {
            out.push(sym(","));
        }
        out.extend_from_slice(v);
    }
    out.push(sym(")"));
    out.extend_from_slice(&t[end..]);
    Some(out)
}

/// `UPDATE t SET (a, b) = (x, y), c = z` as `SET a = x, b = y, c = z`; a tuple given by
/// a subquery (`(a, b) = (SELECT …)`) gives each column that subquery.
fn update_tuples(t: &[Tok]) -> Option<Vec<Tok>> {
    let set = set_at(t)?;
    let (list, end) = items(t, set + 1, |x| {
        x.kw("WHERE") || x.kw("FROM") || x.kw("RETURNING") || x.sym(";")
    });
    if !list
        .iter()
        .any(|&(a, _)| t.get(a).is_some_and(|x| x.sym("(")))
    {
        return None;
    }
    // The SET list's items in the standard form, each a run of tokens.
    let mut assigned: Vec<Vec<Tok>> = Vec::new();
    for (a, b) in list {
        if !t.get(a).is_some_and(|x| x.sym("(")) {
            assigned.push(t[a..b].to_vec());
            continue;
        }
        let (cols, close) = items(t, a + 1, |_| false);
        if !t.get(close + 1)?.sym("=") {
            return None;
        }
        let rhs = close + 2;
        // `ROW(x, y)` is the same tuple.
        let open = rhs + usize::from(t.get(rhs)?.kw("ROW"));
        let tuple = t.get(open)?.sym("(") && !t.get(open + 1)?.kw("SELECT");
        let values = if tuple {
            let (values, shut) = items(t, open + 1, |_| false);
            (shut + 1 == b && values.len() == cols.len()).then_some(values)
        } else {
            None
        };
        for (k, &(c0, c1)) in cols.iter().enumerate() {
            let value = match &values {
                Some(v) => &t[v[k].0..v[k].1],
                None => &t[rhs..b],
            };
            let mut item = t[c0..c1].to_vec();
            item.push(sym("="));
            item.extend_from_slice(value);
            assigned.push(item);
        }
    }
    let mut out = t[..=set].to_vec();
    for (k, item) in assigned.into_iter().enumerate() {
        if k > 0 {
            out.push(sym(","));
        }
        out.extend(item);
    }
    out.extend_from_slice(&t[end..]);
    Some(out)
}
