//! Attribution and waves: attacker entities from the detectors spread along the links
//! (address → its requests → their statements by request id; direct DB sessions; tokens);
//! attacker events are grouped into waves by time gap; indicators and principals' places
//! are summarized.

use super::enrich::Links;
use super::{Analysis, Attribution, Ioc, PrincipalPlaces, Wave};
use crate::model::SourceKind;
use crate::profile::Profile;
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use std::collections::{BTreeMap, BTreeSet};

/// Marks attacker events with their reasons. Flagged addresses that only probed
/// (`probing`) are left out and noted; `gap` is the wave gap.
pub fn spread(a: &mut Analysis, l: &Links, p: &Profile, gap: i64) {
    let n = a.ing.events.len();
    let mut attr: Vec<Option<Attribution>> = vec![None; n];
    let mut ip_why: BTreeMap<String, BTreeSet<&'static str>> = BTreeMap::new();
    let mut sessions: HashSet<String> = HashSet::new();
    for f in &a.findings {
        for ip in &f.seed_ips {
            ip_why.entry(ip.clone()).or_default().insert(f.technique);
        }
        sessions.extend(f.seed_sessions.iter().cloned());
    }
    let seeds: BTreeSet<&str> = ip_why.keys().map(String::as_str).collect();
    let mut shared = super::shared::find(a, l, p, &seeds, gap);
    let probers = super::probing::probers(a, l, &seeds, gap, &shared);
    for (ip, ..) in &probers {
        ip_why.remove(ip);
        shared.remove(ip);
    }
    let mut spared = 0usize;
    let ev = &a.ing.events;
    let reason_ip = |ip: &str| {
        format!(
            "address {ip} flagged for {}",
            ip_why
                .get(ip)
                .map(|s| s.iter().copied().collect::<Vec<_>>().join(", "))
                .unwrap_or_default()
        )
    };
    // Gateway: attacker addresses; their tokens.
    let mut tokens: HashSet<String> = HashSet::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() == SourceKind::Gateway {
            if let Some(ip) = e.client_ip.as_deref().filter(|ip| ip_why.contains_key(*ip)) {
                let reason = match shared.get(ip) {
                    Some(s) if !s.covers(e) => {
                        spared += 1;
                        continue;
                    }
                    Some(_) => format!("{}, in its flagged hours (shared)", reason_ip(ip)),
                    None => reason_ip(ip),
                };
                attr[i] = Some(Attribution {
                    reason,
                    wave: 0,
                    direct_db: false,
                });
                if let Some(t) = &e.token_id {
                    tokens.insert(t.to_string());
                }
            }
        }
    }
    for (i, e) in ev.iter().enumerate() {
        if attr[i].is_none() && e.kind() == SourceKind::Gateway {
            if let Some(t) = e.token_id.as_ref().filter(|t| tokens.contains(t.as_str())) {
                attr[i] = Some(Attribution {
                    reason: format!("token {t} used from an attacker address"),
                    wave: 0,
                    direct_db: false,
                });
            }
        }
    }
    // DB: statements of attacker requests; direct sessions from attacker hosts. Counted
    // on the way: records that name nobody (`Links::anonymous`).
    let mut anonymous = 0usize;
    // Per request of a shared address: its statements, and those that were a regular's
    // own.
    let mut own: HashMap<usize, (usize, usize)> = HashMap::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() != SourceKind::Db {
            continue;
        }
        anonymous += Links::anonymous(e) as usize;
        if let Some(g) = l.origin(i) {
            if attr[g].is_none() {
                continue;
            }
            let at = ev[g].client_ip.as_deref().and_then(|ip| shared.get(ip));
            let regular = at.is_some_and(|s| s.regulars_own(e));
            if at.is_some() {
                let n = own.entry(g).or_default();
                n.0 += 1;
                n.1 += usize::from(regular);
            }
            if regular {
                spared += 1;
            } else {
                let ms = (e.ts - ev[g].ts) / 1000;
                let how = match &e.request_id {
                    Some(r) => format!("request id {r}"),
                    None if l.timed.contains(&i) => format!("timing alone, {ms} ms after"),
                    None if l.paged.contains(&i) => format!("the page it asked for, {ms} ms after"),
                    None => format!("same account, {ms} ms after"),
                };
                attr[i] = Some(Attribution {
                    reason: format!(
                        "statement of attacker request ({how}) from {}",
                        ev[g].client_ip.as_deref().unwrap_or("?")
                    ),
                    wave: 0,
                    direct_db: false,
                });
            }
            continue;
        }
        // A session is the attacker's own only when it is not the application's pool.
        let direct = !l.is_app_db(e);
        if let Some(h) = e.db_host.as_deref().filter(|h| ip_why.contains_key(*h)) {
            attr[i] = Some(Attribution {
                reason: format!("direct DB session from {}", reason_ip(h)),
                wave: 0,
                direct_db: true,
            });
            if let Some(s) = &e.session_id {
                sessions.insert(s.to_string());
            }
        } else if direct
            && e.session_id
                .as_ref()
                .is_some_and(|s| sessions.contains(s.as_str()))
        {
            attr[i] = Some(Attribution {
                reason: format!(
                    "DB session {} flagged",
                    e.session_id.as_deref().unwrap_or("")
                ),
                wave: 0,
                direct_db: true,
            });
        }
    }
    // A request of a shared address in its flagged hours whose statements were all a
    // regular's own is that customer's too (their profile read while the attack ran).
    for (g, (n, mine)) in own {
        if n == mine {
            attr[g] = None;
            spared += 1;
        }
    }
    // A finding no address stands behind (a statement of the application's pool that no
    // request explains, as with database evidence alone): its own statements are the
    // attacker's, and nothing else of the pooled session, which serves everyone.
    let mut unexplained = 0;
    for f in a
        .findings
        .iter()
        .filter(|f| f.seed_ips.is_empty() && !f.seed_sessions.is_empty())
    {
        for &i in &f.events {
            if attr[i].is_none() && ev[i].kind() == SourceKind::Db {
                unexplained += 1;
                attr[i] = Some(Attribution {
                    reason: format!(
                        "statement flagged for {} ({}); no request ties it to an address",
                        f.technique, f.subject
                    ),
                    wave: 0,
                    direct_db: false,
                });
            }
        }
    }
    a.attr = attr;
    if anonymous > 0 {
        a.notes.push(format!(
            "{anonymous} database records name neither a user nor a client host (a log line \
             prefix without them, and no connection line for their session in the \
             evidence): they are read as the application's pooled connections, so a direct \
             session among them counts as the attacker's only in the statements a detector \
             flagged."
        ));
    }
    if unexplained > 0 {
        a.notes.push(format!(
            "{unexplained} statements of the application's pooled connections were flagged by \
             a detector but tied to no request (no gateway evidence, or none that explains \
             them): they count as the attacker's. Other statements of the same attacker that \
             no detector flagged (bonus changes below the anomaly limits, reads and exports \
             through the application) cannot be told from the application's own, so impacts from them are a lower \
             bound."
        ));
    }
    if !probers.is_empty() {
        a.notes.push(super::probing::note(&probers));
    }
    if !shared.is_empty() {
        a.notes.push(super::shared::note(&shared, spared));
    }
}

