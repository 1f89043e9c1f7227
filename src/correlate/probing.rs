//! Refused probing: addresses a detector flagged whose every request was refused and that
//! reached nothing — internet scanners trying `/.env` and `' OR 1=1`, a password spray that
//! never got in. They are attacks on the service, not the incident: made attacker
//! entities, each would open a wave of its own and join the indicators. They stay in the
//! findings, and a note lists them.

use super::enrich::Links;
use super::shared::Shared;
use super::Analysis;
use crate::model::{Outcome, SourceKind, StmtClass};
use std::collections::{BTreeMap, BTreeSet};

/// What one flagged address did.
#[derive(Default)]
struct Seen {
    first: i64,
    last: i64,
    requests: usize,
    /// Whether anything it sent got through: a request that succeeded and reached a
    /// system (a route with a target) or carried an identity, or a statement it caused.
    reached: bool,
    /// Route (or path) → requests.
    routes: BTreeMap<String, usize>,
    /// Times of its requests, in order.
    times: Vec<i64>,
}

/// A flagged address that only probed: (address, requests, first, last).
pub type Prober = (String, usize, i64, i64);

/// The flagged addresses of `seeds` that sent only refused requests and reached nothing,
/// unless they acted alongside an address that did, mostly on the routes it used (one
/// botnet's failing addresses beside its succeeding ones): those stay attacker entities.
/// `gap` is the wave gap.
pub fn probers(
    a: &Analysis,
    l: &Links,
    seeds: &BTreeSet<&str>,
    gap: i64,
    shared: &BTreeMap<String, Shared>,
) -> Vec<Prober> {
    let ev = &a.ing.events;
    let mut seen: BTreeMap<&str, Seen> = BTreeMap::new();
    for (i, e) in ev.iter().enumerate() {
        let ip = match e.kind() {
            SourceKind::Gateway => e.client_ip.as_deref(),
            SourceKind::Db => l.origin(i).and_then(|g| ev[g].client_ip.as_deref()),
            SourceKind::Push => None,
        };
        let Some(ip) = ip.filter(|ip| seeds.contains(ip)) else {
            continue;
        };
        let s = seen.entry(ip).or_insert_with(|| Seen {
            first: e.ts,
            last: e.ts,
            ..Seen::default()
        });
        s.first = s.first.min(e.ts);
        s.last = s.last.max(e.ts);
        if e.kind() == SourceKind::Db {
            // The application's lookup behind a refused request (the account a failed
            // login names) read for itself: nothing came back to the client. A statement
            // reached the data when its request was answered, or when it changed
            // something or carried an injection whatever the answer.
            let refused = l
                .origin(i)
                .is_some_and(|g| ev[g].outcome == Outcome::Failure);
            let changes = matches!(
                e.stmt_class,
                Some(StmtClass::Write | StmtClass::Ddl | StmtClass::Role)
            );
            let injected = e.sql.as_ref().is_some_and(|q| q.injection.is_some());
            s.reached |= !refused || changes || injected;
            continue;
        }
        s.requests += 1;
        s.times.push(e.ts);
        let identity = e.user.is_some() || e.token_id.is_some() || e.principal.is_some();
        if e.outcome == Outcome::Success && (identity || a.targets[i].is_some()) {
            s.reached = true;
        }
        let route = e.route.as_deref().or(e.path.as_deref()).unwrap_or("");
        *s.routes.entry(route.to_string()).or_default() += 1;
    }
    // A flagged address with no request here (a direct database session) reached its data.
    // A shared address acted alongside others only in its flagged hours: the rest is
    // its customers'.
    let reached: Vec<(&str, &Seen)> = seen
        .iter()
        .filter(|(_, s)| s.reached)
        .map(|(ip, s)| (*ip, s))
        .collect();
    // Alongside means while it acted: a request of its within the wave gap of the
    // prober's (an address seen on two days spans the days between, idle).
    let near_in_time = |ip: &str, r: &Seen, s: &Seen| match shared.get(ip) {
        Some(sh) => sh.spans.iter().any(|&(a, b)| a <= s.last && s.first <= b),
        None => {
            let k = r.times.partition_point(|&t| t < s.first - gap);
            r.times.get(k).is_some_and(|&t| t <= s.last + gap)
                || (r.times.is_empty() && r.first - gap <= s.last && s.first <= r.last + gap)
        }
    };
    seen.iter()
        .filter(|(_, s)| !s.reached && s.requests > 0)
        .filter(|(_, s)| {
            let near: BTreeSet<&str> = reached
                .iter()
                .filter(|(ip, r)| near_in_time(ip, r, s))
                .map(|(_, r)| r)
                .flat_map(|r| r.routes.keys().map(String::as_str))
                .collect();
            let alongside: usize = s
                .routes
                .iter()
                .filter(|(k, _)| near.contains(k.as_str()))
                .map(|(_, n)| n)
                .sum();
            alongside * 2 < s.requests
        })
        .map(|(ip, s)| (ip.to_string(), s.requests, s.first, s.last))
        .collect()
}

