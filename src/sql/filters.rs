//! What a filter lets through: whether it pins rows to values (and every OR branch
//! does), and the tautologies injected to make it let every row through (`OR 1=1`,
//! `OR (2>1)`, `OR TRUE`, MySQL's `OR 1`).

use super::tokens::Tok;

/// Whether a condition pins a column to given values: `col = value` (a literal, a
/// parameter, an expression in parentheses, `ANY(…)`, a function of a literal or
/// parameter such as `lower($1)`), `col LIKE` a pattern without `%`, or `col IN (…)`
/// (not `NOT IN`).
fn pins_values(cond: &[Tok]) -> bool {
    let literal = |x: Option<&Tok>| matches!(x, Some(Tok::Num(_) | Tok::Str(_) | Tok::Param(_)));
    (0..cond.len().saturating_sub(2)).any(|i| {
        let w = &cond[i..];
        // Judged last: a column's name is split into words to be judged.
        let column = || {
            (matches!(w[0], Tok::Word(..)) && !w[0].kw("NOT") && !groups_rows(&w[0]))
                || (w[0].sym(")") && !only_group_columns(&cond[open_of(cond, i)..=i]))
        };
        let value = literal(w.get(2))
            || w[2].sym("-")
            || w[2].sym("(")
            || w[2].kw("ANY")
            || (matches!(w[2], Tok::Word(..))
                && w.get(3).is_some_and(|x| x.sym("("))
                && literal(w.get(4)));
        // `LIKE` a pattern with no `%` matches as `=` does (Django's `iexact` on MySQL,
        // `email LIKE 'olena@mail.example'`); `_` matches one character of it.
        let exact = |x: Option<&Tok>| matches!(x, Some(Tok::Str(s)) if !s.contains('%'));
        let like = (w[1].kw("LIKE") || w[1].kw("ILIKE"))
            && (exact(w.get(2))
                || (matches!(w[2], Tok::Word(..))
                    && w.get(3).is_some_and(|x| x.sym("("))
                    && exact(w.get(4))));
        ((w[1].sym("=") && value) || like || (w[1].kw("IN") && w[2].sym("("))) && column()
    }) || cond.windows(3).any(|w| {
        // `5 = id`
        literal(Some(&w[0]))
            && w[1].sym("=")
            && matches!(w[2], Tok::Word(..))
            && !groups_rows(&w[2])
    })
}

/// Columns whose value many rows share: a state, a kind, a flag, a place, a language, a
/// tenant or store. A filter that pins only these (`WHERE status = 'active'`, `WHERE
/// tier IN ('gold', 'platinum')`, `WHERE is_active = true`, `WHERE tenant_id = 3`)
/// returns a whole class of rows, as a range does — what a dump of the active customers
/// looks like — not the few rows a key, an address or a name picks.
#[rustfmt::skip]
const GROUP_COLUMNS: &[&str] = &[
    "status", "state", "type", "kind", "category", "tier", "level", "grade", "class", "country",
    "country_code", "region", "province", "county", "city", "locale", "lang", "language",
    "currency", "timezone", "gender", "sex", "plan", "role", "segment", "cohort", "channel",
    "platform", "brand", "active", "enabled", "disabled", "deleted", "verified", "confirmed",
    "blocked", "banned", "locked", "suspended", "subscribed", "unsubscribed", "archived",
    "hidden", "visible", "consent", "newsletter", "opt_in", "optin", "marketing", "tenant",
    "tenant_id", "org_id", "organization_id", "organisation_id", "company_id", "store_id",
    "branch_id", "restaurant_id", "location_id", "region_id", "country_id", "brand_id",
    "program_id", "programme_id", "group_id",
];
/// Name endings of such columns (`account_status`, `loyalty_tier`, `email_opt_in`).
#[rustfmt::skip]
const GROUP_SUFFIXES: &[&str] = &[
    "_status", "_state", "_type", "_kind", "_category", "_tier", "_level", "_flag", "_enabled",
    "_active", "_deleted", "_verified", "_opt_in", "_optin", "_consent", "_country", "_region",
    "_city", "_lang", "_language", "_locale", "_plan", "_role", "_segment", "_group",
    "_group_id", "_tenant_id", "_store_id",
];
/// Name beginnings of boolean columns (`is_active`, `has_app`).
const GROUP_PREFIXES: &[&str] = &["is_", "has_", "can_", "allow_", "accepts_", "opted_"];

