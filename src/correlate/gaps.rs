//! Silences in a gateway or DB log: where a format that logs steadily wrote nothing for
//! far longer than it usually does — rotation lost, logging switched off, or records
//! deleted. Found over every record before copies logged in two formats are dropped
//! (a format whose records were mostly copies would otherwise look silent between the
//! few it alone holds), and moved with its format's clock when timing corrects it later.

use crate::model::{Event, FormatName, SourceKind};

/// A silence is longer than this many median intervals of its format.
pub const MEDIAN_TIMES: i64 = 20;

/// ... and longer than this (µs): an hour.
pub const AT_LEAST_US: i64 = 3_600_000_000;

/// Fewer records than this say nothing about how steadily a format logs.
const MIN_RECORDS: usize = 10;

/// One silence of one format.
#[derive(Debug, Clone, PartialEq)]
pub struct Gap {
    /// The format's source kind.
    pub kind: SourceKind,
    /// The format.
    pub format: FormatName,
    /// The last record before the silence (UTC µs).
    pub from: i64,
    /// The first record after it (UTC µs).
    pub to: i64,
}

/// The silences of each gateway and DB format in `events` (sorted by time), by kind and
/// format, then time.
pub fn find(events: &[Box<Event>]) -> Vec<Gap> {
    // Each format's times; a format name compares by its one pointer, and the few
    // formats of a case are searched from the last one hit.
    let mut by: Vec<(SourceKind, FormatName, Vec<i64>)> = Vec::new();
    let mut last = 0;
    for e in events.iter().filter(|e| e.kind() != SourceKind::Push) {
        let hit = |g: &(SourceKind, FormatName, Vec<i64>)| g.0 == e.kind() && g.1 == e.format;
        if !by.get(last).is_some_and(hit) {
            last = match by.iter().position(hit) {
                Some(k) => k,
                None => {
                    by.push((e.kind(), e.format, Vec::new()));
                    by.len() - 1
                }
            };
        }
        by[last].2.push(e.ts);
    }
    // The order reports list them in: by the "kind:format" label's parts.
    by.sort_by(|x, y| (x.0.as_str(), x.1.as_str()).cmp(&(y.0.as_str(), y.1.as_str())));
    let mut out = Vec::new();
    for (kind, format, mut ts) in by {
        if ts.len() < MIN_RECORDS {
            continue;
        }
        ts.sort_unstable();
        let mut d: Vec<i64> = ts.windows(2).map(|w| w[1] - w[0]).collect();
        let mid = d.len() / 2;
        let median = *d.select_nth_unstable(mid).1;
        let limit = (median * MEDIAN_TIMES).max(AT_LEAST_US);
        out.extend(ts.windows(2).filter(|w| w[1] - w[0] > limit).map(|w| Gap {
            kind,
            format,
            from: w[0],
            to: w[1],
        }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Event;

    const MIN: i64 = 60_000_000;

    fn rec(ts: i64, format: &'static str) -> Box<Event> {
        let mut e = Event::new(SourceKind::Db, format);
        e.ts = ts;
        Box::new(e)
    }

    #[test]
    fn a_silence_of_hours_in_a_steady_log_is_a_gap() {
        let mut evs: Vec<Box<Event>> = (0..100).map(|k| rec(k * MIN, "pg-csvlog")).collect();
        evs.extend((0..100).map(|k| rec(400 * MIN + k * MIN, "pg-csvlog")));
        let g = find(&evs);
        assert_eq!(g.len(), 1);
        assert_eq!((g[0].from, g[0].to), (99 * MIN, 400 * MIN));
    }

    #[test]
    fn a_sparse_log_or_a_short_pause_is_none() {
        // Every three hours: the median interval is the norm, not a gap.
        let sparse: Vec<Box<Event>> = (0..20).map(|k| rec(k * 180 * MIN, "x")).collect();
        assert!(find(&sparse).is_empty());
        // A 50-minute pause in a log written every minute: under an hour.
        let mut evs: Vec<Box<Event>> = (0..50).map(|k| rec(k * MIN, "y")).collect();
        evs.extend((0..50).map(|k| rec(100 * MIN + k * MIN, "y")));
        assert!(find(&evs).is_empty());
    }

    #[test]
    fn each_format_is_judged_alone() {
        let mut evs: Vec<Box<Event>> = (0..100).map(|k| rec(k * MIN, "a")).collect();
        evs.extend((0..50).map(|k| rec(k * 2 * MIN, "b")));
        evs.extend((0..50).map(|k| rec(300 * MIN + k * 2 * MIN, "b")));
        let g = find(&evs);
        assert_eq!(g.len(), 1);
        assert_eq!(g[0].format.as_str(), "b");
    }
}
