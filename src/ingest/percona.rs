//! The Percona Server `audit_log` plugin's records (JSON and CSV here, XML in
//! `audit_xml`): one set of fields whatever the format, mapped onto an event once.

use super::json::{object, scalar, Value};
use super::pgaudit::{apply_sql, csv_split};
use super::{FileCtx, Framing, Head, Parsed, Parser};
use crate::model::{text, Event, Outcome, SourceKind, StmtClass, Text};
use crate::sql::Dialect;
use crate::timeparse::{parse_iso, AssumeTz};
use std::borrow::Cow;

/// An audit record's fields by lower-case name (`name`, `timestamp`, `sqltext`, …), as
/// the Percona and MySQL Enterprise plugins write them in every format.
#[derive(Debug, Default)]
pub struct AuditFields<'a>(pub Vec<(Cow<'a, str>, Cow<'a, str>)>);

impl AuditFields<'_> {
    /// A field's value, when present and not empty.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| super::present_str(v))
    }
    fn text(&self, key: &str) -> Option<Text> {
        self.get(key).map(Text::from)
    }
}

/// A server-side prepared statement's `Prepare` record (Go's MySQL driver, JDBC with
/// `useServerPrepStmts`): the statement was only prepared, with `?` for its values; its
/// `Execute` records, with the values in, are what ran. It keeps its text and class for
/// the timeline but carries no facts (tables, accounts, changes, reads).
pub(super) fn prepared_only(e: &mut Event) {
    e.sql = None;
    e.extra.insert("statement_step", "prepare");
}

/// Maps an audit record onto an event: connection, statement and plugin records of the
/// Percona plugin and of MySQL Enterprise Audit's XML.
pub fn audit_event(format: &'static str, r: &AuditFields, ctx: &FileCtx) -> Parsed {
    let mut e = Event::new(SourceKind::Db, format);
    // The plugins write UTC (`%FT%T UTC`); a zone-less variant is UTC as well.
    let Some(p) = r
        .get("timestamp")
        .and_then(|t| parse_iso(t, &AssumeTz::Fixed(0)))
    else {
        return Parsed::Reject("bad or missing timestamp".into());
    };
    e.ts = p.us;
    let name = r.get("name").unwrap_or_default();
    // `user` is `priv_user[user] @ host [ip]` on statements, the bare name on connects.
    let user = r
        .get("user")
        .map(|u| Text::from(u.split(['[', ' ']).next().unwrap_or_default()));
    e.db_user = r.text("priv_user").or(user);
    e.db_host = r.text("ip").or_else(|| r.text("host"));
    e.db_name = r.text("db");
    e.session_id = r.get("connection_id").map(|c| text(&format!("conn:{c}")));
    if let Some(rec) = r.get("record").or_else(|| r.get("record_id")) {
        e.extra.insert("record", rec);
    }
    if let Some(proxy) = r.get("proxy_user") {
        e.extra.insert("proxy_user", proxy);
    }
    let status = r.get("status").and_then(|s| s.parse::<u64>().ok());
    e.outcome = if status.unwrap_or(0) == 0 {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    match name {
        "Query" | "Execute" | "Prepare" => {
            e.statement = r.text("sqltext");
            e.command = r
                .get("command_class")
                .map(|c| text(&c.to_ascii_uppercase()));
            apply_sql(&mut e, Dialect::MySql, ctx);
            if name == "Prepare" {
                prepared_only(&mut e);
            }
        }
        _ => {
            e.command = Some(name.to_ascii_lowercase().into());
            e.stmt_class = Some(StmtClass::Other);
        }
    }
    if e.statement.is_none() && name == "Query" {
        e.extra.insert("sqltext", "<empty>");
    }
    Parsed::Event(Box::new(e))
}

/// Percona `audit_log` plugin, JSON.
pub struct PerconaJson;

impl Parser for PerconaJson {
    fn name(&self) -> &'static str {
        "percona-audit-json"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Db
    }
    fn detection(&self) -> &'static str {
        r#"lines starting {"audit_record":"#
    }
    fn example(&self) -> &'static str {
        r#"{"audit_record":{"name":"Query","record":"1407_2024-03-01T08:00:00","timestamp":"2024-03-05T14:23:10 UTC","command_class":"select","connection_id":"88","status":0,"sqltext":"SELECT …","user":"svc[svc] @  [203.0.113.45]","ip":"203.0.113.45","db":"orders"}}"#
    }
    fn sniff(&self, head: &Head) -> u8 {
        super::line_score(head, |l| l.starts_with("{\"audit_record\":"))
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let v = match object(rec) {
            Ok(v) => v,
            Err(e) => return Parsed::Reject(e),
        };
        let Some(Value::Object(m)) = v.get("audit_record") else {
            return Parsed::Reject("no audit_record".into());
        };
        let fields = m
            .members()
            .iter()
            .filter_map(|(k, v)| Some((Cow::Borrowed(k.as_ref()), scalar(v)?)))
            .collect();
        audit_event(self.name(), &AuditFields(fields), ctx)
    }
}