/// Whether a column token names a column whose value many rows share (see
/// [`GROUP_COLUMNS`]).
pub(super) fn groups_rows(t: &Tok) -> bool {
    let Some(word) = t.word() else { return false };
    // `accountStatus`, `isActive` as ORMs name them: their words, joined as in snake case.
    let name = super::name_words(word).join("_");
    GROUP_COLUMNS.contains(&name.as_str())
        || GROUP_SUFFIXES.iter().any(|s| name.ends_with(s))
        || GROUP_PREFIXES
            .iter()
            .any(|p| name.starts_with(p) && name.len() > p.len())
}

/// The columns a read's filter pins where it pins only columns many rows share
/// (`WHERE status = 'active'` → `status`): what a read counted as the table's was
/// filtered by. Empty for any other statement.
pub(super) fn class_columns(t: &[Tok]) -> Vec<String> {
    // The first filter, at whatever depth (`COPY (SELECT … WHERE …) TO`), to where its
    // parenthesis closes or a clause after it begins.
    const ENDS: &[&str] = &[
        "GROUP",
        "ORDER",
        "LIMIT",
        "OFFSET",
        "FETCH",
        "UNION",
        "RETURNING",
    ];
    let (mut depth, mut at) = (0i32, 0i32);
    let mut cond: Option<(usize, usize)> = None;
    for (i, x) in t.iter().enumerate() {
        depth += i32::from(x.sym("(")) - i32::from(x.sym(")"));
        match cond {
            None if x.kw("WHERE") => {
                cond = Some((i + 1, t.len()));
                at = depth;
            }
            Some((a, _))
                if depth < at || (depth == at && (x.sym(";") || ENDS.iter().any(|k| x.kw(k)))) =>
            {
                cond = Some((a, i));
                break;
            }
            _ => {}
        }
    }
    let Some((a, b)) = cond else {
        return Vec::new();
    };
    let cond = &t[a..b];
    if cond.is_empty() || tautology(cond) || pins_rows(cond) {
        return Vec::new();
    }
    let mut cols: Vec<String> = (0..cond.len().saturating_sub(1))
        .filter(|&i| (cond[i + 1].sym("=") || cond[i + 1].kw("IN")) && is_column(cond, i, &cond[i]))
        .filter(|&i| groups_rows(&cond[i]))
        .filter_map(|i| cond[i].word().map(str::to_string))
        .collect();
    cols.dedup();
    cols
}

/// Whether a filter keeps only the rows whose values it pins. Conditions joined by AND
/// keep them if any one does; by OR, only if every branch that reads a column does
/// (`id = 5 OR id > 0` lets every row through its second branch, `id = 5 OR email LIKE
/// '%'` too), while a branch of parameters alone (`$1 IS NULL OR id = $1`, an ORM's
/// optional filter) widens nothing the log can tell. `NOT id = 5` keeps every other row.
pub(super) fn pins_rows(cond: &[Tok]) -> bool {
    pins_rows_at(cond, 0)
}

fn pins_rows_at(cond: &[Tok], depth: usize) -> bool {
    // Most filters are plain conjunctions of comparisons that pin a value (`id = $1 AND
    // tenant = $2`): no OR, NOT or parenthesis to weigh.
    let plain = !cond.iter().any(|x| is_or(x) || x.kw("NOT") || x.sym("("));
    if plain && pins_values(cond) {
        return true;
    }
    let cond = unwrap(cond);
    if depth > 16 {
        return pins_values(cond);
    }
    let ors = split_at_top(cond, is_or);
    if ors.len() > 1 {
        let mut pinned = false;
        for b in ors {
            if !reads_column(b) {
                continue;
            }
            if !pins_rows_at(b, depth + 1) {
                return false;
            }
            pinned = true;
        }
        return pinned;
    }
    let ands = split_at_top(cond, |x| x.kw("AND"));
    if ands.len() > 1 {
        return ands.into_iter().any(|a| pins_rows_at(a, depth + 1));
    }
    if cond.first().is_some_and(|x| x.kw("NOT")) {
        return false;
    }
    // A comparison of an expression of columns with one of values (`1 = 1 + id`,
    // `lower(email) = lower($1)`) pins them as `col = value` does.
    let sides = split_at_top(cond, |x| x.sym("="));
    if let [a, b] = sides.as_slice() {
        let column = if reads_column(a) { a } else { b };
        if reads_column(a) != reads_column(b)
            && !a.is_empty()
            && !b.is_empty()
            && !only_group_columns(column)
        {
            return true;
        }
    }
    pins_values(cond)
}

/// The tokens inside parentheses that enclose all of them.
pub(super) fn unwrap(mut t: &[Tok]) -> &[Tok] {
    while t.len() >= 2
        && t[0].sym("(")
        && t[t.len() - 1].sym(")")
        && super::tokens::close(t, 0) == Some(t.len() - 1)
    {
        t = &t[1..t.len() - 1];
    }
    t
}

