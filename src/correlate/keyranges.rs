//! The accounts a read by key range returned (`SqlFacts::key_range`: `WHERE id BETWEEN
//! 1000 AND 1999`, `id > 4200 ORDER BY id LIMIT 100`): the accounts that existed at its
//! time whose keys the range holds, sliced by its key order, LIMIT and OFFSET — where
//! the read's extent alone would count the whole table, or a page of rows no log names.

use crate::model::{Event, KeyOrder, KeyRange};

/// What a read by key range returned of the accounts that existed.
#[derive(Debug, PartialEq, Eq)]
pub struct Returned {
    /// The accounts, in key order.
    pub accounts: Vec<String>,
    /// These rows exactly, as far as the accounts known tell; else an upper bound (the
    /// filter also tests other columns, or a LIMIT takes rows in no order of the key).
    pub exact: bool,
}

/// The accounts, in key order, and the time from which each existed: the ranges of
/// reads and updates, taken in time order, resolve against those that existed at each
/// one's time. A Fenwick tree over the key order counts the accounts that existed, so a
/// page deep into the table (`OFFSET 500000`) is found without walking the keys before
/// it, page after page.
pub struct KeyIndex<'a> {
    /// Integer keys and their accounts, sorted by key.
    keys: Vec<(i64, &'a str)>,
    /// (from when it existed, its position in `keys`), by time.
    since: Vec<(i64, usize)>,
    /// How many of `since` exist at the time last asked.
    next: usize,
    /// The time last asked.
    at: i64,
    /// Fenwick tree over positions in `keys` (1-based): the accounts that exist.
    tree: Vec<u32>,
    /// Whether the accounts have no integer key at all: ranges of integer keys bound
    /// another namespace than theirs.
    foreign: bool,
}

