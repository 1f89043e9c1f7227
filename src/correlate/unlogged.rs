//! Bonus changes the gateway shows and no database evidence covers: the attacker's
//! accepted requests that changed a customer's bonus at a time the database logged
//! nothing (no database evidence given, or one of its silences). The points they moved
//! only the database could give; that they moved some, the requests show.

use super::detect::actor_finding;
use super::{technique as t, Analysis, Finding};
use crate::model::{Outcome, SourceKind};
use crate::profile::Target;
use std::collections::BTreeMap;

/// How far from a request database evidence still covers it: a request's statements
/// run around its logged time (it is logged at its end).
const SLACK: i64 = 60_000_000;

/// The attacker's accepted, changing requests to bonus routes that name an account, at
/// times no database evidence covers, in event order.
pub fn bonus_requests(a: &Analysis) -> Vec<usize> {
    let ev = &a.ing.events;
    let covered = super::coverage::covers(a, SourceKind::Db, SLACK);
    (0..ev.len())
        .filter(|&i| {
            let e = &ev[i];
            a.attr[i].is_some()
                && e.kind() == SourceKind::Gateway
                && a.targets[i] == Some(Target::Bonus)
                && e.outcome == Outcome::Success
                && e.account_id.is_some()
                && e.method
                    .as_deref()
                    .is_some_and(|m| !matches!(m, "GET" | "HEAD" | "OPTIONS"))
                && !covered(e.ts)
        })
        .collect()
}

/// One bonus-fraud finding per address of such requests, for the waves they fall in.
pub fn findings(a: &Analysis, requests: &[usize]) -> Vec<Finding> {
    let ev = &a.ing.events;
    let mut by: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for &i in requests {
        by.entry(ev[i].client_ip.as_deref().unwrap_or("?"))
            .or_default()
            .push(i);
    }
    by.into_iter()
        .map(|(ip, idx)| {
            let mut accounts: Vec<&str> = (idx.iter())
                .filter_map(|&i| ev[i].account_id.as_deref())
                .collect();
            accounts.sort_unstable();
            accounts.dedup();
            let explanation = format!(
                "{} bonus-changing request{} from {ip} on {} account{} ({}) at times no \
                 database evidence covers: the points moved are unknown — compare the \
                 balances with a backup",
                idx.len(),
                if idx.len() == 1 { "" } else { "s" },
                accounts.len(),
                if accounts.len() == 1 { "" } else { "s" },
                crate::sanitize::shorten(&accounts.join(", "), 120)
            );
            let mut f = actor_finding(t::BONUS_FRAUD, ip.to_string(), true, explanation, idx, ev);
            // Found after attribution: it names what the attacker did, and seeds nothing.
            f.seed_ips.clear();
            f
        })
        .collect()
}
