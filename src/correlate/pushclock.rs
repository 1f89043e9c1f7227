//! Push-evidence clock skew: a backend's send log is written by the application's own
//! host, whose clock may be off; a provider's export by the provider. Each message's
//! first record follows the request that sent it, so the offset most messages share
//! against the push-route requests before them is the push clock's offset plus a
//! latency. It is corrected when no latency explains it: sends before their requests,
//! later than the 15 minutes a send is looked for after one, or a minute or more after
//! them at so steady an offset that it is a clock's (a queue's delay varies from send
//! to send and starts near zero; a clock's offset does not).

use super::{Analysis, Skew};
use crate::model::{Outcome, SourceKind};
use crate::profile::{Profile, Target};
use std::collections::{BTreeMap, BTreeSet};

/// Widest offset looked for (any zone offset plus a skew, as for DB clocks).
const WINDOW_US: i64 = (14 * 60 + 30) * 60 * 1_000_000;

/// Histogram bin of offsets between a message and the requests around it.
const BIN_US: i64 = 30_000_000;

/// Fewest messages that must share the offset.
const MIN_MESSAGES: usize = 3;

/// A send this long before its request cannot be a latency (requests and statements are
/// logged at their end, so a second or two either way is normal).
const EARLY_US: i64 = 60_000_000;

/// A send this long after its request is past the window messages look for it in.
const LATE_US: i64 = 15 * 60 * 1_000_000;

/// Estimates each push format's offset against the gateway's push-route requests and
/// corrects those no latency explains. The events are left out of order (the caller
/// restores it).
pub fn estimate_and_apply(a: &mut Analysis, p: &Profile) -> Vec<Skew> {
    let ev = &a.ing.events;
    let sends: Vec<i64> = sends(a, p).into_iter().map(|i| ev[i].ts).collect();
    let (starts, in_message) = first_records(ev);
    let fits: BTreeMap<&str, Option<Fit>> =
        starts.iter().map(|(f, ts)| (*f, fit(ts, &sends))).collect();
    let mut out = Vec::new();
    for (fmt, ts) in starts {
        let Some(fit) = fits.get(fmt).and_then(Option::as_ref) else {
            // Formats that log the same messages and whose clock was compared.
            let with: BTreeSet<&str> = in_message
                .iter()
                .filter(|m| m.contains(fmt))
                .flatten()
                .copied()
                .filter(|g| fits.get(g).is_some_and(Option::is_some))
                .collect();
            let also = if with.is_empty() {
                String::new()
            } else {
                let names: Vec<&str> = with.into_iter().collect();
                format!(
                    " Its messages are also in {}, whose clock was.",
                    names.join(", ")
                )
            };
            a.notes.push(format!(
                "The clock of the {fmt} evidence could not be compared with the gateway's \
                 (fewer than three of its {} messages, or not half, start at one offset from \
                 push-route requests): its times are as logged; give --clock-skew \
                 {fmt}=DURATION if its offset is known.{also}",
                ts.len()
            ));
            continue;
        };
        let steady = fit.steady();
        let applied = !latency_explains(fit.corr, fit.spread());
        if applied {
            super::skew::shift(a, fmt, fit.corr);
            let why = if steady {
                format!(
                    "all within {:.1} s of it, where a send's delay after its request \
                     varies from send to send",
                    fit.spread() as f64 / 1e6
                )
            } else {
                "where a send follows its request within seconds or minutes".into()
            };
            a.notes.push(format!(
                "The {fmt} clock runs {} {} the gateway's: {} of its {} messages start at \
                 that offset from a push-route request, {why}. Its times were corrected \
                 by that offset.",
                super::skew::hms(fit.corr.abs()),
                if fit.corr >= 0 { "ahead of" } else { "behind" },
                fit.agree,
                ts.len(),
            ));
        }
        out.push(Skew {
            source: format!("push:{fmt}"),
            against: "gateway (push-route requests before each message)".into(),
            median_us: fit.median,
            correction_us: if applied { fit.corr } else { 0 },
            pairs: fit.agree,
            applied,
        });
    }
    out
}