/// Field names of the CSV variant by record kind, in the plugin's column order.
const CSV_GENERAL: &[&str] = &[
    "name",
    "record",
    "timestamp",
    "command_class",
    "connection_id",
    "status",
    "sqltext",
    "user",
    "host",
    "os_user",
    "ip",
    "db",
];
const CSV_CONNECTION: &[&str] = &[
    "name",
    "record",
    "timestamp",
    "connection_id",
    "status",
    "user",
    "priv_user",
    "os_login",
    "proxy_user",
    "host",
    "ip",
    "db",
];
const CSV_AUDIT: &[&str] = &[
    "name",
    "record",
    "timestamp",
    "mysql_version",
    "startup_options",
    "os_version",
];

/// Whether a CSV record's first two fields are a Percona record name and id
/// (`1407_2024-03-01T08:00:00`).
fn looks_like_csv_record(line: &str) -> bool {
    let Some(f) = csv_split(line) else {
        return false;
    };
    let id = f.get(1).map(|s| s.as_bytes()).unwrap_or_default();
    let digits = id.iter().take_while(|c| c.is_ascii_digit()).count();
    f.len() >= 6
        && !f[0].is_empty()
        && f[0].bytes().all(|c| c.is_ascii_alphabetic() || c == b' ')
        && digits > 0
        && id.get(digits) == Some(&b'_')
        && id.len() > digits + 5
        && id[digits + 1..digits + 5].iter().all(u8::is_ascii_digit)
        && id[digits + 5] == b'-'
}

/// Percona `audit_log` plugin, `audit_log_format=CSV`: positional, every field but the
/// status quoted, quotes doubled and newlines of statements written as they are.
pub struct PerconaCsv;

