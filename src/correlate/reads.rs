//! Ties statements that name an account (a customer's record read, a balance looked up)
//! to the request they follow at the offset timing fitted, where neither request ids nor
//! the gateway (route templates only) say which account a request was about. A route is
//! learnt to issue a kind of statement when most of its requests are followed by one
//! in the fitted window, and seldom at a moment chosen at random; a statement is then
//! tied when the requests of such routes in its window all come from one client. Without
//! it, one customer reading a hundred others' records showed as a hundred requests to
//! `/accounts/{accountId}` and nothing else.

use super::enrich::Links;
use super::tie::SHIFTS_US;
use super::timing::{route, Fit, Route, Timing, SLACK_US};
use super::Analysis;
use crate::model::{Event, SourceKind, StmtClass, Text};
use std::collections::{BTreeMap, BTreeSet};

/// Fewest requests of a route, and of them followed, for the route to be learnt.
const MIN_FOLLOWED: usize = 3;

/// A kind of statement: its class and the tables it touches.
type Kind = (Option<StmtClass>, Box<[Text]>);

fn kind(e: &Event) -> Kind {
    let tables = e.sql.as_ref().map(|f| f.tables.clone()).unwrap_or_default();
    (e.stmt_class, tables)
}

/// Whether a statement may be tied here: the application's, of a fitted format, with no
/// request id and no origin yet, naming an account, changing no bonus (`timing::link`
/// ties those).
fn untied(e: &Event, i: usize, l: &Links, timing: &Timing) -> bool {
    e.kind() == SourceKind::Db
        && e.account_id.is_some()
        && e.request_id.is_none()
        && l.origin(i).is_none()
        && timing.formats.contains_key(e.format.as_str())
        && l.is_app_db(e)
        && e.sql.as_ref().is_none_or(|f| f.bonus_changes.is_empty())
}

/// Ties each untied statement that names an account to the last request, in its window,
/// of a route learnt to issue its kind, when those requests all come from one client
/// (address and agent). Returns how many were tied.
pub fn accounts(a: &Analysis, l: &mut Links, timing: &Timing) -> usize {
    let ev = &a.ing.events;
    // Requests that name no account themselves, in time order.
    let reqs: Vec<(i64, usize)> = (0..ev.len())
        .filter(|&i| {
            let e = &ev[i];
            e.kind() == SourceKind::Gateway && e.account_id.is_none() && e.client_ip.is_some()
        })
        .map(|i| (ev[i].ts, i))
        .collect();
    let stmts: Vec<usize> = (0..ev.len())
        .filter(|&i| untied(&ev[i], i, l, timing))
        .collect();
    if reqs.is_empty() || stmts.is_empty() {
        return 0;
    }
    let found = ties(ev, &reqs, &stmts, timing);
    for &(s, g) in &found {
        l.db_origin[s] = Some(g);
        l.timed.insert(s);
    }
    found.len()
}

/// The (statement, request) pairs `accounts` ties, from the requests that name no
/// account and the untied statements, each in time order.
fn ties(
    ev: &[Box<Event>],
    reqs: &[(i64, usize)],
    stmts: &[usize],
    timing: &Timing,
) -> Vec<(usize, usize)> {
    let kinds: Vec<Kind> = stmts.iter().map(|&s| kind(&ev[s])).collect();
    // Each request's route, made once.
    let routes: Vec<Route> = reqs.iter().map(|r| route(&ev[r.1])).collect();
    let learnt = learn(ev, reqs, &routes, stmts, &kinds, timing);
    let client = |g: usize| (ev[g].client_ip.as_deref(), ev[g].user_agent.as_deref());
    let mut out = Vec::new();
    for (k, &s) in stmts.iter().enumerate() {
        let Some(issuing) = learnt.get(&kinds[k]) else {
            continue;
        };
        let (from, to) = timing.formats[ev[s].format.as_str()].window(ev[s].ts);
        let lo = reqs.partition_point(|r| r.0 < from);
        let hi = reqs.partition_point(|r| r.0 <= to);
        let near: Vec<usize> = (lo..hi)
            .filter(|&j| issuing.contains(&routes[j]))
            .map(|j| reqs[j].1)
            .collect();
        let Some(&last) = near.last() else {
            continue;
        };
        if near.iter().all(|&g| client(g) == client(last)) {
            out.push((s, last));
        }
    }
    out
}

