//! Distributed credential stuffing: failed logins spread over many addresses (a proxy
//! pool, a botnet), each too few for the per-address rule. Found as an hour whose failed
//! logins stand far above the evidence's usual rate, then the addresses that carried it.

use super::detect::HOUR;
use super::stuffing::{accounts_of, failed_login};
use super::technique as t;
use super::{Analysis, Finding};
use crate::profile::Profile;
use std::collections::{BTreeMap, BTreeSet};

/// How many times the usual hourly failure count (plus one) a burst hour must reach.
const BURST_FACTOR: u64 = 5;

/// Or how far above the usual count for its hour of the day, in spreads of the hourly
/// counts about theirs, it must stand: on a busy app customers' mistypes fill every
/// hour, and a pool's burst doubles one rather than multiplying it by five.
const BURST_SPREADS: f64 = 6.0;

/// How far outside the central span of the pool's failed logins an address's failures
/// may fall (besides a tenth of the span): a pool's stragglers, not a customer an hour on.
const SPAN_PAD_US: i64 = 10 * 60 * 1_000_000;

/// The usual failed logins of an hour: the median of the same hour of the day on the
/// evidence's other days, where it has two or more, else the median hour of the span
/// (quiet hours count as zero, so the burst itself cannot raise it much); and how far
/// hours stray from theirs (the median absolute deviation, as a standard deviation).
struct Usual<'a> {
    fails: &'a BTreeMap<i64, u64>,
    first: i64,
    last: i64,
    median: u64,
    spread: f64,
}

impl<'a> Usual<'a> {
    fn new(fails: &'a BTreeMap<i64, u64>, first: i64, last: i64) -> Usual<'a> {
        let mut per_hour: Vec<u64> = (first..=last).map(|h| count(fails, h)).collect();
        per_hour.sort_unstable();
        let mut u = Usual {
            fails,
            first,
            last,
            median: per_hour[per_hour.len() / 2],
            spread: 0.0,
        };
        let strays: Vec<f64> = (first..=last)
            .map(|h| count(fails, h) as f64 - u.at(h) as f64)
            .collect();
        let mid = median_f(strays.clone());
        u.spread = 1.4826 * median_f(strays.iter().map(|r| (r - mid).abs()).collect());
        u
    }

    /// The usual count of hour `h`.
    fn at(&self, h: i64) -> u64 {
        let mut same: Vec<u64> = (1..)
            .map(|d| h - 24 * d)
            .take_while(|&x| x >= self.first)
            .chain((1..).map(|d| h + 24 * d).take_while(|&x| x <= self.last))
            .map(|x| count(self.fails, x))
            .collect();
        if same.len() < 2 {
            return self.median;
        }
        same.sort_unstable();
        same[same.len() / 2]
    }

    /// Whether `n` failures in hour `h` are a burst: five times the span's usual hour,
    /// or `BURST_SPREADS` spreads (and `least` failures) above the usual for that hour.
    fn burst(&self, h: i64, n: u64, least: u64) -> bool {
        if n >= BURST_FACTOR * (self.median + 1) {
            return true;
        }
        let base = self.at(h) as f64;
        let spread = self.spread.max(base.sqrt()).max(1.0);
        n as f64 >= base + (least as f64).max(BURST_SPREADS * spread)
    }
}

fn count(fails: &BTreeMap<i64, u64>, h: i64) -> u64 {
    fails.get(&h).copied().unwrap_or(0)
}

fn median_f(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// One login attempt as this rule needs it.
struct Attempt<'a> {
    i: usize,
    hour: i64,
    ip: &'a str,
    failed: bool,
    names: &'a [String],
}

/// An address's logins in a burst window.
#[derive(Default)]
struct Tally<'a> {
    attempts: u64,
    failures: u64,
    /// The names its failed logins tried. A success can be known by name where the
    /// failures are not (the account that logged in, when no statement of the failed
    /// ones is tagged).
    failed_names: BTreeSet<&'a str>,
    /// Every name seen.
    names: BTreeSet<&'a str>,
    /// Whether its last login succeeded.
    got_in: bool,
}

