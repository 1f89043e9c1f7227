//! Which bonus balances a write changes, and by how much: balance UPDATEs (`+ N`, `- N`,
//! set outright), ledger INSERTs (multi-row, bound values), upserts of a balance, and
//! writes whose rows or amounts the text does not say.

use super::rowsets::ValueRows;
use super::tokens::{neg, Analysis, Tok};
use crate::model::{text, BonusChange};

impl Analysis<'_> {
    /// Balance changes of an UPDATE … SET or a ledger INSERT, and whether an UPDATE
    /// changed balances of rows it does not name (no key in its filter, or keys a
    /// subquery picks) or by an expression of no amount (`balance * 10`): which
    /// accounts, or by how much, its text cannot say. A value bound but not logged is
    /// neither (the row or amount is named, only not shown). Third, for an UPDATE whose
    /// filter names no rows, the amount it states for each row it changes, and whether
    /// it sets the balance to it (`balance = balance + 500 WHERE account_id BETWEEN …`:
    /// a range of keys names its rows where the accounts that existed are known).
    pub fn bonus_writes(&self) -> (Vec<BonusChange>, bool, Option<(i64, bool)>) {
        let t = self.t;
        let table = self.table.clone().unwrap_or_default();
        let mut out = Vec::new();
        let mut unnamed = false;
        let mut step = None;
        if t.first().is_some_and(|x| x.kw("UPDATE")) {
            let Some(set) = t.iter().position(|x| x.kw("SET")) else {
                return (out, false, None);
            };
            let wh = t.iter().position(|x| x.kw("WHERE")).unwrap_or(t.len());
            let accounts = if wh < t.len() {
                // `?` placeholders bind by place: the filter's are those after the SET's.
                let before = (t[..wh].iter())
                    .filter(|x| matches!(x, Tok::Param(q) if &**q == "?"))
                    .count();
                Analysis {
                    t: &t[wh..],
                    params: self.params.get(before..).unwrap_or_default(),
                    table: self.table.clone(),
                    contact: self.contact_keyed().into(),
                    ..*self
                }
                .account_ids_where()
            } else {
                Vec::new()
            };
            let accounts = match self.set_owner() {
                Some(owner) => vec![owner],
                None => accounts,
            };
            // Rows named through value rows a key is joined to (`UPDATE … FROM (VALUES
            // (7, 500)) v(id, amt) WHERE b.account_id = v.id`, a MERGE's USING).
            let sources = self.value_rows();
            let listed = self.keyed_rows(&sources);
            let mut accounts = accounts;
            for (s, c) in &listed {
                accounts.extend(s.cols[*c].iter().flatten().cloned());
            }
            // Whether the filter names rows by key: pins a key to values (not to keys a
            // subquery picks, nor to another table's column, as `UPDATE … FROM` and a
            // MERGE join them), or joins it to value rows.
            // A filter with an OR branch that lets other rows through (`account_id = 5 OR
            // account_id > 0`, `OR 1=1`) names only some of the rows it changes.
            let keyed = (wh < t.len() && self.pins_key(&t[wh + 1..]) && {
                let cond = &t[wh + 1..];
                super::filters::pins_rows(cond) && !super::filters::tautology(cond)
            }) || !listed.is_empty();
            // The assignments end where `UPDATE … FROM` names its sources.
            let wh = {
                let mut depth = 0i32;
                (set..wh)
                    .find(|&k| {
                        depth += i32::from(t[k].sym("(")) - i32::from(t[k].sym(")"));
                        depth == 0 && t[k].kw("FROM")
                    })
                    .unwrap_or(wh)
            };
            let balances = self.balance_columns(set, wh);
            let mut i = set + 1;
            while i < wh {
                let Some(col) = t[i].ident() else {
                    i += 1;
                    continue;
                };
                if !t.get(i + 1).is_some_and(|x| x.sym("=")) {
                    i += 1;
                    continue;
                }
                if balances.contains(&col) {
                    // Each account its own amount, in a CASE.
                    if let Some(c) = self.case_amounts(&col, i + 2, wh) {
                        // Rows the filter names, where it names them.
                        let named = keyed && !accounts.is_empty();
                        let covered =
                            named && accounts.iter().all(|a| c.arms.iter().any(|(x, _)| x == a));
                        unnamed |= c.others && !covered;
                        for (a, amount) in c.arms {
                            if named && !accounts.contains(&a) {
                                continue;
                            }
                            let Some((v, absolute)) = amount else {
                                continue;
                            };
                            match change_of(&a, &v, absolute, &table) {
                                Some(c) => out.push(c),
                                None => unnamed = true,
                            }
                        }
                        i += 2;
                        continue;
                    }
                    // Each row's amount from a column of the value rows.
                    if let Some((rows, known)) = listed_amounts(&col, &t[i + 2..wh], &listed) {
                        unnamed |= !known;
                        out.extend(rows.into_iter().map(|(a, delta, absolute)| BonusChange {
                            account_id: text(&a),
                            delta,
                            absolute,
                            table: text(&table),
                            ledger: false,
                        }));
                        i += 2;
                        continue;
                    }
                    // col = col ± v | col = v ± col | col = v; the column on the right
                    // may be qualified (`b.balance`).
                    let rhs = &t[i + 2..wh];
                    let q = match last_part(rhs, 0) {
                        q if q > 0 && rhs[q].ident().as_deref() == Some(&col) => q,
                        _ => 0,
                    };
                    let rhs = &rhs[q..];
                    let parsed = if rhs.first().and_then(|x| x.ident()).as_deref() == Some(&col) {
                        match (rhs.get(1), self.value(i + 4 + q)) {
                            (Some(Tok::Sym(op)), Some((v, _))) if &**op == "+" => Some((v, false)),
                            (Some(Tok::Sym(op)), Some((v, _))) if &**op == "-" => {
                                Some((neg(&v), false))
                            }
                            _ => None,
                        }
                    } else if let Some((v, used)) = self.value(i + 2) {
                        let next = rhs.get(used);
                        if next.is_some_and(|x| x.sym("+"))
                            && rhs.get(used + 1).and_then(|x| x.ident()).as_deref() == Some(&col)
                        {
                            Some((v, false))
                        } else if next.is_none() || next.is_some_and(|x| x.sym(",")) {
                            Some((v, true))
                        } else {
                            None
                        }
                    } else {
                        None
                    };
                    let parsed = parsed.or_else(|| self.wrapped_change(&col, i + 2, wh));
                    // A bound value not logged is an amount named but not shown; one
                    // logged in an expression of no amount the text states is unnamed.
                    let bound = rhs.iter().any(|x| matches!(x, Tok::Param(_)));
                    let amount = parsed.as_ref().is_some_and(|(v, _)| int_of(v).is_some());
                    unnamed |= !keyed || (!amount && (!bound || !self.params.is_empty()));
                    if let Some((v, absolute)) = parsed {
                        if let Some(d) = int_of(&v) {
                            if !keyed {
                                step = Some((d, absolute));
                            }
                            for a in &accounts {
                                out.push(BonusChange {
                                    account_id: text(a),
                                    delta: d,
                                    absolute,
                                    table: text(&table),
                                    ledger: false,
                                });
                            }
                        }
                    }
                }
                i += 2;
            }
        } else if self.bonus_table {
            // A bonus routine's call: the change its named arguments state, else one
            // the text does not.
            if self.called().is_some() {
                match self.called_change() {
                    Some((a, v, absolute)) => match change_of(&a, &v, absolute, &table) {
                        Some(c) => out.push(c),
                        None => unnamed = true,
                    },
                    None => unnamed = !self.names_change(),
                }
                return (out, unnamed, None);
            }
            // A DELETE takes rows of a balance or a ledger away: the balances of the
            // accounts it names (or of rows it does not) change by what the rows held.
            if t.first().is_some_and(|x| x.kw("DELETE")) {
                return (out, true, None);
            }
            let values = t.iter().position(|x| x.kw("VALUES"));
            let select = t.iter().position(|x| x.kw("SELECT"));
            let insert = t.first().is_some_and(|x| x.kw("INSERT") || x.kw("REPLACE"));
            // `INSERT INTO bonus_ledger VALUES (…)`: which value is the account and which
            // the amount, only the table's definition says.
            if insert
                && values.is_some_and(|v| select.is_none_or(|s| v < s))
                && !t[..values.unwrap_or(0)].iter().any(|x| x.sym("("))
            {
                unnamed = true;
            }
            // `INSERT INTO ledger (account_id, amount, …) SELECT id, 1000, … FROM
            // customers`: rows another query picks, none named here — unless it selects
            // them from arrays or values the statement carries.
            if insert && select.is_some_and(|s| values.is_none_or(|v| s < v)) {
                let sel = select.unwrap_or(0);
                let head = &t[..sel];
                let cols = match head.iter().position(|x| x.sym("(")) {
                    Some(open) => &head[open + 1..],
                    None => &[][..],
                };
                let names: Vec<String> = cols.iter().filter_map(|x| x.ident()).collect();
                match self.selected_rows(&names, sel) {
                    Some(rows) => out.extend(rows.into_iter().map(|(a, d)| BonusChange {
                        account_id: text(&a),
                        delta: d,
                        absolute: false,
                        table: text(&table),
                        ledger: true,
                    })),
                    None => {
                        unnamed |= cols.is_empty()
                            || names.iter().any(|c| {
                                self.vocab.is_amount_column(c)
                                    || c.contains("point")
                                    || c.contains("bonus")
                            })
                    }
                }
            }
            // A balance an upsert adds to or sets is the balance's change, not a ledger
            // row's.
            let upsert = self.upsert_sets();
            for (acct, amt) in self.inserted_rows() {
                // Points for an account the row names in a column of no customer word
                // (`wallet_ref`, `card_no`): a change the text cannot place.
                if acct.is_none() && amt.as_deref().and_then(int_of).is_some_and(|d| d != 0) {
                    unnamed = true;
                }
                if let (Some(a), Some(v)) = (acct, amt) {
                    if let Some(d) = int_of(&v) {
                        out.push(BonusChange {
                            account_id: text(&a),
                            delta: d,
                            absolute: upsert == Some(true),
                            table: text(&table),
                            ledger: upsert.is_none(),
                        });
                    }
                }
            }
        }
        (out, unnamed, step)
    }

    /// The change of an assignment to `col` from `t[b]` (to the next top-level comma,
    /// before `end`) in the forms a plain reading misses: in parentheses, `(balance +
    /// 100)`, and with the column defaulted, `COALESCE(balance, 0) + 100` (IFNULL, NVL,
    /// ISNULL), either side of the `+`. (amount, absolute); absolute is never set here.
    fn wrapped_change(&self, col: &str, b: usize, end: usize) -> Option<(String, bool)> {
        let t = self.t;
        let mut depth = 0i32;
        let mut e = end;
        for (k, x) in t.iter().enumerate().take(end).skip(b) {
            depth += i32::from(x.sym("(")) - i32::from(x.sym(")"));
            if depth == 0 && x.sym(",") {
                e = k;
                break;
            }
        }
        let mut b = b;
        while b + 1 < e && t[b].sym("(") && super::tokens::close(t, b) == Some(e - 1) {
            (b, e) = (b + 1, e - 1);
        }
        // The column at `k` (qualified, or defaulted to 0): the index past it.
        let column = |k: usize| -> Option<usize> {
            let plain = |k: usize| -> Option<usize> {
                let k = last_part(t, k);
                (t.get(k)?.ident()? == col).then_some(k + 1)
            };
            let defaulted = ["COALESCE", "IFNULL", "NVL", "ISNULL"]
                .iter()
                .any(|f| t.get(k).is_some_and(|x| x.kw(f)))
                && t.get(k + 1).is_some_and(|x| x.sym("("));
            if !defaulted {
                return plain(k);
            }
            let after = plain(k + 2)?;
            let zero = matches!(t.get(after + 1), Some(Tok::Num(n)) if int_of(n) == Some(0));
            (t.get(after)?.sym(",") && zero && t.get(after + 2)?.sym(")")).then_some(after + 3)
        };
        if let Some(k) = column(b) {
            let op = t.get(k)?;
            let (v, used) = self.value(k + 1)?;
            if k + 1 + used != e {
                return None;
            }
            return match () {
                _ if op.sym("+") => Some((v, false)),
                _ if op.sym("-") => Some((neg(&v), false)),
                _ => None,
            };
        }
        let (v, used) = self.value(b)?;
        let k = b + used;
        (t.get(k)?.sym("+") && column(k + 1) == Some(e)).then_some((v, false))
    }

    /// The columns an UPDATE's assignments (`t[set..end]`) change balances in: those
    /// the vocabulary lists (on a bonus table, or named for points or bonus on any
    /// table); where it assigns none, the first whose own words say it holds points
    /// (`customers.loyalty_points`) — one, so that a running total kept beside the
    /// balance is not counted twice.
    fn balance_columns(&self, set: usize, end: usize) -> Vec<String> {
        let t = self.t;
        let mut depth = 0i32;
        // (as written, lower case): the words of `rewardBalance` are in its case.
        let mut assigned: Vec<(&str, String, usize)> = Vec::new();
        for k in set + 1..end {
            depth += i32::from(t[k].sym("(")) - i32::from(t[k].sym(")"));
            if depth == 0 && t.get(k + 1).is_some_and(|x| x.sym("=")) {
                if let (Some(w), Some(c)) = (t[k].word(), t[k].ident()) {
                    assigned.push((w, c, k));
                }
            }
        }
        // An assignment that reads like an amount: a number, a bound value, or the
        // column's own value changed (`pickup_point = 'Main St'` is none).
        let numeric = |c: &str, k: usize| match t.get(k + 2) {
            Some(Tok::Num(_) | Tok::Param(_)) => true,
            Some(Tok::Str(v)) => int_of(v).is_some(),
            _ => (k + 2..end)
                .take_while(|&j| !t[j].sym(","))
                .any(|j| t[j].ident().as_deref() == Some(c)),
        };
        let listed: Vec<String> = (assigned.iter())
            .map(|(_, c, _)| c)
            .filter(|c| {
                self.vocab.is_amount_column(c)
                    && (self.bonus_table || c.contains("point") || c.contains("bonus"))
            })
            .cloned()
            .collect();
        if !listed.is_empty() {
            return listed;
        }
        // A balance kept on the customer's own row (`members.stars`) is in the
        // programme's unit as in a bonus table; a review's `stars` is not on that row.
        assigned
            .into_iter()
            .find(|(w, c, k)| self.vocab.names_amount(w, self.id_is_account) && numeric(c, *k))
            .map(|(_, c, _)| c)
            .into_iter()
            .collect()
    }

    /// (account, amount) of each row `INSERT INTO t (cols) SELECT …` takes from the
    /// value rows after its SELECT (`SELECT * FROM unnest($1::bigint[], $2::int[])`,
    /// `SELECT a, d, 'promo' FROM unnest(…) AS t(a, d)`, `FROM (VALUES …) v(a, d)`);
    /// `None` where the rows come from elsewhere or a value is not in the text.
    fn selected_rows(&self, cols: &[String], sel: usize) -> Option<Vec<(String, i64)>> {
        let t = self.t;
        let acct = self.account_index(cols)?;
        let amt = self.amount_index(cols)?;
        let from = (sel..t.len()).find(|&k| t[k].kw("FROM"))?;
        let sources = self.value_rows();
        let [src] = sources.as_slice() else {
            return None;
        };
        // The FROM item is the value rows, alone.
        if src.span.start != from + 1
            || t.get(src.span.end)
                .is_some_and(|x| !(x.sym(";") || x.kw("RETURNING")))
        {
            return None;
        }
        let list = &t[sel + 1..from];
        // The source column (or literal) each inserted column gets.
        let pick = |k: usize| -> Option<Result<usize, String>> {
            if list.len() == 1 && list[0].sym("*") {
                return (k < src.names.len()).then_some(Ok(k));
            }
            let item = list.split(|x| x.sym(",")).nth(k)?;
            match item {
                [Tok::Num(n)] => Some(Err(n.to_string())),
                [w] => w.ident().and_then(|c| src.col(&c)).map(Ok),
                [_, d, w] if d.sym(".") => w.ident().and_then(|c| src.col(&c)).map(Ok),
                _ => None,
            }
        };
        let (a, d) = (pick(acct)?, pick(amt)?);
        // Every column read must be in the text: an array bound but not logged names
        // its rows without showing them (no change to tell, nor an unnamed one).
        let read = [&a, &d]
            .into_iter()
            .filter_map(|p| p.as_ref().ok().copied());
        let read: Vec<usize> = read.collect();
        if read.iter().any(|&c| src.unshown(c)) {
            return Some(Vec::new());
        }
        if read.iter().any(|&c| src.cols[c].is_none()) {
            return None;
        }
        let cell = |p: &Result<usize, String>, r: usize| match p {
            Ok(c) => src.cell(*c, r).map(str::to_string),
            Err(v) => Some(v.clone()),
        };
        (0..src.rows())
            .map(|r| Some((cell(&a, r)?, int_of(&cell(&d, r)?)?)))
            .collect()
    }

    /// Whether a condition pins a key column to values: `key = 5`, `key = $1`, `key =
    /// ANY($1)`, `key IN (1, 2)`, `5 = key`; not `key = c.id` or `key IN (SELECT …)`.
    fn pins_key(&self, cond: &[Tok]) -> bool {
        let key = |x: &Tok| x.word().is_some_and(|c| self.is_key_col(c));
        let value = |x: Option<&Tok>| {
            x.is_some_and(|x| matches!(x, Tok::Num(_) | Tok::Str(_) | Tok::Param(_)))
        };
        let at = |i: usize| cond.get(i);
        (0..cond.len()).any(|i| {
            let eq = at(i + 1).is_some_and(|x| x.sym("="));
            let signed = |j: usize| value(at(j)) || at(j).is_some_and(|x| x.sym("-"));
            (key(&cond[i])
                && ((eq && (signed(i + 2) || at(i + 2).is_some_and(|x| x.kw("ANY"))))
                    || (eq && at(i + 2).is_some_and(|x| x.sym("(")) && signed(i + 3))
                    || (at(i + 1).is_some_and(|x| x.kw("IN"))
                        && at(i + 2).is_some_and(|x| x.sym("("))
                        && !at(i + 3).is_some_and(|x| x.kw("SELECT") || x.kw("WITH")))))
                || (value(Some(&cond[i])) && eq && at(i + 2).is_some_and(key))
        })
    }

    fn account_ids_where(&self) -> Vec<String> {
        let mut v = self.account_ids();
        v.sort();
        v.dedup();
        v
    }

    /// How an INSERT into a bonus table changes the amount column it fills, where that
    /// column holds a balance (not a ledger's movement): `Some(false)` where an upsert
    /// adds the row's amount to the balance (`ON CONFLICT … DO UPDATE SET balance =
    /// t.balance + EXCLUDED.balance`, `ON DUPLICATE KEY UPDATE balance = balance +
    /// VALUES(balance)`), `Some(true)` where it sets the balance outright (`REPLACE`, an
    /// upsert that assigns the value). None for a plain INSERT (a new row: the change is
    /// its value) and for ledgers.
    fn upsert_sets(&self) -> Option<bool> {
        let t = self.t;
        let (cols, values) = self.insert_columns()?;
        let col = cols.into_iter().find(|c| self.vocab.is_amount_column(c))?;
        if !col.contains("balance") {
            return None;
        }
        if t[0].kw("REPLACE") {
            return Some(true);
        }
        let upsert = (values..t.len()).find(|&i| t[i].kw("CONFLICT") || t[i].kw("DUPLICATE"))?;
        let assign = (upsert..t.len()).find(|&i| {
            t[i].ident().as_deref() == Some(col.as_str())
                && t.get(i + 1).is_some_and(|x| x.sym("="))
        });
        let Some(at) = assign else {
            // `DO NOTHING`: an existing balance is left as it was.
            return None;
        };
        let rhs = &t[at + 2..];
        let end = rhs
            .iter()
            .position(|x| x.sym(",") || x.kw("WHERE"))
            .unwrap_or(rhs.len());
        Some(!rhs[..end].iter().any(|x| x.sym("+") || x.sym("-")))
    }
}

