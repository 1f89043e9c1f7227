//! MySQL Enterprise Audit JSON: one array, element by element, the active file without its
//! closing `]`. (Percona's plugin and both vendors' XML are in `percona` and `audit_xml`.)

use super::json::{first, object, s, u};
use super::pgaudit::apply_sql;
use super::{FileCtx, Framing, Head, Parsed, Parser};
use crate::model::{text, Event, Outcome, SourceKind, StmtClass};
use crate::sql::Dialect;
use crate::timeparse::{parse_epoch, parse_iso, AssumeTz};

/// MySQL Enterprise Audit / audit log component, JSON.
pub struct EnterpriseJson;

impl Parser for EnterpriseJson {
    fn name(&self) -> &'static str {
        "mysql-audit-json"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Db
    }
    fn detection(&self) -> &'static str {
        "JSON array (maybe unterminated) of objects with timestamp, class, event, connection_id; or those objects one per line"
    }
    fn example(&self) -> &'static str {
        r#"[{"timestamp":"2024-03-05 14:23:10","id":0,"class":"general","event":"status","connection_id":88,"account":{"user":"svc","host":"%"},"login":{"ip":"203.0.113.45"},"general_data":{"query":"SELECT …","status":0}},"#
    }
    fn framing(&self) -> Framing {
        Framing::Json
    }
    fn sniff(&self, head: &Head) -> u8 {
        let t = head.text.trim_start();
        let keys = |t: &str| {
            t.contains("\"class\"")
                && t.contains("\"event\"")
                && t.contains("\"connection_id\"")
                && t.contains("\"timestamp\"")
        };
        if t.starts_with('[') && keys(t) {
            95
        } else if t
            .trim_start_matches([',', ' ', '\t', '\r', '\n'])
            .starts_with('{')
            && head
                .lines
                .iter()
                .find(|l| l.trim_start_matches([',', ' ', '\t']).starts_with('{'))
                .is_some_and(|l| keys(l))
        {
            // The same events one object per line (`jq -c '.[]'`, a log shipper), or a
            // piece cut from the middle of the array (a leading comma).
            85
        } else {
            0
        }
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        let v = match object(rec) {
            Ok(v) => v,
            Err(e) => return Parsed::Reject(e),
        };
        let mut e = Event::new(SourceKind::Db, self.name());
        // `timestamp` is UTC by definition; `time` is epoch seconds when enabled.
        let ts = s(&v, "timestamp")
            .and_then(|t| parse_iso(&t, &AssumeTz::Fixed(0)).map(|p| p.us))
            .or_else(|| s(&v, "time").and_then(|t| parse_epoch(&t)));
        let Some(ts) = ts else {
            return Parsed::Reject("no timestamp".into());
        };
        e.ts = ts;
        let class = s(&v, "class").unwrap_or_default();
        let event = s(&v, "event").unwrap_or_default();
        e.db_user = first(&v, &["account.user", "login.user"]);
        e.db_host = first(&v, &["login.ip", "account.host"]).filter(|h| h != "%");
        e.session_id = s(&v, "connection_id").map(|c| text(&format!("conn:{c}")));
        if let (Some(a), Some(l)) = (s(&v, "account.user"), s(&v, "login.user")) {
            if a != l {
                e.extra.insert("login_user", l);
            }
        }
        e.extra.insert("class", class.clone());
        if let Some(id) = s(&v, "id") {
            e.extra.insert("id", id);
        }
        let status = |path: &str| u(&v, path).unwrap_or(0);
        match class.as_str() {
            "connection" => {
                e.command = Some(event.clone());
                e.stmt_class = Some(StmtClass::Other);
                e.db_name = s(&v, "connection_data.db");
                e.outcome = ok(status("connection_data.status"));
            }
            "general" => {
                e.statement = s(&v, "general_data.query");
                let command = s(&v, "general_data.command");
                e.command = match s(&v, "general_data.sql_command") {
                    // A protocol command that is no statement (`Close stmt`, `Ping`):
                    // MySQL names its SQL command `error`.
                    Some(c) if c == "error" && e.statement.is_none() => command.clone(),
                    c => c.map(|c| text(&c.to_ascii_uppercase())),
                };
                e.outcome = ok(status("general_data.status"));
                apply_sql(&mut e, Dialect::MySql, ctx);
                if command.as_deref() == Some("Prepare") {
                    super::percona::prepared_only(&mut e);
                }
            }
            "table_access" => {
                // One record per table a statement touched, carrying the statement. Beside
                // the statement's `general` record it is an echo, and correlation drops its
                // statement so changes count once; where the audit filter logs table access
                // alone, the first of them stands for the statement (correlate/echoes.rs).
                e.command = Some(text(&format!("table {event}")));
                e.object = s(&v, "table_access_data.table");
                e.db_name = s(&v, "table_access_data.db");
                e.stmt_class = Some(match event.as_str() {
                    "read" => StmtClass::Read,
                    _ => StmtClass::Write,
                });
                e.outcome = Outcome::Success;
                e.extra.insert("table_access", "true");
                e.statement = s(&v, "table_access_data.query");
                apply_sql(&mut e, Dialect::MySql, ctx);
            }
            "audit" => {
                e.command = Some(event.clone());
                e.stmt_class = Some(StmtClass::Other);
            }
            _ => {
                e.command = Some(text(&format!("{class} {event}")));
                e.stmt_class = Some(StmtClass::Other);
            }
        }
        // A proxy user's login, and what a statement returned (a mass read shows here).
        for (k, path) in [
            ("login_proxy", "login.proxy"),
            ("rows_sent", "query_statistics.rows_sent"),
            ("rows_examined", "query_statistics.rows_examined"),
            ("bytes_sent", "query_statistics.bytes_sent"),
        ] {
            if let Some(x) = s(&v, path) {
                e.extra.insert(k, x);
            }
        }
        Parsed::Event(Box::new(e))
    }
}