/// The note that lists the probing addresses (at most ten by name, the earliest first).
pub fn note(p: &[Prober]) -> String {
    let requests: usize = p.iter().map(|x| x.1).sum();
    // In the order they began, as a responder reads a timeline.
    let mut p: Vec<&Prober> = p.iter().collect();
    p.sort_by(|a, b| (a.2, &a.0).cmp(&(b.2, &b.0)));
    let mut named: Vec<String> = p
        .iter()
        .take(10)
        .map(|(ip, n, f, l)| {
            format!(
                "{ip} ({n} requests, {} to {})",
                crate::timeparse::fmt_utc_s(*f),
                crate::timeparse::fmt_utc_s(*l)
            )
        })
        .collect();
    if p.len() > 10 {
        named.push(format!("and {} more", p.len() - 10));
    }
    format!(
        "{} flagged addresses sent only refused requests and reached nothing ({requests} \
         requests): scanning or failed attempts, not part of the attack waves, indicators or \
         affected accounts; their findings are listed. {}.",
        p.len(),
        named.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Event;
    use crate::profile::Target;

    const MIN: i64 = 60_000_000;

    fn login(ts: i64, ip: &str, outcome: Outcome) -> Box<Event> {
        let mut e = Event::new(SourceKind::Gateway, "t");
        e.ts = ts;
        e.method = Some("POST".into());
        e.route = Some("/api/v1/auth/login".into());
        e.client_ip = Some(ip.into());
        e.outcome = outcome;
        Box::new(e)
    }

    #[test]
    fn failing_beside_an_address_only_while_it_acts_is_acting_alongside_it() {
        // An address that got in on day 0 and on day 2; another whose every login
        // failed, on day 0 an hour and a half after the first one's last request there.
        let day = 1_440 * MIN;
        let mut a = Analysis {
            targets: vec![Some(Target::Bonus), None, None, Some(Target::Bonus)],
            ..Analysis::default()
        };
        a.ing.events = vec![
            login(0, "198.18.199.2", Outcome::Success),
            login(90 * MIN, "94.55.229.210", Outcome::Failure),
            login(100 * MIN, "94.55.229.210", Outcome::Failure),
            login(2 * day, "198.18.199.2", Outcome::Success),
        ];
        let l = Links {
            db_origin: vec![None; 4],
            ..Links::default()
        };
        let seeds = BTreeSet::from(["198.18.199.2", "94.55.229.210"]);
        let run = |a: &Analysis| probers(a, &l, &seeds, 30 * MIN, &BTreeMap::new());
        let p = run(&a);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].0, "94.55.229.210");
        // Within the wave gap of one of its requests, it acted alongside.
        a.ing.events[1].ts = 20 * MIN;
        assert!(run(&a).is_empty());
    }
}
