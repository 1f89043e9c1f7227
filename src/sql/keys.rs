//! The accounts a statement names: key predicates (`account_id = 5`, `IN (…)`,
//! `= ANY(…)`), inserted rows, value rows and routine arguments; whether it names them
//! by a points row's own id; and the owner a row saved whole writes back.

use super::tokens::{close, Analysis, Tok};

impl Analysis<'_> {
    /// The account an UPDATE of a points row gives the row it picks by its own `id`:
    /// an ORM that saves every field writes the owner's column back (`UPDATE wallet SET
    /// customer_id = 42, points = 550 WHERE id = 17`, as Django and Hibernate do), and
    /// the row's id (17) numbers the wallet, not a customer. None where the filter pins
    /// an account column, the table holds the customers themselves, or the SET assigns
    /// no account column one value.
    pub(super) fn set_owner(&self) -> Option<String> {
        let t = self.t;
        if !t.first().is_some_and(|x| x.kw("UPDATE")) {
            return None;
        }
        if self.holds_customers() {
            return None;
        }
        let wh = t.iter().position(|x| x.kw("WHERE"))?;
        let pins = |k: usize| t.get(k + 1).is_some_and(|x| x.sym("=") || x.kw("IN"));
        let filter = wh + 1..t.len();
        let own = filter
            .clone()
            .any(|k| t[k].word().is_some_and(|c| c.eq_ignore_ascii_case("id")) && pins(k));
        let account = filter
            .into_iter()
            .any(|k| t[k].word().is_some_and(|c| self.vocab.is_account_column(c)) && pins(k));
        if !own || account {
            return None;
        }
        let mut owners = (self.set_values().into_iter())
            .filter(|(c, _)| self.vocab.is_account_column(c))
            .map(|(_, v)| v);
        match (owners.next(), owners.next()) {
            (Some(v), None) => Some(v),
            _ => None,
        }
    }

    /// Whether the statement's table holds the customers themselves (`customers`, not a
    /// points account such as `bonus_accounts`): a row's own `id` there is the account.
    pub(super) fn holds_customers(&self) -> bool {
        !self.bonus_table && (self.table.as_deref()).is_some_and(|t| self.vocab.is_account_table(t))
    }

    /// Account ids named by `col = v` and `col IN (…)` predicates and inserted rows.
    pub fn account_ids(&self) -> Vec<String> {
        self.keys().0
    }

    /// Account ids named by `col = v` and `col IN (…)` predicates and inserted rows, and
    /// whether the predicates named them by the row's own `id` in a table that does not
    /// hold the customers (`UPDATE wallets SET points = 550 WHERE id = 17`, as Rails
    /// saves a row): those are the rows' numbers, which are their owners' only where the
    /// table shares the customers' key. The correlation learns the owners where the
    /// evidence names them (`correlate::owners`). A filter that also pins an account
    /// column (`WHERE id = 17 AND customer_id = 42`) names the owner by it alone.
    pub fn keys(&self) -> (Vec<String>, bool) {
        let mut out = Vec::new();
        let mut by_id = Vec::new();
        let t = self.t;
        let mut qmark = 0usize;
        // A points row picked by its own id names its owner in the SET, not by the id.
        let owned = self.set_owner().is_some();
        for i in 0..t.len() {
            if matches!(&t[i], Tok::Param(q) if &**q == "?") {
                qmark += 1;
            }
            let Some(col) = t[i].word() else { continue };
            // The predicate's shape first: most words are followed by neither, and the
            // vocabulary's columns are compared only for those that are.
            let eq = t.get(i + 1).is_some_and(|x| x.sym("="));
            let list = !eq
                && t.get(i + 1).is_some_and(|x| x.kw("IN"))
                && t.get(i + 2).is_some_and(|x| x.sym("("));
            if !(eq || list) || !self.is_key_col(col) {
                continue;
            }
            if owned && !self.vocab.is_account_column(col) {
                continue;
            }
            let own_id = col.eq_ignore_ascii_case("id")
                && !self.vocab.is_account_column(col)
                && !self.holds_customers();
            let out = if own_id { &mut by_id } else { &mut out };
            if eq {
                if let Some((v, _)) = self.value(i + 2) {
                    out.push(v);
                } else if t.get(i + 2).is_some_and(|x| x.kw("ANY")) {
                    out.extend(self.any_values(i + 3));
                } else if matches!(t.get(i + 2), Some(Tok::Param(q)) if &**q == "?") {
                    if let Some(v) = self.params.get(qmark) {
                        out.push(v.clone());
                    }
                }
            } else {
                // A list of values; `IN (SELECT …)` names its rows by another filter, and
                // the subquery's values (`city = 'Kyiv'`) are not accounts.
                let mut j = i + 3;
                let mut values = Vec::new();
                while j < t.len() && !t[j].sym(")") {
                    if t[j].kw("SELECT") || t[j].kw("WITH") || t[j].kw("VALUES") {
                        values.clear();
                        // Except the values of an array it unnests.
                        if t[j].kw("SELECT") && j == i + 3 {
                            values = self.subquery_list(i + 2);
                        }
                        break;
                    }
                    if let Some((v, used)) = self.value(j) {
                        values.push(v);
                        j += used;
                    } else {
                        j += 1;
                    }
                }
                out.append(&mut values);
            }
        }
        for c in self.inserted_rows() {
            if let Some(a) = c.0 {
                out.push(a);
            }
        }
        out.extend(self.listed_ids());
        out.extend(self.called_accounts());
        out.retain(|v| !v.is_empty());
        by_id.retain(|v| !v.is_empty());
        let row_ids = out.is_empty() && !by_id.is_empty();
        if row_ids {
            out = by_id;
        }
        out.sort();
        out.dedup();
        (out, row_ids)
    }

    /// The values of PostgreSQL's `= ANY(…)` from the `(` at `i`: an array bound as a
    /// parameter or written as a literal, both in the array's text form (`$1` bound to
    /// `{100119,100120}`, `'{100119,100120}'::bigint[]`), an `ARRAY[…]` constructor, a
    /// cast of one, or `string_to_array($1, ',')`. A subquery or an expression names no
    /// values here.
    fn any_values(&self, i: usize) -> Vec<String> {
        let t = self.t;
        if !t.get(i).is_some_and(|x| x.sym("(")) {
            return Vec::new();
        }
        let Some(end) = close(t, i) else {
            return Vec::new();
        };
        self.array_values(&t[i + 1..end]).unwrap_or_default()
    }
}