/// Groups attacker events into waves and numbers them: stretches without a pause longer
/// than `gap`, each parted further by actor and target where the evidence shows two
/// attacks in one stretch (`actors`).
pub fn waves(a: &mut Analysis, l: &Links, gap: i64) {
    let mut stretches: Vec<Vec<usize>> = Vec::new();
    let mut last = i64::MIN;
    for i in (0..a.ing.events.len()).filter(|&i| a.attr[i].is_some()) {
        let ts = a.ing.events[i].ts;
        match stretches.last_mut() {
            Some(s) if ts - last <= gap => s.push(i),
            _ => stretches.push(vec![i]),
        }
        last = ts;
    }
    let groups: Vec<Vec<usize>> = stretches
        .iter()
        .flat_map(|s| super::actors::split(a, l, s))
        .collect();
    let mut waves: Vec<Wave> = Vec::with_capacity(groups.len());
    for g in groups {
        let id = waves.len() as u32 + 1;
        let mut w = Wave {
            id,
            start: a.ing.events[g[0]].ts,
            end: a.ing.events[g[0]].ts,
            ..Default::default()
        };
        for i in g {
            fill(&mut w, a, i);
            if let Some(x) = a.attr[i].as_mut() {
                x.wave = id;
            }
        }
        waves.push(w);
    }
    for f in &a.findings {
        for &i in &f.events {
            if let Some(x) = &a.attr[i] {
                if let Some(w) = waves.get_mut(x.wave as usize - 1) {
                    w.techniques.insert(f.technique);
                }
            }
        }
    }
    a.waves = waves;
}

