//! The account keys a read's filter bounds — `WHERE id BETWEEN 1000 AND 1999`,
//! `account_id >= $1 AND account_id < $2`, `id > 4200 ORDER BY id LIMIT 100`, `ORDER BY
//! id LIMIT 50 OFFSET 200` — and the slice of them its ORDER BY, LIMIT and OFFSET take:
//! what a script that dumps a table range by range got, which the accounts that existed
//! then name where the read's extent alone says "the whole table" or "a page of it".

use super::tokens::{Analysis, Tok};
use crate::model::{KeyOrder, KeyRange};

impl Analysis<'_> {
    /// The account keys a read of one table bounds, and its slice of them; None where it
    /// bounds none, names rows by value (`id = 5`, `id IN (…)`), joins tables, or its
    /// filter is no plain conjunction (an OR, a NOT: the injected tautology among them).
    pub fn key_range(&self) -> Option<KeyRange> {
        let t = self.t;
        if t.iter()
            .any(|x| x.kw("UNION") || x.kw("INTERSECT") || x.kw("EXCEPT"))
        {
            return None;
        }
        let from = t.iter().position(|x| x.kw("FROM"))?;
        let depth = depths(t);
        let base = depth[from];
        let select = (0..from).rev().find(|&i| t[i].kw("SELECT"))?;
        if depth[select] != base {
            return None;
        }
        // One table, maybe qualified and aliased.
        let mut j = from + 1;
        while matches!(t.get(j), Some(Tok::Word(..))) && t.get(j + 1).is_some_and(|x| x.sym(".")) {
            j += 2;
        }
        if !matches!(t.get(j), Some(Tok::Word(..))) {
            return None;
        }
        j += 1;
        if t.get(j).is_some_and(|x| x.kw("AS")) {
            j += 1;
        }
        if matches!(t.get(j), Some(Tok::Word(_, u, q)) if *q || !CLAUSES.contains(&&**u)) {
            j += 1;
        }
        self.filtered(j, base, &depth)
    }

    /// The account keys a balance UPDATE's or a DELETE's filter bounds (`UPDATE
    /// bonus_accounts SET balance = balance + 500 WHERE account_id BETWEEN 100001 AND
    /// 100050`, `DELETE FROM bonus_accounts WHERE account_id >= 100900`, MySQL's `…
    /// ORDER BY account_id LIMIT 50` too); None where it joins other tables (`UPDATE …
    /// FROM`, `DELETE … USING`, a list of tables) or its filter bounds no key.
    pub fn write_range(&self) -> Option<KeyRange> {
        let t = self.t;
        let depth = depths(t);
        let top = |k: &str| (0..t.len()).find(|&i| depth[i] == 0 && t[i].kw(k));
        let wh = top("WHERE")?;
        let head = match t.first() {
            Some(x) if x.kw("UPDATE") => {
                let set = top("SET")?;
                if top("FROM").is_some_and(|f| f > set && f < wh) {
                    return None;
                }
                set
            }
            Some(x) if x.kw("DELETE") => {
                if top("USING").is_some() {
                    return None;
                }
                wh
            }
            _ => return None,
        };
        if t[..head].iter().any(|x| x.sym(",") || x.kw("JOIN")) {
            return None;
        }
        let r = self.filtered(wh, 0, &depth)?;
        (r.from.is_some() || r.to.is_some()).then_some(r)
    }

    /// The range the clauses from `j` (a WHERE, an ORDER BY, LIMIT, OFFSET, FETCH, at
    /// parenthesis depth `base`) put on an account key.
    fn filtered(&self, j: usize, base: i32, depth: &[i32]) -> Option<KeyRange> {
        let t = self.t;
        let ends = |i: usize| {
            i >= t.len()
                || depth[i] < base
                || t[i].sym(")")
                || t[i].sym(";")
                || [
                    "GROUP",
                    "ORDER",
                    "LIMIT",
                    "OFFSET",
                    "FETCH",
                    "HAVING",
                    "FOR",
                    "RETURNING",
                ]
                .iter()
                .any(|k| t[i].kw(k))
        };
        let mut range = KeyRange::default();
        let mut column: Option<&str> = None;
        let mut at = j;
        if t.get(j).is_some_and(|x| x.kw("WHERE")) {
            let end = (j + 1..t.len())
                .find(|&i| depth[i] <= base && ends(i))
                .unwrap_or(t.len());
            column = self.bounds(&t[j + 1..end], &mut range)?;
            at = end;
        } else if !ends(j) {
            return None;
        }
        // The clauses after the filter, at its depth.
        let mut i = at;
        while i < t.len() && depth[i] >= base && !t[i].sym(")") && !t[i].sym(";") {
            if depth[i] > base {
                i += 1;
                continue;
            }
            let x = &t[i];
            if x.kw("GROUP") || x.kw("HAVING") {
                return None;
            }
            if x.kw("ORDER") && t.get(i + 1).is_some_and(|b| b.kw("BY")) {
                // Rows in the order of the key, or of what is no key (`ORDER BY
                // created_at`, `random()`): no order the keys tell.
                let first = column_at(&t[i + 2..]).filter(|&(col, _)| {
                    column.map_or(self.holds_key(col), |c| c.eq_ignore_ascii_case(col))
                });
                let used = first.map_or(0, |(_, n)| n);
                range.order = first.map(|_| match t.get(i + 2 + used) {
                    Some(d) if d.kw("DESC") => KeyOrder::Desc,
                    _ => KeyOrder::Asc,
                });
                column = column.or(first.map(|(c, _)| c));
                i += 2 + used;
            } else if x.kw("LIMIT") {
                let (n, k) = (self.count(i + 1)?, i + 2);
                if t.get(k).is_some_and(|c| c.sym(",")) {
                    // MySQL's `LIMIT offset, rows`.
                    range.offset = n;
                    range.limit = Some(self.count(k + 1)?);
                    i = k + 2;
                } else {
                    range.limit = Some(n);
                    i = k;
                }
            } else if x.kw("OFFSET") {
                range.offset = self.count(i + 1)?;
                i += 2;
            } else if x.kw("FETCH") {
                // `FETCH FIRST|NEXT n ROWS ONLY`
                range.limit = Some(self.count(i + 2)?);
                i += 3;
            } else {
                i += 1;
            }
        }
        let bounded = range.from.is_some() || range.to.is_some();
        let sliced = range.order.is_some() && (range.limit.is_some() || range.offset > 0);
        (bounded || (sliced && !range.narrowed)).then_some(range)
    }

    /// The rows of a range of keys narrower than the bulk size (`WHERE id BETWEEN 5001
    /// AND 5100`): at most its width, a page of the table however many rows it has.
    pub(super) fn range_rows(&self) -> Option<u64> {
        let r = self.key_range()?;
        let width = r.to?.checked_sub(r.from?)?.checked_add(1)?.max(0) as u64;
        (width < self.vocab.bulk_limit).then_some(width)
    }

    /// Reads the bounds a filter puts on one account key into `range`; the key's column
    /// (None where the filter bounds no key). None where the filter is no conjunction of
    /// comparisons the range can hold: an OR or NOT, a key pinned to values, a bound
    /// that is no integer.
    fn bounds<'t>(&self, cond: &'t [Tok], range: &mut KeyRange) -> Option<Option<&'t str>> {
        let mut column: Option<&str> = None;
        for part in conjuncts(cond)? {
            let Some((lo, hi, col)) = self.comparison(part)? else {
                range.narrowed = true;
                continue;
            };
            if column.is_some_and(|c| !c.eq_ignore_ascii_case(col)) {
                // A second key column: its bounds narrow the rows of the first.
                range.narrowed = true;
                continue;
            }
            column = Some(col);
            if let Some(lo) = lo {
                range.from = Some(range.from.map_or(lo, |f| f.max(lo)));
            }
            if let Some(hi) = hi {
                range.to = Some(range.to.map_or(hi, |x| x.min(hi)));
            }
        }
        Some(column)
    }

    /// One conjunct as bounds on an account key: Some(Some((from, to, column))) for `key
    /// BETWEEN a AND b`, `key > a`, `a <= key` and the like (inclusive bounds);
    /// Some(None) for a conjunct that tests anything else, or bounds the key by what is no
    /// integer (`id > $1 + 5`, a subquery): it narrows the rows, and leaving it out keeps
    /// an upper bound. None where it pins the key to values (`id = 5`, `id IN (…)`).
    #[allow(clippy::type_complexity)]
    fn comparison<'t>(
        &self,
        part: &'t [Tok],
    ) -> Option<Option<(Option<i64>, Option<i64>, &'t str)>> {
        let part = super::filters::unwrap(part);
        let at = self.index_of(part);
        if let Some((col, used)) = column_at(part).filter(|(c, _)| self.holds_key(c)) {
            let Some(op) = part.get(used) else {
                return Some(None);
            };
            if op.sym("=") || op.kw("IN") {
                return None;
            }
            if op.kw("BETWEEN") {
                let Some((lo, n)) = self.integer(at + used + 1) else {
                    return Some(None);
                };
                if !part.get(used + 1 + n).is_some_and(|x| x.kw("AND")) {
                    return Some(None);
                }
                let Some((hi, m)) = self.integer(at + used + 2 + n) else {
                    return Some(None);
                };
                return Some((used + 2 + n + m == part.len()).then_some((Some(lo), Some(hi), col)));
            }
            let op = op_of(op);
            let v = self.integer(at + used + 1);
            return Some(match (op, v) {
                (Some(op), Some((v, n))) if used + 1 + n == part.len() => {
                    bound(op, v).map(|(lo, hi)| (lo, hi, col))
                }
                _ => None,
            });
        }
        // `5000 <= id`
        let Some((v, n)) = self.integer(at) else {
            return Some(None);
        };
        let Some(op) = part.get(n).and_then(op_of) else {
            return Some(None);
        };
        let rest = part.get(n + 1..).unwrap_or_default();
        let Some((col, used)) = column_at(rest).filter(|(c, _)| self.holds_key(c)) else {
            return Some(None);
        };
        let flipped = match op {
            Op::Lt => Op::Gt,
            Op::Le => Op::Ge,
            Op::Gt => Op::Lt,
            Op::Ge => Op::Le,
        };
        Some(
            (n + 1 + used == part.len())
                .then(|| bound(flipped, v))
                .flatten()
                .map(|(lo, hi)| (lo, hi, col)),
        )
    }

    /// Whether a column holds account ids: an account column, or `id` of the table that
    /// holds the customers (a points row's own `id` numbers the row, not its owner).
    fn holds_key(&self, col: &str) -> bool {
        self.vocab.is_account_column(col)
            || (col.eq_ignore_ascii_case("id") && self.holds_customers())
    }

    /// An integer value (a literal, a bound parameter, maybe signed or cast) at token
    /// `i`, and the tokens it takes.
    fn integer(&self, i: usize) -> Option<(i64, usize)> {
        let (v, used) = self.value(i)?;
        Some((v.trim().parse().ok()?, used))
    }

    /// Where a slice of the statement's tokens begins among them.
    fn index_of(&self, part: &[Tok]) -> usize {
        (part.as_ptr() as usize - self.t.as_ptr() as usize) / std::mem::size_of::<Tok>()
    }

    /// A row count (LIMIT's, OFFSET's) at `i`: a literal or a bound parameter.
    fn count(&self, i: usize) -> Option<u64> {
        let (v, _) = self.value(i)?;
        v.trim().parse().ok()
    }
}

