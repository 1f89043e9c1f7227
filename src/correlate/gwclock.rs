//! Clocks of gateway layers against each other: two layers that log the same requests
//! (API Gateway in front of nginx, a load balancer and the service mesh behind it) write
//! each request once each, by their hosts' clocks. A layer whose clock is off keeps its
//! copies from matching (the duplicate match allows two seconds), so every request
//! counts twice, and it puts the requests a statement or a send follows at another time.
//! Each record of a layer votes for its offsets to the reference layer's records of the
//! same client, method, status and last path segment; the offset nearly all share is the
//! clock's, and corrected when it is over a second.

use super::{Analysis, Skew};
use crate::model::{Event, FormatName, SourceKind};
use crate::profile::Profile;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::hash::{BuildHasher, Hash, Hasher};

/// Widest offset looked for (any zone offset plus a skew, as for DB clocks).
const WINDOW_US: i64 = (14 * 60 + 30) * 60 * 1_000_000;

/// Width of the peak: one layer logs a request when it began, the other when it ended,
/// so copies differ by the clock's offset plus a latency of milliseconds to seconds.
const PEAK_US: i64 = 3_000_000;

/// Smallest offset that is corrected: below it the duplicate match absorbs it.
const APPLY_US: i64 = 1_000_000;

/// A key with more records than this in either layer does not vote (an address's
/// polling of one route: its offsets say nothing and cost quadratic time).
const MAX_PER_KEY: usize = 16;

/// Offset within which the database's clock agrees with a layer's: NTP keeps clocks
/// within a second, separately run servers drift to minutes.
const AGREE_US: i64 = 60_000_000;

/// Fewest records that must share the offset.
const MIN_AGREE: usize = 20;

/// Estimates each gateway format's offset against one reference layer, picks the
/// reference (`reference`), and corrects the others' times to its clock where they are
/// over a second off. The events are left out of order (the caller restores it). No
/// row when there is a single gateway format.
pub fn estimate_and_apply(a: &mut Analysis, p: &Profile) -> Vec<Skew> {
    let ev = &a.ing.events;
    let keyed: Vec<(FormatName, u64, i64)> = ev
        .par_iter()
        .filter(|e| e.kind() == SourceKind::Gateway)
        .filter_map(|e| Some((e.format, key(e)?, e.ts)))
        .collect();
    let mut by_format: BTreeMap<FormatName, Vec<(u64, i64)>> = BTreeMap::new();
    for (f, k, t) in keyed {
        by_format.entry(f).or_default().push((k, t));
    }
    if by_format.len() < 2 {
        return Vec::new();
    }
    by_format
        .par_iter_mut()
        .for_each(|(_, v)| v.sort_unstable());
    // The first reference: a provider-run layer, else the one with the most records.
    let first = *by_format
        .iter()
        .max_by_key(|(f, v)| (provider_run(f.as_str()), v.len(), std::cmp::Reverse(**f)))
        .map(|(f, _)| f)
        .expect("two formats");
    let offsets: BTreeMap<FormatName, Option<Fit>> = by_format
        .iter()
        .filter(|(f, _)| **f != first)
        .map(|(f, v)| (*f, fit(v, &by_format[&first])))
        .collect();
    let alone = by_format
        .values()
        .filter(|v| v.len() == by_format[&first].len())
        .count()
        == 1;
    // Two provider-run layers that disagree: one of them is not what it seems (a
    // stage's logs re-exported through a host's clock), and the other sources say which.
    let providers = by_format
        .keys()
        .filter(|f| provider_run(f.as_str()))
        .count();
    let (reference, why) = reference(a, p, first, alone, providers, &offsets);
    // Every offset is to the first reference (its own is 0); the chosen one's is the base.
    let base = offsets
        .get(&reference)
        .and_then(Option::as_ref)
        .map_or(0, |f| f.median);
    let rf = reference.as_str();
    let mut out = Vec::new();
    for fmt in by_format.into_keys().filter(|f| *f != reference) {
        // The first reference is compared with the chosen one through the chosen one's fit.
        let fit = offsets[if fmt == first { &reference } else { &fmt }].as_ref();
        let own = if fmt == first {
            0
        } else {
            fit.map_or(0, |f| f.median)
        };
        let fmt = fmt.as_str();
        let Some(fit) = fit else {
            let with = first.as_str();
            a.notes.push(format!(
                "The {fmt} and {with} gateway evidence share too few requests (the same \
                 client, method, status and path at one offset) to compare their clocks: \
                 both are as logged. If they are two layers logging the same requests and \
                 one clock was off, give --clock-skew {fmt}=DURATION."
            ));
            continue;
        };
        let median = own - base;
        let applied = median.abs() > APPLY_US;
        if applied {
            super::skew::shift(a, fmt, median);
            a.notes.push(format!(
                "The {fmt} gateway evidence logs the same requests as {rf}, by a clock {} \
                 {} {rf}'s: {} of its {} records that could be compared match one of \
                 {rf}'s (same client, method, status and path) at that offset. Its times \
                 were corrected by it. {rf}'s clock is the reference ({why}); if it was \
                 the one that was off, --clock-skew {rf}=DURATION corrects both.",
                super::skew::hms(median.abs()),
                if median >= 0 { "ahead of" } else { "behind" },
                fit.agree,
                fit.voters,
            ));
        }
        out.push(Skew {
            source: format!("gateway:{fmt}"),
            against: format!("gateway:{rf} (the same requests in both)"),
            median_us: median,
            correction_us: if applied { median } else { 0 },
            pairs: fit.agree,
            applied,
        });
    }
    out
}

