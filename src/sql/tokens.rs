//! Token-level statement analysis over sqlparser's tokenizer (with a tiny fallback lexer
//! for statements cut mid-literal): class, tables, predicates, SET lists, VALUES rows.

use super::Vocab;
use crate::model::{StmtClass, Text};
use sqlparser::tokenizer::Token;
use std::rc::Rc;

/// A simplified token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tok {
    /// Keyword or identifier: (as written without quotes, upper-cased, was quoted).
    Word(Rc<str>, Rc<str>, bool),
    /// Numeric literal.
    Num(Rc<str>),
    /// String literal.
    Str(Rc<str>),
    /// `$1` or `?` placeholder.
    Param(Rc<str>),
    /// Any punctuation / operator.
    Sym(Rc<str>),
}

impl Tok {
    pub(super) fn kw(&self, k: &str) -> bool {
        matches!(self, Tok::Word(_, u, false) if **u == *k)
    }
    pub(super) fn sym(&self, s: &str) -> bool {
        matches!(self, Tok::Sym(x) if **x == *s)
    }
    pub(super) fn ident(&self) -> Option<String> {
        self.word().map(str::to_ascii_lowercase)
    }
    /// A keyword or identifier as written.
    pub(super) fn word(&self) -> Option<&str> {
        match self {
            Tok::Word(w, _, _) => Some(w),
            _ => None,
        }
    }
}

/// A hex literal (`0x1`, `X'7e'`) as the number it is, as payloads compare it
/// (`OR 0x1=0x1`); too long for one, as written.
fn hex_number(digits: &str) -> Tok {
    match u64::from_str_radix(digits, 16) {
        Ok(v) => Tok::Num(v.to_string().into()),
        Err(_) => Tok::Num(format!("0x{digits}").into()),
    }
}

/// Converts a sqlparser token (whitespace and comments dropped).
pub fn convert(t: Token) -> Option<Tok> {
    Some(match t {
        Token::Word(w) => {
            let up = w.value.to_ascii_uppercase();
            Tok::Word(w.value.into(), up.into(), w.quote_style.is_some())
        }
        Token::Number(n, _) => Tok::Num(n.into()),
        Token::SingleQuotedString(s)
        | Token::DoubleQuotedString(s)
        | Token::NationalStringLiteral(s)
        | Token::EscapedStringLiteral(s) => Tok::Str(s.into()),
        Token::DollarQuotedString(d) => Tok::Str(d.value.into()),
        Token::Placeholder(p) => Tok::Param(p.into()),
        Token::HexStringLiteral(h) => hex_number(&h),
        Token::Whitespace(_) | Token::EOF => return None,
        other => Tok::Sym(other.to_string().into()),
    })
}

/// A forgiving lexer for text the real tokenizer refuses (an unterminated literal at a cut).
/// Also the for text the real tokenizer refuses.
pub fn fallback_lex(text: &str) -> Vec<Tok> {
    let b: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == '*' && b[i + 1] == '/') {
                i += 1;
            }
            i += 2;
        } else if c == '-' && b.get(i + 1) == Some(&'-') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
        } else if c == '\'' {
            let mut s = String::new();
            i += 1;
            while i < b.len() {
                if b[i] == '\\' && i + 1 < b.len() {
                    s.push(b[i + 1]);
                    i += 2;
                    continue;
                }
                if b[i] == '\'' {
                    if b.get(i + 1) == Some(&'\'') {
                        s.push('\'');
                        i += 2;
                        continue;
                    }
                    break;
                }
                s.push(b[i]);
                i += 1;
            }
            i += 1;
            out.push(Tok::Str(s.into()));
        } else if c == '0'
            && matches!(b.get(i + 1), Some('x' | 'X'))
            && b.get(i + 2).is_some_and(char::is_ascii_hexdigit)
        {
            // MySQL's hex literal (`0x1`, `0x7e`): its value, as payloads compare it.
            let st = i + 2;
            i = st;
            while i < b.len() && b[i].is_ascii_hexdigit() {
                i += 1;
            }
            let digits: String = b[st..i].iter().collect();
            out.push(hex_number(&digits));
        } else if c.is_ascii_digit() {
            let st = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == '.') {
                i += 1;
            }
            out.push(Tok::Num(b[st..i].iter().collect::<String>().into()));
        } else if c == '$' && b.get(i + 1).is_some_and(|d| d.is_ascii_digit()) || c == '?' {
            let st = i;
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            out.push(Tok::Param(b[st..i].iter().collect::<String>().into()));
        } else if c.is_alphanumeric() || c == '_' || c == '"' || c == '`' {
            let quoted = c == '"' || c == '`';
            let st = if quoted { i + 1 } else { i };
            i = st;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '$') {
                i += 1;
            }
            let w: String = b[st..i].iter().collect();
            if quoted && i < b.len() {
                i += 1;
            }
            let up = w.to_ascii_uppercase();
            out.push(Tok::Word(w.into(), up.into(), quoted));
        } else {
            let two: String = b[i..(i + 2).min(b.len())].iter().collect();
            if matches!(two.as_str(), "<>" | "!=" | ">=" | "<=" | "::" | "||") {
                out.push(Tok::Sym(two.into()));
                i += 2;
            } else {
                out.push(Tok::Sym(c.to_string().into()));
                i += 1;
            }
        }
    }
    out
}

