//! The client address of a gateway record behind proxies. A gateway that logs its TCP peer
//! logs the load balancer when one is in front; the client is then in `X-Forwarded-For`,
//! where every proxy appends the address it saw. As nginx's `real_ip_recursive` does, the
//! client is the rightmost address that is not a trusted proxy (private, loopback and
//! link-local addresses, and the `--trusted-proxy` ranges), or the leftmost when all are:
//! the addresses left of it were written by the client and prove nothing.

use crate::model::{text, Event};
use std::net::IpAddr;

/// An address range (`10.0.0.0/8`, `2600:9000::/28`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    net: IpAddr,
    bits: u8,
}

impl Cidr {
    /// Parses `ADDRESS[/BITS]`.
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (a, bits) = match s.trim().split_once('/') {
            Some((a, b)) => (a, Some(b)),
            None => (s.trim(), None),
        };
        let net: IpAddr = a
            .parse()
            .map_err(|_| format!("{a:?} is not an IP address"))?;
        let max = if net.is_ipv4() { 32 } else { 128 };
        let bits = match bits {
            Some(b) => b
                .parse::<u8>()
                .ok()
                .filter(|b| *b <= max)
                .ok_or_else(|| format!("{b:?} is not a prefix length of 0–{max}"))?,
            None => max,
        };
        Ok(Cidr { net, bits })
    }

    /// Whether an address is in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = u32::from(self.bits);
        match (self.net, ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - bits).unwrap_or(0);
                u32::from(n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
                u128::from(n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }
}

/// An address in the one form it is compared in, where it is written otherwise: an IPv4
/// address a dual-stack server logs mapped into IPv6 (`::ffff:203.0.113.14`, as Node.js
/// and Java servers do) as IPv4, an IPv6 address in its RFC 5952 form (lower case, zeros
/// compressed: `2001:DB8:0:0::1` is `2001:db8::1`).
fn canonical(a: &str) -> Option<String> {
    if !a.contains(':') {
        return None;
    }
    let ip: std::net::Ipv6Addr = a.parse().ok()?;
    let c = match ip.to_ipv4_mapped() {
        Some(v4) => v4.to_string(),
        None => ip.to_string(),
    };
    (c != a).then_some(c)
}

/// Writes a record's client address and database host in their one form
/// (`canonical`), so that one client is one address whichever source logged it; the
/// form logged is kept in `extra` (`client_ip_logged`, `db_host_logged`).
pub fn canonical_addresses(e: &mut Event) {
    for (field, key) in [
        (&mut e.client_ip, "client_ip_logged"),
        (&mut e.db_host, "db_host_logged"),
    ] {
        if let Some(c) = field.as_deref().and_then(canonical) {
            if let Some(old) = field.replace(text(&c)) {
                e.extra.insert(key, &*old);
            }
        }
    }
}

/// An address without its port (`10.0.9.9:51234`, `[2001:db8::1]:443`).
pub fn without_port(a: &str) -> &str {
    let a = a.trim();
    if let Some(v6) = a.strip_prefix('[') {
        return v6.split(']').next().unwrap_or(v6);
    }
    match a.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => a,
    }
}

/// An address as written in a log (port and brackets allowed), if it is one.
pub fn ip(s: &str) -> Option<IpAddr> {
    without_port(s).parse().ok()
}

/// Whether an address is one a proxy in front of the gateway would have: private,
/// loopback, link-local or unique-local, or in a range the user named.
pub fn is_trusted(ip: IpAddr, extra: &[Cidr]) -> bool {
    let own = match ip {
        IpAddr::V4(a) => a.is_private() || a.is_loopback() || a.is_link_local(),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(v4) => v4.is_private() || v4.is_loopback() || v4.is_link_local(),
            None => a.is_loopback() || a.is_unique_local() || a.is_unicast_link_local(),
        },
    };
    own || extra.iter().any(|c| c.contains(ip))
}

/// The client an `X-Forwarded-For` value names: its rightmost hop that is not a trusted
/// proxy, or its leftmost when all are.
pub fn forwarded_client<'a>(xff: &'a str, trusted: &[Cidr]) -> Option<&'a str> {
    let hops: Vec<(&str, IpAddr)> = xff
        .split(',')
        .filter_map(|h| Some((without_port(h), ip(h)?)))
        .collect();
    hops.iter()
        .rev()
        .find(|(_, a)| !is_trusted(*a, trusted))
        .or(hops.first())
        .map(|(h, _)| *h)
}

