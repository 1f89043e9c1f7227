//! AWS RDS / Aurora Database Activity Streams, decrypted: one activity record per JSON
//! object (a decrypted batch's `databaseActivityEventList` is unwrapped as an envelope
//! first). Heartbeats are skipped; records still encrypted with KMS are rejected with
//! what to do about them.

use super::json::{first, record, s, Value};
use super::pgaudit::apply_sql;
use super::{FileCtx, Framing, Head, Parsed, Parser};
use crate::model::{text, Event, Outcome, SourceKind, StmtClass, Text};
use crate::sql::Dialect;
use crate::timeparse::{parse_iso, AssumeTz};

/// Decrypted Database Activity Streams records (Aurora PostgreSQL / MySQL, RDS).
pub struct ActivityStream;

/// The reason a still-encrypted Kinesis record is rejected.
const ENCRYPTED: &str =
    "activity-stream record still encrypted (databaseActivityEvents): decrypt it \
     with the stream's KMS key (AWS Encryption SDK) and give the decrypted records";

/// Commands that open, close or fail a session rather than run a statement.
const SESSION_COMMANDS: &[&str] = &[
    "CONNECT",
    "DISCONNECT",
    "FAILED_CONNECT",
    "AUTH FAILURE",
    "AUTHENTICATION FAILURE",
    "CHANGEUSER",
];

impl Parser for ActivityStream {
    fn name(&self) -> &'static str {
        "rds-activity-stream"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Db
    }
    fn detection(&self) -> &'static str {
        "JSON activity records (type record/heartbeat) with logTime, dbUserName, commandText; \
         decrypted batches' databaseActivityEventList unwrapped"
    }
    fn example(&self) -> &'static str {
        r#"{"type":"record","clientApplication":"psql","pid":23456,"dbUserName":"attacker","databaseName":"orders","remoteHost":"203.0.113.45","remotePort":"53112","command":"SELECT","commandText":"SELECT * FROM customers","paramList":[],"logTime":"2024-03-05 14:25:00.004512+00","statementId":1,"substatementId":1,"objectType":"TABLE","objectName":"public.customers","class":"READ","serverType":"PostgreSQL","sessionId":"65e72b3c.5ba0","serverHost":"10.0.1.12","exitCode":null,"rowCount":null,"errorMessage":null}"#
    }
    fn framing(&self) -> Framing {
        Framing::Json
    }
    fn sniff(&self, head: &Head) -> u8 {
        let t = head.text.trim_start();
        if !t.starts_with(['{', '[']) {
            return 0;
        }
        let record = t.contains("\"dbUserName\"")
            && t.contains("\"logTime\"")
            && (t.contains("\"commandText\"") || t.contains("\"command\""));
        let encrypted = t.contains("\"DatabaseActivityMonitoringRecords\"")
            && t.contains("\"databaseActivityEvents\"");
        let heartbeats = super::line_score(head, |l| l.contains("\"heartbeat\"")) == 100;
        if record || encrypted {
            90
        } else if heartbeats && t.contains("\"type\"") {
            60
        } else {
            0
        }
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        let v = match record(rec) {
            Ok(v) => v,
            Err(skip_or_reject) => return skip_or_reject,
        };
        match s(&v, "type").as_deref() {
            Some("heartbeat") => return Parsed::Skip("activity-stream heartbeat"),
            Some("DatabaseActivityMonitoringRecords") => return Parsed::Reject(ENCRYPTED.into()),
            Some("DatabaseActivityMonitoringRecord") => {
                return Parsed::Reject("activity-stream batch without an event list".into())
            }
            _ => {}
        }
        // `logTime` is UTC: with `+00` on PostgreSQL and MySQL, zone-less on Oracle (UTC
        // all the same, so `--assume-tz` does not apply).
        let Some(p) = ["logTime", "endTime", "startTime"]
            .iter()
            .find_map(|k| s(&v, k).and_then(|t| parse_iso(&t, &AssumeTz::Fixed(0))))
        else {
            return Parsed::Reject("no parseable logTime".into());
        };
        let mut e = Event::new(SourceKind::Db, self.name());
        e.ts = p.us;
        e.db_user = s(&v, "dbUserName");
        e.db_name = s(&v, "databaseName");
        e.db_host = s(&v, "remoteHost");
        let pid = s(&v, "pid");
        e.session_id =
            s(&v, "sessionId").or_else(|| pid.as_ref().map(|p| text(&format!("pid:{p}"))));
        keep_extras(&v, &mut e);
        let command = s(&v, "command").map(|c| Text::from(c.to_ascii_uppercase()));
        let failed = failed(&v, command.as_deref());
        e.outcome = if failed {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        e.object = s(&v, "objectName");
        if command
            .as_deref()
            .is_some_and(|c| SESSION_COMMANDS.contains(&c))
        {
            e.command = command;
            e.stmt_class = Some(StmtClass::Other);
            return Parsed::Event(Box::new(e));
        }
        // PostgreSQL's records carry pgaudit's class; MySQL's (`MAIN`, `AUX`) say nothing
        // of the statement, which the analysis then classifies.
        e.stmt_class = s(&v, "class").and_then(|c| match c.to_ascii_uppercase().as_str() {
            "READ" => Some(StmtClass::Read),
            "WRITE" => Some(StmtClass::Write),
            "DDL" => Some(StmtClass::Ddl),
            "ROLE" => Some(StmtClass::Role),
            "FUNCTION" | "MISC" | "MISC_SET" => Some(StmtClass::Other),
            _ => None,
        });
        e.command = command;
        e.statement = s(&v, "commandText");
        e.params = params(&v);
        let mysql = first(&v, &["serverType", "dbProtocol"])
            .is_some_and(|t| t.to_ascii_lowercase().contains("mysql"));
        apply_sql(
            &mut e,
            if mysql {
                Dialect::MySql
            } else {
                Dialect::Postgres
            },
            ctx,
        );
        if e.stmt_class.is_none() {
            e.stmt_class = Some(StmtClass::Other);
        }
        Parsed::Event(Box::new(e))
    }
}