/// A balance change of `account` by the amount `v` reads as (set outright where
/// `absolute`), if it reads as one.
fn change_of(account: &str, v: &str, absolute: bool, table: &str) -> Option<BonusChange> {
    Some(BonusChange {
        account_id: text(account),
        delta: int_of(v)?,
        absolute,
        table: text(table),
        ledger: false,
    })
}

pub(super) fn int_of(v: &str) -> Option<i64> {
    let v = v.trim();
    v.parse::<i64>()
        .ok()
        .or_else(|| v.parse::<f64>().ok().map(|f| f.round() as i64))
}

/// A column reference at the start of `t` (`q.col` or `col`) and the tokens it takes.
fn col_ref(t: &[Tok]) -> Option<((Option<String>, String), usize)> {
    let first = t.first()?.ident()?;
    if t.get(1).is_some_and(|x| x.sym(".")) {
        return Some(((Some(first), t.get(2)?.ident()?), 3));
    }
    Some(((None, first), 1))
}

/// One account's change from value rows: (account, amount, absolute).
type Listed = (String, i64, bool);

/// The changes an assignment to balance column `col` makes per row of value rows a key
/// is joined to: `col = [q.]col + v.amt`, `col = v.amt + col`, `col = col - v.amt` or
/// `col = v.amt` (set outright), as (account, amount, absolute); with whether every
/// row's amount is known. `None` where the assignment reads no column of those rows.
fn listed_amounts(
    col: &str,
    rhs: &[Tok],
    listed: &[(&ValueRows, usize)],
) -> Option<(Vec<Listed>, bool)> {
    let rhs = match rhs.iter().position(|x| x.sym(",")) {
        Some(e) => &rhs[..e],
        None => rhs,
    };
    // (source, key column, amount column) of a reference to a joined source.
    let joined = |r: &(Option<String>, String)| {
        listed.iter().find_map(|(s, k)| {
            let named = match &r.0 {
                Some(q) => s.alias.as_deref() == Some(q.as_str()),
                None => true,
            };
            named.then(|| s.col(&r.1)).flatten().map(|c| (*s, *k, c))
        })
    };
    let is_col = |r: &(Option<String>, String)| r.1 == col && joined(r).is_none();
    let first = col_ref(rhs);
    let read = rhs.iter().enumerate().find_map(|(k, _)| {
        col_ref(&rhs[k..])
            .filter(|_| k == 0 || !rhs[k - 1].sym("."))
            .and_then(|(r, _)| joined(&r))
    });
    let (src, key, amt) = read?;
    let form = match first {
        // v.amt alone: set outright.
        Some((r, n)) if joined(&r).is_some() && n == rhs.len() => Some((1, true)),
        // v.amt + col
        Some((r, n))
            if joined(&r).is_some()
                && rhs.get(n).is_some_and(|x| x.sym("+"))
                && col_ref(&rhs[n + 1..])
                    .is_some_and(|(c, m)| is_col(&c) && n + 1 + m == rhs.len()) =>
        {
            Some((1, false))
        }
        // col ± v.amt
        Some((r, n)) if is_col(&r) => {
            match (rhs.get(n), col_ref(rhs.get(n + 1..).unwrap_or_default())) {
                (Some(op), Some((v, m))) if joined(&v).is_some() && n + 1 + m == rhs.len() => {
                    if op.sym("+") {
                        Some((1, false))
                    } else if op.sym("-") {
                        Some((-1, false))
                    } else {
                        None
                    }
                }
                _ => None,
            }
        }
        _ => None,
    };
    let mut out = Vec::new();
    // Arrays bound but not logged name their rows and amounts without showing them.
    if src.unshown(key) || src.unshown(amt) {
        return Some((Vec::new(), form.is_some()));
    }
    let mut known = form.is_some() && src.cols[key].is_some() && src.cols[amt].is_some();
    for r in 0..src.rows() {
        let Some(acc) = src.cell(key, r) else {
            continue;
        };
        match (form, src.cell(amt, r).and_then(int_of)) {
            (Some((sign, absolute)), Some(v)) => out.push((acc.to_string(), sign * v, absolute)),
            _ => known = false,
        }
    }
    Some((out, known))
}

/// The index of the last part of a name that may be qualified from `k` on (`points`,
/// `w.points`, `"public"."Wallet"."points"` as Prisma writes it): `k` where no `.`
/// follows.
fn last_part(t: &[Tok], k: usize) -> usize {
    let mut k = k;
    while t.get(k).is_some_and(|x| x.word().is_some())
        && t.get(k + 1).is_some_and(|x| x.sym("."))
        && t.get(k + 2).is_some_and(|x| x.word().is_some())
    {
        k += 2;
    }
    k
}
