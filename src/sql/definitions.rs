//! Definitions of routines and tables (`CREATE FUNCTION`, `CREATE PROCEDURE`, `CREATE
//! TABLE`): a routine's parameters and a table's columns in order, so that a call by
//! position (`CALL credit_points(100119, 500)`) or an insert without a column list
//! (`INSERT INTO ledger VALUES (DEFAULT, 100119, 500)`) says which value is the account
//! and which the amount, and whether a routine writes a bonus table whatever it is
//! called. Read from definitions found in the evidence or a schema dump, or given by
//! the site profile.

use super::filters::split_at_top;
use super::tokens::{close, name_at, Tok};
use super::{lex, Dialect, Vocab};

/// A routine as its definition gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routine {
    /// Name, lower case, schema left out.
    pub name: String,
    /// Parameters in order.
    pub params: Vec<Param>,
    /// Whether its body writes a bonus table (`UPDATE loyalty_wallets …`).
    pub writes_bonus: bool,
}

/// One parameter of a routine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Param {
    /// What it holds, lower case: its own name where that names an account or an
    /// amount, else the column its body compares it with, sets or adds it to
    /// (`account_id` for `WHERE account_id = a`), else its own name (empty where the
    /// definition gives none).
    pub name: String,
    /// An OUT parameter: a procedure's `CALL` passes it, a function's `SELECT` does not.
    pub out: bool,
    /// Its body subtracts it from a balance (`SET points = points - p_amount`).
    pub negated: bool,
    /// It is a balance the routine sets outright: its body assigns it to an amount
    /// column (`SET balance = p_balance`), or, where the body does not show, its name
    /// is a balance's.
    pub sets: bool,
}

impl Routine {
    /// A routine described by its parameters' names, in order (as the site profile
    /// does; marks of a parameter such as `p_` are left out).
    pub fn declared(name: &str, params: &[String]) -> Routine {
        Routine {
            name: unqualified(name),
            params: (params.iter())
                .map(|p| {
                    let name = super::routines::bare_name(&p.to_ascii_lowercase()).to_string();
                    Param {
                        sets: name.contains("balance"),
                        name,
                        out: false,
                        negated: false,
                    }
                })
                .collect(),
            writes_bonus: false,
        }
    }

    /// The parameters a call passes values to: all of them for a `CALL`, all but the
    /// OUT ones for a function called by a `SELECT`.
    pub fn passed(&self, by_call: bool) -> impl Iterator<Item = &Param> {
        self.params.iter().filter(move |p| by_call || !p.out)
    }
}

/// A table's columns in order, as its definition gives them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    /// Name, lower case, schema left out.
    pub name: String,
    /// Column names, lower case.
    pub columns: Vec<String>,
}

/// What a `CREATE` statement defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Definition {
    /// A function or a procedure.
    Routine(Routine),
    /// A table.
    Table(Table),
}

impl Definition {
    /// The routine's or the table's name.
    pub fn name(&self) -> &str {
        match self {
            Definition::Routine(r) => &r.name,
            Definition::Table(t) => &t.name,
        }
    }
    /// Its parameters' or columns' names, in order.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            Definition::Routine(r) => r.params.iter().map(|p| p.name.as_str()).collect(),
            Definition::Table(t) => t.columns.iter().map(String::as_str).collect(),
        }
    }
}

/// What a `CREATE FUNCTION`, `CREATE PROCEDURE` or `CREATE TABLE` statement defines;
/// `None` for any other statement, and for a definition of nothing by position (no
/// parameters, no columns).
pub fn definition(text: &str, dialect: Dialect, vocab: &Vocab) -> Option<Definition> {
    let t = lex(text, dialect);
    let d = match table_of(&t) {
        Some(tb) => Definition::Table(tb),
        None => Definition::Routine(routine_of(&t, dialect, vocab)?),
    };
    (!d.fields().is_empty()).then_some(d)
}

