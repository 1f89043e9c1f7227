//! Infers a PostgreSQL `log_line_prefix` template from the log's own lines when none of
//! the common templates fits: the prefix before `SEVERITY:  ` is read token by token, and
//! what PostgreSQL's escapes print (timestamps, `[pid]`, `[pid-line]`, `user@db`,
//! `key=value` pairs, session ids) becomes the escape, everything else a literal.

use regex::Regex;
use std::sync::LazyLock;

/// One token of a prefix, anchored at its start. A zone after a timestamp starts with an
/// upper-case letter (PostgreSQL prints abbreviations), so a lower-case user after a
/// zone-less time is not taken for one.
static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:(?P<m>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}(?: [A-Z][A-Za-z0-9/_+-]*| ?[+-]\d\d(?::?\d\d)?)?)",
        r"|(?P<t>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?: [A-Z][A-Za-z0-9/_+-]*| ?[+-]\d\d(?::?\d\d)?)?)",
        r"|(?P<n>\d{9,11}\.\d{3})",
        r"|\[(?P<a>\d+)-(?P<b>\d+)\]",
        r"|\[(?P<br>\d+)\]",
        r"|(?P<ud>(?:\[unknown\]|[^\s@\[\],:=]+)@(?:\[unknown\]|[^\s@\[\],:=]+))",
        r"|(?P<k>[A-Za-z_]+)=(?P<v>\[unknown\]|[^,\s\]]*)",
        r"|(?P<ip>\[local\]|\d{1,3}(?:\.\d{1,3}){3})(?P<port>\(\d+\))?",
        r"|(?P<c>[0-9a-f]{6,}\.[0-9a-f]+)",
        r"|(?P<num>\d+)",
        r")"
    ))
    .expect("static regex")
});

/// The escape a `key=` label of a prefix stands for (`user=%u,db=%d,app=%a,client=%h`):
/// the labels deployments write, as PostgreSQL's documentation and distributions do.
fn escape_of_key(key: &str, value: &str) -> Option<&'static str> {
    Some(match key.to_ascii_lowercase().as_str() {
        "user" | "usr" | "username" | "u" | "role" => "%u",
        "db" | "database" | "dbname" | "d" => "%d",
        "app" | "application" | "appname" | "application_name" | "a" => "%a",
        "client" | "host" | "remote" | "client_addr" | "ip" | "addr" | "h" | "r" => {
            if value.ends_with(')') {
                "%r"
            } else {
                "%h"
            }
        }
        "pid" | "p" => "%p",
        "session" | "sid" | "session_id" | "c" => "%c",
        "line" | "l" => "%l",
        "xid" | "txid" | "x" => "%x",
        "vxid" | "v" => "%v",
        "sqlstate" | "state" | "e" => "%e",
        _ => return None,
    })
}

/// What a line's prefix holds: the values of the escapes the parser reads, and where
/// the prefix ends (its severity starts).
#[derive(Debug, Default, Clone, Copy)]
pub struct Fields<'a> {
    pub ts: Option<&'a str>,
    pub epoch: Option<&'a str>,
    pub user: Option<&'a str>,
    pub db: Option<&'a str>,
    pub host: Option<&'a str>,
    pub app: Option<&'a str>,
    pub session: Option<&'a str>,
    pub pid: Option<&'a str>,
    pub end: usize,
}

/// The template whose output `prefix` (a line's text before its severity) is, or `None`
/// when a part of it is nothing PostgreSQL's escapes print in a recognizable form.
pub fn template(prefix: &str) -> Option<String> {
    infer(prefix).map(|(t, _)| t)
}

/// The template whose output `prefix` is, with the values its escapes printed.
pub fn infer(prefix: &str) -> Option<(String, Fields<'_>)> {
    infer_for(prefix, false)
}

