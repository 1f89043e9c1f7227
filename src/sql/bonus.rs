//! Which bonus balances a write changes, and by how much: balance UPDATEs (`+ N`, `- N`,
//! set outright), ledger INSERTs (multi-row, bound values), upserts of a balance, and
//! writes whose rows or amounts the text does not say.

use super::tokens::{neg, Analysis, Tok};
use crate::model::{text, BonusChange};

impl Analysis<'_> {
    /// Balance changes of an UPDATE … SET or a ledger INSERT, and whether an UPDATE
    /// changed balances of rows it does not name (no key in its filter, or keys a
    /// subquery picks) or by an expression of no amount (`balance * 10`): which
    /// accounts, or by how much, its text cannot say. A value bound but not logged is
    /// neither (the row or amount is named, only not shown).
    pub fn bonus_writes(&self) -> (Vec<BonusChange>, bool) {
        let t = self.t;
        let table = self.table.clone().unwrap_or_default();
        let mut out = Vec::new();
        let mut unnamed = false;
        if t.first().is_some_and(|x| x.kw("UPDATE")) {
            let Some(set) = t.iter().position(|x| x.kw("SET")) else {
                return (out, false);
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
                    ..*self
                }
                .account_ids_where()
            } else {
                Vec::new()
            };
            // Whether the filter names rows by key: pins a key to values (not to keys a
            // subquery picks, nor to another table's column, as `UPDATE … FROM` and a
            // MERGE join them).
            let keyed = wh < t.len() && self.pins_key(&t[wh + 1..]);
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
                let amount_col = self.vocab.amount_columns.contains(&col);
                if amount_col
                    && (self.bonus_table || col.contains("point") || col.contains("bonus"))
                {
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
                            match int_of(&v) {
                                Some(delta) => out.push(BonusChange {
                                    account_id: text(&a),
                                    delta,
                                    absolute,
                                    table: text(&table),
                                    ledger: false,
                                }),
                                None => unnamed = true,
                            }
                        }
                        i += 2;
                        continue;
                    }
                    // col = col ± v | col = v ± col | col = v; the column on the right
                    // may be qualified (`b.balance`).
                    let rhs = &t[i + 2..wh];
                    let q = if rhs.get(1).is_some_and(|x| x.sym("."))
                        && rhs.get(2).and_then(|x| x.ident()).as_deref() == Some(&col)
                    {
                        2
                    } else {
                        0
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
                    let bound = rhs.iter().any(|x| matches!(x, Tok::Param(_)));
                    let amount = parsed.as_ref().is_some_and(|(v, _)| int_of(v).is_some());
                    unnamed |= !keyed || (!amount && !bound);
                    if let Some((v, absolute)) = parsed {
                        if let Some(d) = int_of(&v) {
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
            // `INSERT INTO ledger (account_id, amount, …) SELECT id, 1000, … FROM
            // customers`: rows another query picks, none named here.
            let values = t.iter().position(|x| x.kw("VALUES"));
            let select = t.iter().position(|x| x.kw("SELECT"));
            if t.first().is_some_and(|x| x.kw("INSERT"))
                && select.is_some_and(|s| values.is_none_or(|v| s < v))
            {
                let head = &t[..select.unwrap_or(0)];
                let cols = match head.iter().position(|x| x.sym("(")) {
                    Some(open) => &head[open + 1..],
                    None => &[][..],
                };
                unnamed |= cols.is_empty()
                    || cols.iter().filter_map(|x| x.ident()).any(|c| {
                        self.vocab.amount_columns.contains(&c)
                            || c.contains("point")
                            || c.contains("bonus")
                    });
            }
            // A balance an upsert adds to or sets is the balance's change, not a ledger
            // row's.
            let upsert = self.upsert_sets();
            for (acct, amt) in self.inserted_rows() {
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
        (out, unnamed)
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
        let col = cols
            .into_iter()
            .find(|c| self.vocab.amount_columns.iter().any(|a| a == c))?;
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

fn int_of(v: &str) -> Option<i64> {
    let v = v.trim();
    v.parse::<i64>()
        .ok()
        .or_else(|| v.parse::<f64>().ok().map(|f| f.round() as i64))
}
