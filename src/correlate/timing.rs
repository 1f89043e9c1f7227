//! Links by timing alone, for evidence that offers nothing else: SQL without request ids
//! and a gateway that names no accounts (API Gateway's CLF preset logs route templates).
//! The outlying bonus changes the detector found, on the application's pooled
//! connections, each follow one changing request of a flagged address at the same
//! offset (the DB clock's skew plus the application's latency). That offset corrects
//! the DB clock, and then a bonus change is tied to the flagged request it follows when
//! no other address sent a request to that route in the same window, or, with no flagged
//! request there, to the one request of another address that is.

use super::enrich::{is_safe, Links};
use super::technique as t;
use super::{Analysis, Finding};
use crate::model::{Event, SourceKind};
use std::collections::{BTreeMap, BTreeSet};

/// Widest offset searched: any zone offset plus a skew (as for account pairs).
const WINDOW_US: i64 = (14 * 60 + 30) * 60 * 1_000_000;

/// Widest spread of one statement's offsets to its own request: a gateway that logs whole
/// seconds spreads them over one second; with room for latency.
const SPREAD_US: i64 = 1_250_000;

/// Slack around the fitted window when statements are tied.
pub(super) const SLACK_US: i64 = 250_000;

/// Fewest outlying changes that must agree on one offset.
const MIN_AGREE: usize = 3;

/// A flagged address sending this many changing requests within the window of one
/// statement votes no more (a brute force's thousands of logins are not transfers).
const MAX_VOTES: usize = 4096;

/// The offset at which a DB format's outlying bonus changes follow flagged requests.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fit {
    /// Smallest and largest offset (statement − request) of the agreeing changes, µs.
    pub lo: i64,
    /// See `lo`.
    pub hi: i64,
    /// Outlying changes at this offset.
    pub agree: usize,
    /// Outlying changes of the format.
    pub of: usize,
    /// Slack after a statement for the requests it may follow: none when the gateway
    /// logs whole seconds (a request logged after a statement came after it).
    pub after_us: i64,
    /// Whether the changes follow requests of addresses no detector flagged: no
    /// offset fitted the flagged addresses' requests.
    pub unflagged: bool,
}

impl Fit {
    /// The request times a statement at `ts` (corrected) may follow: 0 ..= hi − lo
    /// before it, with slack.
    pub fn window(&self, ts: i64) -> (i64, i64) {
        (ts - (self.hi - self.lo) - SLACK_US, ts + self.after_us)
    }
}

/// What timing can tie: per DB format its fit, and the flagged addresses.
#[derive(Debug, Clone, Default)]
pub struct Timing {
    /// Format → fit.
    pub formats: BTreeMap<&'static str, Fit>,
    /// Addresses the detectors flagged.
    pub ips: BTreeSet<String>,
}

impl Timing {
    /// The format `db` fitted at no offset, its statements up to a second after their
    /// requests, no slack after them (for unit tests).
    #[cfg(test)]
    pub(super) fn one_second() -> Timing {
        let fit = Fit {
            lo: 0,
            hi: 1_000_000,
            agree: 5,
            of: 5,
            after_us: 0,
            unflagged: true,
        };
        Timing {
            formats: [("db", fit)].into_iter().collect(),
            ips: BTreeSet::new(),
        }
    }

    /// Gives each DB format whose records were copies of a fitted format's (`same_clock`,
    /// from dedupe: one server logging to both) that format's fit, and returns them as
    /// (copy, fitted). A copy logged in whole seconds (MySQL's audit log beside a stream
    /// in ms) is up to a second before the record it copies: a request up to a second
    /// after it may be its own.
    pub fn cover_copies(
        &mut self,
        ev: &[Box<Event>],
        same_clock: &[(&'static str, &'static str)],
    ) -> Vec<(&'static str, &'static str)> {
        let copies: Vec<(&'static str, &'static str)> = (same_clock.iter())
            .filter(|(x, y)| self.formats.contains_key(x) && !self.formats.contains_key(y))
            .map(|&(x, y)| (y, x))
            .collect();
        let whole = |f: &str| {
            (ev.iter())
                .filter(|e| e.format == f)
                .all(|e| e.ts % 1_000_000 == 0)
        };
        for &(y, x) in &copies {
            let mut fit = self.formats[x];
            if whole(y) && !whole(x) {
                fit.after_us += 1_000_000;
            }
            self.formats.entry(y).or_insert(fit);
        }
        copies
    }
}

