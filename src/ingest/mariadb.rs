//! MariaDB `server_audit` plugin text logs (also RDS's MARIADB_AUDIT_PLUGIN and Aurora's
//! epoch-µs variant, and records whose time a syslog header gave, RFC 3339 with its
//! offset): naive local timestamps take `--assume-tz`; quoted statements are
//! unescaped; statements cut at `server_audit_query_log_limit` are flagged, not rejected.

use super::pgaudit::apply_sql;
use super::{present, FileCtx, Head, Parsed, Parser};
use crate::model::{text, Event, Outcome, SourceKind, StmtClass, Text};
use crate::sql::Dialect;
use crate::timeparse::{epoch_magnitude, parse_iso};
use regex::Regex;
use std::sync::LazyLock;

// The server's and the client's host hold no space: a PostgreSQL message through
// syslog (`user=app,db=x,client=10.0.0.5 LOG:  AUDIT: SESSION,1,1,WRITE,…`) has the
// same run of commas, numbers and a word.
static LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(\d{8} \d\d:\d\d:\d\d|\d{16}|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?),[^,\s]*,[^,]*,[^,\s]*,\d+,\d+,(CONNECT|DISCONNECT|FAILED_CONNECT|QUERY|READ|WRITE|CREATE|ALTER|DROP|RENAME|CHANGEUSER|PROXY_CONNECT),")
        .expect("static regex")
});

static TIMELESS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\s*[^,\s]*,[^,]*,[^,\s]*,\d+,\d+,(CONNECT|DISCONNECT|FAILED_CONNECT|QUERY|READ|WRITE|CREATE|ALTER|DROP|RENAME|CHANGEUSER|PROXY_CONNECT),")
        .expect("static regex")
});

/// Whether a message is a server_audit record without its time, as the plugin writes
/// it to syslog (`server_audit_output_type=SYSLOG`).
pub fn timeless(msg: &str) -> bool {
    TIMELESS.is_match(msg) && !LINE.is_match(msg)
}

/// Default `server_audit_query_log_limit`.
pub const QUERY_LOG_LIMIT: usize = 1024;

/// MariaDB server_audit.
pub struct MariaDb;

