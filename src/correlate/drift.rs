//! A DB clock that moves against the gateway's within the evidence — local time read
//! without its zone across a daylight-saving change, a clock stepped by NTP: each record
//! is corrected by the offset that the request-id pairs nearest to it in its own file
//! show. A file's lines are in the order the server wrote them, whatever its clock said.

use crate::model::Event;
use std::collections::BTreeMap;

/// Offsets closer than this are one level (latency is milliseconds; a step is minutes
/// to an hour).
const LEVEL_GAP_US: i64 = 10 * 60 * 1_000_000;

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

/// Corrections for the events of `fmt` from its request-id pairs (event index, offset
/// to its request), or `None` when the offsets form fewer than two levels of at least
/// 5 % of the pairs each. A level's correction is its 1st percentile, as for a steady
/// clock: statements stay after the requests that issued them.
pub fn piecewise(ev: &[Box<Event>], fmt: &str, pairs: &[(usize, i64)]) -> Option<Piecewise> {
    let mut d: Vec<i64> = pairs.iter().map(|p| p.1).collect();
    d.sort_unstable();
    let min = (d.len() / 20).max(3);
    let mut levels: Vec<(i64, i64, i64, usize)> = Vec::new();
    let mut start = 0;
    for i in 1..=d.len() {
        if i == d.len() || d[i] - d[i - 1] > LEVEL_GAP_US {
            let run = &d[start..i];
            if run.len() >= min {
                levels.push((run[0], run[run.len() - 1], run[run.len() / 100], run.len()));
            }
            start = i;
        }
    }
    if levels.len() < 2 {
        return None;
    }
    let level_of = |x: i64| {
        levels
            .iter()
            .find(|l| (l.0..=l.1).contains(&x))
            .map(|l| l.2)
    };
    // Pairs by file as (line, level), and all of them as (time, level) for files
    // without pairs of their own.
    let mut by_file: BTreeMap<u32, Vec<(i64, i64)>> = BTreeMap::new();
    for &(i, x) in pairs {
        if let Some(v) = level_of(x) {
            by_file
                .entry(ev[i].file)
                .or_default()
                .push((ev[i].line as i64, v));
        }
    }
    let mut by_time: Vec<(i64, i64)> = Vec::new();
    for v in by_file.values_mut() {
        v.sort_unstable();
        // A pair whose level neither neighbour shares is noise (a mislinked statement),
        // not a step of the clock.
        let keep: Vec<(i64, i64)> = (0..v.len())
            .filter(|&j| {
                let prev = j.checked_sub(1).map(|p| v[p].1);
                let next = v.get(j + 1).map(|n| n.1);
                prev.is_none_or(|p| p == v[j].1) || next.is_none_or(|n| n == v[j].1)
            })
            .map(|j| v[j])
            .collect();
        *v = keep;
    }
    for &(i, _) in pairs {
        let e = &ev[i];
        if let Some(lv) = by_file.get(&e.file) {
            if let Ok(p) = lv.binary_search_by_key(&(e.line as i64), |x| x.0) {
                by_time.push((e.ts, lv[p].1));
            }
        }
    }
    by_time.sort_unstable();
    let corr = ev
        .iter()
        .enumerate()
        .filter(|(_, e)| e.format == fmt)
        .filter_map(|(i, e)| {
            let c = match by_file.get(&e.file).filter(|v| !v.is_empty()) {
                Some(v) => nearest(v, e.line as i64),
                None => nearest(&by_time, e.ts),
            };
            Some((i, c?))
        })
        .collect();
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
        let pw = piecewise(&ev, "mariadb-audit", &pairs).unwrap();
        assert_eq!(pw.levels, vec![(2 * H + 37, 23), (3 * H + 40, 26)]);
        let corr: BTreeMap<usize, i64> = pw.corr.into_iter().collect();
        assert_eq!(corr[&20], 2 * H + 37, "a pair at no level is ignored");
        assert_eq!(
            corr[&10],
            2 * H + 37,
            "a pair at a level neither neighbour has too"
        );
        assert_eq!(corr[&49], 2 * H + 37);
        assert_eq!(corr[&51], 3 * H + 40);
        assert_eq!(corr[&100], 2 * H + 37);
        assert_eq!(corr[&101], 3 * H + 40);
        // One level: nothing to do piecewise.
        let steady: Vec<(usize, i64)> = (0..100).map(|l| (l, 2 * H + l as i64)).collect();
        assert!(piecewise(&ev, "mariadb-audit", &steady).is_none());
    }
}
