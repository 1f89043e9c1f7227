//! Credential stuffing and brute force per address: bursts of failed logins from one
//! address, judged burst by burst (a carrier's exit carries its customers' logins on
//! every day). Stuffing spread over a proxy pool is `spray`'s; this detector hands it the
//! login requests and the addresses it flagged.

use super::detect::{median_gap, path_of, HOUR};
use super::enrich::Links;
use super::technique as t;
use super::{Analysis, Finding};
use crate::model::{Event, Outcome, SourceKind};
use crate::profile::Profile;
use std::collections::{BTreeMap, BTreeSet};

/// Whether a login request failed: refused as each kind of application refuses a
/// credential — 401 and 403; 400, OAuth 2's `invalid_grant` (RFC 6749 §5.2), which
/// token endpoints, Cognito and Django REST framework answer a wrong password with;
/// 422, Laravel's and Rails' failed validation; 423, a locked account; 429, a rate
/// limit — or a failure without status.
pub(super) fn failed_login(e: &Event) -> bool {
    matches!(e.status, Some(400 | 401 | 403 | 422 | 423 | 429))
        || (e.status.is_none() && e.outcome == Outcome::Failure)
}

/// Login names tried, from the login lookup statements linked to a request: their
/// bound parameters, or the string values written inline where the log has no
/// parameters (MySQL-family audit logs).
fn login_names(e: &Event, a: &Analysis, l: &Links) -> Vec<String> {
    let mut v = Vec::new();
    if let Some(u) = &e.user {
        v.push(u.to_string());
    }
    if let Some(ids) = e.request_id.as_ref().and_then(|r| l.db_by_req.get(r)) {
        for &i in ids {
            v.extend(lookup_values(&a.ing.events[i]));
        }
    }
    v
}

/// The values a statement looks up: its bound parameters, or the strings written inline
/// where the log has no parameters (MySQL-family audit logs).
pub(super) fn lookup_values(s: &Event) -> Vec<String> {
    match (&s.params, &s.statement) {
        (Some(ps), _) => ps.iter().cloned().collect(),
        (None, Some(text)) => crate::sql::string_literals(text),
        (None, None) => Vec::new(),
    }
}

/// Drops the values most login attempts carry: a lookup's own constants
/// (`status = 'active'`, a tenant), not names tried. One is common when it is on a
/// quarter of the attempts that carry values, and on ten at least; a customer's own
/// name is on their few attempts, a stuffing list's on one each.
fn drop_constants<'a>(names: impl Iterator<Item = &'a mut Vec<String>>) {
    let mut all: Vec<&'a mut Vec<String>> = names.collect();
    let with = all.iter().filter(|v| !v.is_empty()).count();
    let mut count: BTreeMap<&str, usize> = BTreeMap::new();
    for v in &all {
        let distinct: BTreeSet<&str> = v.iter().map(String::as_str).collect();
        for n in distinct {
            *count.entry(n).or_default() += 1;
        }
    }
    let common: BTreeSet<String> = count
        .into_iter()
        .filter(|&(_, c)| c >= 10 && c * 4 > with)
        .map(|(n, _)| n.to_string())
        .collect();
    if common.is_empty() {
        return;
    }
    for v in all.iter_mut() {
        v.retain(|n| !common.contains(n));
    }
}

/// The accounts (or login names) of the given login requests.
pub(super) fn accounts_of(
    ev: &[Box<Event>],
    logins: impl Iterator<Item = usize>,
) -> BTreeSet<String> {
    logins
        .filter_map(|i| {
            ev[i]
                .account_id
                .as_deref()
                .or(ev[i].user.as_deref())
                .map(str::to_string)
        })
        .collect()
}

/// Shortest pause between failures that ends a burst, whatever their pace.
const MIN_SPLIT_US: i64 = 10 * 60 * 1_000_000;

/// The pause between an address's failed logins (`fails_at`, sorted) that ends a burst:
/// thirty times their median gap, from `MIN_SPLIT_US` to an hour. A script failing
/// every few seconds that goes quiet for ten minutes has stopped; a customer behind the
/// address who mistyped a password twice fifty minutes before it started is not its
/// start. A slow run, a failure every few minutes, keeps the hour.
fn burst_split(fails_at: &[i64]) -> i64 {
    median_gap(fails_at).map_or(HOUR, |m| m.saturating_mul(30).clamp(MIN_SPLIT_US, HOUR))
}

/// The bursts of failures at `fails_at` (sorted; no more than `burst_split` apart), each
/// as the span from its first failure to a quarter of an hour after its last: the
/// logins in it are the burst's, the successes that followed among them.
fn spans(fails_at: &[i64]) -> Vec<(i64, i64)> {
    let split = burst_split(fails_at);
    let mut out = Vec::new();
    let mut from = 0;
    for j in 1..=fails_at.len() {
        if j < fails_at.len() && fails_at[j] - fails_at[j - 1] <= split {
            continue;
        }
        out.push((fails_at[from], fails_at[j - 1] + HOUR / 4));
        from = j;
    }
    out
}

