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
    let mut diffs: BTreeMap<&'static str, Vec<i64>> = BTreeMap::new();
    for &i in &db {
        if let Some(g) = join.request_of(i) {
            diffs
                .entry(ev[i].format.as_str())
                .or_default()
                .push(ev[i].ts - ev[g].ts);
        }
    }
    // Formats without request-id pairs: pair statements with gateway requests about the same
    // account, nearest within two minutes (noisier; needs more pairs).
    let mut by_acc: HashMap<&str, Vec<i64>> = HashMap::new();
    for (acc, ts) in gw_accs {
        by_acc.entry(acc).or_default().push(ts);
    }
    let mut by_acc_diffs: BTreeMap<&'static str, Vec<i64>> = BTreeMap::new();
    for e in db.iter().map(|&i| &ev[i]) {
        if diffs.contains_key(e.format.as_str()) {
            continue;
        }
        let Some(acc) = e
            .sql
            .as_ref()
            .filter(|f| f.account_ids.len() == 1)
            .map(|f| f.account_ids[0].as_str())
        else {
            continue;
        };
        let Some(ts) = by_acc.get(acc) else { continue };
        let k = ts.partition_point(|&t| t < e.ts - 120_000_000);
        let best = ts[k..]
            .iter()
            .take_while(|&&t| t <= e.ts + 120_000_000)
            .map(|&t| e.ts - t)
            .min_by_key(|d| d.abs());
        if let Some(d) = best {
            by_acc_diffs.entry(e.format.as_str()).or_default().push(d);
        }
    }
    let mut out = Vec::new();
    let mut by_account: BTreeSet<&str> = BTreeSet::new();
    for (fmt, d) in by_acc_diffs {
        if d.len() >= 20 {
            by_account.insert(fmt);
            diffs.insert(fmt, d);
        }
    }
    for (fmt, mut d) in diffs {
        d.sort_unstable();
        let median = d[d.len() / 2];
        let applied = median.abs() >= APPLY_US && d.len() >= 3;
        // The correction is the 1st percentile: skew plus the smallest application latency,
        // so statements stay after the requests that issued them.
        // Request-id pairs are exact up to latency: the 1st percentile keeps statements
        // after their requests. Account pairs are noisy: the median.
        let corr = match (applied, by_account.contains(&fmt)) {
            (false, _) => 0,
            (true, true) => median,
            (true, false) => d[d.len() / 100],
        };
        if applied {
            a.ing
                .events
                .par_iter_mut()
                .filter(|e| e.format == fmt)
                .for_each(|e| e.ts -= corr);
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
        out.push(Skew {
            source: format!("db:{fmt}"),
            against: if by_account.contains(&fmt) {
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
