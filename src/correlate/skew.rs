//! Clock-skew estimation between sources from linked pairs (a DB statement tagged with the
//! request id of a gateway request happened milliseconds after it), reported always and
//! corrected when it exceeds a second.

use super::join::RequestJoin;
use super::{Analysis, Skew};
use crate::model::SourceKind;
use foldhash::{HashMap, HashMapExt};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// Smallest median offset that is corrected (application latency is milliseconds).
const APPLY_US: i64 = 1_000_000;

/// Widest clock offset looked for between statements and requests about the same
/// account: any zone offset (UTC−12 to UTC+14) plus a skew. Local times read without a
/// zone may be off by a zone; a server whose clock was set to local time but whose log
/// says UTC, or a clock stepped by an hour, by as much. The peak of a statement meeting
/// its own request is a quarter-second sharp, so a wide search costs votes, not accuracy.
const WINDOW_US: i64 = (14 * 60 + 30) * 60 * 1_000_000;

/// An offset this large between clocks that carry a zone is worth a sentence: NTP keeps
/// clocks within seconds, so it is a clock or zone set wrong.
const NOTE_US: i64 = 15 * 60 * 1_000_000;

/// A statement whose account has more requests than this within the window does not
/// vote (a busy account's offsets say nothing and would cost quadratic time).
const MAX_VOTES: usize = 512;

/// How far from the median offset a pair shows that the clock moved.
const SHIFT_US: i64 = 30 * 60 * 1_000_000;

/// Histogram bin of offsets between statements and same-account requests.
const BIN_US: i64 = 250_000;

