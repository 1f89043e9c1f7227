//! Proxies the run was not told of: a gateway behind a CDN or a load balancer with public
//! addresses logs the proxy as its peer and the client in `X-Forwarded-For`. Unless
//! `--trusted-proxy` names the proxies, a handful of edge addresses stand for every
//! customer and every attacker alike. A public peer that forwarded for many clients is
//! read as a proxy when it carried most of the forwarded requests (the one balancer), or
//! a share of them for clients that reach the gateway through other peers too (a CDN's
//! edges): each of its requests takes its client from the header, as `--trusted-proxy`
//! would have made it. An attacker who writes the header itself, connecting directly,
//! carries a sliver of the traffic for clients no one else forwards, and keeps its own
//! address.

use crate::ingest::client::{self, Cidr};
use crate::model::{Event, SourceKind};
use std::collections::{BTreeMap, BTreeSet};

/// Fewest distinct forwarded clients that make a peer a proxy.
const MIN_CLIENTS: usize = 20;

/// Most distinct clients kept per peer: enough to judge it by.
const CLIENTS_KEPT: usize = MIN_CLIENTS * 50;

/// Least share of the forwarded requests a proxy carries.
const MIN_SHARE: f64 = 0.02;

/// Share of the forwarded requests that makes a peer the proxy by itself.
const MOST: f64 = 0.5;

/// The public peer of a gateway record that names a forwarded client and was not taken
/// for a proxy when it was read: (peer, forwarded client).
fn forwarded(e: &Event) -> Option<(&str, &str)> {
    if e.kind() != SourceKind::Gateway || e.extra.get("peer_address").is_some() {
        return None;
    }
    let peer = e.client_ip.as_deref()?;
    let xff = e.extra.get("x_forwarded_for")?;
    let addr = client::ip(peer)?;
    if client::is_trusted(addr, &[]) {
        return None;
    }
    let c = client::forwarded_client(xff, &[])?;
    (c != peer).then_some((peer, c))
}

/// Proxies found: (address, requests, distinct clients), and requests moved to their
/// clients.
#[derive(Debug, Default, PartialEq)]
pub struct Found {
    pub proxies: Vec<(String, usize, usize)>,
    pub moved: usize,
}

/// Finds the public peers that are proxies and gives their requests their forwarded
/// clients (the proxy kept as `peer_address`).
pub fn resolve(ev: &mut [Box<Event>]) -> Found {
    // Per peer: requests and the distinct clients it forwarded for (enough of them to
    // judge); per client: the peers it came through, two at most.
    // Each forwarded request (index, peer, client), read once.
    let seen: Vec<(usize, &str, &str)> = (ev.iter().enumerate())
        .filter_map(|(i, e)| forwarded(e).map(|(p, c)| (i, p, c)))
        .collect();
    let total = seen.len();
    let mut by: BTreeMap<&str, (usize, BTreeSet<&str>)> = BTreeMap::new();
    let mut via: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &(_, peer, c) in &seen {
        let x = by.entry(peer).or_default();
        x.0 += 1;
        if x.1.len() < CLIENTS_KEPT {
            x.1.insert(c);
        }
        let v = via.entry(c).or_default();
        if v.len() < 2 && !v.contains(&peer) {
            v.push(peer);
        }
    }
    let proxies: Vec<(String, usize, usize)> = by
        .into_iter()
        .filter(|(_, (n, c))| {
            let share = *n as f64 / total.max(1) as f64;
            let shared = c.iter().filter(|x| via[*x].len() > 1).count();
            c.len() >= MIN_CLIENTS
                && (share >= MOST || (share >= MIN_SHARE && shared * 2 >= c.len()))
        })
        .map(|(p, (n, c))| (p.to_string(), n, c.len()))
        .collect();
    if proxies.is_empty() {
        return Found::default();
    }
    let cidrs: Vec<Cidr> = proxies
        .iter()
        .filter_map(|(p, ..)| Cidr::parse(p).ok())
        .collect();
    let names: BTreeSet<&str> = proxies.iter().map(|(p, ..)| p.as_str()).collect();
    let through: Vec<usize> = (seen.iter())
        .filter(|(_, p, _)| names.contains(p))
        .map(|&(i, ..)| i)
        .collect();
    for &i in &through {
        client::resolve(&mut ev[i], &cidrs);
    }
    Found {
        moved: through.len(),
        proxies,
    }
}

impl Found {
    /// The note that says which addresses were read as proxies.
    pub fn note(&self) -> Option<String> {
        if self.proxies.is_empty() {
            return None;
        }
        let list: Vec<String> = (self.proxies.iter())
            .take(8)
            .map(|(p, n, c)| {
                format!(
                    "{p} ({n} requests for {c}{} clients)",
                    if *c >= CLIENTS_KEPT { "+" } else { "" }
                )
            })
            .collect();
        Some(format!(
            "{} public addresses forwarded requests for many clients in X-Forwarded-For (a \
             CDN's or load balancer's edges): {}{}. They were read as proxies, as \
             --trusted-proxy would have made them: {} requests took their client from the \
             header and keep the proxy as peer_address. Pass --trusted-proxy with the \
             proxies' ranges to say so, or to name proxies this rule did not find",
            self.proxies.len(),
            list.join(", "),
            if self.proxies.len() > 8 { ", …" } else { "" },
            self.moved
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(peer: &str, xff: Option<&str>) -> Box<Event> {
        let mut e = Event::new(SourceKind::Gateway, "envoy-json");
        e.client_ip = Some(peer.into());
        if let Some(x) = xff {
            e.extra.insert("x_forwarded_for", x);
        }
        Box::new(e)
    }

    #[test]
    fn edges_that_forward_for_many_clients_are_proxies() {
        // A CDN's two edges, each customer's requests through either.
        let mut ev: Vec<Box<Event>> = (0..200)
            .map(|k| {
                let edge = ["13.32.10.5", "13.32.11.9"][k % 2];
                req(edge, Some(&format!("100.64.0.{}", k % 61)))
            })
            .collect();
        // An attacker straight at the origin, writing the header itself, a new client
        // each time; and a public peer that names no one else.
        for k in 0..30 {
            ev.push(req("203.0.113.14", Some(&format!("198.18.0.{k}"))));
        }
        ev.push(req("198.51.100.23", Some("198.51.100.23")));
        let f = resolve(&mut ev);
        assert_eq!(
            f.proxies,
            [
                ("13.32.10.5".to_string(), 100, 61),
                ("13.32.11.9".to_string(), 100, 61)
            ]
        );
        assert_eq!(f.moved, 200);
        assert_eq!(ev[3].client_ip.as_deref(), Some("100.64.0.3"));
        assert_eq!(ev[3].extra["peer_address"], "13.32.11.9");
        assert_eq!(ev[200].client_ip.as_deref(), Some("203.0.113.14"));
        assert!(f
            .note()
            .unwrap()
            .contains("13.32.10.5 (100 requests for 61 clients)"));
        // One balancer with a public address carries most requests by itself.
        let mut one: Vec<Box<Event>> = (0..100)
            .map(|k| req("198.51.100.80", Some(&format!("100.64.0.{k}"))))
            .collect();
        assert_eq!(resolve(&mut one).proxies.len(), 1);
        // Few clients: no proxy.
        let mut few: Vec<Box<Event>> = (0..100)
            .map(|k| req("13.32.10.5", Some(&format!("100.64.0.{}", k % 5))))
            .collect();
        assert_eq!(resolve(&mut few), Found::default());
    }
}
