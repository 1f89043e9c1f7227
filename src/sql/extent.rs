//! How much of its table a read returns: the rows a key names, a page, the whole table
//! (no filter, a filter that lets every row through, `COPY … TO`, a bulk `LIMIT`), or a
//! summary of it; and whether a write copies a whole table into another.

use super::filters::{pins_rows, split_at_top, tautology, unwrap};
use super::tokens::{name_at, Analysis, Tok};

impl Analysis<'_> {
    /// Whether a read returns a whole table.
    pub fn whole_table_read(&self) -> bool {
        self.reach() == Extent::Whole
    }

    /// Whether a read returns a whole table, and the rows it returns of a listing it
    /// pages through (`LIMIT 100 OFFSET 4200`, `WHERE id > 4200 ORDER BY id LIMIT 100`):
    /// the size of its page, where it would return the table but for a LIMIT under the
    /// bulk size; 0 for any other statement. One judgement for both.
    pub fn read_extent(&self) -> (bool, u32) {
        match self.reach() {
            Extent::Whole => (true, 0),
            Extent::Page(n) => (false, n),
            Extent::Rows => (false, 0),
        }
    }

    /// What a read returns to whoever sent it: its [`Self::extent`], and, where it is an
    /// error-based payload, what its subqueries of account tables read (the error
    /// carries it). Judged once, for the whole statement: its subqueries are inside it.
    fn reach(&self) -> Extent {
        let own = self.extent();
        if own == Extent::Whole || !super::markers::error_payload(self.t) {
            return own;
        }
        let mut most = own;
        for i in 1..self.t.len() {
            if !(self.t[i - 1].sym("(") && self.t[i].kw("SELECT")) {
                continue;
            }
            let Some(end) = super::tokens::close(self.t, i - 1) else {
                continue;
            };
            let inner = self.sub(&self.t[i..end]);
            let account = (inner.table.as_deref()).is_some_and(|t| self.vocab.is_account_table(t));
            if account {
                most = wider(most, inner.extent());
            }
        }
        most
    }

    /// How much of its table a read returns; of a UNION (INTERSECT, EXCEPT), what its
    /// reads of account tables return, the most of them (`SELECT name FROM products
    /// WHERE id = 5 UNION SELECT email, phone FROM customers` returns the customers).
    fn extent(&self) -> Extent {
        if !self.t.iter().any(is_set_op) {
            return self.extent_one();
        }
        let parts = set_parts(self.t);
        if parts.len() == 1 {
            return self.extent_one();
        }
        let of: Vec<(Extent, bool)> = parts
            .into_iter()
            .map(|p| {
                let a = self.sub(p);
                let account = a
                    .table
                    .as_deref()
                    .is_some_and(|t| self.vocab.is_account_table(t));
                (a.extent_one(), account)
            })
            .collect();
        let accounts = of.iter().any(|(_, acc)| *acc);
        let counted = of
            .iter()
            .filter(|(_, acc)| *acc || !accounts)
            .map(|(e, _)| *e);
        counted.fold(Extent::Rows, wider)
    }

    /// Whether an UPDATE or DELETE of an account table returns the rows it changes
    /// (`RETURNING *`) of the whole table: no filter, or one that pins no rows.
    pub fn returns_whole_table(&self) -> bool {
        let t = self.t;
        if !t.first().is_some_and(|x| x.kw("UPDATE") || x.kw("DELETE"))
            || !self
                .table
                .as_deref()
                .is_some_and(|x| self.vocab.is_account_table(x))
        {
            return false;
        }
        let mut depth = 0i32;
        let (mut wh, mut ret) = (None, None);
        for (i, x) in t.iter().enumerate() {
            if x.sym("(") {
                depth += 1;
            } else if x.sym(")") {
                depth -= 1;
            } else if depth == 0 && x.kw("WHERE") && wh.is_none() {
                wh = Some(i);
            } else if depth == 0 && x.kw("RETURNING") {
                ret = Some(i);
            }
        }
        let Some(ret) = ret else { return false };
        if !self.keyed_rows(&self.value_rows()).is_empty() {
            return false;
        }
        match wh.filter(|&w| w < ret) {
            None => true,
            Some(w) => {
                let cond = &t[w + 1..ret];
                tautology(cond) || !pins_rows(cond)
            }
        }
    }

    /// How much of its table one read (no UNION) returns.
    fn extent_one(&self) -> Extent {
        let t = self.t;
        let Some(from) = t.iter().position(|x| x.kw("FROM")) else {
            // `COPY customers TO …`
            if t.first().is_some_and(|x| x.kw("COPY")) && matches!(t.get(1), Some(Tok::Word(..))) {
                return Extent::Whole;
            }
            // PostgreSQL's `TABLE customers` (`SELECT * FROM customers`), alone or as a
            // cursor's query.
            let table = (t.iter().position(|x| x.kw("TABLE")))
                .filter(|&i| i == 0 || t[i - 1].kw("FOR"))
                .filter(|&i| matches!(t.get(i + 1), Some(Tok::Word(..))));
            return match table {
                Some(i) => self.page_or_whole(
                    (i..t.len())
                        .find(|&k| t[k].kw("LIMIT") || t[k].kw("FETCH"))
                        .and_then(|k| row_limit(&t[k..])),
                ),
                None => Extent::Rows,
            };
        };
        // Parenthesis depth before each token, counted once: counting from the start
        // for every token made a statement of many thousand tokens (a query string
        // pasted a thousand times) take minutes.
        let depth: Vec<i32> = std::iter::once(0)
            .chain(t.iter().scan(0i32, |d, x| {
                if x.sym("(") {
                    *d += 1;
                } else if x.sym(")") {
                    *d -= 1;
                }
                Some(*d)
            }))
            .collect();
        let depth_at = |end: usize| depth[end];
        let base = depth_at(from);
        // `SELECT count(*) FROM customers` returns a number, not the table's rows.
        let select = (0..from)
            .rev()
            .find(|&i| t[i].kw("SELECT") && depth_at(i) == base);
        if select.is_some_and(|s| summary_only(&t[s + 1..from])) {
            return Extent::Rows;
        }
        // `SELECT * FROM (SELECT * FROM customers WHERE id = 5) t`: the outer query
        // returns no more than the inner one.
        if t.get(from + 1).is_some_and(|x| x.sym("("))
            && t.get(from + 2)
                .is_some_and(|x| x.kw("SELECT") || x.kw("WITH"))
        {
            if let Some(end) = super::tokens::close(t, from + 1) {
                let inner = self.sub(&t[from + 2..end]);
                if inner.extent() == Extent::Rows {
                    return Extent::Rows;
                }
            }
        }
        // `SELECT * FROM get_customer($1)`: a function returns the rows it returns, its
        // arguments are its filter; no table is read whole here.
        if self.reads_a_function(from) {
            return Extent::Rows;
        }
        let where_at = (from..t.len()).find(|&i| t[i].kw("WHERE") && depth_at(i) == base);
        let limit = (from..t.len())
            .find(|&i| (t[i].kw("LIMIT") || t[i].kw("FETCH")) && depth_at(i) == base)
            .and_then(|i| row_limit(&t[i..]));
        // Rows named through a list of values (a join on `unnest($1)` or `(VALUES …)`,
        // `FIND_IN_SET`) are those rows, whatever else the filter says.
        let paged = || match self.keyed_by_list(from) {
            true => Extent::Rows,
            false => self.page_or_whole(limit),
        };
        let Some(w) = where_at else {
            return paged();
        };
        let end = (w + 1..t.len())
            .find(|&i| {
                depth_at(i) == base
                    && (t[i].kw("GROUP")
                        || t[i].kw("ORDER")
                        || t[i].kw("LIMIT")
                        || t[i].kw("FETCH")
                        || t[i].kw("OFFSET")
                        || t[i].sym(")")
                        || t[i].sym(";"))
            })
            .unwrap_or(t.len());
        let cond = &t[w + 1..end];
        // A filter that pins no column to a value (a range, a pattern, `IS NULL`, a
        // join condition) returns rows by the table-full, not the few a key names.
        if tautology(cond) || !pins_rows(cond) {
            // A range of keys under the bulk size is a page of the table.
            return match (paged(), self.range_rows()) {
                (Extent::Whole, Some(0)) | (Extent::Rows, _) => Extent::Rows,
                (Extent::Whole, Some(n)) => Extent::Page(n as u32),
                (Extent::Page(l), Some(n)) => Extent::Page(l.min(n as u32)),
                (e, None) => e,
            };
        }
        match limit {
            Some(l) if l >= self.vocab.bulk_limit && !self.has_key_predicate(cond) => Extent::Whole,
            _ => Extent::Rows,
        }
    }

    /// The extent of a read of a whole table but for its row limit: a page under the
    /// bulk size.
    fn page_or_whole(&self, limit: Option<u64>) -> Extent {
        match limit {
            Some(l) if l < self.vocab.bulk_limit => Extent::Page(l as u32),
            _ => Extent::Whole,
        }
    }

    /// Whether a write copies a whole table into another one (`CREATE TABLE dump AS
    /// SELECT * FROM customers`, `INSERT INTO stage SELECT … FROM customers`): the rows
    /// staged where whoever wrote them reads them at leisure. A copy into an account
    /// table is an import, not this.
    pub fn copies_whole_table(&self) -> bool {
        let t = self.t;
        if !t
            .first()
            .is_some_and(|x| x.kw("INSERT") || x.kw("REPLACE") || x.kw("CREATE"))
        {
            return false;
        }
        let Some(sel) = t.iter().position(|x| x.kw("SELECT")) else {
            return false;
        };
        let Some(intro) = t[..sel].iter().position(|x| x.kw("INTO") || x.kw("TABLE")) else {
            return false;
        };
        // The destination: the name after `INTO` / `TABLE` (past `IF NOT EXISTS`).
        let at = (intro + 1..t.len())
            .find(|&j| !(t[j].kw("IF") || t[j].kw("NOT") || t[j].kw("EXISTS")))
            .unwrap_or(t.len());
        let dest = name_at(t, at);
        if dest.is_none_or(|d| self.vocab.is_account_table(&d)) {
            return false;
        }
        Analysis {
            t: &t[sel..],
            table: self.table.clone(),
            contact: Default::default(),
            ..*self
        }
        .whole_table_read()
    }

    /// Whether the FROM item at `from + 1` is a function call and the only item.
    fn reads_a_function(&self, from: usize) -> bool {
        let t = self.t;
        let mut j = from + 1;
        while matches!(t.get(j), Some(Tok::Word(..))) && t.get(j + 1).is_some_and(|x| x.sym(".")) {
            j += 2;
        }
        let called = matches!(t.get(j), Some(Tok::Word(_, u, q)) if *q || !is_keyword(u))
            && t.get(j + 1).is_some_and(|x| x.sym("("));
        let Some(end) = called.then(|| super::tokens::close(t, j + 1)).flatten() else {
            return false;
        };
        // Past its alias, nothing joins another item to it.
        let mut k = end + 1;
        if t.get(k).is_some_and(|x| x.kw("AS")) {
            k += 1;
        }
        if matches!(t.get(k), Some(Tok::Word(_, u, q)) if *q || !is_keyword(u)) {
            k += 1;
        }
        !t.get(k).is_some_and(|x| {
            x.sym(",")
                || ["JOIN", "INNER", "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL"]
                    .iter()
                    .any(|w| x.kw(w))
        })
    }

    pub(super) fn has_key_predicate(&self, cond: &[Tok]) -> bool {
        cond.windows(2).any(|w| {
            w[0].word().is_some_and(|c| self.is_key_col(c)) && (w[1].sym("=") || w[1].kw("IN"))
        })
    }
}