impl<'a> KeyIndex<'a> {
    /// The index of accounts, each with the time from which it existed. An account whose
    /// id is no integer is in no integer key's range.
    pub fn new(accounts: &[(&'a str, i64)]) -> KeyIndex<'a> {
        let mut keyed: Vec<(i64, &'a str, i64)> = (accounts.iter())
            .filter_map(|&(acc, from)| Some((acc.parse().ok()?, acc, from)))
            .collect();
        keyed.sort();
        // One account per key (`007` and `7` are one row of an integer key): the first.
        keyed.dedup_by_key(|x| x.0);
        let mut since: Vec<(i64, usize)> = (keyed.iter().enumerate())
            .map(|(pos, x)| (x.2, pos))
            .collect();
        since.sort();
        KeyIndex {
            tree: vec![0; keyed.len() + 1],
            keys: keyed.into_iter().map(|(k, acc, _)| (k, acc)).collect(),
            since,
            next: 0,
            at: i64::MIN,
            foreign: !accounts.is_empty()
                && !accounts.iter().any(|(a, _)| a.parse::<i64>().is_ok()),
        }
    }

    /// The accounts that existed at `ts` that range `r` returned; `complete` where the
    /// accounts are every account (a roster), not only those the evidence shows. None
    /// where the range cannot be resolved so: a slice in key order (LIMIT, OFFSET) of
    /// accounts that are not complete — its rows are counted among the table's, which
    /// the evidence does not hold — or accounts with no integer key (the range bounds
    /// another namespace than theirs, as a roster of UUIDs over a table keyed by
    /// numbers). Such a read stays counted by its extent. Asked in time order, each
    /// answer costs the rows it returns; asked out of order, the index starts over.
    pub fn returned(&mut self, r: &KeyRange, ts: i64, complete: bool) -> Option<Returned> {
        let sliced = r.limit.is_some() || r.offset > 0;
        if (sliced && r.order.is_some() && !r.narrowed && !complete) || self.foreign {
            return None;
        }
        self.advance(ts);
        let lo = self
            .keys
            .partition_point(|(k, _)| r.from.is_some_and(|f| *k < f));
        let hi = self
            .keys
            .partition_point(|(k, _)| r.to.is_none_or(|t| *k <= t));
        let (lo, hi) = (lo, hi.max(lo));
        let (first, end) = (self.prefix(lo), self.prefix(hi));
        let skip = usize::try_from(r.offset).unwrap_or(usize::MAX);
        let limit = usize::try_from(r.limit.unwrap_or(u64::MAX)).unwrap_or(usize::MAX);
        let nth = |me: &Self, k: usize| me.keys[me.select(k)].1.to_string();
        let all = || (first..end).map(|k| nth(self, k)).collect::<Vec<_>>();
        let (accounts, exact) = match (r.narrowed, sliced, r.order) {
            (true, _, _) => (all(), false),
            (false, false, _) => (all(), true),
            (false, true, Some(KeyOrder::Asc)) => {
                let from = first.saturating_add(skip).min(end);
                let to = from.saturating_add(limit).min(end);
                ((from..to).map(|k| nth(self, k)).collect(), true)
            }
            (false, true, Some(KeyOrder::Desc)) => {
                let top = end.saturating_sub(skip).max(first);
                let bottom = top.saturating_sub(limit).max(first);
                ((bottom..top).rev().map(|k| nth(self, k)).collect(), true)
            }
            // A LIMIT in no order of the key takes rows the log cannot name, unless it lets
            // every row of the range through.
            (false, true, None) => (all(), complete && skip == 0 && limit >= end - first),
        };
        Some(Returned { accounts, exact })
    }

    /// Makes the accounts that existed at `ts` (and only those) count.
    fn advance(&mut self, ts: i64) {
        if ts < self.at {
            self.tree.iter_mut().for_each(|x| *x = 0);
            self.next = 0;
        }
        self.at = ts;
        while let Some(&(_, pos)) = self.since.get(self.next).filter(|(f, _)| *f <= ts) {
            let mut i = pos + 1;
            while i < self.tree.len() {
                self.tree[i] += 1;
                i += i & i.wrapping_neg();
            }
            self.next += 1;
        }
    }

    /// How many of the positions before `pos` exist.
    fn prefix(&self, pos: usize) -> usize {
        let (mut i, mut n) = (pos, 0usize);
        while i > 0 {
            n += self.tree[i] as usize;
            i -= i & i.wrapping_neg();
        }
        n
    }

    /// The position of the `k`-th (from 0) account that exists; `k` is under their count.
    fn select(&self, k: usize) -> usize {
        let (mut pos, mut rest) = (0usize, k + 1);
        let mut step = (self.tree.len()).next_power_of_two();
        while step > 0 {
            let next = pos + step;
            if next < self.tree.len() && (self.tree[next] as usize) < rest {
                pos = next;
                rest -= self.tree[next] as usize;
            }
            step /= 2;
        }
        pos
    }
}

/// The key range every row of which a balance write changed, and whether it removed
/// the rows: an UPDATE stating its points, or a DELETE of bonus rows, whose filter
/// bounds the account key alone. None for any other statement.
pub fn written(e: &Event) -> Option<(&KeyRange, bool)> {
    let f = e.sql.as_ref().filter(|f| f.bonus_unnamed)?;
    let r = f.key_range.as_deref().filter(|r| !r.narrowed)?;
    let removed = (e.statement.as_deref())
        .and_then(crate::sql::command_word)
        .is_some_and(|c| c == "DELETE");
    (r.points.is_some() || removed).then_some((r, removed))
}

/// A key range as a report tells it: `keys 1000–1999`, `keys from 4201, the first 100
/// in key order`, `keys, 50 in descending key order after the first 200`.
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

/// Why a read by key range exposed an account, `what` naming the read (`attacker read
/// of customers`); `exact` false where its rows are an upper bound of those returned.
pub fn exposed_why(what: &str, r: &KeyRange, exact: bool) -> String {
    let bound = if exact {
        ""
    } else {
        " (its rows an upper bound of those returned)"
    };
    format!(
        "{what} by key range ({}){bound}; the account existed at that time and its key is in \
         the range",
        told(r)
    )
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

    /// Accounts that all existed from the start.
    fn index<'a>(v: &[&'a str]) -> KeyIndex<'a> {
        let accounts: Vec<(&str, i64)> = v.iter().map(|a| (*a, 0)).collect();
        KeyIndex::new(&accounts)
    }

    #[test]
    fn a_range_returns_the_accounts_whose_keys_it_holds() {
        let mut x = index(&["100010", "100002", "100500", "99", "100001"]);
        let got = x.returned(&r(Some(100001), Some(100010)), 1, true).unwrap();
        assert_eq!(got.accounts, ids(&["100001", "100002", "100010"]));
        assert!(got.exact);
        assert_eq!(told(&r(Some(100001), Some(100010))), "keys 100001–100010");
        assert!(x
            .returned(&r(Some(7), Some(3)), 1, true)
            .unwrap()
            .accounts
            .is_empty());
    }

    #[test]
    fn a_slice_in_key_order_is_exact_and_one_in_no_order_an_upper_bound() {
        let mut x = index(&["5", "1", "4", "2", "3", "6"]);
        let page = KeyRange {
            from: Some(2),
            order: Some(KeyOrder::Asc),
            limit: Some(2),
            offset: 1,
            ..KeyRange::default()
        };
        let got = x.returned(&page, 1, true).unwrap();
        assert_eq!((got.accounts, got.exact), (ids(&["3", "4"]), true));
        assert_eq!(told(&page), "keys from 2, 2 in key order after the first 1");
        let last = KeyRange {
            order: Some(KeyOrder::Desc),
            limit: Some(2),
            ..KeyRange::default()
        };
        assert_eq!(
            x.returned(&last, 1, true).unwrap().accounts,
            ids(&["6", "5"])
        );
        let deep = KeyRange {
            offset: 10,
            ..last.clone()
        };
        assert!(x.returned(&deep, 1, true).unwrap().accounts.is_empty());
        let unordered = KeyRange {
            to: Some(4),
            limit: Some(2),
            ..KeyRange::default()
        };
        let got = x.returned(&unordered, 1, true).unwrap();
        assert_eq!((got.accounts.len(), got.exact), (4, false));
        let roomy = KeyRange {
            limit: Some(10),
            ..unordered
        };
        assert!(x.returned(&roomy, 1, true).unwrap().exact);
        let narrowed = KeyRange {
            narrowed: true,
            ..r(Some(3), None)
        };
        let got = x.returned(&narrowed, 1, true).unwrap();
        assert_eq!((got.accounts.len(), got.exact), (4, false));
        // A slice's rows are counted among the table's: the accounts the evidence shows
        // alone do not place it.
        assert_eq!(x.returned(&page, 1, false), None);
    }

    #[test]
    fn pages_count_the_accounts_that_existed_at_their_time() {
        // Keys 1..=9; the even ones exist from time 10, the odd from time 20.
        let v: Vec<String> = (1..=9).map(|k: i64| k.to_string()).collect();
        let accounts: Vec<(&str, i64)> = (v.iter())
            .map(|k| {
                (
                    k.as_str(),
                    if k.parse::<i64>().unwrap() % 2 == 0 {
                        10
                    } else {
                        20
                    },
                )
            })
            .collect();
        let mut x = KeyIndex::new(&accounts);
        let page = KeyRange {
            order: Some(KeyOrder::Asc),
            limit: Some(2),
            offset: 1,
            ..KeyRange::default()
        };
        assert!(x.returned(&page, 5, true).unwrap().accounts.is_empty());
        assert_eq!(
            x.returned(&page, 15, true).unwrap().accounts,
            ids(&["4", "6"])
        );
        assert_eq!(
            x.returned(&page, 25, true).unwrap().accounts,
            ids(&["2", "3"])
        );
        // Out of time order, the index starts over.
        assert_eq!(
            x.returned(&page, 15, true).unwrap().accounts,
            ids(&["4", "6"])
        );
        let top = KeyRange {
            to: Some(8),
            order: Some(KeyOrder::Desc),
            limit: Some(3),
            offset: 1,
            ..KeyRange::default()
        };
        assert_eq!(
            x.returned(&top, 25, true).unwrap().accounts,
            ids(&["7", "6", "5"])
        );
    }

    #[test]
    fn accounts_of_another_namespace_are_not_ranged() {
        let mut x = index(&["cus_4d1", "cus_9f2"]);
        assert_eq!(x.returned(&r(Some(1), Some(5)), 1, true), None);
        let mut x = index(&["3", "cus_9f2"]);
        let got = x.returned(&r(Some(1), Some(5)), 1, true).unwrap();
        assert_eq!(got.accounts, ids(&["3"]));
    }

    /// The answer as the definition gives it: the accounts that existed, in key order,
    /// in the range, sliced.
    fn naive(accounts: &[(String, i64)], r: &KeyRange, ts: i64) -> Vec<String> {
        let mut v: Vec<(i64, &String)> = (accounts.iter())
            .filter(|(_, f)| *f <= ts)
            .map(|(a, _)| (a.parse().unwrap(), a))
            .filter(|(k, _)| r.from.is_none_or(|f| *k >= f) && r.to.is_none_or(|t| *k <= t))
            .collect();
        v.sort();
        // An unsliced range is a set of accounts: in key order, whatever its order.
        let sliced = r.limit.is_some() || r.offset > 0;
        if sliced && r.order == Some(KeyOrder::Desc) {
            v.reverse();
        }
        let take = usize::try_from(r.limit.unwrap_or(u64::MAX)).unwrap();
        let v = v.into_iter().map(|(_, a)| a.clone());
        match r.order {
            Some(_) => v.skip(r.offset as usize).take(take).collect(),
            None => v.collect(),
        }
    }

    proptest::proptest! {
        #[test]
        fn the_index_answers_as_the_definition_does(
            keys in proptest::collection::btree_map(0i64..60, 0i64..6, 0..40),
            asks in proptest::collection::vec((
                proptest::option::of(0i64..60),
                proptest::option::of(0i64..60),
                proptest::option::of(proptest::bool::ANY),
                proptest::option::of(0u64..10),
                0u64..8,
                0i64..7,
            ), 1..12),
        ) {
            let accounts: Vec<(String, i64)> = keys.iter().map(|(k, f)| (k.to_string(), *f)).collect();
            let refs: Vec<(&str, i64)> = accounts.iter().map(|(a, f)| (a.as_str(), *f)).collect();
            let mut x = KeyIndex::new(&refs);
            for (from, to, desc, limit, offset, ts) in asks {
                let r = KeyRange {
                    from,
                    to,
                    order: desc.map(|d| if d { KeyOrder::Desc } else { KeyOrder::Asc }),
                    limit,
                    offset: if desc.is_some() { offset } else { 0 },
                    ..KeyRange::default()
                };
                let got = x.returned(&r, ts, true).unwrap();
                proptest::prop_assert_eq!(got.accounts, naive(&accounts, &r, ts), "{:?} at {}", r, ts);
            }
        }
    }
}
