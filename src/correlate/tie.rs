//! Ties flagged statements other than bonus changes (injected probes and dumps) to the
//! address whose requests they follow at the offset timing fitted, where neither request
//! ids nor accounts tie the application's statements to requests. One address must have
//! a request just before nearly every flagged statement of a finding, and seldom at a
//! moment chosen at random: a customer's browsing does not follow an injection's
//! statements one by one. An injected statement that holds the payload a request in its
//! window carried in its URL is that request's. A statement too lonely for either still
//! ties where the only address with a request in its window is one a detector flagged.

use super::enrich::Links;
use super::technique as t;
use super::timing::{Fit, Timing};
use super::{Analysis, Finding};
use crate::model::{Event, SourceKind};
use std::collections::{BTreeMap, BTreeSet};

/// Fewest flagged statements one address's requests must precede: two, an injected
/// probe and the dump it ran, when both follow the address and at most one of the
/// eight windows moved at random does.
const MIN_STMTS: usize = 2;

/// Times unrelated to any request, for the share of moments chosen at random at which
/// an address has a request in a window.
pub(super) const SHIFTS_US: [i64; 4] = [37_000_000, -43_000_000, 61_000_000, -89_000_000];

/// Ties the findings' statements (application's pooled connections, no request id, of a
/// format timing fitted, not yet tied; bonus changes only when `bonus`) that follow one
/// address's requests, most of them, to that address's last request in each one's
/// window; then the rest likewise. Returns (statements tied, addresses). Where timing
/// fitted the clock, `timing::link` ties the bonus changes by their routes first.
pub fn flagged(
    a: &Analysis,
    l: &mut Links,
    timing: &Timing,
    findings: &[Finding],
    bonus: bool,
) -> (usize, BTreeSet<String>) {
    let ev = &a.ing.events;
    // One pool over the findings: a detector groups the statements by the pooled
    // session that ran them, which tells nothing of who sent them.
    let mut stmts: BTreeSet<usize> = (findings.iter())
        .filter(|f| bonus || f.technique != t::BONUS_FRAUD)
        .flat_map(|f| f.events.iter().copied())
        .filter(|&i| untied(&ev[i], i, l, timing, bonus))
        .collect();
    if stmts.is_empty() {
        return (0, BTreeSet::new());
    }
    let reqs: Vec<(i64, usize)> = (0..ev.len())
        .filter(|&i| ev[i].kind() == SourceKind::Gateway && ev[i].client_ip.is_some())
        .map(|i| (ev[i].ts, i))
        .collect();
    let mut tied = 0;
    let mut ips = BTreeSet::new();
    // Each tie goes into the links; its statement leaves the pool, its address joins `ips`.
    let mut record = |l: &mut Links, stmts: &mut BTreeSet<usize>, ties: Vec<(usize, usize)>| {
        for (s, g) in ties {
            l.db_origin[s] = Some(g);
            l.timed.insert(s);
            stmts.remove(&s);
            tied += 1;
            ips.insert(ev[g].client_ip.as_deref().unwrap_or_default().to_string());
        }
    };
    // The address that most of them follow, then among the rest the next one.
    while stmts.len() >= MIN_STMTS {
        let Some((_, ties)) = follows(ev, &stmts, &reqs, timing) else {
            break;
        };
        record(l, &mut stmts, ties);
    }
    // An injected statement that holds, word for word, the payload a request in its
    // window carried in its URL is that request's.
    let echoed = echoes(ev, &stmts, &reqs, timing);
    record(l, &mut stmts, echoed);
    if stmts.is_empty() {
        return (tied, ips);
    }
    // Too few left to show a pattern: each still ties where only one address has a
    // request in its window and a detector flagged that address already.
    let flagged: BTreeSet<&str> = (findings.iter())
        .flat_map(|f| f.seed_ips.iter().map(String::as_str))
        .collect();
    // Of the requests in their windows, those whose own statements are tied already:
    // their work is accounted for.
    let near: BTreeSet<usize> = (stmts.iter())
        .flat_map(|&s| {
            let (lo, hi) = window(ev[s].ts, ev[s].format.as_str(), timing);
            around(&reqs, lo, hi).iter().map(|r| r.1)
        })
        .collect();
    let explained: BTreeSet<usize> = (l.db_origin.iter().flatten())
        .filter(|g| near.contains(g))
        .copied()
        .collect();
    let alone = lone(ev, &stmts, &reqs, timing, &flagged, &explained);
    record(l, &mut stmts, alone);
    (tied, ips)
}

