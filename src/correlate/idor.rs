//! Insecure direct object reference: one signed-in customer reaching many other
//! customers' accounts through routes that name them (`/accounts/{id}/bonus`), which an
//! application that checked ownership would have refused. Below the enumeration
//! detector's rate, an attacker's own account walking ids is still the attacker.
//! Where the gateway logs no identity, the signed-in customer is the client that signed
//! in (`idor_by_sign_in`).

use super::detect::{
    account, actor_finding, named_by, path_of, request_behind, standout_hour, stands_for, DAY, HOUR,
};
use super::enrich::Links;
use super::technique as t;
use super::{Analysis, Finding};
use crate::model::{Event, Outcome, SourceKind, StmtClass};
use crate::profile::{Profile, Target};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

/// Whether a request is a signed-in customer's answered request about another account on
/// a customer-data or bonus route.
fn foreign(e: &Event, target: Option<Target>, p: &Profile) -> bool {
    e.kind() == SourceKind::Gateway
        && matches!(target, Some(Target::CustomerData | Target::Bonus))
        && e.principal.is_none()
        && e.outcome == Outcome::Success
        && e.user.is_some()
        && e.account_id.is_some()
        && e.account_id != e.user
        && !p.is_staff_route(super::detect::path_of(e))
}

/// The signed-in customer whose request, through a route that names no other account
/// (`POST /graphql`, `/rpc`, gRPC's `/loyalty.v1.CustomerService/GetProfile`), issued
/// statement `i` about another customer's account or bonus: the request reached that
/// account. Only a statement carrying its request's id counts: one tied by timing may
/// be a neighbour's.
fn foreign_through<'e>(a: &'e Analysis, l: &Links, p: &Profile, i: usize) -> Option<&'e str> {
    let ev = &a.ing.events;
    let e = &ev[i];
    if e.kind() != SourceKind::Db || e.request_id.is_none() || l.timed.contains(&i) {
        return None;
    }
    let acc = e.account_id.as_deref()?;
    if !matches!(a.targets[i], Some(Target::CustomerData | Target::Bonus)) {
        return None;
    }
    // A write reaches another account where it takes from it: crediting a friend's
    // account with a gift of points is the app's own business.
    let takes = || {
        (e.sql.as_ref()).is_some_and(|f| {
            (f.bonus_changes.iter()).any(|c| c.account_id.as_str() == acc && c.delta < 0)
        })
    };
    if e.stmt_class != Some(StmtClass::Read) && !takes() {
        return None;
    }
    let g = l.origin(i)?;
    let r = &ev[g];
    let user = r.user.as_deref()?;
    let own = r.account_id.as_deref().is_none_or(|x| x == user);
    // A route of no system (`/graphql`), or of customer data or bonus that names no
    // other account (gRPC's `/loyalty.v1.BonusService/GetBalance`): the statement says
    // which account the request reached.
    let through = a.targets[g] != Some(Target::Push) && r.principal.is_none() && own;
    (through
        && acc != user
        && r.outcome == Outcome::Success
        && !p.is_login(path_of(r))
        && !p.is_staff_route(path_of(r)))
    .then_some(user)
}

