//! Detectors. Each returns findings that explain themselves (rule, numbers, evidence
//! events) and name the entities they make attacker entities. Legitimate look-alikes
//! (a user who mistypes a password, office staff at work, the nightly job, a marketing
//! broadcast) are kept out by rates, baselines and known-good sources, not by names.
//! Credential stuffing has files of its own: `stuffing` per address, `spray` over a pool.

use super::enrich::Links;
use super::technique as t;
use super::{Analysis, Finding};
use crate::model::{owned, Event, Outcome, SourceKind, StmtClass};
use crate::profile::{Profile, Target};
use foldhash::{HashMap, HashMapExt};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// Runs every detector.
///
/// The detectors only read the analysis, so they run side by side; their findings are
/// concatenated in this fixed order, whatever order the threads finish in.
pub fn run(a: &Analysis, l: &Links, p: &Profile) -> Vec<Finding> {
    // The customer accounts two detectors ask about, and the gateway files that name
    // who is signed in, gathered once.
    let (customers, names) = rayon::join(
        || super::idor::Customers::new(a),
        || super::idor::identity_files(a),
    );
    let names = names.as_deref();
    let detectors: [&(dyn Fn() -> Vec<Finding> + Sync); 12] = [
        &|| super::stuffing::stuffing(a, l, p),
        &|| enumeration(a, l, p),
        &|| super::idor::idor(a, l, p, &customers),
        &|| super::idor::idor_by_sign_in(a, l, p, names),
        &|| super::hijack::hijack(a, l, p, &customers, names),
        &|| super::injection::injection(a, l),
        &|| bonus(a, l, p),
        &|| bulk_export(a, l, p),
        &|| super::masswrite::unnamed_balance_writes(a, l, p),
        &|| super::places::new_place(a, l, p),
        &|| super::dbplaces::new_db_host(a, l, p),
        &|| super::tamper::log_tampering(a, l, p),
    ];
    let found: Vec<Vec<Finding>> = detectors.par_iter().map(|d| d()).collect();
    let mut found = found.concat();
    // The accounts an address IDOR flagged names are its victims, read through its own
    // session, not sessions it replayed (on a gateway that logs no identity they look
    // alike).
    let idor: BTreeSet<String> = (found.iter())
        .filter(|f| f.technique == t::IDOR)
        .flat_map(|f| f.seed_ips.iter().cloned())
        .collect();
    found.retain(|f| f.technique != t::SESSION_HIJACK || !idor.contains(&f.subject));
    // Staff places no identity names count only beside what the others found.
    let unnamed = super::places::corroborated(a, l, p, &found);
    found.extend(unnamed);
    found
}

pub(super) fn path_of(e: &Event) -> &str {
    e.route.as_deref().or(e.path.as_deref()).unwrap_or("")
}

/// Whether a statement touches a customer-data table.
pub(super) fn customer_table(e: &Event, p: &Profile) -> bool {
    e.sql.as_ref().is_some_and(|f| {
        f.tables
            .iter()
            .any(|t| p.table_target(t) == Some(Target::CustomerData))
    })
}

/// Whether a request went to an export route (its template or its path).
pub(super) fn export_request(e: &Event, p: &Profile) -> bool {
    [&e.route, &e.path]
        .into_iter()
        .flatten()
        .any(|x| p.is_export_route(x))
}

/// The request behind an event: itself, or the one that issued the statement.
pub(super) fn request_behind(ev: &[Box<Event>], l: &Links, i: usize) -> usize {
    match ev[i].kind() {
        SourceKind::Db => l.origin(i).unwrap_or(i),
        _ => i,
    }
}

/// An hour and a day, µs.
pub(super) const HOUR: i64 = 3_600_000_000;
pub(super) const DAY: i64 = 86_400_000_000;

/// The median gap between consecutive times (`sorted`): the pace of a run of requests.
/// None for fewer than two.
pub(super) fn median_gap(sorted: &[i64]) -> Option<i64> {
    let mut gaps: Vec<i64> = sorted.windows(2).map(|w| w[1] - w[0]).collect();
    let mid = gaps.len() / 2;
    (!gaps.is_empty()).then(|| *gaps.select_nth_unstable(mid).1)
}

