//! Staff routes used from a new place. A principal's privileged requests from an
//! address it had not used are a finding of their own, unless they look like its own
//! work done elsewhere (its usual agent, routes staff take): those count only beside
//! another finding on that address, and are otherwise a note. Where the gateway logs no
//! identity (nginx `combined`, Envoy), successful staff-route requests from an address
//! that sent such requests on fewer than two other days are one only when another
//! finding flags that address, or when they asked for a mass send under an agent staff
//! do not use at work (`pushplace`): alone they may be a staff member away from the
//! office, and a note lists them.

use super::detect::path_of;
use super::enrich::Links;
use super::technique as t;
use super::timing::{route, Route};
use super::{Analysis, Finding};
use crate::model::SourceKind;
use crate::profile::Profile;
use crate::timeparse::fmt_utc_s;
use std::collections::{BTreeMap, BTreeSet};

/// Privileged (staff-route) actions by a principal from a place it never used before,
/// each a finding of its own, except those that look like the principal's own work done
/// elsewhere (`named`), which count only beside what the others found.
pub fn new_place(a: &Analysis, l: &Links, p: &Profile) -> Vec<Finding> {
    named(a, l, p)
        .into_iter()
        .filter(|(_, quiet)| !quiet)
        .map(|(f, _)| f)
        .collect()
}

/// Every principal's new places as findings, each with whether it looks like the
/// principal's own work done elsewhere (a staff member at home): every request under an
/// agent the principal sent from its usual places, to a route staff take from theirs.
/// A stolen login used from a new place shows its own browser, or routes staff do not
/// take; one that shows neither is told from staff at home only by what else it did.
fn named(a: &Analysis, l: &Links, p: &Profile) -> Vec<(Finding, bool)> {
    let ev = &a.ing.events;
    let mut by: BTreeMap<(&str, &str), Vec<usize>> = BTreeMap::new();
    let mut agents: BTreeSet<(&str, &str)> = BTreeSet::new();
    let mut routes: BTreeSet<Route> = BTreeSet::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() != SourceKind::Gateway || !p.is_staff_route(path_of(e)) {
            continue;
        }
        if let (Some(pr), Some(ip)) = (&e.principal, &e.client_ip) {
            if !l.usual_place(pr, ip, p) {
                by.entry((pr, ip)).or_default().push(i);
            } else if e.status.is_some_and(|s| (200..400).contains(&s)) {
                if let Some(u) = e.user_agent.as_deref() {
                    agents.insert((pr, u));
                }
                routes.insert(route(e));
            }
        }
    }
    by.into_iter()
        .map(|((pr, ip), evs)| {
            let usual: Vec<String> = (l.places.get(pr))
                .map(|m| {
                    m.keys()
                        .filter(|x| l.usual_place(pr, x, p))
                        .map(|x| x.to_string())
                        .collect()
                })
                .unwrap_or_default();
            let quiet = evs.iter().all(|&i| {
                let e = &ev[i];
                e.user_agent.as_deref().is_some_and(|u| agents.contains(&(pr, u)))
                    && routes.contains(&route(e))
            });
            let ua = ev[evs[0]].user_agent.clone().unwrap_or_default();
            let f = Finding {
                technique: t::NEW_PLACE_ACCESS,
                subject: format!("{pr}@{ip}"),
                explanation: format!(
                    "{pr} made {} privileged requests from {ip} ({}), a place it had not used; usual places: {}",
                    evs.len(),
                    crate::sanitize::shorten(&ua, 60),
                    if usual.is_empty() { "none seen".into() } else { usual.join(", ") }
                ),
                seed_contexts: vec![(pr.to_string(), ip.to_string())],
                seed_ips: vec![ip.to_string()],
                seed_sessions: vec![],
                shared_ips: vec![],
                events: evs,
            };
            (f, quiet)
        })
        .collect()
}

