//! AWS API Gateway access logs: the JSON templates responders find (REST and HTTP APIs,
//! authorizer claims, `requestTime` in CLF form, `requestTimeEpoch` in s or ms) and the CLF
//! preset. Field names are user-chosen, so JSON keys are matched from synonym tables.

use super::json::Value;
use super::json::{first, first_str, record, rest_into, u};
use super::nginx::{clf_fields, ClfLine};
use super::{line_score, present, split_query, split_target, FileCtx, Head, Parsed, Parser};
use crate::model::{intern, text, Event, Outcome, SourceKind, Text};
use crate::timeparse::{parse_clf, parse_epoch, parse_iso};

/// Synonyms for each event field in JSON access-log templates (API Gateway, nginx JSON,
/// generic). Data, not code: add a vendor's key here.
pub const REQUEST_ID: &[&str] = &[
    "requestId",
    "request_id",
    "requestID",
    "reqId",
    "x_request_id",
    "context.requestId",
    // API Gateway's own id, for templates that log no requestId.
    "extendedRequestId",
];
/// Client address keys.
pub const CLIENT_IP: &[&str] = &[
    "ip",
    "sourceIp",
    "identity.sourceIp",
    "clientIp",
    "client_ip",
    "remote_addr",
    "remoteAddr",
];
/// User-Agent keys.
pub const USER_AGENT: &[&str] = &[
    "userAgent",
    "identity.userAgent",
    "user_agent",
    "http_user_agent",
    "ua",
];
/// Method keys.
pub const METHOD: &[&str] = &["httpMethod", "method", "request_method", "http_method"];
/// Route-template keys.
pub const ROUTE: &[&str] = &["resourcePath", "routeKey", "route", "route_template"];
/// Concrete path keys (may include the query string).
pub const PATH: &[&str] = &["path", "uri", "request_uri", "url_path", "requestPath"];
/// Status keys.
pub const STATUS: &[&str] = &["status", "statusCode", "status_code", "response_status"];
/// Response-size keys.
pub const BYTES: &[&str] = &[
    "responseLength",
    "bytes_sent",
    "body_bytes_sent",
    "bytes",
    "response_bytes",
];
/// Latency keys in milliseconds.
pub const LATENCY_MS: &[&str] = &["responseLatency", "latency", "integrationLatency"];
/// Authenticated subject keys (customer account or staff principal).
pub const SUBJECT: &[&str] = &[
    "principalId",
    "authorizer.principalId",
    "jwtSub",
    "sub",
    "claims.sub",
    "authorizer.claims.sub",
    "userId",
    "user_id",
    "customerId",
    "authorizer.userId",
    "authorizer.customerId",
    "authorizer.accountId",
    "cognitoIdentityId",
    "identity.cognitoIdentityId",
    "authorizer.claims.email",
    "claims.email",
    "authorizer.claims.username",
    "authorizer.claims.cognito:username",
    "username",
    "email",
    "remote_user",
    "user",
    "caller",
    "identity.user",
    "identity.caller",
];
/// Token / API key id keys.
pub const TOKEN: &[&str] = &[
    "apiKeyId",
    "identity.apiKeyId",
    "tokenId",
    "token_id",
    "jti",
    "authorizer.jti",
];
/// Session keys.
pub const SESSION: &[&str] = &["sessionId", "session_id"];

