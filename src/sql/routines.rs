//! Stored procedures of the bonus system (`CALL loyalty.credit_points(…)`): a call
//! changes balances inside the database, where no statement of its own is logged. Named
//! arguments (`p_account_id => 5, p_points => 500`) say which account and how much;
//! positional ones say so only by the routine's definition (`definitions`), where the
//! evidence or the site profile gives it.

use super::filters::split_at_top;
use super::tokens::{close, neg, Analysis, Tok};

/// Prefixes and suffixes that mark a routine's parameter rather than name it.
const ARG_PREFIXES: &[&str] = &["p_", "in_", "i_", "v_", "arg_", "_"];
const ARG_SUFFIXES: &[&str] = &["_in", "_param", "_arg"];

/// An argument of a call.
struct Arg {
    /// Its parameter's name, without the marks of a parameter.
    name: String,
    /// Its value, where one the text gives.
    value: Option<String>,
    /// It sets a balance outright rather than adding to it.
    sets: bool,
}

/// A parameter's name without the marks of a parameter (`p_account_id` → `account_id`).
pub(super) fn bare_name(name: &str) -> &str {
    let n = ARG_PREFIXES
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(name);
    ARG_SUFFIXES
        .iter()
        .find_map(|s| n.strip_suffix(s))
        .unwrap_or(n)
}

impl Analysis<'_> {
    /// The routine a `CALL` runs, lower case, schema left out.
    pub(super) fn called(&self) -> Option<String> {
        called_routine(self.t, self.vocab)
    }

    /// The arguments of a call: named ones (`name => v`, `name := v`) by their names,
    /// those before them by position, named by the routine's known definition (its
    /// parameter's value negated where the body subtracts it).
    fn named_args(&self) -> Vec<Arg> {
        let t = self.t;
        let Some(open) = (1..t.len()).find(|&k| t[k].sym("(")) else {
            return Vec::new();
        };
        let end = close(t, open).unwrap_or(t.len());
        let items = if end > open + 1 {
            split_at_top(&t[open + 1..end], |x| x.sym(","))
        } else {
            Vec::new()
        };
        // Where each item starts in `t`.
        let mut at = open + 1;
        let starts: Vec<usize> = (items.iter())
            .map(|it| {
                let s = at;
                at += it.len() + 1;
                s
            })
            .collect();
        // The value of an item that is one value alone, maybe cast (`500::int`).
        let value = |k: usize, len: usize| {
            let cast = |used: usize| t.get(k + used).is_some_and(|x| x.sym("::"));
            (self.value(k))
                .filter(|(_, used)| *used == len || cast(*used))
                .map(|(v, _)| v)
        };
        let is_named = |it: &[Tok]| it.get(1).is_some_and(|x| x.sym("=>") || x.sym(":="));
        let mut out = Vec::new();
        for (it, &k) in items.iter().zip(&starts) {
            if let (true, Some(name)) = (is_named(it), it.first().and_then(Tok::ident)) {
                let name = bare_name(&name).to_string();
                out.push(Arg {
                    sets: name.contains("balance"),
                    value: value(k + 2, it.len() - 2),
                    name,
                });
            }
        }
        let positional = items.iter().take_while(|it| !is_named(it)).count();
        let by_call = t.first().is_some_and(|x| x.kw("CALL"));
        let def = (positional > 0)
            .then(|| self.called())
            .flatten()
            .and_then(|name| self.vocab.routine(&name, items.len(), by_call));
        if let Some(def) = def {
            for ((it, &k), p) in items
                .iter()
                .zip(&starts)
                .take(positional)
                .zip(def.passed(by_call))
            {
                let v = value(k, it.len()).map(|v| if p.negated { neg(&v) } else { v });
                out.push(Arg {
                    name: p.name.clone(),
                    value: v,
                    sets: p.sets,
                });
            }
        }
        out
    }

    /// The accounts a bonus routine's named arguments name.
    pub(super) fn called_accounts(&self) -> Vec<String> {
        if self.called().is_none() || !self.bonus_table {
            return Vec::new();
        }
        (self.named_args().into_iter())
            .filter(|a| self.vocab.is_account_column(&a.name))
            .filter_map(|a| a.value)
            .collect()
    }

    /// The change a call of a bonus routine makes: (account, amount, absolute) where its
    /// arguments give both (a `balance` argument sets the balance, any other amount is
    /// added); `None` where they do not — a change the text does not state.
    pub(super) fn called_change(&self) -> Option<(String, String, bool)> {
        let args = self.named_args();
        let acct = args
            .iter()
            .find(|a| self.vocab.is_account_column(&a.name))?;
        let amt = args.iter().find(|a| self.is_amount(&a.name))?;
        Some((acct.value.clone()?, amt.value.clone()?, amt.sets))
    }

    /// Whether a call's arguments name an account and an amount, whether or not their
    /// values were logged.
    pub(super) fn names_change(&self) -> bool {
        let args = self.named_args();
        args.iter().any(|a| self.vocab.is_account_column(&a.name))
            && args.iter().any(|a| self.is_amount(&a.name))
    }

    /// Whether an argument's name is an amount's: a listed amount column, or a
    /// programme's unit (`stars`) a bonus routine's definition passes it to.
    fn is_amount(&self, n: &str) -> bool {
        self.vocab.is_amount_column(n) || (self.bonus_table && self.vocab.names_amount(n, true))
    }
}