/// [`infer`], where `postgres` says the message after the prefix is one only
/// PostgreSQL writes (`AUDIT: SESSION,…`, `connection authorized: …`): then a time alone
/// (`< %m >`, `%t `) is a prefix too.
pub fn infer_for(prefix: &str, postgres: bool) -> Option<(String, Fields<'_>)> {
    let mut t = String::new();
    let mut f = Fields {
        end: prefix.len(),
        ..Fields::default()
    };
    let (mut time, mut pid, mut optional) = (false, false, false);
    let mut rest = prefix;
    while let Some(ch) = rest.chars().next() {
        let Some(c) = TOKEN.captures(rest) else {
            if ch == '%' {
                t.push_str("%%");
            } else {
                t.push(ch);
            }
            rest = &rest[ch.len_utf8()..];
            continue;
        };
        let g = |n: &str| c.name(n).map(|m| m.as_str());
        if g("m").is_some() || g("t").is_some() || g("n").is_some() {
            if time {
                return None;
            }
            time = true;
            t.push_str(match (g("m"), g("t")) {
                (Some(_), _) => "%m",
                (_, Some(_)) => "%t",
                _ => "%n",
            });
            if g("n").is_some() {
                f.epoch = g("n");
            } else {
                f.ts = g("m").or(g("t"));
            }
        } else if let (Some(a), Some(b)) = (g("a"), g("b")) {
            // `[%p-%l]` (Debian's old default), or `[%l-1]` after the pid.
            if pid {
                t.push_str(&format!("[%l-{b}]"));
            } else {
                t.push_str("[%p-%l]");
                f.pid = Some(a);
                pid = true;
            }
        } else if let Some(n) = g("br") {
            t.push_str(if pid { "[%l]" } else { "[%p]" });
            if !pid {
                f.pid = Some(n);
            }
            pid = true;
        } else if let Some(ud) = g("ud") {
            // Background processes print nothing from here on.
            if !optional {
                t.push_str("%q");
                optional = true;
            }
            t.push_str("%u@%d");
            if let Some((u, d)) = ud.split_once('@') {
                (f.user, f.db) = (Some(u), Some(d));
            }
        } else if let (Some(k), Some(v)) = (g("k"), g("v")) {
            let e = escape_of_key(k, v)?;
            pid |= e == "%p";
            t.push_str(k);
            t.push('=');
            t.push_str(e);
            match e {
                "%u" => f.user = Some(v),
                "%d" => f.db = Some(v),
                "%a" => f.app = Some(v),
                "%h" | "%r" => f.host = Some(v),
                "%p" => f.pid = Some(v),
                "%c" => f.session = Some(v),
                _ => {}
            }
        } else if let Some(ip) = g("ip") {
            t.push_str(if g("port").is_some() { "%r" } else { "%h" });
            f.host = Some(ip);
        } else if let Some(s) = g("c") {
            t.push_str("%c");
            f.session = Some(s);
        } else if let Some(n) = g("num") {
            t.push_str(if pid { "%l" } else { "%p" });
            if !pid {
                f.pid = Some(n);
            }
            pid = true;
        }
        let end = c.get(0).map_or(0, |m| m.end());
        rest = &rest[if end == 0 { ch.len_utf8() } else { end }..];
    }
    // A time alone and words (`2024-… [main] INFO:  …`) is any application's log line,
    // unless the message is PostgreSQL's own.
    let session = ["%p", "%l", "%u", "%d", "%c", "%h", "%r", "%x", "%v"]
        .iter()
        .any(|e| t.contains(e));
    (time && (session || postgres)).then_some((t, f))
}

#[cfg(test)]
mod tests {
    use super::{infer, template};

    #[test]
    fn prefixes_become_their_templates() {
        for (prefix, want) in [
            (
                "2024-03-05 14:23:10 EET [4242-1] app@loyalty ",
                "%t [%p-%l] %q%u@%d ",
            ),
            ("2024-03-05 14:23:10 EET [4242-1] ", "%t [%p-%l] "),
            (
                "2024-03-05 14:23:10.123 UTC [77] [unknown]@[unknown] ",
                "%m [%p] %q%u@%d ",
            ),
            (
                "2024-03-05 14:23:10 +02 [12]: [3-1] user=app,db=loyalty,app=psql,client=10.0.0.5 ",
                "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
            ),
            ("1709641390.123 [812] app@loyalty ", "%n [%p] %q%u@%d "),
            ("2024-03-05 14:23:10.123 [local] 812 ", "%m %h %p "),
            ("< 2024-03-05 14:23:10.123 CET 812 > ", "< %m %p > "),
            (
                "2024-03-05 14:23:10 UTC:10.0.0.5(51234):app@loyalty:[812]:",
                "%t:%r:%q%u@%d:[%p]:",
            ),
            ("2024-03-05 14:23:10 UTC 65e7a1b2.32c ", "%t %c "),
        ] {
            assert_eq!(template(prefix).as_deref(), Some(want), "{prefix}");
        }
        // No time, or a label nothing prints.
        assert_eq!(template("[812] app@loyalty "), None);
        assert_eq!(template("2024-03-05 14:23:10 UTC tenant=acme "), None);
        assert_eq!(template("2024-03-05 14:23:10.123 [main] "), None);
    }

    #[test]
    fn a_time_alone_is_a_prefix_only_before_postgresql_s_own_messages() {
        use super::infer_for;
        for (prefix, want) in [
            ("< 2024-03-05 14:23:10.123 UTC >", "< %m >"),
            ("2024-03-05 14:23:10 EET ", "%t "),
            ("1709641390.123 ", "%n "),
        ] {
            assert_eq!(template(prefix), None, "{prefix}");
            let got = infer_for(prefix, true).map(|(t, _)| t);
            assert_eq!(got.as_deref(), Some(want), "{prefix}");
        }
        assert!(infer_for("[812] ", true).is_none());
    }

    #[test]
    fn the_values_a_prefix_holds_are_read_with_its_template() {
        let (_, f) = infer("2024-03-05 14:23:10 UTC:10.0.0.5(51234):app@loyalty:[812]:").unwrap();
        assert_eq!(f.ts, Some("2024-03-05 14:23:10 UTC"));
        assert_eq!(
            (f.user, f.db, f.host, f.pid),
            (Some("app"), Some("loyalty"), Some("10.0.0.5"), Some("812"))
        );
        let (_, f) = infer("1709641390.123 [812-4] ").unwrap();
        assert_eq!(
            (f.epoch, f.ts, f.pid),
            (Some("1709641390.123"), None, Some("812"))
        );
        let p = "2024-03-05 14:23:10 -03 [12]: [3-1] db=loyalty,user=app,app=psql,client=10.0.0.5,session=65e7a1b2.32c ";
        let (t, f) = infer(p).unwrap();
        assert_eq!(
            t,
            "%t [%p]: [%l-1] db=%d,user=%u,app=%a,client=%h,session=%c "
        );
        assert_eq!(
            (f.user, f.db, f.app, f.host),
            (Some("app"), Some("loyalty"), Some("psql"), Some("10.0.0.5"))
        );
        assert_eq!(
            (f.pid, f.session, f.end),
            (Some("12"), Some("65e7a1b2.32c"), p.len())
        );
    }
}