impl Parser for PerconaCsv {
    fn name(&self) -> &'static str {
        "percona-audit-csv"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Db
    }
    fn detection(&self) -> &'static str {
        r#"CSV records "Name","<n>_<yyyy-mm-dd>T…","<time> UTC",… (Query, Connect, Quit, …)"#
    }
    fn example(&self) -> &'static str {
        r#""Query","1407_2024-03-01T08:00:00","2024-03-05T14:23:10 UTC","select","88",0,"SELECT email FROM customers","svc[svc] @  [203.0.113.45]","","","203.0.113.45","orders""#
    }
    fn framing(&self) -> Framing {
        Framing::Csv
    }
    fn sniff(&self, head: &Head) -> u8 {
        super::line_score(head, looks_like_csv_record)
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let Some(f) = csv_split(rec) else {
            return Parsed::Reject("unterminated quoted field".into());
        };
        let names = match f.first().map(|n| n.as_ref()) {
            Some("Connect" | "Quit" | "Change user") => CSV_CONNECTION,
            Some("Audit" | "NoAudit") => CSV_AUDIT,
            _ => CSV_GENERAL,
        };
        if f.len() != names.len() {
            return Parsed::Reject(format!(
                "{} fields, a {:?} record has {}",
                f.len(),
                crate::sanitize::shorten(&f[0], 24),
                names.len()
            ));
        }
        let fields = names.iter().map(|n| Cow::Borrowed(*n)).zip(f).collect();
        audit_event(self.name(), &AuditFields(fields), ctx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(p: &dyn Parser, rec: &str) -> Event {
        match p.parse(rec, &FileCtx::default()) {
            Parsed::Event(e) => *e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn percona_json_record() {
        let l = r#"{"audit_record":{"name":"Query","record":"1408_2024-03-01T08:00:00","timestamp":"2024-03-05T14:25:00 UTC","command_class":"grant","connection_id":"91","status":1045,"sqltext":"GRANT ALL ON *.* TO 'backdoor'@'%'","user":"app[app] @  [198.51.100.23]","host":"","os_user":"","ip":"198.51.100.23","db":""}}"#;
        let e = ev(&PerconaJson, l);
        assert_eq!(e.db_user.as_deref(), Some("app"));
        assert_eq!(e.stmt_class, Some(StmtClass::Role));
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.db_name, None);
        // A prepared statement runs at its `Execute` records, not at its `Prepare`.
        let p = l
            .replace(r#""name":"Query""#, r#""name":"Prepare""#)
            .replace(
                "GRANT ALL ON *.* TO 'backdoor'@'%'",
                "SELECT * FROM customers",
            );
        let e = ev(&PerconaJson, &p);
        assert!(e.sql.is_none() && e.statement.is_some());
        assert_eq!(e.extra["statement_step"], "prepare");
    }

    #[test]
    fn csv_records_by_kind() {
        let q = "\"Query\",\"1407_2024-03-01T08:00:00\",\"2024-03-05T14:23:10 UTC\",\"update\",\"88\",0,\"UPDATE loyalty_accounts SET balance = balance + 500\nWHERE account_id = 100231 AND note = \"\"x\"\"\",\"svc[svc] @  [203.0.113.45]\",\"\",\"\",\"203.0.113.45\",\"orders\"";
        let e = ev(&PerconaCsv, q);
        assert_eq!(e.ts, 1_709_648_590_000_000);
        assert_eq!(e.db_user.as_deref(), Some("svc"));
        assert_eq!(e.db_host.as_deref(), Some("203.0.113.45"));
        assert_eq!(e.session_id.as_deref(), Some("conn:88"));
        assert_eq!(e.stmt_class, Some(StmtClass::Write));
        assert!(e.statement.as_deref().unwrap().ends_with("note = \"x\""));
        let c = r#""Connect","1406_2024-03-01T08:00:00","2024-03-05T14:22:01 UTC","88",1045,"svc","svc","","","","203.0.113.45","orders""#;
        let e = ev(&PerconaCsv, c);
        assert_eq!(e.command.as_deref(), Some("connect"));
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.db_name.as_deref(), Some("orders"));
        let a = r#""Audit","1_2024-03-01T08:00:00","2024-03-01T08:00:00 UTC","8.0.36-28","--daemonize","x86_64-Linux""#;
        assert_eq!(ev(&PerconaCsv, a).command.as_deref(), Some("audit"));
        for bad in [
            r#""Query","1407_2024-03-01T08:00:00","2024-03-05T14:23:10 UTC","select""#,
            "\u{1}\u{2}corrupt",
            r#""Query","1407_2024-03-01T08:00:00","yesterday","select","88",0,"SELECT 1","u","","","","""#,
        ] {
            assert!(
                matches!(
                    PerconaCsv.parse(bad, &FileCtx::default()),
                    Parsed::Reject(_)
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn csv_is_told_from_other_csv() {
        let head = crate::ingest::head_of(
            "\"Connect\",\"1_2024-03-01T08:00:00\",\"2024-03-05T14:22:01 UTC\",\"8\",0,\"a\",\"a\",\"\",\"\",\"\",\"10.0.0.1\",\"db\"\n",
        );
        assert_eq!(PerconaCsv.sniff(&head), 100);
        let pg = crate::ingest::head_of("2024-03-05 14:22:01.123 UTC,\"svc\",\"orders\",12345,\"203.0.113.45:53110\",65e7,1,\"SELECT\"\n");
        assert_eq!(PerconaCsv.sniff(&pg), 0);
    }
}
