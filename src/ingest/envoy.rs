//! Envoy's default access-log format. It has no downstream peer address: the only client
//! address is the client-controlled `X-Forwarded-For`, which we use and label as such.

use super::apigw::first_addr;
use super::nginx::unescape_nginx;
use super::{line_score, present, split_target, FileCtx, Head, Parsed, Parser};
use crate::model::{Event, Outcome, SourceKind};
use crate::timeparse::parse_iso;

/// Envoy default format.
pub struct Envoy;

fn fields(line: &str) -> Option<(&str, Vec<&str>)> {
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
            out.push(&rest[st..j]);
            i = j + 1;
        } else {
            let st = i;
            while i < b.len() && b[i] != b' ' {
                i += 1;
            }
            out.push(&rest[st..i]);
        }
    }
    Some((time, out))
}

impl Parser for Envoy {
    fn name(&self) -> &'static str {
        "envoy"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Gateway
    }
    fn detection(&self) -> &'static str {
        "line starts with `[` + ISO-8601 UTC time + `] \"`"
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
        if f.len() < 12 {
            return Parsed::Reject(format!("expected 12 fields, found {}", f.len()));
        }
        let mut e = Event::new(SourceKind::Gateway, self.name());
        let Some(p) = parse_iso(time, &ctx.opts.assume_tz) else {
            return Parsed::Reject(format!("bad START_TIME {time:?}"));
        };
        e.ts = p.us;
        e.tz_assumed = p.assumed;
        let mut req = f[0].split(' ');
        if let (Some(m), Some(t)) = (req.next(), req.next()) {
            e.method = Some(m.into());
            let (path, q) = split_target(&unescape_nginx(t));
            e.path = Some(path);
            e.query = q;
        }
        let code: u16 = match f[1].parse() {
            Ok(c) => c,
            Err(_) => return Parsed::Reject(format!("bad RESPONSE_CODE {:?}", f[1])),
        };
        e.status = Some(code);
        e.outcome = Outcome::from_http(code);
        if let Some(flags) = present(f[2]) {
            e.extra.insert("response_flags", flags);
        }
        e.bytes = f[4].parse().ok();
        e.latency_ms = f[5].parse().ok();
        if let Some(xff) = present(f[7]) {
            e.client_ip = Some(first_addr(&xff).into());
            e.extra.insert("client_ip_from", "x-forwarded-for");
        }
        e.user_agent = super::present_str(f[8]).map(crate::model::intern);
        e.request_id = present(f[9]);
        if let Some(a) = present(f[10]) {
            e.extra.insert("authority", a);
        }
        if let Some(u) = present(f[11]) {
            e.extra.insert("upstream_host", u);
        }
        Parsed::Event(Box::new(e))
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
}