/// Words of a `CREATE TABLE` item that start a constraint, not a column.
const CONSTRAINTS: &[&str] = &[
    "CONSTRAINT",
    "PRIMARY",
    "UNIQUE",
    "FOREIGN",
    "CHECK",
    "KEY",
    "INDEX",
    "EXCLUDE",
    "LIKE",
    "FULLTEXT",
    "SPATIAL",
    "PERIOD",
];

/// The table a `CREATE [TEMPORARY|UNLOGGED] TABLE [IF NOT EXISTS] name (…)` defines.
fn table_of(t: &[Tok]) -> Option<Table> {
    if !t.first()?.kw("CREATE") {
        return None;
    }
    let kind = (1..t.len().min(5)).find(|&k| t[k].kw("TABLE"))?;
    let mut at = kind + 1;
    if t.get(at).is_some_and(|x| x.kw("IF")) {
        at += 3;
    }
    let name = name_at(t, at)?;
    let open = (at..t.len().min(at + 6)).find(|&k| t[k].sym("("))?;
    // `CREATE TABLE t AS SELECT …`, `… PARTITION OF p (…)`: no columns of its own here.
    if t[at..open].iter().any(|x| x.kw("AS") || x.kw("OF")) {
        return None;
    }
    let end = close(t, open)?;
    let columns = split_at_top(&t[open + 1..end], |x| x.sym(","))
        .into_iter()
        .filter_map(|item| {
            let first = item.first()?;
            if CONSTRAINTS.iter().any(|k| first.kw(k)) {
                return None;
            }
            first.ident()
        })
        .collect();
    Some(Table {
        name: unqualified(&name),
        columns,
    })
}

/// A name without its schema, lower case, quotes removed.
fn unqualified(name: &str) -> String {
    let last = name.rsplit('.').next().unwrap_or(name);
    last.trim_matches(['"', '`']).to_ascii_lowercase()
}

/// The routine a `CREATE [OR REPLACE] [DEFINER=…] FUNCTION|PROCEDURE` statement
/// defines; `None` for any other statement.
pub fn parse(text: &str, dialect: Dialect, vocab: &Vocab) -> Option<Routine> {
    routine_of(&lex(text, dialect), dialect, vocab)
}

fn routine_of(t: &[Tok], dialect: Dialect, vocab: &Vocab) -> Option<Routine> {
    if !t.first()?.kw("CREATE") {
        return None;
    }
    // `OR REPLACE`, `DEFINER = user@host`, `AGGREGATE` stand before the kind.
    let kind = (1..t.len().min(16)).find(|&k| t[k].kw("FUNCTION") || t[k].kw("PROCEDURE"))?;
    let mut at = kind + 1;
    if t.get(at).is_some_and(|x| x.kw("IF")) {
        at += 3;
    }
    let name = name_at(t, at)?;
    let open = (at..t.len().min(at + 8)).find(|&k| t[k].sym("("))?;
    let end = close(t, open)?;
    let mut params: Vec<(Param, Option<String>)> = Vec::new();
    if end > open + 1 {
        for p in split_at_top(&t[open + 1..end], |x| x.sym(",")) {
            params.push(param(p));
        }
    }
    let body = body(&t[end + 1..], dialect);
    let params = (params.iter().enumerate())
        .map(|(i, (p, own))| {
            // The body refers to it by its name, or as `$n`.
            let n = format!("${}", i + 1);
            let is = |x: &Tok| match x {
                Tok::Word(w, _, _) => own.as_deref().is_some_and(|o| w.eq_ignore_ascii_case(o)),
                Tok::Param(p) => **p == *n,
                _ => false,
            };
            let named = vocab.is_account_column(&p.name) || vocab.is_amount_column(&p.name);
            let role = role(&body, &is, vocab);
            let sets = match &role {
                Some((c, Use::Equals)) => !vocab.is_account_column(c),
                Some(_) => false,
                None => p.name.contains("balance"),
            };
            Param {
                negated: matches!(role, Some((_, Use::Subtracted))),
                name: match role {
                    Some((c, _)) if !named => c,
                    _ => p.name.clone(),
                },
                sets,
                ..p.clone()
            }
        })
        .collect();
    Some(Routine {
        name: unqualified(&name),
        params,
        writes_bonus: writes_bonus(&body, vocab),
    })
}

