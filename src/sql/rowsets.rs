//! Rows a statement carries in itself rather than reading from a table: `unnest(…)` of
//! arrays (bound or literal) and `(VALUES …)` lists, as drivers and hand-written batches
//! send a list of accounts (`JOIN unnest($1::bigint[]) AS u(id) ON c.id = u.id`,
//! `UPDATE … FROM (VALUES (7, 500)) v(id, amt) WHERE b.account_id = v.id`); and the key
//! columns a join or filter ties to their columns, which is how such a statement names
//! its accounts.

use super::filters::split_at_top;
use super::tokens::{array_text, close, Analysis, Tok};
use std::ops::Range;

/// A row source made of values.
#[derive(Debug)]
pub(super) struct ValueRows {
    /// Its alias, lower case.
    pub alias: Option<String>,
    /// Its columns' names, lower case.
    pub names: Vec<String>,
    /// Each column's values; `None` where the text does not give them (a parameter not
    /// logged, an expression).
    pub cols: Vec<Option<Vec<String>>>,
    /// Whether each column is bound to parameters (its values named, if not logged).
    pub bound: Vec<bool>,
    /// Its tokens, alias included.
    pub span: Range<usize>,
}

impl ValueRows {
    /// The value of column `c` in row `r`.
    pub fn cell(&self, c: usize, r: usize) -> Option<&str> {
        self.cols.get(c)?.as_ref()?.get(r).map(String::as_str)
    }
    /// How many rows it has (the longest column: `unnest` pads the shorter arrays).
    pub fn rows(&self) -> usize {
        self.cols.iter().flatten().map(Vec::len).max().unwrap_or(0)
    }
    /// Whether column `c`'s values are bound but not logged: named, not shown.
    pub fn unshown(&self, c: usize) -> bool {
        self.cols.get(c).is_some_and(Option::is_none) && self.bound.get(c).copied().unwrap_or(false)
    }
    /// The index of a column by name.
    pub fn col(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }
}

/// Splits `t` at its top-level commas.
fn items(t: &[Tok]) -> Vec<&[Tok]> {
    split_at_top(t, |x| x.sym(","))
}

/// Words that join another FROM item.
const JOINS: &[&str] = &["JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL"];

/// Words that end a FROM item where an alias could stand.
const NOT_ALIAS: &[&str] = &[
    "ON",
    "USING",
    "WHERE",
    "JOIN",
    "INNER",
    "LEFT",
    "RIGHT",
    "FULL",
    "CROSS",
    "NATURAL",
    "GROUP",
    "ORDER",
    "LIMIT",
    "UNION",
    "WITH",
    "SET",
    "WHEN",
    "RETURNING",
    "HAVING",
];