/// Statement class from the leading keywords.
pub fn class_of(t: &[Tok]) -> StmtClass {
    let w = |i: usize| match t.get(i) {
        Some(Tok::Word(_, u, false)) => u,
        _ => "",
    };
    let mut i = 0;
    while t.get(i).is_some_and(|x| x.sym("(")) {
        i += 1;
    }
    match w(i) {
        // `WITH t AS (UPDATE … RETURNING *) SELECT …` and `WITH x AS (…) UPDATE …` write.
        "WITH" if super::parts::writes(&t[i..]) => StmtClass::Write,
        "SELECT" | "WITH" | "SHOW" | "TABLE" | "VALUES" | "EXPLAIN" | "DESCRIBE" | "DESC" => {
            StmtClass::Read
        }
        "INSERT" | "UPDATE" | "DELETE" | "MERGE" | "REPLACE" | "UPSERT" | "LOAD" => {
            StmtClass::Write
        }
        "COPY" => {
            if t.iter().any(|x| x.kw("TO")) {
                StmtClass::Read
            } else {
                StmtClass::Write
            }
        }
        // `DECLARE c CURSOR FOR SELECT …` (psql's FETCH_COUNT, drivers' server-side
        // cursors): the rows are fetched later, a page at a time, by `FETCH`.
        "DECLARE" => {
            let query = t.windows(2).any(|w| {
                w[0].kw("FOR") && (w[1].kw("SELECT") || w[1].kw("WITH") || w[1].kw("TABLE"))
            });
            if query && t.iter().any(|x| x.kw("CURSOR")) {
                StmtClass::Read
            } else {
                StmtClass::Other
            }
        }
        "GRANT" | "REVOKE" => StmtClass::Role,
        "CREATE" | "ALTER" | "DROP" => {
            if matches!(w(i + 1), "ROLE" | "USER" | "GROUP") {
                StmtClass::Role
            } else {
                StmtClass::Ddl
            }
        }
        "TRUNCATE" | "RENAME" | "COMMENT" => StmtClass::Ddl,
        "SET" if matches!(w(i + 1), "ROLE" | "PASSWORD") => StmtClass::Role,
        _ => StmtClass::Other,
    }
}

/// Tables after FROM / JOIN / INTO / UPDATE / TABLE / COPY (fallback path).
pub fn tables(t: &[Tok]) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..t.len() {
        let is_intro = ["FROM", "JOIN", "INTO", "UPDATE", "TABLE", "COPY"]
            .iter()
            .any(|k| t[i].kw(k));
        if !is_intro {
            continue;
        }
        if let Some(l) = name_at(t, i + 1) {
            out.push(l);
        }
    }
    out
}

fn is_reserved(u: &str) -> bool {
    matches!(
        u,
        "SELECT" | "WHERE" | "SET" | "VALUES" | "ONLY" | "LATERAL" | "ON" | "AS" | "TO" | "FROM"
    )
}