/// Splits `t` at the tokens `sep` accepts outside parentheses and brackets.
pub(super) fn split_at_top(t: &[Tok], sep: impl Fn(&Tok) -> bool) -> Vec<&[Tok]> {
    let (mut out, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, x) in t.iter().enumerate() {
        if x.sym("(") || x.sym("[") {
            depth += 1;
        } else if x.sym(")") || x.sym("]") {
            depth -= 1;
        } else if depth == 0 && sep(x) {
            out.push(&t[start..i]);
            start = i + 1;
        }
    }
    out.push(&t[start..]);
    out
}

/// Words of a condition that are no column.
const NOT_COLUMNS: &[&str] = &[
    "IS", "NULL", "NOT", "AND", "OR", "TRUE", "FALSE", "LIKE", "ILIKE", "IN", "BETWEEN", "ANY",
    "ALL", "SOME", "UNKNOWN", "DISTINCT", "FROM", "ESCAPE", "COLLATE", "AS",
];

/// Where the parenthesis that `t[close]` closes opens (0 when none does).
fn open_of(t: &[Tok], close: usize) -> usize {
    let mut depth = 0i32;
    for i in (0..=close).rev() {
        depth += i32::from(t[i].sym(")")) - i32::from(t[i].sym("("));
        if depth == 0 {
            return i;
        }
    }
    0
}

/// Whether every column an expression reads is one many rows share (`lower(status)`).
fn only_group_columns(t: &[Tok]) -> bool {
    let mut columns = t.iter().enumerate().filter(|&(i, x)| is_column(t, i, x));
    columns.clone().next().is_some() && columns.all(|(_, x)| groups_rows(x))
}

/// Whether a condition reads a column: a word that is no keyword, function name or
/// type after a cast.
fn reads_column(t: &[Tok]) -> bool {
    t.iter().enumerate().any(|(i, x)| is_column(t, i, x))
}

/// Whether the word at `i` is a column: no keyword, function name or type after a cast.
fn is_column(t: &[Tok], i: usize, x: &Tok) -> bool {
    match x {
        Tok::Word(_, u, q) => {
            let cast = i > 0 && t[i - 1].sym("::");
            // A function's name, or a table's that qualifies the column (`c.status`).
            let call = t.get(i + 1).is_some_and(|n| n.sym("(") || n.sym("."));
            !cast && !call && (*q || !NOT_COLUMNS.contains(&&**u))
        }
        _ => false,
    }
}

pub(super) fn tautology(cond: &[Tok]) -> bool {
    if cond.len() == 1 && (cond[0].kw("TRUE") || matches!(&cond[0], Tok::Num(n) if &**n != "0")) {
        return true;
    }
    (0..cond.len()).any(|k| (k == 0 || is_or(&cond[k - 1])) && always_true(&cond[k..]))
        || cond.windows(2).any(|w| is_or(&w[0]) && w[1].kw("TRUE"))
}

/// `OR`, or MySQL's `||` in its place.
pub(super) fn is_or(t: &Tok) -> bool {
    t.kw("OR") || t.sym("||")
}

/// Whether the tokens start with a comparison of two literals that holds whatever the
/// row: `1=1`, `'a'='a'`, `2>1`, `1 LIKE 1`, `NOT 1=2` — as injected after an `OR` to
/// make a filter let every row through. The comparison must end there (`1 = 1 + x` is
/// not one).
pub(super) fn always_true(t: &[Tok]) -> bool {
    always_true_at(t, 0)
}

fn always_true_at(t: &[Tok], depth: usize) -> bool {
    let ends =
        |x: Option<&Tok>| x.is_none_or(|x| is_or(x) || x.kw("AND") || x.sym(")") || x.sym(";"));
    match t.first() {
        // `OR (1=1)`
        Some(x) if x.sym("(") && depth < 8 => return always_true_at(&t[1..], depth + 1),
        // `OR TRUE`; MySQL's `OR 1`, a number standing for true.
        Some(x) if x.kw("TRUE") => return ends(t.get(1)),
        Some(Tok::Num(n)) if n.parse::<f64>().is_ok_and(|v| v != 0.0) && ends(t.get(1)) => {
            return true
        }
        _ => {}
    }
    let (negated, t) = match t.first() {
        Some(x) if x.kw("NOT") => (true, &t[1..]),
        _ => (false, t),
    };
    if let Some(holds) = literal_test(t) {
        return holds != negated;
    }
    let (Some(a), Some(b)) = (t.first().and_then(literal), t.get(2).and_then(literal)) else {
        return false;
    };
    let ends = test_ends(t.get(3));
    let op = match &t[1] {
        Tok::Sym(s) => s.to_string(),
        _ => return false,
    };
    let ord = compare(a, b);
    use std::cmp::Ordering::*;
    let holds = match (op.as_str(), ord) {
        ("=" | "==" | "<=>", Some(o)) => o == Equal,
        ("<>" | "!=", Some(o)) => o != Equal,
        (">", Some(o)) => o == Greater,
        ("<", Some(o)) => o == Less,
        (">=", Some(o)) => o != Less,
        ("<=", Some(o)) => o != Greater,
        _ => return false,
    };
    ends && holds != negated
}

