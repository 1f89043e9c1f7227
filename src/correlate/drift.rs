//! A DB clock that moves against the gateway's within the evidence — local time read
//! without its zone across a daylight-saving change, a clock stepped by NTP: each record
//! is corrected by the offset that the request-id pairs nearest to it in its own file
//! show. A file's lines are in the order the server wrote them, whatever its clock said.

use crate::model::Event;
use std::collections::BTreeMap;

/// Offsets closer than this are one level (latency is milliseconds; a step is minutes
/// to an hour).
const LEVEL_GAP_US: i64 = 10 * 60 * 1_000_000;

/// Fewer pairs than this at one level between two pairs of another are noise.
const MIN_RUN: usize = 3;

/// The runs of `0..n` that `breaks(i)` (between `i - 1` and `i`) separates, as ranges.
fn runs(n: usize, breaks: impl Fn(usize) -> bool) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut a = 0;
    for b in 1..=n {
        if b == n || breaks(b) {
            out.push(a..b);
            a = b;
        }
    }
    out
}

/// A pair as the correction reads it: where its statement is and the level it shows.
#[derive(Clone, Copy)]
struct Mark {
    line: i64,
    ts: i64,
    level: i64,
}

/// Per-record corrections of one format.
pub struct Piecewise {
    /// (event index, correction in µs) for every event of the format.
    pub corr: Vec<(usize, i64)>,
    /// The offsets found, each with its number of pairs, in increasing order.
    pub levels: Vec<(i64, usize)>,
}

/// The nearest key's value in a sorted list (ties to the earlier one).
fn nearest(v: &[(i64, i64)], k: i64) -> Option<i64> {
    let p = v.partition_point(|x| x.0 < k);
    match (p.checked_sub(1).map(|q| v[q]), v.get(p).copied()) {
        (Some(a), Some(b)) => Some(if k - a.0 <= b.0 - k { a.1 } else { b.1 }),
        (a, b) => a.or(b).map(|x| x.1),
    }
}

/// Corrections of one file's records (in line order) from its pairs (line, level):
/// between two pairs at different levels the step is put between the two records whose
/// times as read jump most nearly by the difference of the levels (the hour a
/// daylight-saving change skips or repeats), or, with no such jump, halfway.
fn steps_in_file(ev: &[Box<Event>], recs: &[usize], lv: &[Mark]) -> Vec<(usize, i64)> {
    let line = |k: usize| ev[recs[k]].line as i64;
    let mut level = lv[0].level;
    // Record positions after which the level changes, and to what.
    let mut steps: Vec<(usize, i64)> = Vec::new();
    for w in lv.windows(2) {
        let (l1, v1, l2, v2) = (w[0].line, w[0].level, w[1].line, w[1].level);
        if v1 == v2 {
            continue;
        }
        let a = recs.partition_point(|&i| (ev[i].line as i64) < l1);
        let b = recs.partition_point(|&i| (ev[i].line as i64) < l2);
        let jump = v2 - v1;
        let mid = |k: usize| (2 * line(k) + 1 - l1 - l2).abs();
        let cand = || (a..b).filter(|&k| k + 1 < recs.len());
        let off_jump = |k: usize| ((ev[recs[k + 1]].ts - ev[recs[k]].ts) - jump).abs();
        let at = match cand().min_by_key(|&k| (off_jump(k), mid(k))) {
            Some(k) if off_jump(k) <= jump.abs() / 2 => k,
            _ => cand().min_by_key(|&k| mid(k)).unwrap_or(a),
        };
        steps.push((at, v2));
    }
    let mut next = steps.iter().peekable();
    let mut out = Vec::with_capacity(recs.len());
    for (k, &i) in recs.iter().enumerate() {
        out.push((i, level));
        while let Some(&&(at, v)) = next.peek() {
            if at > k {
                break;
            }
            level = v;
            next.next();
        }
    }
    out
}

