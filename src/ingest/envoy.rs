//! Envoy access logs: the default text format, Istio's longer default (which adds the
//! response details and, after the quoted fields, the upstream cluster and the local and
//! remote addresses), and JSON (`json_format`, Istio's `accessLogEncoding: JSON`). The
//! default format has no downstream peer address: the client is taken from
//! `X-Forwarded-For` by the rule of `client.rs` and labelled as such.

use super::apigw::access_event;
use super::client::{resolve, without_port};
use super::json::{f, record, s};
use super::nginx::unescape_nginx;
use super::{line_score, present, split_target, FileCtx, Head, Parsed, Parser};
use crate::model::{text, Event, Outcome, SourceKind};
use crate::timeparse::parse_iso;

/// Envoy default format (and Istio's).
pub struct Envoy;

/// The time and the fields after it, each with whether it was quoted.
fn fields(line: &str) -> Option<(&str, Vec<(&str, bool)>)> {
    let line = line.strip_prefix('[')?;
    let (time, rest) = line.split_once("] ")?;
    let mut out = Vec::new();
    let b = rest.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b' ' {
            i += 1;
            continue;
        }
        if b[i] == b'"' {
            let st = i + 1;
            let mut j = st;
            while j < b.len() && b[j] != b'"' {
                if b[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            if j >= b.len() {
                return None;
            }
            out.push((&rest[st..j], true));
            i = j + 1;
        } else {
            let st = i;
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            out.push((&rest[st..i], false));
        }
    }
    Some((time, out))
}

/// Where the five quoted request fields (`X-Forwarded-For`, user agent, request id,
/// authority, upstream host) start: after the request line, the code, the flags, any
/// details Istio inserts, and four numbers.
fn quoted_run(f: &[(&str, bool)]) -> Option<usize> {
    (7..f.len().saturating_sub(4))
        .find(|&i| f[i..i + 5].iter().all(|x| x.1) && f[i - 4..i].iter().all(|x| !x.1))
}

impl Parser for Envoy {
    fn name(&self) -> &'static str {
        "envoy"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Gateway
    }
    fn detection(&self) -> &'static str {
        "line starts with `[` + ISO-8601 UTC time + `] \"` (Envoy's default format, or Istio's longer one)"
    }
    fn example(&self) -> &'static str {
        r#"[2024-03-05T14:22:01.123Z] "POST /v1/orders/8812/refund HTTP/1.1" 200 - 48 312 96 88 "203.0.113.45" "okhttp/4.12.0" "0b7c8d4e-…" "api.example.com" "10.0.3.17:8080""#
    }
    fn sniff(&self, head: &Head) -> u8 {
        line_score(head, |l| {
            l.starts_with("[20") && l.contains("] \"") && fields(l).is_some_and(|f| f.1.len() >= 10)
        })
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let Some((time, f)) = fields(rec) else {
            return Parsed::Reject("not an Envoy access-log line".into());
        };
        let Some(q) = quoted_run(&f) else {
            return Parsed::Reject(format!(
                "expected the request line, code, flags, four numbers and five quoted fields; found {} fields",
                f.len()
            ));
        };
        let mut e = Event::new(SourceKind::Gateway, self.name());
        let Some(p) = parse_iso(time, &ctx.opts.assume_tz) else {
            return Parsed::Reject(format!("bad START_TIME {time:?}"));
        };
        e.ts = p.us;
        e.tz_assumed = p.assumed;
        let mut req = f[0].0.split(' ');
        if let (Some(m), Some(t)) = (req.next(), req.next()) {
            e.method = Some(m.into());
            let (path, q) = split_target(&unescape_nginx(t));
            e.path = Some(path);
            e.query = q;
        }
        let code: u16 = match f[1].0.parse() {
            Ok(c) => c,
            Err(_) => return Parsed::Reject(format!("bad RESPONSE_CODE {:?}", f[1].0)),
        };
        e.status = Some(code);
        e.outcome = Outcome::from_http(code);
        if let Some(flags) = present(f[2].0) {
            e.extra.insert("response_flags", flags);
        }
        // Istio: response code details, connection termination details and the
        // upstream transport failure reason.
        let details = [
            "response_code_details",
            "connection_termination_details",
            "upstream_transport_failure_reason",
        ];
        for (k, v) in details.iter().zip(&f[3..q - 4]) {
            if let Some(v) = present(v.0) {
                e.extra.insert(k, v);
            }
        }
        e.bytes = f[q - 3].0.parse().ok();
        e.latency_ms = f[q - 2].0.parse().ok();
        if let Some(x) = present(f[q].0) {
            e.extra.insert("x_forwarded_for", x);
        }
        e.user_agent = super::present_str(f[q + 1].0).map(crate::model::intern);
        e.request_id = present(f[q + 2].0);
        if let Some(a) = present(f[q + 3].0) {
            e.extra.insert("authority", a);
        }
        if let Some(u) = present(f[q + 4].0) {
            e.extra.insert("upstream_host", u);
        }
        // Istio's tail: upstream cluster, upstream local, downstream local and remote
        // addresses, SNI, route name. The downstream remote address is the peer.
        let tail = [
            "upstream_cluster",
            "upstream_local_address",
            "downstream_local_address",
            "downstream_remote_address",
            "requested_server_name",
            "route_name",
        ];
        let rest = f.get(q + 5..).unwrap_or_default();
        // Istio's tail opens with a cluster name (`outbound|8080||svc…`); a tail that
        // opens with an address is a deployment's own, commonly
        // `%DOWNSTREAM_REMOTE_ADDRESS%` alone: its one `address:port` is the peer.
        let own = rest.first().is_some_and(|v| address_with_port(v.0));
        if own {
            let addrs: Vec<usize> = (0..rest.len())
                .filter(|&i| address_with_port(rest[i].0))
                .collect();
            let peer = match addrs[..] {
                [i] => Some(i),
                _ => None,
            };
            for (i, v) in rest.iter().enumerate() {
                if let Some(v) = present(v.0) {
                    let k = if peer == Some(i) {
                        "downstream_remote_address".to_string()
                    } else {
                        // Numbered as the line's fields, START_TIME the first.
                        format!("field{}", q + 7 + i)
                    };
                    e.extra.insert(&k, v);
                }
            }
            if let Some(i) = peer {
                e.client_ip = Some(text(without_port(rest[i].0)));
            }
        } else {
            for (k, v) in tail.iter().zip(rest) {
                if let Some(v) = present(v.0) {
                    e.extra.insert(k, v);
                }
            }
            if let Some(peer) = f.get(q + 8).and_then(|v| super::present_str(v.0)) {
                e.client_ip = Some(text(without_port(peer)));
            }
        }
        // The default format logs no peer: the client is the forwarded address.
        resolve(&mut e, &ctx.opts.trusted_proxies);
        Parsed::Event(Box::new(e))
    }
}

