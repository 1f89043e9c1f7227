//! Shared addresses: a mobile carrier's CGNAT exit or a residential proxy serves
//! customers and the attacker alike. Taken whole, such an address makes every customer
//! behind it an attacker, on every day: their orders become bonus fraud and their
//! profile reads exposures. An address is shared when, away from what its findings
//! flagged, it carried requests that succeeded, from agents other than those that carried
//! the flagged requests, or signed in as accounts those did not name, or to routes those
//! never took (customers using the app where no one is named), on two or more days
//! or naming (in the request or its statements) a customer the flagged activity did
//! not, or signing in under a login name no flagged request looked up; or when the
//! finding that flagged it saw others use it under other agents (`Finding::shared_ips`,
//! a proxy pool's exits). Its attacker activity is then what falls within the flagged
//! hours (reaching out through its activity without a pause, by at most the wave gap)
//! and, where the gateway logs agents, comes from those agents and, where it logs who
//! signed in, is signed in as an account the flagged activity named (or as nobody).

use super::enrich::Links;
use super::timing::{route, Route};
use super::Analysis;
use crate::model::{Event, Outcome, SourceKind, StmtClass};
use crate::profile::Profile;
use std::collections::{BTreeMap, BTreeSet};

/// What of a shared address is the attacker's.
#[derive(Debug, Default)]
pub struct Shared {
    /// Flagged hours, reached out through the address's activity (`reach`): (from, to),
    /// merged and sorted.
    pub spans: Vec<(i64, i64)>,
    /// Agents of the flagged requests (empty where the gateway logs none).
    pub agents: BTreeSet<String>,
    /// UTC days on which the address served others (1 when they named a customer the
    /// attack did not).
    pub other_days: usize,
    /// Accounts the flagged activity named: its victims and its own. A request signed in
    /// as another account is a customer's own, whatever its agent (an attacker replaying
    /// stolen sessions sends the app's agent, as the customers behind the address do).
    pub accounts: BTreeSet<String>,
    /// The attacker's agent there is one its customers send too, and the gateway names
    /// no signed-in account there: in the flagged hours the two cannot be told apart.
    pub blind_agent: bool,
    /// Accounts the address's others named outside the flagged hours (in their requests
    /// or their statements) that the flagged activity did not: the customers behind it.
    pub regulars: BTreeSet<String>,
}

impl Shared {
    /// Whether a time falls within the flagged hours.
    fn during(&self, ts: i64) -> bool {
        self.spans.iter().any(|&(a, b)| a <= ts && ts <= b)
    }

    /// Whether a statement of a request from the address in its flagged hours is a
    /// customer's own: every account it names is one of the address's regulars. Where the
    /// gateway tells neither agents nor accounts apart, a customer behind the address who
    /// orders in those hours as on other days is told apart by the account the order is
    /// written to.
    pub fn regulars_own(&self, stmt: &Event) -> bool {
        let mut named = accounts(stmt).peekable();
        named.peek().is_some() && named.all(|x| self.regulars.contains(x))
    }

    /// Whether a request from the address is the attacker's.
    pub fn covers(&self, e: &Event) -> bool {
        let when = self.during(e.ts);
        let agent = self.agents.is_empty()
            || e.user_agent
                .as_deref()
                .is_none_or(|u| self.agents.contains(u));
        let account =
            self.accounts.is_empty() || e.user.as_deref().is_none_or(|u| self.accounts.contains(u));
        when && agent && account
    }
}

const DAY: i64 = 86_400_000_000;

/// Longest pause within the attacker's activity on a shared address around its flagged
/// requests.
const PAUSE_US: i64 = 5 * 60 * 1_000_000;

/// How long before a credential-stuffing campaign's first failed login its addresses'
/// activity may be its own (a login page loaded, a token fetched).
const LEAD_US: i64 = 60 * 1_000_000;

/// Shortest such pause: a minute, whatever the flagged requests' pace.
const MIN_PAUSE_US: i64 = 60 * 1_000_000;

/// The longest pause the attacker's activity around flagged requests at times `flagged`
/// (sorted) is taken to make: ten times their median gap, between `MIN_PAUSE_US` and
/// `PAUSE_US`. A script that fires every few seconds does not wait five minutes before
/// it starts; a customer behind the address who browsed until then is not its start.
fn pause(flagged: &[i64]) -> i64 {
    super::detect::median_gap(flagged).map_or(PAUSE_US, |m| {
        m.saturating_mul(10).clamp(MIN_PAUSE_US, PAUSE_US)
    })
}