/// One finding per signed-in account that reached `idor_accounts` other accounts within an
/// hour. The subject must itself be a customer account (a path or a statement names it,
/// or the roster lists it): a gateway that logs its API client as the subject (one consumer for all the
/// app's traffic) names no customer. An account that reaches as many on two other days
/// does so as a matter of course (a family or business account), and is left out.
pub(super) fn idor(a: &Analysis, l: &Links, p: &Profile, customers: &Customers) -> Vec<Finding> {
    let ev = &a.ing.events;
    let need = p.thresholds.idor_accounts as usize;
    let mut by_user: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in ev.iter().enumerate() {
        if foreign(e, a.targets[i], p) {
            by_user
                .entry(e.user.as_deref().unwrap_or(""))
                .or_default()
                .push(i);
        } else if let Some(user) = foreign_through(a, l, p, i) {
            by_user.entry(user).or_default().push(i);
        }
    }
    let mut out = Vec::new();
    for (user, idx) in by_user {
        if idx.len() < need || !customers.contains(user) {
            continue;
        }
        let Some((best, lo, hi)) = standout_hour(ev, &idx, need, account) else {
            continue;
        };
        let evs: Vec<usize> = idx[lo..=hi].to_vec();
        let ips: BTreeSet<String> = evs
            .iter()
            // A statement stands for its request: the address is the request's.
            .filter_map(|&i| ev[request_behind(ev, l, i)].client_ip.as_deref())
            .map(str::to_string)
            .collect();
        let changed = evs.iter().filter(|&&i| changes(&ev[i])).count();
        out.push(Finding {
            technique: t::IDOR,
            subject: user.to_string(),
            explanation: format!(
                "IDOR: signed in as account {user}, {best} other customers' accounts reached \
                 within one hour{}{} from {} (threshold {need})",
                named_by(ev, l, &evs),
                if changed > 0 {
                    format!(", {changed} requests changing them")
                } else {
                    String::new()
                },
                ips.iter().cloned().collect::<Vec<_>>().join(", "),
            ),
            events: evs,
            seed_ips: ips.into_iter().collect(),
            seed_contexts: vec![],
            seed_sessions: vec![],
            shared_ips: vec![],
        });
    }
    out
}

/// Per evidence file, whether its gateway records name who is signed in (a user or a
/// principal on some record); `None` when every gateway file does, and no request is
/// anonymous by its format.
pub(super) fn identity_files(a: &Analysis) -> Option<Vec<bool>> {
    let gw = || {
        a.ing
            .events
            .iter()
            .filter(|e| e.kind() == SourceKind::Gateway)
    };
    let files = gw().map(|e| e.file as usize + 1).max().unwrap_or(0);
    let mut names = vec![false; files];
    for e in gw().filter(|e| e.user.is_some() || e.principal.is_some()) {
        names[e.file as usize] = true;
    }
    gw().any(|e| !names[e.file as usize]).then_some(names)
}

/// A client of a gateway that logs no identity: its address and agent.
type Client<'a> = (&'a str, &'a str);