/// How much of its table a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Extent {
    /// The rows a filter names.
    Rows,
    /// The table, or a bulk of it.
    Whole,
    /// A page of the table of this many rows.
    Page(u32),
}

/// Aggregates that return a summary of the rows, not their values (`json_agg`,
/// `string_agg`, `group_concat` return them all in one cell).
const SUMMARIES: &[&str] = &[
    "COUNT", "MAX", "MIN", "SUM", "AVG", "STDDEV", "VARIANCE", "BOOL_AND", "BOOL_OR", "EVERY",
    "BIT_AND", "BIT_OR",
];

/// Whether a select list returns only summaries: each item a summary aggregate
/// (`count(*)`, `max(id) AS last`) or a literal (`SELECT 1 … LIMIT 1`).
fn summary_only(list: &[Tok]) -> bool {
    let list = match list.first() {
        Some(x) if x.kw("DISTINCT") || x.kw("ALL") => &list[1..],
        _ => list,
    };
    !list.is_empty()
        && split_top(list).all(|item| {
            // The item without its alias (`AS n`, or a bare name after the call).
            let end = match item.iter().rposition(|x| x.sym(")")) {
                Some(c) => c + 1,
                None => 1,
            };
            let (expr, alias) = item.split_at(end.min(item.len()));
            let alias_ok = match alias {
                [] => true,
                [Tok::Word(..)] => true,
                [a, Tok::Word(..)] => a.kw("AS"),
                _ => false,
            };
            let summary = match expr {
                [Tok::Num(_) | Tok::Str(_)] => true,
                [Tok::Word(_, u, false), open, .., close] => {
                    SUMMARIES.contains(&&**u) && open.sym("(") && close.sym(")")
                }
                _ => false,
            };
            alias_ok && summary
        })
}