/// Shortest payload whose echo in a statement ties it: shorter ones (`'or'`) are
/// common words of SQL.
const MIN_ECHO: usize = 6;

/// Of statements that carry an injection, each whose window holds requests whose URL
/// carried a payload (`MIN_ECHO` long or more) that the statement's text holds word for
/// word, all of one address: the statement with that address's last such request. The
/// application pasted the request's value into its SQL; a request at a moment chosen
/// at random does not carry the text a statement ran.
fn echoes(
    ev: &[Box<Event>],
    stmts: &BTreeSet<usize>,
    reqs: &[(i64, usize)],
    timing: &Timing,
) -> Vec<(usize, usize)> {
    // Lower case, backslash escapes and runs of white space as the logs differ in them.
    let squash = |s: &str| {
        let s = s.to_lowercase().replace('\\', "");
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    stmts
        .iter()
        .filter(|&&s| ev[s].sql.as_ref().is_some_and(|f| f.injection.is_some()))
        .filter_map(|&s| {
            let text = squash(ev[s].statement.as_deref()?);
            let (lo, hi) = window(ev[s].ts, ev[s].format.as_str(), timing);
            let echoed: Vec<usize> = (around(reqs, lo, hi).iter())
                .map(|r| r.1)
                .filter(|&g| {
                    (super::injection::url_payloads(&ev[g]).iter())
                        .map(|p| squash(p))
                        .any(|p| p.len() >= MIN_ECHO && text.contains(&p))
                })
                .collect();
            let &g = echoed.last()?;
            let ip = |g: usize| ev[g].client_ip.as_deref();
            echoed.iter().all(|&r| ip(r) == ip(g)).then_some((s, g))
        })
        .collect()
}

/// Of statements too few to tie together, each whose window holds requests of one
/// address only (besides requests in `explained`, whose own statements are tied
/// already), an address a detector flagged, that has a request in at most half of
/// the same window moved by each of `SHIFTS_US` (a burst of requests every second is in
/// every window, chosen or not): the statement with that address's last request there.
/// An injected dump of one statement, right after an attacker's request and nobody
/// else's, is that attacker's.
fn lone(
    ev: &[Box<Event>],
    stmts: &BTreeSet<usize>,
    reqs: &[(i64, usize)],
    timing: &Timing,
    flagged: &BTreeSet<&str>,
    explained: &BTreeSet<usize>,
) -> Vec<(usize, usize)> {
    let around = |lo: i64, hi: i64| around(reqs, lo, hi);
    let ip = |g: usize| ev[g].client_ip.as_deref().unwrap_or_default();
    stmts
        .iter()
        .filter_map(|&s| {
            let fmt = ev[s].format.as_str();
            let (lo, hi) = window(ev[s].ts, fmt, timing);
            let here: Vec<usize> = (around(lo, hi).iter())
                .map(|r| r.1)
                .filter(|g| !explained.contains(g))
                .collect();
            let &g = here.last()?;
            let who = ip(g);
            if !flagged.contains(who) || here.iter().any(|&r| ip(r) != who) {
                return None;
            }
            let chance = (SHIFTS_US.iter())
                .filter(|&&shift| {
                    let (lo, hi) = window(ev[s].ts + shift, fmt, timing);
                    around(lo, hi).iter().any(|r| ip(r.1) == who)
                })
                .count();
            (chance * 2 <= SHIFTS_US.len()).then_some((s, g))
        })
        .collect()
}

/// Largest distance, either way, of a statement from its request once its format's
/// clock was corrected against the gateway's: the correction is a median that holds the
/// application's usual latency, and a gateway that logs whole seconds moves a request
/// by up to one.
const COMPARED_SPREAD_US: i64 = 1_000_000;

/// Ties flagged statements as `flagged` does where the application's statements carry
/// no request ids but their clock was compared with the gateway's all the same (by
/// accounts and time, `skew`): each DB format so compared is taken to follow its
/// requests within `COMPARED_SPREAD_US` of its corrected time. Injected dumps on the
/// pool's connections then have the address whose requests they follow, as statements
/// with request ids have theirs; and so have bonus changes no account ties to a request
/// (a transfer's request names neither account, and the gateway logs no identity).
pub fn compared(a: &Analysis, l: &mut Links, findings: &[Finding]) -> (usize, BTreeSet<String>) {
    let mut timing = Timing::default();
    for s in &a.skews {
        let Some(fmt) = s.source.strip_prefix("db:") else {
            continue;
        };
        if s.pairs == 0 || !s.against.starts_with("gateway") {
            continue;
        }
        let fit = Fit {
            lo: -COMPARED_SPREAD_US,
            hi: COMPARED_SPREAD_US,
            agree: s.pairs,
            of: s.pairs,
            after_us: COMPARED_SPREAD_US,
            unflagged: false,
        };
        timing
            .formats
            .insert(crate::model::FormatName::registered(fmt).as_str(), fit);
    }
    if timing.formats.is_empty() {
        return (0, BTreeSet::new());
    }
    flagged(a, l, &timing, findings, true)
}

/// Whether a flagged event is a statement timing may tie (a bonus change only when
/// `bonus`).
fn untied(e: &Event, i: usize, l: &Links, timing: &Timing, bonus: bool) -> bool {
    e.kind() == SourceKind::Db
        && e.request_id.is_none()
        && l.is_app_db(e)
        && l.origin(i).is_none()
        && timing.formats.contains_key(e.format.as_str())
        && (bonus || e.sql.as_ref().is_none_or(|f| f.bonus_changes.is_empty()))
}

/// The requests (time, index; in time order) from `lo` to `hi`.
fn around(reqs: &[(i64, usize)], lo: i64, hi: i64) -> &[(i64, usize)] {
    let a = reqs.partition_point(|r| r.0 < lo);
    let b = reqs.partition_point(|r| r.0 <= hi);
    &reqs[a..b]
}

/// The window of request times a statement at `ts` of a fitted format may follow.
fn window(ts: i64, fmt: &str, timing: &Timing) -> (i64, i64) {
    timing.formats[fmt].window(ts)
}

/// The address with a request in the windows of more than half of the statements (and
/// `MIN_STMTS`) and in under a quarter of the same windows moved by each of `SHIFTS_US`
/// (a scraper or a busy shared exit is in most windows, chosen or not); with the
/// statements tied to its last request in each window. Of two or more such, the one in
/// the most windows: a customer browsing while the injection ran misses some of its
/// statements. Two in as many windows are no answer.
fn follows(
    ev: &[Box<Event>],
    stmts: &BTreeSet<usize>,
    reqs: &[(i64, usize)],
    timing: &Timing,
) -> Option<(String, Vec<(usize, usize)>)> {
    let around = |lo: i64, hi: i64| around(reqs, lo, hi);
    let ip = |g: usize| ev[g].client_ip.as_deref().unwrap_or_default();
    // Per address, the windows it has a request in: at the statements, and moved.
    let mut votes: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for &s in stmts {
        let fmt = ev[s].format.as_str();
        for (k, shift) in std::iter::once(0).chain(SHIFTS_US).enumerate() {
            let (lo, hi) = window(ev[s].ts + shift, fmt, timing);
            let here: BTreeSet<&str> = around(lo, hi).iter().map(|r| ip(r.1)).collect();
            for a in here {
                let v = votes.entry(a).or_default();
                if k == 0 {
                    v.0 += 1;
                } else {
                    v.1 += 1;
                }
            }
        }
    }
    let n = stmts.len();
    let mut found: Vec<(&str, usize)> = (votes.into_iter())
        .filter(|(_, (hit, chance))| {
            *hit >= MIN_STMTS && hit * 2 > n && chance * 4 < n * SHIFTS_US.len()
        })
        .map(|(ip, (hit, _))| (ip, hit))
        .collect();
    found.sort_by_key(|&(_, hit)| std::cmp::Reverse(hit));
    let best = match found[..] {
        [] => return None,
        [(best, _)] => best,
        [(best, most), (_, next), ..] if most > next => best,
        _ => return None,
    };
    let ties = stmts
        .iter()
        .filter_map(|&s| {
            let (lo, hi) = window(ev[s].ts, ev[s].format.as_str(), timing);
            let g = around(lo, hi).iter().rev().find(|r| ip(r.1) == best)?.1;
            Some((s, g))
        })
        .collect();
    Some((best.to_string(), ties))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn req(ts: i64, ip: &str) -> Box<Event> {
        let mut e = Event::new(SourceKind::Gateway, "t");
        e.ts = ts;
        e.method = Some("GET".into());
        e.route = Some("/menu".into());
        e.client_ip = Some(ip.into());
        Box::new(e)
    }

    fn stmt(ts: i64) -> Box<Event> {
        let mut e = Event::new(SourceKind::Db, "db");
        e.ts = ts;
        Box::new(e)
    }

    /// The DB clock corrected; statements follow their requests by up to a second.
    fn timing() -> Timing {
        Timing::one_second()
    }

    /// The events in time order and the statements' indices.
    type Case = (Vec<Box<Event>>, BTreeSet<usize>);

    /// Statements 0.4 s after each of an address's requests a minute apart, among a
    /// customer's requests every `every` seconds.
    fn case(every: i64) -> Case {
        let mut ev: Vec<Box<Event>> = Vec::new();
        for k in 0..6 {
            ev.push(req(1_000 * S + k * 60 * S, "192.0.2.77"));
            ev.push(stmt(1_000 * S + k * 60 * S + 400_000));
        }
        for k in 0..(400 / every) {
            ev.push(req(990 * S + k * every * S + 300_000, "198.18.0.5"));
        }
        ev.sort_by_key(|e| e.ts);
        let stmts = (0..ev.len())
            .filter(|&i| ev[i].kind() == SourceKind::Db)
            .collect();
        (ev, stmts)
    }

    fn reqs(ev: &[Box<Event>]) -> Vec<(i64, usize)> {
        (0..ev.len())
            .filter(|&i| ev[i].kind() == SourceKind::Gateway)
            .map(|i| (ev[i].ts, i))
            .collect()
    }

    #[test]
    fn statements_after_each_of_one_address_s_requests_are_its() {
        let (ev, stmts) = case(7);
        let (ip, ties) = follows(&ev, &stmts, &reqs(&ev), &timing()).unwrap();
        assert_eq!(ip, "192.0.2.77");
        assert_eq!(ties.len(), 6);
        assert!(ties
            .iter()
            .all(|&(s, g)| ev[g].client_ip.as_deref() == Some("192.0.2.77")
                && ev[s].ts - ev[g].ts == 400_000));
    }

    #[test]
    fn an_address_with_a_request_every_second_is_not_the_one_followed() {
        // A scraper's requests fill every window, chosen or not: the address whose
        // requests the statements follow is still told from it.
        let (ev, stmts) = case(1);
        let (ip, ties) = follows(&ev, &stmts, &reqs(&ev), &timing()).unwrap();
        assert_eq!((ip.as_str(), ties.len()), ("192.0.2.77", 6));
    }

    #[test]
    fn a_lone_statement_after_a_flagged_address_s_request_and_nobody_else_s_is_its() {
        // An injected dump 0.5 s after a flagged address's request; that address's
        // requests a few seconds apart elsewhere, a customer's a minute before.
        let mut ev: Vec<Box<Event>> = Vec::new();
        for k in [0, 7, 15, 22] {
            ev.push(req(1_000 * S + k * S, "192.0.2.77"));
        }
        ev.push(req(940 * S, "198.18.0.5"));
        ev.push(stmt(1_007 * S + 500_000));
        ev.sort_by_key(|e| e.ts);
        let s = ev.iter().position(|e| e.kind() == SourceKind::Db).unwrap();
        let stmts = BTreeSet::from([s]);
        let r = reqs(&ev);
        let flagged = BTreeSet::from(["192.0.2.77"]);
        let none = BTreeSet::new();
        let ties = lone(&ev, &stmts, &r, &timing(), &flagged, &none);
        assert_eq!(ties.len(), 1);
        assert_eq!(ev[ties[0].1].ts, 1_007 * S);
        // An address no detector flagged is not accused on one statement.
        assert!(lone(
            &ev,
            &stmts,
            &r,
            &timing(),
            &BTreeSet::from(["192.0.2.1"]),
            &none
        )
        .is_empty());
        // Nor is a flagged one when another address has a request in the window too,
        // unless that request's own statements are tied already.
        ev.push(req(1_007 * S + 200_000, "198.18.0.5"));
        ev.sort_by_key(|e| e.ts);
        let s = ev.iter().position(|e| e.kind() == SourceKind::Db).unwrap();
        let stmts = BTreeSet::from([s]);
        assert!(lone(&ev, &stmts, &reqs(&ev), &timing(), &flagged, &none).is_empty());
        let other = (ev.iter())
            .position(|e| e.ts == 1_007 * S + 200_000)
            .unwrap();
        let done = BTreeSet::from([other]);
        let ties = lone(&ev, &stmts, &reqs(&ev), &timing(), &flagged, &done);
        assert_eq!(ties.len(), 1);
        assert_eq!(ev[ties[0].1].ts, 1_007 * S);
        // Nor one whose requests fill every window, chosen or not.
        let mut busy: Vec<Box<Event>> = (900..1_200).map(|k| req(k * S, "192.0.2.77")).collect();
        busy.push(stmt(1_007 * S + 500_000));
        busy.sort_by_key(|e| e.ts);
        let s = busy
            .iter()
            .position(|e| e.kind() == SourceKind::Db)
            .unwrap();
        let stmts = BTreeSet::from([s]);
        assert!(lone(&busy, &stmts, &reqs(&busy), &timing(), &flagged, &none).is_empty());
    }

    #[test]
    fn an_injected_statement_holding_a_request_s_url_payload_is_that_request_s() {
        // Two addresses' requests in the statement's window; one's query carried the
        // payload the statement ran.
        let mut probe = req(1_000 * S, "192.0.2.77");
        probe.path = Some("/search".into());
        probe.query = Some("q=%27%20OR%20%201%3D1--&page=2".into());
        let mut ev = vec![probe, req(1_000 * S + 300_000, "198.18.0.5")];
        let mut s = stmt(1_000 * S + 600_000);
        s.statement = Some("SELECT id FROM members WHERE name LIKE '%' or 1=1--%'".into());
        s.sql = Some(Box::new(crate::model::SqlFacts {
            injection: Some("tautology".into()),
            ..Default::default()
        }));
        ev.push(s);
        let stmts = BTreeSet::from([2]);
        assert_eq!(echoes(&ev, &stmts, &reqs(&ev), &timing()), [(2, 0)]);
        // Not when the statement does not hold it, nor for a statement that carries no
        // injection, nor when two addresses' requests carried it.
        let mut other = ev.clone();
        other[2].statement = Some("SELECT id FROM members UNION SELECT 1".into());
        assert!(echoes(&other, &stmts, &reqs(&other), &timing()).is_empty());
        let mut clean = ev.clone();
        clean[2].sql = None;
        assert!(echoes(&clean, &stmts, &reqs(&clean), &timing()).is_empty());
        let mut twice = ev.clone();
        twice[1].path = Some("/search".into());
        twice[1].query = ev[0].query.clone();
        assert!(echoes(&twice, &stmts, &reqs(&twice), &timing()).is_empty());
    }

    /// `case(every)` with a second address's request 0.1 s after each of the first
    /// `twins` of 192.0.2.77's.
    fn with_twins(every: i64, twins: usize) -> Case {
        let (mut ev, _) = case(every);
        let more: Vec<Box<Event>> = (ev.iter())
            .filter(|e| e.client_ip.as_deref() == Some("192.0.2.77"))
            .take(twins)
            .map(|e| req(e.ts + 100_000, "192.0.2.78"))
            .collect();
        ev.extend(more);
        ev.sort_by_key(|e| e.ts);
        let stmts = (0..ev.len())
            .filter(|&i| ev[i].kind() == SourceKind::Db)
            .collect();
        (ev, stmts)
    }

    #[test]
    fn of_two_addresses_followed_the_one_in_more_windows_is_the_one() {
        // A customer browsing at the same seconds as four of the six requests.
        let (ev, stmts) = with_twins(60, 4);
        let (ip, ties) = follows(&ev, &stmts, &reqs(&ev), &timing()).unwrap();
        assert_eq!((ip.as_str(), ties.len()), ("192.0.2.77", 6));
    }

    #[test]
    fn two_addresses_followed_alike_are_no_answer() {
        let (ev, stmts) = with_twins(7, usize::MAX);
        assert_eq!(follows(&ev, &stmts, &reqs(&ev), &timing()), None);
    }

    #[test]
    fn statements_whose_clock_accounts_compared_are_tied_to_the_address_they_follow() {
        let (mut ev, stmts) = case(7);
        for &s in &stmts {
            ev[s].format = crate::model::FormatName::registered("pg-csvlog");
        }
        let mut a = Analysis::default();
        a.ing.events = ev;
        let finding = Finding {
            technique: t::BULK_EXPORT,
            subject: "session 7".into(),
            explanation: String::new(),
            events: stmts.iter().copied().collect(),
            seed_ips: vec![],
            seed_contexts: vec![],
            seed_sessions: vec![],
            shared_ips: vec![],
        };
        let links = |a: &Analysis| Links {
            db_origin: vec![None; a.ing.events.len()],
            ..Links::default()
        };
        // No clock compared with the gateway's: nothing to go on.
        let mut l = links(&a);
        assert_eq!(compared(&a, &mut l, std::slice::from_ref(&finding)).0, 0);
        a.skews.push(crate::correlate::Skew {
            source: "db:pg-csvlog".into(),
            against: "gateway (by account and time)".into(),
            median_us: -1_800_000_000,
            correction_us: -1_800_000_000,
            pairs: 500,
            applied: true,
        });
        let mut l = links(&a);
        let (n, ips) = compared(&a, &mut l, &[finding]);
        assert_eq!(n, 6);
        assert_eq!(ips.into_iter().collect::<Vec<_>>(), ["192.0.2.77"]);
        assert!(stmts.iter().all(|&s| l
            .origin(s)
            .is_some_and(|g| a.ing.events[g].client_ip.as_deref() == Some("192.0.2.77"))));
    }

    #[test]
    fn two_statements_after_one_address_tie_and_one_ties_nothing() {
        // An injected probe and the dump it ran, each after one of the address's
        // requests: both follow it, and few moments chosen at random do.
        let (ev, stmts) = case(7);
        let two: BTreeSet<usize> = stmts.iter().copied().take(2).collect();
        let (ip, ties) = follows(&ev, &two, &reqs(&ev), &timing()).unwrap();
        assert_eq!((ip.as_str(), ties.len()), ("192.0.2.77", 2));
        let one: BTreeSet<usize> = stmts.into_iter().take(1).collect();
        assert_eq!(follows(&ev, &one, &reqs(&ev), &timing()), None);
    }
}