/// Estimates per DB format against the gateway, applies corrections, updates the inventory.
pub fn estimate_and_apply(a: &mut Analysis, join: &RequestJoin) -> Vec<Skew> {
    let ev = &a.ing.events;
    // Parallel gathers of what the estimate needs from the scattered events.
    let gw_accs: Vec<(&str, i64)> = ev
        .par_iter()
        .filter(|e| e.kind() == SourceKind::Gateway)
        .filter_map(|e| Some((e.account_id.as_deref()?, e.ts)))
        .collect();
    let db: Vec<usize> = (0..ev.len())
        .into_par_iter()
        .filter(|&i| ev[i].kind() == SourceKind::Db)
        .collect();
    // Request-id pairs per format: (statement, its offset to its request).
    let mut pairs: BTreeMap<&'static str, Vec<(usize, i64)>> = BTreeMap::new();
    for &i in &db {
        if let Some(g) = join.request_of(i) {
            let fmt = ev[i].format.as_str();
            pairs.entry(fmt).or_default().push((i, ev[i].ts - ev[g].ts));
        }
    }
    let mut diffs: BTreeMap<&'static str, Vec<i64>> = pairs
        .iter()
        .map(|(f, p)| (*f, p.iter().map(|x| x.1).collect()))
        .collect();
    // Formats without request-id pairs: every offset between a statement and a gateway
    // request about the same account (within the widest skew looked for) votes in a
    // histogram. A statement meets its own request at the skew plus the application's
    // latency — a sharp peak — and the customer's other requests spread thinly around it;
    // the nearest request alone is biased toward zero by those others, and misses skews
    // larger than its window.
    let mut by_acc: HashMap<&str, Vec<i64>> = HashMap::new();
    for (acc, ts) in gw_accs {
        by_acc.entry(acc).or_default().push(ts);
    }
    let account_pairs = |fmt: &str| -> AccountPairs {
        let stmts = db.iter().map(|&i| &ev[i]).filter(|e| e.format == fmt);
        // Whether local times were read without a zone (for the note on the offset).
        let (assumed, all) = stmts
            .clone()
            .fold((0, 0), |(a, n), e| (a + e.tz_assumed as usize, n + 1));
        let zoneless = assumed * 2 > all;
        let around = |e: &crate::model::Event| -> Option<&[i64]> {
            let f = e.sql.as_ref().filter(|f| f.account_ids.len() == 1)?;
            let ts = by_acc.get(f.account_ids[0].as_str())?;
            let lo = ts.partition_point(|&t| t < e.ts - WINDOW_US);
            let hi = ts.partition_point(|&t| t <= e.ts + WINDOW_US);
            Some(&ts[lo..hi]).filter(|s| s.len() <= MAX_VOTES)
        };
        let mut hist = vec![0u32; (2 * WINDOW_US / BIN_US + 2) as usize];
        for e in stmts.clone() {
            for &t in around(e).unwrap_or_default() {
                hist[((e.ts - t + WINDOW_US) / BIN_US) as usize] += 1;
            }
        }
        // The densest two adjacent bins (latency may straddle a bin edge).
        let pair = |b: usize| hist[b] + hist[b + 1];
        let Some(peak) = (0..hist.len() - 1).max_by_key(|&b| (pair(b), usize::MAX - b)) else {
            return AccountPairs::default();
        };
        let lo = peak as i64 * BIN_US - WINDOW_US;
        // A second sharp peak far from the first: the clock moved within the evidence
        // (a local time read without its zone across a daylight-saving change).
        let far = (SHIFT_US / BIN_US) as usize;
        let second_peak = (0..hist.len() - 1)
            .filter(|&b| b.abs_diff(peak) >= far)
            .max_by_key(|&b| (pair(b), usize::MAX - b));
        let second = second_peak.map_or(0, pair);
        let moved = second >= 20 && second * 5 >= pair(peak);
        // Each statement's offset to its request: the one inside the peak.
        let in_peak = |e: &crate::model::Event, lo: i64| {
            around(e)?
                .iter()
                .map(|&t| e.ts - t)
                .find(|d| (lo..lo + 2 * BIN_US).contains(d))
        };
        let diffs = stmts.clone().filter_map(|e| in_peak(e, lo)).collect();
        // A clock that moved: each statement at either peak, for per-record corrections.
        let steps = match second_peak.filter(|_| moved) {
            Some(b2) => {
                let lo2 = b2 as i64 * BIN_US - WINDOW_US;
                db.iter()
                    .filter(|&&i| ev[i].format == fmt)
                    .filter_map(|&i| Some((i, in_peak(&ev[i], lo).or(in_peak(&ev[i], lo2))?)))
                    .collect()
            }
            None => Vec::new(),
        };
        AccountPairs {
            diffs,
            moved: moved.then_some(second as usize),
            zoneless,
            steps,
        }
    };
    let formats: BTreeSet<&'static str> = db.iter().map(|&i| ev[i].format.as_str()).collect();
    let mut by_acc_diffs: BTreeMap<&'static str, AccountPairs> = BTreeMap::new();
    for fmt in formats {
        if !diffs.contains_key(fmt) && !by_acc.is_empty() {
            by_acc_diffs.insert(fmt, account_pairs(fmt));
        }
    }
    let mut out = Vec::new();
    // Formats estimated from account pairs → whether their times carried no zone.
    let mut by_account: BTreeMap<&str, bool> = BTreeMap::new();
    // Those whose histogram had a second sharp peak → its votes.
    let mut acc_moved: BTreeMap<&str, usize> = BTreeMap::new();
    for (fmt, p) in by_acc_diffs {
        if p.diffs.len() < 20 {
            continue;
        }
        if let Some(second) = p.moved {
            // Both peaks' statements go to the per-record correction below; the note is
            // for when they do not make two levels.
            pairs.insert(fmt, p.steps);
            acc_moved.insert(fmt, second);
        }
        by_account.insert(fmt, p.zoneless);
        diffs.insert(fmt, p.diffs);
    }
    for (fmt, mut d) in diffs {
        d.sort_unstable();
        let median = d[d.len() / 2];
        let applied = median.abs() >= APPLY_US && d.len() >= 3;
        // The correction is the 1st percentile: skew plus the smallest application latency,
        // so statements stay after the requests that issued them.
        // Request-id pairs are exact up to latency: the 1st percentile keeps statements
        // after their requests. Account pairs are noisy: the median. The percentile is
        // of the pairs near the median: an hour of pairs an hour off (local times in a
        // daylight-saving fold, a clock stepped for a while) is more than 1 % of a few
        // days' pairs, and moved every record by the hour.
        let near = {
            let lo = d.partition_point(|&x| x < median - SHIFT_US);
            let hi = d.partition_point(|&x| x <= median + SHIFT_US);
            &d[lo..hi]
        };
        let corr = match (applied, by_account.contains_key(fmt)) {
            (false, _) => 0,
            (true, true) => median,
            (true, false) => near[near.len() / 100],
        };
        // One offset for the whole file cannot fit a clock that moved: typically a local
        // time read without its zone across a daylight-saving change. Each record then
        // takes the offset of the pairs nearest to it in its file (`drift`).
        let off = d.iter().filter(|&&x| (x - median).abs() > SHIFT_US).count();
        let by_acc = by_account.contains_key(fmt);
        // Account pairs hold only the main peak's offsets; both peaks' are in `pairs`.
        let second = acc_moved.get(fmt).copied();
        let moved = off * 20 > d.len() || second.is_some();
        let steps = pairs
            .get(fmt)
            .filter(|_| moved)
            .and_then(|p| super::drift::piecewise(&a.ing.events, fmt, p, !by_acc));
        if let Some(pw) = steps {
            out.push(apply_piecewise(a, fmt, pw, median, d.len(), by_acc));
            continue;
        }
        if let Some(second) = second {
            a.notes.push(format!(
                "The clock of the {fmt} evidence moves against the gateway's within the \
                 evidence (statements meet their accounts' requests at two offsets, the \
                 second {second} times): one correction cannot fit it. If its times carry \
                 no zone, give --assume-tz with the server's zone (daylight saving changes \
                 the offset)."
            ));
        } else if moved {
            a.notes.push(format!(
                "The clock of the {fmt} evidence moves against the gateway's within the \
                 evidence ({off} of {} pairs are more than 30 minutes off the median offset): \
                 one correction cannot fit it. If its times carry no zone, give --assume-tz \
                 with the server's zone (daylight saving changes the offset).",
                d.len()
            ));
        }
        if applied && by_account.get(fmt) == Some(&false) && corr.abs() >= NOTE_US {
            a.notes.push(format!(
                "The {fmt} clock, as its records state it, runs {} {} the gateway's \
                 (statements against their accounts' requests): they were corrected by that \
                 offset. A clock or zone was set wrong on one of the servers; check which \
                 before quoting either clock's times.",
                hms(corr.abs()),
                if corr > 0 { "ahead of" } else { "behind" },
            ));
        }
        if applied && by_account.get(fmt) == Some(&true) && corr.abs() >= NOTE_US {
            a.notes.push(format!(
                "The {fmt} times carry no zone and, as read, run {} {} the gateway's \
                 (statements against their accounts' requests): they were corrected by that \
                 offset. A server's zone explains whole quarter hours of it; give \
                 --assume-tz with that zone to read them exactly.",
                hms(corr.abs()),
                if corr > 0 { "ahead of" } else { "behind" },
            ));
        }
        if applied {
            shift(a, fmt, corr);
        }
        out.push(Skew {
            source: format!("db:{fmt}"),
            against: if by_account.contains_key(fmt) {
                "gateway (by account and time)".into()
            } else {
                "gateway".into()
            },
            median_us: median,
            correction_us: corr,
            pairs: d.len(),
            applied,
        });
    }
    out
}