/// Requests that may send a push, in time order: changing, accepted, to a push route
/// that does not register a device (a customer's app sets its push token).
pub(super) fn sends(a: &Analysis, p: &Profile) -> Vec<usize> {
    let ev = &a.ing.events;
    (0..ev.len())
        .filter(|&i| {
            let e = &ev[i];
            e.kind() == SourceKind::Gateway
                && a.targets.get(i).copied().flatten() == Some(Target::Push)
                && e.outcome == Outcome::Success
                && e.method
                    .as_deref()
                    .is_some_and(|m| !matches!(m, "GET" | "HEAD" | "OPTIONS"))
                && !e
                    .route
                    .as_deref()
                    .or(e.path.as_deref())
                    .is_some_and(|r| p.is_device_route(r))
        })
        .collect()
}

/// What `first_records` gives.
pub(super) type FirstRecords = (
    BTreeMap<&'static str, Vec<i64>>,
    Vec<BTreeSet<&'static str>>,
);

/// Each message's first record, per push format, and the formats each message is in.
pub(super) fn first_records(ev: &[Box<crate::model::Event>]) -> FirstRecords {
    let mut starts: BTreeMap<&'static str, Vec<i64>> = BTreeMap::new();
    let mut in_message: Vec<BTreeSet<&'static str>> = Vec::new();
    for idx in super::messages::group(ev).values() {
        let mut first: BTreeMap<&'static str, i64> = BTreeMap::new();
        for &i in idx {
            let t = first.entry(ev[i].format.as_str()).or_insert(ev[i].ts);
            *t = (*t).min(ev[i].ts);
        }
        in_message.push(first.keys().copied().collect());
        for (f, t) in first {
            starts.entry(f).or_default().push(t);
        }
    }
    (starts, in_message)
}

/// The offset most messages share against the requests around them.
#[derive(Debug, PartialEq)]
pub(super) struct Fit {
    /// The smallest shared offset (the correction keeps every send after its request).
    pub(super) corr: i64,
    /// The median shared offset.
    pub(super) median: i64,
    /// Messages that share it.
    pub(super) agree: usize,
    /// The largest shared offset.
    pub(super) last: i64,
}

impl Fit {
    /// How far apart the shared offsets lie.
    pub(super) fn spread(&self) -> i64 {
        self.last - self.corr
    }

    /// Whether the offset is a minute or more after the requests and at least four
    /// times as large as its spread: no queue delays every send by the same while, so
    /// the clock is off.
    pub(super) fn steady(&self) -> bool {
        steady(self.corr, self.spread())
    }
}

/// Whether sends at `off` after their requests, `spread` apart, are a clock's offset
/// rather than a latency (`Fit::steady`).
fn steady(off: i64, spread: i64) -> bool {
    off > EARLY_US && spread * STEADY <= off
}

/// Whether a latency explains sends at `off` after their requests, `spread` apart: not
/// before them, not past the window, not at a clock's steady offset. A push clock agrees
/// with a gateway clock at such an offset, and is corrected at any other.
pub(super) fn latency_explains(off: i64, spread: i64) -> bool {
    (-EARLY_US..=LATE_US).contains(&off) && !steady(off, spread)
}

/// How many times its spread a positive offset must be to be a clock's (`Fit::steady`).
const STEADY: i64 = 4;