/// Per kind of statement, the routes that issue it: of a route's requests, at least
/// `MIN_FOLLOWED` and half are followed by one in the fitted window, and three times the
/// share of the same windows moved by each of `SHIFTS_US`. `routes`: each request's.
fn learn(
    ev: &[Box<Event>],
    reqs: &[(i64, usize)],
    routes: &[Route],
    stmts: &[usize],
    kinds: &[Kind],
    timing: &Timing,
) -> BTreeMap<Kind, BTreeSet<Route>> {
    // Per format, its statements' (time, kind index) in time order: a request is
    // followed within each format's own window.
    let mut ids: BTreeMap<&Kind, usize> = BTreeMap::new();
    for k in kinds {
        let n = ids.len();
        ids.entry(k).or_insert(n);
    }
    let mut by_format: BTreeMap<&str, Vec<(i64, usize)>> = BTreeMap::new();
    for (k, &s) in stmts.iter().enumerate() {
        let f = by_format.entry(ev[s].format.as_str()).or_default();
        f.push((ev[s].ts, ids[&kinds[k]]));
    }
    for v in by_format.values_mut() {
        v.sort_unstable();
    }
    // Per route: its requests, and per kind (followed, followed by chance). The
    // requests come in time order, so each format's window (and each moved one) slides
    // forward over its statements: the kinds in it are kept, not searched for.
    type Follows = BTreeMap<usize, (usize, usize)>;
    let mut per_route: BTreeMap<&Route, (usize, Follows)> = BTreeMap::new();
    let shifts: Vec<i64> = std::iter::once(0).chain(SHIFTS_US).collect();
    let mut slides: Vec<Vec<Slide>> = (shifts.iter())
        .map(|_| {
            (by_format.iter())
                .map(|(fmt, times)| Slide::new(times, &timing.formats[fmt], ids.len()))
                .collect()
        })
        .collect();
    let mut seen = vec![false; ids.len()];
    let mut out: Vec<usize> = Vec::new();
    for (&(t, _), r) in reqs.iter().zip(routes) {
        let r = per_route.entry(r).or_default();
        r.0 += 1;
        for (n, shift) in shifts.iter().enumerate() {
            out.clear();
            for slide in &mut slides[n] {
                for &k in slide.at(t + shift) {
                    if !seen[k] {
                        seen[k] = true;
                        out.push(k);
                    }
                }
            }
            for &k in &out {
                seen[k] = false;
                let x = r.1.entry(k).or_default();
                if n == 0 {
                    x.0 += 1;
                } else {
                    x.1 += 1;
                }
            }
        }
    }
    let by_id: BTreeMap<usize, &Kind> = ids.iter().map(|(k, &n)| (n, *k)).collect();
    let mut learnt: BTreeMap<Kind, BTreeSet<Route>> = BTreeMap::new();
    for (r, (n, follows)) in per_route {
        for (k, (hit, chance)) in follows {
            // chance / shifts ≤ hit / 3, in whole numbers.
            let rare = chance * 3 <= hit * SHIFTS_US.len();
            if hit >= MIN_FOLLOWED && hit * 2 >= n && rare {
                learnt
                    .entry(by_id[&k].clone())
                    .or_default()
                    .insert(r.clone());
            }
        }
    }
    learnt
}

/// The statements of one format that may follow a request, as requests come in time
/// order: the kinds within the window after the last request asked about.
struct Slide<'a> {
    /// (time, kind) in time order.
    times: &'a [(i64, usize)],
    /// Statements from this far before a request …
    before: i64,
    /// … to this far after it.
    after: i64,
    /// The window's first statement and the one past its last.
    a: usize,
    b: usize,
    /// Statements in the window per kind, and the kinds with any.
    count: Vec<u32>,
    present: Vec<usize>,
}