/// A parameter from its tokens (`IN p_account_id BIGINT`, `p_points int DEFAULT 0`,
/// `bigint`): the parameter with its name bare of parameter marks, and its name as the
/// body refers to it.
fn param(t: &[Tok]) -> (Param, Option<String>) {
    let mut t = t;
    let mut out = false;
    if let Some(m) = t
        .first()
        .filter(|x| ["IN", "OUT", "INOUT", "VARIADIC"].iter().any(|k| x.kw(k)) && t.len() > 1)
    {
        out = m.kw("OUT");
        t = &t[1..];
    }
    // A name, then its type: two words at the start (`p_points integer`). A type alone
    // (`bigint`, `numeric(10,2)`) names nothing: the body calls it `$1`.
    let own = match (t.first(), t.get(1)) {
        (Some(Tok::Word(w, _, _)), Some(Tok::Word(..))) => Some(w.to_string()),
        _ => None,
    };
    let name = own.as_deref().map(super::routines::bare_name);
    let p = Param {
        name: name.map(str::to_ascii_lowercase).unwrap_or_default(),
        out,
        negated: false,
        sets: false,
    };
    (p, own)
}

/// The tokens of a routine's body: PostgreSQL's quoted body (`AS $$ … $$`, read again as
/// statements) or what follows the parameters (MySQL's `BEGIN … END`, PostgreSQL's
/// `BEGIN ATOMIC … END`).
fn body(rest: &[Tok], dialect: Dialect) -> Vec<Tok> {
    let quoted = (rest.windows(2))
        .find(|w| w[0].kw("AS") && matches!(w[1], Tok::Str(_)))
        .map(|w| match &w[1] {
            Tok::Str(s) => s.to_string(),
            _ => String::new(),
        });
    match quoted {
        Some(s) => lex(&s, dialect),
        None => rest.to_vec(),
    }
}

/// Whether a body writes a bonus table.
fn writes_bonus(t: &[Tok], vocab: &Vocab) -> bool {
    (0..t.len()).any(|k| {
        let into = |w: &str| t.get(k + 1).is_some_and(|x| x.kw(w));
        let at = if t[k].kw("UPDATE") {
            k + 1
        } else if (t[k].kw("INSERT") || t[k].kw("REPLACE") || t[k].kw("MERGE")) && into("INTO")
            || t[k].kw("DELETE") && into("FROM")
        {
            k + 2
        } else {
            return false;
        };
        name_at(t, at).is_some_and(|n| vocab.is_bonus_table(&n))
    })
}

/// How a body uses a parameter with a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Use {
    /// Compared with it or assigned to it (`col = p`), or inserted as it.
    Equals,
    /// Added to it (`col = col + p`).
    Added,
    /// Subtracted from it (`col = col - p`).
    Subtracted,
}