/// The reference layer and why: a provider-run layer (its clock is the provider's) when
/// it is the only one (`providers`) and no push provider's clock sides with another
/// layer against it; else the layer the other sources' clocks are nearest to, where
/// they say: the database's through statements tagged with request ids (times read with an assumed
/// zone do not vote: the zone may be the wrong one), each push format's through the
/// messages that follow push-route requests; else the layer with the most records, then
/// the first by name (`most_records` says which).
/// A source votes for the layer its clock agrees with: the database within a minute
/// (NTP keeps clocks within a second; separately run servers drift to minutes), a
/// push format where a latency explains its sends' offset (from a minute before their
/// requests to 15 minutes after, and not so steady an offset that it is a clock's).
/// Where it agrees with several, it votes for the nearest if the others are a minute
/// further, else not at all (a database an hour off says nothing of two layers five
/// minutes apart). Of three clocks, the one the others disagree with is the one off.
fn reference(
    a: &Analysis,
    p: &Profile,
    first: FormatName,
    most_records: bool,
    providers: usize,
    offsets: &BTreeMap<FormatName, Option<Fit>>,
) -> (FormatName, String) {
    let provider = provider_run(first.as_str()) && providers == 1;
    let by_count = |voted: bool| match (voted, most_records) {
        (false, true) => "no other source's clock could be compared; it has the most records",
        (false, false) => "no other source's clock could be compared; it is first by name",
        (true, true) => "the other sources' clocks side with no layer; it has the most records",
        (true, false) => "the other sources' clocks side with no layer; it is first by name",
    };
    // Each fitted layer's offset to the first reference; a record's time in the first
    // reference's clock is its time less its layer's offset.
    let mut layer: BTreeMap<FormatName, i64> = BTreeMap::from([(first, 0)]);
    layer.extend(
        offsets
            .iter()
            .filter_map(|(f, o)| Some((*f, o.as_ref()?.median))),
    );
    let ev = &a.ing.events;
    let in_first = |e: &Event| Some(e.ts - layer.get(&e.format)?);
    // Each voting source's offset to the first reference, the spread of a push
    // format's offsets (a latency's) or none (the database's), and its format.
    let mut votes: Vec<(i64, Option<i64>, &str)> = Vec::new();
    let mut statement: foldhash::HashMap<&str, (FormatName, i64)> = Default::default();
    for e in ev
        .iter()
        .filter(|e| e.kind() == SourceKind::Db && !e.tz_assumed)
    {
        if let Some(r) = e.request_id.as_deref() {
            let t = statement.entry(r).or_insert((e.format, e.ts));
            t.1 = t.1.min(e.ts);
        }
    }
    let mut db: BTreeMap<FormatName, Vec<i64>> = BTreeMap::new();
    for e in ev.iter().filter(|e| e.kind() == SourceKind::Gateway) {
        let Some(&(f, t)) = e.request_id.as_deref().and_then(|r| statement.get(r)) else {
            continue;
        };
        if let Some(g) = in_first(e) {
            db.entry(f).or_default().push(t - g);
        }
    }
    for (f, mut d) in db.into_iter().filter(|(_, d)| d.len() >= MIN_AGREE) {
        let mid = d.len() / 2;
        votes.push((*d.select_nth_unstable(mid).1, None, f.as_str()));
    }
    let mut sends: Vec<i64> = super::pushclock::sends(a, p)
        .into_iter()
        .filter_map(|i| in_first(&ev[i]))
        .collect();
    sends.sort_unstable();
    let (starts, _) = super::pushclock::first_records(ev);
    votes.extend(starts.iter().filter_map(|(f, ts)| {
        let fit = super::pushclock::fit(ts, &sends)?;
        Some((fit.corr, Some(fit.spread()), *f))
    }));
    let mut tally: BTreeMap<FormatName, Vec<&str>> = BTreeMap::new();
    for &(off, spread, source) in &votes {
        // A push clock agrees where the push evidence would need no correction.
        let agrees = |o: i64| match spread {
            Some(s) => super::pushclock::latency_explains(o, s),
            None => o.abs() <= AGREE_US,
        };
        let mut ok: Vec<(u64, FormatName)> = layer
            .iter()
            .map(|(f, d)| ((off - d).unsigned_abs(), *f))
            .filter(|(_, f)| agrees(off - layer[f]))
            .collect();
        ok.sort_unstable();
        let nearest = match ok[..] {
            [(_, f)] => Some(f),
            [(a, f), (b, _), ..] if b - a > AGREE_US.unsigned_abs() => Some(f),
            _ => None,
        };
        if let Some(f) = nearest {
            tally.entry(f).or_default().push(source);
        }
    }
    // A provider-run layer keeps its clock unless a push provider's export, a clock
    // another provider keeps, sides with another layer and none with it: of three
    // clocks, the one the others disagree with is off.
    let kept = |f: &FormatName| {
        tally
            .get(f)
            .is_some_and(|n| n.iter().any(|s| provider_kept(s)))
    };
    if provider && (kept(&first) || !tally.keys().any(|f| *f != first && kept(f))) {
        return (first, "a provider-run gateway's clock".into());
    }
    // The most votes; on a tie, the first reference.
    match tally.iter().max_by_key(|(f, n)| (n.len(), **f == first)) {
        Some((f, n)) => {
            let verb = if n.len() == 1 { "agrees" } else { "agree" };
            (*f, format!("the clock {} {verb} with", n.join(" and ")))
        }
        None => (first, by_count(!votes.is_empty()).into()),
    }
}