/// Corrections for the events of `fmt` from its pairs (event index, offset to its
/// request), or `None` when the offsets form fewer than two levels of at least 5 % of
/// the pairs each. As for a steady clock, a level's correction is its 1st percentile
/// when the pairs are `exact` (request ids: statements stay after the requests that
/// issued them), else its median (statements against their accounts' requests).
pub fn piecewise(
    ev: &[Box<Event>],
    fmt: &str,
    pairs: &[(usize, i64)],
    exact: bool,
) -> Option<Piecewise> {
    let mut d: Vec<i64> = pairs.iter().map(|p| p.1).collect();
    d.sort_unstable();
    let min = (d.len() / 20).max(3);
    let levels: Vec<(i64, i64, i64, usize)> = runs(d.len(), |i| d[i] - d[i - 1] > LEVEL_GAP_US)
        .into_iter()
        .map(|r| &d[r])
        .filter(|run| run.len() >= min)
        .map(|run| {
            let at = if exact {
                run.len() / 100
            } else {
                run.len() / 2
            };
            (run[0], run[run.len() - 1], run[at], run.len())
        })
        .collect();
    if levels.len() < 2 {
        return None;
    }
    let level_of = |x: i64| {
        levels
            .iter()
            .find(|l| (l.0..=l.1).contains(&x))
            .map(|l| l.2)
    };
    // Pairs by file, in line order.
    let mut by_file: BTreeMap<u32, Vec<Mark>> = BTreeMap::new();
    for &(i, x) in pairs {
        if let Some(level) = level_of(x) {
            let e = &ev[i];
            by_file.entry(e.file).or_default().push(Mark {
                line: e.line as i64,
                ts: e.ts,
                level,
            });
        }
    }
    for v in by_file.values_mut() {
        v.sort_unstable_by_key(|m| (m.line, m.level));
        // A short excursion — fewer than MIN_RUN pairs at a level, with the same other
        // level before and after it — is noise (statements matched to a request by
        // chance, a mislinked one), not two steps of the clock.
        let rs = runs(v.len(), |i| v[i].level != v[i - 1].level);
        let level_at = |r: Option<usize>| r.and_then(|r| rs.get(r)).map(|x| v[x.start].level);
        let keep: Vec<Mark> = rs
            .iter()
            .enumerate()
            .filter(|&(r, run)| {
                let (before, after) = (level_at(r.checked_sub(1)), level_at(Some(r + 1)));
                run.len() >= MIN_RUN || before.is_none() || after.is_none() || before != after
            })
            .flat_map(|(_, run)| v[run.clone()].iter().copied())
            .collect();
        *v = keep;
    }
    // All of them as (time, level), for files without pairs of their own.
    let mut by_time: Vec<(i64, i64)> = by_file
        .values()
        .flatten()
        .map(|m| (m.ts, m.level))
        .collect();
    by_time.sort_unstable();
    // This format's records per file, in line order.
    let mut files: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, e) in ev.iter().enumerate().filter(|(_, e)| e.format == fmt) {
        files.entry(e.file).or_default().push(i);
    }
    let mut corr = Vec::new();
    for (file, mut recs) in files {
        recs.sort_by_key(|&i| ev[i].line);
        let Some(lv) = by_file.get(&file).filter(|v| !v.is_empty()) else {
            corr.extend(
                recs.iter()
                    .filter_map(|&i| Some((i, nearest(&by_time, ev[i].ts)?))),
            );
            continue;
        };
        // The level the clock had when the file began: that of the last pair before its
        // first record, from the files before it.
        let first = ev[recs[0]].ts;
        let enter = by_time[..by_time.partition_point(|x| x.0 < first)]
            .last()
            .map(|x| x.1)
            .filter(|&v| v != lv[0].level);
        let mut lv = lv.clone();
        if let Some(level) = enter {
            let line = ev[recs[0]].line as i64 - 1;
            lv.insert(
                0,
                Mark {
                    line,
                    ts: first,
                    level,
                },
            );
        }
        corr.extend(steps_in_file(ev, &recs, &lv));
    }
    Some(Piecewise {
        corr,
        levels: levels.iter().map(|l| (l.2, l.3)).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;

    fn db(file: u32, line: u64, ts: i64) -> Box<Event> {
        let mut e = Event::new(SourceKind::Db, "mariadb-audit");
        e.file = file;
        e.line = line;
        e.ts = ts;
        Box::new(e)
    }

    #[test]
    fn each_record_takes_the_offset_of_its_neighbours() {
        const H: i64 = 3_600_000_000;
        // File 0: two hours ahead, then three (a DST step at line 50); a mislinked pair
        // at line 20 says one hour. File 1 has no pairs: by time.
        let mut ev: Vec<Box<Event>> = (0..100).map(|l| db(0, l, l as i64 * 1000)).collect();
        ev.push(db(1, 1, 10));
        ev.push(db(1, 2, 99_000));
        let mut pairs: Vec<(usize, i64)> = (0..100)
            .step_by(2)
            .map(|l| (l, if l < 50 { 2 * H + 37 } else { 3 * H + 40 }))
            .collect();
        pairs[10].1 = H;
        pairs[5].1 = 3 * H + 40;
        pairs[6].1 = 3 * H + 40;
        let pw = piecewise(&ev, "mariadb-audit", &pairs, true).unwrap();
        assert_eq!(pw.levels, vec![(2 * H + 37, 22), (3 * H + 40, 27)]);
        let corr: BTreeMap<usize, i64> = pw.corr.into_iter().collect();
        assert_eq!(corr[&20], 2 * H + 37, "a pair at no level is ignored");
        assert_eq!(
            corr[&10],
            2 * H + 37,
            "pairs at a level neither side has too"
        );
        assert_eq!(corr[&47], 2 * H + 37);
        assert_eq!(corr[&51], 3 * H + 40);
        assert_eq!(corr[&100], 2 * H + 37);
        assert_eq!(corr[&101], 3 * H + 40);
        // The records' own times place the step: they jump by the hour between lines 44
        // and 45, between pairs at lines 40 and 50.
        let mut ev: Vec<Box<Event>> = (0..100)
            .map(|l| db(0, l, l as i64 * 1000 + if l >= 45 { H } else { 0 }))
            .collect();
        ev.push(db(1, 1, 10));
        let pairs: Vec<(usize, i64)> = (0..100)
            .step_by(10)
            .map(|l| (l, if l < 45 { 2 * H } else { 3 * H }))
            .chain([(1, 2 * H), (2, 2 * H), (3, 2 * H), (91, 3 * H), (92, 3 * H)])
            .collect();
        let corr: BTreeMap<usize, i64> = piecewise(&ev, "mariadb-audit", &pairs, true)
            .unwrap()
            .corr
            .into_iter()
            .collect();
        assert_eq!((corr[&44], corr[&45]), (2 * H, 3 * H));
        // One level: nothing to do piecewise.
        let steady: Vec<(usize, i64)> = (0..100).map(|l| (l, 2 * H + l as i64)).collect();
        assert!(piecewise(&ev, "mariadb-audit", &steady, true).is_none());
    }
}