/// Whether an INSERT's column list names a column that holds points or a bonus by its
/// own words (`points`, `bonus_points`, `points_delta`; not `points_earned` or
/// `lifetime_points`, nor a money `amount` or `balance`) beside an account's column.
fn inserts_points(t: &[Tok], vocab: &Vocab) -> bool {
    if !t.first().is_some_and(|x| x.kw("INSERT") || x.kw("REPLACE")) {
        return false;
    }
    let Some(open) = t.iter().position(|x| x.sym("(")) else {
        return false;
    };
    let body = t.iter().position(|x| x.kw("VALUES") || x.kw("SELECT"));
    if body.is_none_or(|b| b < open) {
        return false;
    }
    // The list ends at its parenthesis, or at the body where a cut text never closes it.
    let close = close(t, open)
        .unwrap_or(t.len())
        .min(body.unwrap_or(t.len()));
    // And an account's column: `order_items (order_id, product_id, points)` holds what
    // a product earns, not a customer's movement.
    let mut cols = t[open + 1..close].iter().filter_map(Tok::word);
    cols.clone().any(|c| names_points(c, vocab)) && cols.any(|c| vocab.is_account_column(c))
}

/// Whether a column's own words say it holds points or a bonus (see [`inserts_points`]).
fn names_points(c: &str, vocab: &Vocab) -> bool {
    let words = super::name_words(c);
    words
        .iter()
        .any(|w| matches!(w.as_str(), "point" | "points" | "bonus"))
        && vocab.names_amount(c, false)
}

/// Predicate / assignment analysis over a token list.
pub struct Analysis<'a> {
    pub(super) t: &'a [Tok],
    pub(super) params: &'a [String],
    pub(super) vocab: &'a Vocab,
    pub(super) id_is_account: bool,
    pub(super) bonus_table: bool,
    pub(super) table: Option<String>,
    /// Whether the statement names its rows by a contact column and by no account key
    /// (`contact_keyed`), worked out at the first question.
    pub(super) contact: std::cell::OnceCell<bool>,
}

impl<'a> Analysis<'a> {
    /// Prepares the analysis; `tables` come from the parser or the fallback.
    pub fn new(t: &'a [Tok], params: &'a [String], vocab: &'a Vocab, tables: &[Text]) -> Self {
        let target = target_table(t)
            .or_else(|| super::routines::called_routine(t, vocab))
            .or_else(|| tables.first().map(|t| t.to_string()));
        let bonus_table = target.as_deref().is_some_and(|x| vocab.is_bonus_routine(x));
        let id_is_account =
            bonus_table || target.as_deref().is_some_and(|x| vocab.is_account_table(x));
        // A table of no bonus word whose inserted rows carry points (`INSERT INTO
        // transactions (customer_id, points, reason)`) keeps them as a ledger does.
        let bonus_table = bonus_table || inserts_points(t, vocab);
        Analysis {
            t,
            params,
            vocab,
            id_is_account,
            bonus_table,
            table: target,
            contact: std::cell::OnceCell::new(),
        }
    }

    /// Whether a column (in any case; the vocabulary's names are lower case) names an
    /// account: an account column, `id` of an account or bonus table, the owner of a
    /// bonus table's row.
    pub(super) fn is_key_col(&self, col: &str) -> bool {
        self.is_account_key(col) || (super::is_contact_column(col) && self.contact_keyed())
    }

    /// Whether the statement names its rows by a customer's contact or card number
    /// (`WHERE phone = '+380671234567'`, `INSERT INTO points_log (card_number, delta)`)
    /// and names no account key anywhere: those values stand for the accounts, which
    /// the roster names (`SqlFacts::contact_ids`).
    pub fn contact_keyed(&self) -> bool {
        *self.contact.get_or_init(|| {
            let words = || self.t.iter().filter_map(Tok::word);
            words().any(super::is_contact_column) && !words().any(|w| self.is_account_key(w))
        })
    }

