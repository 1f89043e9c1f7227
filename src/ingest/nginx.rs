//! nginx access logs: the built-in `combined` (and `common`) format, with nginx's `\xXX`
//! escaping, and JSON `log_format`s (`escape=json`, `$request_id`, `$time_iso8601`, `$msec`).
//! Also home of the CLF tokenizer the API Gateway CLF preset shares.

use super::apigw::parse_access_json;
use super::{line_score, present, FileCtx, Head, Parsed, Parser};
use crate::model::SourceKind;

/// The fields of a CLF / combined line.
#[derive(Debug)]
pub struct ClfLine<'a> {
    /// `$remote_addr`.
    pub host: &'a str,
    /// `ident` (API Gateway: caller).
    pub ident: &'a str,
    /// `$remote_user`.
    pub user: &'a str,
    /// The bracketed time.
    pub time: &'a str,
    /// The request line (unescaped quotes removed).
    pub request: &'a str,
    /// Full request target convenience (second token of the request).
    pub target: &'a str,
    /// Status digits.
    pub status: &'a str,
    /// Bytes.
    pub bytes: &'a str,
    /// Remaining fields (quoted ones keep their quotes).
    pub rest: Vec<&'a str>,
}

/// Splits a CLF-style line; `None` when it is not one.
pub fn clf_fields(line: &str) -> Option<ClfLine<'_>> {
    let mut it = Tok { s: line, i: 0 };
    let host = it.word()?;
    let ident = it.word()?;
    let user = it.word()?;
    let time = it.bracket()?;
    let request = it.quoted()?;
    let status = it.word()?;
    if status.len() != 3 || !status.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bytes = it.word().unwrap_or("-");
    let mut rest = Vec::new();
    while let Some(f) = it.any() {
        rest.push(f);
    }
    let target = request.split(' ').nth(1).unwrap_or("");
    Some(ClfLine {
        host,
        ident,
        user,
        time,
        request,
        target,
        status,
        bytes,
        rest,
    })
}

struct Tok<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Tok<'a> {
    fn skip_ws(&mut self) {
        while self.s.as_bytes().get(self.i) == Some(&b' ') {
            self.i += 1;
        }
    }
    fn word(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let b = self.s.as_bytes();
        if self.i >= b.len() || b[self.i] == b'"' || b[self.i] == b'[' {
            return None;
        }
        let st = self.i;
        while self.i < b.len() && b[self.i] != b' ' {
            self.i += 1;
        }
        Some(&self.s[st..self.i])
    }
    fn bracket(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let b = self.s.as_bytes();
        if b.get(self.i) != Some(&b'[') {
            return None;
        }
        let end = self.s[self.i..].find(']')? + self.i;
        let r = &self.s[self.i + 1..end];
        self.i = end + 1;
        Some(r)
    }
    fn quoted(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let b = self.s.as_bytes();
        if b.get(self.i) != Some(&b'"') {
            return None;
        }
        let st = self.i + 1;
        let mut j = st;
        while j < b.len() {
            if b[j] == b'\\' {
                j += 2;
                continue;
            }
            if b[j] == b'"' {
                self.i = j + 1;
                return Some(&self.s[st..j]);
            }
            j += 1;
        }
        None
    }
    fn any(&mut self) -> Option<&'a str> {
        self.skip_ws();
        let b = self.s.as_bytes();
        if self.i >= b.len() {
            return None;
        }
        if b[self.i] == b'"' {
            let st = self.i;
            self.quoted()?;
            return Some(&self.s[st..self.i]);
        }
        // `name="value with spaces"`, as nginx's documented `uct="$upstream_connect_time"`
        // writes a field: one token up to the closing quote.
        let st = self.i;
        let word = self.word()?;
        if let Some(k) = word.find("=\"") {
            let mut q = Tok {
                s: self.s,
                i: st + k + 1,
            };
            if q.quoted().is_some() {
                self.i = q.i;
                return Some(&self.s[st..self.i]);
            }
        }
        Some(word)
    }
}