/// Findings for bursts of failed logins that no single address explains. `logins` are
/// the login requests (with an address) in event order, `names` the login names each
/// tried (`stuffing::login_names`, constants dropped); `flagged` the addresses the
/// per-address rule already took.
pub fn distributed(
    a: &Analysis,
    p: &Profile,
    logins: &[usize],
    names: &[Vec<String>],
    flagged: &BTreeSet<String>,
) -> Vec<Finding> {
    let ev = &a.ing.events;
    let tries: Vec<Attempt> = logins
        .iter()
        .zip(names)
        .filter_map(|(&i, names)| {
            let e = &ev[i];
            Some(Attempt {
                i,
                hour: e.ts.div_euclid(HOUR),
                ip: e.client_ip.as_deref()?,
                failed: failed_login(e),
                names,
            })
        })
        .collect();
    let (Some(first), Some(last)) = (
        tries.iter().map(|x| x.hour).min(),
        tries.iter().map(|x| x.hour).max(),
    ) else {
        return Vec::new();
    };
    // Failures per hour that no flagged address made: a password spray the per-address
    // rule took makes its hour stand out, and the customers who mistyped in it would
    // become a pool.
    let mut fails: BTreeMap<i64, u64> = BTreeMap::new();
    let mut names: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
    for x in tries.iter().filter(|x| x.failed && !flagged.contains(x.ip)) {
        *fails.entry(x.hour).or_default() += 1;
        names
            .entry(x.hour)
            .or_default()
            .extend(x.names.iter().map(String::as_str));
    }
    let usual = Usual::new(&fails, first, last);
    let th = &p.thresholds;
    let bursts: Vec<i64> = fails
        .iter()
        .filter(|(h, &n)| {
            // Many failures, and, where the names tried are known, many names: one
            // user's retries are not stuffing.
            let known = names.get(h).map_or(0, BTreeSet::len) as u64;
            n >= th.stuffing_failures
                && usual.burst(**h, n, th.stuffing_failures)
                && (known == 0 || known >= th.stuffing_failures)
        })
        .map(|(&h, _)| h)
        .collect();
    // Neighbouring burst hours (and the hour either side, where a burst starts or ends)
    // make one window.
    let mut windows: Vec<(i64, i64)> = Vec::new();
    for h in bursts {
        match windows.last_mut() {
            Some(w) if h - 1 <= w.1 => w.1 = h + 1,
            _ => windows.push((h - 1, h + 1)),
        }
    }
    let mut out = Vec::new();
    for (from, to) in windows {
        let usually = usual.at(from + 1);
        let inside: Vec<&Attempt> = tries
            .iter()
            .filter(|x| x.hour >= from && x.hour <= to)
            .collect();
        let mut by: BTreeMap<&str, Tally> = BTreeMap::new();
        for x in &inside {
            let s = by.entry(x.ip).or_default();
            s.attempts += 1;
            s.failures += x.failed as u64;
            s.got_in = !x.failed;
            let names = x.names.iter().map(String::as_str);
            if x.failed {
                s.failed_names.extend(names.clone());
            }
            s.names.extend(names);
        }
        let open: u64 = by
            .iter()
            .filter(|(ip, _)| !flagged.contains(**ip))
            .map(|(_, s)| s.failures)
            .sum();
        // Addresses seen before the window are the customers' own (a user who mistypes
        // a password during the burst); the pool's addresses appear with it. Events are
        // in time order.
        let start = from * HOUR;
        let seen_before: BTreeSet<&str> = ev
            .iter()
            .take_while(|e| e.ts < start)
            .filter_map(|e| e.client_ip.as_deref())
            .filter(|ip| by.contains_key(ip))
            .collect();
        // The pool's addresses others use too, and the agents their attempts count under.
        let mut through: BTreeMap<&str, BTreeSet<Option<&str>>> = BTreeMap::new();
        // An address of the pool tried several logins, mostly failing, and under several
        // names where the names its failures tried are known.
        let pool_like = |ip: &&str, s: &Tally| {
            !flagged.contains(*ip)
                && s.failures >= 2
                && s.failures as f64 >= th.stuffing_failure_ratio * s.attempts as f64
                && (s.failed_names.is_empty() || s.failed_names.len() >= 2)
        };
        let (mut pool, mut returning): (BTreeSet<&str>, BTreeSet<&str>) = by
            .iter()
            .filter(|(ip, s)| pool_like(ip, s))
            .map(|(ip, _)| *ip)
            .partition(|ip| !seen_before.contains(ip));
        // A customer who mistyped during the burst, on an address the evidence had not
        // seen (a first visit, a mobile network's changing address): a few failures,
        // then in. The pool's addresses keep trying: one that failed under half as
        // often as the pool's median and whose last login succeeded is left out.
        let mut per: Vec<u64> = pool.iter().map(|ip| by[ip].failures).collect();
        per.sort_unstable();
        let median = per.get(per.len() / 2).copied();
        if let Some(median) = median {
            pool.retain(|ip| !(by[ip].got_in && by[ip].failures * 2 < median));
        }
        // An address seen before the window is a customer's own, unless the new
        // addresses make a pool and it fails as often as they do (three times at least,
        // more than a customer's mistypes): a carrier's CGNAT exit or a residential
        // proxy the pool shares with customers (`shared` keeps those customers out).
        returning.retain(|ip| {
            let n = by[ip].failures;
            median.is_some_and(|m| n >= 3 && n * 2 >= m)
        });
        pool.extend(returning);
        // The burst's span (`spans`): the runs of the pool's failed logins that hold a
        // burst's worth. The pool's addresses fail inside one; a customer who mistyped
        // twice on a first visit an hour before the burst, or after it ended, does not.
        let mut at: Vec<i64> = inside
            .iter()
            .filter(|x| x.failed && pool.contains(x.ip))
            .map(|x| ev[x.i].ts)
            .collect();
        at.sort_unstable();
        let spans = spans(&at, th.stuffing_failures);
        let within = |t: i64| spans.iter().any(|&(lo, hi)| (lo..=hi).contains(&t));
        if !spans.is_empty() {
            let inner: BTreeSet<&str> = inside
                .iter()
                .filter(|x| x.failed && within(ev[x.i].ts))
                .map(|x| x.ip)
                .collect();
            pool.retain(|ip| inner.contains(ip));
        }
        let once = one_try(ev, &inside, &by, &pool, flagged, &seen_before);
        let once_n = once.len();
        pool.extend(once);
        // An address customers use too (a carrier's exit, a residential proxy), with too
        // few failures for the rules above, or seen before, or used again after, is the
        // pool's when it failed inside the span under the pool's agents, ones its
        // customers never sent; its attempts under those agents are the pool's, the rest
        // its customers'.
        if !spans.is_empty() {
            let agents = main_agents(
                ev,
                inside.iter().filter(|x| x.failed && pool.contains(x.ip)),
            );
            // A customer who mistyped on a first visit during the burst, then got in,
            // under an agent the pool hardly uses (the app's): where the pool's main
            // agents carry four in five of its failures, none of this address's.
            let mut under: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
            for x in inside.iter().filter(|x| x.failed && pool.contains(x.ip)) {
                let u = under.entry(x.ip).or_default();
                u.0 += 1;
                u.1 += agents.contains(&ev[x.i].user_agent.as_deref()) as u64;
            }
            let (all, main) = under.values().fold((0, 0), |(a, m), u| (a + u.0, m + u.1));
            if main * 5 >= all * 4 {
                pool.retain(|ip| !(by[ip].got_in && under.get(ip).is_some_and(|u| u.1 == 0)));
            }
            let cands: BTreeSet<&str> = inside
                .iter()
                .filter(|x| {
                    x.failed
                        && within(ev[x.i].ts)
                        && !flagged.contains(x.ip)
                        && agents.contains(&ev[x.i].user_agent.as_deref())
                })
                .map(|x| x.ip)
                .collect();
            let others = others(ev, &cands, |e| failed_login(e) && within(e.ts));
            let members = Members {
                flagged,
                others: &others,
                agents: &agents,
                median: median.unwrap_or(0),
                ratio: th.stuffing_failure_ratio,
            };
            for (ip, new) in members.shared(ev, &inside, within) {
                pool.insert(ip);
                through.insert(ip, new);
            }
        }
        let returned = pool.iter().filter(|ip| seen_before.contains(*ip)).count();
        // The attempts the pool made: those inside the burst's span (the hours either
        // side of a burst hour also hold a customer behind a pool's exit who signs in an
        // hour after it), and a shared address's under the pool's agents only.
        let counted: Vec<&Attempt> = inside
            .iter()
            .copied()
            .filter(|x| {
                pool.contains(x.ip)
                    && (spans.is_empty() || within(ev[x.i].ts))
                    && through
                        .get(x.ip)
                        .is_none_or(|a| a.contains(&ev[x.i].user_agent.as_deref()))
            })
            .collect();
        let carried = counted.iter().filter(|x| x.failed).count() as u64;
        // The pool carries the burst: enough failures, and most of those no flagged
        // address made, or, where customers' mistypes fill every hour, most of those
        // above the window's usual count. Otherwise the burst is a flagged address's,
        // and a few users who mistyped in the same hour are left alone.
        let excess = open.saturating_sub((from..=to).map(|h| usual.at(h)).sum());
        let carries =
            carried * 2 >= open || (excess >= th.stuffing_failures && carried * 2 >= excess);
        if pool.len() < 2 || carried < th.stuffing_failures || !carries {
            continue;
        }
        let evs: Vec<usize> = counted.iter().map(|x| x.i).collect();
        let ok = accounts_of(ev, evs.iter().copied().filter(|&i| !failed_login(&ev[i])));
        let tried: BTreeSet<&str> = counted
            .iter()
            .flat_map(|x| x.names.iter().map(String::as_str))
            .collect();
        out.push(Finding {
            technique: t::CREDENTIAL_STUFFING,
            subject: format!("{} addresses", pool.len()),
            explanation: format!(
                "distributed credential stuffing: {carried} of {} logins from {} addresses{} \
                 failed between {} and {} ({} distinct login names; usually {usually} failed \
                 logins an hour then); {} succeeded{}",
                evs.len(),
                pool.len(),
                match (once_n, returned) {
                    (0, 0) => String::new(),
                    (n, 0) => format!(" ({n} of them seen in one failed login only)"),
                    (0, r) => format!(" ({r} of them seen before the burst)"),
                    (n, r) => format!(
                        " ({n} of them seen in one failed login only, {r} seen before the burst)"
                    ),
                },
                crate::timeparse::fmt_utc_s(from * HOUR),
                crate::timeparse::fmt_utc_s((to + 1) * HOUR),
                tried.len(),
                ok.len(),
                if ok.is_empty() {
                    String::new()
                } else {
                    format!(
                        " (accounts {})",
                        ok.into_iter().collect::<Vec<_>>().join(", ")
                    )
                }
            ),
            seed_ips: pool.iter().map(|s| s.to_string()).collect(),
            seed_contexts: vec![],
            seed_sessions: vec![],
            shared_ips: through.keys().map(|s| s.to_string()).collect(),
            events: evs,
        });
    }
    out
}

