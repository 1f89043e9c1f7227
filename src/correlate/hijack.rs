//! Session hijacking: many customers' sessions used from one address where none of them
//! signed in. Stolen session tokens (a leaked debug log, a malicious SDK) replayed by an
//! attacker fail no login and sign in nowhere; where this application's sessions
//! otherwise open with a sign-in from the address that uses them, a run of accounts that
//! appear out of nowhere on one address is the replay. Where the gateway logs no
//! identity, an account acting is one its answered requests name.

use super::detect::{actor_finding, path_of, standout_hour, stands_for, DAY, HOUR};
use super::enrich::Links;
use super::idor::Customers;
use super::technique as t;
use super::{Analysis, Finding};
use crate::model::{Event, Outcome, SourceKind};
use crate::profile::{Profile, Target};
use foldhash::{HashMap, HashMapExt};
use std::collections::{BTreeMap, BTreeSet};

/// How long before an account's first request on an address a sign-in there opened it.
const OPENED_WITHIN: i64 = HOUR;
/// Share of (account, address, day) visits that must open with a sign-in before a visit
/// that does not says anything: an application whose tokens outlive a day, or whose
/// sign-ins the gateway does not log, leaves most visits without one.
const OPENED_SHARE: f64 = 0.8;
/// Visits needed to judge that share.
const MIN_VISITS: usize = 50;

/// The account acting: the signed-in one, or, on a gateway that logs no identity, the
/// one a request (or the statement standing for it) names.
fn user(e: &Event) -> Option<&str> {
    e.user.as_deref().or(e.account_id.as_deref())
}

/// A successful sign-in: time, account where logged, agent.
type SignIn<'a> = (i64, Option<&'a str>, Option<&'a str>);