/// Successful staff-route requests that carry no identity, from addresses that are not
/// staff at work (`Links::staff_at_work`: an office, or an address that sent such
/// requests on two other days): address → events, in event order.
pub fn unnamed<'a>(a: &'a Analysis, l: &Links, p: &Profile) -> BTreeMap<&'a str, Vec<usize>> {
    let mut by: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, e) in a.ing.events.iter().enumerate() {
        if e.kind() != SourceKind::Gateway || e.principal.is_some() || e.user.is_some() {
            continue;
        }
        if !e.status.is_some_and(|s| (200..400).contains(&s)) {
            continue;
        }
        let Some(ip) = e.client_ip.as_deref() else {
            continue;
        };
        if p.is_staff_route(path_of(e)) && !l.staff_at_work(e, p) {
            by.entry(ip).or_default().push(i);
        }
    }
    by
}

/// The addresses some finding makes attacker entities.
fn flagged(found: &[Finding]) -> BTreeSet<&str> {
    (found.iter())
        .flat_map(|f| f.seed_ips.iter().map(String::as_str))
        .collect()
}

/// Findings for the unnamed staff places (`unnamed`), and the principals' new places
/// that look like their own work done elsewhere (`named`), of addresses that `found`
/// flags; and unnamed places that asked for a mass send under an agent staff do not use
/// at work (`pushplace`), flagged or not.
pub fn corroborated(a: &Analysis, l: &Links, p: &Profile, found: &[Finding]) -> Vec<Finding> {
    let flagged = flagged(found);
    let ev = &a.ing.events;
    let quiet = (named(a, l, p).into_iter())
        .filter(|(f, quiet)| *quiet && f.seed_ips.iter().any(|ip| flagged.contains(ip.as_str())))
        .map(|(f, _)| f);
    // Made only when an unnamed place has no other finding: a pass over every event.
    let at_work = std::cell::OnceCell::new();
    unnamed(a, l, p)
        .into_iter()
        .filter_map(|(ip, evs)| {
            let why = match flagged.contains(ip) {
                true => "that other findings flag".to_string(),
                false => {
                    let at_work = at_work.get_or_init(|| super::pushplace::AtWork::new(ev, l, p));
                    let i = at_work.mass_send(ev, &evs, p)?;
                    format!(
                        "that asked at {} for a send to {} devices or more under an agent no \
                         staff member used at work",
                        fmt_utc_s(ev[i].ts),
                        p.thresholds.mass_push_recipients
                    )
                }
            };
            Some((ip, evs, why))
        })
        .map(|(ip, evs, why)| {
            let ua = ev[evs[0]].user_agent.clone().unwrap_or_default();
            Finding {
                technique: t::NEW_PLACE_ACCESS,
                subject: format!("{ip} (staff routes, no identity logged)"),
                explanation: format!(
                    "{} successful staff-route requests from {ip} ({}), an address that sent \
                     none on two other days and {why}; the gateway logs no identity, so the \
                     staff account used cannot be named from it",
                    evs.len(),
                    crate::sanitize::shorten(&ua, 60),
                ),
                seed_contexts: vec![],
                seed_ips: vec![ip.to_string()],
                seed_sessions: vec![],
                shared_ips: vec![],
                events: evs,
            }
        })
        .chain(quiet)
        .collect()
}

/// Places the first hours made usual (`Links::place_use`) at addresses other findings
/// flag: unlearned in `l`, so that the principal's requests there count as the
/// detectors count a new place's. Where the evidence begins on the day of the attack, a
/// stolen staff login used before its owner came to work (or from the attacker's own
/// host) falls in the principal's first hours. Returns a note naming them, if any.
pub fn unlearn(l: &mut Links, p: &Profile, found: &[Finding]) -> Option<String> {
    let flagged = flagged(found);
    let mut named = Vec::new();
    for (pr, m) in &l.places {
        for ip in m.keys() {
            if flagged.contains(ip.as_str())
                && !p.is_office(ip)
                && l.place_use(pr, ip, p) == Some(super::usual::Use::FirstHours)
            {
                named.push((pr.clone(), ip.clone()));
            }
        }
    }
    if named.is_empty() {
        return None;
    }
    let list: Vec<String> = named
        .iter()
        .map(|(pr, ip)| format!("{pr} from {ip}"))
        .collect();
    l.unlearned.extend(named);
    Some(format!(
        "Staff accounts used addresses in their first {} hours of activity in the evidence, \
         which would make them their usual places, and other findings flag those addresses: \
         {}. They are not counted as usual places: the evidence shows no earlier history \
         that would make them so.",
        p.thresholds.baseline_hours,
        list.join(", ")
    ))
}