/// Maps a JSON access-log object onto an event (every field but the time).
pub fn map_access_json(v: &Value, e: &mut Event) {
    e.request_id = first(v, REQUEST_ID);
    e.client_ip = first_str(v, CLIENT_IP).map(|ip| text(first_addr(&ip)));
    // Agents repeat across requests: one shared copy each, whatever their length.
    e.user_agent = first_str(v, USER_AGENT).map(|a| intern(&a));
    e.method = first_str(v, METHOD).map(|m| text(&m.to_ascii_uppercase()));
    if let Some(r) = first(v, ROUTE) {
        // HTTP API routeKey is "GET /v2/users/{id}"; `$default` is no template.
        let r = match r.split_once(' ') {
            Some((m, p)) if m.chars().all(|c| c.is_ascii_uppercase()) => {
                if e.method.is_none() && m != "ANY" {
                    e.method = Some(m.into());
                }
                Text::from(p)
            }
            _ => r,
        };
        if r != "$default" {
            e.route = Some(r);
        }
    }
    // REST API paths carry the stage (`/prod/…`); the route template does not.
    let stage = first_str(v, &["stage"]);
    let mut set_target = |target: &str| {
        let (path, q) = split_query(target);
        let path = stage
            .as_deref()
            .and_then(|st| path.strip_prefix('/')?.strip_prefix(st))
            .filter(|r| r.starts_with('/'))
            .unwrap_or(path);
        e.path = Some(text(path));
        e.query = q;
    };
    if let Some(p) = first_str(v, PATH) {
        set_target(&p);
    } else if let Some(req) = first_str(v, &["request"]) {
        // nginx `$request`: "GET /x?y HTTP/1.1"
        let mut it = req.split(' ');
        if let (Some(m), Some(t)) = (it.next(), it.next()) {
            set_target(t);
            e.method.get_or_insert_with(|| m.into());
        }
    }
    if e.query.is_none() {
        e.query = first(v, &["query", "querystring", "args", "query_string"]);
    }
    e.status = STATUS.iter().find_map(|k| u(v, k)).map(|s| s as u16);
    e.bytes = BYTES.iter().find_map(|k| u(v, k));
    e.latency_ms = LATENCY_MS
        .iter()
        .find_map(|k| super::json::f(v, k))
        .or_else(|| super::json::f(v, "request_time").map(|s| s * 1000.0));
    e.user = first(v, SUBJECT)
        .or_else(|| {
            // API Gateway's `$context.accountId` is the AWS account that owns the API (the
            // same twelve digits on every record of a multi-API log group), never a customer.
            let aws = ["requestId", "extendedRequestId", "apiId"]
                .iter()
                .any(|k| super::json::at(v, k).is_some());
            (!aws).then(|| first(v, &["accountId"])).flatten()
        })
        .or_else(|| subject_by_name(v))
        .or_else(|| nested_subject(v, 0));
    e.token_id = first(v, TOKEN);
    e.session_id = first(v, SESSION);
    if let Some(s) = e.status {
        e.outcome = Outcome::from_http(s);
    }
    if let Some(xff) = first(v, &["xff", "http_x_forwarded_for", "x_forwarded_for"]) {
        e.extra.insert("x_forwarded_for", xff);
    }
}

/// The subject of a key the template's author named for the app's own customers
/// (`guestId`, `member_id`, `loyaltyAccountId`: a customer word before a key word); not a
/// client (an OAuth application) nor an `accountId` (API Gateway's AWS account).
fn subject_by_name(v: &Value) -> Option<Text> {
    use std::cell::RefCell;
    thread_local! {
        /// Keys already judged: a file's records repeat a handful of keys.
        static JUDGED: RefCell<Vec<(Box<str>, bool)>> = const { RefCell::new(Vec::new()) };
    }
    let Value::Object(m) = v else { return None };
    m.members().iter().find_map(|(k, val)| {
        let ends = |s: &str| {
            k.len() >= s.len()
                && k.as_bytes()[k.len() - s.len()..].eq_ignore_ascii_case(s.as_bytes())
        };
        if !(ends("id") || ends("sub") || ends("subject") || ends("principal")) {
            return None;
        }
        let named = JUDGED.with_borrow_mut(|judged| {
            if let Some((_, yes)) = judged.iter().find(|(j, _)| **j == **k) {
                return *yes;
            }
            let words = crate::sql::name_words(k);
            // A token's subject or the authorizer's principal (`jwtSubject`,
            // `authorizerSub`, `principal`), whatever the template calls it.
            let last = words.last().map(String::as_str);
            let subject = matches!(last, Some("sub" | "subject")) || words == ["principal"];
            let yes = subject
                || crate::sql::Vocab::default().is_account_column(k)
                    && !words.iter().any(|w| w == "client")
                    && words.as_slice() != ["account", "id"];
            if judged.len() < 256 {
                judged.push((Box::from(k.as_ref()), yes));
            }
            yes
        });
        if !named {
            return None;
        }
        let x = super::json::scalar(val)?;
        crate::ingest::present_str(&x).map(text)
    })
}

/// The subject an authorizer's object carries, however deep the template nests it
/// (`"authorizer": {"jwt": {"claims": {"sub": …}}}`, `{"lambda": {"userId": …}}`): the
/// first of its subject keys, in document order.
fn nested_subject(v: &Value, depth: usize) -> Option<Text> {
    const HOLDERS: &[&str] = &[
        "authorizer",
        "claims",
        "jwt",
        "lambda",
        "context",
        "identity",
    ];
    const KEYS: &[&str] = &["sub", "principalId", "userId", "customerId", "username"];
    let Value::Object(m) = v else { return None };
    if depth > 4 || !m.nested() {
        return None;
    }
    m.members().iter().find_map(|(k, val)| {
        if !HOLDERS.iter().any(|h| h.eq_ignore_ascii_case(k)) {
            return None;
        }
        let Value::Object(inner) = val else {
            return None;
        };
        (KEYS.iter())
            .find_map(|key| inner.get(key).and_then(super::json::scalar))
            .and_then(|x| crate::ingest::present_str(&x).map(text))
            .or_else(|| nested_subject(val, depth + 1))
    })
}