/// The pool's one-try addresses. A pool of hundreds leaves many addresses with a single
/// failed login, too few for the rule above; a pool of thousands may leave no other
/// kind. An address is one when everything the evidence holds of it is one failed login
/// in the burst window, on an address not seen before it; where the rule above confirmed
/// members (`core`, two or more), also inside the span of their attempts and under a
/// user agent they used (or none, where they had none). A customer who mistypes on a
/// new address then gets in, or does something else, or uses the application's own
/// agent; the pool's addresses try once and leave.
fn one_try<'a>(
    ev: &[Box<crate::model::Event>],
    inside: &[&Attempt<'a>],
    by: &BTreeMap<&'a str, Tally<'a>>,
    core: &BTreeSet<&'a str>,
    flagged: &BTreeSet<String>,
    seen_before: &BTreeSet<&str>,
) -> BTreeSet<&'a str> {
    let of_core = || inside.iter().filter(|x| core.contains(x.ip));
    let (from, to, agents) = match (
        of_core().map(|x| ev[x.i].ts).min(),
        of_core().map(|x| ev[x.i].ts).max(),
    ) {
        (Some(from), Some(to)) if core.len() >= 2 => {
            let agents: BTreeSet<Option<&str>> =
                of_core().map(|x| ev[x.i].user_agent.as_deref()).collect();
            (from, to, Some(agents))
        }
        _ => (i64::MIN, i64::MAX, None),
    };
    let mut cand: BTreeSet<&str> = by
        .iter()
        .filter(|(ip, s)| {
            !core.contains(**ip)
                && !flagged.contains(**ip)
                && !seen_before.contains(**ip)
                && s.attempts == 1
                && s.failures == 1
        })
        .map(|(ip, _)| *ip)
        .collect();
    for x in inside {
        let e = &ev[x.i];
        let agent = e.user_agent.as_deref();
        if e.ts < from || e.ts > to || agents.as_ref().is_some_and(|a| !a.contains(&agent)) {
            cand.remove(x.ip);
        }
    }
    // Everything of the address is those attempts: any other event of it, anywhere in
    // the evidence, is a visitor's.
    let mut all: BTreeMap<&str, u64> = BTreeMap::new();
    for e in ev {
        if let Some(ip) = e.client_ip.as_deref() {
            if cand.contains(ip) {
                *all.entry(ip).or_default() += 1;
            }
        }
    }
    cand.into_iter()
        .filter(|ip| all.get(ip).copied() == Some(by[ip].attempts))
        .collect()
}

