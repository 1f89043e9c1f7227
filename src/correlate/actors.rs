//! Parts attacker activity the wave gap could not part — waves closer together than the
//! gap, or running at once — by who acted and which system they hit.
//!
//! Within one stretch of activity without a pause, events are tied into actors by the
//! identifiers the attacker used: client addresses, staff principals, tokens and sessions
//! of the requests, the host and user of direct database sessions. A statement counts
//! under the request it came from, a push record under the request that sent its message.
//! Actors that hit the bonus system (reading customer data or not) are one side; actors
//! that hit customer data alone, or (when none did) statements of nobody's that dumped
//! customer data, the other. The sides are separate waves, even running at once, as long
//! as every customer-data read of the time both ran has an actor; a side of nobody's
//! dumps must stand apart in time. Otherwise whose reads are whose is not in the evidence
//! and the stretch stays one wave. Push is no boundary: a send follows a theft.

use super::enrich::Links;
use super::Analysis;
use crate::model::{Event, SourceKind};
use crate::profile::Target;
use std::collections::{BTreeMap, HashMap};

/// Splits `stretch` (attacker events in time order, no pause longer than the wave gap)
/// into waves: event lists in time order, ordered by first event. One list when the
/// evidence shows no separate actors with separate targets.
pub fn split(a: &Analysis, l: &Links, stretch: &[usize]) -> Vec<Vec<usize>> {
    let whole = || vec![stretch.to_vec()];
    let sent_by = push_origins(a);
    let keys: Vec<Vec<String>> = stretch
        .iter()
        .map(|&i| keys_of(a, l, &sent_by, i))
        .collect();
    // Actors: keys joined by the events that carry them together.
    let mut ids: BTreeMap<&str, usize> = BTreeMap::new();
    for k in keys.iter().flatten() {
        let n = ids.len();
        ids.entry(k.as_str()).or_insert(n);
    }
    let mut uf = UnionFind::new(ids.len());
    for ks in &keys {
        for w in ks.windows(2) {
            uf.union(ids[w[0].as_str()], ids[w[1].as_str()]);
        }
    }
    let actor: Vec<Option<usize>> = keys
        .iter()
        .map(|ks| ks.first().map(|k| uf.find(ids[k.as_str()])))
        .collect();
    // Each actor's data systems: bit 0 bonus, bit 1 customer data.
    let mut hits: HashMap<usize, u8> = HashMap::new();
    for (n, &i) in stretch.iter().enumerate() {
        if let Some(r) = actor[n] {
            *hits.entry(r).or_default() |= data_bit(a.targets[i]);
        }
    }
    // The bonus side: actors that hit the bonus system (reading customer data or not);
    // the other: actors that hit customer data alone.
    let side_of = |h: u8| usize::from(h & 1 == 0);
    if !hits.values().any(|&h| h & 1 != 0) {
        return whole();
    }
    let both = hits.values().any(|&h| h == 3);
    let cd_actors = hits.values().any(|&h| h == 2);
    // Each actor's span; the two sides' spans are those of their actors, and the bonus
    // side's holds its system's events that carry no identifier.
    let mut spans: BTreeMap<usize, (i64, i64)> = BTreeMap::new();
    let mut span = [(i64::MAX, i64::MIN); 2];
    let widen = |g: &mut (i64, i64), s: (i64, i64)| *g = (g.0.min(s.0), g.1.max(s.1));
    for (n, &i) in stretch.iter().enumerate() {
        let ts = a.ing.events[i].ts;
        match actor[n] {
            Some(r) => widen(spans.entry(r).or_insert((ts, ts)), (ts, ts)),
            None if data_bit(a.targets[i]) == 1 => widen(&mut span[0], (ts, ts)),
            None => {}
        }
    }
    for (r, s) in spans.iter().filter(|(r, _)| hits[*r] != 0) {
        widen(&mut span[side_of(hits[r])], *s);
    }
    // When an actor of the bonus side read customer data too, or no actor read it alone,
    // nobody's statements that read customer data while the bonus side ran are taken for
    // its reads; those before or after it are the other side's.
    let strict = both || !cd_actors;
    let bonus_time = span[0];
    let cd_side = |ts: i64| usize::from(!(strict && bonus_time.0 <= ts && ts <= bonus_time.1));
    // Customer-data events of nobody's.
    let nobodys: Vec<usize> = stretch
        .iter()
        .enumerate()
        .filter(|&(n, &i)| actor[n].is_none() && data_bit(a.targets[i]) == 2)
        .map(|(_, &i)| i)
        .collect();
    let mut dump = false;
    for &i in &nobodys {
        let e = &a.ing.events[i];
        let whole_table = e.sql.as_ref().is_some_and(|q| q.whole_table_read);
        if cd_side(e.ts) == 0 {
            // A dump while the bonus side ran: the other attack had begun by then.
            if strict && whole_table {
                return whole();
            }
            continue;
        }
        widen(&mut span[1], (e.ts, e.ts));
        dump |= whole_table;
    }
    // Nobody's customer-data statements alone make a side only as a dump: a selective
    // read after a sign-in is the same attack looking at what it took.
    if span[1].0 > span[1].1 || (!cd_actors && !dump) {
        return whole();
    }
    // Where the sides run at once, a side of nobody's dumps does not stand apart; and
    // when the bonus side read customer data too, whose reads are whose is in the
    // evidence only when every customer-data read of that time has an actor.
    let both_ran = (span[0].0.max(span[1].0), span[0].1.min(span[1].1));
    if both_ran.0 <= both_ran.1
        && (!cd_actors
            || both
                && nobodys
                    .iter()
                    .any(|&i| (both_ran.0..=both_ran.1).contains(&a.ing.events[i].ts)))
    {
        return whole();
    }
    // Actors of neither system (sign-ins, a send from elsewhere) go with the side they
    // overlap most in time, or the nearer one: the overlap, negative as a distance.
    let fit = |s: (i64, i64), g: (i64, i64)| s.1.min(g.1) - s.0.max(g.0);
    let side_of_span = |s: (i64, i64)| -> usize { usize::from(fit(s, span[1]) > fit(s, span[0])) };
    // A side of nobody's dumps does not stand apart when an actor of neither ran
    // through both.
    if !cd_actors
        && spans
            .iter()
            .any(|(r, &s)| hits[r] == 0 && fit(s, span[0]) >= 0 && fit(s, span[1]) >= 0)
    {
        return whole();
    }
    let mut sides: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    for (n, &i) in stretch.iter().enumerate() {
        let side = match actor[n] {
            Some(r) if hits[&r] != 0 => side_of(hits[&r]),
            Some(r) => side_of_span(spans[&r]),
            // Nobody's: by its own system, else by time.
            None => match data_bit(a.targets[i]) {
                1 => 0,
                2 => cd_side(a.ing.events[i].ts),
                _ => side_of_span((a.ing.events[i].ts, a.ing.events[i].ts)),
            },
        };
        sides[side].push(i);
    }
    let [mut x, mut y] = sides;
    if a.ing.events[y[0]].ts < a.ing.events[x[0]].ts {
        std::mem::swap(&mut x, &mut y);
    }
    vec![x, y]
}