/// Whether a record says its command failed: an error message, a non-zero exit code or a
/// failed-login command.
fn failed(v: &Value, command: Option<&str>) -> bool {
    let code = s(v, "exitCode");
    s(v, "errorMessage").is_some()
        || code.is_some_and(|c| c.trim() != "0")
        || matches!(
            command,
            Some("FAILED_CONNECT" | "AUTH FAILURE" | "AUTHENTICATION FAILURE")
        )
}

/// Bound parameters, when the record lists any.
fn params(v: &Value) -> Option<thin_vec::ThinVec<String>> {
    let Some(Value::Array(a)) = v.get("paramList") else {
        return None;
    };
    let ps: thin_vec::ThinVec<String> = a
        .iter()
        .map(|p| match p {
            Value::String(x) => x.to_string(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
        .collect();
    (!ps.is_empty()).then_some(ps)
}

/// The record's other fields worth a responder's look, under the names the other
/// database formats use for them.
fn keep_extras(v: &Value, e: &mut Event) {
    const KEEP: &[(&str, &str)] = &[
        ("pid", "pid"),
        ("remotePort", "remote_port"),
        ("clientApplication", "application_name"),
        ("class", "audit_class"),
        ("objectType", "object_type"),
        ("statementId", "statement_id"),
        ("substatementId", "substatement_id"),
        ("transactionId", "transaction_id"),
        ("rowCount", "rows"),
        ("exitCode", "exit_code"),
        ("errorMessage", "error_message"),
        ("serverHost", "server_host"),
        ("serverType", "server_type"),
        ("serviceName", "service_name"),
        ("clusterId", "cluster_id"),
        ("instanceId", "instance_id"),
    ];
    for (key, name) in KEEP {
        if let Some(x) = s(v, key) {
            e.extra.insert(name, x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(l: &str) -> Parsed {
        ActivityStream.parse(l, &FileCtx::default())
    }

    #[test]
    fn postgres_record_is_a_statement_with_its_class_and_parameters() {
        let l = r#"{"type":"record","clientApplication":"psql","pid":23456,"dbUserName":"svc","databaseName":"loyalty","remoteHost":"203.0.113.45","remotePort":"53112","command":"UPDATE","commandText":"UPDATE bonus_accounts SET balance = balance + $1 WHERE account_id = $2","paramList":["5000","100087"],"logTime":"2024-03-05 14:25:00.004512+00","statementId":7,"substatementId":1,"objectType":"TABLE","objectName":"public.bonus_accounts","class":"WRITE","serverType":"PostgreSQL","sessionId":"65e72b3c.5ba0","exitCode":null,"rowCount":1,"errorMessage":null}"#;
        let Parsed::Event(e) = parse(l) else {
            panic!("{:?}", parse(l))
        };
        assert_eq!(e.ts, 1_709_648_700_004_512);
        assert_eq!(e.db_user.as_deref(), Some("svc"));
        assert_eq!(e.db_host.as_deref(), Some("203.0.113.45"));
        assert_eq!(e.session_id.as_deref(), Some("65e72b3c.5ba0"));
        assert_eq!(e.stmt_class, Some(StmtClass::Write));
        assert_eq!(e.outcome, Outcome::Success);
        assert_eq!(e.object.as_deref(), Some("public.bonus_accounts"));
        assert_eq!(e.params.as_deref().map(|p| p.len()), Some(2));
        let facts = e.sql.as_ref().unwrap();
        assert_eq!(facts.bonus_changes.len(), 1, "{facts:?}");
        assert_eq!(e.extra.get("rows").map(|r| r.as_str()), Some("1"));
        assert_eq!(
            e.extra.get("application_name").map(|r| r.as_str()),
            Some("psql")
        );
    }

    #[test]
    fn mysql_records_sessions_failures_heartbeats_and_encrypted_ones() {
        let q = r#"{"logTime":"2020-11-04 08:24:12.491236+00","type":"record","clientApplication":null,"pid":2830,"dbUserName":"app","databaseName":"loyalty","remoteHost":"10.0.3.7","remotePort":"41234","command":"QUERY","commandText":"SELECT email, phone FROM customers","paramList":null,"objectType":"TABLE","objectName":"","statementId":0,"substatementId":1,"exitCode":"0","sessionId":"725121","rowCount":2000,"serverHost":"master","serverType":"MySQL","serviceName":"Amazon Aurora MySQL","dbProtocol":"MySQL","errorMessage":"","class":"MAIN"}"#;
        let Parsed::Event(e) = parse(q) else { panic!() };
        assert_eq!(e.stmt_class, Some(StmtClass::Read));
        assert!(e.sql.as_ref().unwrap().whole_table_read);
        assert_eq!(e.outcome, Outcome::Success);
        let f = r#"{"logTime":"2020-11-04 08:24:13.000000+00","type":"record","pid":2831,"dbUserName":"backdoor","databaseName":"","remoteHost":"198.51.100.23","command":"FAILED_CONNECT","commandText":"","exitCode":"1045","sessionId":"725122","serverType":"MySQL","class":"MAIN"}"#;
        let Parsed::Event(e) = parse(f) else { panic!() };
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.stmt_class, Some(StmtClass::Other));
        assert!(e.sql.is_none());
        assert!(matches!(parse(r#"{"type":"heartbeat"}"#), Parsed::Skip(_)));
        let enc = r#"{"type":"DatabaseActivityMonitoringRecords","version":"1.2","databaseActivityEvents":"AYADeF0…","key":"AQIDAHi…"}"#;
        assert!(matches!(parse(enc), Parsed::Reject(r) if r.contains("KMS")));
        assert!(matches!(
            parse(r#"{"type":"record","dbUserName":"x"}"#),
            Parsed::Reject(_)
        ));
        assert!(matches!(parse(r#"{"type":"record","#), Parsed::Reject(_)));
    }

    #[test]
    fn zone_less_oracle_times_are_utc_whatever_zone_is_assumed() {
        let l = r#"{"type":"record","dbUserName":"SYS","logTime":"2024-03-05 14:25:00.004512","command":"SELECT","commandText":"select 1 from dual","class":"Standard"}"#;
        let ctx = FileCtx {
            opts: std::sync::Arc::new(crate::ingest::ParseOpts {
                assume_tz: AssumeTz::parse("Europe/Kyiv").unwrap(),
                assume_tz_given: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        let Parsed::Event(e) = ActivityStream.parse(l, &ctx) else {
            panic!()
        };
        assert!(!e.tz_assumed);
        assert_eq!(e.ts, 1_709_648_700_004_512);
        assert_eq!(e.stmt_class, Some(StmtClass::Read));
    }
}