/// The more of a table of two extents.
fn wider(m: Extent, e: Extent) -> Extent {
    match (m, e) {
        (Extent::Whole, _) | (_, Extent::Whole) => Extent::Whole,
        (Extent::Page(a), Extent::Page(b)) => Extent::Page(a.max(b)),
        (Extent::Page(a), _) | (_, Extent::Page(a)) => Extent::Page(a),
        _ => Extent::Rows,
    }
}

/// The items of a list, split at commas outside parentheses.
fn split_top(list: &[Tok]) -> impl Iterator<Item = &[Tok]> {
    let mut depth = 0i32;
    list.split(move |x| {
        if x.sym("(") {
            depth += 1;
        } else if x.sym(")") {
            depth -= 1;
        }
        depth == 0 && x.sym(",")
    })
}

/// The rows a `LIMIT n`, MySQL's `LIMIT offset, n`, `LIMIT n OFFSET k` or `FETCH
/// FIRST|NEXT n ROWS ONLY` at the start of `t` lets through.
fn row_limit(t: &[Tok]) -> Option<u64> {
    let num = |x: Option<&Tok>| match x {
        Some(Tok::Num(n)) => n.parse::<u64>().ok(),
        _ => None,
    };
    if t.first()?.kw("FETCH") {
        return num(t.get(2));
    }
    if t.get(2).is_some_and(|x| x.sym(",")) {
        return num(t.get(3));
    }
    num(t.get(1))
}