impl Analysis<'_> {
    /// The value row sources of the statement, in order.
    pub(super) fn value_rows(&self) -> Vec<ValueRows> {
        let t = self.t;
        let mut out = Vec::new();
        let mut i = 0;
        while i < t.len() {
            let found = if t[i].kw("UNNEST") && t.get(i + 1).is_some_and(|x| x.sym("(")) {
                self.unnest_at(i)
            } else if t[i].sym("(") && t.get(i + 1).is_some_and(|x| x.kw("VALUES")) {
                self.values_at(i)
            } else {
                None
            };
            match found {
                Some(v) => {
                    i = v.span.end;
                    out.push(v);
                }
                None => i += 1,
            }
        }
        out
    }

    /// `unnest(a, b, …)` at `i`, with its alias.
    fn unnest_at(&self, i: usize) -> Option<ValueRows> {
        let t = self.t;
        let end = close(t, i + 1)?;
        let args = items(&t[i + 2..end]);
        let cols: Vec<Option<Vec<String>>> = args.iter().map(|a| self.array_values(a)).collect();
        let bound = args.iter().map(|a| has_param(a)).collect();
        let mut at = end + 1;
        if t.get(at).is_some_and(|x| x.kw("WITH"))
            && t.get(at + 1).is_some_and(|x| x.kw("ORDINALITY"))
        {
            at += 2;
        }
        let (alias, names, at) = alias_at(t, at);
        let names = match (names, &alias) {
            (Some(n), _) => n,
            (None, Some(a)) if cols.len() == 1 => vec![a.clone()],
            _ => vec!["unnest".to_string(); cols.len()],
        };
        Some(ValueRows {
            alias,
            names,
            cols,
            bound,
            span: i..at,
        })
    }

    /// `(VALUES (…), (…))` at `i`, with its alias.
    fn values_at(&self, i: usize) -> Option<ValueRows> {
        let t = self.t;
        let end = close(t, i)?;
        let mut rows: Vec<Vec<Option<String>>> = Vec::new();
        let mut bound: Vec<bool> = Vec::new();
        for row in items(&t[i + 2..end]) {
            let row = match row.first() {
                Some(x) if x.kw("ROW") => &row[1..],
                _ => row,
            };
            let inner = match (row.first(), row.last()) {
                (Some(a), Some(b)) if a.sym("(") && b.sym(")") && row.len() >= 2 => {
                    &row[1..row.len() - 1]
                }
                _ => return None,
            };
            let cells = items(inner);
            bound.resize(bound.len().max(cells.len()), false);
            for (k, c) in cells.iter().enumerate() {
                bound[k] |= has_param(c);
            }
            rows.push(cells.into_iter().map(|c| self.plain_value(c)).collect());
        }
        let width = rows.iter().map(Vec::len).max().unwrap_or(0);
        let cols = (0..width)
            .map(|k| rows.iter().map(|r| r.get(k).cloned().flatten()).collect())
            .collect();
        let (alias, names, at) = alias_at(t, end + 1);
        let names = names.unwrap_or_else(|| (1..=width).map(|k| format!("column{k}")).collect());
        Some(ValueRows {
            alias,
            names,
            cols,
            bound,
            span: i..at,
        })
    }

    /// One literal or bound value making up all of `cell` (cast allowed).
    fn plain_value(&self, cell: &[Tok]) -> Option<String> {
        let at = self.offset_of(cell)?;
        let (v, used) = self.value(at)?;
        (used == cell.len() || cell.get(used).is_some_and(|x| x.sym("::"))).then_some(v)
    }

    /// Where a sub-slice of the statement's tokens starts.
    /// (The sub-slices `items` and the callers cut are all of `self.t`; any other slice
    /// has no offset.)
    fn offset_of(&self, part: &[Tok]) -> Option<usize> {
        let whole = self.t.as_ptr_range();
        let (start, end) = (part.as_ptr_range().start, part.as_ptr_range().end);
        let inside = whole.start <= start && end <= whole.end;
        inside.then(|| (start as usize - whole.start as usize) / std::mem::size_of::<Tok>())
    }

    /// The elements of an array argument: a bound or literal array in its text form, an
    /// `ARRAY[…]` of values, a `CAST(… AS …[])`, or `string_to_array(v, 'sep')`; any
    /// cast after it (`::bigint[]`) is ignored.
    pub(super) fn array_values(&self, a: &[Tok]) -> Option<Vec<String>> {
        let at = self.offset_of(a)?;
        match a.first()? {
            Tok::Param(p) => self.param(p, at).map(|v| array_text(&v)),
            Tok::Str(s) => Some(array_text(s)),
            x if x.kw("ARRAY") && a.get(1).is_some_and(|x| x.sym("[")) => {
                let end = a.iter().position(|x| x.sym("]"))?;
                items(&a[2..end])
                    .into_iter()
                    .filter(|c| !c.is_empty())
                    .map(|c| self.plain_value(c))
                    .collect()
            }
            x if x.kw("CAST") && a.get(1).is_some_and(|x| x.sym("(")) => {
                let end = close(a, 1)?;
                let as_at = (2..end).find(|&k| a[k].kw("AS"))?;
                self.array_values(&a[2..as_at])
            }
            x if x
                .word()
                .is_some_and(|w| w.eq_ignore_ascii_case("string_to_array"))
                && a.get(1).is_some_and(|x| x.sym("(")) =>
            {
                let end = close(a, 1)?;
                let args = items(&a[2..end]);
                let v = self.plain_value(args.first()?)?;
                let sep = match args.get(1)?.first()? {
                    Tok::Str(s) if !s.is_empty() => s.to_string(),
                    _ => return None,
                };
                Some(split_list(&v, &sep))
            }
            _ => None,
        }
    }

    /// Value sources whose column a key column is tied to by `=` (in an ON, a WHERE or
    /// a MERGE's condition) or by `USING (key)`: (source, column).
    pub(super) fn keyed_rows<'s>(&self, sources: &'s [ValueRows]) -> Vec<(&'s ValueRows, usize)> {
        self.tied_rows(sources, true)
    }

    /// As `keyed_rows`, with `keys` false for a tie to any column of a table.
    fn tied_rows<'s>(&self, sources: &'s [ValueRows], keys: bool) -> Vec<(&'s ValueRows, usize)> {
        if sources.is_empty() {
            return Vec::new();
        }
        let t = self.t;
        let mut out: Vec<(&ValueRows, usize)> = Vec::new();
        let mut push = |s: &'s ValueRows, c: usize| {
            if !out.iter().any(|(x, k)| std::ptr::eq(*x, s) && *k == c) {
                out.push((s, c));
            }
        };
        for (k, x) in t.iter().enumerate() {
            if !x.sym("=") {
                continue;
            }
            let (Some(l), Some(r)) = (col_before(t, k), col_after(t, k + 1)) else {
                continue;
            };
            for (a, b) in [(&l, &r), (&r, &l)] {
                let Some((s, c)) = source_col(sources, a) else {
                    continue;
                };
                if source_col(sources, b).is_none() && (!keys || self.key_ref(b.0.as_deref(), &b.1))
                {
                    push(s, c);
                }
            }
        }
        for s in sources {
            let u = s.span.end;
            if t.get(u).is_some_and(|x| x.kw("USING")) && t.get(u + 1).is_some_and(|x| x.sym("(")) {
                let Some(end) = close(t, u + 1) else { continue };
                for c in t[u + 2..end].iter().filter_map(Tok::ident) {
                    if let (Some(k), true) = (s.col(&c), !keys || self.is_key_col(&c)) {
                        push(s, k);
                    }
                }
            }
        }
        out
    }

    /// Whether a column reference (qualifier, column) holds an account id: an account
    /// column, or `id` of an account or bonus table (by its qualifier, an alias or the
    /// table's name, where the statement says which table that is).
    fn key_ref(&self, q: Option<&str>, col: &str) -> bool {
        let Some(table) = q.and_then(|q| self.table_of(q)) else {
            return self.is_key_col(col);
        };
        self.vocab.is_account_column(col)
            || (col == "id"
                && (self.vocab.is_account_table(&table) || self.vocab.is_bonus_table(&table)))
    }

    /// The table a qualifier stands for: `FROM customers c`, `JOIN orders AS o`, or a
    /// table's own name.
    fn table_of(&self, q: &str) -> Option<String> {
        let t = self.t;
        (0..t.len()).find_map(|i| {
            let name = t[i].ident()?;
            let prev_intro = i > 0
                && ["FROM", "JOIN", "UPDATE", "INTO", "MERGE"]
                    .iter()
                    .any(|k| t[i - 1].kw(k));
            let alias_at = if t.get(i + 1).is_some_and(|x| x.kw("AS")) {
                i + 2
            } else {
                i + 1
            };
            let alias = t.get(alias_at).and_then(Tok::ident);
            (prev_intro && (name == q || alias.as_deref() == Some(q))).then_some(name)
        })
    }

    /// Account ids a statement names through value rows tied to a key column, and
    /// MySQL's `FIND_IN_SET(key, '1,2,3')`.
    pub(super) fn listed_ids(&self) -> Vec<String> {
        let sources = self.value_rows();
        let mut out: Vec<String> = Vec::new();
        for (s, c) in self.keyed_rows(&sources) {
            out.extend(s.cols[c].iter().flatten().cloned());
        }
        out.extend(self.find_in_set().into_iter().flatten().flatten());
        out
    }

    /// Whether a read names its rows through a list of values (a join on value rows,
    /// `FIND_IN_SET` of a key) rather than returning the table; or reads value rows
    /// alone (`SELECT * FROM unnest($1)`), no table at all.
    pub(super) fn keyed_by_list(&self, from: usize) -> bool {
        let t = self.t;
        let sources = self.value_rows();
        let alone = sources.iter().any(|s| {
            s.span.start == from + 1
                && t.get(s.span.end)
                    .is_none_or(|x| !(x.sym(",") || JOINS.iter().any(|k| x.kw(k))))
        });
        alone || !self.tied_rows(&sources, false).is_empty() || !self.find_in_set().is_empty()
    }

    /// The values of each `FIND_IN_SET(key, list)` (the list literal or bound; `None`
    /// where it is not logged).
    fn find_in_set(&self) -> Vec<Option<Vec<String>>> {
        let t = self.t;
        let mut out = Vec::new();
        for i in 0..t.len() {
            if !(t[i].kw("FIND_IN_SET") && t.get(i + 1).is_some_and(|x| x.sym("("))) {
                continue;
            }
            let Some(end) = close(t, i + 1) else { continue };
            let args = items(&t[i + 2..end]);
            let (Some(first), Some(list)) = (args.first(), args.get(1)) else {
                continue;
            };
            let col = match first {
                [Tok::Word(..)] => first[0].ident().map(|c| (None, c)),
                [q, d, c] if d.sym(".") => c.ident().map(|c| (q.ident(), c)),
                _ => None,
            };
            if col.is_some_and(|(q, c)| self.key_ref(q.as_deref(), &c)) {
                out.push(self.plain_value(list).map(|v| split_list(&v, ",")));
            }
        }
        out
    }

    /// The values of `key IN (SELECT … unnest(…) …)`, from the `(` at `open`: the one
    /// column of the value rows inside, or the one its select list names.
    pub(super) fn subquery_list(&self, open: usize) -> Vec<String> {
        let t = self.t;
        let Some(end) = close(t, open) else {
            return Vec::new();
        };
        let sources: Vec<ValueRows> = (self.value_rows().into_iter())
            .filter(|s| s.span.start > open && s.span.start < end)
            .collect();
        let [s] = sources.as_slice() else {
            return Vec::new();
        };
        let picked = match t.get(open + 2) {
            _ if s.cols.len() == 1 => Some(0),
            Some(x) => x.ident().and_then(|c| s.col(&c)),
            None => None,
        };
        picked.and_then(|c| s.cols[c].clone()).unwrap_or_default()
    }
}