impl<'a> Slide<'a> {
    fn new(times: &'a [(i64, usize)], fit: &Fit, kinds: usize) -> Slide<'a> {
        Slide {
            times,
            before: fit.after_us,
            after: (fit.hi - fit.lo) + SLACK_US,
            a: 0,
            b: 0,
            count: vec![0; kinds],
            present: Vec::new(),
        }
    }

    /// The kinds of the statements that may follow a request at `t` (not before the
    /// last `t` asked about).
    fn at(&mut self, t: i64) -> &[usize] {
        let (lo, hi) = (t - self.before, t + self.after);
        while self.b < self.times.len() && self.times[self.b].0 <= hi {
            let k = self.times[self.b].1;
            self.count[k] += 1;
            if self.count[k] == 1 {
                self.present.push(k);
            }
            self.b += 1;
        }
        while self.a < self.b && self.times[self.a].0 < lo {
            let k = self.times[self.a].1;
            self.count[k] -= 1;
            if self.count[k] == 0 {
                self.present.retain(|&x| x != k);
            }
            self.a += 1;
        }
        &self.present
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    fn req(ts: i64, ip: &str, route: &str) -> Box<Event> {
        let mut e = Event::new(SourceKind::Gateway, "t");
        e.ts = ts;
        e.method = Some("GET".into());
        e.route = Some(route.into());
        e.client_ip = Some(ip.into());
        Box::new(e)
    }

    /// A read of `table` naming `account`.
    fn read(ts: i64, table: &str, account: u32) -> Box<Event> {
        let mut e = Event::new(SourceKind::Db, "db");
        e.ts = ts;
        e.stmt_class = Some(StmtClass::Read);
        e.account_id = Some(account.to_string().as_str().into());
        e.sql = Some(Box::new(crate::model::SqlFacts {
            tables: vec![Text::from(table)].into_boxed_slice(),
            ..Default::default()
        }));
        Box::new(e)
    }

    /// The DB clock corrected; statements follow their requests by up to a second.
    fn timing() -> Timing {
        Timing::one_second()
    }

    /// Ties `accounts` makes over the events (sorted here): statement → its request.
    #[allow(clippy::vec_box)] // the events' one shape everywhere
    fn tie(mut ev: Vec<Box<Event>>) -> (Vec<Box<Event>>, BTreeMap<usize, usize>) {
        ev.sort_by_key(|e| e.ts);
        let mut a = Analysis::default();
        a.ing.events = ev;
        let mut l = Links {
            db_origin: vec![None; a.ing.events.len()],
            ..Links::default()
        };
        let n = accounts(&a, &mut l, &timing());
        let ties: BTreeMap<usize, usize> = (0..a.ing.events.len())
            .filter_map(|i| Some((i, l.origin(i)?)))
            .collect();
        assert_eq!(n, ties.len());
        assert!(ties.keys().all(|i| l.timed.contains(i)));
        (a.ing.events, ties)
    }

    /// A client reading 40 accounts' balances at an uneven pace, each read 0.4 s after
    /// its request, among customers' menu requests that issue no statement of the kind.
    #[allow(clippy::vec_box)]
    fn walk() -> Vec<Box<Event>> {
        let mut ev = Vec::new();
        for k in 0..40i64 {
            let t = 1_000 * S + k * 7 * S + (k * k % 5) * S;
            ev.push(req(t, "192.0.2.77", "/accounts/{id}/bonus"));
            ev.push(read(t + 400_000, "bonus_accounts", 100_000 + k as u32));
        }
        for k in 0..120i64 {
            ev.push(req(
                995 * S + k * 3 * S + 500_000,
                "198.18.0.5",
                "/menu/{id}",
            ));
        }
        ev
    }

    #[test]
    fn reads_after_each_request_of_a_route_are_its_client_s() {
        let (ev, ties) = tie(walk());
        assert_eq!(ties.len(), 40);
        assert!(ties.iter().all(|(&s, &g)| {
            ev[g].client_ip.as_deref() == Some("192.0.2.77") && ev[s].ts - ev[g].ts == 400_000
        }));
    }

    #[test]
    fn two_clients_of_the_route_in_one_window_tie_nothing_there() {
        let mut ev = walk();
        // Another customer looks up a balance 0.2 s after five of the walk's requests.
        let theirs: Vec<Box<Event>> = (ev.iter())
            .filter(|e| e.client_ip.as_deref() == Some("192.0.2.77"))
            .take(5)
            .map(|e| req(e.ts + 200_000, "198.18.0.9", "/accounts/{id}/bonus"))
            .collect();
        ev.extend(theirs);
        let (ev, ties) = tie(ev);
        assert_eq!(ties.len(), 35);
        assert!(ties
            .values()
            .all(|&g| ev[g].client_ip.as_deref() == Some("192.0.2.77")));
    }

    #[test]
    fn a_route_followed_as_often_as_any_moment_is_not_learnt() {
        // A batch job reads a balance every half second; a monitor's requests every five
        // seconds each have reads after them, as every moment chosen at random does.
        let mut ev: Vec<Box<Event>> = (0..60i64)
            .map(|k| req(1_000 * S + k * 5 * S, "10.0.0.9", "/health/{probe}"))
            .collect();
        for k in 0..700i64 {
            ev.push(read(
                950 * S + k * S / 2,
                "bonus_accounts",
                100_000 + k as u32,
            ));
        }
        let (_, ties) = tie(ev);
        assert!(ties.is_empty(), "{} tied", ties.len());
    }

    #[test]
    fn a_sliding_window_holds_what_a_search_finds() {
        // Statements of three kinds at uneven times; requests in time order, some in
        // bursts, some after long pauses.
        let times: Vec<(i64, usize)> = (0..400i64)
            .map(|k| (k * 700_000 + (k * k % 11) * 90_000, (k % 7 % 3) as usize))
            .collect();
        let mut times = times;
        times.sort_unstable();
        let fit = timing().formats["db"];
        let mut slide = Slide::new(&times, &fit, 3);
        let mut t = -2 * S;
        for k in 0..500i64 {
            t += if k % 50 == 0 {
                9 * S
            } else {
                (k * 37 % 13) * 40_000
            };
            let mut got = slide.at(t).to_vec();
            got.sort_unstable();
            let mut want: Vec<usize> = (times.iter())
                .filter(|x| x.0 >= t - fit.after_us && x.0 <= t + fit.hi - fit.lo + SLACK_US)
                .map(|x| x.1)
                .collect();
            want.sort_unstable();
            want.dedup();
            assert_eq!(got, want, "at {t}");
        }
    }
}
