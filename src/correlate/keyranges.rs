//! The accounts a read by key range returned (`SqlFacts::key_range`: `WHERE id BETWEEN
//! 1000 AND 1999`, `id > 4200 ORDER BY id LIMIT 100`): the accounts that existed at its
//! time whose keys the range holds, sliced by its key order, LIMIT and OFFSET — where
//! the read's extent alone would count the whole table, or a page of rows no log names.

use crate::model::{KeyOrder, KeyRange};

/// What a read by key range returned of the accounts that existed.
#[derive(Debug, PartialEq, Eq)]
pub struct Returned {
    /// The accounts, in key order.
    pub accounts: Vec<String>,
    /// These rows exactly, as far as the accounts known tell; else an upper bound (the
    /// filter also tests other columns, or a LIMIT takes rows in no order of the key).
    pub exact: bool,
}

/// The accounts of `existing` that range `r` returned; `complete` where `existing` lists
/// every account (a roster), not only those the evidence shows. None where the read
/// cannot be resolved so: a slice in key order (LIMIT, OFFSET) of a list that is not
/// complete — its rows are counted among the table's, which the evidence does not
/// hold — or no
/// account's id is an integer key (the range bounds another namespace than the
/// accounts', as a roster of UUIDs over a table keyed by numbers). Such a read stays
/// counted by its extent. An id that is no integer is in no integer key's range.
pub fn returned(r: &KeyRange, existing: &[String], complete: bool) -> Option<Returned> {
    let sliced = r.limit.is_some() || r.offset > 0;
    if sliced && r.order.is_some() && !r.narrowed && !complete {
        return None;
    }
    let mut keyed: Vec<(i64, &String)> = (existing.iter())
        .filter_map(|acc| Some((acc.parse().ok()?, acc)))
        .collect();
    if keyed.is_empty() && !existing.is_empty() {
        return None;
    }
    keyed.retain(|(k, _)| r.from.is_none_or(|f| *k >= f) && r.to.is_none_or(|t| *k <= t));
    keyed.sort();
    keyed.dedup_by_key(|(k, _)| *k);
    let limit = r.limit.unwrap_or(u64::MAX);
    let take = |it: &mut dyn Iterator<Item = &(i64, &String)>| -> Vec<String> {
        it.skip(usize::try_from(r.offset).unwrap_or(usize::MAX))
            .take(usize::try_from(limit).unwrap_or(usize::MAX))
            .map(|(_, a)| (*a).clone())
            .collect()
    };
    let all = || keyed.iter().map(|(_, a)| (*a).clone()).collect::<Vec<_>>();
    let (accounts, exact) = match (r.narrowed, sliced, r.order) {
        (true, _, _) => (all(), false),
        (false, false, _) => (all(), true),
        (false, true, Some(KeyOrder::Asc)) => (take(&mut keyed.iter()), true),
        (false, true, Some(KeyOrder::Desc)) => (take(&mut keyed.iter().rev()), true),
        // A LIMIT in no order of the key takes rows the log cannot name, unless it lets
        // every row of the range through.
        (false, true, None) => (
            all(),
            complete && r.offset == 0 && limit >= keyed.len() as u64,
        ),
    };
    Some(Returned { accounts, exact })
}

/// A key range as a report tells it: `keys 1000–1999`, `keys from 4201, the first 100
/// in key order`, `keys in descending order, 50 after the first 200`.
pub fn told(r: &KeyRange) -> String {
    let mut out = match (r.from, r.to) {
        (Some(a), Some(b)) => format!("keys {a}–{b}"),
        (Some(a), None) => format!("keys from {a}"),
        (None, Some(b)) => format!("keys up to {b}"),
        (None, None) => "keys".to_string(),
    };
    let order = match r.order {
        Some(KeyOrder::Asc) => " in key order",
        Some(KeyOrder::Desc) => " in descending key order",
        None => "",
    };
    match (r.limit, r.offset) {
        (Some(n), 0) => out.push_str(&format!(", the first {n}{order}")),
        (Some(n), k) => out.push_str(&format!(", {n}{order} after the first {k}")),
        (None, 0) => {}
        (None, k) => out.push_str(&format!(", all{order} after the first {k}")),
    }
    if r.narrowed {
        out.push_str(", filtered also by other columns");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ids(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    fn r(from: Option<i64>, to: Option<i64>) -> KeyRange {
        KeyRange {
            from,
            to,
            ..KeyRange::default()
        }
    }

    #[test]
    fn a_range_returns_the_accounts_whose_keys_it_holds() {
        let existing = ids(&["100010", "100002", "100500", "99", "100001"]);
        let got = returned(&r(Some(100001), Some(100010)), &existing, true).unwrap();
        assert_eq!(got.accounts, ids(&["100001", "100002", "100010"]));
        assert!(got.exact);
        assert_eq!(told(&r(Some(100001), Some(100010))), "keys 100001–100010");
    }

    #[test]
    fn a_slice_in_key_order_is_exact_and_one_in_no_order_an_upper_bound() {
        let existing = ids(&["5", "1", "4", "2", "3", "6"]);
        let page = KeyRange {
            from: Some(2),
            order: Some(KeyOrder::Asc),
            limit: Some(2),
            offset: 1,
            ..KeyRange::default()
        };
        let got = returned(&page, &existing, true).unwrap();
        assert_eq!((got.accounts, got.exact), (ids(&["3", "4"]), true));
        assert_eq!(told(&page), "keys from 2, 2 in key order after the first 1");
        let last = KeyRange {
            order: Some(KeyOrder::Desc),
            limit: Some(2),
            ..KeyRange::default()
        };
        assert_eq!(
            returned(&last, &existing, true).unwrap().accounts,
            ids(&["6", "5"])
        );
        let unordered = KeyRange {
            to: Some(4),
            limit: Some(2),
            ..KeyRange::default()
        };
        let got = returned(&unordered, &existing, true).unwrap();
        assert_eq!((got.accounts.len(), got.exact), (4, false));
        let roomy = KeyRange {
            limit: Some(10),
            ..unordered
        };
        assert!(returned(&roomy, &existing, true).unwrap().exact);
        let narrowed = KeyRange {
            narrowed: true,
            ..r(Some(3), None)
        };
        let got = returned(&narrowed, &existing, true).unwrap();
        assert_eq!((got.accounts.len(), got.exact), (4, false));
    }

    #[test]
    fn accounts_of_another_namespace_are_not_ranged() {
        let existing = ids(&["cus_4d1", "cus_9f2"]);
        assert_eq!(returned(&r(Some(1), Some(5)), &existing, true), None);
        let mixed = ids(&["3", "cus_9f2"]);
        assert_eq!(
            returned(&r(Some(1), Some(5)), &mixed, true)
                .unwrap()
                .accounts,
            ids(&["3"])
        );
    }
}