fn ok(status: u64) -> Outcome {
    if status == 0 {
        Outcome::Success
    } else {
        Outcome::Failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_that_repeat_across_statements_are_shared() {
        // A connection's id, the command and the address repeat in every statement it
        // runs: millions of events hold one copy of each, not one apiece.
        let l = r#"{"timestamp":"2024-03-05 14:23:10","id":0,"class":"general","event":"status","connection_id":4242,"account":{"user":"svc","host":"%"},"login":{"user":"svc","ip":"203.0.113.77"},"general_data":{"command":"Query","sql_command":"select","query":"SELECT 1","status":0}}"#;
        let parse = || match EnterpriseJson.parse(l, &FileCtx::default()) {
            Parsed::Event(e) => e,
            _ => panic!(),
        };
        let _ = parse();
        let (a, b) = (parse(), parse());
        for (x, y) in [
            (&a.session_id, &b.session_id),
            (&a.command, &b.command),
            (&a.db_host, &b.db_host),
        ] {
            assert!(crate::model::Text::ptr_eq(
                x.as_ref().unwrap(),
                y.as_ref().unwrap()
            ));
        }
        assert_eq!(a.session_id.as_deref(), Some("conn:4242"));
        assert_eq!(a.command.as_deref(), Some("SELECT"));
    }

    #[test]
    fn enterprise_elements() {
        let l = r#"{"timestamp":"2024-03-05 14:23:10","id":0,"class":"general","event":"status","connection_id":88,"account":{"user":"svc_reporting","host":"%"},"login":{"user":"svc_reporting","os":"","ip":"203.0.113.45","proxy":""},"general_data":{"command":"Query","sql_command":"select","query":"SELECT email, phone FROM customers","status":0}},"#;
        let Parsed::Event(e) = EnterpriseJson.parse(l, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!(e.db_host.as_deref(), Some("203.0.113.45"));
        assert!(e.sql.as_ref().unwrap().whole_table_read);
        assert!(e.extra.get("rows_sent").is_none());
        let p = l.replace(
            r#""login":{"user":"svc_reporting","os":"","ip":"203.0.113.45","proxy":""}"#,
            r#""login":{"user":"attacker","os":"","ip":"203.0.113.45","proxy":"pxy"},"query_statistics":{"query_time":0.5,"rows_sent":48211,"rows_examined":48211,"bytes_received":40,"bytes_sent":9000000}"#,
        );
        let Parsed::Event(e) = EnterpriseJson.parse(&p, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!(e.extra["login_user"], "attacker");
        assert_eq!(e.extra["login_proxy"], "pxy");
        assert_eq!(e.extra["rows_sent"], "48211");
        assert_eq!(e.extra["bytes_sent"], "9000000");
        let c = r#"{"timestamp":"2024-03-05 14:22:01","id":0,"class":"connection","event":"connect","connection_id":88,"account":{"user":"x","host":"%"},"login":{"user":"x","ip":"198.51.100.1"},"connection_data":{"status":1045,"db":"orders"}}"#;
        let Parsed::Event(e) = EnterpriseJson.parse(c, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!(e.outcome, Outcome::Failure);
        assert!(matches!(
            EnterpriseJson.parse("{\"timestamp\":", &FileCtx::default()),
            Parsed::Reject(_)
        ));
    }

    #[test]
    fn a_server_side_prepared_statement_counts_at_its_executes() {
        let rec = |command: &str, sql_command: &str, query: &str| {
            let l = format!(
                r#"{{"timestamp":"2025-11-04 11:05:01","id":1,"class":"general","event":"status","connection_id":77,"account":{{"user":"app","host":"%"}},"login":{{"user":"app","ip":"10.0.0.5"}},"general_data":{{"command":"{command}","sql_command":"{sql_command}","query":"{query}","status":0}}}}"#
            );
            match EnterpriseJson.parse(&l, &FileCtx::default()) {
                Parsed::Event(e) => e,
                o => panic!("{o:?}"),
            }
        };
        let p = rec(
            "Prepare",
            "select",
            "SELECT * FROM customers WHERE email LIKE ?",
        );
        assert!(p.sql.is_none() && p.statement.is_some());
        assert_eq!(p.extra["statement_step"], "prepare");
        let x = rec(
            "Execute",
            "select",
            "SELECT * FROM customers WHERE email LIKE '%'",
        );
        assert!(x.sql.is_some() && x.extra.get("statement_step").is_none());
        let c = rec("Close stmt", "error", "");
        assert_eq!(c.command.as_deref(), Some("Close stmt"));
    }
}