/// Adds attacker event `i` to wave `w`'s counts, systems, addresses and principals.
fn fill(w: &mut Wave, a: &Analysis, i: usize) {
    let e = &a.ing.events[i];
    w.end = w.end.max(e.ts);
    w.events += 1;
    *w.per_source.entry(e.kind().as_str()).or_default() += 1;
    if let Some(t) = a.targets[i] {
        w.targets.insert(t);
        *w.per_target.entry(t.as_str()).or_default() += 1;
    }
    match e.kind() {
        SourceKind::Gateway => {
            if let Some(ip) = &e.client_ip {
                w.attacker_ips.insert(ip.to_string());
            }
            if let Some(p) = &e.principal {
                w.principals.insert(p.to_string());
            }
        }
        SourceKind::Db if a.attr[i].as_ref().is_some_and(|x| x.direct_db) => {
            if let Some(h) = &e.db_host {
                w.attacker_ips.insert(h.to_string());
            }
            if let Some(u) = &e.db_user {
                w.principals.insert(format!("db:{u}"));
            }
        }
        _ => {}
    }
}

/// Fills what needs impacts and messages: affected counts, malicious messages.
pub fn finish_waves(a: &mut Analysis) {
    for m in a.messages.iter_mut().filter(|m| m.malicious) {
        m.wave = m
            .origin
            .or(m.events.first().copied())
            .and_then(|i| a.attr[i].as_ref())
            .map(|x| x.wave);
    }
    // A message belongs to the wave that made it and to every wave its sends fall in (a
    // send scheduled a day later is a wave of its own, of that message).
    let mut sent_in: BTreeSet<(u32, &str)> = BTreeSet::new();
    for m in a.messages.iter().filter(|m| m.malicious) {
        for &i in &m.events {
            if let Some(x) = &a.attr[i] {
                sent_in.insert((x.wave, m.id.as_str()));
            }
        }
    }
    for w in a.waves.iter_mut() {
        w.accounts_affected = a
            .affected
            .values()
            .filter(|x| x.waves.contains(&w.id))
            .count();
        w.messages = a
            .messages
            .iter()
            .filter(|m| {
                m.malicious && (m.wave == Some(w.id) || sent_in.contains(&(w.id, m.id.as_str())))
            })
            .map(|m| m.id.clone())
            .collect();
        if !w.messages.is_empty() {
            w.techniques.insert(super::technique::MALICIOUS_PUSH);
        }
    }
}

/// Accounts (signed in, or named by the request), and addresses, outside the attack that
/// must send a user agent before it is the application's own client rather than an
/// indicator.
const COMMON_AGENT: usize = 10;