/// The actor behind a statement no gateway request explains: its client host when the
/// session is direct (an address), else its session — a statement of the application's
/// pool stands for its session, whose flagged statements alone are the attacker's.
pub(super) fn db_actor(e: &Event, l: &Links) -> Option<(String, bool)> {
    match (&e.db_host, &e.session_id) {
        (Some(h), _) if !l.is_app_db(e) => Some((h.to_string(), true)),
        (_, Some(s)) => Some((format!("session {s}"), false)),
        _ => None,
    }
}

/// A finding whose actor is an address (`is_ip`) or a session; a session's statements
/// name the sessions it seeds.
pub(super) fn actor_finding(
    technique: &'static str,
    actor: String,
    is_ip: bool,
    explanation: String,
    events: Vec<usize>,
    ev: &[Box<Event>],
) -> Finding {
    let (seed_ips, seed_sessions) = if is_ip {
        (vec![actor.clone()], vec![])
    } else {
        let sessions = events
            .iter()
            .filter_map(|&i| ev[i].session_id.as_deref().map(str::to_string))
            .collect();
        (vec![], sessions)
    };
    Finding {
        technique,
        subject: actor,
        explanation,
        events,
        seed_ips,
        seed_contexts: vec![],
        seed_sessions,
        shared_ips: vec![],
    }
}

/// Enumeration: one actor reading many distinct accounts on customer or bonus routes
/// within an hour (staff looking customers up during a day stay below the rate). Reads
/// only: requests that change state (a script of the staff's crediting goodwill points
/// account by account) harvest nothing, and outlying changes have detectors of their own.
///
/// A gateway that logs route templates only (API Gateway's CLF and CSV presets) names no
/// account a request read; the statements a request issued do, and stand for it.
pub fn enumeration(a: &Analysis, l: &Links, p: &Profile) -> Vec<Finding> {
    let ev = &a.ing.events;
    let read = |i: usize| {
        let e = &ev[i];
        e.account_id.is_some()
            && e.account_id != e.user
            && matches!(a.targets[i], Some(Target::CustomerData | Target::Bonus))
            && e.method.as_deref().is_none_or(super::enrich::is_safe)
    };
    // A request that only reads: a safe method, or one whose statements (by its request
    // id) are all reads — a GraphQL query is a POST.
    let reads_only = |g: usize| {
        let r = &ev[g];
        r.method.as_deref().is_none_or(super::enrich::is_safe)
            || (r.request_id.as_ref())
                .and_then(|id| l.db_by_req.get(id))
                .is_some_and(|s| s.iter().all(|&k| ev[k].stmt_class == Some(StmtClass::Read)))
    };
    let mut by_actor: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    // The same reads by the principal that made them, whatever address it came from.
    let mut by_principal: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in ev.iter().enumerate() {
        let req = match e.kind() {
            SourceKind::Gateway if read(i) => i,
            // A read statement of a request that only read and named no account itself.
            SourceKind::Db if e.stmt_class == Some(StmtClass::Read) && read(i) => {
                match stands_for(ev, l, i).filter(|&g| ev[g].user.as_ref() != e.account_id.as_ref())
                {
                    Some(g) if reads_only(g) => g,
                    _ => continue,
                }
            }
            _ => continue,
        };
        let Some(ip) = &ev[req].client_ip else {
            continue;
        };
        by_actor.entry(ip).or_default().push(i);
        // Its usual places are its own work, whoever else used the login.
        if let Some(pr) = ev[req]
            .principal
            .as_deref()
            .filter(|pr| !l.usual_place(pr, ip, p))
        {
            by_principal.entry(pr).or_default().push(i);
        }
    }
    // Statements follow their requests by a clock's correction: in time order again.
    for idx in by_actor.values_mut().chain(by_principal.values_mut()) {
        idx.sort_by_key(|&i| (ev[i].ts, i));
    }
    let need = p.thresholds.enumeration_accounts as usize;
    let mut out = Vec::new();
    for (ip, idx) in by_actor {
        // An address that reads this many accounts on two other days too does so as a
        // matter of course (a partner integration, a support desk behind one address);
        // the attacker's harvest is the day that stands out.
        let Some((count, lo, hi)) = standout_hour(ev, &idx, need, account) else {
            continue;
        };
        let evs: Vec<usize> = idx[lo..=hi].to_vec();
        // The request behind each read: itself, or the one that issued the statement.
        let who: BTreeSet<String> = evs
            .iter()
            .filter_map(|&i| {
                ev[request_behind(ev, l, i)]
                    .principal
                    .as_deref()
                    .map(str::to_string)
            })
            .collect();
        out.push(Finding {
            technique: t::ENUMERATION,
            subject: ip.to_string(),
            explanation: format!(
                "enumeration: {count} distinct accounts read from {ip} within one hour{}{} (threshold {need})",
                if who.is_empty() { String::new() } else { format!(" as {}", who.into_iter().collect::<Vec<_>>().join(", ")) },
                named_by(ev, l, &evs)
            ),
            events: evs,
            seed_ips: vec![ip.to_string()],
            seed_contexts: vec![],
            seed_sessions: vec![],
            shared_ips: vec![],
        });
    }
    out.extend(rotated(ev, l, &by_principal, need));
    out
}

