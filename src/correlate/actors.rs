//! Parts attacker activity the wave gap could not part — waves closer together than the
//! gap, or running at once — by who acted and which system they hit.
//!
//! Within one stretch of activity without a pause, events are tied into actors by the
//! identifiers the attacker used: client addresses, staff principals, tokens and sessions
//! of the requests, the host and user of direct database sessions. A statement counts
//! under the request it came from, a push record under the request that sent its message.
//! When some actors hit only the bonus system and others only customer data, and no actor
//! hit both, they are separate waves. Push is no boundary: a send follows a theft, and a
//! wave hitting both data systems, or one actor doing so, stays one wave.

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
    if hits.values().any(|&h| h == 3)
        || !(hits.values().any(|&h| h == 1) && hits.values().any(|&h| h == 2))
    {
        return whole();
    }
    // Each actor's span; the two sides' spans are those of their actors.
    let mut spans: BTreeMap<usize, (i64, i64)> = BTreeMap::new();
    for (n, &i) in stretch.iter().enumerate() {
        if let Some(r) = actor[n] {
            let ts = a.ing.events[i].ts;
            let s = spans.entry(r).or_insert((ts, ts));
            *s = (s.0.min(ts), s.1.max(ts));
        }
    }
    let mut span = [(i64::MAX, i64::MIN); 2];
    for (r, s) in spans.iter().filter(|(r, _)| hits[*r] != 0) {
        let g = &mut span[hits[r] as usize - 1];
        *g = (g.0.min(s.0), g.1.max(s.1));
    }
    // Actors of neither system (sign-ins, a send from elsewhere) go with the side they
    // overlap most in time, or the nearer one: the overlap, negative as a distance.
    let side_of_span = |s: (i64, i64)| -> usize {
        let fit = |g: (i64, i64)| s.1.min(g.1) - s.0.max(g.0);
        usize::from(fit(span[1]) > fit(span[0]))
    };
    let mut sides: [Vec<usize>; 2] = [Vec::new(), Vec::new()];
    for (n, &i) in stretch.iter().enumerate() {
        let side = match actor[n] {
            Some(r) if hits[&r] != 0 => hits[&r] as usize - 1,
            Some(r) => side_of_span(spans[&r]),
            // Nobody's: by its own system, else by time.
            None => match data_bit(a.targets[i]) {
                b @ (1 | 2) => b as usize - 1,
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