    /// The analysis of a part of the statement (a subquery, one of a UNION's selects),
    /// whose rows are named by contacts where the whole statement's are.
    pub(super) fn sub(&self, t: &'a [Tok]) -> Analysis<'a> {
        let a = Analysis::new(t, self.params, self.vocab, &[]);
        let _ = a.contact.set(self.contact_keyed());
        a
    }

    /// `is_key_col` but for contact columns.
    fn is_account_key(&self, col: &str) -> bool {
        self.vocab.is_account_column(col)
            || (col.eq_ignore_ascii_case("id") && self.id_is_account)
            // A wallet's or a points card's owner is the customer.
            || (self.bonus_table
                && ["owner_id", "holder_id"].iter().any(|c| super::same_column(c, col)))
    }

    pub(super) fn value(&self, i: usize) -> Option<(String, usize)> {
        // A value cast to a type (`CAST($1 AS integer)`, `cast(? as signed)`, MySQL's
        // `CONVERT(?, SIGNED)`), as ORMs bind an amount in arithmetic: the value inside.
        // One level: a cast of a cast is no amount the statement states plainly.
        let t = self.t;
        if (t.get(i)?.kw("CAST") || t.get(i)?.kw("CONVERT")) && t.get(i + 1)?.sym("(") {
            let end = close(t, i + 1)?;
            let (v, used) = self.scalar(i + 2)?;
            let after = t.get(i + 2 + used)?;
            return (after.kw("AS") || after.sym(",")).then_some((v, end + 1 - i));
        }
        self.scalar(i)
    }

    /// A literal or bound value at `i`, maybe signed or in one pair of parentheses, and
    /// the tokens it takes.
    fn scalar(&self, i: usize) -> Option<(String, usize)> {
        // Optional sign, optional cast parentheses are not followed; returns (value, tokens used).
        match self.t.get(i)? {
            Tok::Num(n) => Some((n.to_string(), 1)),
            Tok::Str(s) => Some((s.to_string(), 1)),
            Tok::Param(p) => self.param(p, i).map(|v| (v, 1)),
            Tok::Sym(s) if &**s == "-" => match self.t.get(i + 1)? {
                Tok::Num(n) => Some((format!("-{n}"), 2)),
                Tok::Param(p) => self.param(p, i + 1).map(|v| (neg(&v), 2)),
                _ => None,
            },
            // A value in one pair of parentheses, as a negative amount is written:
            // `+ (-300)` (one level: log text may nest thousands).
            Tok::Sym(s) if &**s == "(" => {
                let (v, used) = match (self.t.get(i + 1)?, self.t.get(i + 2)) {
                    (Tok::Num(n), _) => (n.to_string(), 1),
                    (Tok::Sym(m), Some(Tok::Num(n))) if &**m == "-" => (format!("-{n}"), 2),
                    _ => return None,
                };
                self.t
                    .get(i + 1 + used)
                    .is_some_and(|x| x.sym(")"))
                    .then_some((v, used + 2))
            }
            _ => None,
        }
    }

    /// The value bound to the placeholder `p` at index `at`: `$n` by number, `?` by its
    /// place among the statement's `?`s.
    pub(super) fn param(&self, p: &str, at: usize) -> Option<String> {
        bound(self.t, self.params, p, at)
    }

    /// Column → value of the first row of `INSERT INTO t (cols) VALUES (…)`.
    pub fn first_row(&self) -> std::collections::BTreeMap<String, String> {
        let t = self.t;
        let mut out = std::collections::BTreeMap::new();
        if !t.first().is_some_and(|x| x.kw("INSERT")) {
            return out;
        }
        let Some((cols, values)) = self.insert_columns() else {
            return out;
        };
        let Some(row_open) = (values..t.len()).find(|&i| t[i].sym("(")) else {
            return out;
        };
        let mut k = 0;
        let mut j = row_open + 1;
        while j < t.len() && k < cols.len() && !t[j].sym(")") {
            if let Some((v, used)) = self.value(j) {
                out.insert(cols[k].clone(), v.chars().take(4096).collect());
                j += used;
            } else {
                j += 1;
            }
            if t.get(j).is_some_and(|x| x.sym(",")) {
                k += 1;
                j += 1;
            } else {
                // Skip an expression (function call) up to the next top-level comma.
                let mut depth = 0;
                while j < t.len() {
                    if t[j].sym("(") {
                        depth += 1;
                    } else if t[j].sym(")") {
                        if depth == 0 {
                            break;
                        }
                        depth -= 1;
                    } else if t[j].sym(",") && depth == 0 {
                        k += 1;
                        j += 1;
                        break;
                    }
                    j += 1;
                }
            }
        }
        out
    }

    /// Column → value of each assignment of `UPDATE t SET a = v, …` whose value is a
    /// literal or a bound parameter (`balance = balance + 5` and `now()` give none).
    pub fn set_values(&self) -> std::collections::BTreeMap<String, String> {
        let t = self.t;
        let mut out = std::collections::BTreeMap::new();
        if !t.first().is_some_and(|x| x.kw("UPDATE")) {
            return out;
        }
        let Some(set) = t.iter().position(|x| x.kw("SET")) else {
            return out;
        };
        let end = |x: &Tok| x.kw("WHERE") || x.kw("FROM") || x.kw("RETURNING") || x.sym(";");
        let (mut depth, mut col) = (0usize, None::<String>);
        let mut i = set + 1;
        while i < t.len() {
            let x = &t[i];
            if depth == 0 && end(x) {
                break;
            }
            if x.sym("(") {
                depth += 1;
            } else if x.sym(")") {
                depth = depth.saturating_sub(1);
            } else if depth == 0 && x.sym("=") {
                if let (Some(c), Some((v, used))) = (col.take(), self.value(i + 1)) {
                    let next = t.get(i + 1 + used);
                    if next.is_none_or(|n| n.sym(",") || end(n)) {
                        out.insert(c, v.chars().take(4096).collect());
                        i += used;
                    }
                }
            } else if depth == 0 {
                // `t.col` leaves its last word.
                col = x.ident().or(col.filter(|_| x.sym(".")));
            }
            i += 1;
        }
        out
    }

    /// (account, amount) of each row of `INSERT INTO t (cols) VALUES (…), (…)`.
    /// The column list of `INSERT|REPLACE INTO t (cols) VALUES …`, and where `VALUES`
    /// stands.
    pub(super) fn insert_columns(&self) -> Option<(Vec<String>, usize)> {
        let t = self.t;
        if !t.first().is_some_and(|x| x.kw("INSERT") || x.kw("REPLACE")) {
            return None;
        }
        let open = t.iter().position(|x| x.sym("("))?;
        let values = t.iter().position(|x| x.kw("VALUES"))?;
        if open > values {
            return None;
        }
        let cols = t[open + 1..values]
            .iter()
            .filter_map(|x| x.ident())
            .collect();
        Some((cols, values))
    }

    /// The column of an inserted row that names its account. Outside the customer
    /// tables an account column (`account_id`) comes before the row's own `id`, which
    /// in a ledger numbers the entry (`INSERT INTO bonus_ledger (id, account_id, delta)`,
    /// an id the application drew) and in a points account its own number; a customer's
    /// own row is named by its `id`.
    pub(super) fn account_index(&self, cols: &[String]) -> Option<usize> {
        let own = |c: &String| self.is_key_col(c);
        if self.holds_customers() {
            return cols.iter().position(own);
        }
        (cols.iter().position(|c| self.vocab.is_account_column(c)))
            .or_else(|| cols.iter().position(own))
    }

    /// The column of an inserted row that holds its amount: one the vocabulary lists,
    /// else the first whose own words say it holds points (`points_change`,
    /// `bonus_amount`).
    pub(super) fn amount_index(&self, cols: &[String]) -> Option<usize> {
        // A table of no bonus word holds points in the column named for them, beside a
        // payment's `amount`.
        let named = (self.table.as_deref()).is_some_and(|t| self.vocab.is_bonus_table(t));
        if !named {
            if let Some(i) = cols.iter().position(|c| names_points(c, self.vocab)) {
                return Some(i);
            }
        }
        (cols.iter().position(|c| self.vocab.is_amount_column(c))).or_else(|| {
            cols.iter()
                .position(|c| self.vocab.names_amount(c, self.bonus_table))
        })
    }

    pub(super) fn inserted_rows(&self) -> Vec<(Option<String>, Option<String>)> {
        let t = self.t;
        let mut out = Vec::new();
        let Some((cols, values)) = self.insert_columns() else {
            return out;
        };
        let acct_i = self.account_index(&cols);
        // The amount matters in a bonus table only (the accounts in any).
        let amt_i = self.bonus_table.then(|| self.amount_index(&cols)).flatten();
        let mut i = values + 1;
        let mut qmark = t[..values]
            .iter()
            .filter(|x| matches!(x, Tok::Param(q) if &**q == "?"))
            .count();
        while i < t.len() {
            if !t[i].sym("(") {
                i += 1;
                continue;
            }
            let mut row: Vec<Option<String>> = Vec::new();
            let mut j = i + 1;
            let mut cur: Option<String> = None;
            let mut depth = 0;
            while j < t.len() {
                let x = &t[j];
                if x.sym("(") {
                    depth += 1;
                } else if x.sym(")") {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                } else if x.sym(",") && depth == 0 {
                    row.push(cur.take());
                    j += 1;
                    continue;
                }
                if cur.is_none() && depth == 0 {
                    if matches!(x, Tok::Param(q) if &**q == "?") {
                        cur = self.params.get(qmark).cloned();
                        qmark += 1;
                    } else if let Some((v, used)) = self.value(j) {
                        cur = Some(v);
                        j += used;
                        continue;
                    }
                } else if matches!(x, Tok::Param(q) if &**q == "?") {
                    qmark += 1;
                }
                j += 1;
            }
            row.push(cur.take());
            out.push((
                acct_i.and_then(|k| row.get(k).cloned().flatten()),
                amt_i.and_then(|k| row.get(k).cloned().flatten()),
            ));
            i = j + 1;
        }
        out
    }
}

fn target_table(t: &[Tok]) -> Option<String> {
    let intro = t
        .iter()
        .position(|x| x.kw("INTO") || x.kw("UPDATE") || x.kw("FROM") || x.kw("CALL"))?;
    name_at(t, intro + 1)
}

/// The value bound to placeholder `p` at token `at` of `t`: `$n`, or the `?` of its
/// position.
pub(super) fn bound(t: &[Tok], params: &[String], p: &str, at: usize) -> Option<String> {
    if let Some(n) = p.strip_prefix('$') {
        let idx: usize = n.parse().ok()?;
        return params.get(idx.checked_sub(1)?).cloned();
    }
    if p == "?" {
        let before = t[..at.min(t.len())]
            .iter()
            .filter(|x| matches!(x, Tok::Param(q) if &**q == "?"))
            .count();
        return params.get(before).cloned();
    }
    None
}

/// The index of the `)` that closes the `(` at `open` (none where the text ends first,
/// or `open` is no `(`).
pub(super) fn close(t: &[Tok], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, x) in t.iter().enumerate().skip(open) {
        if x.sym("(") {
            depth += 1;
        } else if x.sym(")") {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// The table a (possibly qualified) name from `t[j]` names: its last part, lower-cased;
/// none where a reserved word stands there.
pub(super) fn name_at(t: &[Tok], mut j: usize) -> Option<String> {
    // Modifiers before the name: MySQL's `UPDATE LOW_PRIORITY IGNORE t`, `DELETE QUICK
    // FROM t`, `INSERT DELAYED INTO t`; PostgreSQL's `UPDATE ONLY t`.
    while t.get(j).is_some_and(|x| {
        [
            "LOW_PRIORITY",
            "HIGH_PRIORITY",
            "DELAYED",
            "IGNORE",
            "QUICK",
            "ONLY",
        ]
        .iter()
        .any(|m| x.kw(m))
    }) {
        j += 1;
    }
    let mut last = None;
    while let Some(Tok::Word(w, u, q)) = t.get(j) {
        if !*q && is_reserved(u) {
            break;
        }
        last = Some(w.to_ascii_lowercase());
        if t.get(j + 1).is_some_and(|x| x.sym(".")) {
            j += 2;
        } else {
            break;
        }
    }
    last
}

pub(super) fn neg(v: &str) -> String {
    match v.strip_prefix('-') {
        Some(r) => r.to_string(),
        None => format!("-{v}"),
    }
}

/// The elements of a PostgreSQL array in its text form (`{1,2}`, `{"a,b",NULL}`,
/// nested `{{1,2},{3}}` flattened); NULL elements left out. Text that is not an array
/// gives none.
pub(super) fn array_text(s: &str) -> Vec<String> {
    let s = s.trim();
    if !s.starts_with('{') || !s.ends_with('}') {
        return Vec::new();
    }
    let mut out = Vec::new();
    let (mut cur, mut quoted, mut was_quoted) = (String::new(), false, false);
    let mut chars = s.chars();
    let mut end = |cur: &mut String, was_quoted: &mut bool| {
        let v = std::mem::take(cur);
        let v = if *was_quoted { v } else { v.trim().to_string() };
        if *was_quoted || !(v.is_empty() || v.eq_ignore_ascii_case("NULL")) {
            out.push(v);
        }
        *was_quoted = false;
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' if quoted => cur.extend(chars.next()),
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '{' if !quoted => {}
            ',' | '}' if !quoted => {
                if was_quoted || !cur.trim().is_empty() {
                    end(&mut cur, &mut was_quoted);
                }
                cur.clear();
            }
            _ => cur.push(c),
        }
    }
    out
}