/// The spans of a burst's failed logins (`at`, sorted): the runs of them no more than
/// `SPAN_PAD_US` apart that hold `min` or more, widened by that either side (a
/// straggler of the run). Where none does, the central nine tenths of them, widened by
/// a tenth of that and `SPAN_PAD_US` either side; none when there are fewer than `min`
/// in all.
fn spans(at: &[i64], min: u64) -> Vec<(i64, i64)> {
    if (at.len() as u64) < min {
        return Vec::new();
    }
    let mut runs: Vec<(i64, i64, u64)> = Vec::new();
    for &t in at {
        match runs.last_mut() {
            Some(r) if t - r.1 <= SPAN_PAD_US => {
                r.1 = t;
                r.2 += 1;
            }
            _ => runs.push((t, t, 1)),
        }
    }
    let full: Vec<(i64, i64)> = runs
        .iter()
        .filter(|r| r.2 >= min)
        .map(|r| (r.0 - SPAN_PAD_US, r.1 + SPAN_PAD_US))
        .collect();
    if !full.is_empty() {
        return full;
    }
    let cut = at.len() / 20;
    let (lo, hi) = (at[cut], at[at.len() - 1 - cut]);
    let pad = (hi - lo) / 10 + SPAN_PAD_US;
    vec![(lo - pad, hi + pad)]
}