/// Whether a test of a literal holds, where it is one and ends there: `'x' IS NOT NULL`,
/// `1 IN (1, 2)`, `5 BETWEEN 1 AND 9`, `'abc' LIKE '%'`, each maybe with NOT — the
/// forms injected payloads take besides `1=1`. `None` for anything else.
fn literal_test(t: &[Tok]) -> Option<bool> {
    let null = t.first()?.kw("NULL");
    let a = if null { "" } else { literal(&t[0])? };
    // `1 NOT IN (…)`, `'a' NOT LIKE …`; `IS NOT NULL` is read below.
    let not = t.get(1).is_some_and(|x| x.kw("NOT"));
    let i = 1 + usize::from(not);
    let ends = |j: usize| test_ends(t.get(j));
    use std::cmp::Ordering::*;
    let held = match t.get(i)? {
        x if x.kw("IS") => {
            let is_not = t.get(i + 1)?.kw("NOT");
            let j = i + 1 + usize::from(is_not);
            (t.get(j)?.kw("NULL") && ends(j + 1)).then_some(null != is_not)?
        }
        // NULL compared with anything is unknown, never true: no payload.
        _ if null => return None,
        x if x.kw("IN") && t.get(i + 1)?.sym("(") => {
            let mut j = i + 2;
            let mut found = false;
            loop {
                let v = literal(t.get(j)?)?;
                found |= compare(a, v) == Some(Equal);
                match t.get(j + 1)? {
                    x if x.sym(",") => j += 2,
                    x if x.sym(")") => break,
                    _ => return None,
                }
            }
            ends(j + 2).then_some(found)?
        }
        x if x.kw("BETWEEN") => {
            let (lo, hi) = (literal(t.get(i + 1)?)?, literal(t.get(i + 3)?)?);
            if !t.get(i + 2)?.kw("AND") || !ends(i + 4) {
                return None;
            }
            compare(a, lo)? != Less && compare(a, hi)? != Greater
        }
        x if x.kw("LIKE") || x.kw("ILIKE") => {
            let pat = literal(t.get(i + 1)?)?;
            if !ends(i + 2) {
                return None;
            }
            match x.kw("ILIKE") {
                true => like(a.to_lowercase().as_bytes(), pat.to_lowercase().as_bytes()),
                false => like(a.as_bytes(), pat.as_bytes()),
            }
        }
        _ => return None,
    };
    Some(held != not)
}

/// A number's or a string's text.
fn literal(x: &Tok) -> Option<&str> {
    match x {
        Tok::Num(v) | Tok::Str(v) => Some(v),
        _ => None,
    }
}

/// Whether a test of literals ends before `x`: at the end, a conjunction, a closing
/// parenthesis or semicolon, or a word (a comment's `--` is gone, `LIMIT` follows).
fn test_ends(x: Option<&Tok>) -> bool {
    x.is_none_or(|x| {
        is_or(x) || x.kw("AND") || x.sym(")") || x.sym(";") || matches!(x, Tok::Word(..))
    })
}

/// Two literals compared as numbers where both read as one, else as text.
fn compare(a: &str, b: &str) -> Option<std::cmp::Ordering> {
    match (a.trim().parse::<f64>(), b.trim().parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y),
        _ => Some(a.cmp(b)),
    }
}

/// SQL `LIKE`: `%` any run, `_` any one byte; no escapes (a payload needs none).
fn like(s: &[u8], p: &[u8]) -> bool {
    // Iterative with one backtrack point, linear for the patterns payloads use.
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while i < s.len() {
        if j < p.len() && (p[j] == b'_' || p[j] == s[i]) {
            i += 1;
            j += 1;
        } else if j < p.len() && p[j] == b'%' {
            star = Some((j, i));
            j += 1;
        } else if let Some((sj, si)) = star {
            j = sj + 1;
            i = si + 1;
            star = Some((sj, si + 1));
        } else {
            return false;
        }
    }
    p[j..].iter().all(|&c| c == b'%')
}