fn data_bit(t: Option<Target>) -> u8 {
    match t {
        Some(Target::Bonus) => 1,
        Some(Target::CustomerData) => 2,
        _ => 0,
    }
}

/// Push record → the event that sent its message.
fn push_origins(a: &Analysis) -> HashMap<usize, usize> {
    let mut m = HashMap::new();
    for msg in a.messages.iter().filter(|m| m.malicious) {
        if let Some(o) = msg.origin {
            for &i in &msg.events {
                m.insert(i, o);
            }
        }
    }
    m
}

/// The attacker identifiers an event carries, or those of the request it came from.
fn keys_of(a: &Analysis, l: &Links, sent_by: &HashMap<usize, usize>, i: usize) -> Vec<String> {
    let ev = &a.ing.events;
    let e = &ev[i];
    match e.kind() {
        SourceKind::Gateway => request_keys(e),
        SourceKind::Db if a.attr[i].as_ref().is_some_and(|x| x.direct_db) => {
            let host = e.db_host.as_deref().map(|h| format!("ip:{h}"));
            let user = e.db_user.as_deref().map(|u| format!("db:{u}"));
            host.into_iter().chain(user).collect()
        }
        SourceKind::Db => l
            .origin(i)
            .map(|g| request_keys(&ev[g]))
            .unwrap_or_default(),
        SourceKind::Push => match sent_by.get(&i) {
            Some(&o) if ev[o].kind() != SourceKind::Push => keys_of(a, l, sent_by, o),
            _ => Vec::new(),
        },
    }
}

fn request_keys(e: &Event) -> Vec<String> {
    [
        ("ip", &e.client_ip),
        ("principal", &e.principal),
        ("token", &e.token_id),
        ("session", &e.session_id),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().map(|v| format!("{k}:{v}")))
    .collect()
}

/// Disjoint sets over `0..n`.
struct UnionFind(Vec<usize>);

impl UnionFind {
    fn new(n: usize) -> UnionFind {
        UnionFind((0..n).collect())
    }
    fn find(&mut self, mut x: usize) -> usize {
        while self.0[x] != x {
            self.0[x] = self.0[self.0[x]];
            x = self.0[x];
        }
        x
    }
    fn union(&mut self, x: usize, y: usize) {
        let (x, y) = (self.find(x), self.find(y));
        // The smaller root wins: the result does not depend on the order of unions.
        let (lo, hi) = (x.min(y), x.max(y));
        self.0[hi] = lo;
    }
}