/// A CLF-like line, or one led by an id (the REST guide's CloudFormation example puts
/// `$context.extendedRequestId` first), with that id.
fn led_clf(line: &str) -> Option<(Option<&str>, ClfLine<'_>)> {
    if let Some(c) = clf_fields(line) {
        return Some((None, c));
    }
    let (lead, rest) = line.split_once(' ')?;
    let id = lead.len() >= 10
        && lead
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=+/".contains(&b));
    if !id {
        return None;
    }
    clf_fields(rest).map(|c| (Some(lead), c))
}

/// The first address of an `X-Forwarded-For`-style list.
pub fn first_addr(s: &str) -> &str {
    s.split(',').next().unwrap_or(s).trim()
}

/// Times in JSON access logs: epoch fields first (ms precision), then CLF, then ISO.
/// An epoch out of range (a corrupt `msec`) gives way to a readable time field of the
/// same record; alone, it is returned for the pipeline to reject with its value.
pub fn access_time(v: &Value, ctx: &FileCtx) -> Option<(i64, bool)> {
    let epoch = first_str(v, &["requestTimeEpoch", "msec", "epoch", "timestamp_ms"])
        .and_then(|t| parse_epoch(&t));
    match epoch {
        Some(us) if super::pipeline::TIME_RANGE.contains(&us) => Some((us, false)),
        bad => text_time(v, ctx).or(bad.map(|us| (us, false))),
    }
}

fn text_time(v: &Value, ctx: &FileCtx) -> Option<(i64, bool)> {
    if let Some(t) = first_str(v, &["requestTime", "time_local", "timeLocal"]) {
        if let Some(us) = parse_clf(&t) {
            return Some((us, false));
        }
        if let Some(p) = parse_iso(&t, &ctx.opts.assume_tz) {
            return Some((p.us, p.assumed));
        }
    }
    let t = first_str(
        v,
        &[
            "time",
            "time_iso8601",
            "timestamp",
            "@timestamp",
            "start_time",
        ],
    )?;
    if let Some(p) = parse_iso(&t, &ctx.opts.assume_tz) {
        return Some((p.us, p.assumed));
    }
    parse_clf(&t)
        .map(|us| (us, false))
        .or_else(|| parse_epoch(&t).map(|us| (us, false)))
}

const USED: &[&str] = &[
    "requestId",
    "ip",
    "sourceIp",
    "requestTime",
    "requestTimeEpoch",
    "httpMethod",
    "resourcePath",
    "routeKey",
    "path",
    "status",
    "protocol",
    "responseLength",
    "userAgent",
    "principalId",
    "jwtSub",
    "responseLatency",
    // The same variables by their `$context` names (templates, the XML preset).
    "identity.sourceIp",
    "identity.userAgent",
    "authorizer.principalId",
    "authorizer.claims.sub",
];

/// AWS API Gateway JSON access logs.
pub struct ApigwJson;

impl Parser for ApigwJson {
    fn name(&self) -> &'static str {
        "apigw-json"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Gateway
    }
    fn detection(&self) -> &'static str {
        "JSON lines with requestId/extendedRequestId and a CLF requestTime or requestTimeEpoch, httpMethod/routeKey/resourcePath"
    }
    fn example(&self) -> &'static str {
        r#"{"requestId":"6f1c…","ip":"203.0.113.45","requestTime":"05/Mar/2024:14:22:01 +0000","httpMethod":"POST","resourcePath":"/orders/{orderId}/refund","status":"200"}"#
    }
    fn sniff(&self, head: &Head) -> u8 {
        line_score(head, |l| {
            let l = l.trim_start_matches(['[', ' ']);
            l.starts_with('{')
                && (l.contains("\"requestId\"") || l.contains("\"extendedRequestId\""))
                && (l.contains("\"requestTime") || l.contains("\"requestTimeEpoch\""))
                && (l.contains("\"httpMethod\"")
                    || l.contains("\"routeKey\"")
                    || l.contains("\"resourcePath\""))
        })
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        parse_access_json(self.name(), rec, ctx)
    }
}