/// Undoes nginx's `escape=default` (`\xXX`, `\"`, `\\`).
pub fn unescape_nginx(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let b = s.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 3 < b.len() && b[i + 1] == b'x' {
            if let Ok(v) =
                u8::from_str_radix(std::str::from_utf8(&b[i + 2..i + 4]).unwrap_or("zz"), 16)
            {
                out.push(v);
                i += 4;
                continue;
            }
        }
        if b[i] == b'\\' && i + 1 < b.len() && (b[i + 1] == b'"' || b[i + 1] == b'\\') {
            out.push(b[i + 1]);
            i += 2;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A trailing field written as `name=value` or `name="value"` (nginx's documented
/// `rt=$request_time uct="$upstream_connect_time"`): its name and unquoted value.
fn named(raw: &str) -> Option<(&str, String)> {
    let (k, v) = raw.split_once('=')?;
    let ident = k
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && k.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !ident || k.len() > 64 {
        return None;
    }
    let v = match v.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(q) => unescape_nginx(q),
        None => v.to_string(),
    };
    Some((k, v))
}

/// Names a trailing field gives a request id (compared without case, `_` or `-`, and
/// without a copy: this runs for every named field of every line).
fn is_request_id_name(k: &str) -> bool {
    const NAMES: [&str; 5] = ["requestid", "reqid", "rid", "xrequestid", "traceid"];
    let folded = || {
        k.bytes()
            .filter(|b| !matches!(b, b'_' | b'-'))
            .map(|b| b.to_ascii_lowercase())
    };
    NAMES.iter().any(|n| folded().eq(n.bytes()))
}

/// `$request_time` appended to `combined` (the commonest addition, alone or as nginx's
/// documented `rt=$request_time`): seconds with millisecond resolution, unquoted, in
/// milliseconds. Other decimals (a second one is `$upstream_response_time`) stay extra
/// fields.
fn request_time_ms(raw: &str) -> Option<f64> {
    // Named, the value may be quoted (`rt="0.012"`); bare, a quoted decimal is another
    // field's.
    let v = match raw
        .strip_prefix("rt=")
        .or_else(|| raw.strip_prefix("request_time="))
    {
        Some(v) => v.trim_matches('"'),
        None => raw,
    };
    let (whole, frac) = v.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(whole) && frac.len() == 3 && digits(frac)) {
        return None;
    }
    v.parse::<f64>().ok().map(|s| (s * 1000.0).round())
}

/// nginx `combined` / `common`.
pub struct Combined;

impl Parser for Combined {
    fn name(&self) -> &'static str {
        "nginx-combined"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Gateway
    }
    fn detection(&self) -> &'static str {
        r#"`addr ident user [dd/Mon/yyyy:HH:MM:SS ±hhmm] "request" status bytes ["referer" "ua"]`"#
    }
    fn example(&self) -> &'static str {
        r#"203.0.113.45 - - [05/Mar/2024:15:22:01 +0100] "POST /v1/orders/8812/refund?source=app HTTP/1.1" 200 312 "-" "okhttp/4.12.0""#
    }
    fn sniff(&self, head: &Head) -> u8 {
        line_score(head, |l| clf_fields(l).is_some()).min(90)
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let Some(c) = clf_fields(rec) else {
            return Parsed::Reject("not a combined/CLF line".into());
        };
        let mut e = match super::apigw::clf_event(self.name(), &c) {
            Ok(e) => e,
            Err(r) => return Parsed::Reject(r),
        };
        if let Some(p) = e.path.as_mut() {
            *p = unescape_nginx(p).into();
        }
        let q = |i: usize| {
            c.rest
                .get(i)
                .map(|s| unescape_nginx(s.trim_matches('"')))
                .and_then(|s| present(&s))
        };
        if let Some(r) = q(0) {
            e.extra.insert("referer", r);
        }
        // Agents repeat across requests: one shared copy each, whatever their length.
        e.user_agent = q(1).map(|a| crate::model::intern(&a));
        // Incident-friendly configs append $request_id (32 hex), $request_time or other
        // fields.
        for (i, raw) in c.rest.iter().enumerate().skip(2) {
            let f = raw.trim_matches('"');
            if e.latency_ms.is_none() {
                if let Some(ms) = request_time_ms(raw) {
                    e.latency_ms = Some(ms);
                    e.extra
                        .insert("request_time_from", format!("field{}", i + 1));
                    continue;
                }
            }
            // Named fields keep their names: `uct="0.000"` is `uct`, not `field6`.
            if let Some((k, v)) = named(raw) {
                if is_request_id_name(k) && e.request_id.is_none() {
                    if let Some(v) = present(&v) {
                        e.request_id = Some(v);
                        continue;
                    }
                }
                if let Some(v) = present(&v) {
                    e.extra.insert(k, v);
                }
                continue;
            }
            let hex32 = f.len() == 32 && f.bytes().all(|b| b.is_ascii_hexdigit());
            let uuid = f.len() == 36 && f.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-');
            // nginx's own `main` format puts "$http_x_forwarded_for" after the agent.
            let forwarded = i == 2
                && f.split(',')
                    .all(|a| a.trim().parse::<std::net::IpAddr>().is_ok());
            if hex32 || uuid {
                e.request_id = Some(f.into());
            } else if forwarded {
                e.extra.insert("x_forwarded_for", f);
            } else if let Some(v) = present(f) {
                e.extra.insert(&format!("field{}", i + 1), v);
            }
        }
        super::client::resolve(&mut e, &ctx.opts.trusted_proxies);
        Parsed::Event(Box::new(e))
    }
}