/// The routine a statement's tokens call (`CALL loyalty.credit_points(…)`): its name,
/// lower case, schema left out. A PostgreSQL function is called by a SELECT of it
/// alone (`SELECT loyalty.credit_points(42, 500)`, `SELECT * FROM add_points(…)`);
/// those count where the function's name starts with a verb that changes something
/// (`credit_`, `add_`, `award_`), not a reader's (`get_points`) or a sequence's.
pub(super) fn called_routine(t: &[Tok], vocab: &super::Vocab) -> Option<String> {
    let first = t.first()?;
    if first.kw("CALL") {
        return super::tokens::name_at(t, 1);
    }
    if !first.kw("SELECT") {
        return None;
    }
    let at = if t.get(1)?.sym("*") && t.get(2)?.kw("FROM") {
        3
    } else {
        1
    };
    // The name, maybe qualified, then its arguments, then nothing but an alias and `;`.
    let mut k = at;
    while t.get(k)?.word().is_some() && t.get(k + 1)?.sym(".") {
        k += 2;
    }
    t.get(k)?.word()?;
    let open = k + 1;
    if !t.get(open)?.sym("(") {
        return None;
    }
    let end = close(t, open)?;
    // An alias of its result may follow (`AS r`).
    let mut rest = &t[end + 1..];
    if rest.first().is_some_and(|x| x.kw("AS")) {
        rest = &rest[1..];
    }
    if rest.first().is_some_and(|x| x.word().is_some()) {
        rest = &rest[1..];
    }
    let rest_empty = rest.iter().all(|x| x.sym(";"));
    if !rest_empty {
        return None;
    }
    let name = super::tokens::name_at(t, at)?;
    // A routine whose definition is known counts whatever its name.
    if vocab.routines.iter().any(|r| r.name == name) {
        return Some(name);
    }
    let verb = super::name_words(&name).into_iter().next()?;
    WRITE_VERBS.contains(&verb.as_str()).then_some(name)
}

/// First words of a function that changes balances when a SELECT calls it.
const WRITE_VERBS: &[&str] = &[
    "add",
    "credit",
    "debit",
    "award",
    "grant",
    "give",
    "adjust",
    "transfer",
    "redeem",
    "deduct",
    "set",
    "update",
    "earn",
    "accrue",
    "refund",
    "spend",
    "apply",
    "change",
    "increase",
    "decrease",
    "increment",
    "decrement",
    "charge",
    "topup",
    "reward",
    "bonus",
    "move",
    "withdraw",
    "deposit",
    "issue",
    "revoke",
    "expire",
    "burn",
    "use",
];
