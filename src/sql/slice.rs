//! The slice of its rows a read's outermost LIMIT, OFFSET and FETCH take (`LIMIT 100
//! OFFSET 200`, MySQL's `LIMIT 200, 100`, `OFFSET 200 ROWS FETCH NEXT 100 ROWS ONLY`),
//! literals or bound values: which page of a listing the statement read, whatever its
//! ORDER BY, to be matched with the request that asked for that page.

use super::tokens::bound;
use super::{lex, Dialect, Tok};

/// The rows a read skips and takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    /// Rows taken (LIMIT, FETCH FIRST); none: all after the offset.
    pub limit: Option<u64>,
    /// Rows skipped (OFFSET).
    pub offset: u64,
}

/// The slice of a read's outermost query; None where it has neither LIMIT nor OFFSET
/// there, or gives them as no count (an expression, a parameter not logged).
pub fn slice(text: &str, params: &[String], dialect: Dialect) -> Option<Slice> {
    let t = lex(text, dialect);
    if !t
        .first()
        .is_some_and(|x| x.kw("SELECT") || x.kw("WITH") || x.kw("TABLE"))
    {
        return None;
    }
    let count = |i: usize| -> Option<u64> {
        let v = match t.get(i)? {
            Tok::Num(n) => n.to_string(),
            Tok::Param(p) => bound(&t, params, p, i)?,
            _ => return None,
        };
        v.trim().parse().ok()
    };
    let (mut limit, mut offset, mut seen) = (None, 0u64, false);
    let depth = super::ranges::depths(&t);
    let mut i = 0;
    while i < t.len() && !t[i].sym(";") {
        let x = &t[i];
        if depth[i] == 0 && x.kw("LIMIT") {
            let n = count(i + 1)?;
            seen = true;
            if t.get(i + 2).is_some_and(|c| c.sym(",")) {
                offset = n;
                limit = Some(count(i + 3)?);
                i += 3;
            } else {
                limit = Some(n);
                i += 1;
            }
        } else if depth[i] == 0 && x.kw("OFFSET") {
            offset = count(i + 1)?;
            seen = true;
            i += 1;
        } else if depth[i] == 0 && x.kw("FETCH") {
            // `FETCH FIRST|NEXT n ROW|ROWS ONLY`
            limit = Some(count(i + 2)?);
            seen = true;
            i += 2;
        }
        i += 1;
    }
    seen.then_some(Slice { limit, offset })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn of(sql: &str, params: &[&str], d: Dialect) -> Option<(Option<u64>, u64)> {
        let params: Vec<String> = params.iter().map(|s| s.to_string()).collect();
        slice(sql, &params, d).map(|s| (s.limit, s.offset))
    }

    #[test]
    fn slices_of_both_dialects_literal_and_bound() {
        let pg = Dialect::Postgres;
        let my = Dialect::MySql;
        for (sql, params, d, want) in [
            (
                "SELECT id, email FROM customers ORDER BY id LIMIT 100 OFFSET 200",
                &[][..],
                pg,
                (Some(100), 200),
            ),
            (
                "SELECT * FROM members LIMIT 200, 100",
                &[],
                my,
                (Some(100), 200),
            ),
            ("SELECT * FROM members LIMIT 50", &[], my, (Some(50), 0)),
            (
                "SELECT * FROM members ORDER BY id OFFSET 40 ROWS FETCH NEXT 20 ROWS ONLY",
                &[],
                pg,
                (Some(20), 40),
            ),
            (
                "SELECT * FROM members WHERE tier = $1 LIMIT $2 OFFSET $3",
                &["gold", "25", "75"],
                pg,
                (Some(25), 75),
            ),
            (
                "SELECT * FROM members WHERE tier = ? LIMIT ? OFFSET ?",
                &["gold", "25", "50"],
                my,
                (Some(25), 50),
            ),
            // The subquery's LIMIT is not the page's.
            (
                "SELECT * FROM members WHERE id IN (SELECT id FROM m2 LIMIT 5) LIMIT 10 OFFSET 30",
                &[],
                pg,
                (Some(10), 30),
            ),
        ] {
            assert_eq!(of(sql, params, d), Some(want), "{sql}");
        }
    }

    #[test]
    fn no_slice_where_none_is_stated_or_readable() {
        let pg = Dialect::Postgres;
        for (sql, params) in [
            ("SELECT * FROM members WHERE id = 5", &[][..]),
            ("SELECT * FROM (SELECT * FROM members LIMIT 10) s", &[]),
            ("UPDATE members SET x = 1 LIMIT 5", &[]),
            ("SELECT * FROM members LIMIT $1", &[]),
            ("SELECT * FROM members LIMIT ALL", &[]),
        ] {
            let params: Vec<String> = params.iter().map(|s: &&str| s.to_string()).collect();
            assert_eq!(slice(sql, &params, pg), None, "{sql}");
        }
    }
}