/// Enumeration by one principal spread over addresses (a stolen staff login behind a
/// rotating proxy, each address reading a few accounts): the principal's standout hour
/// away from its usual places, where two or more addresses made its reads. Its (principal, address) pairs are the
/// attacker's, not the addresses whole: a residential proxy's exits carry others too.
fn rotated(
    ev: &[Box<Event>],
    l: &Links,
    by_principal: &BTreeMap<&str, Vec<usize>>,
    need: usize,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (&pr, idx) in by_principal {
        let Some((count, lo, hi)) = standout_hour(ev, idx, need, account) else {
            continue;
        };
        let evs: Vec<usize> = idx[lo..=hi].to_vec();
        let places: BTreeSet<&str> = (evs.iter())
            .filter_map(|&i| ev[request_behind(ev, l, i)].client_ip.as_deref())
            .collect();
        if places.len() < 2 {
            continue;
        }
        out.push(Finding {
            technique: t::ENUMERATION,
            subject: format!("{pr} from {} addresses", places.len()),
            explanation: format!(
                "enumeration: {count} distinct accounts read by {pr} within one hour from {} \
                 addresses ({}{}){} (threshold {need})",
                places.len(),
                places
                    .iter()
                    .take(5)
                    .copied()
                    .collect::<Vec<_>>()
                    .join(", "),
                if places.len() > 5 { ", …" } else { "" },
                named_by(ev, l, &evs)
            ),
            seed_contexts: places
                .iter()
                .map(|ip| (pr.to_string(), ip.to_string()))
                .collect(),
            events: evs,
            seed_ips: vec![],
            seed_sessions: vec![],
            shared_ips: vec![],
        });
    }
    out
}

/// The request a statement stands for: the one it came from, when that request names no
/// account itself (a gateway that logs route templates only), so that the account the
/// statement names is the request's.
pub(super) fn stands_for(ev: &[Box<Event>], l: &Links, i: usize) -> Option<usize> {
    let e = &ev[i];
    if e.kind() != SourceKind::Db || e.account_id.is_none() {
        return None;
    }
    l.origin(i).filter(|&g| ev[g].account_id.is_none())
}

/// How a finding's accounts were read, for its explanation: "" when every event is a
/// request naming its account, else that statements name them, and whether some of
/// those statements were tied to their requests by timing alone.
pub(super) fn named_by(ev: &[Box<Event>], l: &Links, idx: &[usize]) -> &'static str {
    let mut db = (idx.iter())
        .filter(|&&i| ev[i].kind() == SourceKind::Db)
        .peekable();
    if db.peek().is_none() {
        ""
    } else if db.any(|i| l.timed.contains(i)) {
        ", as the statements that followed its requests name them (tied by timing alone)"
    } else {
        ", as the statements its requests issued name them"
    }
}

/// The hour with the most distinct accounts (as `key` reads them) among the events `idx`
/// (in time order), when it reaches `need` (one at least) and the actor reaches `need`
/// within an hour on fewer than two other UTC days (what it does every day is its
/// routine): (count, first, last position in `idx`).
pub(super) fn standout_hour(
    ev: &[Box<Event>],
    idx: &[usize],
    need: usize,
    key: fn(&Event) -> Option<&str>,
) -> Option<(usize, usize, usize)> {
    let (best, lo, hi, busy_days) = densest_hour(ev, idx, need, key);
    if best == 0 || best < need {
        return None;
    }
    let peak_day = ev[idx[hi]].ts.div_euclid(DAY);
    let routine = busy_days.iter().filter(|&&d| d != peak_day).count() >= 2;
    (!routine).then_some((best, lo, hi))
}