/// A flagged span (first, last flagged request) reached out through the address's
/// request times `t` (sorted) without a pause over `pause`, and by no more than `gap`.
fn reach(t: &[i64], (lo, hi): (i64, i64), gap: i64, pause: i64) -> (i64, i64) {
    let (floor, ceil) = (lo.saturating_sub(gap), hi.saturating_add(gap));
    let mut a = lo;
    for &x in t[..t.partition_point(|&x| x < lo)].iter().rev() {
        if x < floor || a - x > pause {
            break;
        }
        a = x;
    }
    let mut b = hi;
    for &x in &t[t.partition_point(|&x| x <= hi)..] {
        if x > ceil || x - b > pause {
            break;
        }
        b = x;
    }
    (a, b)
}

/// The shared addresses among `flagged`, with what of each is the attacker's.
pub fn find(
    a: &Analysis,
    l: &Links,
    p: &Profile,
    flagged: &BTreeSet<&str>,
    gap: i64,
) -> BTreeMap<String, Shared> {
    let ev = &a.ing.events;
    // The gateway request behind a finding's event, and its address.
    let request = |i: usize| match ev[i].kind() {
        SourceKind::Gateway => Some(i),
        SourceKind::Db => l.origin(i),
        SourceKind::Push => None,
    };
    let mut seen: BTreeMap<&str, Shared> = BTreeMap::new();
    // Accounts the flagged activity of each address named: the attacker's own, its
    // victims.
    let mut touched: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    // Addresses a finding saw others use (`Finding::shared_ips`).
    let mut known: BTreeSet<&str> = BTreeSet::new();
    // The flagged addresses' requests behind the findings' events (what they looked up).
    let mut behind: BTreeSet<usize> = BTreeSet::new();
    // Each address's flagged requests by agent.
    let mut carried: BTreeMap<&str, BTreeMap<&str, usize>> = BTreeMap::new();
    // Each address's flagged request times, for the pace of its attacker.
    let mut paced: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    // Each address's flagged routes (method and route).
    let mut routes: BTreeMap<&str, BTreeSet<Route>> = BTreeMap::new();
    // Addresses only credential stuffing flagged, and the time before which none of
    // their activity is its: a minute before the campaign's first failed login.
    let mut not_before: BTreeMap<&str, i64> = BTreeMap::new();
    let mut flagged_else: BTreeSet<&str> = BTreeSet::new();
    for f in &a.findings {
        known.extend(f.shared_ips.iter().map(String::as_str));
        // What the finding holds against each address: for stuffing its failed logins
        // (a customer's login in the same minutes is not), else its events. Grouped once:
        // a pool's finding names thousands of addresses.
        let stuffing = f.technique == super::technique::CREDENTIAL_STUFFING;
        let mut by_ip: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut named: BTreeSet<&str> = BTreeSet::new();
        for &i in &f.events {
            named.extend(accounts(&ev[i]));
            let Some(g) = request(i) else { continue };
            named.extend(accounts(&ev[g]));
            if let Some(ip) = ev[g].client_ip.as_deref() {
                if flagged.contains(ip) {
                    behind.insert(g);
                }
                if !stuffing || ev[g].outcome == Outcome::Failure {
                    by_ip.entry(ip).or_default().push(g);
                }
            }
        }
        // The agents that carry the finding: one in twenty of its requests or more, over
        // all its addresses (a customer who mistyped a password on a pool's address
        // during its burst carries less).
        let mut by_agent: BTreeMap<&str, usize> = BTreeMap::new();
        let all = by_ip.values().map(Vec::len).sum::<usize>();
        for &g in by_ip.values().flatten() {
            if let Some(u) = ev[g].user_agent.as_deref() {
                *by_agent.entry(u).or_default() += 1;
            }
        }
        let agents: Vec<String> = (by_agent.into_iter())
            .filter(|&(_, n)| n * 20 >= all)
            .map(|(u, _)| u.to_string())
            .collect();
        let first_failure = by_ip.values().flatten().map(|&g| ev[g].ts).min();
        for ip in f.seed_ips.iter().filter(|ip| flagged.contains(ip.as_str())) {
            match first_failure.filter(|_| stuffing) {
                Some(t) => {
                    let x = not_before.entry(ip.as_str()).or_insert(i64::MAX);
                    *x = (*x).min(t.saturating_sub(LEAD_US));
                }
                None => {
                    flagged_else.insert(ip.as_str());
                }
            }
            touched.entry(ip.as_str()).or_default().extend(&named);
            let mine: &[usize] = by_ip.get(ip.as_str()).map_or(&[], Vec::as_slice);
            let s = seen.entry(ip.as_str()).or_default();
            let (Some(lo), Some(hi)) = (
                mine.iter().map(|&g| ev[g].ts).min(),
                mine.iter().map(|&g| ev[g].ts).max(),
            ) else {
                // A finding that names the address without a request of it: the
                // address is the attacker's as a whole.
                s.spans.push((i64::MIN, i64::MAX));
                continue;
            };
            s.spans.push((lo, hi));
            (paced.entry(ip.as_str()).or_default()).extend(mine.iter().map(|&g| ev[g].ts));
            s.agents.extend(agents.iter().cloned());
            let c = carried.entry(ip.as_str()).or_default();
            for u in mine.iter().filter_map(|&g| ev[g].user_agent.as_deref()) {
                *c.entry(u).or_default() += 1;
            }
            (routes.entry(ip.as_str()).or_default()).extend(mine.iter().map(|&g| route(&ev[g])));
        }
    }
    // Each address's request times: the flagged hours reach out from the flagged
    // requests through the address's activity without a pause of `PAUSE_US`, at most
    // the wave gap. A customer behind the address who signed in half an hour before the
    // burst, then went quiet, is not the attack's preparation.
    let mut times: BTreeMap<&str, Vec<i64>> = BTreeMap::new();
    for e in ev.iter().filter(|e| e.kind() == SourceKind::Gateway) {
        if let Some(ip) = e.client_ip.as_deref().filter(|ip| seen.contains_key(ip)) {
            times.entry(ip).or_default().push(e.ts);
        }
    }
    for (ip, s) in seen.iter_mut() {
        s.spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::new();
        // Flagged requests within twice the gap of each other are one stretch, all of
        // it the attack's, as before the reach out.
        for &(a, b) in &s.spans {
            match merged.last_mut() {
                Some(last) if a <= last.1.saturating_add(gap.saturating_mul(2)) => {
                    last.1 = last.1.max(b)
                }
                _ => merged.push((a, b)),
            }
        }
        let t = times.get(ip).map_or(&[][..], Vec::as_slice);
        // A credential-stuffing campaign's address does nothing for it before the
        // campaign begins: a customer behind a proxy pool's exit who signed in and
        // browsed minutes before the pool's first failed login is not its start.
        let t = match not_before.get(ip) {
            Some(&floor) if !flagged_else.contains(ip) => &t[t.partition_point(|&x| x < floor)..],
            _ => t,
        };
        let most = match paced.get_mut(*ip) {
            Some(f) => {
                f.sort_unstable();
                f.dedup();
                pause(f)
            }
            None => PAUSE_US,
        };
        for span in merged.iter_mut().filter(|x| x.0 != i64::MIN) {
            *span = reach(t, *span, gap, most);
        }
        merged.dedup_by(|b, a| {
            let joined = b.0 <= a.1;
            a.1 = a.1.max(b.1);
            joined
        });
        s.spans = merged;
    }
    // An agent the address's others send outside the flagged hours (the app of the
    // customers behind it) is the attacker's there only when it carries half of the
    // address's flagged requests: a customer who mistyped during the burst carries a
    // few, an attacker posing as the app most.
    let mut outside: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    // Addresses some of whose requests name the account signed in.
    let mut signed: BTreeSet<&str> = BTreeSet::new();
    for e in ev.iter().filter(|e| e.kind() == SourceKind::Gateway) {
        if let (Some(ip), Some(_)) = (e.client_ip.as_deref(), e.user.as_deref()) {
            if seen.contains_key(ip) {
                signed.insert(ip);
            }
        }
        let (Some(ip), Some(u)) = (e.client_ip.as_deref(), e.user_agent.as_deref()) else {
            continue;
        };
        if seen
            .get(ip)
            .is_some_and(|s| e.outcome == Outcome::Success && !s.during(e.ts))
        {
            outside.entry(ip).or_default().insert(u);
        }
    }
    for (ip, s) in seen.iter_mut() {
        let (Some(o), Some(c)) = (outside.get(ip), carried.get(ip)) else {
            continue;
        };
        let all: usize = c.values().sum();
        let kept: BTreeSet<String> = (s.agents.iter())
            .filter(|u| !o.contains(u.as_str()) || c.get(u.as_str()).is_some_and(|&n| n * 2 >= all))
            .cloned()
            .collect();
        // None kept would read as a gateway that logs no agents: all of the hours.
        if !kept.is_empty() {
            s.agents = kept;
        }
        s.blind_agent = !signed.contains(ip) && s.agents.iter().any(|u| o.contains(u.as_str()));
    }
    // The statements of those addresses' requests: a sign-up names its new account only
    // in the row it inserts.
    let mut stmts: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in (0..ev.len()).filter(|&i| ev[i].kind() == SourceKind::Db) {
        if let Some(g) = l.origin(i) {
            if ev[g]
                .client_ip
                .as_deref()
                .is_some_and(|ip| seen.contains_key(ip))
            {
                stmts.entry(g).or_default().push(i);
            }
        }
    }
    // The values the flagged requests looked up (login names tried, ids), from any of
    // the flagged addresses: a pool tries a name on one exit and uses it on another.
    let looked_up = |g: usize| {
        (stmts.get(&g).into_iter().flatten())
            .filter(|&&i| ev[i].stmt_class == Some(StmtClass::Read))
            .flat_map(|&i| super::stuffing::lookup_values(&ev[i]))
    };
    let tried: BTreeSet<String> = behind.iter().flat_map(|&g| looked_up(g)).collect();
    // Days on which each address served requests that were not the flagged activity,
    // and whether one of them named an account the flagged activity did not, or signed
    // in under a name it never tried.
    let mut days: BTreeMap<&str, (BTreeSet<i64>, bool)> = BTreeMap::new();
    let mut regulars: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (g, e) in ev.iter().enumerate() {
        if e.kind() != SourceKind::Gateway {
            continue;
        }
        let Some(ip) = e.client_ip.as_deref() else {
            continue;
        };
        let Some(s) = seen.get(ip) else { continue };
        if e.outcome != Outcome::Success || s.during(e.ts) {
            continue;
        }
        // Others: under another agent, or naming (signed in as, or in its statements) an
        // account the flagged activity did not (customers who send the app's agent, as an
        // attacker replaying their sessions does).
        let known = touched.get(ip);
        let of_stmts = stmts.get(&g).into_iter().flatten().map(|&i| &*ev[i]);
        let strangers: Vec<&str> = std::iter::once(&**e)
            .chain(of_stmts)
            .flat_map(accounts)
            .filter(|x| !known.is_some_and(|k| k.contains(x)))
            .collect();
        // A customer's sign-in: its lookup names someone the attack never tried (an
        // attacker testing a login it stole tried it, or names its account).
        let signed_in =
            p.is_login(super::detect::path_of(e)) && looked_up(g).any(|x| !tried.contains(&x));
        let stranger = !strangers.is_empty() || signed_in;
        regulars.entry(ip).or_default().extend(strangers);
        // A route the flagged requests never took: the customers behind the address
        // using the app (where the gateway names no one and the statements no request,
        // their visits name nobody either).
        let elsewhere = || !routes.get(ip).is_some_and(|r| r.contains(&route(e)));
        if !stranger
            && e.user_agent
                .as_deref()
                .is_some_and(|u| s.agents.contains(u))
            && !elsewhere()
        {
            continue;
        }
        let d = days.entry(ip).or_default();
        d.0.insert(e.ts.div_euclid(DAY));
        d.1 |= stranger;
    }
    // Two days of others, or one on which they named a customer the attack did not: an
    // attacker's own visits on other days (a test of a stolen login, its own accounts)
    // name its victims and its accounts. Or a finding saw others use it.
    seen.into_iter()
        .filter_map(|(ip, mut s)| {
            let (n, stranger) = days.get(ip).map_or((0, false), |(d, x)| (d.len(), *x));
            s.other_days = n;
            if let Some(t) = touched.get(ip) {
                s.accounts = t.iter().map(|x| x.to_string()).collect();
            }
            if let Some(r) = regulars.get(ip) {
                s.regulars = r.iter().map(|x| x.to_string()).collect();
            }
            (n >= 2 || stranger || known.contains(ip)).then(|| (ip.to_string(), s))
        })
        .collect()
}