/// Each message votes once per bin for its offsets to the requests within the window;
/// the densest two adjacent bins win if at least three messages and half of those with
/// any request around them are there, and if they hold four times the votes of a
/// typical pair of bins (push-route requests of customers, marking notifications read,
/// would vote everywhere). Of pairs as dense, the smallest offset wins: the request
/// that sends a message is the last of its workflow (create, then send), and the
/// earlier steps, as regular as the send, make peaks at larger offsets.
pub(super) fn fit(starts: &[i64], sends: &[i64]) -> Option<Fit> {
    let bins = (2 * WINDOW_US / BIN_US + 2) as usize;
    let mut hist = vec![0usize; bins];
    let mut voters = 0;
    let near = |t: i64| {
        let lo = sends.partition_point(|&g| g < t - WINDOW_US);
        let hi = sends.partition_point(|&g| g <= t + WINDOW_US);
        &sends[lo..hi]
    };
    for &t in starts {
        let mut mine: Vec<usize> = near(t)
            .iter()
            .map(|&g| ((t - g + WINDOW_US) / BIN_US) as usize)
            .collect();
        mine.dedup();
        voters += usize::from(!mine.is_empty());
        for b in mine {
            hist[b] += 1;
        }
    }
    let pair = |b: usize| hist[b] + hist[b + 1];
    let peak = (0..bins - 1).max_by_key(|&b| (pair(b), usize::MAX - b))?;
    let best = pair(peak);
    let mut all: Vec<usize> = (0..bins - 1).map(pair).collect();
    let typical = *all.select_nth_unstable(bins / 2).1;
    if best < MIN_MESSAGES || best * 2 < voters || best < 4 * typical {
        return None;
    }
    let lo = peak as i64 * BIN_US - WINDOW_US;
    // Each message's offset inside the peak (to the latest request there).
    let mut d: Vec<i64> = starts
        .iter()
        .filter_map(|&t| {
            near(t)
                .iter()
                .rev()
                .map(|&g| t - g)
                .find(|x| (lo..lo + 2 * BIN_US).contains(x))
        })
        .collect();
    d.sort_unstable();
    Some(Fit {
        corr: *d.first()?,
        median: d[d.len() / 2],
        agree: d.len(),
        last: *d.last()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    #[test]
    fn messages_an_hour_before_their_requests_fit_at_minus_an_hour() {
        // Five sends, each 3–9 s after its request, logged by a clock an hour behind;
        // requests that sent nothing in between.
        let reqs: Vec<i64> = (0..5).map(|k| k * 86_400 * S).collect();
        let mut sends = reqs.clone();
        sends.extend([7_200 * S, 40_000 * S, 100_000 * S]);
        sends.sort_unstable();
        let starts: Vec<i64> = reqs
            .iter()
            .zip([3, 5, 9, 4, 6])
            .map(|(&g, l)| g + l * S - 3_600 * S)
            .collect();
        let f = fit(&starts, &sends).unwrap();
        assert_eq!((f.corr, f.median, f.agree), (-3_597 * S, -3_595 * S, 5));
    }

    #[test]
    fn the_send_request_wins_over_the_create_before_it() {
        // Each campaign created 80–110 s before it is sent; the sends logged 2 h ahead.
        let mut sends = Vec::new();
        let mut starts = Vec::new();
        for (k, gap) in [80, 95, 108, 110].into_iter().enumerate() {
            let send = k as i64 * 86_400 * S;
            sends.extend([send - gap * S, send]);
            starts.push(send + 7_202 * S);
        }
        let f = fit(&starts, &sends).unwrap();
        assert_eq!((f.corr, f.agree), (7_202 * S, 4));
    }

    #[test]
    fn a_steady_offset_minutes_after_the_requests_is_a_clock_a_varied_one_a_queue() {
        // Four sends two minutes after their requests, to the second: a clock two
        // minutes ahead.
        let sends: Vec<i64> = (0..4).map(|k| k * 86_400 * S).collect();
        let after = |delays: [i64; 4]| -> Vec<i64> {
            sends.iter().zip(delays).map(|(&g, l)| g + l * S).collect()
        };
        let f = fit(&after([122, 122, 123, 121]), &sends).unwrap();
        assert_eq!((f.corr, f.spread()), (121 * S, 2 * S));
        assert!(f.steady());
        // Delays of one to two minutes that vary: a queue, left as logged.
        let f = fit(&after([65, 90, 110, 118]), &sends).unwrap();
        assert_eq!((f.corr, f.agree), (65 * S, 4));
        assert!(!f.steady());
        // Seconds after the requests: a latency however steady.
        assert!(!fit(&after([3, 3, 3, 3]), &sends).unwrap().steady());
    }

    #[test]
    fn two_messages_or_scattered_delays_fit_nothing() {
        let sends: Vec<i64> = (0..5).map(|k| k * 86_400 * S).collect();
        let two: Vec<i64> = sends[..2].iter().map(|g| g - 3_600 * S).collect();
        assert_eq!(fit(&two, &sends), None);
        // Scheduled campaigns: each sent a different while after its request.
        let scattered: Vec<i64> = sends
            .iter()
            .zip([600, 1_800, 3_000, 5_400, 9_000])
            .map(|(&g, l)| g + l * S)
            .collect();
        assert_eq!(fit(&scattered, &sends), None);
        // Customers' push-route requests, one every 18 s on average around the clock:
        // the sends' own offset is no denser than a typical one.
        let mut x = 0x2545_f491_4f6c_dd1du64;
        let mut busy: Vec<i64> = (0..30_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 540_000) as i64 * S - 60_000 * S
            })
            .collect();
        busy.extend(&sends);
        busy.sort_unstable();
        let late: Vec<i64> = sends.iter().map(|g| g + 3_602 * S).collect();
        assert_eq!(fit(&late, &busy), None);
    }
}