/// nginx (or any) JSON `log_format`.
pub struct NginxJson;

impl Parser for NginxJson {
    fn name(&self) -> &'static str {
        "nginx-json"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Gateway
    }
    fn detection(&self) -> &'static str {
        "JSON lines with remote_addr / request_uri / time_iso8601 / msec style keys"
    }
    fn example(&self) -> &'static str {
        r#"{"time":"2024-03-05T15:22:01+01:00","request_id":"9f86d08…","remote_addr":"10.0.0.5","method":"POST","uri":"/v1/orders/8812/refund","status":200}"#
    }
    fn sniff(&self, head: &Head) -> u8 {
        line_score(head, |l| {
            l.starts_with('{')
                && (l.contains("\"remote_addr\"") || l.contains("\"http_user_agent\""))
                && (l.contains("\"status\""))
        })
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        parse_access_json(self.name(), rec, ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Event;

    fn ev(p: &dyn Parser, line: &str) -> Event {
        match p.parse(line, &FileCtx::default()) {
            Parsed::Event(e) => *e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn combined_fields_and_offset() {
        let e = ev(
            &Combined,
            r#"198.51.100.23 - admin [05/Mar/2024:15:22:03 +0100] "GET /admin/export?q=%27%20OR%201%3D1-- HTTP/1.1" 401 23 "-" "python-requests/2.31.0""#,
        );
        assert_eq!(crate::timeparse::fmt_utc_s(e.ts), "2024-03-05T14:22:03Z");
        assert_eq!(e.user.as_deref(), Some("admin"));
        assert_eq!(e.path.as_deref(), Some("/admin/export"));
        assert_eq!(e.query.as_deref(), Some("q=%27%20OR%201%3D1--"));
        assert_eq!(e.user_agent.as_deref(), Some("python-requests/2.31.0"));
        assert_eq!(e.status, Some(401));
    }

    #[test]
    fn appended_request_time_is_the_latency() {
        let line = |tail: &str| {
            format!(
                r#"203.0.113.45 - - [05/Mar/2024:15:22:03 +0100] "GET /menu HTTP/1.1" 200 23 "-" "okhttp/4.9.2" {tail}"#
            )
        };
        // `combined` + "$http_x_forwarded_for" $request_time $upstream_response_time $request_id
        let e = ev(
            &Combined,
            &line(r#""-" 0.012 0.010 7f3c1a2b9d8e4f6a0b1c2d3e4f5a6b7c"#),
        );
        assert_eq!(e.latency_ms, Some(12.0));
        assert_eq!(e.extra["request_time_from"], "field4");
        assert_eq!(e.extra["field5"], "0.010");
        assert_eq!(
            e.request_id.as_deref(),
            Some("7f3c1a2b9d8e4f6a0b1c2d3e4f5a6b7c")
        );
        // nginx's documented `rt=$request_time uct="$upstream_connect_time" …`: the other
        // fields by their names, a quoted value with spaces whole, a named request id.
        let e = ev(
            &Combined,
            &line(
                r#"rt=1.250 uct="0.000" uht="0.010, 0.004" rid=req-7f3a upstream=10.0.3.17:8080 up="-""#,
            ),
        );
        assert_eq!(e.latency_ms, Some(1250.0));
        assert_eq!(e.extra["uct"], "0.000");
        assert_eq!(e.extra["uht"], "0.010, 0.004");
        assert_eq!(e.extra["upstream"], "10.0.3.17:8080");
        assert_eq!(e.request_id.as_deref(), Some("req-7f3a"));
        assert!(e.extra.get("up").is_none());
        assert!(
            e.extra.iter().all(|(k, _)| !k.starts_with("field")),
            "{:?}",
            e.extra
        );
        assert_eq!(ev(&Combined, &line(r#"rt="0.012""#)).latency_ms, Some(12.0));
        // A quoted decimal, a count or a status is not a request time.
        for tail in [r#""0.012""#, "12", "0.5", "1.2345"] {
            assert_eq!(ev(&Combined, &line(tail)).latency_ms, None, "{tail}");
        }
    }

    #[test]
    fn main_format_behind_a_load_balancer() {
        // nginx's `main` format appends "$http_x_forwarded_for"; the peer is the balancer.
        let e = ev(
            &Combined,
            r#"10.0.1.4 - - [05/Mar/2024:15:22:03 +0100] "GET /admin/export HTTP/1.1" 401 23 "-" "python-requests/2.31.0" "1.2.3.4, 198.51.100.23" "10.0.3.17:8080""#,
        );
        assert_eq!(e.client_ip.as_deref(), Some("198.51.100.23"));
        assert_eq!(e.extra["peer_address"], "10.0.1.4");
        assert_eq!(e.extra["x_forwarded_for"], "1.2.3.4, 198.51.100.23");
        assert_eq!(e.extra["field4"], "10.0.3.17:8080");
        // No proxy: "-" and the peer stays.
        let e = ev(
            &Combined,
            r#"198.51.100.23 - - [05/Mar/2024:15:22:03 +0100] "GET / HTTP/1.1" 200 23 "-" "curl/8" "-""#,
        );
        assert_eq!(e.client_ip.as_deref(), Some("198.51.100.23"));
    }

    #[test]
    fn combined_escaped_junk_and_broken() {
        let e = ev(
            &Combined,
            r#"203.0.113.9 - - [05/Mar/2024:15:22:03 +0100] "\x16\x03\x01\x00" 400 157 "-" "-""#,
        );
        assert!(e.method.is_none());
        assert_eq!(e.action(), r"unparsed request \x16\x03\x01\x00");
        assert!(matches!(
            Combined.parse(
                "203.0.113.9 - - [05/Mar/2024:15:22:03 +0100] \"GET /",
                &FileCtx::default()
            ),
            Parsed::Reject(_)
        ));
    }

    #[test]
    fn json_format() {
        let e = ev(
            &NginxJson,
            r#"{"time":"2024-03-05T15:22:01+01:00","msec":"1709648521.123","request_id":"9f86d081884c7d659a2feaa0c55ad015","remote_addr":"10.0.0.5","xff":"203.0.113.45","remote_user":"","method":"POST","uri":"/v1/orders/8812/refund?source=app","protocol":"HTTP/1.1","status":200,"bytes_sent":312,"request_time":0.092,"user_agent":"okhttp/4.12.0","host":"api.example.com"}"#,
        );
        assert_eq!(e.ts, 1_709_648_521_123_000);
        assert_eq!(e.path.as_deref(), Some("/v1/orders/8812/refund"));
        assert_eq!(e.query.as_deref(), Some("source=app"));
        assert_eq!(e.latency_ms, Some(92.0));
        assert_eq!(e.extra["x_forwarded_for"], "203.0.113.45");
        // remote_addr is the balancer in front: the client is the forwarded address.
        assert_eq!(e.client_ip.as_deref(), Some("203.0.113.45"));
        assert_eq!(e.extra["peer_address"], "10.0.0.5");
    }
}