/// The hour with the most distinct accounts (as `key` reads them) among the events `idx`
/// (in time order): (count, first, last position in `idx`), and the UTC days on which
/// some hour reached `need`.
fn densest_hour(
    ev: &[Box<Event>],
    idx: &[usize],
    need: usize,
    key: fn(&Event) -> Option<&str>,
) -> (usize, usize, usize, BTreeSet<i64>) {
    let mut best = (0usize, 0usize, 0usize);
    let mut busy: BTreeSet<i64> = BTreeSet::new();
    let mut counts: HashMap<&str, usize> = HashMap::new();
    let mut lo = 0;
    let acc = |i: usize| key(&ev[idx[i]]).unwrap_or("");
    for hi in 0..idx.len() {
        *counts.entry(acc(hi)).or_default() += 1;
        while ev[idx[hi]].ts - ev[idx[lo]].ts > HOUR {
            if let Some(c) = counts.get_mut(acc(lo)) {
                *c -= 1;
                if *c == 0 {
                    counts.remove(acc(lo));
                }
            }
            lo += 1;
        }
        if counts.len() >= need {
            busy.insert(ev[idx[hi]].ts.div_euclid(DAY));
        }
        if counts.len() > best.0 {
            best = (counts.len(), lo, hi);
        }
    }
    (best.0, best.1, best.2, busy)
}

/// The account a request or statement is about.
pub(super) fn account(e: &Event) -> Option<&str> {
    e.account_id.as_deref()
}

