//! Bonus operations: which balance statements make one change (a request's UPDATE and
//! its ledger row, a transfer's debit and credit, a prompt's UPDATE and the row typed a
//! minute later), and what each operation did to each account's balance.

use super::enrich::Links;
use super::Analysis;
use crate::model::Event;
use foldhash::{HashMap, HashMapExt};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// The effective bonus changes of DB events: per originating request (request id, or the
/// request linked by account and time), balance UPDATEs win over ledger INSERTs of the
/// same operation; statements with no origin stand alone.
pub fn bonus_ops(a: &Analysis, l: &Links) -> Vec<(usize, String, i64, bool)> {
    let ev = &a.ing.events;
    let burst = bursts(ev, l);
    // Statements grouped by sorting (operation, event) in parallel: every event lies in
    // one group, and the result is ordered by event at the end (stably, keeping each
    // statement's changes in order), so the order of the groups does not matter.
    let mut keyed: Vec<(Op, usize)> = (0..ev.len())
        .into_par_iter()
        .filter(|&i| {
            ev[i]
                .sql
                .as_ref()
                .is_some_and(|f| !f.bonus_changes.is_empty())
        })
        .map(|i| (op_of(ev, l, &burst, i), i))
        .collect();
    keyed.par_sort_unstable();
    let mut out: Vec<(usize, String, i64, bool)> = keyed
        .par_chunk_by(|a, b| a.0 == b.0)
        .flat_map_iter(|group| {
            let changes = |&(_, i): &(Op, usize)| {
                ev[i]
                    .sql
                    .as_ref()
                    .expect("filtered")
                    .bonus_changes
                    .iter()
                    .map(move |c| (i, c))
            };
            let any_balance = group.iter().flat_map(changes).any(|(_, c)| !c.ledger);
            // In a burst a ledger row yields only to a balance change of its own account:
            // the session may have served two operations.
            let burst = matches!(group[0].0, Op::Burst(_));
            let balanced: BTreeSet<&str> = group
                .iter()
                .flat_map(changes)
                .filter(|(_, c)| !c.ledger)
                .map(|(_, c)| c.account_id.as_str())
                .collect();
            // A balance set outright whose operation also wrote the account's ledger row
            // changed it by the row's amount (an ORM saving the row beside its ledger);
            // with two sets of the account in one operation it stays unknown.
            // Per account: the ledger rows' amount, their number, the number of sets.
            let mut ledgered: BTreeMap<&str, (i64, usize, usize)> = BTreeMap::new();
            for (_, c) in group.iter().flat_map(changes) {
                let x = ledgered.entry(c.account_id.as_str()).or_default();
                if c.ledger {
                    x.0 += c.delta;
                    x.1 += 1;
                } else if c.absolute {
                    x.2 += 1;
                }
            }
            group
                .iter()
                .flat_map(changes)
                .filter(move |(_, c)| {
                    !c.ledger
                        || if burst {
                            !balanced.contains(c.account_id.as_str())
                        } else {
                            !any_balance
                        }
                })
                .map(move |(i, c)| {
                    let acc = c.account_id.as_str();
                    match ledgered.get(acc) {
                        Some(&(amount, rows, 1)) if c.absolute && !c.ledger && rows > 0 => {
                            (i, acc.to_string(), amount, false)
                        }
                        _ => (i, acc.to_string(), c.delta, c.absolute),
                    }
                })
        })
        .collect();
    out.par_sort_by_key(|x| x.0);
    super::balances::settle(ev, &mut out);
    out
}

/// What groups bonus statements into one operation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Op<'a> {
    Request(&'a str),
    Origin(usize),
    /// Statements no request explains, of one session and moments apart (one
    /// transaction: the balance UPDATE and its ledger row), by its first statement.
    Burst(usize),
    Alone(usize),
}

/// The operation of a bonus statement: its request id; else the request it was linked
/// to (by account and time, or its session's statement just before); else its run of
/// statements on one session (`bursts`).
pub(super) fn op_of<'a>(
    ev: &'a [Box<Event>],
    l: &Links,
    burst: &HashMap<usize, Tie>,
    i: usize,
) -> Op<'a> {
    match (&ev[i].request_id, l.origin(i)) {
        (Some(r), _) => Op::Request(r),
        (None, Some(g)) => Op::Origin(g),
        (None, None) => match burst.get(&i) {
            Some(Tie::Origin(g)) => Op::Origin(*g),
            Some(Tie::First(first)) => Op::Burst(*first),
            None => Op::Alone(i),
        },
    }
}