/// A gateway run by a cloud provider, whose clock the provider keeps: the reference
/// before self-run layers.
fn provider_run(fmt: &str) -> bool {
    fmt.starts_with("apigw")
}

/// A push format the provider writes (FCM's BigQuery export, SNS delivery logs,
/// OneSignal's exports), by a clock the provider keeps; the others are the
/// application's own send logs, written by its hosts' clocks.
fn provider_kept(fmt: &str) -> bool {
    !matches!(fmt, "fcm-v1-log" | "expo-push-log")
}

/// What two layers' copies of a request share: the client address, the method, the
/// status and the path's last static segment (layers differ in prefixes, such as API
/// Gateway's stage, and some log the route template, not the path). `None` when a
/// record lacks one.
fn key(e: &Event) -> Option<u64> {
    let ip = e.client_ip.as_deref()?;
    let method = e.method.as_deref()?;
    let status = e.status?;
    let path = e.path.as_deref().or(e.route.as_deref())?;
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let tail = path.rsplit('/').find(|s| is_static(s)).unwrap_or("");
    let mut h = KEY_HASH.build_hasher();
    ip.hash(&mut h);
    for b in method.bytes() {
        h.write_u8(b.to_ascii_uppercase());
    }
    h.write_u8(0xff);
    status.hash(&mut h);
    tail.hash(&mut h);
    Some(h.finish())
}

/// A path segment both a concrete path and its route template write alike: not empty,
/// not a placeholder (`{id}`, `:id`, `<id>`), no digits (ids, tokens).
fn is_static(seg: &str) -> bool {
    !seg.is_empty() && !seg.starts_with(['{', ':', '<']) && !seg.bytes().any(|b| b.is_ascii_digit())
}

/// A fixed hasher: the keys never reach the output, but the same evidence hashes alike.
const KEY_HASH: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x6777_636c);

/// The offset a layer's records share against the reference's.
#[derive(Debug, PartialEq)]
struct Fit {
    /// The median offset in the peak (layer − reference).
    median: i64,
    /// Records whose offsets fall in the peak.
    agree: usize,
    /// Records with any record of their key in the reference within the window.
    voters: usize,
}