/// Bonus anomalies: changes far above the population's typical size, and transfers fanning
/// into one account from several others within an hour.
pub fn bonus(a: &Analysis, l: &Links, p: &Profile) -> Vec<Finding> {
    let ev = &a.ing.events;
    let ops = &a.bonus_ops;
    if ops.len() < 10 {
        return Vec::new();
    }
    let (median, limit) = super::refunds::outlier_limit(ops, p);
    // Sets whose earlier balance is unknown: odd where the application changes balances
    // by amounts; where it saves them outright (an ORM), odd when far above the balances
    // it sets.
    let set_limit = super::balances::app_sets(ev, ops).then(|| {
        let sets = (ops.iter()).filter_map(|(i, acc, ..)| super::balances::set_value(&ev[*i], acc));
        super::refunds::median_limit(sets, p)
    });
    let mut flagged: BTreeMap<usize, String> = BTreeMap::new();
    for (i, acc, d, abs) in ops {
        // A refund of an earlier outlying debit is not fraud by size (`refunds`).
        if a.restored.contains_key(i) {
            continue;
        }
        let why = match (abs, set_limit) {
            (false, _) if d.abs() > limit => format!(
                "{} {d:+} points on account {acc} (typical change {median}, limit {limit})",
                if super::balances::set_value(&ev[*i], acc).is_some() {
                    "balance set, a change of"
                } else {
                    "change"
                }
            ),
            (true, None) => format!(
                "balance set to {d} on account {acc}, where the application changes \
                 balances by amounts (typical change {median})"
            ),
            (true, Some((typical, lim))) if d.abs() > lim => format!(
                "balance set to {d} on account {acc} (typical balance set {typical}, limit {lim})"
            ),
            _ => continue,
        };
        flagged.insert(*i, why);
    }
    // Fan-in: credits into one account from several others in a burst the population's
    // transfers do not explain (`fanin`). Debits by operation: the other side of a transfer is the debit of the same request
    // (by its id, or, where statements carry none, the request both were linked to).
    let burst = super::operations::bursts(ev, l);
    let op = |i: usize| super::operations::op_of(ev, l, &burst, i);
    let mut debits: HashMap<super::operations::Op, Vec<(usize, &String)>> = HashMap::new();
    // A set of unknown effect is neither.
    for (i, acc, d, abs) in ops {
        if *d < 0 && !abs {
            debits.entry(op(*i)).or_default().push((*i, acc));
        }
    }
    let mut credits: BTreeMap<&str, Vec<super::fanin::Credit>> = BTreeMap::new();
    for (i, acc, d, abs) in ops {
        if *d > 0 && !abs {
            let src = debits
                .get(&op(*i))
                .and_then(|v| v.first())
                .filter(|x| x.1 != acc)
                .map(|x| x.1.clone());
            credits
                .entry(acc.as_str())
                .or_default()
                .push((ev[*i].ts, *i, src));
        }
    }
    let accounts = ops
        .iter()
        .map(|o| o.1.as_str())
        .collect::<BTreeSet<_>>()
        .len();
    let chance = p.thresholds.fan_in_chance;
    for (acc, found) in super::fanin::bursts(&credits, accounts, chance) {
        for b in &found {
            let why = b.describe(acc);
            for &x in &b.events {
                flagged.entry(x).or_insert_with(|| why.clone());
                // The debit side of the same operation.
                for (o, _) in debits.get(&op(x)).into_iter().flatten() {
                    flagged
                        .entry(*o)
                        .or_insert_with(|| format!("debit feeding the fan-in into account {acc}"));
                }
            }
        }
    }
    // Credits piling into one account within an hour (`velocity`), each perhaps of an
    // ordinary size; after the fan-in, whose reason is the more telling.
    let small: Vec<(usize, &str, i64)> = (ops.iter())
        .filter(|(i, _, d, abs)| *d > 0 && !abs && !a.restored.contains_key(i))
        .map(|(i, acc, d, _)| (*i, acc.as_str(), *d))
        .collect();
    for (acc, pile) in super::velocity::piles(ev, &small, limit) {
        let why = pile.describe(&acc);
        for x in pile.events {
            flagged.entry(x).or_insert_with(|| why.clone());
        }
    }
    let routine = scheduled(ev, ops, &flagged, l);
    // Group by the actor behind each change (gateway address, or direct DB identity).
    let mut by: BTreeMap<String, (Vec<usize>, Vec<String>, bool)> = BTreeMap::new();
    for (i, why) in flagged {
        if routine.contains(&i) {
            continue;
        }
        let e = &ev[i];
        let actor = match l.origin(i).and_then(|g| owned(&ev[g].client_ip)) {
            Some(ip) => Some((ip, true)),
            None => db_actor(e, l),
        };
        let Some((actor, is_ip)) = actor else {
            continue;
        };
        // Staff adjustments from a usual place are not fraud by size alone.
        if l.origin(i).is_some_and(|g| l.staff_at_work(&ev[g], p)) {
            continue;
        }
        let x = by.entry(actor).or_insert((Vec::new(), Vec::new(), is_ip));
        x.0.push(i);
        if x.1.len() < 3 {
            x.1.push(why);
        }
    }
    by.into_iter()
        .map(|(actor, (evs, whys, is_ip))| {
            let explanation = format!(
                "bonus anomalies by {actor}: {} changes, e.g. {}",
                evs.len(),
                whys.join("; ")
            );
            actor_finding(t::BONUS_FRAUD, actor, is_ip, explanation, evs, ev)
        })
        .collect()
}

/// Outlying changes no request explains that a database identity makes as a matter of
/// course: the same change (amount, or balance set to the same value) by the same user
/// and host on two other UTC days — a birthday bonus, a nightly expiry. The attacker's
/// changes vary and fall on the days of the attack.
fn scheduled(
    ev: &[Box<Event>],
    ops: &[(usize, String, i64, bool)],
    flagged: &BTreeMap<usize, String>,
    l: &Links,
) -> BTreeSet<usize> {
    type Key<'a> = (Option<&'a str>, Option<&'a str>, bool, i64);
    let mut days: BTreeMap<Key, BTreeSet<i64>> = BTreeMap::new();
    let mut keyed: Vec<(usize, Key, i64)> = Vec::new();
    for (i, _, d, abs) in ops {
        if !flagged.contains_key(i) || l.origin(*i).is_some() {
            continue;
        }
        let e = &ev[*i];
        let k = (e.db_user.as_deref(), e.db_host.as_deref(), *abs, *d);
        let day = e.ts.div_euclid(DAY);
        days.entry(k).or_default().insert(day);
        keyed.push((*i, k, day));
    }
    keyed
        .into_iter()
        .filter(|(_, k, day)| days[k].iter().filter(|d| *d != day).count() >= 2)
        .map(|(i, ..)| i)
        .collect()
}

