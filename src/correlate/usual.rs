//! Where principals work: each principal's sittings at each address, the staff-route
//! days of each address, and the rules that make an address a usual place of a
//! principal (its days, its first hours, an office) or staff at work.

use super::enrich::Links;
use crate::model::{Event, SourceKind, Text};
use crate::profile::Profile;
use foldhash::{HashMap, HashMapExt, HashSet};
use rayon::prelude::*;
use std::collections::BTreeMap;

/// A principal's use of one address: first and last request, how many, and its
/// sittings. A sitting is a run of requests no more than `SITTING_GAP` apart: a session
/// that runs past midnight is one sitting, begun on one day, where counting the days it
/// touched made a stolen login used from 23:37 to 00:03 a place used on two days, so
/// usual.
#[derive(Debug, Clone, Default)]
pub struct PlaceStats {
    /// First request, µs.
    pub first: i64,
    /// Last request, µs.
    pub last: i64,
    /// Requests.
    pub events: usize,
    /// (start, end) of each sitting, in time order.
    pub sittings: Vec<(i64, i64)>,
}

impl PlaceStats {
    /// The UTC days its sittings began on.
    pub fn days(&self) -> usize {
        let mut d: Vec<i64> = (self.sittings.iter())
            .map(|s| s.0.div_euclid(86_400_000_000))
            .collect();
        d.dedup();
        d.len()
    }

    /// Whether its first request came inside a sitting at `other`: the principal, at
    /// work there, went on working from there after this address appeared.
    fn began_during(&self, other: &PlaceStats) -> bool {
        (other.sittings.iter()).any(|&(s, e)| s < self.first && e > self.first)
    }
}

/// The longest pause inside one sitting at a place.
const SITTING_GAP: i64 = 3 * 3_600_000_000;

/// Why an address is a principal's usual place (`Links::place_use`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    /// Used in sittings begun on two or more days.
    Days,
    /// Its only place, or one used in its first hours of activity.
    FirstHours,
    /// Learned in the first hours, but other findings flag the address
    /// (`places::unlearn`): not a usual place.
    Unlearned,
}

impl Links {
    /// Whether `ip` is a usual place of `principal`: an office address, used in sittings
    /// begun on two or more days, or used in the principal's first `baseline_hours` of
    /// activity — unless its use began while the principal was at work at another
    /// address and went on there. The first hours learn where a principal works when the
    /// evidence shows no history; a second address that appears while the principal goes
    /// on working from the first is not where it works but one login used from two places
    /// at once (a stolen one, when the evidence begins on the day of the attack).
    pub fn usual_place(&self, principal: &str, ip: &str, p: &Profile) -> bool {
        p.is_office(ip)
            || self
                .place_use(principal, ip, p)
                .is_some_and(|u| u != Use::Unlearned)
    }

    /// Why `ip` is a usual place of `principal` (`usual_place`), offices aside: `None`
    /// when it is not one.
    pub fn place_use(&self, principal: &str, ip: &str, p: &Profile) -> Option<Use> {
        let m = self.places.get(principal)?;
        let x = m.get(ip)?;
        if x.days() >= 2 {
            return Some(Use::Days);
        }
        let start = self
            .principal_first
            .get(principal)
            .copied()
            .unwrap_or(x.first);
        // With a single place there is nothing to compare against.
        let learned = m.len() == 1
            || (x.first <= start + p.thresholds.baseline_hours as i64 * 3_600_000_000
                && !(m.iter()).any(|(other, o)| other.as_str() != ip && x.began_during(o)));
        if !learned {
            return None;
        }
        let unlearned =
            (self.unlearned.iter()).any(|(x, y)| x.as_str() == principal && y.as_str() == ip);
        match unlearned {
            true => Some(Use::Unlearned),
            false => Some(Use::FirstHours),
        }
    }

    /// Whether a request is staff at work from where they work: a principal at one of its
    /// usual places; or, where the gateway logs no identity at all, a staff-route request
    /// from an address that sent such requests successfully on two or more other days
    /// (the office, a VPN exit). A stolen staff login used from a new address is neither,
    /// even when its session runs past midnight.
    pub fn staff_at_work(&self, g: &Event, p: &Profile) -> bool {
        let Some(ip) = &g.client_ip else {
            return false;
        };
        match &g.principal {
            Some(pr) => self.usual_place(pr, ip, p),
            None => {
                g.user.is_none()
                    && p.is_staff_route(g.route.as_deref().or(g.path.as_deref()).unwrap_or(""))
                    && (p.is_office(ip)
                        || self.staff_addresses.get(ip).is_some_and(|days| {
                            let today = g.ts.div_euclid(86_400_000_000);
                            days.iter().filter(|&&d| d != today).count() >= 2
                        }))
            }
        }
    }
}

/// Principal → address → stats, and each principal's first activity.
pub(super) fn places(
    ev: &[Box<Event>],
) -> (
    BTreeMap<Text, BTreeMap<Text, PlaceStats>>,
    HashMap<Text, i64>,
) {
    let mut places: BTreeMap<Text, BTreeMap<Text, PlaceStats>> = BTreeMap::new();
    let mut first = HashMap::new();
    for e in ev.iter().filter(|e| e.kind() == SourceKind::Gateway) {
        if let (Some(pr), Some(ip)) = (&e.principal, &e.client_ip) {
            let x = places
                .entry(pr.clone())
                .or_default()
                .entry(ip.clone())
                .or_insert(PlaceStats {
                    first: e.ts,
                    last: e.ts,
                    ..Default::default()
                });
            match x.sittings.last_mut() {
                Some(s) if e.ts - s.1 <= SITTING_GAP => s.1 = e.ts,
                _ => x.sittings.push((e.ts, e.ts)),
            }
            x.last = e.ts;
            x.events += 1;
            first.entry(pr.clone()).or_insert(e.ts);
        }
    }
    (places, first)
}

/// Address → days of successful staff-route requests that carry no identity, or carry
/// a principal that used the address on two or more days (`places`): where one gateway
/// layer logs who is signed in and another, whose log reaches further back, does not,
/// the office's days in the first count as the office's.
pub(super) fn staff_addresses(
    ev: &[Box<Event>],
    p: &Profile,
    places: &BTreeMap<Text, BTreeMap<Text, PlaceStats>>,
) -> HashMap<Text, HashSet<i64>> {
    let hits: Vec<(Text, i64)> = ev
        .par_iter()
        .filter(|e| e.kind() == SourceKind::Gateway)
        .filter(|e| e.status.is_some_and(|s| (200..400).contains(&s)))
        .filter(|e| p.is_staff_route(e.route.as_deref().or(e.path.as_deref()).unwrap_or("")))
        .filter(|e| match (&e.principal, &e.client_ip) {
            (Some(pr), Some(ip)) => {
                (places.get(pr).and_then(|m| m.get(ip))).is_some_and(|x| x.days() >= 2)
            }
            _ => e.user.is_none(),
        })
        .filter_map(|e| Some((e.client_ip.clone()?, e.ts.div_euclid(86_400_000_000))))
        .collect();
    let mut m: HashMap<Text, HashSet<i64>> = HashMap::new();
    for (ip, day) in hits {
        m.entry(ip).or_default().insert(day);
    }
    m
}
