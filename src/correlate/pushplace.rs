//! A mass push asked for at a place staff never worked from. Where the gateway logs no
//! identity, staff-route requests from a new address are a staff member away from the
//! office as often as a stolen login (`places::unnamed`), and count only beside another
//! finding. A send to every customer asked for there, under an agent no staff member
//! used at work (a script's, where staff use a browser), is not left to that: of all
//! the things a stolen staff login can do, it is the one the customers see.

use super::detect::path_of;
use super::enrich::{is_safe, Links};
use crate::model::{Event, SourceKind};
use crate::profile::{Profile, Target};
use std::collections::BTreeSet;

/// How long after its request a send's first delivery may come (the application's
/// queue, the provider's fan-out).
const SEND_WITHIN_US: i64 = 10 * 60 * 1_000_000;

/// What the rule compares a place's requests with, gathered in one pass over the
/// events: the agents of successful staff-route requests made by staff at work, and the
/// times of the push records (receipts aside), in order.
pub(super) struct AtWork<'a> {
    agents: BTreeSet<&'a str>,
    pushes: Vec<i64>,
}

impl<'a> AtWork<'a> {
    pub(super) fn new(ev: &'a [Box<Event>], l: &Links, p: &Profile) -> AtWork<'a> {
        let mut w = AtWork {
            agents: BTreeSet::new(),
            pushes: Vec::new(),
        };
        for e in ev {
            match e.kind() {
                SourceKind::Push if !receipt(e) => w.pushes.push(e.ts),
                SourceKind::Gateway
                    if e.status.is_some_and(|s| (200..400).contains(&s))
                        && p.is_staff_route(path_of(e))
                        && l.staff_at_work(e, p) =>
                {
                    w.agents.extend(e.user_agent.as_deref());
                }
                _ => {}
            }
        }
        w
    }

    /// The first of `evs` (staff-route requests of one address that is not staff at
    /// work) that asks for a send — a changing request to a push route — under an agent
    /// staff do not use at work, followed within `SEND_WITHIN_US` by deliveries to as
    /// many devices as make a mass send.
    pub(super) fn mass_send(&self, ev: &[Box<Event>], evs: &[usize], p: &Profile) -> Option<usize> {
        let mass = p.thresholds.mass_push_recipients as usize;
        evs.iter().copied().find(|&i| {
            let e = &ev[i];
            let asks = e.method.as_deref().is_some_and(|m| !is_safe(m))
                && p.route_target(path_of(e)) == Some(Target::Push);
            let foreign = (e.user_agent.as_deref()).is_some_and(|u| !self.agents.contains(u));
            let lo = self.pushes.partition_point(|&t| t < e.ts);
            let hi = self.pushes.partition_point(|&t| t <= e.ts + SEND_WITHIN_US);
            asks && foreign && hi - lo >= mass
        })
    }
}

/// A provider's receipt: the backend's later poll for an outcome, not a delivery.
fn receipt(e: &Event) -> bool {
    e.push()
        .delivery
        .as_deref()
        .is_some_and(|d| d.starts_with("receipt"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(ts: i64, path: &str, ua: &str) -> Box<Event> {
        let mut e = Event::new(SourceKind::Gateway, "envoy");
        e.ts = ts;
        e.method = Some("POST".into());
        e.path = Some(path.into());
        e.status = Some(202);
        e.user_agent = Some(ua.into());
        e.client_ip = Some("192.0.2.99".into());
        Box::new(e)
    }

    fn push(ts: i64) -> Box<Event> {
        let mut e = Event::new(SourceKind::Push, "expo-push-log");
        e.ts = ts;
        Box::new(e)
    }

    #[test]
    fn a_script_asking_for_a_send_to_everyone_is_told_from_a_browser_and_a_small_send() {
        let p = Profile::default();
        let mut ev = vec![
            req(1_000_000, "/ops/push/campaigns", "python-requests/2.31.0"),
            req(2_000_000, "/ops/push/campaigns", "Mozilla/5.0 Safari/17.2"),
            req(3_000_000, "/ops/customers/7", "python-requests/2.31.0"),
        ];
        ev.extend((0..150).map(|k| push(5_000_000 + k * 10_000)));
        let at_work = |n: usize| AtWork {
            agents: ["Mozilla/5.0 Safari/17.2"].into_iter().collect(),
            pushes: ev[3..3 + n].iter().map(|e| e.ts).collect(),
        };
        assert_eq!(at_work(150).mass_send(&ev, &[0, 1, 2], &p), Some(0));
        assert_eq!(at_work(150).mass_send(&ev, &[1, 2], &p), None);
        // Fifty devices are no mass send.
        assert_eq!(at_work(50).mass_send(&ev, &[0], &p), None);
    }
}