/// Most addresses a note names.
const LIST: usize = 10;

/// Notes on unnamed staff places: the waves whose staff account the evidence cannot
/// name, and the places no finding flags, which are left out of the attack.
pub fn notes(a: &Analysis, l: &Links, p: &Profile) -> Vec<String> {
    let ev = &a.ing.events;
    let mut out = Vec::new();
    let flagged = flagged(&a.findings);
    let quiet: Vec<String> = (named(a, l, p).into_iter())
        .filter(|(f, quiet)| *quiet && !f.seed_ips.iter().any(|ip| flagged.contains(ip.as_str())))
        .map(|(f, _)| {
            let (pr, ip) = &f.seed_contexts[0];
            format!(
                "{pr} from {ip} ({} requests, first at {})",
                f.events.len(),
                fmt_utc_s(ev[f.events[0]].ts)
            )
        })
        .collect();
    if !quiet.is_empty() {
        out.push(format!(
            "Staff accounts used staff routes from places they had not used before, under \
             the agents they send from their usual places and on routes staff take from \
             theirs, and no detector flagged those addresses: {}. They are not counted as \
             the attacker's. Review them: a staff member working from elsewhere, or a stolen \
             staff login used quietly (the application's sign-in log would tell).",
            quiet.join(", ")
        ));
    }
    let unnamed = unnamed(a, l, p);
    if unnamed.is_empty() {
        return out;
    }
    // A wave's principals of direct DB sessions (`db:user`) are not the staff account.
    let unnamed_wave = |w: &&super::Wave| w.principals.iter().all(|p| p.starts_with("db:"));
    for w in a.waves.iter().filter(unnamed_wave) {
        let ips: Vec<(&str, i64)> = (unnamed.iter())
            .filter_map(|(ip, evs)| {
                let first = evs
                    .iter()
                    .copied()
                    .find(|&i| a.attr[i].as_ref().is_some_and(|x| x.wave == w.id))?;
                Some((*ip, ev[first].ts))
            })
            .collect();
        if !ips.is_empty() {
            let places: Vec<String> = (ips.iter())
                .map(|(ip, ts)| format!("{ip} (first at {})", fmt_utc_s(*ts)))
                .collect();
            // The author the application wrote into a malicious campaign's row, where
            // a request without identity sent it (`messages::build`'s sender).
            let authors: BTreeSet<&str> = (a.messages.iter())
                .filter(|m| m.malicious && m.wave == Some(w.id) && m.sender_from_row)
                .filter_map(|m| m.sender.as_deref())
                .collect();
            let named = if authors.is_empty() {
                "the staff account cannot be named from this evidence. The application's \
                 own sign-in or audit log for that time would name it."
                    .to_string()
            } else {
                format!(
                    "the application's own row for the malicious campaign names its author \
                     ({}), most likely the staff account used; the application's sign-in or \
                     audit log for that time would confirm it.",
                    authors
                        .iter()
                        .map(|x| format!("\"{}\"", crate::sanitize::shorten(x, 80)))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            out.push(format!(
                "Wave {} used staff routes from {}, but the gateway logs no identity: {named}",
                w.id,
                places.join(", "),
            ));
        }
    }
    let alone: Vec<(&&str, &Vec<usize>)> = (unnamed.iter())
        .filter(|(ip, _)| !flagged.contains(**ip))
        .collect();
    if !alone.is_empty() {
        let mut named: Vec<String> = (alone.iter().take(LIST))
            .map(|(ip, evs)| {
                format!(
                    "{ip} ({} requests, first at {})",
                    evs.len(),
                    fmt_utc_s(ev[evs[0]].ts)
                )
            })
            .collect();
        if alone.len() > LIST {
            named.push(format!("and {} more", alone.len() - LIST));
        }
        out.push(format!(
            "Successful staff-route requests that carry no identity came from addresses that \
             sent none on two other days and that no detector flagged: {}. The gateway logs \
             no identity, so whose staff login they used cannot be told; they are not counted \
             as the attacker's. Review them: a staff member away from the office, or a stolen \
             staff login used quietly.",
            named.join(", ")
        ));
    }
    out
}