/// An alias after a FROM item at `at`: `[AS] name [(col, …)]`; returns (alias, column
/// names, index past them).
fn alias_at(t: &[Tok], mut at: usize) -> (Option<String>, Option<Vec<String>>, usize) {
    if t.get(at).is_some_and(|x| x.kw("AS")) {
        at += 1;
    }
    let alias = match t.get(at) {
        Some(Tok::Word(w, u, q)) if *q || !NOT_ALIAS.contains(&&**u) => {
            Some(w.to_ascii_lowercase())
        }
        _ => return (None, None, at),
    };
    at += 1;
    let mut names = None;
    if t.get(at).is_some_and(|x| x.sym("(")) {
        if let Some(end) = close(t, at) {
            let n: Vec<String> = t[at + 1..end].iter().filter_map(Tok::ident).collect();
            names = Some(n);
            at = end + 1;
        }
    }
    (alias, names, at)
}

/// A column reference ending just before `k`: `q.col` or `col`.
fn col_before(t: &[Tok], k: usize) -> Option<(Option<String>, String)> {
    let col = t.get(k.checked_sub(1)?)?.ident()?;
    let q = (k >= 3 && t[k - 2].sym("."))
        .then(|| t[k - 3].ident())
        .flatten();
    Some((q, col))
}