/// Whole-table reads or exports of customer data outside routine DB identities. A read
/// injected into the application's own statement (`… UNION SELECT … FROM customers`) is
/// one whoever's connection ran it: where no request id ties it to the request that
/// carried the payload, it is the connection's.
pub fn bulk_export(a: &Analysis, l: &Links, p: &Profile) -> Vec<Finding> {
    let ev = &a.ing.events;
    // actor → (events, whether an address, how many injected)
    let mut by: BTreeMap<String, (Vec<usize>, bool, usize)> = BTreeMap::new();
    // actor → (page reads, whether an address)
    let mut paged: BTreeMap<String, (Vec<usize>, bool)> = BTreeMap::new();
    let routine = routine_shapes(ev, l, p);
    for (i, e) in ev.iter().enumerate() {
        if super::pages::is_page(a, p, i) {
            if let Some((actor, is_ip)) = unroutine_actor(ev, l, p, i) {
                paged.entry(actor).or_insert((Vec::new(), is_ip)).0.push(i);
            }
            continue;
        }
        let whole = match e.kind() {
            SourceKind::Db => {
                // A write or DDL statement is a whole-table read only when it copies a
                // table into another (`CREATE TABLE … AS SELECT`).
                matches!(
                    e.stmt_class,
                    Some(StmtClass::Read | StmtClass::Write | StmtClass::Ddl)
                ) && e.sql.as_ref().is_some_and(|f| f.whole_table_read)
                    && customer_table(e, p)
                    && !(l.origin(i).is_some() && !injected(e) && routine.contains(&shape(e)))
            }
            SourceKind::Gateway => {
                a.targets[i] == Some(Target::CustomerData)
                    && e.outcome == Outcome::Success
                    && export_request(e, p)
            }
            SourceKind::Push => false,
        };
        if !whole {
            continue;
        }
        let Some((actor, is_ip)) = unroutine_actor(ev, l, p, i) else {
            continue;
        };
        let x = by.entry(actor).or_insert((Vec::new(), is_ip, 0));
        x.0.push(i);
        x.2 += injected(e) as usize;
    }
    // Pages that one actor made, within an hour, into a bulk of the table.
    // actor → (rows, distinct pages, pages of unknown size, page events)
    let mut harvests: BTreeMap<String, (u64, usize, usize, usize)> = BTreeMap::new();
    for (actor, (mut idx, is_ip)) in paged {
        idx.sort_by_key(|&i| (ev[i].ts, i));
        // Requests and statements apart: a request and the statement it issued are one
        // page seen twice.
        let pages: Vec<usize> = [SourceKind::Db, SourceKind::Gateway]
            .into_iter()
            .filter_map(|k| {
                let of: Vec<usize> = idx.iter().copied().filter(|&i| ev[i].kind() == k).collect();
                super::pages::harvest(ev, &of, p.thresholds.bulk_limit)
            })
            .flatten()
            .collect();
        if pages.is_empty() {
            continue;
        }
        let (rows, distinct, blind) = super::pages::pages_read(ev, &pages);
        harvests.insert(actor.clone(), (rows, distinct, blind, pages.len()));
        let x = by.entry(actor).or_insert((Vec::new(), is_ip, 0));
        x.0.extend(pages);
        x.0.sort_by_key(|&i| (ev[i].ts, i));
    }
    // A DB identity is routine when seen on two days: where the database evidence
    // reaches neither a day before nor a day after a read, a daily job could not have
    // been seen twice, and the finding says so.
    let db = super::coverage::span(a, SourceKind::Db);
    const DAY: i64 = 86_400_000_000;
    by.into_iter()
        .map(|(actor, (evs, is_ip, injected))| {
            let harvest = harvests.get(&actor);
            let what = match evs.len() - harvest.map_or(0, |h| h.3) {
                0 => String::new(),
                1 => "1 whole-table read or export".to_string(),
                n => format!("{n} whole-table reads or exports"),
            };
            let what = match harvest {
                Some(&(rows, pages, blind, _)) => {
                    format!(
                        "{}{pages} pages within an hour ({}: the table read page by page; \
                     threshold {} rows)",
                        if what.is_empty() {
                            String::new()
                        } else {
                            format!("{what} and ")
                        },
                        super::pages::told(rows, blind),
                        p.thresholds.bulk_limit
                    )
                }
                None => what,
            };
            const INJECTED: &str = "through SQL injected into the application's statements";
            let how = match injected {
                0 => "outside the routine jobs".to_string(),
                k if k == evs.len() => INJECTED.to_string(),
                k => format!("outside the routine jobs, {k} of them {INJECTED}"),
            };
            let mut explanation = format!("{what} of customer data by {actor}, {how}");
            let unseen = injected == 0
                && db.is_some_and(|(first, last)| {
                    evs.iter().all(|&i| {
                        let e = &ev[i];
                        e.kind() == SourceKind::Db
                            && l.origin(i).is_none()
                            && e.ts - DAY < first
                            && e.ts + DAY > last
                    })
                });
            if let (true, Some((first, last))) = (unseen, db) {
                explanation.push_str(&format!(
                    "; the database evidence ({} – {}) reaches neither a day before nor a day \
                     after them, so a daily job could not have been seen twice: confirm with \
                     its owner",
                    crate::timeparse::fmt_utc_s(first),
                    crate::timeparse::fmt_utc_s(last)
                ));
            }
            actor_finding(t::BULK_EXPORT, actor, is_ip, explanation, evs, ev)
        })
        .collect()
}