/// The user agents that carried at least a twentieth of these attempts (`None` for
/// attempts that name none).
fn main_agents<'a, 'b>(
    ev: &'a [Box<crate::model::Event>],
    attempts: impl Iterator<Item = &'b &'b Attempt<'b>>,
) -> BTreeSet<Option<&'a str>> {
    let mut n: BTreeMap<Option<&str>, u64> = BTreeMap::new();
    let mut all = 0u64;
    for x in attempts {
        *n.entry(ev[x.i].user_agent.as_deref()).or_default() += 1;
        all += 1;
    }
    n.into_iter()
        .filter(|&(_, c)| c * 20 >= all)
        .map(|(a, _)| a)
        .collect()
}

/// The agents of the requests of `cands` (`None` for requests that name none), leaving
/// out those `skip` holds: one pass over the evidence.
fn others<'a>(
    ev: &'a [Box<crate::model::Event>],
    cands: &BTreeSet<&str>,
    skip: impl Fn(&crate::model::Event) -> bool,
) -> BTreeMap<&'a str, BTreeSet<Option<&'a str>>> {
    let mut out: BTreeMap<&str, BTreeSet<Option<&str>>> = BTreeMap::new();
    for e in ev {
        let Some(ip) = e.client_ip.as_deref().filter(|ip| cands.contains(ip)) else {
            continue;
        };
        if !skip(e) {
            out.entry(ip).or_default().insert(e.user_agent.as_deref());
        }
    }
    out
}