/// Whether the application's statements are tied to no request at all: the only case
/// where timing is looked at.
pub fn nothing_linked(a: &Analysis, l: &Links) -> bool {
    let ev = &a.ing.events;
    ev.iter().any(|e| e.kind() == SourceKind::Gateway)
        && (0..ev.len()).all(|i| ev[i].kind() != SourceKind::Db || l.origin(i).is_none())
        && ev
            .iter()
            .any(|e| e.kind() == SourceKind::Db && e.request_id.is_none() && l.is_app_db(e))
}

/// Requests that change state (not GET, HEAD or OPTIONS) and that the application did
/// not refuse (no 4xx or 5xx status): (time, event), in time order. A refused request
/// wrote nothing, and a brute force's thousands of refused logins at one address made
/// an offset of hours fit the bonus changes of a wave no detector saw.
fn writes(ev: &[Box<Event>]) -> Vec<(i64, usize)> {
    ev.iter()
        .enumerate()
        .filter(|(_, e)| e.kind() == SourceKind::Gateway)
        .filter(|(_, e)| e.method.as_deref().is_some_and(|m| !is_safe(m)))
        .filter(|(_, e)| e.status.is_none_or(|s| s < 400))
        .map(|(i, e)| (e.ts, i))
        .collect()
}

/// Finds, per DB format, one offset at which most outlying bonus changes follow a
/// changing request of a flagged address, or else one route's requests of any address;
/// `None` when no format has one.
pub fn estimate(a: &Analysis, l: &Links, findings: &[Finding]) -> Option<Timing> {
    let ev = &a.ing.events;
    let ips: BTreeSet<String> = findings
        .iter()
        .flat_map(|f| f.seed_ips.iter().cloned())
        .collect();
    let all = writes(ev);
    let flagged: Vec<(i64, usize)> = all
        .iter()
        .copied()
        .filter(|w| {
            ev[w.1]
                .client_ip
                .as_deref()
                .is_some_and(|ip| ips.contains(ip))
        })
        .collect();
    let mut outliers: BTreeMap<&'static str, BTreeSet<usize>> = BTreeMap::new();
    for f in findings.iter().filter(|f| f.technique == t::BONUS_FRAUD) {
        for &i in &f.events {
            let e = &ev[i];
            if e.kind() == SourceKind::Db && e.request_id.is_none() && l.is_app_db(e) {
                outliers.entry(e.format.as_str()).or_default().insert(i);
            }
        }
    }
    let formats: BTreeMap<&'static str, Fit> = outliers
        .into_iter()
        .filter_map(|(fmt, s)| Some((fmt, fit(ev, &s, &flagged, &all)?)))
        .collect();
    (!formats.is_empty()).then_some(Timing { formats, ips })
}