/// Shared by the JSON access-log formats.
pub fn parse_access_json(format: &'static str, rec: &str, ctx: &FileCtx) -> Parsed {
    match record(rec) {
        Ok(v) => access_event(format, &v, ctx),
        Err(skip_or_reject) => skip_or_reject,
    }
}

/// An access-log record read into a document — a JSON object, the elements of the XML
/// preset or a template's variables by name — as an event: the same synonyms whatever
/// the layout, and every other member kept in `extra`.
pub fn access_event(format: &'static str, v: &Value, ctx: &FileCtx) -> Parsed {
    let mut e = Event::new(SourceKind::Gateway, format);
    let Some((ts, assumed)) = access_time(v, ctx) else {
        return Parsed::Reject("no parseable request time".into());
    };
    e.ts = ts;
    e.tz_assumed = assumed;
    map_access_json(v, &mut e);
    if e.method.is_none() && e.path.is_none() && e.status.is_none() {
        return Parsed::Reject("no method, path or status: not an access-log record".into());
    }
    rest_into(v, "", USED, &mut e.extra);
    super::client::resolve(&mut e, &ctx.opts.trusted_proxies);
    Parsed::Event(Box::new(e))
}

/// AWS API Gateway CLF preset:
/// `ip caller user [time] "METHOD resourcePath PROTO" status length requestId [extendedRequestId]`.
pub struct ApigwClf;

impl Parser for ApigwClf {
    fn name(&self) -> &'static str {
        "apigw-clf"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Gateway
    }
    fn detection(&self) -> &'static str {
        "CLF-like line whose request target has {placeholders} or that ends with a request id (and an extended id `…=`)"
    }
    fn example(&self) -> &'static str {
        r#"203.0.113.45 - - [05/Mar/2024:14:22:01 +0000] "POST /orders/{orderId}/refund HTTP/1.1" 200 312 6f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c Tn7xKGHoIAMEb3Q="#
    }
    fn sniff(&self, head: &Head) -> u8 {
        line_score(head, |l| match led_clf(l) {
            Some((_, c)) => {
                c.rest.len() <= 2
                    && !c.rest.is_empty()
                    && !c.rest[0].starts_with('"')
                    && (c.rest[0].len() >= 16 || c.target.contains('{'))
            }
            None => false,
        })
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        let _ = ctx;
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let Some((lead, c)) = led_clf(rec) else {
            return Parsed::Reject("not a CLF line".into());
        };
        let mut e = match clf_event(self.name(), &c) {
            Ok(e) => e,
            Err(r) => return Parsed::Reject(r),
        };
        // The template path is logged, not the concrete one; `$default` is neither.
        if e.path.as_deref().is_some_and(|p| p.contains('{')) {
            e.route = e.path.take();
        } else if e.path.as_deref() == Some("$default") {
            e.path = None;
        }
        e.request_id = c.rest.first().map(|s| Text::from(*s));
        let extended = lead.or(c.rest.get(1).copied());
        if let Some(x) = extended {
            e.extra.insert("extended_request_id", x);
        }
        if e.request_id.is_none() {
            e.request_id = extended.map(Text::from);
        }
        if let Some(caller) = present(c.ident) {
            e.extra.insert("caller", caller);
        }
        Parsed::Event(Box::new(e))
    }
}