/// Each record of `layer` (sorted (key, time) pairs) votes for its offsets to the
/// reference's records of its key within the window; the densest `PEAK_US` of offsets
/// wins if at least `MIN_AGREE` records and half of those that voted are in it.
fn fit(layer: &[(u64, i64)], reference: &[(u64, i64)]) -> Option<Fit> {
    let groups = |v: &[(u64, i64)]| -> BTreeMap<u64, (usize, usize)> {
        let mut m = BTreeMap::new();
        let mut i = 0;
        for c in v.chunk_by(|x, y| x.0 == y.0) {
            m.insert(c[0].0, (i, i + c.len()));
            i += c.len();
        }
        m
    };
    let rg = groups(reference);
    // (offset, voter) of every vote, and the number of voters.
    let mut votes: Vec<(i64, u32)> = Vec::new();
    let mut voters = 0u32;
    let mut i = 0;
    for c in layer.chunk_by(|x, y| x.0 == y.0) {
        let start = i;
        i += c.len();
        let Some(&(lo, hi)) = rg.get(&c[0].0) else {
            continue;
        };
        if c.len() > MAX_PER_KEY || hi - lo > MAX_PER_KEY {
            continue;
        }
        for (j, &(_, t)) in c.iter().enumerate() {
            let before = votes.len();
            votes.extend(
                reference[lo..hi]
                    .iter()
                    .map(|&(_, r)| t - r)
                    .filter(|d| d.abs() <= WINDOW_US)
                    .map(|d| (d, (start + j) as u32)),
            );
            voters += u32::from(votes.len() > before);
        }
    }
    votes.par_sort_unstable();
    // The densest window of PEAK_US, counted in distinct voters would cost a set per
    // window; votes are counted, and a record that votes twice in one window (a client
    // repeating a request within three seconds) is rare against the thousands that agree.
    let (mut best, mut at, mut hi) = (0usize, 0usize, 0usize);
    for lo in 0..votes.len() {
        while hi < votes.len() && votes[hi].0 - votes[lo].0 <= PEAK_US {
            hi += 1;
        }
        if hi - lo > best {
            (best, at) = (hi - lo, lo);
        }
    }
    let mut peak: Vec<(u32, i64)> = votes[at..at + best].iter().map(|&(d, v)| (v, d)).collect();
    peak.sort_unstable();
    peak.dedup_by_key(|x| x.0);
    let agree = peak.len();
    if agree < MIN_AGREE || agree * 2 < voters as usize {
        return None;
    }
    let mut d: Vec<i64> = peak.into_iter().map(|x| x.1).collect();
    d.sort_unstable();
    Some(Fit {
        median: d[d.len() / 2],
        agree,
        voters: voters as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn sorted(mut v: Vec<(u64, i64)>) -> Vec<(u64, i64)> {
        v.sort_unstable();
        v
    }

    #[test]
    fn a_layer_an_hour_behind_fits_at_minus_an_hour() {
        // 200 requests, each key twice a day; the layer logs them 20–300 ms later (at
        // their end), by a clock an hour behind.
        let reference: Vec<(u64, i64)> = (0..200u64)
            .flat_map(|k| [(k, k as i64 * 97 * S), (k, k as i64 * 97 * S + 40_000 * S)])
            .collect();
        let layer = sorted(
            reference
                .iter()
                .enumerate()
                .map(|(i, &(k, t))| (k, t - 3_600 * S + (20 + (i as i64 * 7) % 280) * 1_000))
                .collect(),
        );
        let f = fit(&layer, &sorted(reference)).unwrap();
        assert_eq!((f.agree, f.voters), (400, 400));
        assert!((f.median - (-3_600 * S)).abs() < S / 2, "{}", f.median);
    }

    #[test]
    fn a_path_and_its_route_template_share_a_key() {
        let mut a = Event::new(SourceKind::Gateway, "nginx-json");
        a.client_ip = Some(crate::model::text("100.64.1.2"));
        a.method = Some(crate::model::text("put"));
        a.status = Some(204);
        a.path = Some(crate::model::text(
            "/prod/api/v1/customers/101256/devices/xOP1N?x=1",
        ));
        let mut b = a.clone();
        b.path = None;
        b.method = Some(crate::model::text("PUT"));
        b.route = Some(crate::model::text(
            "/api/v1/customers/{id}/devices/{installationId}",
        ));
        assert_eq!(key(&a), key(&b));
        b.status = Some(404);
        assert_ne!(key(&a), key(&b));
    }

    #[test]
    fn layers_of_different_requests_fit_nothing() {
        // Two servers behind a balancer: the same customers' polling, at unrelated times.
        let a: Vec<(u64, i64)> = (0..400u64)
            .map(|i| (i % 50, (i as i64 * 7_919 % 86_400) * S))
            .collect();
        let b: Vec<(u64, i64)> = (0..400u64)
            .map(|i| (i % 50, (i as i64 * 4_637 % 86_400) * S + 321_000))
            .collect();
        assert_eq!(fit(&sorted(b), &sorted(a)), None);
    }

    #[test]
    fn too_few_shared_requests_fit_nothing() {
        let reference: Vec<(u64, i64)> = (0..10u64).map(|k| (k, k as i64 * 60 * S)).collect();
        let layer: Vec<(u64, i64)> = reference.iter().map(|&(k, t)| (k, t + 90 * S)).collect();
        assert_eq!(fit(&layer, &reference), None);
    }
}