/// The window of offsets (statement − flagged request) that explains the outlying
/// changes. Each window is counted in distinct statements; it must hold at least
/// `MIN_AGREE` and half of them. A script's steps come at fixed delays, so its login
/// before each transfer makes a second window as full as the transfer's own: among
/// windows nearly as full as the fullest, the one whose routes are most often followed by
/// a change wins (the login route also carries the brute force's thousands of attempts),
/// by twice the share of any other, or there is no answer. Failing that, one route's
/// offset (`by_route`) among the flagged requests, then among `all` changing requests —
/// the addresses that sent the changes may be ones no detector flagged — where the
/// routes at that offset must explain half the changes.
fn fit(
    ev: &[Box<Event>],
    stmts: &BTreeSet<usize>,
    flagged: &[(i64, usize)],
    all: &[(i64, usize)],
) -> Option<Fit> {
    let stmts: Vec<usize> = stmts.iter().copied().collect();
    let (best, unflagged) =
        match pooled(ev, &stmts, flagged).or_else(|| by_route(ev, &stmts, flagged, false)) {
            Some(b) => (b, false),
            None => (by_route(ev, &stmts, all, true)?, true),
        };
    // A gateway that logs whole seconds (CLF) puts a request up to a second before its
    // true time: changes logged to the millisecond that agreed may show only part of
    // that second. Changes logged in whole seconds too show the offsets there are.
    let whole = |t: i64| t % 1_000_000 == 0;
    let gw_whole = all.iter().all(|w| whole(w.0));
    let res = if gw_whole && !stmts.iter().all(|&s| whole(ev[s].ts)) {
        1_000_000
    } else {
        0
    };
    Some(Fit {
        lo: best.1.min(best.2 - res),
        hi: best.2.max(best.1 + res),
        agree: best.0,
        of: stmts.len(),
        after_us: if gw_whole { 0 } else { SLACK_US },
        unflagged,
    })
}

/// The offsets (statement − request, statement's index in `stmts`) of every statement to
/// the requests within `WINDOW_US` of it, sorted; a statement with more than
/// `MAX_VOTES` requests around it gives none.
fn offsets(ev: &[Box<Event>], stmts: &[usize], writes: &[(i64, usize)]) -> Vec<(i64, usize)> {
    let mut offs: Vec<(i64, usize)> = Vec::new();
    for (k, &s) in stmts.iter().enumerate() {
        let ts = ev[s].ts;
        let lo = writes.partition_point(|w| w.0 < ts - WINDOW_US);
        let hi = writes.partition_point(|w| w.0 <= ts + WINDOW_US);
        if hi - lo <= MAX_VOTES {
            offs.extend(writes[lo..hi].iter().map(|w| (ts - w.0, k)));
        }
    }
    offs.sort_unstable();
    offs
}

/// Each window starting at an offset: (distinct statements within `SPREAD_US` of it, its
/// first offset, its last).
fn windows(offs: &[(i64, usize)], n: usize) -> Vec<(usize, i64, i64)> {
    let mut count = vec![0u32; n];
    let (mut distinct, mut end) = (0usize, 0usize);
    let mut windows: Vec<(usize, i64, i64)> = Vec::with_capacity(offs.len());
    for j in 0..offs.len() {
        while end < offs.len() && offs[end].0 - offs[j].0 <= SPREAD_US {
            count[offs[end].1] += 1;
            if count[offs[end].1] == 1 {
                distinct += 1;
            }
            end += 1;
        }
        windows.push((distinct, offs[j].0, offs[end - 1].0));
        count[offs[j].1] -= 1;
        if count[offs[j].1] == 0 {
            distinct -= 1;
        }
    }
    windows
}