/// `203.0.113.45:51234` or `[2001:db8::7]:443`: what Envoy prints for an address.
fn address_with_port(v: &str) -> bool {
    let v = v.trim_matches('"');
    let (host, port) = match v.strip_prefix('[') {
        Some(six) => match six.split_once("]:") {
            Some(x) => x,
            None => return false,
        },
        None => match v.rsplit_once(':') {
            Some(x) => x,
            None => return false,
        },
    };
    !port.is_empty()
        && port.bytes().all(|b| b.is_ascii_digit())
        && host.parse::<std::net::IpAddr>().is_ok()
}

/// Envoy JSON access logs: `json_format` with Envoy's command-operator names as keys, as
/// Istio writes them with `accessLogEncoding: JSON`.
pub struct EnvoyJson;

impl Parser for EnvoyJson {
    fn name(&self) -> &'static str {
        "envoy-json"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Gateway
    }
    fn detection(&self) -> &'static str {
        "JSON lines with start_time and response_code / response_flags / upstream_host"
    }
    fn example(&self) -> &'static str {
        r#"{"start_time":"2024-03-05T14:22:01.123Z","method":"POST","path":"/v1/orders/8812/refund","response_code":200,"response_flags":"-","duration":96,"x_forwarded_for":"203.0.113.45","downstream_remote_address":"10.0.9.9:51234"}"#
    }
    fn sniff(&self, head: &Head) -> u8 {
        line_score(head, |l| {
            l.starts_with('{')
                && l.contains("\"start_time\"")
                && (l.contains("\"response_code\"")
                    || l.contains("\"response_flags\"")
                    || l.contains("\"upstream_host\""))
        })
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        let v = match record(rec) {
            Ok(v) => v,
            Err(skip_or_reject) => return skip_or_reject,
        };
        let mut got = access_event(self.name(), &v, ctx);
        let Parsed::Event(e) = &mut got else {
            return got;
        };
        // Envoy's names for what the access-log synonyms do not cover.
        if e.status.is_none() {
            e.status = super::json::u(&v, "response_code").map(|c| c as u16);
            e.outcome = e.status.map(Outcome::from_http).unwrap_or_default();
        }
        if e.latency_ms.is_none() {
            e.latency_ms = f(&v, "duration");
        }
        if let Some(peer) = s(&v, "downstream_remote_address") {
            e.client_ip = Some(text(without_port(&peer)));
        }
        resolve(e, &ctx.opts.trusted_proxies);
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_format() {
        let l = r#"[2024-03-05T14:22:03.488Z] "GET /admin/export HTTP/1.1" 403 UAEX 0 23 2 - "198.51.100.23" "python-requests/2.31.0" "5a1c9e2b-3d4f-4a6b-8c7d-9e0f1a2b3c4d" "api.example.com" "-""#;
        let Parsed::Event(e) = Envoy.parse(l, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!(e.status, Some(403));
        assert_eq!(e.client_ip.as_deref(), Some("198.51.100.23"));
        assert_eq!(
            e.request_id.as_deref(),
            Some("5a1c9e2b-3d4f-4a6b-8c7d-9e0f1a2b3c4d")
        );
        assert_eq!(e.extra["response_flags"], "UAEX");
        assert!(matches!(
            Envoy.parse("[2024-03-05T14:22:03.488Z] \"GET", &FileCtx::default()),
            Parsed::Reject(_)
        ));
    }

    #[test]
    fn istio_default_format() {
        let l = r#"[2024-03-05T14:22:01.123Z] "POST /v1/orders/8812/refund HTTP/1.1" 200 - via_upstream - "-" 48 312 96 88 "203.0.113.45" "okhttp/4.12.0" "0b7c8d4e-1f2a-4b3c-9d8e-7f6a5b4c3d2e" "api.example.com" "10.0.3.17:8080" outbound|8080||orders.default.svc.cluster.local 10.0.1.5:40112 10.0.1.5:8080 10.0.9.9:51234 - default"#;
        let Parsed::Event(e) = Envoy.parse(l, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!((e.status, e.bytes), (Some(200), Some(312)));
        assert_eq!(e.latency_ms, Some(96.0));
        assert_eq!(e.client_ip.as_deref(), Some("203.0.113.45"));
        assert_eq!(e.user_agent.as_deref(), Some("okhttp/4.12.0"));
        assert_eq!(
            e.request_id.as_deref(),
            Some("0b7c8d4e-1f2a-4b3c-9d8e-7f6a5b4c3d2e")
        );
        assert_eq!(e.extra["response_code_details"], "via_upstream");
        assert_eq!(e.extra["downstream_remote_address"], "10.0.9.9:51234");
        assert_eq!(e.extra["route_name"], "default");
        assert_eq!(e.extra["peer_address"], "10.0.9.9");
        // No X-Forwarded-For: the downstream peer is the client.
        let l = l.replace(r#""203.0.113.45""#, r#""-""#);
        let Parsed::Event(e) = Envoy.parse(&l, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!(e.client_ip.as_deref(), Some("10.0.9.9"));
        assert!(e.extra.get("client_ip_from").is_none());
    }

    #[test]
    fn default_format_with_the_peer_appended() {
        // The default names no peer; deployments append %DOWNSTREAM_REMOTE_ADDRESS%.
        let base = r#"[2024-03-05T14:22:02.204Z] "POST /api/v1/auth/login HTTP/2" 401 - 45 12 3 - "-" "python-requests/2.31.0" "8f3c1a2b" "api.example.com" "-""#;
        for (tail, want) in [
            ("203.0.113.45:51234", "203.0.113.45"),
            ("\"[2001:db8::7]:443\"", "2001:db8::7"),
        ] {
            let Parsed::Event(e) = Envoy.parse(&format!("{base} {tail}"), &FileCtx::default())
            else {
                panic!("{tail}")
            };
            assert_eq!(e.client_ip.as_deref(), Some(want), "{tail}");
            assert!(e.extra.get("downstream_remote_address").is_some());
            assert!(e.extra.get("upstream_cluster").is_none());
        }
        // Two addresses: which one is the peer is not known; both are kept.
        let Parsed::Event(e) = Envoy.parse(
            &format!("{base} 10.0.1.5:8080 203.0.113.45:51234"),
            &FileCtx::default(),
        ) else {
            panic!()
        };
        assert_eq!(e.client_ip, None);
        assert_eq!(e.extra["field14"], "10.0.1.5:8080");
    }

    #[test]
    fn json_format_with_envoy_names() {
        let l = r#"{"start_time":"2024-03-05T14:22:03.488Z","method":"GET","path":"/admin/export?x=1","protocol":"HTTP/1.1","response_code":403,"response_flags":"UAEX","bytes_received":0,"bytes_sent":23,"duration":2,"upstream_service_time":null,"x_forwarded_for":"198.51.100.23","user_agent":"python-requests/2.31.0","request_id":"5a1c9e2b","authority":"api.example.com","upstream_host":null,"downstream_remote_address":"[2001:db8::7]:51200"}"#;
        let h = crate::ingest::head_of(l);
        assert_eq!(EnvoyJson.sniff(&h), 100);
        assert!(crate::ingest::detect(&h).is_some_and(|p| p.name() == "envoy-json"));
        let Parsed::Event(e) = EnvoyJson.parse(l, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!(e.ts, 1_709_648_523_488_000);
        assert_eq!((e.status, e.bytes), (Some(403), Some(23)));
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.latency_ms, Some(2.0));
        assert_eq!(e.path.as_deref(), Some("/admin/export"));
        // A public peer is the client, whatever the header says.
        assert_eq!(e.client_ip.as_deref(), Some("2001:db8::7"));
        assert_eq!(e.extra["x_forwarded_for"], "198.51.100.23");
        assert_eq!(e.request_id.as_deref(), Some("5a1c9e2b"));
        assert!(matches!(
            EnvoyJson.parse(r#"{"start_time":"2024-03-05T14:2"#, &FileCtx::default()),
            Parsed::Reject(_)
        ));
    }
}
