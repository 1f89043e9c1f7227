//! Balance updates whose text does not say which accounts they changed, or by how much
//! (`UPDATE bonus_accounts SET balance = balance + 500` with no key in its filter,
//! `balance * 10`): outside routine work, bonus fraud whose accounts only the database
//! itself can tell — or, for a range of keys (`WHERE account_id BETWEEN …`), the roster.

use super::detect::{actor_finding, unroutine_actor};
use super::enrich::Links;
use super::{technique as t, Analysis, Finding};
use crate::model::SourceKind;
use crate::profile::Profile;
use std::collections::BTreeMap;

/// Findings for such updates, by the actor that ran them (the address of their request,
/// else their DB identity), leaving out routine jobs and staff at work.
pub fn unnamed_balance_writes(a: &Analysis, l: &Links, p: &Profile) -> Vec<Finding> {
    let ev = &a.ing.events;
    let mut by: BTreeMap<String, (Vec<usize>, bool)> = BTreeMap::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() != SourceKind::Db
            || e.outcome == crate::model::Outcome::Failure
            || !e.sql.as_ref().is_some_and(|f| f.bonus_unnamed)
        {
            continue;
        }
        let Some((actor, is_ip)) = unroutine_actor(ev, l, p, i) else {
            continue;
        };
        let x = by.entry(actor).or_insert((Vec::new(), is_ip));
        x.0.push(i);
    }
    by.into_iter()
        .map(|(actor, (evs, is_ip))| {
            let first = ev[evs[0]].statement.as_deref().unwrap_or("");
            // Updates of ranges of keys by a stated amount, and deletes of such ranges:
            // the roster names their rows.
            let ranged = a.roster.is_some()
                && (evs.iter()).all(|&i| super::keyranges::written(&ev[i]).is_some());
            if ranged {
                let explanation = format!(
                    "{} balance write{} by {actor} outside the routine jobs changed the bonus \
                     of every account in a range of keys (first: {:?})",
                    evs.len(),
                    if evs.len() == 1 { "" } else { "s" },
                    crate::sanitize::shorten(first, 120),
                );
                return actor_finding(t::BONUS_FRAUD, actor, is_ip, explanation, evs, ev);
            }
            let explanation = format!(
                "{} balance update{} by {actor} outside the routine jobs changed rows {} \
                 not name, or by no stated amount (first: {:?}): which accounts changed, and by \
                 how much, the logs cannot say — compare the balance table with a backup",
                evs.len(),
                if evs.len() == 1 { "" } else { "s" },
                if evs.len() == 1 {
                    "its text does"
                } else {
                    "their texts do"
                },
                crate::sanitize::shorten(first, 120)
            );
            actor_finding(t::BONUS_FRAUD, actor, is_ip, explanation, evs, ev)
        })
        .collect()
}
