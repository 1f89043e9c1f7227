//! Transfer fan-in: credits into one account from several other accounts, in a burst the
//! population's own transfers at that time of day make unlikely by chance.
//!
//! A fixed count ("three senders within an hour") flags nothing on a quiet app and
//! hundreds of ordinary customers on a busy one: where customers send each other points
//! all day, some account receives from three others in an hour by chance every day.
//! So each burst is weighed against the evidence: the rate at which the other accounts
//! received transfers in the hours around it, and how many places in the evidence (every
//! account, every stretch of that length) such a burst could have turned up by chance.

use super::detect::HOUR;
use std::collections::BTreeMap;

/// A credit: (time, event, debited account of the same operation).
pub(super) type Credit = (i64, usize, Option<String>);

/// Hours either side of a burst whose transfers give the usual rate then.
const AROUND: i64 = 3 * HOUR;

/// Shortest stretch a burst is taken to span: a burst of credits logged within one
/// minute is not made rarer than one spread over a minute by its timestamps' precision.
const MIN_SPAN: i64 = 60_000_000;

/// Most distinct senders a burst is extended to: beyond this it is significant anyway,
/// and an account that collects thousands of transfers an hour stays linear to scan.
const MAX_SENDERS: usize = 64;

/// The fewest distinct senders that make a fan-in at all.
const MIN_SENDERS: usize = 3;

/// A burst of credits into one account found significant.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Burst {
    /// The credit events in the burst's stretch (with or without a known sender).
    pub events: Vec<usize>,
    /// Distinct accounts that sent them.
    pub senders: usize,
    /// The stretch, µs.
    pub span: i64,
    /// Transfers per account per hour among the other accounts around then.
    pub rate: f64,
    /// How many bursts at least this dense chance alone would give in the evidence.
    pub expected: f64,
}

impl Burst {
    /// The burst in words, for a finding's explanation.
    pub fn describe(&self, account: &str) -> String {
        format!(
            "transfer fan-in: account {account} received points from {} accounts within {} \
             (other accounts then received {} transfers an hour each; chance would give \
             such a burst {:.2e} times in this evidence)",
            self.senders,
            minutes(self.span),
            per_hour(self.rate),
            self.expected
        )
    }
}

/// A rate with three decimals, or in scientific notation below what they show.
fn per_hour(rate: f64) -> String {
    if rate >= 0.001 {
        format!("{rate:.3}")
    } else {
        format!("{rate:.1e}")
    }
}

fn minutes(us: i64) -> String {
    let m = (us.max(MIN_SPAN) + 30_000_000) / 60_000_000;
    format!("{m} min")
}

/// Significant fan-in bursts per receiving account, the densest first for each.
///
/// `credits` are each account's credits in time order; `accounts` is how many accounts
/// the bonus changes touch (the population that could receive); `chance` is the
/// expected number of chance bursts, over the whole evidence, below which a burst counts.
pub(super) fn bursts<'a>(
    credits: &BTreeMap<&'a str, Vec<Credit>>,
    accounts: usize,
    chance: f64,
) -> Vec<(&'a str, Vec<Burst>)> {
    let all: Vec<i64> = {
        let mut v: Vec<i64> = (credits.values().flatten())
            .filter(|c| c.2.is_some())
            .map(|c| c.0)
            .collect();
        v.sort_unstable();
        v
    };
    let (Some(&first), Some(&last)) = (all.first(), all.last()) else {
        return Vec::new();
    };
    let pop = Population {
        all: &all,
        first,
        last,
        accounts: accounts.max(1) as f64,
    };
    credits
        .iter()
        .filter_map(|(acc, list)| {
            let found = scan(list, &pop, chance);
            (!found.is_empty()).then_some((*acc, found))
        })
        .collect()
}

/// Every account's transfers: their times, sorted, and the evidence's span.
struct Population<'a> {
    all: &'a [i64],
    first: i64,
    last: i64,
    accounts: f64,
}

impl Population<'_> {
    /// Transfers per account per hour among accounts other than the one whose credits
    /// at `own` (sorted) are weighed, in the hours around `at`. At least one transfer
    /// in the stretch: a burst in silence is rare, not infinitely so.
    fn rate(&self, at: i64, own: &[i64]) -> f64 {
        let (lo, hi) = (at - AROUND, at + AROUND);
        let count = |v: &[i64]| v.partition_point(|&t| t <= hi) - v.partition_point(|&t| t < lo);
        let n = count(self.all).saturating_sub(count(own)).max(1);
        let hours = (hi.min(self.last) - lo.max(self.first)).max(HOUR) as f64 / HOUR as f64;
        n as f64 / (self.accounts * hours)
    }

    /// Chance bursts of `senders` within `span` expected over the evidence: places such
    /// a burst could be (accounts × stretches of that length) × the probability of one.
    fn expected(&self, senders: usize, span: i64, rate: f64) -> f64 {
        let span = span.max(MIN_SPAN);
        let places = self.accounts * ((self.last - self.first) as f64 / span as f64).max(1.0);
        places * poisson_tail(rate * span as f64 / HOUR as f64, senders)
    }
}