/// The fullest window over every flagged request (see `fit`): (agreeing statements,
/// first offset, last offset).
fn pooled(
    ev: &[Box<Event>],
    stmts: &[usize],
    writes: &[(i64, usize)],
) -> Option<(usize, i64, i64)> {
    let offs = offsets(ev, stmts, writes);
    let mut windows = windows(&offs, stmts.len());
    // Candidates: the fullest windows, apart from each other.
    windows.sort_by_key(|w| (std::cmp::Reverse(w.0), w.1.abs(), w.1));
    let top = windows.first()?.0;
    if top < MIN_AGREE || top * 2 < stmts.len() {
        return None;
    }
    let mut cands: Vec<(usize, i64, i64)> = Vec::new();
    for w in windows.iter().take_while(|w| w.0 * 10 >= top * 9) {
        if cands
            .iter()
            .all(|c| w.1 > c.2 + SPREAD_US || w.2 < c.1 - SPREAD_US)
        {
            cands.push(*w);
        }
    }
    // Per candidate: the share of its routes' flagged requests (over the outliers' span)
    // that a change followed at its offset, in parts per million.
    let share = |c: &(usize, i64, i64)| -> u64 {
        let mut used: BTreeSet<usize> = BTreeSet::new();
        for &s in stmts {
            let ts = ev[s].ts;
            let lo = writes.partition_point(|w| w.0 < ts - c.2);
            let hi = writes.partition_point(|w| w.0 <= ts - c.1);
            used.extend(writes[lo..hi].iter().map(|w| w.1));
        }
        let routes: BTreeSet<Route> = used.iter().map(|&i| route(&ev[i])).collect();
        let (first, last) = (ev[stmts[0]].ts, ev[stmts[stmts.len() - 1]].ts);
        let all = writes
            .iter()
            .filter(|w| w.0 >= first - c.2 && w.0 <= last - c.1)
            .filter(|w| routes.contains(&route(&ev[w.1])))
            .count()
            .max(1);
        used.len() as u64 * 1_000_000 / all as u64
    };
    let mut scored: Vec<(u64, (usize, i64, i64))> = cands.iter().map(|c| (share(c), *c)).collect();
    scored.sort_by_key(|(sh, c)| {
        (
            std::cmp::Reverse(*sh),
            std::cmp::Reverse(c.0),
            c.1.abs(),
            c.1,
        )
    });
    let (sh, best) = scored[0];
    // Twice the share of any rival, or the offset is a guess (a brute force that covers
    // every second fits any offset as well as another).
    if scored.get(1).is_some_and(|(sh2, _)| sh2 * 2 > sh) {
        return None;
    }
    Some(best)
}

/// Fewest changes that must agree on one route's offset when the pooled windows give no
/// answer.
const ROUTE_AGREE: usize = 5;

/// When no window over all flagged requests is both full and decisive: the addresses of
/// a proxy pool that got in at their first tries sent most transfers and no detector
/// flagged them, while the pool's login storm fills a window at almost any offset. One
/// route may still be followed at one offset after nearly every request `writes` sent to
/// it (the credits one address gave its own accounts). Per route, its fullest window
/// (`MAX_VOTES` counted per route); the route whose requests (over the changes' span)
/// are most often followed at that offset wins, with at least half of them and at least
/// `ROUTE_AGREE` changes, unless a route at another offset has half its share and half
/// as many requests followed as the routes at its offset together. Returns the changes that the routes at its offset explain,
/// and its window; with `majority`, only when they are half the changes or more.
fn by_route(
    ev: &[Box<Event>],
    stmts: &[usize],
    writes: &[(i64, usize)],
    majority: bool,
) -> Option<(usize, i64, i64)> {
    let mut routes: BTreeMap<Route, Vec<(i64, usize)>> = BTreeMap::new();
    for &w in writes {
        routes.entry(route(&ev[w.1])).or_default().push(w);
    }
    let (first, last) = (ev[*stmts.first()?].ts, ev[*stmts.last()?].ts);
    // (share in parts per million, requests followed, window, the times of the route's
    // requests over the span)
    #[allow(clippy::type_complexity)]
    let mut scored: Vec<(u64, usize, (usize, i64, i64), Vec<i64>)> = Vec::new();
    for mine in routes.values() {
        let offs = offsets(ev, stmts, mine);
        let Some(best) = windows(&offs, stmts.len())
            .into_iter()
            .max_by_key(|w| (w.0, std::cmp::Reverse(w.1.abs()), std::cmp::Reverse(w.1)))
        else {
            continue;
        };
        if best.0 < ROUTE_AGREE {
            continue;
        }
        let mine: Vec<i64> = mine
            .iter()
            .filter(|w| w.0 >= first - best.2 && w.0 <= last - best.1)
            .map(|w| w.0)
            .collect();
        let followed = mine
            .iter()
            .filter(|&&t| {
                stmts.iter().any(|&s| {
                    let d = ev[s].ts - t;
                    d >= best.1 && d <= best.2
                })
            })
            .count();
        let share = followed as u64 * 1_000_000 / mine.len().max(1) as u64;
        scored.push((share, followed, best, mine));
    }
    scored.sort_by_key(|(sh, _, c, _)| {
        (
            std::cmp::Reverse(*sh),
            std::cmp::Reverse(c.0),
            c.1.abs(),
            c.1,
        )
    });
    let (sh, best) = scored.first().map(|x| (x.0, x.2))?;
    // Routes at the best offset agree with it (a transfer's and a promotion's changes
    // follow alike); a rival is one at another offset, with half the share and half as
    // many requests followed as the agreeing routes together (five of a quiet route's
    // seven requests is a coincidence beside twenty of twenty).
    let apart = |w: &(usize, i64, i64)| w.1 > best.2 + SPREAD_US || w.2 < best.1 - SPREAD_US;
    let agreeing: Vec<_> = scored
        .iter()
        .filter(|x| !apart(&x.2) && x.0 >= 500_000)
        .collect();
    let n: usize = agreeing.iter().map(|x| x.1).sum();
    let rival = scored.iter().find(|x| apart(&x.2));
    if sh < 500_000 || rival.is_some_and(|x| x.0 * 2 > sh && x.1 * 2 > n) {
        return None;
    }
    // The changes the agreeing routes explain, each at its own window.
    let explained = stmts
        .iter()
        .filter(|&&s| {
            let ts = ev[s].ts;
            agreeing
                .iter()
                .any(|x| x.3.iter().any(|&t| ts - t >= x.2 .1 && ts - t <= x.2 .2))
        })
        .count();
    // Over every address's requests, some quiet route's few requests fit a handful of
    // changes at some offset by chance: there the fit must explain most of them.
    if majority && explained * 2 < stmts.len() {
        return None;
    }
    Some((explained, best.1, best.2))
}