impl Parser for MariaDb {
    fn name(&self) -> &'static str {
        "mariadb-audit"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Db
    }
    fn detection(&self) -> &'static str {
        "`YYYYMMDD HH:MM:SS,host,user,client,conn,query,OPERATION,db,object,retcode`"
    }
    fn example(&self) -> &'static str {
        r"20240305 14:23:10,db-prod-1,svc,203.0.113.45,88,4711,QUERY,orders,'SELECT email FROM customers WHERE note LIKE \'%vip%\'',0"
    }
    fn sniff(&self, head: &Head) -> u8 {
        super::line_score(head, |l| LINE.is_match(l))
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        // Eight fields by comma, retcode from the end, the object is what lies between.
        let mut parts = rec.splitn(9, ',');
        let mut f: Vec<&str> = Vec::with_capacity(9);
        for _ in 0..8 {
            match parts.next() {
                Some(p) => f.push(p),
                None => return Parsed::Reject("fewer than 10 fields".into()),
            }
        }
        let tail = parts.next().unwrap_or("");
        let (mut object, mut retcode) = match tail.rfind(',') {
            Some(i) if is_code(&tail[i + 1..]) => (&tail[..i], &tail[i + 1..]),
            _ => (tail, ""),
        };
        // Some builds append the connection type to connection records
        // (`…,CONNECT,<db>,<object>,<retcode>,<type>`): the code is then last but one.
        let mut conn_type = None;
        if retcode.is_empty() && CONNECTION_OPS.contains(&f[6]) {
            if let Some((rest, kind)) = tail.rsplit_once(',') {
                if let Some((obj, code)) = rest.rsplit_once(',').filter(|(_, c)| is_code(c)) {
                    (object, retcode, conn_type) = (obj, code, present(kind));
                }
            }
        }
        let mut e = Event::new(SourceKind::Db, self.name());
        let ts = f[0];
        if ts.len() == 16 && ts.bytes().all(|b| b.is_ascii_digit()) {
            e.ts = match ts.parse::<i64>().ok().and_then(epoch_magnitude) {
                Some(t) => t,
                None => return Parsed::Reject("bad epoch".into()),
            };
        } else {
            match parse_iso(ts, &ctx.opts.assume_tz) {
                Some(p) => {
                    e.ts = p.us;
                    e.tz_assumed = p.assumed;
                }
                None => return Parsed::Reject(format!("bad timestamp {ts:?}")),
            }
        }
        e.extra.insert("server_host", f[1]);
        e.db_user = present(f[2]);
        e.db_host = present(f[3]).map(|h| match h.rsplit_once(':') {
            Some((a, p)) if p.bytes().all(|b| b.is_ascii_digit()) && !a.contains(':') => {
                Text::from(a)
            }
            _ => h,
        });
        e.session_id = Some(text(&format!("conn:{}", f[4])));
        e.extra.insert("query_id", f[5]);
        let op = f[6];
        e.db_name = present(f[7]);
        let retcode = retcode.trim();
        e.outcome = match retcode {
            "" => Outcome::Unknown,
            "0" => Outcome::Success,
            _ => Outcome::Failure,
        };
        if !retcode.is_empty() {
            e.extra.insert("retcode", retcode);
        }
        if let Some(t) = conn_type {
            e.extra.insert("connection_type", t);
        }
        match op {
            "QUERY" => {
                let (stmt, cut) = unquote(object);
                e.truncated = cut || stmt.len() >= QUERY_LOG_LIMIT;
                e.statement = Some(stmt.into());
                apply_sql(&mut e, Dialect::MySql, ctx);
            }
            "READ" | "WRITE" | "CREATE" | "ALTER" | "DROP" | "RENAME" => {
                e.command = Some(format!("table {}", op.to_ascii_lowercase()).into());
                e.object = present(object);
                e.stmt_class = Some(match op {
                    "READ" => StmtClass::Read,
                    "WRITE" => StmtClass::Write,
                    _ => StmtClass::Ddl,
                });
                e.extra.insert("table_access", "true");
            }
            _ => {
                e.command = Some(op.to_ascii_lowercase().into());
                e.stmt_class = Some(StmtClass::Other);
                if let Some(o) = present(object) {
                    e.extra.insert("object", o);
                }
            }
        }
        if e.command.is_none() {
            e.command = Some(op.into());
        }
        Parsed::Event(Box::new(e))
    }
}

/// Operations that open, change or close a connection.
const CONNECTION_OPS: &[&str] = &[
    "CONNECT",
    "DISCONNECT",
    "FAILED_CONNECT",
    "CHANGEUSER",
    "PROXY_CONNECT",
];

/// Whether a field is a return code: digits only (empty for table events).
fn is_code(s: &str) -> bool {
    s.trim().bytes().all(|b| b.is_ascii_digit())
}