/// Words that may follow a FROM item and are no name: a clause or a join.
fn is_keyword(u: &str) -> bool {
    matches!(
        u,
        "SELECT"
            | "WHERE"
            | "GROUP"
            | "ORDER"
            | "LIMIT"
            | "OFFSET"
            | "FETCH"
            | "UNION"
            | "JOIN"
            | "INNER"
            | "LEFT"
            | "RIGHT"
            | "FULL"
            | "CROSS"
            | "NATURAL"
            | "ON"
            | "LATERAL"
            | "ONLY"
            | "HAVING"
            | "WINDOW"
            | "FOR"
            | "INTO"
            | "VALUES"
    )
}

/// The reads a set operation joins (`… UNION [ALL] …`, INTERSECT, EXCEPT), split
/// outside parentheses; one part for any other statement. A part in parentheses is
/// read inside them.
fn set_parts(t: &[Tok]) -> Vec<&[Tok]> {
    let mut out = split_at_top(t, is_set_op);
    if out.len() > 1 {
        for p in out.iter_mut().skip(1) {
            if p.first().is_some_and(|n| n.kw("ALL") || n.kw("DISTINCT")) {
                *p = &p[1..];
            }
        }
        for p in out.iter_mut() {
            *p = unwrap(p);
        }
    }
    out
}

/// Whether a token joins reads into a set operation.
fn is_set_op(x: &Tok) -> bool {
    x.kw("UNION") || x.kw("INTERSECT") || x.kw("EXCEPT")
}