/// The column a body uses a parameter with, among account and amount columns, and how:
/// `col = p`, `p = col`, `col = col ± p`, `col = p + col`, or its place in an `INSERT
/// (cols) VALUES (…)`.
fn role(t: &[Tok], is: &impl Fn(&Tok) -> bool, vocab: &Vocab) -> Option<(String, Use)> {
    let wanted = |c: &str| {
        vocab.is_account_column(c) || vocab.is_amount_column(c) || vocab.names_amount(c, true)
    };
    let word = |k: usize| t.get(k).and_then(Tok::ident);
    for i in (0..t.len()).filter(|&i| is(&t[i])) {
        let before = |n: usize| i.checked_sub(n).and_then(|k| t.get(k));
        let sym = |x: Option<&Tok>, s: &str| x.is_some_and(|x| x.sym(s));
        let mut found: Option<(String, Use)> = None;
        // `col = col - p`: the column assigned, and the sign.
        if (sym(before(1), "-") || sym(before(1), "+")) && sym(before(3), "=") {
            if let (Some(a), Some(b)) = (i.checked_sub(4).and_then(word), word(i - 2)) {
                if a == b {
                    let how = if sym(before(1), "-") {
                        Use::Subtracted
                    } else {
                        Use::Added
                    };
                    found = Some((a, how));
                }
            }
        }
        // `col = p + col`.
        if found.is_none() && sym(before(1), "=") && t.get(i + 1).is_some_and(|x| x.sym("+")) {
            let (a, b) = (i.checked_sub(2).and_then(word), word(i + 2));
            if a.is_some() && a == b {
                found = a.map(|c| (c, Use::Added));
            }
        }
        if found.is_none() && sym(before(1), "=") {
            found = i.checked_sub(2).and_then(word).map(|c| (c, Use::Equals));
        }
        if found.is_none() && t.get(i + 1).is_some_and(|x| x.sym("=")) {
            found = word(i + 2).map(|c| (c, Use::Equals));
        }
        if found.is_none() && t.get(i + 1).is_some_and(|x| x.sym("+")) {
            found = word(i + 2).map(|c| (c, Use::Added));
        }
        if found.is_none() {
            found = inserted_as(t, i).map(|c| (c, Use::Added));
        }
        if let Some(f) = found.filter(|(c, _)| wanted(c)) {
            return Some(f);
        }
    }
    None
}

/// The column of an `INSERT INTO t (cols…) VALUES (vals…)` whose value is the token at
/// `i`, alone in its place.
fn inserted_as(t: &[Tok], i: usize) -> Option<String> {
    let values = (0..i).rev().find(|&k| t[k].kw("VALUES"))?;
    let open = values + 1;
    let end = close(t, open).filter(|&e| e > i && t.get(open).is_some_and(|x| x.sym("(")))?;
    let vals = split_at_top(&t[open + 1..end], |x| x.sym(","));
    let place = {
        let mut at = open + 1;
        vals.iter().position(|v| {
            let here = v.len() == 1 && at == i;
            at += v.len() + 1;
            here
        })?
    };
    let cols_end = (0..values).rev().find(|&k| t[k].sym(")"))?;
    let cols_open = (0..cols_end).rev().find(|&k| t[k].sym("("))?;
    let cols = split_at_top(&t[cols_open + 1..cols_end], |x| x.sym(","));
    cols.get(place)?.last()?.ident()
}

/// An `INSERT` without a column list into a table whose columns are known, with its
/// columns written in (`INSERT INTO ledger VALUES (…)` → `INSERT INTO ledger (id,
/// account_id, points) VALUES (…)`); `None` for any other statement.
pub(super) fn with_columns(t: &[Tok], vocab: &Vocab) -> Option<Vec<Tok>> {
    if vocab.tables.is_empty() || !(t.first()?.kw("INSERT") || t.first()?.kw("REPLACE")) {
        return None;
    }
    let into = (1..t.len().min(6)).find(|&k| t[k].kw("INTO"))?;
    // The name's last part, where the rows follow.
    let mut k = into + 1;
    while t.get(k + 1).is_some_and(|x| x.sym(".")) {
        k += 2;
    }
    let name = t.get(k)?.ident()?;
    let next = t.get(k + 1)?;
    if !(next.kw("VALUES") || next.kw("VALUE") || next.kw("SELECT")) {
        return None;
    }
    let table = vocab.tables.iter().find(|x| x.name == unqualified(&name))?;
    let mut out = t[..=k].to_vec();
    out.push(Tok::Sym("(".into()));
    for (i, c) in table.columns.iter().enumerate() {
        if i > 0 {
            out.push(Tok::Sym(",".into()));
        }
        out.push(Tok::Word(
            c.as_str().into(),
            c.to_ascii_uppercase().into(),
            true,
        ));
    }
    out.push(Tok::Sym(")".into()));
    out.extend_from_slice(&t[k + 1..]);
    Some(out)
}