/// Subtracts `corr` from the times of a format's events, its gaps and its files'
/// inventory.
pub fn shift(a: &mut Analysis, fmt: &str, corr: i64) {
    a.ing
        .events
        .par_iter_mut()
        .filter(|e| e.format == fmt)
        .for_each(|e| e.ts -= corr);
    for g in a.gaps.iter_mut().filter(|g| g.format == fmt) {
        g.from -= corr;
        g.to -= corr;
    }
    for f in a
        .ing
        .files
        .iter_mut()
        .filter(|f| f.format == fmt || f.format.ends_with(&format!("+{fmt}")))
    {
        f.skew_us -= corr;
        f.first_ts = f.first_ts.map(|t| t - corr);
        f.last_ts = f.last_ts.map(|t| t - corr);
    }
}

/// Applies per-record corrections, says so, and updates the inventory: each file's skew
/// and first/last times become those of its corrected records.
fn apply_piecewise(
    a: &mut Analysis,
    fmt: &str,
    pw: super::drift::Piecewise,
    median: i64,
    pairs: usize,
    by_account: bool,
) -> Skew {
    let levels: Vec<String> = pw
        .levels
        .iter()
        .map(|(o, n)| {
            let dir = if *o >= 0 { "ahead" } else { "behind" };
            format!("{} {dir} ({n} pairs)", hms(o.abs()))
        })
        .collect();
    a.notes.push(format!(
        "The clock of the {fmt} evidence moves against the gateway's within the evidence \
         ({} show {} offsets: {}): each record was corrected by the offset of the pairs \
         nearest to it in its file. If its times carry no zone, --assume-tz with the \
         server's zone reads them exactly.",
        if by_account {
            "its statements and their accounts' requests"
        } else {
            "its request-id pairs"
        },
        levels.len(),
        levels.join(", ")
    ));
    // Per file: the corrections applied, to report its typical one and its new span.
    let mut per_file: BTreeMap<u32, (Vec<i64>, i64, i64)> = BTreeMap::new();
    let mut all = Vec::with_capacity(pw.corr.len());
    for &(i, c) in &pw.corr {
        let e = &mut a.ing.events[i];
        e.ts -= c;
        let f = per_file
            .entry(e.file)
            .or_insert((Vec::new(), i64::MAX, i64::MIN));
        f.0.push(c);
        f.1 = f.1.min(e.ts);
        f.2 = f.2.max(e.ts);
        all.push(c);
    }
    for (file, (mut cs, first, last)) in per_file {
        if let Some(f) = a.ing.files.get_mut(file as usize) {
            cs.sort_unstable();
            f.skew_us -= cs[cs.len() / 2];
            f.first_ts = Some(first);
            f.last_ts = Some(last);
        }
    }
    all.sort_unstable();
    Skew {
        source: format!("db:{fmt}"),
        against: if by_account {
            "gateway (by account and time; piecewise: the clock moves)".into()
        } else {
            "gateway (piecewise: the clock moves)".into()
        },
        median_us: median,
        correction_us: all.get(all.len() / 2).copied().unwrap_or(0),
        pairs,
        applied: true,
    }
}

