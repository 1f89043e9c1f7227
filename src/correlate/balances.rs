//! Balances set outright (`SET balance = 1200`, as an ORM saves a row): what each set
//! changed, from the balance the evidence last gave the account (a set whose operation
//! wrote a ledger row takes the row's amount in `operations::bonus_ops`).

use crate::model::Event;
use foldhash::{HashMap, HashMapExt};

/// Bonus operations as `operations::bonus_ops` makes them: (event, account, points, whether
/// the points are a balance set outright).
pub type Op = (usize, String, i64, bool);

/// Turns each set whose earlier balance the evidence gives (an earlier set of the
/// account, plus the changes since) into the change it made: the value set less that
/// balance. Every operation counts towards the balance, the application's own as well
/// as the attacker's. A set the evidence gives no earlier balance for stays a set: what
/// it changed is unknown. `ops` are in event order.
pub fn settle(ev: &[Box<Event>], ops: &mut [Op]) {
    let mut known: HashMap<String, i64> = HashMap::new();
    let mut order: Vec<usize> = (0..ops.len()).collect();
    order.sort_by_key(|&k| (ev[ops[k].0].ts, ops[k].0, k));
    for k in order {
        let (i, acc, d, abs) = &mut ops[k];
        if *abs {
            let value = *d;
            if let Some(b) = known.get(acc.as_str()) {
                *d = value - b;
                *abs = false;
            }
            known.insert(acc.clone(), value);
        } else if let Some(value) = set_value(&ev[*i], acc) {
            // A set its ledger row gave the change of: the balance is the value set.
            known.insert(acc.clone(), value);
        } else if let Some(b) = known.get_mut(acc.as_str()) {
            *b += *d;
        }
    }
}

/// The value a statement set an account's balance to, when it set it outright (for
/// explanations of settled sets).
pub fn set_value(e: &Event, account: &str) -> Option<i64> {
    let f = e.sql.as_ref()?;
    f.bonus_changes
        .iter()
        .find(|c| c.absolute && !c.ledger && c.account_id.as_str() == account)
        .map(|c| c.delta)
}

/// Whether the application itself sets balances outright: a tenth or more of the
/// operations, and ten or more, are sets (before `settle`).
pub fn app_sets(ev: &[Box<Event>], ops: &[Op]) -> bool {
    let sets = ops
        .iter()
        .filter(|(i, acc, ..)| set_value(&ev[*i], acc).is_some())
        .count();
    sets >= 10 && sets * 10 >= ops.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;

    #[test]
    fn a_set_after_a_known_balance_is_the_change_it_made() {
        let ev: Vec<Box<Event>> = (0..6)
            .map(|k| {
                let mut e = Event::new(SourceKind::Db, "pg-stderr");
                e.ts = k * 1_000_000;
                Box::new(e)
            })
            .collect();
        let mut ops: Vec<Op> = vec![
            (0, "a".into(), 40, false),   // a change before any known balance
            (1, "a".into(), 1200, true),  // the application sets 1200
            (2, "a".into(), 15, false),   // 1215
            (3, "a".into(), 99999, true), // +98784
            (4, "b".into(), 500, true),   // nothing known of b
            (5, "b".into(), 0, true),     // −500
        ];
        settle(&ev, &mut ops);
        let got: Vec<(i64, bool)> = ops.iter().map(|o| (o.2, o.3)).collect();
        assert_eq!(
            got,
            vec![
                (40, false),
                (1200, true),
                (15, false),
                (98784, false),
                (500, true),
                (-500, false)
            ]
        );
    }
}
