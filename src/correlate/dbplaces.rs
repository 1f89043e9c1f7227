//! Database credentials used from a new place: a database user whose usual hosts are all
//! on private networks (the application's servers, a reporting host) connecting from a
//! public address it never used — the application's or a job's password, leaked from a
//! repository or a server's environment, used from outside. Its statements need not be
//! outliers: a hundred credits of a few hundred points each, or reads of single
//! customers, done with the application's own login, look like the application's work
//! but for where they come from. An address staff work from on the gateway is the
//! office, whoever connects from it.

use super::enrich::Links;
use super::technique as t;
use super::{Analysis, Finding};
use crate::ingest::client::{ip, is_trusted};
use crate::model::{SourceKind, StmtClass};
use crate::profile::Profile;
use std::collections::{BTreeMap, BTreeSet};

const DAY: i64 = 86_400_000_000;

/// Whether a host is an address outside the private networks.
fn public(host: &str) -> bool {
    ip(host).is_some_and(|a| !is_trusted(a, &[]))
}

/// Whether a host is on a private network: a private address, the local machine
/// (`localhost`, PostgreSQL's `[local]` socket), or a name only internal DNS resolves
/// (no dot, or an internal suffix: `app-1`, `app-1.internal`, `db.corp`).
fn private(host: &str) -> bool {
    if let Some(a) = ip(host) {
        return is_trusted(a, &[]);
    }
    let h = host.trim().to_ascii_lowercase();
    let h = h.rsplit_once(':').map_or(h.as_str(), |(n, p)| {
        if p.bytes().all(|b| b.is_ascii_digit()) {
            n
        } else {
            h.as_str()
        }
    });
    h == "localhost"
        || h == "[local]"
        || (!h.is_empty() && !h.contains('.'))
        || [
            ".internal",
            ".local",
            ".lan",
            ".corp",
            ".intranet",
            ".home.arpa",
            ".localdomain",
        ]
        .iter()
        .any(|s| h.ends_with(s))
}

/// Findings for each (user, public host) of the kind above that ran statements that
/// read or changed something (not a bare connection test).
pub fn new_db_host(a: &Analysis, l: &Links, p: &Profile) -> Vec<Finding> {
    // user → host → days seen.
    let mut users: BTreeMap<&str, BTreeMap<&str, &foldhash::HashSet<i64>>> = BTreeMap::new();
    for ((u, h), days) in &l.db_identities {
        if !u.is_empty() && !h.is_empty() {
            users
                .entry(u.as_str())
                .or_default()
                .insert(h.as_str(), days);
        }
    }
    let mut new: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut usual_of: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (user, hosts) in &users {
        let Some(first) = hosts.values().flat_map(|d| d.iter().copied()).min() else {
            continue;
        };
        // Usual: seen on two days, or, for a private host, on the user's first day (a
        // public one must come back on another day: the attacker's may be first).
        let usual: Vec<&str> = (hosts.iter())
            .filter(|(h, d)| d.len() >= 2 || (d.contains(&first) && private(h)))
            .map(|(h, _)| *h)
            .collect();
        if usual.is_empty() || usual.iter().any(|h| !private(h)) {
            continue;
        }
        for h in hosts.keys().filter(|h| !usual.contains(h) && public(h)) {
            // The office: an address staff work from on the gateway (an administrator
            // connecting from it is at work).
            let office = l.staff_addresses.contains_key(*h);
            if !office && !p.is_service_db(Some(user), Some(h)) {
                new.insert((user, h));
            }
        }
        usual_of.insert(user, usual);
    }
    if new.is_empty() {
        return Vec::new();
    }
    let ev = &a.ing.events;
    let mut by: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() != SourceKind::Db || l.is_app_db(e) {
            continue;
        }
        let (Some(u), Some(h)) = (e.db_user.as_deref(), e.db_host.as_deref()) else {
            continue;
        };
        let did = matches!(
            e.stmt_class,
            Some(StmtClass::Read | StmtClass::Write | StmtClass::Ddl | StmtClass::Role)
        );
        if did && new.contains(&(u, h)) {
            by.entry((u, h)).or_default().push(i);
        }
    }
    by.into_iter()
        .map(|((user, host), events)| {
            let writes = (events.iter())
                .filter(|&&i| ev[i].stmt_class != Some(StmtClass::Read))
                .count();
            let first = ev[events[0]].ts.div_euclid(DAY) * DAY;
            let usual = usual_of.get(user).map(|u| u.join(", ")).unwrap_or_default();
            Finding {
                technique: t::NEW_PLACE_ACCESS,
                subject: format!("db:{user}@{host}"),
                explanation: format!(
                    "database user {user} left {} records ({writes} of them writes) from {host}, a \
                     public address it had not used (first on {}); its usual hosts are on \
                     private networks: {usual} — its password used from outside",
                    events.len(),
                    crate::timeparse::fmt_utc_s(first).get(..10).unwrap_or_default(),
                ),
                events,
                seed_ips: vec![host.to_string()],
                seed_contexts: vec![],
                seed_sessions: vec![],
                shared_ips: vec![],
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_private_hosts() {
        assert!(public("185.220.101.7"));
        assert!(public("185.220.101.7:40822"));
        assert!(!public("10.0.1.5"));
        assert!(!public("[::1]:5432"));
        assert!(!public("app-1.internal"));
        for h in [
            "10.0.1.5",
            "localhost",
            "[local]",
            "app-1",
            "app-1.internal",
            "db.corp:3306",
        ] {
            assert!(private(h), "{h}");
        }
        for h in [
            "185.220.101.7",
            "ec2-3-120-1-1.eu-central-1.compute.amazonaws.com",
        ] {
            assert!(!private(h), "{h}");
        }
    }
}
