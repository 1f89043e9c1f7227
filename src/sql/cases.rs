//! Balance UPDATEs that give each account its own amount in a CASE, as scripts batch
//! them: `SET balance = balance + CASE account_id WHEN 1 THEN 100 … END`, `SET balance =
//! CASE WHEN account_id = 1 THEN balance + 100 … ELSE balance END`.

use super::tokens::{neg, Analysis, Tok};

/// What a CASE assigns to a balance column.
pub(super) struct CaseAmounts {
    /// Per account its arm: (amount, set outright), or None where the arm leaves the
    /// balance as it was.
    pub arms: Vec<(String, Option<(String, bool)>)>,
    /// Whether rows no arm names may change too: an ELSE that changes them, or no ELSE
    /// (the CASE gives them NULL).
    pub others: bool,
}

impl Analysis<'_> {
    /// The CASE of `col = …` whose right-hand side starts at `i` (tokens before `end`),
    /// where each arm names one account by a key column and gives it an amount; None
    /// for any other expression.
    pub(super) fn case_amounts(&self, col: &str, i: usize, end: usize) -> Option<CaseAmounts> {
        let t = &self.t[..end.min(self.t.len())];
        // `balance + CASE …`: the arms are amounts added (or, after `-`, taken away).
        let (mut j, added) = match self.column_end(t, col, i) {
            Some(k) if t.get(k)?.sym("+") => (k + 1, Some(false)),
            Some(k) if t.get(k)?.sym("-") => (k + 1, Some(true)),
            Some(_) => return None,
            None => (i, None),
        };
        if !t.get(j)?.kw("CASE") {
            return None;
        }
        j += 1;
        // `CASE account_id WHEN 1 …` or `CASE WHEN account_id = 1 …`.
        let simple = !t.get(j)?.kw("WHEN");
        if simple {
            j = self.key_end(t, j)?;
        }
        let mut arms = Vec::new();
        let mut others = true;
        loop {
            let x = t.get(j)?;
            if x.kw("END") {
                j += 1;
                break;
            }
            if x.kw("ELSE") {
                let (amount, next) = self.arm(t, col, j + 1, added)?;
                others = amount.is_some();
                j = next;
                continue;
            }
            if !x.kw("WHEN") {
                return None;
            }
            j += 1;
            if !simple {
                j = self.key_end(t, j)?;
                if !t.get(j)?.sym("=") {
                    return None;
                }
                j += 1;
            }
            let (account, used) = self.value(j)?;
            j += used;
            if !t.get(j)?.kw("THEN") {
                return None;
            }
            let (amount, next) = self.arm(t, col, j + 1, added)?;
            arms.push((account, amount));
            j = next;
        }
        // The CASE is the whole right-hand side.
        (j == t.len() || t[j].sym(",")).then_some(CaseAmounts { arms, others })
    }

    /// One arm's result from `j`, up to the next WHEN, ELSE or END: an amount added
    /// (`added`: after `balance +`, or `-` when true), else `balance ± n`, `n + balance`
    /// or `n` set outright; None for `balance` itself (or `0` added). Returns the index
    /// after it.
    fn arm(
        &self,
        t: &[Tok],
        col: &str,
        j: usize,
        added: Option<bool>,
    ) -> Option<(Option<(String, bool)>, usize)> {
        let stop = |k: usize| {
            t.get(k)
                .is_some_and(|x| x.kw("WHEN") || x.kw("ELSE") || x.kw("END"))
        };
        let amount = |v: String, absolute: bool| {
            let zero = !absolute && v.trim_start_matches('-').trim_start_matches('0').is_empty();
            (!zero).then_some((v, absolute))
        };
        if let Some(minus) = added {
            let (v, used) = self.value(j)?;
            let v = if minus { neg(&v) } else { v };
            return stop(j + used).then(|| (amount(v, false), j + used));
        }
        if let Some(k) = self.column_end(t, col, j) {
            if stop(k) {
                return Some((None, k));
            }
            let minus = t.get(k)?.sym("-");
            if !(minus || t[k].sym("+")) {
                return None;
            }
            let (v, used) = self.value(k + 1)?;
            let v = if minus { neg(&v) } else { v };
            return stop(k + 1 + used).then(|| (amount(v, false), k + 1 + used));
        }
        let (v, used) = self.value(j)?;
        let k = j + used;
        if stop(k) {
            return Some((amount(v, true), k));
        }
        // `n + balance`
        let after = t
            .get(k)?
            .sym("+")
            .then(|| self.column_end(t, col, k + 1))??;
        stop(after).then(|| (amount(v, false), after))
    }

    /// The index after the column `col` at `j`, bare or qualified (`b.balance`).
    fn column_end(&self, t: &[Tok], col: &str, j: usize) -> Option<usize> {
        let is = |k: usize| t.get(k).and_then(|x| x.ident()).as_deref() == Some(col);
        if t.get(j + 1).is_some_and(|x| x.sym(".")) && is(j + 2) {
            Some(j + 3)
        } else {
            is(j).then_some(j + 1)
        }
    }

    /// The index after an account key column at `j`, bare or qualified.
    fn key_end(&self, t: &[Tok], j: usize) -> Option<usize> {
        let k = if t.get(j + 1).is_some_and(|x| x.sym(".")) {
            j + 2
        } else {
            j
        };
        t.get(k)?
            .word()
            .is_some_and(|c| self.is_key_col(c))
            .then_some(k + 1)
    }
}