/// A column reference starting at `k`: `q.col` or `col`.
fn col_after(t: &[Tok], k: usize) -> Option<(Option<String>, String)> {
    let first = t.get(k)?.ident()?;
    if t.get(k + 1).is_some_and(|x| x.sym(".")) {
        return Some((Some(first), t.get(k + 2)?.ident()?));
    }
    // A function call is no column.
    if t.get(k + 1).is_some_and(|x| x.sym("(")) {
        return None;
    }
    Some((None, first))
}

/// The source and column a reference names: by alias, or by a name only one source has.
fn source_col<'s>(
    sources: &'s [ValueRows],
    r: &(Option<String>, String),
) -> Option<(&'s ValueRows, usize)> {
    match &r.0 {
        Some(q) => {
            let s = sources
                .iter()
                .find(|s| s.alias.as_deref() == Some(q.as_str()))?;
            Some((s, s.col(&r.1)?))
        }
        None => {
            let mut hits = sources.iter().filter_map(|s| Some((s, s.col(&r.1)?)));
            let hit = hits.next()?;
            hits.next().is_none().then_some(hit)
        }
    }
}

/// Whether tokens hold a bound parameter.
fn has_param(t: &[Tok]) -> bool {
    t.iter().any(|x| matches!(x, Tok::Param(_)))
}

/// The items of a delimited list (`'100119,100120'`), trimmed, empty ones left out.
fn split_list(v: &str, sep: &str) -> Vec<String> {
    v.split(sep)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}
