//! Log tampering: statements that blind the evidence — audit or statement logging
//! switched off or an account excluded from it, the audit plugin removed, triggers
//! disabled, binary logs purged, rows or tables of logs deleted — by anyone outside
//! routine work. The database's counterpart of a cleared event log: what the evidence
//! stops showing after it is the attacker's to explain.

use super::detect::{actor_finding, unroutine_actor};
use super::enrich::Links;
use super::{technique as t, Analysis, Finding};
use crate::model::{Outcome, SourceKind, StmtClass};
use crate::profile::Profile;
use std::collections::BTreeMap;

/// How soon after a statement a silence of its log counts as its effect, µs.
const AFTER: i64 = 10 * 60_000_000;

/// Findings for such statements, by the actor that ran them.
pub fn log_tampering(a: &Analysis, l: &Links, p: &Profile) -> Vec<Finding> {
    let ev = &a.ing.events;
    // actor → (statements, whether an address, what they did)
    let mut by: BTreeMap<String, (Vec<usize>, bool, Vec<String>)> = BTreeMap::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() != SourceKind::Db
            || e.outcome == Outcome::Failure
            || e.stmt_class == Some(StmtClass::Read)
        {
            continue;
        }
        let Some(what) = e.statement.as_deref().and_then(crate::sql::blinds) else {
            continue;
        };
        let Some((actor, is_ip)) = unroutine_actor(ev, l, p, i) else {
            continue;
        };
        let x = by.entry(actor).or_insert((Vec::new(), is_ip, Vec::new()));
        x.0.push(i);
        if !x.2.contains(&what) {
            x.2.push(what);
        }
    }
    by.into_iter()
        .map(|(actor, (evs, is_ip, what))| {
            let last = ev[*evs.last().expect("one")].ts;
            let fmt = &ev[*evs.last().expect("one")].format;
            let silence = a
                .gaps
                .iter()
                .find(|g| g.format == *fmt && g.from >= last - AFTER && g.from <= last + AFTER);
            let mut explanation = format!(
                "{} statement{} by {actor}, outside routine work, that blind the evidence: {}",
                evs.len(),
                if evs.len() == 1 { "" } else { "s" },
                what.join("; ")
            );
            if let Some(g) = silence {
                explanation.push_str(&format!(
                    "; the {} log is silent from {} to {} after it",
                    g.format,
                    crate::timeparse::fmt_utc_s(g.from),
                    crate::timeparse::fmt_utc_s(g.to)
                ));
            }
            actor_finding(t::LOG_TAMPERING, actor, is_ip, explanation, evs, ev)
        })
        .collect()
}