/// The significant bursts of one account's credits (time order). Each credit with a
/// sender starts a stretch that grows credit by credit up to an hour; where it has
/// reached a new distinct sender and chance explains it worse than `chance`, the
/// stretch is a burst. Overlapping bursts are merged; each keeps its densest reading.
fn scan(list: &[Credit], pop: &Population, chance: f64) -> Vec<Burst> {
    let own: Vec<i64> = {
        let mut v: Vec<i64> = list.iter().filter(|c| c.2.is_some()).map(|c| c.0).collect();
        v.sort_unstable();
        v
    };
    // (first credit, last credit, densest reading) of each start's stretch.
    let mut hits: Vec<(usize, usize, Reading)> = Vec::new();
    for j in (0..list.len()).filter(|&j| list[j].2.is_some()) {
        let t0 = list[j].0;
        let mut senders: Vec<&str> = Vec::new();
        let mut end = None;
        let mut densest: Option<Reading> = None;
        for (e, c) in list.iter().enumerate().skip(j) {
            if c.0 - t0 > HOUR || senders.len() >= MAX_SENDERS {
                break;
            }
            let Some(s) = c.2.as_deref() else { continue };
            if senders.contains(&s) {
                continue;
            }
            senders.push(s);
            if senders.len() < MIN_SENDERS {
                continue;
            }
            let span = c.0 - t0;
            let rate = pop.rate(t0 + span / 2, &own);
            let expected = pop.expected(senders.len(), span, rate);
            if expected < chance {
                end = Some(e);
                if densest.is_none_or(|d| expected < d.expected) {
                    densest = Some(Reading {
                        senders: senders.len(),
                        span,
                        rate,
                        expected,
                    });
                }
            }
        }
        if let (Some(e), Some(d)) = (end, densest) {
            hits.push((j, e, d));
        }
    }
    merge(list, hits)
}

/// How dense one stretch of credits is.
#[derive(Debug, Clone, Copy)]
struct Reading {
    senders: usize,
    span: i64,
    rate: f64,
    expected: f64,
}

/// Merges overlapping stretches into bursts, each with its densest reading.
fn merge(list: &[Credit], mut hits: Vec<(usize, usize, Reading)>) -> Vec<Burst> {
    hits.sort_by_key(|h| (h.0, h.1));
    let mut out: Vec<(usize, usize, Reading)> = Vec::new();
    for (a, b, r) in hits {
        match out.last_mut() {
            Some(last) if a <= last.1 => {
                last.1 = last.1.max(b);
                if r.expected < last.2.expected {
                    last.2 = r;
                }
            }
            _ => out.push((a, b, r)),
        }
    }
    let mut bursts: Vec<Burst> = out
        .into_iter()
        .map(|(a, b, r)| Burst {
            events: list[a..=b].iter().map(|c| c.1).collect(),
            senders: r.senders,
            span: r.span,
            rate: r.rate,
            expected: r.expected,
        })
        .collect();
    bursts.sort_by(|x, y| x.expected.total_cmp(&y.expected));
    bursts
}

