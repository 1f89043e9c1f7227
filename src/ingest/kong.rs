//! Kong Gateway logging plugins (`file-log` JSON lines, `http-log` batches): the
//! `kong.log.serialize()` table. Every field is optional; custom fields may add a user.

use super::json::{first, object, s, u};
use super::{split_target, FileCtx, Head, Parsed, Parser};
use crate::model::{Event, Outcome, SourceKind};
use crate::timeparse::epoch_magnitude;

/// Kong file-log / http-log.
pub struct Kong;

impl Parser for Kong {
    fn name(&self) -> &'static str {
        "kong"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Gateway
    }
    fn detection(&self) -> &'static str {
        "JSON with started_at (epoch ms) and a latencies object, plus request/client_ip/route/service"
    }
    fn example(&self) -> &'static str {
        r#"{"request":{"id":"4c1b…","uri":"/v1/orders/8812","method":"POST",…},"response":{"status":200},"latencies":{"kong":3,"proxy":88,"request":92},"client_ip":"203.0.113.45","started_at":1709648521123}"#
    }
    fn framing(&self) -> super::Framing {
        super::Framing::Json
    }
    fn sniff(&self, head: &Head) -> u8 {
        let t = head.text.trim_start().trim_start_matches('[').trim_start();
        if t.starts_with('{')
            && head.text.contains("\"started_at\"")
            && head.text.contains("\"latencies\"")
            && (head.text.contains("\"client_ip\"") || head.text.contains("\"request\""))
        {
            95
        } else {
            0
        }
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        let v = match object(rec) {
            Ok(v) => v,
            Err(e) => return Parsed::Reject(e),
        };
        let Some(ts) = u(&v, "started_at").and_then(|n| epoch_magnitude(n as i64)) else {
            return Parsed::Reject("no started_at".into());
        };
        let mut e = Event::new(SourceKind::Gateway, self.name());
        e.ts = ts;
        // Kong's own id (3.x; empty when unavailable), else the Correlation ID plugin's,
        // logged or as the header it set on the request the service received (its
        // default `Kong-Request-ID`, or the client's `X-Request-ID` passed on): what the
        // service tags its statements with.
        e.request_id = first(
            &v,
            &[
                "request.id",
                "correlation_id",
                "request.headers.kong-request-id",
                "request.headers.x-kong-request-id",
                "request.headers.x-request-id",
                "request.headers.x-correlation-id",
            ],
        );
        e.client_ip = s(&v, "client_ip");
        e.method = s(&v, "request.method");
        if let Some(uri) = s(&v, "request.uri") {
            let (p, q) = split_target(&uri);
            e.path = Some(p);
            e.query = q;
        }
        e.user_agent = super::json::first_str(&v, &["request.headers.user-agent"])
            .map(|a| crate::model::intern(&a));
        e.status = u(&v, "response.status").map(|x| x as u16);
        e.bytes = u(&v, "response.size");
        e.latency_ms = super::json::f(&v, "latencies.request");
        // The stream subsystem (TCP/TLS proxying) logs a session instead of a request.
        if e.status.is_none() && v.get("session").is_some() {
            e.status = u(&v, "session.status").map(|x| x as u16);
            e.bytes = u(&v, "session.sent");
            e.latency_ms = super::json::f(&v, "latencies.session");
            for (k, path) in [
                ("server_port", "session.server_port"),
                ("bytes_received", "session.received"),
                ("tls_version", "session.tls.version"),
            ] {
                if let Some(x) = s(&v, path) {
                    e.extra.insert(k, x);
                }
            }
        }
        e.outcome = e.status.map(Outcome::from_http).unwrap_or_default();
        e.user = first(
            &v,
            &[
                "user",
                "user_id",
                "account_id",
                "customer_id",
                "principal",
                "consumer.custom_id",
            ],
        );
        e.token_id = s(&v, "authenticated_entity.id");
        for (k, path) in [
            ("consumer", "consumer.username"),
            ("route_name", "route.name"),
            ("service_name", "service.name"),
            ("source", "source"),
            ("upstream_status", "upstream_status"),
            ("workspace", "workspace_name"),
            ("correlation_id", "correlation_id"),
        ] {
            if let Some(x) = s(&v, path) {
                e.extra.insert(k, x);
            }
        }
        if let Some(xff) = s(&v, "request.headers.x-forwarded-for") {
            e.extra.insert("x_forwarded_for", xff);
        }
        if let Some(r) = s(&v, "request.headers.x-request-id") {
            e.extra.insert("x_request_id", r);
        }
        super::client::resolve(&mut e, &ctx.opts.trusted_proxies);
        Parsed::Event(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kong_record() {
        let l = r#"{"request":{"id":"2b9f6a4c8e1d4f7a9c3b5e7d1f2a4c6e","uri":"\/admin\/export?x=1","method":"GET","querystring":{},"headers":{"host":"api.example.com","user-agent":"python-requests\/2.31.0"},"size":143},"upstream_uri":"","upstream_status":"","response":{"status":401,"size":214},"latencies":{"kong":1,"proxy":-1,"request":1,"receive":0},"client_ip":"198.51.100.23","started_at":1709648523481,"source":"kong","route":{"name":"admin-export"}}"#;
        let Parsed::Event(e) = Kong.parse(l, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!(e.ts, 1_709_648_523_481_000);
        assert_eq!(e.path.as_deref(), Some("/admin/export"));
        assert_eq!(e.query.as_deref(), Some("x=1"));
        assert_eq!(e.status, Some(401));
        assert_eq!(e.user_agent.as_deref(), Some("python-requests/2.31.0"));
        assert_eq!(e.extra["route_name"], "admin-export");
        assert_eq!(
            e.request_id.as_deref(),
            Some("2b9f6a4c8e1d4f7a9c3b5e7d1f2a4c6e")
        );
        // Kong 2.x logs no id of its own: the Correlation ID plugin's header is it.
        for (l, want) in [
            (
                r#"{"request":{"uri":"/a","method":"GET","headers":{"kong-request-id":"9f0c6a1e-6f3b-4c43-9c1e-1a2b3c4d5e6f#12","x-request-id":"client"}},"response":{"status":200},"latencies":{"request":1},"client_ip":"10.0.0.1","started_at":1709648523481}"#,
                "9f0c6a1e-6f3b-4c43-9c1e-1a2b3c4d5e6f#12",
            ),
            (
                r#"{"request":{"id":"","uri":"/a","method":"GET","headers":{"x-request-id":"0b7c8d4e"}},"response":{"status":200},"latencies":{"request":1},"client_ip":"10.0.0.1","started_at":1709648523481}"#,
                "0b7c8d4e",
            ),
        ] {
            let Parsed::Event(e) = Kong.parse(l, &FileCtx::default()) else {
                panic!()
            };
            assert_eq!(e.request_id.as_deref(), Some(want));
        }
        assert!(matches!(
            Kong.parse("{\"request\":", &FileCtx::default()),
            Parsed::Reject(_)
        ));
    }

    #[test]
    fn stream_subsystem_session() {
        let l = r#"{"session":{"tls":{"version":"TLSv1.3"},"received":1200,"sent":5400,"status":403,"server_port":5432},"upstream":{"received":0,"sent":0},"latencies":{"kong":1,"session":15},"route":{"name":"pg-tcp"},"service":{"name":"pg"},"client_ip":"198.51.100.23","started_at":1709648521123}"#;
        let Parsed::Event(e) = Kong.parse(l, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!((e.status, e.bytes), (Some(403), Some(5400)));
        assert_eq!(e.latency_ms, Some(15.0));
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.action(), "session to port 5432");
        assert_eq!(e.extra["tls_version"], "TLSv1.3");
    }
}