/// Credential stuffing / brute force: bursts of failed logins per address (failures no
/// more than `burst_split` apart; distinct login names tried, when DB lookups reveal
/// them), then the successes among them and in the quarter of an hour after.
pub fn stuffing(a: &Analysis, l: &Links, p: &Profile) -> Vec<Finding> {
    let ev = &a.ing.events;
    let logins: Vec<usize> = (0..ev.len())
        .filter(|&i| {
            ev[i].kind() == SourceKind::Gateway
                && ev[i].client_ip.is_some()
                && p.is_login(path_of(&ev[i]))
        })
        .collect();
    if logins.is_empty() {
        return Vec::new();
    }
    let ips: Vec<&str> = logins
        .iter()
        .map(|&i| ev[i].client_ip.as_deref().unwrap_or(""))
        .collect();
    let failed: Vec<u32> = logins
        .iter()
        .map(|&i| failed_login(&ev[i]) as u32)
        .collect();
    let mut tried: Vec<Vec<String>> = logins.iter().map(|&i| login_names(&ev[i], a, l)).collect();
    drop_constants(tried.iter_mut());
    let names: Vec<String> = tried.iter().map(|v| v.join("|")).collect();
    // Each address's logins, by position in `logins`.
    let mut of_ip: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (k, ip) in ips.iter().enumerate() {
        of_ip.entry(ip).or_default().push(k);
    }
    let th = &p.thresholds;
    let mut out = Vec::new();
    // The totals only choose the addresses worth a look; the finding is the bursts of
    // failures. An address customers share (a carrier's CGNAT exit) carries their logins
    // on every day: over the whole evidence its failure ratio can fall below the rule's,
    // and its customers' logins are not the attack.
    for (&ip, all) in &of_ip {
        let fails: u64 = all.iter().map(|&k| failed[k] as u64).sum();
        if fails < th.stuffing_failures {
            continue;
        }
        // Bursts: failures no more than `split` apart, with the address's other logins
        // from the first failure to a quarter of an hour after the last.
        let ts = |k: usize| ev[logins[k]].ts;
        let fails_at: Vec<i64> = all
            .iter()
            .filter(|&&k| failed[k] == 1)
            .map(|&k| ts(k))
            .collect();
        let mut bursts: Vec<Vec<usize>> = Vec::new();
        for (t0, t1) in spans(&fails_at) {
            // Events are in time order: the burst is a slice of the address's logins.
            let lo = all.partition_point(|&k| ts(k) < t0);
            let hi = all.partition_point(|&k| ts(k) <= t1);
            let burst: Vec<usize> = all[lo..hi].to_vec();
            let f: u64 = burst.iter().map(|&k| failed[k] as u64).sum();
            if f >= th.stuffing_failures
                && f as f64 >= th.stuffing_failure_ratio * burst.len() as f64
            {
                bursts.push(burst);
            }
        }
        if bursts.is_empty() {
            continue;
        }
        let ks: Vec<usize> = bursts.concat();
        let fails: u64 = ks.iter().map(|&k| failed[k] as u64).sum();
        let n = ks.len();
        let distinct = ks.iter().map(|&k| &names[k]).collect::<BTreeSet<_>>().len();
        let evs: Vec<usize> = ks.iter().map(|&k| logins[k]).collect();
        let ok = accounts_of(
            ev,
            evs.iter()
                .copied()
                .filter(|&i| ev[i].outcome == Outcome::Success),
        );
        let what = if distinct > 3 {
            "credential stuffing"
        } else {
            "brute force"
        };
        let within = if bursts.len() == 1 && n == all.len() {
            String::new()
        } else {
            format!(
                " in {} burst{} ({} other logins from it are not counted)",
                bursts.len(),
                if bursts.len() == 1 { "" } else { "s" },
                all.len() - n
            )
        };
        out.push(Finding {
            technique: t::CREDENTIAL_STUFFING,
            subject: ip.to_string(),
            explanation: format!(
                "{what}: {fails} of {n} logins from {ip} failed{within} ({} distinct login names); {} succeeded afterwards{}",
                distinct.max(1),
                ok.len(),
                if ok.is_empty() { String::new() } else { format!(" (accounts {})", ok.iter().cloned().collect::<Vec<_>>().join(", ")) }
            ),
            events: evs,
            seed_ips: vec![ip.to_string()],
            seed_contexts: vec![],
            seed_sessions: vec![],
            shared_ips: vec![],
        });
    }
    let flagged: BTreeSet<String> = out.iter().flat_map(|f| f.seed_ips.clone()).collect();
    out.extend(staff_guessed(a, l, p, &logins, &of_ip, &flagged));
    out.extend(super::spray::distributed(a, p, &logins, &tried, &flagged));
    out
}

