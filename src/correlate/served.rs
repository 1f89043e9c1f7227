//! The application's quiet services: a DB identity that neither tags its statements with
//! request ids nor is busy enough to be the pool by volume (`DbIndexes`) — an admin
//! back office with its own login, a few statements an hour — is still the application
//! when its statements come right after gateway requests, nearly all of them, and
//! seldom at moments chosen at random. A person at `psql` or a nightly job does not run
//! each statement within a second of someone's request. Without this, such a service's
//! statements were a direct session's, and what an intruder did through its pages
//! (a customer list walked page by page) was tied to no request.

use super::tie::SHIFTS_US;
use crate::model::{Event, SourceKind, Text};
use std::collections::BTreeMap;

/// Fewest statements an identity must have run to be judged: fewer tell nothing.
const MIN_STATEMENTS: usize = 6;

/// How long before a statement its request may have started (the application's work,
/// and a DB that logs whole seconds), and how long after (that same truncation).
const BEFORE_US: i64 = 2_000_000;
const AFTER_US: i64 = 1_000_000;

/// Share of an identity's statements that must follow a request (nine in ten)…
const FOLLOW_SHARE: f64 = 0.9;

/// …and most of the same moments moved by `SHIFTS_US` may (one in five): where requests
/// come every second, every moment follows one and nothing is learnt.
const CHANCE_SHARE: f64 = 0.2;

/// (user, host) of the DB identities not in the pool whose statements follow gateway
/// requests, in order. `pooled` says whether a statement is the pool's already.
pub(super) fn learn(ev: &[Box<Event>], pooled: impl Fn(&Event) -> bool) -> Vec<(Text, Text)> {
    let reqs: Vec<i64> = (ev.iter())
        .filter(|e| e.kind() == SourceKind::Gateway && e.client_ip.is_some())
        .map(|e| e.ts)
        .collect();
    if reqs.is_empty() {
        return Vec::new();
    }
    let mut times: BTreeMap<(&str, &str), Vec<i64>> = BTreeMap::new();
    for e in ev.iter().filter(|e| e.kind() == SourceKind::Db) {
        if e.statement.is_none() || e.request_id.is_some() || pooled(e) {
            continue;
        }
        let (Some(u), h) = (e.db_user.as_deref(), e.db_host.as_deref()) else {
            continue;
        };
        times.entry((u, h.unwrap_or(""))).or_default().push(e.ts);
    }
    let follows = |ts: i64| {
        let k = reqs.partition_point(|&r| r < ts - BEFORE_US);
        reqs.get(k).is_some_and(|&r| r <= ts + AFTER_US)
    };
    times
        .into_iter()
        .filter(|(_, ts)| {
            let n = ts.len();
            if n < MIN_STATEMENTS {
                return false;
            }
            let hit = ts.iter().filter(|&&t| follows(t)).count();
            let chance: usize = (SHIFTS_US.iter())
                .map(|s| ts.iter().filter(|&&t| follows(t + s)).count())
                .sum();
            hit as f64 >= FOLLOW_SHARE * n as f64
                && (chance as f64) <= CHANCE_SHARE * (n * SHIFTS_US.len()) as f64
        })
        .map(|((u, h), _)| (Text::from(u), Text::from(h)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn req(ts: i64) -> Box<Event> {
        let mut e = Event::new(SourceKind::Gateway, "envoy");
        e.ts = ts;
        e.client_ip = Some("198.51.100.7".into());
        Box::new(e)
    }

    fn stmt(ts: i64, user: &str) -> Box<Event> {
        let mut e = Event::new(SourceKind::Db, "pg-stderr");
        e.ts = ts;
        e.db_user = Some(user.into());
        e.db_host = Some("10.0.2.16".into());
        e.statement = Some("SELECT id FROM app_user WHERE id = $1".into());
        Box::new(e)
    }

    fn sort(ev: &mut [Box<Event>]) {
        ev.sort_by_key(|e| e.ts);
    }

    #[test]
    fn a_back_office_whose_statements_follow_requests_is_the_application() {
        // Requests every five minutes; the back office answers eight of them 0.3 s
        // after, the logs' whole seconds putting some before; a person at psql runs
        // eight statements at other moments.
        let mut ev: Vec<Box<Event>> = (0..100).map(|k| req(k * 300 * S + 123_000)).collect();
        ev.extend((0..8).map(|k| stmt((k * 10 * 300 * S + 423_000) / S * S, "ops_api")));
        ev.extend((0..8).map(|k| stmt(k * 1_000 * S + 150 * S, "anna")));
        sort(&mut ev);
        let learnt = learn(&ev, |_| false);
        assert_eq!(
            learnt,
            vec![(Text::from("ops_api"), Text::from("10.0.2.16"))]
        );
    }

    #[test]
    fn where_requests_come_every_second_nothing_is_learnt() {
        let mut ev: Vec<Box<Event>> = (0..20_000).map(|k| req(k * S + 500_000)).collect();
        ev.extend((0..8).map(|k| stmt(k * 1_000 * S + 150 * S, "anna")));
        sort(&mut ev);
        assert!(learn(&ev, |_| false).is_empty());
    }

    #[test]
    fn too_few_statements_or_the_pool_s_own_are_not_judged() {
        let mut ev: Vec<Box<Event>> = (0..100).map(|k| req(k * 300 * S)).collect();
        ev.extend((0..5).map(|k| stmt(k * 300 * S + 100_000, "ops_api")));
        ev.extend((0..8).map(|k| stmt(k * 300 * S + 200_000, "loyalty_api")));
        sort(&mut ev);
        let pooled = |e: &Event| e.db_user.as_deref() == Some("loyalty_api");
        assert!(learn(&ev, pooled).is_empty());
    }
}