/// Undoes server_audit's quoting: `'…'` with `\'`, `\\`, `\n`, `\t`, `\r`, `\b`, `\f`.
/// Returns the text and whether the closing quote was missing (a cut line).
pub fn unquote(s: &str) -> (String, bool) {
    let Some(inner) = s.strip_prefix('\'') else {
        return (s.to_string(), false);
    };
    let mut out = String::with_capacity(inner.len());
    let mut it = inner.chars();
    let mut closed = false;
    while let Some(c) = it.next() {
        match c {
            '\\' => match it.next() {
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('b') => out.push('\u{8}'),
                Some('f') => out.push('\u{c}'),
                Some(o) => out.push(o),
                None => {}
            },
            '\'' => {
                closed = true;
                if it.clone().next().is_some() {
                    out.push('\'');
                    closed = false;
                    continue;
                }
            }
            c => out.push(c),
        }
    }
    (out, !closed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::ParseOpts;
    use crate::timeparse::{fmt_utc_s, AssumeTz};
    use std::sync::Arc;

    #[test]
    fn a_postgresql_message_with_its_commas_is_no_server_audit_record() {
        let pg = "user=app,db=loyalty,client=10.0.0.5 LOG:  AUDIT: SESSION,1,1,WRITE,UPDATE,,,x,<not logged>";
        assert!(!timeless(pg));
        assert!(!LINE.is_match(&format!("20240305 14:22:01,{pg}")));
        let maria = "db-prod-1,svc,203.0.113.45,88,4711,QUERY,orders,'SELECT 1',0";
        assert!(timeless(maria));
        assert!(LINE.is_match(&format!("20240305 14:22:01,{maria}")));
        // A user name may hold a space; the hosts do not.
        assert!(timeless(
            "db-prod-1,john smith,10.0.0.9,88,4711,CONNECT,orders,,0"
        ));
    }

    fn kyiv() -> FileCtx {
        let o = ParseOpts {
            assume_tz: AssumeTz::parse("Europe/Kyiv").unwrap(),
            assume_tz_given: true,
            ..Default::default()
        };
        FileCtx {
            opts: Arc::new(o),
            ..Default::default()
        }
    }

    #[test]
    fn query_with_escapes_and_local_time() {
        let l = r"20251104 10:23:10,db-prod-1,svc_reporting,203.0.113.45,88,4711,QUERY,orders,'SELECT email, phone FROM customers WHERE note LIKE \'%vip%\'',0";
        let Parsed::Event(e) = MariaDb.parse(l, &kyiv()) else {
            panic!()
        };
        assert_eq!(fmt_utc_s(e.ts), "2025-11-04T08:23:10Z");
        assert!(e.tz_assumed);
        assert_eq!(
            e.statement.as_deref(),
            Some("SELECT email, phone FROM customers WHERE note LIKE '%vip%'")
        );
        assert!(!e.truncated);
    }

    #[test]
    fn table_event_empty_retcode_and_failed_connect() {
        let Parsed::Event(e) = MariaDb.parse(
            "20240305 14:23:10,db-prod-1,svc,203.0.113.45,88,4711,READ,orders,customers,",
            &kyiv(),
        ) else {
            panic!()
        };
        assert_eq!(e.object.as_deref(), Some("customers"));
        assert_eq!(e.outcome, Outcome::Unknown);
        let Parsed::Event(e) = MariaDb.parse(
            "20240305 14:25:00,db-prod-1,backdoor,198.51.100.23,91,0,FAILED_CONNECT,,,1045",
            &kyiv(),
        ) else {
            panic!()
        };
        assert_eq!(e.outcome, Outcome::Failure);
    }

    #[test]
    fn a_configured_timestamp_format_is_detected() {
        let h = crate::ingest::head_of(
            "2024-03-05 14:22:01,db-prod-1,svc,203.0.113.45,88,0,CONNECT,orders,,0\n",
        );
        assert_eq!(MariaDb.sniff(&h), 100);
        let Parsed::Event(e) = MariaDb.parse(h.lines[0], &kyiv()) else {
            panic!()
        };
        assert_eq!(crate::timeparse::fmt_utc_s(e.ts), "2024-03-05T12:22:01Z");
    }

    #[test]
    fn connection_type_after_the_return_code() {
        let line = |op: &str, code: &str| {
            format!("20240305 14:25:00,db-prod-1,backdoor,198.51.100.23,91,0,{op},orders,,{code},TCP/IP")
        };
        let Parsed::Event(e) = MariaDb.parse(&line("FAILED_CONNECT", "1045"), &kyiv()) else {
            panic!()
        };
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.extra.get("retcode").map(|t| t.as_str()), Some("1045"));
        assert_eq!(
            e.extra.get("connection_type").map(|t| t.as_str()),
            Some("TCP/IP")
        );
        assert!(e.extra.get("object").is_none());
        let Parsed::Event(e) = MariaDb.parse(&line("CONNECT", "0"), &kyiv()) else {
            panic!()
        };
        assert_eq!(e.outcome, Outcome::Success);
        // A statement ending in digits after a comma is not read as a connection type.
        let Parsed::Event(e) = MariaDb.parse(
            "20240305 14:23:10,db,app,10.0.0.1,1,2,QUERY,orders,'SELECT a, b FROM t',0",
            &kyiv(),
        ) else {
            panic!()
        };
        assert_eq!(e.statement.as_deref(), Some("SELECT a, b FROM t"));
        assert!(e.extra.get("connection_type").is_none());
    }

    #[test]
    fn truncated_statement_is_flagged_not_rejected() {
        let long = format!(
            "20240305 14:23:10,db,app,10.0.0.1,1,2,QUERY,orders,'SELECT {} FROM customers WHERE x = \\'abc",
            "a, ".repeat(400)
        );
        let Parsed::Event(e) = MariaDb.parse(&long, &kyiv()) else {
            panic!()
        };
        assert!(e.truncated);
        assert!(matches!(
            MariaDb.parse("2024,broken", &kyiv()),
            Parsed::Reject(_)
        ));
    }
}