/// Moves a record's client to the forwarded address when its peer is a trusted proxy
/// (or it logs no peer), keeping the peer as `peer_address`.
pub fn resolve(e: &mut Event, trusted: &[Cidr]) {
    let Some(xff) = e.extra.get("x_forwarded_for") else {
        return;
    };
    if e.client_ip
        .as_deref()
        .and_then(ip)
        .is_some_and(|p| !is_trusted(p, trusted))
    {
        return;
    }
    let Some(client) = forwarded_client(xff, trusted) else {
        return;
    };
    let client = text(client);
    if e.client_ip.as_deref() == Some(client.as_str()) {
        return;
    }
    if let Some(peer) = e.client_ip.replace(client) {
        e.extra.insert("peer_address", peer);
    }
    e.extra.insert("client_ip_from", "x-forwarded-for");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;

    fn ev(peer: Option<&str>, xff: &str) -> Event {
        let mut e = Event::new(SourceKind::Gateway, "nginx-json");
        e.client_ip = peer.map(Into::into);
        e.extra.insert("x_forwarded_for", xff);
        e
    }

    #[test]
    fn a_private_peer_gives_way_to_the_rightmost_untrusted_hop() {
        // The client claimed 1.2.3.4; the load balancer appended what it saw.
        let mut e = ev(Some("10.0.0.5"), "1.2.3.4, 203.0.113.45, 10.0.3.1");
        resolve(&mut e, &[]);
        assert_eq!(e.client_ip.as_deref(), Some("203.0.113.45"));
        assert_eq!(e.extra["peer_address"], "10.0.0.5");
        assert_eq!(e.extra["client_ip_from"], "x-forwarded-for");
        // A public peer is the client: the header is the client's word only.
        let mut e = ev(Some("198.51.100.23"), "1.2.3.4");
        resolve(&mut e, &[]);
        assert_eq!(e.client_ip.as_deref(), Some("198.51.100.23"));
        assert!(e.extra.get("peer_address").is_none());
    }

    #[test]
    fn addresses_are_written_in_one_form() {
        let mut e = Event::new(crate::model::SourceKind::Gateway, "nginx-json");
        e.client_ip = Some(text("::ffff:203.0.113.14"));
        e.db_host = Some(text("2001:DB8:0:0:0:0:0:7"));
        canonical_addresses(&mut e);
        assert_eq!(e.client_ip.as_deref(), Some("203.0.113.14"));
        assert_eq!(e.db_host.as_deref(), Some("2001:db8::7"));
        assert_eq!(
            e.extra.get("client_ip_logged").map(|v| v.as_str()),
            Some("::ffff:203.0.113.14")
        );
        // Already in that form, or no address: as logged, nothing kept.
        let mut e = Event::new(crate::model::SourceKind::Db, "pg-csvlog");
        e.client_ip = Some(text("203.0.113.14"));
        e.db_host = Some(text("db-replica-2"));
        canonical_addresses(&mut e);
        assert_eq!(e.client_ip.as_deref(), Some("203.0.113.14"));
        assert_eq!(e.db_host.as_deref(), Some("db-replica-2"));
        assert!(e.extra.get("client_ip_logged").is_none());
        assert_eq!(canonical("2001:db8::7"), None);
        assert_eq!(canonical("::1"), None);
    }

    #[test]
    fn ranges_named_trusted_and_hops_that_are_all_trusted() {
        // A CDN in front: its range named, the hop before it is the client.
        let cdn = [Cidr::parse("130.176.0.0/16").unwrap()];
        let mut e = ev(Some("10.0.0.5"), "203.0.113.45, 130.176.8.9");
        resolve(&mut e, &cdn);
        assert_eq!(e.client_ip.as_deref(), Some("203.0.113.45"));
        let mut e = ev(Some("10.0.0.5"), "203.0.113.45, 130.176.8.9");
        resolve(&mut e, &[]);
        assert_eq!(e.client_ip.as_deref(), Some("130.176.8.9"));
        // Internal traffic: every hop private, the leftmost is the client.
        let mut e = ev(Some("10.0.0.5"), "10.1.2.3, 10.0.3.1");
        resolve(&mut e, &[]);
        assert_eq!(e.client_ip.as_deref(), Some("10.1.2.3"));
        // No peer logged (Envoy's default format); ports, brackets and junk.
        let mut e = ev(None, "unknown, [2001:db8::7]:443");
        resolve(&mut e, &[]);
        assert_eq!(e.client_ip.as_deref(), Some("2001:db8::7"));
        let mut e = ev(Some("10.0.0.5"), "-");
        resolve(&mut e, &[]);
        assert_eq!(e.client_ip.as_deref(), Some("10.0.0.5"));
    }

    #[test]
    fn cidrs() {
        let c = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(c.contains("10.200.1.1".parse().unwrap()));
        assert!(!c.contains("11.0.0.1".parse().unwrap()));
        assert!(!c.contains("::1".parse().unwrap()));
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains("8.8.8.8".parse().unwrap()));
        assert!(Cidr::parse("2600:9000::/28")
            .unwrap()
            .contains("2600:9000:1::1".parse().unwrap()));
        assert!(Cidr::parse("203.0.113.7")
            .unwrap()
            .contains("203.0.113.7".parse().unwrap()));
        for bad in ["10.0.0.0/33", "nope", "10.0.0.0/x", "::/129"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        assert!(is_trusted("::ffff:192.168.1.1".parse().unwrap(), &[]));
        assert!(is_trusted("fd00::1".parse().unwrap(), &[]));
        assert!(!is_trusted("100.64.1.1".parse().unwrap(), &[]));
    }
}
