//! Insecure direct object reference: one signed-in customer reaching many other
//! customers' accounts through routes that name them (`/accounts/{id}/bonus`), which an
//! application that checked ownership would have refused. Below the enumeration
//! detector's rate, an attacker's own account walking ids is still the attacker.

use super::detect::{account, standout_hour};
use super::technique as t;
use super::{Analysis, Finding};
use crate::model::{Event, Outcome, SourceKind};
use crate::profile::{Profile, Target};
use foldhash::{HashSet, HashSetExt};
use std::collections::{BTreeMap, BTreeSet};

/// Whether a request is a signed-in customer's answered request about another account on
/// a customer-data or bonus route.
fn foreign(e: &Event, target: Option<Target>, p: &Profile) -> bool {
    e.kind() == SourceKind::Gateway
        && matches!(target, Some(Target::CustomerData | Target::Bonus))
        && e.principal.is_none()
        && e.outcome == Outcome::Success
        && e.user.is_some()
        && e.account_id.is_some()
        && e.account_id != e.user
        && !p.is_staff_route(super::detect::path_of(e))
}

/// One finding per signed-in account that reached `idor_accounts` other accounts within an
/// hour. The subject must itself be a customer account (a path or a statement names it,
/// or the roster lists it): a gateway that logs its API client as the subject (one consumer for all the
/// app's traffic) names no customer. An account that reaches as many on two other days
/// does so as a matter of course (a family or business account), and is left out.
pub(super) fn idor(a: &Analysis, p: &Profile, customers: &Customers) -> Vec<Finding> {
    let ev = &a.ing.events;
    let need = p.thresholds.idor_accounts as usize;
    let mut by_user: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in ev.iter().enumerate() {
        if foreign(e, a.targets[i], p) {
            by_user
                .entry(e.user.as_deref().unwrap_or(""))
                .or_default()
                .push(i);
        }
    }
    let mut out = Vec::new();
    for (user, idx) in by_user {
        if idx.len() < need || !customers.contains(user) {
            continue;
        }
        let Some((best, lo, hi)) = standout_hour(ev, &idx, need, account) else {
            continue;
        };
        let evs: Vec<usize> = idx[lo..=hi].to_vec();
        let ips: BTreeSet<String> = evs
            .iter()
            .filter_map(|&i| ev[i].client_ip.as_deref().map(str::to_string))
            .collect();
        let changed = evs
            .iter()
            .filter(|&&i| {
                ev[i]
                    .method
                    .as_deref()
                    .is_some_and(|m| !super::enrich::is_safe(m))
            })
            .count();
        out.push(Finding {
            technique: t::IDOR,
            subject: user.to_string(),
            explanation: format!(
                "IDOR: signed in as account {user}, {best} other customers' accounts reached \
                 within one hour{} from {} (threshold {need})",
                if changed > 0 {
                    format!(", {changed} requests changing them")
                } else {
                    String::new()
                },
                ips.iter().cloned().collect::<Vec<_>>().join(", "),
            ),
            events: evs,
            seed_ips: ips.into_iter().collect(),
            seed_contexts: vec![],
            seed_sessions: vec![],
            shared_ips: vec![],
        });
    }
    out
}

/// The customer accounts the evidence names: those requests' paths and statements are
/// about (a subject copied into a request about no account is not evidence of one), and
/// the roster's.
pub(super) struct Customers<'a> {
    named: HashSet<&'a str>,
    a: &'a Analysis,
}

impl<'a> Customers<'a> {
    pub(super) fn new(a: &'a Analysis) -> Self {
        let mut named: HashSet<&str> = HashSet::new();
        for e in &a.ing.events {
            match (e.kind(), e.account_id.as_deref()) {
                (SourceKind::Db, Some(acc)) => {
                    named.insert(acc);
                }
                (SourceKind::Gateway, Some(acc)) if e.account_id != e.user => {
                    named.insert(acc);
                }
                _ => {}
            }
        }
        Customers { named, a }
    }

    /// Whether `u` is a customer account.
    pub(super) fn contains(&self, u: &str) -> bool {
        self.named.contains(u)
            || self
                .a
                .roster
                .as_ref()
                .is_some_and(|r| r.customers.contains_key(u))
    }
}
