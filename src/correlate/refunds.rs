//! Refunds: outlying credits that put back exactly what an earlier outlying debit took
//! from the same account. Staff restoring a drained balance after the theft make the
//! same large changes the theft did; they are not fraud, and the accounts they restored
//! must not be compensated twice.

use super::Analysis;
use crate::profile::Profile;
use std::collections::BTreeMap;

/// The population's typical change (the median size of relative changes) and the size
/// above which a change is outlying.
pub fn outlier_limit(ops: &[(usize, String, i64, bool)], p: &Profile) -> (i64, i64) {
    median_limit(ops.iter().filter(|o| !o.3).map(|o| o.2), p)
}

/// The median of some amounts' sizes (at least 1) and `bonus_outlier_factor` times it.
pub fn median_limit(amounts: impl Iterator<Item = i64>, p: &Profile) -> (i64, i64) {
    let mut mags: Vec<i64> = amounts.map(i64::abs).collect();
    mags.sort_unstable();
    let median = mags.get(mags.len() / 2).copied().unwrap_or(1).max(1);
    (
        median,
        (median as f64 * p.thresholds.bonus_outlier_factor) as i64,
    )
}

/// Outlying credits that restore an earlier outlying debit of the same account and
/// amount: credit event → debit event. Each debit is restored once, by the first such
/// credit after it; the debit and credit of one operation (a correction within seconds
/// in one request) are no refund, so the credit must come a minute or more later.
pub fn find(a: &Analysis, p: &Profile) -> BTreeMap<usize, usize> {
    let ops = &a.bonus_ops;
    let mut out = BTreeMap::new();
    if ops.len() < 10 {
        return out;
    }
    let (_, limit) = outlier_limit(ops, p);
    let ev = &a.ing.events;
    // Open outlying debits per account, in time order.
    let mut open: BTreeMap<&str, Vec<(usize, i64)>> = BTreeMap::new();
    let mut order: Vec<&(usize, String, i64, bool)> = ops.iter().filter(|o| !o.3).collect();
    order.sort_by_key(|o| (ev[o.0].ts, o.0));
    for (i, acc, d, _) in order {
        if d.abs() <= limit {
            continue;
        }
        if *d < 0 {
            open.entry(acc).or_default().push((*i, -d));
            continue;
        }
        let Some(debits) = open.get_mut(acc.as_str()) else {
            continue;
        };
        let ts = ev[*i].ts;
        if let Some(k) =
            (debits.iter()).position(|&(j, amount)| amount == *d && ts - ev[j].ts >= 60_000_000)
        {
            out.insert(*i, debits.remove(k).0);
        }
    }
    out
}

/// The note on refunds found, naming the accounts and amounts.
pub fn note(a: &Analysis) -> Option<String> {
    if a.restored.is_empty() {
        return None;
    }
    let by_event: BTreeMap<usize, (&str, i64)> = (a.bonus_ops.iter())
        .map(|(i, acc, d, _)| (*i, (acc.as_str(), *d)))
        .collect();
    let mut list: Vec<String> = (a.restored.keys())
        .filter_map(|i| by_event.get(i))
        .map(|(acc, d)| format!("{acc} ({d:+})"))
        .collect();
    let n = list.len();
    if n > 20 {
        list.truncate(20);
        list.push("…".into());
    }
    Some(format!(
        "{n} outlying credits put back exactly what an earlier outlying debit had taken from \
         the same account (refunds, made a minute or more later): they are not counted as \
         fraud, and these accounts' balances were restored by them already: {}.",
        list.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, SourceKind};

    fn analysis(changes: &[(i64, &str, i64)]) -> Analysis {
        let mut a = Analysis::default();
        for (k, (secs, acc, d)) in changes.iter().enumerate() {
            let mut e = Event::new(SourceKind::Db, "pg-stderr");
            e.ts = secs * 1_000_000;
            a.ing.events.push(Box::new(e));
            a.bonus_ops.push((k, acc.to_string(), *d, false));
        }
        a
    }

    #[test]
    fn a_later_credit_of_the_amount_taken_restores_it() {
        // Ten ordinary changes of 40 points: anything over 800 is outlying.
        let mut c: Vec<(i64, &str, i64)> = (0..10).map(|k| (k, "100001", 40)).collect();
        c.push((100, "100042", -1489)); // drained
        c.push((105, "100099", 1489)); // into the attacker's account
        c.push((3_600, "100042", 1489)); // refunded an hour later
        c.push((3_700, "100042", 1489)); // a second credit restores nothing more
        c.push((200, "100043", -2000)); // drained
        c.push((230, "100043", 2000)); // put back within the minute: one operation's pair
        c.push((400, "100044", -900)); // drained, refunded with another amount
        c.push((4_000, "100044", 950));
        let mut a = analysis(&c);
        let r = find(&a, &Profile::default());
        assert_eq!(r.into_iter().collect::<Vec<_>>(), [(12, 10)]);
        a.restored = find(&a, &Profile::default());
        assert!(note(&a).unwrap().contains("100042 (+1489)"));
    }
}