/// Indicators of compromise from attacker events, and a note per attacker user agent
/// left out because customers' own devices send it (an attacker replaying stolen
/// sessions under the app's agent): blocking it would block them.
pub fn iocs(a: &Analysis) -> (Vec<Ioc>, Vec<String>) {
    let mut m: BTreeMap<(&'static str, String), Ioc> = BTreeMap::new();
    let mut add = |kind: &'static str, v: &str, ts: i64, wave: u32| {
        let x = m.entry((kind, v.to_string())).or_insert_with(|| Ioc {
            kind,
            value: v.to_string(),
            first: ts,
            last: ts,
            waves: BTreeSet::new(),
            events: 0,
        });
        x.first = x.first.min(ts);
        x.last = x.last.max(ts);
        x.waves.insert(wave);
        x.events += 1;
    };
    for (i, e) in a.ing.events.iter().enumerate() {
        let Some(at) = &a.attr[i] else { continue };
        match e.kind() {
            SourceKind::Gateway => {
                if let Some(v) = &e.client_ip {
                    add("ip", v, e.ts, at.wave);
                }
                if let Some(v) = &e.user_agent {
                    add("user_agent", v, e.ts, at.wave);
                }
                if let Some(v) = &e.principal {
                    add("principal", v, e.ts, at.wave);
                }
                if let Some(v) = &e.token_id {
                    add("token", v, e.ts, at.wave);
                }
            }
            SourceKind::Db if at.direct_db => {
                if let Some(v) = &e.db_host {
                    add("ip", v, e.ts, at.wave);
                }
                if let Some(v) = &e.db_user {
                    add("db_user", v, e.ts, at.wave);
                }
            }
            _ => {}
        }
    }
    // Who else sends the attacker's agents: signed-in accounts and addresses.
    let mut others: BTreeMap<String, (HashSet<&str>, HashSet<&str>)> = m
        .keys()
        .filter(|(kind, _)| *kind == "user_agent")
        .map(|(_, v)| (v.clone(), (HashSet::new(), HashSet::new())))
        .collect();
    for (i, e) in a.ing.events.iter().enumerate() {
        if a.attr[i].is_some() || e.kind() != SourceKind::Gateway {
            continue;
        }
        // The signed-in account, or where the gateway names none (Envoy, nginx
        // `combined`), the account its path or query names.
        let who = e.user.as_deref().or(e.account_id.as_deref());
        let (Some(ua), Some(u)) = (e.user_agent.as_deref(), who) else {
            continue;
        };
        if let Some((users, ips)) = others.get_mut(ua) {
            users.insert(u);
            if let Some(ip) = e.client_ip.as_deref() {
                ips.insert(ip);
            }
        }
    }
    let mut notes = Vec::new();
    for (ua, (users, ips)) in others {
        if users.len() >= COMMON_AGENT && ips.len() >= COMMON_AGENT {
            m.remove(&("user_agent", ua.clone()));
            notes.push(format!(
                "The attacker's user agent \"{}\" is not listed among the indicators: {} \
                 customers' accounts send it from {} addresses outside the attack (the \
                 application's own client), so blocking it would block them.",
                crate::sanitize::shorten(&ua, 120),
                users.len(),
                ips.len()
            ));
        }
    }
    (m.into_values().collect(), notes)
}

/// Principals and the places they acted from.
pub fn principal_places(a: &Analysis, l: &Links, p: &Profile) -> Vec<PrincipalPlaces> {
    let mut att: HashMap<&str, usize> = HashMap::new();
    for (i, e) in a.ing.events.iter().enumerate() {
        if let (Some(pr), Some(_)) = (&e.principal, &a.attr[i]) {
            *att.entry(pr.as_str()).or_default() += 1;
        }
    }
    l.places
        .iter()
        .map(|(pr, m)| PrincipalPlaces {
            principal: pr.to_string(),
            places: m
                .iter()
                .map(|(ip, x)| {
                    let usual = l.usual_place(pr, ip, p);
                    (ip.to_string(), x.first, x.last, x.events, usual)
                })
                .collect(),
            attacker_events: att.get(pr.as_str()).copied().unwrap_or(0),
        })
        .collect()
}