/// Brute force of a staff login that got in: a burst of `staff_login_failures` failed
/// logins or more to staff routes from one address (of them, the share stuffing takes),
/// then a successful one there within a quarter of an hour, from an address that is
/// not staff at work (an office, an address staff used on two other days). Staff
/// logins are few and guessed from short lists: a burst far below a customer stuffing
/// run's is an attack when it ends in a success, and a staff member who mistyped at
/// the office is at work.
fn staff_guessed(
    a: &Analysis,
    l: &Links,
    p: &Profile,
    logins: &[usize],
    of_ip: &BTreeMap<&str, Vec<usize>>,
    flagged: &BTreeSet<String>,
) -> Vec<Finding> {
    let ev = &a.ing.events;
    let th = &p.thresholds;
    let mut out = Vec::new();
    for (&ip, all) in of_ip {
        if flagged.contains(ip) {
            continue;
        }
        let staff: Vec<usize> = (all.iter())
            .map(|&k| logins[k])
            .filter(|&i| p.is_staff_route(path_of(&ev[i])))
            .collect();
        let fails_at: Vec<i64> = (staff.iter())
            .filter(|&&i| failed_login(&ev[i]))
            .map(|&i| ev[i].ts)
            .collect();
        if (fails_at.len() as u64) < th.staff_login_failures {
            continue;
        }
        for (t0, t1) in spans(&fails_at) {
            let burst: Vec<usize> = (staff.iter())
                .copied()
                .filter(|&i| (t0..=t1).contains(&ev[i].ts))
                .collect();
            let f = burst.iter().filter(|&&i| failed_login(&ev[i])).count();
            let Some(&ok) = (burst.iter()).find(|&&i| {
                ev[i].outcome == Outcome::Success
                    && !failed_login(&ev[i])
                    && !l.staff_at_work(&ev[i], p)
            }) else {
                continue;
            };
            if (f as u64) < th.staff_login_failures
                || (f as f64) < th.stuffing_failure_ratio * burst.len() as f64
            {
                continue;
            }
            let who = accounts_of(ev, std::iter::once(ok));
            out.push(Finding {
                technique: t::CREDENTIAL_STUFFING,
                subject: ip.to_string(),
                explanation: format!(
                    "brute force of a staff login: {f} of {} staff logins from {ip} failed, \
                     then one succeeded at {}{}",
                    burst.len(),
                    crate::timeparse::fmt_utc_s(ev[ok].ts),
                    match who.first() {
                        Some(w) => format!(" (as {w})"),
                        None => String::new(),
                    }
                ),
                events: burst,
                seed_ips: vec![ip.to_string()],
                seed_contexts: vec![],
                seed_sessions: vec![],
                shared_ips: vec![],
            });
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_s_constants_are_no_login_names() {
        // Every lookup carries `status = 'active'`; one customer logs in a dozen times.
        let mut names: Vec<Vec<String>> = (0..88)
            .map(|k| vec![format!("+38067{k:07}"), "active".to_string()])
            .chain((0..12).map(|_| vec!["+380670000001".to_string(), "active".to_string()]))
            .chain([vec![]])
            .collect();
        drop_constants(names.iter_mut());
        assert!(names.iter().all(|v| !v.iter().any(|n| n == "active")));
        assert_eq!(names[90], ["+380670000001"]);
        assert_eq!(names[5], ["+380670000005"]);
        // Few attempts: nothing is common.
        let mut few = vec![vec!["a".to_string()]; 5];
        drop_constants(few.iter_mut());
        assert_eq!(few[0], ["a"]);
    }

    #[test]
    fn a_login_refused_as_any_kind_of_application_refuses_it_failed() {
        let login = |status: Option<u16>, outcome| {
            let mut e = Event::new(SourceKind::Gateway, "apigw-json");
            e.status = status;
            e.outcome = outcome;
            e
        };
        for s in [400, 401, 403, 422, 423, 429] {
            assert!(failed_login(&login(Some(s), Outcome::Failure)), "{s}");
        }
        // Signed in, redirected after a form's sign-in, no such route, the server's fault.
        for s in [200, 302, 404, 500, 503] {
            let o = if s < 400 {
                Outcome::Success
            } else {
                Outcome::Failure
            };
            assert!(!failed_login(&login(Some(s), o)), "{s}");
        }
        assert!(failed_login(&login(None, Outcome::Failure)));
        assert!(!failed_login(&login(None, Outcome::Unknown)));
    }

    #[test]
    fn a_burst_ends_at_a_pause_long_for_its_pace() {
        let s = 1_000_000;
        // A customer's two failures 52 minutes before a run failing every six seconds.
        let mut t = vec![0, 12 * s];
        t.extend((0..60).map(|k| 52 * 60 * s + k * 6 * s));
        assert_eq!(burst_split(&t), MIN_SPLIT_US);
        assert!(t[2] - t[1] > burst_split(&t));
        // Every thirty seconds: a quarter of an hour.
        let steady: Vec<i64> = (0..20).map(|k| k * 30 * s).collect();
        assert_eq!(burst_split(&steady), 15 * 60 * s);
        // A slow run, a failure every four minutes, and a lone failure keep the hour.
        let slow: Vec<i64> = (0..20).map(|k| k * 240 * s).collect();
        assert_eq!(burst_split(&slow), HOUR);
        assert_eq!(burst_split(&[5]), HOUR);
    }
}