/// The accounts an event names: its authenticated customer, the account its path or
/// statement concerns, the accounts whose bonus it changes.
fn accounts(e: &Event) -> impl Iterator<Item = &str> {
    let sql = e.sql.as_deref();
    (e.user.as_deref().into_iter())
        .chain(e.account_id.as_deref())
        .chain(
            sql.into_iter()
                .flat_map(|q| q.account_ids.iter().map(|x| x.as_str())),
        )
        .chain(
            sql.into_iter()
                .flat_map(|q| q.bonus_changes.iter().map(|b| b.account_id.as_str())),
        )
}

/// The note that names the shared addresses.
pub fn note(shared: &BTreeMap<String, Shared>, spared: usize) -> String {
    let named: Vec<String> = shared
        .iter()
        .map(|(ip, s)| match s.other_days {
            0 => format!("{ip} (others in the flagged hours)"),
            1 => format!("{ip} (others on 1 day)"),
            n => format!("{ip} (others on {n} days)"),
        })
        .collect();
    let blind = shared.values().filter(|s| s.agents.is_empty()).count();
    let posing = shared
        .values()
        .filter(|s| s.blind_agent && !s.agents.is_empty())
        .count();
    format!(
        "{} flagged addresses also served others on days the findings do not cover (a \
         carrier's CGNAT exit, a residential proxy): {}. Only their requests within the \
         flagged hours, widened by the wave gap, from the flagged requests' agents where \
         the gateway logs agents, and signed in as nobody or as an account the findings \
         named, are the attacker's, and of their statements in those hours not the ones \
         written only to accounts the address's customers named on other days; {spared} \
         other requests and statements of theirs are not.{}{}",
        shared.len(),
        named.join(", "),
        if blind == 0 {
            String::new()
        } else {
            format!(
                " For {blind} of them the gateway logs no agents: their customers' requests in \
                 those hours count as the attacker's, and the bonus changes and exposures they \
                 made on accounts not seen there before are to be checked by hand."
            )
        },
        if posing == 0 {
            String::new()
        } else {
            format!(
                " For {posing} of them the attacker's agent is one their customers send too, \
                 and the gateway names no signed-in account: their customers' requests under \
                 it in those hours count as the attacker's, and the bonus changes and \
                 exposures they made are to be checked by hand."
            )
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::correlate::test_statement as statement;

    #[test]
    fn a_regular_s_order_in_the_flagged_hours_is_the_regular_s() {
        let s = Shared {
            regulars: ["100452".to_string()].into(),
            ..Shared::default()
        };
        let own = "UPDATE bonus_accounts SET balance = balance + 5 WHERE customer_id = 100452";
        assert!(s.regulars_own(&statement(own)));
        // Another account, one of them not a regular, or none named: not told apart.
        let other = "UPDATE bonus_accounts SET balance = balance + 5000 WHERE customer_id = 101400";
        assert!(!s.regulars_own(&statement(other)));
        let both = "UPDATE bonus_accounts SET balance = balance + 1 \
                    WHERE customer_id IN (100452, 101400)";
        assert!(!s.regulars_own(&statement(both)));
        assert!(!s.regulars_own(&statement("SELECT * FROM customers")));
    }

    #[test]
    fn flagged_hours_reach_out_through_activity_without_a_pause() {
        const MIN: i64 = 60_000_000;
        let gap = 30 * MIN;
        // A customer's sign-in 28 minutes before the burst, then quiet; the attacker's
        // requests every two minutes from 8 minutes before it; then 3 minutes after it.
        let t: Vec<i64> = [-28, -8, -6, -4, -2, 0, 10, 13, 25]
            .iter()
            .map(|m| 100 * MIN + m * MIN)
            .collect();
        assert_eq!(
            reach(&t, (100 * MIN, 110 * MIN), gap, PAUSE_US),
            (92 * MIN, 113 * MIN)
        );
        // Never past the gap, however busy the address.
        let busy: Vec<i64> = (0..200).map(|m| m * MIN).collect();
        assert_eq!(
            reach(&busy, (100 * MIN, 110 * MIN), gap, PAUSE_US),
            (70 * MIN, 140 * MIN)
        );
        // An address with no other request keeps its flagged span.
        assert_eq!(
            reach(&[], (100 * MIN, 110 * MIN), gap, PAUSE_US),
            (100 * MIN, 110 * MIN)
        );
    }

    #[test]
    fn a_burst_s_pace_bounds_the_pause_it_reaches_across() {
        const SEC: i64 = 1_000_000;
        // Failed logins every 6 s: a minute is the longest pause; a customer who browsed
        // until five minutes before the burst is not its start.
        let burst: Vec<i64> = (0..50).map(|k| 1_000 * SEC + k * 6 * SEC).collect();
        assert_eq!(pause(&burst), 60 * SEC);
        let t = [700 * SEC, 706 * SEC, burst[0], burst[49]];
        let span = (burst[0], burst[49]);
        assert_eq!(reach(&t, span, 1_800 * SEC, pause(&burst)), span);
        // A hand-paced replay, a request every 40 s, reaches across five minutes.
        let slow: Vec<i64> = (0..10).map(|k| k * 40 * SEC).collect();
        assert_eq!(pause(&slow), 5 * 60 * SEC);
        assert_eq!(pause(&slow[..5]), 5 * 60 * SEC);
        assert_eq!(pause(&[1, 2, 3]), MIN_PAUSE_US);
        // One flagged request tells no pace.
        assert_eq!(pause(&[7]), PAUSE_US);
    }
}
