//! Stored procedures of the bonus system (`CALL loyalty.credit_points(…)`): a call
//! changes balances inside the database, where no statement of its own is logged. Named
//! arguments (`p_account_id => 5, p_points => 500`) say which account and how much;
//! positional ones say neither.

use super::tokens::{close, Analysis, Tok};

/// Prefixes and suffixes that mark a routine's parameter rather than name it.
const ARG_PREFIXES: &[&str] = &["p_", "in_", "i_", "v_", "arg_", "_"];
const ARG_SUFFIXES: &[&str] = &["_in", "_param", "_arg"];

/// A parameter's name without the marks of a parameter (`p_account_id` → `account_id`).
fn bare(name: &str) -> &str {
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
        called_routine(self.t)
    }

    /// The named arguments of a `CALL` (`name => v`, `name := v`), name without its
    /// parameter marks → value (`None` where not a value the text gives).
    fn named_args(&self) -> Vec<(String, Option<String>)> {
        let t = self.t;
        let Some(open) = (1..t.len()).find(|&k| t[k].sym("(")) else {
            return Vec::new();
        };
        let end = close(t, open).unwrap_or(t.len());
        let mut out = Vec::new();
        for k in open + 1..end {
            let arrow = t.get(k + 1).is_some_and(|x| x.sym("=>") || x.sym(":="));
            let first = t[k - 1].sym("(") || t[k - 1].sym(",");
            if let (true, true, Some(name)) = (arrow, first, t[k].ident()) {
                let v = self.value(k + 2).and_then(|(v, used)| {
                    let next = t.get(k + 2 + used);
                    next.is_none_or(|x| x.sym(",") || x.sym(")") || x.sym("::"))
                        .then_some(v)
                });
                out.push((bare(&name).to_string(), v));
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
            .filter(|(n, _)| self.vocab.is_account_column(n))
            .filter_map(|(_, v)| v)
            .collect()
    }

    /// The change a call of a bonus routine makes: (account, amount, absolute) where its
    /// named arguments give both (a `balance` argument sets the balance, any other
    /// amount is added); `None` where they do not — a change the text does not state.
    pub(super) fn called_change(&self) -> Option<(String, String, bool)> {
        let args = self.named_args();
        let acct = args.iter().find(|(n, _)| self.vocab.is_account_column(n))?;
        let amt = args.iter().find(|(n, _)| self.vocab.is_amount_column(n))?;
        Some((acct.1.clone()?, amt.1.clone()?, amt.0.contains("balance")))
    }

    /// Whether a call's named arguments name an account and an amount, whether or not
    /// their values were logged.
    pub(super) fn names_change(&self) -> bool {
        let args = self.named_args();
        args.iter().any(|(n, _)| self.vocab.is_account_column(n))
            && args.iter().any(|(n, _)| self.vocab.is_amount_column(n))
    }
}

/// The routine a statement's tokens call (`CALL loyalty.credit_points(…)`): its name,
/// lower case, schema left out. A PostgreSQL function is called by a SELECT of it
/// alone (`SELECT loyalty.credit_points(42, 500)`, `SELECT * FROM add_points(…)`);
/// those count where the function's name starts with a verb that changes something
/// (`credit_`, `add_`, `award_`), not a reader's (`get_points`) or a sequence's.
pub(super) fn called_routine(t: &[Tok]) -> Option<String> {
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