/// One finding per address where `hijack_accounts` customer accounts (or more) began
/// acting within one hour with no sign-in (of theirs, where sign-ins name accounts; else
/// one by the agent that acts, or by any agent where none is logged, not already taken
/// by an earlier visit: a sign-in opens one session) from that address in the hour
/// before, on an address none of them used on another day, and where such accounts are
/// at least half of the customers acting there in that hour (a carrier's exit, where
/// customers sign in all the time, is not one). An address that does this on two other
/// days too does so as a matter of course and is left out.
///
/// Where the gateway logs no identity, the accounts acting are those its answered
/// requests on customer and bonus routes name (behind a gateway that logs route
/// templates only, their statements do). An address whose unopened accounts reach the
/// enumeration threshold there is enumeration's: with no identity logged, a replayed
/// session and none at all look alike. `names`: `idor::identity_files`.
pub(super) fn hijack(
    a: &Analysis,
    l: &Links,
    p: &Profile,
    customers: &Customers,
    names: Option<&[bool]>,
) -> Vec<Finding> {
    let ev = &a.ing.events;
    // A request of a gateway that logs no identity, answered, about a customer or bonus
    // route: whom it names acts.
    let anonymous = |i: usize| {
        let e = &ev[i];
        names.is_some_and(|n| !n[e.file as usize])
            && e.outcome == Outcome::Success
            && matches!(a.targets[i], Some(Target::CustomerData | Target::Bonus))
    };
    // A threshold of none would make every stranger a hijack: one at least.
    let need = (p.thresholds.hijack_accounts as usize).max(1);
    // Successful sign-ins per address (time, account where logged, agent), and
    // signed-in customers' requests per address, both in time order.
    let mut signins: HashMap<&str, Vec<SignIn>> = HashMap::new();
    // Hashed: nothing below depends on the order addresses are visited in (counts, and
    // maps keyed by address), and an ordered map compared address text per request.
    let mut acting: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() != SourceKind::Gateway {
            continue;
        }
        let Some(ip) = e.client_ip.as_deref() else {
            continue;
        };
        let path = path_of(e);
        if p.is_login(path) {
            if e.outcome == Outcome::Success {
                signins.entry(ip).or_default().push((
                    e.ts,
                    e.user.as_deref(),
                    e.user_agent.as_deref(),
                ));
            }
            continue;
        }
        if e.principal.is_some() || p.is_staff_route(path) {
            continue;
        }
        if e.user.is_some() || (anonymous(i) && e.account_id.is_some()) {
            acting.entry(ip).or_default().push(i);
        }
    }
    // Template-only requests: the statements that name their accounts stand for them.
    if names.is_some() {
        for i in 0..ev.len() {
            let Some(g) = stands_for(ev, l, i) else {
                continue;
            };
            let r = &ev[g];
            if r.user.is_none()
                && r.principal.is_none()
                && anonymous(g)
                && !p.is_staff_route(path_of(r))
            {
                if let Some(ip) = r.client_ip.as_deref() {
                    acting.entry(ip).or_default().push(i);
                }
            }
        }
        for idx in acting.values_mut() {
            idx.sort_by_key(|&i| (ev[i].ts, i));
        }
    }
    // Visits: each (address, account, day)'s first request, and whether a sign-in from
    // the address opened it: the account's own where sign-ins name their accounts (a
    // carrier's exit sees others sign in all the time), else one from the same agent,
    // each sign-in opening one visit (`one_each`: a session lives on the device that
    // signed in; a customer's phone signing in behind a shared address opens no session
    // the attacker's script then uses).
    let all_signins = signins.values().map(Vec::len).sum::<usize>();
    let named = signins.values().flatten().filter(|s| s.1.is_some()).count();
    let by_account = named as f64 >= OPENED_SHARE * all_signins as f64;
    let opened = |ip: &str, acc: &str, ts: i64| {
        signins.get(ip).is_some_and(|v| {
            let k = v.partition_point(|s| s.0 < ts - OPENED_WITHIN);
            v[k..]
                .iter()
                .take_while(|s| s.0 <= ts + 5_000_000)
                .any(|s| s.1 == Some(acc))
        })
    };
    // The agent of a visit's first request (of the request a statement stands for).
    let agent = |i: usize| match ev[i].kind() {
        SourceKind::Db => l.origin(i).and_then(|g| ev[g].user_agent.as_deref()),
        _ => ev[i].user_agent.as_deref(),
    };
    // Where sign-ins name no account and no request an agent, a sign-in opens one
    // session: behind an address customers share, each customer's sign-in opens that
    // customer's visit, not every account that acts there within the hour.
    let blind = !by_account
        && signins.values().flatten().all(|s| s.2.is_none())
        && acting.values().flatten().all(|&i| agent(i).is_none());
    // A visit that opens with the account's sign-up: the app signed the new customer in.
    // (Looked up only for visits no sign-in opened.)
    let signups = std::cell::OnceCell::new();
    let new_account = |i: usize| {
        let t = ev[i].ts;
        let signups = signups.get_or_init(|| super::impact::signups(ev, p));
        (user(&ev[i]).and_then(|u| signups.get(u)))
            .is_some_and(|&s| s >= t - OPENED_WITHIN && s <= t + 5_000_000)
    };
    let mut visits = 0usize;
    let mut open = 0usize;
    // Per address: its unopened visits' first requests; and every (address, account)'s days.
    let mut strangers: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    let mut days: HashMap<(&str, &str), BTreeSet<i64>> = HashMap::new();
    // Per address, each (account, day)'s first request (`None` for an account that is no
    // customer's), looked up by hash: an ordered map compared account text per request.
    let mut seen: HashMap<(&str, i64), Option<usize>> = HashMap::new();
    for (&ip, idx) in &acting {
        seen.clear();
        for &i in idx {
            let (u, day) = (user(&ev[i]).unwrap_or(""), ev[i].ts.div_euclid(DAY));
            if let std::collections::hash_map::Entry::Vacant(v) = seen.entry((u, day)) {
                let customer = customers.contains(u);
                v.insert(customer.then_some(i));
                if customer {
                    days.entry((ip, u)).or_default().insert(day);
                }
            }
        }
        // In (account, day) order, as the visits were always taken.
        let mut first: Vec<((&str, i64), usize)> =
            (seen.iter()).filter_map(|(&k, &i)| Some((k, i?))).collect();
        first.sort_unstable_by_key(|&(k, _)| k);
        let opens: Vec<bool> = if by_account {
            (first.iter())
                .map(|&((u, _), i)| opened(ip, u, ev[i].ts))
                .collect()
        } else {
            let signins = signins.get(ip).map_or(&[][..], Vec::as_slice);
            let first: Vec<usize> = first.iter().map(|&(_, i)| i).collect();
            one_each(ev, &first, signins, |s, i| blind || s.2 == agent(i))
        };
        for ((_, i), is_open) in first.into_iter().zip(opens) {
            visits += 1;
            if is_open || new_account(i) {
                open += 1;
            } else {
                strangers.entry(ip).or_default().push(i);
            }
        }
    }
    if visits < MIN_VISITS || (open as f64) < OPENED_SHARE * visits as f64 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for (ip, mut idx) in strangers {
        // Only accounts that use the address on no other day.
        idx.retain(|&i| days[&(ip, user(&ev[i]).unwrap_or(""))].len() == 1);
        idx.sort_unstable();
        let Some((_, lo, hi)) = standout_hour(ev, &idx, need, user) else {
            continue;
        };
        let peak_day = ev[idx[hi]].ts.div_euclid(DAY);
        let (from, to) = (ev[idx[lo]].ts, ev[idx[hi]].ts);
        let hijacked: BTreeSet<&str> = idx[lo..=hi].iter().filter_map(|&i| user(&ev[i])).collect();
        // Every customer acting there in that hour.
        let all: BTreeSet<&str> = acting[ip]
            .iter()
            .filter(|&&i| ev[i].ts >= from && ev[i].ts <= to)
            .filter_map(|&i| user(&ev[i]))
            .filter(|u| customers.contains(u))
            .collect();
        if hijacked.len() * 2 < all.len() {
            continue;
        }
        let named = idx[lo..=hi].iter().all(|&i| ev[i].user.is_some());
        if !named && hijacked.len() >= p.thresholds.enumeration_accounts as usize {
            continue;
        }
        // The hijacked accounts' requests from the address that day.
        let evs: Vec<usize> = acting[ip]
            .iter()
            .copied()
            .filter(|&i| {
                ev[i].ts.div_euclid(DAY) == peak_day
                    && user(&ev[i]).is_some_and(|u| hijacked.contains(u))
            })
            .collect();
        let shown: Vec<&str> = hijacked.iter().take(5).copied().collect();
        let explanation = format!(
            "session hijacking: {} customer accounts acted from {ip} within one hour \
                 without signing in there and used it on no other day (e.g. {}{}); of this \
                 application's {visits} visits by an account to an address, {open} opened \
                 with a sign-in from it (threshold {need} accounts){}",
            hijacked.len(),
            shown.join(", "),
            if hijacked.len() > shown.len() {
                ", …"
            } else {
                ""
            },
            if named {
                ""
            } else {
                "; the gateway logs no identity: the accounts are those its requests name"
            },
        );
        let finding = actor_finding(
            t::SESSION_HIJACK,
            ip.to_string(),
            true,
            explanation,
            evs,
            ev,
        );
        out.push(finding);
    }
    out
}