/// P(X ≥ k) for X ~ Poisson(m). Only small tails matter here: where m ≥ k the answer is
/// at least about one half, and 1 is returned.
fn poisson_tail(m: f64, k: usize) -> f64 {
    if m <= 0.0 {
        return 0.0;
    }
    if m >= k as f64 {
        return 1.0;
    }
    // ln of the k-th term, then the terms after it until they no longer count.
    let ln_fact: f64 = (2..=k).map(|i| (i as f64).ln()).sum();
    let mut term = (-m + k as f64 * m.ln() - ln_fact).exp();
    let mut sum = 0.0;
    let mut i = k;
    while term > sum * 1e-15 && i < k + 1000 {
        sum += term;
        i += 1;
        term *= m / i as f64;
    }
    sum.min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    fn credit(t: i64, i: usize, src: Option<&str>) -> Credit {
        (t, i, src.map(str::to_string))
    }

    #[test]
    fn the_poisson_tail_matches_its_sum() {
        // P(X ≥ 2), m = 0.5: 1 − e^−0.5 (1 + 0.5).
        let exact = 1.0 - (-0.5f64).exp() * 1.5;
        assert!((poisson_tail(0.5, 2) - exact).abs() < 1e-12);
        // P(X ≥ 4), m = 0.01 ≈ m⁴/4!.
        let p = poisson_tail(0.01, 4);
        assert!((p / (1e-8 / 24.0) - 1.0).abs() < 0.01, "{p}");
        assert_eq!(poisson_tail(5.0, 3), 1.0);
        assert_eq!(poisson_tail(0.0, 3), 0.0);
        // Far tails stay finite and positive (no overflow of m^k or k!).
        let far = poisson_tail(0.2, 64);
        assert!(far > 0.0 && far < 1e-100, "{far}");
    }

    /// A population of `n` accounts each receiving one transfer every `every` µs over
    /// four days, staggered; plus what the test adds.
    fn busy(n: usize, every: i64) -> (BTreeMap<String, Vec<Credit>>, usize) {
        let mut m: BTreeMap<String, Vec<Credit>> = BTreeMap::new();
        let mut idx = 0;
        for a in 0..n {
            let mut t = (a as i64 * 7919 * MIN / 13) % every;
            while t < 4 * 24 * HOUR {
                idx += 1;
                m.entry(format!("acc{a}")).or_default().push(credit(
                    t,
                    idx,
                    Some(&format!("s{idx}")),
                ));
                t += every;
            }
        }
        (m, idx)
    }

    fn run(m: &BTreeMap<String, Vec<Credit>>, accounts: usize) -> Vec<(String, Vec<Burst>)> {
        let view: BTreeMap<&str, Vec<Credit>> =
            m.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        bursts(&view, accounts, 0.001)
            .into_iter()
            .map(|(a, b)| (a.to_string(), b))
            .collect()
    }

    #[test]
    fn a_tight_burst_stands_out_where_an_hour_s_three_transfers_do_not() {
        // 500 accounts receiving a transfer every 6 hours each: 83 transfers an hour.
        let (mut m, mut idx) = busy(500, 6 * HOUR);
        // An ordinary account receives three in 50 minutes: busy apps see this daily.
        let day = 2 * 24 * HOUR;
        for (k, t) in [0, 20 * MIN, 50 * MIN].into_iter().enumerate() {
            idx += 1;
            m.get_mut("acc7")
                .unwrap()
                .push(credit(day + t, idx, Some(&format!("f{k}"))));
        }
        // A collector receives from five accounts within six minutes.
        let mut col = Vec::new();
        for k in 0..5 {
            idx += 1;
            col.push(credit(
                day + 3 * HOUR + k * 90_000_000,
                idx,
                Some(&format!("v{k}")),
            ));
        }
        // And a credit with no known sender in between, part of the burst's stretch.
        idx += 1;
        col.insert(2, credit(day + 3 * HOUR + 100_000_000, idx, None));
        m.insert("collector".into(), col);
        for v in m.values_mut() {
            v.sort_by_key(|c| c.0);
        }
        let found = run(&m, 501);
        assert_eq!(found.len(), 1, "{found:?}");
        let (acc, b) = &found[0];
        assert_eq!(acc, "collector");
        assert_eq!(b.len(), 1);
        assert_eq!(b[0].senders, 5);
        assert_eq!(b[0].events.len(), 6);
        assert!(b[0].expected < 0.001);
        assert!(b[0].describe(acc).contains("from 5 accounts within 6 min"));
        assert_eq!(per_hour(0.0123), "0.012");
        assert_eq!(per_hour(0.00004), "4.0e-5");
    }

    #[test]
    fn on_a_quiet_app_three_senders_in_an_hour_are_a_fan_in() {
        // A handful of transfers over four days; one account gets three in 40 minutes.
        let mut m: BTreeMap<String, Vec<Credit>> = BTreeMap::new();
        for k in 0..6 {
            m.entry(format!("acc{k}")).or_default().push(credit(
                k * 14 * HOUR,
                k as usize,
                Some("x"),
            ));
        }
        m.insert(
            "target".into(),
            (0..3)
                .map(|k| {
                    credit(
                        30 * HOUR + k * 20 * MIN,
                        100 + k as usize,
                        Some(&format!("v{k}")),
                    )
                })
                .collect(),
        );
        let found = run(&m, 200);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "target");
        // The same three transfers, one sender twice, are not.
        m.get_mut("target").unwrap()[2].2 = Some("v0".into());
        assert!(run(&m, 200).is_empty());
    }

    #[test]
    fn no_transfers_no_bursts() {
        let m: BTreeMap<String, Vec<Credit>> = [(
            "a".to_string(),
            vec![credit(0, 1, None), credit(MIN, 2, None)],
        )]
        .into();
        assert!(run(&m, 10).is_empty());
        assert!(run(&BTreeMap::new(), 10).is_empty());
    }
}