/// IDOR where the gateway logs nobody's identity (Envoy's default format, API Gateway's
/// CLF and CSV presets, nginx `combined` without `$remote_user`): the signed-in customer
/// is the client (address and agent) that was answered on a login route. One sign-in
/// that, within the hour after, reaches more than `idor_accounts` customers' accounts
/// through routes that name them (or, behind a gateway that logs route templates only,
/// whose statements name them) is one customer reaching others': a customer's own
/// session names one account, however many customers share the address. A client that
/// does so on two other days does so as a matter of course, and is left out.
///
/// `names`: `identity_files`; files of a gateway that names who is signed in are
/// `idor`'s.
pub(super) fn idor_by_sign_in(
    a: &Analysis,
    l: &Links,
    p: &Profile,
    names: Option<&[bool]>,
) -> Vec<Finding> {
    let ev = &a.ing.events;
    let Some(names) = names else {
        return Vec::new();
    };
    const NONE: u32 = u32::MAX;
    // Per request about an account: the sign-in of its client in the hour before.
    let mut sign_in = vec![NONE; ev.len()];
    let mut last: HashMap<Client, usize> = HashMap::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() != SourceKind::Gateway || names[e.file as usize] {
            continue;
        }
        let Some(ip) = e.client_ip.as_deref() else {
            continue;
        };
        let client = (ip, e.user_agent.as_deref().unwrap_or(""));
        let path = path_of(e);
        if p.is_staff_route(path) || e.outcome != Outcome::Success {
            continue;
        }
        if p.is_login(path) {
            // A form or page fetched is no sign-in; the credentials are sent.
            if changes(e) {
                last.insert(client, i);
            }
        } else if matches!(a.targets[i], Some(Target::CustomerData | Target::Bonus)) {
            if let Some(&s) = last.get(&client).filter(|&&s| e.ts - ev[s].ts <= HOUR) {
                sign_in[i] = s as u32;
            }
        }
    }
    // The requests and statements that name an account, by sign-in: a request's own
    // account, or, when it names none, its statements'.
    let mut by_sign_in: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, e) in ev.iter().enumerate() {
        let g = match e.kind() {
            SourceKind::Gateway if e.account_id.is_some() => i,
            _ => match stands_for(ev, l, i) {
                Some(g) => g,
                None => continue,
            },
        };
        if sign_in[g] != NONE {
            by_sign_in.entry(sign_in[g] as usize).or_default().push(i);
        }
    }
    let need = p.thresholds.idor_accounts as usize;
    // Per client: the days on which one of its sign-ins reached that many.
    let mut days: BTreeMap<Client, BTreeSet<i64>> = BTreeMap::new();
    let mut found: Vec<(usize, Client, Vec<usize>, usize)> = Vec::new();
    for (s, mut idx) in by_sign_in {
        idx.sort_by_key(|&i| (ev[i].ts, i));
        let accounts: BTreeSet<&str> = idx.iter().filter_map(|&i| account(&ev[i])).collect();
        // One of them may be the client's own.
        if accounts.len() <= need {
            continue;
        }
        let e = &ev[s];
        let client = (
            e.client_ip.as_deref().unwrap_or(""),
            e.user_agent.as_deref().unwrap_or(""),
        );
        days.entry(client).or_default().insert(e.ts.div_euclid(DAY));
        found.push((s, client, idx, accounts.len()));
    }
    let mut out = Vec::new();
    for (s, client, idx, n) in found {
        let (e, ip) = (&ev[s], client.0);
        let today = e.ts.div_euclid(DAY);
        if days[&client].iter().filter(|&&d| d != today).count() >= 2 {
            continue;
        }
        let req = |i: usize| match ev[i].kind() {
            SourceKind::Db => l.origin(i).unwrap_or(i),
            _ => i,
        };
        let changed: BTreeSet<usize> = idx
            .iter()
            .map(|&i| req(i))
            .filter(|&g| changes(&ev[g]))
            .collect();
        let how = named_by(ev, l, &idx);
        let mut events = vec![s];
        events.extend(idx);
        let explanation = format!(
            "IDOR: a client at {ip} signed in at {} (the gateway logs no identity) and \
                 within the hour after reached {n} customers' accounts through routes that \
                 name them{}{} (threshold {need} besides its own)",
            crate::timeparse::fmt_utc_s(e.ts),
            how,
            if changed.is_empty() {
                String::new()
            } else {
                format!(", {} requests changing them", changed.len())
            },
        );
        out.push(actor_finding(
            t::IDOR,
            ip.to_string(),
            true,
            explanation,
            events,
            ev,
        ));
    }
    out
}

/// Whether a request changes state (its method is not a safe one).
fn changes(e: &Event) -> bool {
    e.method
        .as_deref()
        .is_some_and(|m| !super::enrich::is_safe(m))
}

/// The customer accounts the evidence names: those requests' paths and statements are
/// about (a subject copied into a request about no account is not evidence of one), and
/// the roster's.
pub(super) struct Customers<'a> {
    named: HashSet<&'a str>,
    a: &'a Analysis,
}

impl<'a> Customers<'a> {
    pub(super) fn new(a: &'a Analysis) -> Self {
        let named = (a.ing.events.par_iter())
            .fold(HashSet::new, |mut named, e| {
                match (e.kind(), e.account_id.as_deref()) {
                    (SourceKind::Db, Some(acc)) => {
                        named.insert(acc);
                    }
                    (SourceKind::Gateway, Some(acc)) if e.account_id != e.user => {
                        named.insert(acc);
                    }
                    _ => {}
                }
                named
            })
            .reduce(HashSet::new, super::paths::union);
        Customers { named, a }
    }

    /// Whether `u` is a customer account.
    pub(super) fn contains(&self, u: &str) -> bool {
        self.named.contains(u)
            || self
                .a
                .roster
                .as_ref()
                .is_some_and(|r| r.customers.contains_key(u))
    }
}