/// What decides whether an address others use too is the pool's as well.
struct Members<'a, 'b> {
    flagged: &'b BTreeSet<String>,
    /// The agents of each address's requests other than its failed logins in the span.
    others: &'b BTreeMap<&'a str, BTreeSet<Option<&'a str>>>,
    /// The pool's agents (`main_agents`).
    agents: &'b BTreeSet<Option<&'a str>>,
    /// The median failures of the pool's new addresses.
    median: u64,
    ratio: f64,
}

impl<'a> Members<'a, '_> {
    /// The addresses others use too (requests besides their failed logins in the
    /// span, under agents the pool does not use: a carrier's exit, a residential proxy
    /// the pool also leaves through), unflagged, that failed inside the span under the
    /// pool's agents those others never sent, as often as half the pool's median at
    /// least and with that share of failures among their attempts under those agents;
    /// with those agents. Those of the pool already are returned too: their attempts
    /// under other agents are their customers'. A customer on such an exit mistypes
    /// under the app's agent; the pool's scripts under theirs.
    fn shared(
        &self,
        ev: &[Box<crate::model::Event>],
        inside: &[&Attempt<'a>],
        within: impl Fn(i64) -> bool,
    ) -> Vec<(&'a str, BTreeSet<Option<&'a str>>)> {
        let mut tally: BTreeMap<&'a str, (u64, u64)> = BTreeMap::new();
        let new = |ip: &str| -> BTreeSet<Option<&'a str>> {
            match self.others.get(ip) {
                Some(b) if !b.is_subset(self.agents) => {
                    self.agents.difference(b).copied().collect()
                }
                _ => BTreeSet::new(),
            }
        };
        let mut fresh: BTreeMap<&'a str, BTreeSet<Option<&'a str>>> = BTreeMap::new();
        for x in inside {
            if self.flagged.contains(x.ip) {
                continue;
            }
            let agents = fresh.entry(x.ip).or_insert_with(|| new(x.ip));
            if !agents.contains(&ev[x.i].user_agent.as_deref()) {
                continue;
            }
            let t = tally.entry(x.ip).or_default();
            t.0 += 1;
            t.1 += (x.failed && within(ev[x.i].ts)) as u64;
        }
        tally
            .into_iter()
            .filter(|&(_, (n, f))| {
                f >= 1 && f * 2 >= self.median && f as f64 >= self.ratio * n as f64
            })
            .map(|(ip, _)| (ip, fresh.remove(ip).unwrap_or_default()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    #[test]
    fn a_burst_s_span_is_its_run_not_a_mistype_an_hour_before() {
        // Two failures at 07:06, then 30 failures a minute apart from 07:51.
        let mut at = vec![7 * 60 * MIN + 6 * MIN, 7 * 60 * MIN + 6 * MIN + 17_000_000];
        at.extend((0..30).map(|k| (7 * 60 + 51 + k) * MIN));
        let s = spans(&at, 20);
        assert_eq!(
            s,
            vec![(
                (7 * 60 + 51) * MIN - SPAN_PAD_US,
                (7 * 60 + 80) * MIN + SPAN_PAD_US
            )]
        );
        assert!(!s.iter().any(|&(lo, hi)| (lo..=hi).contains(&at[0])));
    }

    #[test]
    fn two_runs_of_a_burst_are_both_spans_and_a_thin_one_falls_back() {
        let mut at: Vec<i64> = (0..25).map(|k| k * MIN).collect();
        at.extend((0..25).map(|k| 120 * MIN + k * MIN));
        assert_eq!(spans(&at, 20).len(), 2);
        // Failures 15 minutes apart make no run: the central nine tenths, widened.
        let thin: Vec<i64> = (0..40).map(|k| k * 15 * MIN).collect();
        let s = spans(&thin, 20);
        assert_eq!(s.len(), 1);
        assert!(s[0].0 < thin[2] && s[0].1 > thin[37]);
        assert!(spans(&thin[..10], 20).is_empty());
    }
}