/// Words after a FROM item that begin a clause, not name an alias.
const CLAUSES: &[&str] = &[
    "WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "FETCH", "HAVING", "FOR", "JOIN", "INNER",
    "LEFT", "RIGHT", "FULL", "CROSS", "NATURAL", "WINDOW",
];

/// A comparison's operator.
#[derive(Clone, Copy)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
}

fn op_of(x: &Tok) -> Option<Op> {
    Some(match x {
        x if x.sym("<") => Op::Lt,
        x if x.sym("<=") => Op::Le,
        x if x.sym(">") => Op::Gt,
        x if x.sym(">=") => Op::Ge,
        _ => return None,
    })
}

/// The inclusive bounds `key op v` sets; None where they overflow.
fn bound(op: Op, v: i64) -> Option<(Option<i64>, Option<i64>)> {
    Some(match op {
        Op::Lt => (None, Some(v.checked_sub(1)?)),
        Op::Le => (None, Some(v)),
        Op::Gt => (Some(v.checked_add(1)?), None),
        Op::Ge => (Some(v), None),
    })
}

/// A column at the start of `t`, maybe qualified (`c.id`), and the tokens it takes.
fn column_at(t: &[Tok]) -> Option<(&str, usize)> {
    let mut j = 0;
    while matches!(t.get(j), Some(Tok::Word(..))) && t.get(j + 1).is_some_and(|x| x.sym(".")) {
        j += 2;
    }
    match t.get(j)? {
        Tok::Word(w, u, q) if *q || !NOT_COLUMNS.contains(&&**u) => {
            // A function's name is no column.
            (!t.get(j + 1).is_some_and(|x| x.sym("("))).then_some((&**w, j + 1))
        }
        _ => None,
    }
}