/// Fewest client addresses whose requests ran one whole-table read's shape for it to be
/// an endpoint's query.
const ROUTINE_CLIENTS: usize = 5;

/// A statement's shape (literals masked), or its text where it has none.
fn shape(e: &Event) -> String {
    let text = e.statement.as_deref().unwrap_or("");
    crate::sql::masked(text).unwrap_or_else(|| text.to_string())
}

/// The shapes of whole-table reads of customer data that requests of many client
/// addresses ran, none carrying a payload: what an endpoint of the application asks for
/// every user (a store's members, a city's leaderboard), not one client's dump.
fn routine_shapes(ev: &[Box<Event>], l: &Links, p: &Profile) -> BTreeSet<String> {
    let mut clients: BTreeMap<String, BTreeSet<&str>> = BTreeMap::new();
    for (i, e) in ev.iter().enumerate() {
        let whole = e.kind() == SourceKind::Db
            && e.stmt_class == Some(StmtClass::Read)
            && e.sql.as_ref().is_some_and(|f| f.whole_table_read);
        if !whole || injected(e) || !customer_table(e, p) {
            continue;
        }
        let Some(ip) = l.origin(i).and_then(|g| ev[g].client_ip.as_deref()) else {
            continue;
        };
        clients.entry(shape(e)).or_default().insert(ip);
    }
    (clients.into_iter())
        .filter(|(_, c)| c.len() >= ROUTINE_CLIENTS)
        .map(|(s, _)| s)
        .collect()
}

/// Who made a request, or ran a statement, that routine work might make: the address of
/// the request (itself, or the statement's), unless it is staff at work from their usual
/// place; else the statement's DB identity, unless a routine one (a statement carrying
/// an injection payload is never routine). `None` for routine work or no actor.
pub(super) fn unroutine_actor(
    ev: &[Box<Event>],
    l: &Links,
    p: &Profile,
    i: usize,
) -> Option<(String, bool)> {
    let e = &ev[i];
    let origin = if e.kind() == SourceKind::Gateway {
        Some(i)
    } else {
        l.origin(i)
    };
    match origin {
        Some(g) => {
            let g = &ev[g];
            if l.staff_at_work(g, p) {
                return None;
            }
            g.client_ip.as_ref().map(|ip| (ip.to_string(), true))
        }
        None => {
            if !injected(e) && l.routine_db(e.db_user.as_deref(), e.db_host.as_deref(), p) {
                return None;
            }
            db_actor(e, l)
        }
    }
}

/// Whether a statement carries an injection payload: not the server's own tools
/// (`COPY … TO PROGRAM` of a backup job, a DBA's catalog query), which a routine job
/// uses by design.
fn injected(e: &Event) -> bool {
    (e.sql.as_ref())
        .and_then(|f| f.injection.as_deref())
        .is_some_and(|m| !crate::sql::server_tool(m))
}
