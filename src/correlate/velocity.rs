//! Credits piling into one account: many credits of an ordinary size within an hour (a
//! promo code replayed, a race on a reward endpoint) add up to what no single change
//! shows, and the per-change outlier rule cannot see them.

use crate::model::Event;
use std::collections::{BTreeMap, BTreeSet};

/// The window credits are counted in, µs.
const WINDOW_US: i64 = 3_600_000_000;
/// Fewest credits in a window for it to count, whatever the population does.
const MIN_CREDITS: usize = 10;
/// How many times the population's busy hour a window must hold.
const FACTOR: usize = 5;

/// One account's credits: (time, event, points), in time order.
type Credits = Vec<(i64, usize, i64)>;
/// The window of an hour ending at each credit: (first, last) credit.
type Windows = Vec<(usize, usize)>;

/// A run of credits into one account.
#[derive(Debug, Clone, PartialEq)]
pub struct Pile {
    /// The credits' events, in time order.
    pub events: Vec<usize>,
    /// Their points.
    pub points: i64,
    /// The most credits one window of the run holds.
    pub peak: usize,
    /// The credits an account's busiest hour holds at the 90th percentile of accounts.
    pub usual: usize,
}

impl Pile {
    /// The finding's reason.
    pub fn describe(&self, account: &str) -> String {
        format!(
            "{} credits into account {account}, {} points, up to {} within an hour (nine \
             accounts in ten receive at most {} in their busiest hour)",
            self.events.len(),
            self.points,
            self.peak,
            self.usual
        )
    }
}

/// Accounts whose credits pile up: an hour holding `MIN_CREDITS` or more and `FACTOR`
/// times the busiest hour of nine accounts in ten, whose points exceed `limit` (the
/// outlier limit of one change). `credits` are (event, account, points), points positive,
/// in event order. Every credit in such an hour belongs to the pile.
pub fn piles(ev: &[Box<Event>], credits: &[(usize, &str, i64)], limit: i64) -> Vec<(String, Pile)> {
    let mut by: BTreeMap<&str, Credits> = BTreeMap::new();
    for &(i, acc, d) in credits {
        by.entry(acc).or_default().push((ev[i].ts, i, d));
    }
    // Each account's hours: the window ending at each credit, as (first, last) credit.
    let hours: Vec<(&str, Credits, Windows)> = by
        .into_iter()
        .map(|(acc, v)| {
            let mut lo = 0;
            let w = (0..v.len())
                .map(|hi| {
                    while v[hi].0 - v[lo].0 >= WINDOW_US {
                        lo += 1;
                    }
                    (lo, hi)
                })
                .collect();
            (acc, v, w)
        })
        .collect();
    let busiest = |w: &[(usize, usize)]| w.iter().map(|(lo, hi)| hi + 1 - lo).max().unwrap_or(0);
    let mut peaks: Vec<usize> = hours.iter().map(|(_, _, w)| busiest(w)).collect();
    if peaks.is_empty() {
        return Vec::new();
    }
    peaks.sort_unstable();
    let usual = peaks[(peaks.len() * 9 / 10).min(peaks.len() - 1)].max(1);
    let need = MIN_CREDITS.max(FACTOR * usual);
    let mut out = Vec::new();
    for (acc, v, w) in hours {
        // The credits of every window that holds `need` or more.
        let full: Vec<(usize, usize)> = w
            .into_iter()
            .filter(|(lo, hi)| hi + 1 - lo >= need)
            .collect();
        let peak = busiest(&full);
        let kept: BTreeSet<usize> = full.iter().flat_map(|&(lo, hi)| lo..=hi).collect();
        let points: i64 = kept.iter().map(|&k| v[k].2).sum();
        if kept.is_empty() || points <= limit {
            continue;
        }
        out.push((
            acc.to_string(),
            Pile {
                events: kept.iter().map(|&k| v[k].1).collect(),
                points,
                peak,
                usual,
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;

    #[test]
    fn two_hundred_small_credits_in_half_an_hour_pile_up_and_a_busy_customer_does_not() {
        const MIN: i64 = 60_000_000;
        // (time, account, points): fifty customers credited every three hours and a
        // half, one placing six orders in an hour, and a promo replayed 200 times.
        let names: Vec<String> = (0..50).map(|k| format!("c{k}")).collect();
        let mut plan: Vec<(i64, &str, i64)> = (0..600)
            .map(|k| (k * 4 * MIN, names[k as usize % 50].as_str(), 40))
            .collect();
        plan.extend((0..6).map(|k| (2_000 * MIN + k * 9 * MIN, "busy", 40)));
        plan.extend((0..200).map(|k| (3_000 * MIN + k * 9_000_000, "promo", 50)));
        let ev: Vec<Box<Event>> = (plan.iter())
            .map(|&(ts, ..)| {
                let mut e = Event::new(SourceKind::Db, "pg-stderr");
                e.ts = ts;
                Box::new(e)
            })
            .collect();
        let credits: Vec<(usize, &str, i64)> = (plan.iter().enumerate())
            .map(|(i, &(_, acc, d))| (i, acc, d))
            .collect();
        let found = piles(&ev, &credits, 800);
        assert_eq!(found.len(), 1, "{found:?}");
        let (acc, pile) = &found[0];
        assert_eq!(acc, "promo");
        assert_eq!(pile.events.len(), 200);
        assert_eq!(pile.points, 10_000);
        assert_eq!(pile.usual, 1);
        // The same credits under the change limit (tiny amounts) are not a pile.
        assert!(piles(&ev, &credits, 20_000).is_empty());
    }
}