/// `2 h 00 min 37.0 s` for an offset in µs.
pub(super) fn hms(us: i64) -> String {
    // Rounded to tenths first, so 59.96 s reads as the next minute, not `60.0 s`.
    let s = (us as f64 / 1e5).round() / 10.0;
    let h = (s / 3600.0).floor();
    let m = ((s - h * 3600.0) / 60.0).floor();
    format!("{h} h {m:02} min {:.1} s", s - h * 3600.0 - m * 60.0)
}

/// What statements and same-account requests showed about one format's clock.
#[derive(Default)]
struct AccountPairs {
    /// Each statement's offset to its own request (the peak's).
    diffs: Vec<i64>,
    /// Votes of a second peak far from the first, when it is sharp.
    moved: Option<usize>,
    /// Most of the format's times carried no zone (said in the notes).
    zoneless: bool,
    /// When the clock moved: (statement, offset) at either peak.
    steps: Vec<(usize, i64)>,
}

#[cfg(test)]
mod tests {
    #[test]
    fn hms_rounds_before_it_splits() {
        assert_eq!(super::hms(7_237_000_000), "2 h 00 min 37.0 s");
        assert_eq!(super::hms(7_199_960_000), "2 h 00 min 0.0 s");
        assert_eq!(super::hms(7_199_940_000), "1 h 59 min 59.9 s");
    }
}