/// For each visit (in `first`'s order), whether a sign-in opened it when each sign-in
/// opens one: visits in time order each take the latest sign-in not yet taken from the
/// hour before their first request (to a few seconds after it) that `fits` the visit's
/// first request (sent by the same agent, where agents are logged). A customer's phone
/// signing in behind an address customers share opens that customer's session, not the
/// five accounts a script sending the app's agent replays there in the next hour.
fn one_each<'a>(
    ev: &[Box<Event>],
    first: &[usize],
    signins: &[SignIn<'a>],
    fits: impl Fn(&SignIn<'a>, usize) -> bool,
) -> Vec<bool> {
    let mut order: Vec<(i64, usize, usize)> = (first.iter().enumerate())
        .map(|(k, &i)| (ev[i].ts, k, i))
        .collect();
    order.sort_unstable();
    let mut taken = vec![false; signins.len()];
    let mut opens = vec![false; first.len()];
    for (ts, k, i) in order {
        let lo = signins.partition_point(|s| s.0 < ts - OPENED_WITHIN);
        let hi = signins.partition_point(|s| s.0 <= ts + 5_000_000);
        if let Some(j) = (lo..hi).rev().find(|&j| !taken[j] && fits(&signins[j], i)) {
            taken[j] = true;
            opens[k] = true;
        }
    }
    opens
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Event;

    /// Builds the events in time order: (seconds, address, path, account signed in as,
    /// outcome), and a DB record naming every account so that each is a customer's.
    fn analysis(reqs: &[(i64, String, &str, Option<String>, Outcome)]) -> Analysis {
        let mut a = Analysis::default();
        let mut reqs = reqs.to_vec();
        reqs.sort_by_key(|r| r.0);
        for (secs, ip, path, user, outcome) in reqs {
            let mut e = Event::new(SourceKind::Gateway, "apigw-json");
            e.ts = secs * 1_000_000;
            e.client_ip = Some(ip.as_str().into());
            e.path = Some(path.into());
            e.user = user.as_deref().map(Into::into);
            e.outcome = outcome;
            if let Some(u) = &user {
                let mut d = Event::new(SourceKind::Db, "pg-csvlog");
                d.ts = e.ts;
                d.account_id = Some(u.as_str().into());
                a.ing.events.push(Box::new(e));
                a.ing.events.push(Box::new(d));
            } else {
                a.ing.events.push(Box::new(e));
            }
        }
        a.targets = vec![None; a.ing.events.len()];
        a
    }

    fn run(a: &Analysis, p: &Profile) -> Vec<Finding> {
        let l = Links::default();
        let names = crate::correlate::idor::identity_files(a);
        hijack(a, &l, p, &Customers::new(a), names.as_deref())
    }

    type Req = (i64, String, &'static str, Option<String>, Outcome);

    /// Customer `k` signs in from its own address (one per customer unless `ip` is
    /// given), then reads its balance `after` seconds later.
    fn visit(at: i64, k: u32, ip: Option<&str>, after: i64, out: &mut Vec<Req>) {
        let ip = ip.map_or(
            format!("198.18.{}.{}", k / 250, k % 250 + 1),
            str::to_string,
        );
        let acc = format!("{}", 100_000 + k);
        out.push((
            at,
            ip.clone(),
            "/api/v1/auth/login",
            Some(acc.clone()),
            Outcome::Success,
        ));
        out.push((at + after, ip, "/api/v1/bonus", Some(acc), Outcome::Success));
    }

    /// `n` customers' visits a minute apart, each signing in `after` seconds before it
    /// acts.
    fn visits(n: u32, after: i64) -> Vec<Req> {
        let mut r = Vec::new();
        for k in 0..n {
            visit(3_600 * 24 + k as i64 * 60, k, None, after, &mut r);
        }
        r
    }

    /// Accounts' balances read from one address, two minutes apart.
    fn replay(at: i64, ip: &str, accounts: std::ops::Range<u32>, out: &mut Vec<Req>) {
        replay_every(at, ip, accounts, 120, out);
    }

    fn replay_every(
        at: i64,
        ip: &str,
        accounts: std::ops::Range<u32>,
        every: i64,
        out: &mut Vec<Req>,
    ) {
        for (n, k) in accounts.enumerate() {
            let acc = format!("{}", 100_000 + k);
            out.push((
                at + every * n as i64,
                ip.into(),
                "/api/v1/bonus",
                Some(acc),
                Outcome::Success,
            ));
        }
    }

    #[test]
    fn accounts_out_of_nowhere_on_one_address_are_a_replay() {
        let mut r = visits(100, 20);
        // Five of those customers' sessions replayed from one address, none signed in.
        replay(3_600 * 30, "203.0.113.9", 0..5, &mut r);
        // A carrier's exit: ten customers sign in there and act all afternoon; four more
        // arrive with sessions opened elsewhere (phones leaving Wi-Fi), two hours after
        // the last sign-in there. They are under half of the customers acting there.
        for k in 200..210 {
            let at = 3_600 * 40 + (k - 200) as i64 * 30;
            visit(at, k, Some("100.64.0.1"), 10, &mut r);
            for n in 1..25 {
                let acc = format!("{}", 100_000 + k);
                r.push((
                    at + 10 + n * 300,
                    "100.64.0.1".into(),
                    "/api/v1/menu",
                    Some(acc),
                    Outcome::Success,
                ));
            }
        }
        replay(3_600 * 42, "100.64.0.1", 10..14, &mut r);
        let a = analysis(&r);
        let f = run(&a, &Profile::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].subject, "203.0.113.9");
        assert_eq!(f[0].events.len(), 5);
        assert!(
            f[0].explanation.contains("5 customer accounts"),
            "{}",
            f[0].explanation
        );
        // A profile's threshold of 0 counts as 1, not as every address; an address whose
        // only unopened visits are an account's of two days (its own place) has none.
        let mut zero = Profile::default();
        zero.thresholds.hijack_accounts = 0;
        let mut home = r.clone();
        for day in [26, 50] {
            let acc = Some("100150".to_string());
            home.push((
                3_600 * day,
                "198.51.100.50".into(),
                "/api/v1/bonus",
                acc,
                Outcome::Success,
            ));
        }
        assert_eq!(run(&analysis(&home), &zero).len(), 1);
        // Three are fewer than the threshold.
        let mut few: Vec<Req> = r.iter().filter(|x| x.1 != "203.0.113.9").cloned().collect();
        replay(3_600 * 30, "203.0.113.9", 0..3, &mut few);
        assert!(run(&analysis(&few), &Profile::default()).is_empty());
    }

    /// The requests logged by a gateway that names nobody signed in: the accounts the
    /// bonus requests name act. Each request of `ip` carries `agent`, others none.
    fn anonymous(r: &[Req], ip: &str, agent: &str) -> Analysis {
        let mut a = analysis(r);
        for (i, e) in a.ing.events.iter_mut().enumerate() {
            if e.kind() == SourceKind::Gateway {
                e.account_id = e
                    .user
                    .take()
                    .filter(|_| !e.path.as_deref().unwrap().contains("login"));
                if e.account_id.is_some() {
                    a.targets[i] = Some(Target::Bonus);
                }
                if e.client_ip.as_deref() == Some(ip) {
                    e.user_agent = Some(agent.into());
                }
            }
        }
        a
    }

    #[test]
    fn behind_a_gateway_that_logs_no_identity_the_accounts_named_act() {
        // The same visits and replay, logged by a gateway that names nobody signed in:
        // the accounts the bonus requests name are the ones acting.
        let mut r = visits(400, 20);
        replay(3_600 * 30, "203.0.113.9", 0..5, &mut r);
        // An address that walks sixty accounts with no sign-in is enumeration's: with
        // no identity logged, a replayed session and none at all look alike.
        replay_every(3_600 * 33, "192.0.2.200", 500..560, 30, &mut r);
        let f = run(
            &anonymous(&r, "203.0.113.9", "okhttp/4.12.0"),
            &Profile::default(),
        );
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].subject, "203.0.113.9");
        assert!(
            f[0].explanation.contains("5 customer accounts")
                && f[0].explanation.contains("the gateway logs no identity"),
            "{}",
            f[0].explanation
        );
        // A customer behind the address signs in on their phone ten minutes before the
        // replay: that opens a session on the phone, not the replayed ones.
        let mut shared = r.clone();
        shared.push((
            3_600 * 30 - 587,
            "203.0.113.9".into(),
            "/api/v1/auth/login",
            None,
            Outcome::Success,
        ));
        let mut a = anonymous(&shared, "203.0.113.9", "okhttp/4.12.0");
        let phone = (a.ing.events.iter_mut())
            .find(|e| e.ts == (3_600 * 30 - 587) * 1_000_000)
            .unwrap();
        phone.user_agent = Some("LoyaltyApp/5.2.1 (iPhone)".into());
        assert_eq!(run(&a, &Profile::default()).len(), 1);
        // The same sign-in by the agent that then acts opens one session, not five (a
        // customer's phone that sends the app's agent): the other four are a replay.
        let a = anonymous(&shared, "203.0.113.9", "okhttp/4.12.0");
        let f = run(&a, &Profile::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].explanation.contains("4 customer accounts"),
            "{}",
            f[0].explanation
        );
        // A sign-in by that agent before each of them opened them all.
        let mut each = r.clone();
        for k in 0..5 {
            each.push((
                3_600 * 30 - 587 + k,
                "203.0.113.9".into(),
                "/api/v1/auth/login",
                None,
                Outcome::Success,
            ));
        }
        let a = anonymous(&each, "203.0.113.9", "okhttp/4.12.0");
        assert!(run(&a, &Profile::default()).is_empty());
    }

    #[test]
    fn where_nothing_names_who_signed_in_a_sign_in_opens_one_session() {
        // No identity and no agents logged: behind an address customers share, one
        // customer signs in ten minutes before the replay and reads their own balance.
        let mut r = visits(400, 20);
        replay(3_600 * 30, "203.0.113.9", 0..5, &mut r);
        visit(3_600 * 30 - 587, 450, Some("203.0.113.9"), 20, &mut r);
        let blind = |r: &[Req]| {
            let mut a = anonymous(r, "203.0.113.9", "okhttp/4.12.0");
            for e in a.ing.events.iter_mut() {
                e.user_agent = None;
            }
            a
        };
        // That sign-in opened the customer's visit, not five more. Another customer signs
        // up there and acts: the sign-up opened that visit.
        let signup = (3_600 * 30 - 299) * 1_000_000;
        for at in [3_600 * 30 - 299, 3_600 * 30 - 279] {
            let acc = Some("100460".to_string());
            r.push((
                at,
                "203.0.113.9".into(),
                "/api/v1/bonus",
                acc,
                Outcome::Success,
            ));
        }
        let mut a = blind(&r);
        // The sign-up's request names no account (a route template); its row does.
        let request = (a.ing.events.iter_mut())
            .find(|e| e.kind() == SourceKind::Gateway && e.ts == signup)
            .unwrap();
        request.account_id = None;
        let row = (a.ing.events.iter_mut())
            .find(|e| e.kind() == SourceKind::Db && e.ts == signup)
            .unwrap();
        row.stmt_class = Some(crate::model::StmtClass::Write);
        row.statement = Some("INSERT INTO customers (id, email) VALUES (100460, 'x')".into());
        row.sql = Some(Box::new(crate::model::SqlFacts {
            tables: Box::new(["customers".into()]),
            ..Default::default()
        }));
        let f = run(&a, &Profile::default());
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].explanation.contains("5 customer accounts"),
            "{}",
            f[0].explanation
        );
        // Five more sign-ins there: of the seven visits, six are opened, one account is
        // under the threshold.
        for k in 0..5 {
            let login = "/api/v1/auth/login";
            r.push((
                3_600 * 30 - 500 + k,
                "203.0.113.9".into(),
                login,
                None,
                Outcome::Success,
            ));
        }
        assert!(run(&blind(&r), &Profile::default()).is_empty());
    }

    #[test]
    fn an_app_whose_sessions_open_without_sign_ins_says_nothing() {
        // Tokens that outlive a day: most visits open with no sign-in, so five more
        // from one address are nothing to go on.
        let mut r = visits(100, 7_200);
        replay(3_600 * 30, "203.0.113.9", 0..5, &mut r);
        assert!(run(&analysis(&r), &Profile::default()).is_empty());
    }

    #[test]
    fn a_sign_in_opens_one_visit_sent_by_its_agent() {
        // A customer's phone signs in under the app's agent; then that customer and two
        // replayed accounts act, the first under another agent, the second under the
        // app's: the sign-in opens the customer's visit only.
        let mut ev = Vec::new();
        for (secs, agent) in [
            (100, "LoyaltyApp/5.2"),
            (110, "okhttp/4.12.0"),
            (120, "LoyaltyApp/5.2"),
        ] {
            let mut e = Event::new(SourceKind::Gateway, "envoy");
            e.ts = secs * 1_000_000;
            e.user_agent = Some(agent.into());
            ev.push(Box::new(e));
        }
        // The visits' first requests, in (account, day) order.
        let first = [0, 1, 2];
        let signins = [(50_000_000, None, Some("LoyaltyApp/5.2"))];
        let agent = |i: usize| ev[i].user_agent.as_deref();
        let opens = one_each(&ev, &first, &signins, |s, i| s.2 == agent(i));
        assert_eq!(opens, [true, false, false]);
        // Where nothing logs agents, the one sign-in opens the first visit after it.
        assert_eq!(
            one_each(&ev, &first, &signins, |_, _| true),
            [true, false, false]
        );
        let first = [1, 2];
        assert_eq!(one_each(&ev, &first, &signins, |_, _| true), [true, false]);
        assert_eq!(
            one_each(&ev, &first, &signins, |s, i| s.2 == agent(i)),
            [false, true]
        );
    }
}