/// Words that begin a condition and are no column.
const NOT_COLUMNS: &[&str] = &["NOT", "EXISTS", "TRUE", "FALSE", "NULL", "CASE", "SELECT"];

/// A filter's conjuncts, split at the top level's ANDs (not a BETWEEN's); None where
/// the top level holds an OR or a NOT.
fn conjuncts(cond: &[Tok]) -> Option<Vec<&[Tok]>> {
    let cond = super::filters::unwrap(cond);
    let (mut out, mut depth, mut start, mut between) = (Vec::new(), 0i32, 0, false);
    for (i, x) in cond.iter().enumerate() {
        if x.sym("(") || x.sym("[") {
            depth += 1;
        } else if x.sym(")") || x.sym("]") {
            depth -= 1;
        } else if depth == 0 {
            // `IS NOT NULL` tests one column; any other NOT, and an OR, widen what the
            // conjuncts bound.
            if x.kw("OR") || (x.kw("NOT") && !(i > 0 && cond[i - 1].kw("IS"))) {
                return None;
            }
            if x.kw("BETWEEN") {
                between = true;
            } else if x.kw("AND") {
                if between {
                    between = false;
                } else {
                    out.push(&cond[start..i]);
                    start = i + 1;
                }
            }
        }
    }
    out.push(&cond[start..]);
    out.iter().all(|p| !p.is_empty()).then_some(out)
}

/// The parenthesis depth before each token.
pub(super) fn depths(t: &[Tok]) -> Vec<i32> {
    let mut d = 0i32;
    t.iter()
        .map(|x| {
            if x.sym(")") {
                d -= 1;
            }
            let here = d;
            if x.sym("(") {
                d += 1;
            }
            here
        })
        .collect()
}