/// Ties bonus changes of the fitted formats (times already corrected by `fit.lo`) to a
/// flagged address's request they follow within the fitted window, or to the one request
/// of another address they follow when no flagged request is near. Only requests to
/// routes that bonus changes follow are considered — most of their requests (and three
/// times the share of a moment chosen at random) have one in that window, which leaves
/// out the logins a brute force fires every second — and a change is left alone when
/// its window holds a flagged request and another address's, or several requests of
/// other addresses. Returns how many
/// were tied (to flagged requests, to others'); none when bonus changes are so frequent
/// that timing cannot tell.
pub fn link(a: &Analysis, l: &mut Links, timing: &Timing) -> (usize, usize) {
    let ev = &a.ing.events;
    let writes = writes(ev);
    let flagged = |e: &Event| {
        e.client_ip
            .as_deref()
            .is_some_and(|ip| timing.ips.contains(ip))
    };
    let mut tied = (0, 0);
    for (fmt, fit) in &timing.formats {
        // The application's bonus changes of this format, in time order.
        let bonus: Vec<usize> = (0..ev.len())
            .filter(|&i| {
                let e = &ev[i];
                e.kind() == SourceKind::Db
                    && e.format == *fmt
                    && e.request_id.is_none()
                    && l.is_app_db(e)
                    && e.sql.as_ref().is_some_and(|f| !f.bonus_changes.is_empty())
            })
            .collect();
        let times: Vec<i64> = bonus.iter().map(|&i| ev[i].ts).collect();
        let followed = |t: i64| {
            let k = times.partition_point(|&x| x < t - fit.after_us);
            times
                .get(k)
                .is_some_and(|&x| x <= t + (fit.hi - fit.lo) + SLACK_US)
        };
        // A moment chosen at random: each request shifted by a time unrelated to it.
        let chance = writes.iter().filter(|w| followed(w.0 + 37_000_000)).count() as f64
            / writes.len().max(1) as f64;
        if chance > 0.25 {
            continue;
        }
        let mut per_route: BTreeMap<Route, (usize, usize)> = BTreeMap::new();
        for w in &writes {
            let x = per_route.entry(route(&ev[w.1])).or_default();
            x.0 += 1;
            x.1 += followed(w.0) as usize;
        }
        let bonus_routes: BTreeSet<Route> = per_route
            .into_iter()
            .filter(|(_, (n, f))| {
                let y = *f as f64 / *n as f64;
                *n >= 3 && y >= 0.5 && y >= 3.0 * chance
            })
            .map(|(r, _)| r)
            .collect();
        for &i in &bonus {
            if l.origin(i).is_some() {
                continue;
            }
            let ts = ev[i].ts;
            // After the correction, a statement follows its request by 0 ..= hi − lo.
            let (from, to) = fit.window(ts);
            let lo = writes.partition_point(|w| w.0 < from);
            let hi = writes.partition_point(|w| w.0 <= to);
            let near: Vec<usize> = writes[lo..hi]
                .iter()
                .map(|w| w.1)
                .filter(|&g| bonus_routes.contains(&route(&ev[g])))
                .collect();
            // The flagged request it follows, with no other address's request near; or,
            // with no flagged request near, the one request there is: the transfers of a
            // pool's address that got in at its first try, which no detector flagged.
            let g = match near.iter().rev().find(|&&g| flagged(&ev[g])) {
                Some(&g) if near.iter().all(|&o| flagged(&ev[o])) => {
                    tied.0 += 1;
                    g
                }
                None if near.len() == 1 => {
                    tied.1 += 1;
                    near[0]
                }
                _ => continue,
            };
            l.db_origin[i] = Some(g);
            l.timed.insert(i);
        }
    }
    tied
}