/// How a bonus statement no request explains joins others: the operation of the
/// statement its session ran just before it, or a run of its own.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Tie {
    /// The request the statement before it came from.
    Origin(usize),
    /// A run of statements no request explains, by its first.
    First(usize),
}

/// Bonus statements no request explains, joined per session to the statement just
/// before (within two seconds) when the two are halves of one change: the same account's
/// (the ledger row after a balance UPDATE), or opposite amounts (a transfer's credit after
/// its debit). The ledger row after a balance UPDATE whose request is known shares that
/// request; runs with none are grouped by their first statement. Another customer's
/// change a second after an operation on the same pooled connection is not its.
pub(super) fn bursts(ev: &[Box<Event>], l: &Links) -> HashMap<usize, Tie> {
    let mut last: HashMap<&str, (i64, Tie, usize)> = HashMap::new();
    // Balance changes no request explains, by (session, account, amount), not yet
    // written to the ledger: a person at a database prompt writes the ledger row a
    // minute after the UPDATE, not within two seconds.
    let mut unledgered: HashMap<(&str, &str, i64), (i64, Tie)> = HashMap::new();
    let mut out = HashMap::new();
    let changes = |i: usize| ev[i].sql.as_ref().map_or(&[][..], |f| &f.bonus_changes[..]);
    for (i, e) in ev.iter().enumerate() {
        if e.request_id.is_some() || changes(i).is_empty() {
            continue;
        }
        let Some(s) = e.session_id.as_deref() else {
            continue;
        };
        let tie = match (l.origin(i), last.get(s)) {
            (Some(g), _) => {
                last.insert(s, (e.ts, Tie::Origin(g), i));
                continue;
            }
            (None, Some(&(t, tie, prev)))
                if e.ts - t <= 2_000_000 && halves(changes(prev), changes(i)) =>
            {
                tie
            }
            (None, _) => ledger_of(&unledgered, s, e.ts, changes(i)).unwrap_or(Tie::First(i)),
        };
        for c in changes(i) {
            let key = (s, c.account_id.as_str(), c.delta);
            if !c.ledger && !c.absolute {
                unledgered.insert(key, (e.ts, tie));
            } else if c.ledger && unledgered.get(&key).is_some_and(|x| x.1 == tie) {
                // Written: a second row of the same amount is an operation of its own.
                unledgered.remove(&key);
            }
        }
        last.insert(s, (e.ts, tie, i));
        out.insert(i, tie);
    }
    out
}

/// The operation a statement of ledger rows only belongs to when each row repeats a
/// balance change its session made in the ten minutes before (the same account and
/// amount) that no row has written yet, and all those changes are of one operation.
fn ledger_of<'a>(
    unledgered: &HashMap<(&'a str, &'a str, i64), (i64, Tie)>,
    session: &'a str,
    ts: i64,
    rows: &'a [crate::model::BonusChange],
) -> Option<Tie> {
    const WINDOW_US: i64 = 10 * 60 * 1_000_000;
    if rows.is_empty() || rows.iter().any(|c| !c.ledger || c.absolute) {
        return None;
    }
    let key = |c: &'a crate::model::BonusChange| (session, c.account_id.as_str(), c.delta);
    let mut tie: Option<Tie> = None;
    for c in rows {
        let &(t, x) = unledgered.get(&key(c))?;
        if ts - t > WINDOW_US || tie.is_some_and(|y| y != x) {
            return None;
        }
        tie = Some(x);
    }
    tie
}

/// Whether two statements' bonus changes are halves of one operation: one account's, or
/// opposite relative amounts.
fn halves(a: &[crate::model::BonusChange], b: &[crate::model::BonusChange]) -> bool {
    a.iter().any(|x| {
        b.iter().any(|y| {
            x.account_id == y.account_id
                || (!x.absolute && !y.absolute && x.delta != 0 && x.delta == -y.delta)
        })
    })
}