/// Builds a gateway event from CLF fields (shared with nginx).
pub fn clf_event(format: &'static str, c: &ClfLine) -> Result<Event, String> {
    let mut e = Event::new(SourceKind::Gateway, format);
    e.ts = parse_clf(c.time).ok_or_else(|| format!("bad CLF time {:?}", c.time))?;
    e.client_ip = present(c.host);
    e.user = present(c.user);
    let mut parts = c.request.split(' ').filter(|p| !p.is_empty());
    let m = parts.next();
    let mut t = parts.next();
    // HTTP API CLF writes "$httpMethod $routeKey": "GET GET /v2/users/{id} HTTP/1.1".
    if let (Some(m), Some(t2)) = (m, t) {
        if t2 == m || t2 == "ANY" {
            t = parts.next();
        }
    }
    match (m, t) {
        (Some(m), Some(t)) if m.chars().all(|c| c.is_ascii_alphabetic()) => {
            e.method = Some(m.into());
            let (p, q) = split_target(t);
            e.path = Some(p);
            e.query = q;
        }
        _ => {
            e.extra.insert("request_line", c.request);
        }
    }
    e.status = c.status.parse().ok();
    if e.status.is_none() {
        return Err(format!("bad status {:?}", c.status));
    }
    e.bytes = c.bytes.parse().ok();
    e.outcome = Outcome::from_http(e.status.unwrap_or(0));
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::FileCtx;

    fn ev(p: &dyn Parser, line: &str) -> Event {
        match p.parse(line, &FileCtx::default()) {
            Parsed::Event(e) => *e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rest_json_fields() {
        let e = ev(
            &ApigwJson,
            r#"{"requestId":"6f1c2a3b-8d4e","extendedRequestId":"Tn7xKGHoIAMEb3Q=","ip":"203.0.113.45","caller":"-","user":"-","requestTime":"05/Mar/2024:14:22:01 +0000","requestTimeEpoch":"1709648521123","httpMethod":"POST","resourcePath":"/orders/{orderId}/refund","path":"/prod/orders/8812/refund","stage":"prod","status":"200","protocol":"HTTP/1.1","responseLength":"312","userAgent":"okhttp/4.12.0","principalId":"user-4411","responseLatency":"95"}"#,
        );
        assert_eq!(e.ts, 1_709_648_521_123_000);
        assert_eq!(e.request_id.as_deref(), Some("6f1c2a3b-8d4e"));
        assert_eq!(e.client_ip.as_deref(), Some("203.0.113.45"));
        assert_eq!(e.route.as_deref(), Some("/orders/{orderId}/refund"));
        assert_eq!(e.path.as_deref(), Some("/orders/8812/refund"));
        assert_eq!(e.status, Some(200));
        assert_eq!(e.bytes, Some(312));
        assert_eq!(e.user.as_deref(), Some("user-4411"));
        assert_eq!(e.latency_ms, Some(95.0));
        assert_eq!(e.extra["extendedRequestId"], "Tn7xKGHoIAMEb3Q=");
    }

    #[test]
    fn the_subject_is_the_customer_not_the_aws_account_nor_the_client_app() {
        let line = |extra: &str| {
            format!(
                r#"{{"requestId":"r1","accountId":"123456789012","apiId":"a1b2c3d4e5","ip":"198.51.100.7","requestTimeEpoch":"1709648523","httpMethod":"GET","path":"/v2/guests/1007","status":"200"{extra}}}"#
            )
        };
        // `$context.accountId` is the API owner's AWS account.
        assert_eq!(ev(&ApigwJson, &line("")).user, None);
        assert_eq!(
            ev(&ApigwJson, &line(r#","clientId":"7f3k2app""#)).user,
            None
        );
        for (extra, want) in [
            (r#","guestId":"1007""#, "1007"),
            (r#","loyalty_member_id":"1007""#, "1007"),
            (r#","authorizer":{"customerId":"1007"}"#, "1007"),
            (
                r#","authorizer.claims.email":"ann@example.com""#,
                "ann@example.com",
            ),
            (r#","clientId":"7f3k2app","guestId":"1007""#, "1007"),
            // Subjects and principals under the template's own names, and nested.
            (r#","jwtSubject":"1007""#, "1007"),
            (r#","authorizerSub":"1007""#, "1007"),
            (r#","principal":"1007""#, "1007"),
            (r#","authorizer":{"jwt":{"claims":{"sub":"1007"}}}"#, "1007"),
            (r#","authorizer":{"lambda":{"userId":"1007"}}"#, "1007"),
            (
                r#","authorizer":{"jwt":{"claims":{"sub":"-"}}},"guestId":"1007""#,
                "1007",
            ),
        ] {
            let e = ev(&ApigwJson, &line(extra));
            assert_eq!(e.user.as_deref(), Some(want), "{extra}");
        }
        // Where no API Gateway field says whose `accountId` it is, it is the app's.
        let nginx = r#"{"time":"2024-03-05T15:22:01+01:00","remote_addr":"198.51.100.7","accountId":"1007","request":"GET /v2/x HTTP/1.1","status":200}"#;
        assert_eq!(ev(&ApigwJson, nginx).user.as_deref(), Some("1007"));
    }

    #[test]
    fn http_api_routekey_and_epoch_seconds() {
        let e = ev(
            &ApigwJson,
            r#"{"requestId":"Tn8AbHqLoAMEVxw=","ip":"198.51.100.23","requestTime":"05/Mar/2024:14:22:03 +0000","requestTimeEpoch":"1709648523","routeKey":"GET /v2/users/{id}","path":"/v2/users/1007","status":"403","responseLength":"23","userAgent":"curl/8.4.0","jwtSub":"-"}"#,
        );
        assert_eq!(e.method.as_deref(), Some("GET"));
        assert_eq!(e.route.as_deref(), Some("/v2/users/{id}"));
        assert_eq!(e.ts, 1_709_648_523_000_000);
        assert_eq!(e.user, None);
        assert_eq!(e.outcome, Outcome::Failure);
    }

    #[test]
    fn context_variables_named_with_dots_are_read_nested_or_literal() {
        // A template may name its keys after the `$context` variables, dots and all, or
        // nest them; either way they are the request's fields, not extra and not lost.
        let flat = ev(
            &ApigwJson,
            r#"{"requestId":"r1","identity.sourceIp":"198.51.100.7","identity.userAgent":"curl/8.4.0","authorizer.claims.sub":"1007","requestTimeEpoch":"1709648523","httpMethod":"GET","path":"/v2/users/1007","status":"200"}"#,
        );
        let nested = ev(
            &ApigwJson,
            r#"{"requestId":"r1","identity":{"sourceIp":"198.51.100.7","userAgent":"curl/8.4.0"},"authorizer":{"claims":{"sub":"1007"}},"requestTimeEpoch":"1709648523","httpMethod":"GET","path":"/v2/users/1007","status":"200"}"#,
        );
        for e in [&flat, &nested] {
            assert_eq!(e.client_ip.as_deref(), Some("198.51.100.7"));
            assert_eq!(e.user_agent.as_deref(), Some("curl/8.4.0"));
            assert_eq!(e.user.as_deref(), Some("1007"));
            assert!(e.extra.is_empty(), "{:?}", e.extra);
        }
    }

    #[test]
    fn unquoted_empty_numbers_tolerated_and_garbage_rejected() {
        let e = ev(
            &ApigwJson,
            r#"{"requestId":"a","requestTime":"05/Mar/2024:14:22:03 +0000","httpMethod":"GET","path":"/x","status":200,"latency":-}"#,
        );
        assert_eq!(e.latency_ms, None);
        assert!(matches!(
            ApigwJson.parse("{\"requestId\":\"a\",", &FileCtx::default()),
            Parsed::Reject(_)
        ));
        assert!(matches!(
            ApigwJson.parse(
                r#"{"requestId":"a","httpMethod":"GET"}"#,
                &FileCtx::default()
            ),
            Parsed::Reject(_)
        ));
    }

    #[test]
    fn clf_preset() {
        let e = ev(
            &ApigwClf,
            r#"203.0.113.45 - - [05/Mar/2024:14:22:01 +0000] "POST /orders/{orderId}/refund HTTP/1.1" 200 312 6f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c Tn7xKGHoIAMEb3Q="#,
        );
        assert_eq!(e.route.as_deref(), Some("/orders/{orderId}/refund"));
        assert_eq!(
            e.request_id.as_deref(),
            Some("6f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c")
        );
        let e = ev(
            &ApigwClf,
            r#"198.51.100.1 - - [05/Mar/2024:14:22:01 +0000] "GET GET /v2/users/{id} HTTP/1.1" 200 31 Tn8AbHqLoAMEVxw="#,
        );
        assert_eq!(e.method.as_deref(), Some("GET"));
        assert_eq!(e.route.as_deref(), Some("/v2/users/{id}"));
        let e = ev(
            &ApigwClf,
            r#"198.51.100.1 - - [05/Mar/2024:14:22:01 +0000] "GET $default HTTP/1.1" 404 0 Tn8AbHqLoAMEVxw="#,
        );
        assert!(e.path.is_none() && e.route.is_none());
        // The REST guide's CloudFormation example: the extended id first.
        let l = r#"Tn7xKGHoIAMEb3Q= 203.0.113.45 - - [05/Mar/2024:14:22:01 +0000] "POST /orders/{orderId}/refund HTTP/1.1" 200 312 6f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c"#;
        assert_eq!(ApigwClf.sniff(&crate::ingest::head_of(l)), 100);
        let e = ev(&ApigwClf, l);
        assert_eq!(e.client_ip.as_deref(), Some("203.0.113.45"));
        assert_eq!(
            e.request_id.as_deref(),
            Some("6f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c")
        );
        assert_eq!(e.extra["extended_request_id"], "Tn7xKGHoIAMEb3Q=");
        assert_eq!(e.status, Some(200));
    }
}