/// A request's method and route: its template, else its path with the segments that
/// name a record (numbers, long ids, email addresses) and the query left out, so that
/// one account's transfer and another's are one route.
pub(super) type Route = (Option<crate::model::Text>, Option<String>);

pub(super) fn route(e: &Event) -> Route {
    let r = match (&e.route, &e.path) {
        (Some(r), _) => Some(r.to_string()),
        (None, Some(p)) => Some(shape(p)),
        (None, None) => None,
    };
    (e.method.clone(), r)
}

/// A path with its record-naming segments as `{}`.
fn shape(path: &str) -> String {
    let path = path.split(['?', '#']).next().unwrap_or_default();
    let id = |s: &str| {
        let digits = s.bytes().filter(u8::is_ascii_digit).count();
        (!s.is_empty() && digits == s.len()) || (s.len() >= 8 && digits > 0) || s.contains('@')
    };
    path.split('/')
        .map(|s| if id(s) { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    /// Events: per transfer `k`, a flagged login 15 s before it, the transfer, and its
    /// statement 90 s later (the DB clock ahead); `extra_logins` failed logins between.
    type Case = (Vec<Box<Event>>, BTreeSet<usize>, Vec<(i64, usize)>);

    /// A flagged address's changing request to a route.
    fn req(ts: i64, route: &str) -> Box<Event> {
        let mut e = Event::new(SourceKind::Gateway, "t");
        e.ts = ts;
        e.method = Some("POST".into());
        e.route = Some(route.into());
        e.client_ip = Some("203.0.113.9".into());
        Box::new(e)
    }

    /// A flagged address's logins every second for ten minutes from t = 1,000 s, a few
    /// seconds skipped, as a real brute force's pace varies.
    fn storm() -> impl Iterator<Item = Box<Event>> {
        (0..600i64)
            .filter(|k| ((k * 2_654_435_761) >> 7) % 5 != 0)
            .map(|k| req(1_000 * S + k * S, "/login"))
    }

    /// Another address's changing request to a path (no route template).
    fn other(ts: i64, path: &str) -> Box<Event> {
        let mut e = req(ts, "");
        e.route = None;
        e.path = Some(path.into());
        e.client_ip = Some("198.18.0.7".into());
        e
    }

    /// An outlying change's statement.
    fn stmt(ts: i64) -> Box<Event> {
        let mut e = Event::new(SourceKind::Db, "t");
        e.ts = ts;
        Box::new(e)
    }

    /// The events in time order, the statements among them, and the requests with
    /// their times: what `fit` is given.
    #[allow(clippy::vec_box)] // the events' one shape everywhere
    fn split(mut ev: Vec<Box<Event>>) -> Case {
        ev.sort_by_key(|e| e.ts);
        let stmts = (0..ev.len())
            .filter(|&i| ev[i].kind() == SourceKind::Db)
            .collect();
        let writes = (0..ev.len())
            .filter(|&i| ev[i].kind() == SourceKind::Gateway)
            .map(|i| (ev[i].ts, i))
            .collect();
        (ev, stmts, writes)
    }

    fn case(extra_logins: bool) -> Case {
        let mut ev: Vec<Box<Event>> = Vec::new();
        for k in 0..8i64 {
            // Irregular gaps, as a person or a jittered script leaves them.
            let t = 1_000 * S + k * 61 * S + (k * k % 7) * S;
            ev.push(req(t - 15 * S, "/login"));
            if extra_logins {
                for j in 1..6 {
                    ev.push(req(t - 15 * S + j * S * 2, "/login"));
                }
            }
            ev.push(req(t, "/transfer"));
            ev.push(stmt(t + 90 * S));
        }
        split(ev)
    }

    #[test]
    fn the_route_a_change_follows_wins_over_the_login_before_it() {
        let (ev, stmts, writes) = case(true);
        let f = fit(&ev, &stmts, &writes, &writes).expect("a fit");
        assert_eq!((f.lo, f.hi, f.agree, f.of), (90 * S, 90 * S, 8, 8));
        assert_eq!(f.after_us, 0, "whole seconds");
    }

    #[test]
    fn two_offsets_as_good_as_each_other_are_no_answer() {
        // Every login is followed by a transfer 15 s later: nothing tells them apart.
        let (ev, stmts, writes) = case(false);
        assert_eq!(fit(&ev, &stmts, &writes, &writes), None);
    }

    #[test]
    fn refused_requests_are_no_anchor() {
        // A scanner's refused logins (flagged) at an uneven pace over forty minutes, and
        // eight transfers hours before by an address no detector flagged, each change
        // 90 s after its transfer. Counted as writes, the logins fitted an offset of
        // hours; refused, they wrote nothing, and the transfers' offset is the answer.
        let mut ev: Vec<Box<Event>> = Vec::new();
        for k in 0..114i64 {
            let mut e = req(40_000 * S + k * 21 * S + (k * k % 13) * S, "/login");
            e.status = Some(401);
            ev.push(e);
        }
        for k in 0..8i64 {
            let t = 1_000 * S + k * 61 * S + (k * k % 7) * S;
            let mut e = other(t, "/transfer");
            e.status = Some(200);
            ev.push(e);
            ev.push(stmt(t + 90 * S));
        }
        let (ev, stmts, _) = split(ev);
        let all = writes(&ev);
        assert!(all.iter().all(|w| ev[w.1].status == Some(200)));
        let flagged: Vec<(i64, usize)> = (all.iter().copied())
            .filter(|w| ev[w.1].client_ip.as_deref() == Some("203.0.113.9"))
            .collect();
        let f = fit(&ev, &stmts, &flagged, &all).expect("a fit");
        assert_eq!(
            (f.lo, f.hi, f.agree, f.unflagged),
            (90 * S, 90 * S, 8, true)
        );
    }

    #[test]
    fn a_brute_force_covering_every_second_fits_no_offset() {
        // Logins every second for ten minutes and outlying changes among them, which no
        // request of a flagged address explains: every offset fits as well as another.
        let mut ev: Vec<Box<Event>> = Vec::new();
        ev.extend(storm());
        for k in 0..8i64 {
            ev.push(stmt(1_100 * S + k * 37 * S + 400_000));
        }
        let (ev, stmts, writes) = split(ev);
        assert_eq!(fit(&ev, &stmts, &writes, &writes), None);
    }

    #[test]
    fn one_route_followed_after_every_request_fits_through_a_login_storm() {
        // A proxy pool's logins every second for ten minutes (flagged), six promotions a
        // flagged address credited, each followed by its change an hour later (the DB
        // clock ahead), and ten transfers by addresses no detector flagged, whose changes
        // follow no flagged request. Every offset into the storm holds all sixteen
        // changes; only the promotions' route is followed after each of its requests.
        let mut ev: Vec<Box<Event>> = Vec::new();
        ev.extend(storm());
        for j in 0..6i64 {
            let t = 1_100 * S + j * 53 * S + 300_000;
            ev.push(req(t, "/promo"));
            ev.push(stmt(t + 3_600 * S + 40_000));
        }
        for j in 0..10i64 {
            ev.push(stmt(1_130 * S + j * 41 * S + 3_600 * S + 700_000));
        }
        let (ev, stmts, writes) = split(ev);
        let f = fit(&ev, &stmts, &writes, &writes).expect("the promotions' offset");
        assert_eq!((f.agree, f.of), (6, 16));
        assert!(
            (f.lo - 3_600 * S).abs() <= S && (f.hi - 3_600 * S).abs() <= S,
            "{f:?}"
        );
        // Without the promotions, the storm alone fits no offset.
        let no_promo: Vec<(i64, usize)> = (writes.iter().copied())
            .filter(|w| ev[w.1].route.as_deref() == Some("/login"))
            .collect();
        assert_eq!(fit(&ev, &stmts, &no_promo, &no_promo), None);
    }

    #[test]
    fn routes_of_unflagged_addresses_fit_when_the_flagged_ones_only_tried_logins() {
        // The flagged addresses only failed logins (a storm every second). Addresses no
        // detector flagged sent eight transfers and six promotions, each followed by its
        // change (two for a transfer) an hour later. Five of a quiet route's six requests
        // are followed by a transfer's pair at another offset, by chance: more than half
        // the transfers' eight, fewer than half of the fourteen both routes followed.
        let mut ev: Vec<Box<Event>> = Vec::new();
        ev.extend(storm());
        let hour = 3_600 * S + 40_000;
        for j in 0..8i64 {
            let t = 1_100 * S + j * 61 * S + 300_000;
            ev.push(other(t, &format!("/api/accounts/{}/transfer", 100_200 + j)));
            ev.push(stmt(t + hour));
            ev.push(stmt(t + hour + 2_000));
        }
        for j in 0..6i64 {
            let t = 1_130 * S + j * 53 * S + 700_000;
            ev.push(other(
                t,
                &format!("/api/accounts/{}/promo?src=app", 100_300 + j),
            ));
            ev.push(stmt(t + hour));
        }
        for j in 0..5i64 {
            let t = 1_100 * S + j * 61 * S + 300_000 + hour - 1_000 * S;
            ev.push(other(t, &format!("/api/accounts/{}/redeem", 100_400 + j)));
        }
        ev.push(other(4_100 * S, "/api/accounts/100405/redeem"));
        let (ev, stmts, all) = split(ev);
        let flagged: Vec<(i64, usize)> = (all.iter().copied())
            .filter(|w| ev[w.1].route.as_deref() == Some("/login"))
            .collect();
        let f = fit(&ev, &stmts, &flagged, &all).expect("the transfers' offset");
        assert!(f.unflagged);
        assert_eq!((f.agree, f.of), (22, 22));
        assert!(
            (f.lo - hour).abs() <= S && (f.hi - hour).abs() <= S,
            "{f:?}"
        );
    }

    #[test]
    fn paths_that_name_records_share_a_route() {
        assert_eq!(
            shape("/api/v1/accounts/100123/bonus?x=1"),
            "/api/v1/accounts/{}/bonus"
        );
        assert_eq!(
            shape("/c/6f1c2a9e-77b0-4d2e/a@b.example/items"),
            "/c/{}/{}/items"
        );
        assert_eq!(shape("/api/v2/menu"), "/api/v2/menu");
    }
}
