//! Database writers: one simulated statement as a record of pgaudit (stderr, csvlog,
//! jsonlog), of PostgreSQL's own statement logging, MySQL Enterprise / Percona audit
//! JSON, MariaDB server_audit, or a decrypted Aurora PostgreSQL activity-stream batch,
//! in the server's own zone and clock (skewed).

use super::scenario::{SKind, Stmt, S};
use chrono::{DateTime, TimeZone, Utc};
use chrono_tz::Tz;

/// DB formats the simulator writes.
pub const FORMATS: &[&str] = &[
    "pg-stderr",
    "pg-stderr-default",
    "pg-stderr-execute",
    "pg-csvlog",
    "pg-jsonlog",
    "mysql-audit-json",
    "percona-audit-json",
    "percona-audit-csv",
    "mysql-audit-xml",
    "mariadb-audit",
    "rds-activity-stream",
];

/// Server clock and zone.
pub struct Clock {
    /// Server zone.
    pub tz: Tz,
    /// Skew added to true time, µs.
    pub skew: i64,
    /// Which XML shape an XML audit log takes (see `percona::xml`).
    pub xml_style: u8,
    /// Whether PostgreSQL's own statement logging is `log_min_duration_statement = 0`
    /// (parse, bind and execute each logged with their durations) rather than
    /// `log_statement = 'all'`.
    pub timed: bool,
}

impl Clock {
    pub(super) fn local(&self, us: i64, fmt: &str) -> String {
        let t = DateTime::from_timestamp_micros(us + self.skew).unwrap_or_default();
        self.tz
            .from_utc_datetime(&t.naive_utc())
            .format(fmt)
            .to_string()
    }
    pub(super) fn utc(&self, us: i64, fmt: &str) -> String {
        DateTime::<Utc>::from_timestamp_micros(us + self.skew)
            .unwrap_or_default()
            .format(fmt)
            .to_string()
    }
}

/// pgaudit's `append_valid_csv`: quote only when needed.
fn pgcsv(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csvq(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Substitutes `$n` parameters with SQL literals (what MySQL-family logs show).
pub fn inline(s: &Stmt) -> String {
    let mut t = s.text.clone();
    for (i, p) in s.params.iter().enumerate().rev() {
        let lit = if p.parse::<i64>().is_ok() && !p.starts_with('+') {
            p.clone()
        } else {
            format!("'{}'", p.replace('\'', "''"))
        };
        t = t.replace(&format!("${}", i + 1), &lit);
    }
    t
}

fn audit_msg(s: &Stmt, stmt_no: u64) -> String {
    let params = if s.params.is_empty() {
        "<none>".to_string()
    } else {
        pgcsv(
            &s.params
                .iter()
                .map(|p| pgcsv(p))
                .collect::<Vec<_>>()
                .join(","),
        )
    };
    format!(
        "AUDIT: SESSION,{stmt_no},1,{},{},TABLE,{},{},{}",
        s.class,
        s.command,
        s.object,
        pgcsv(&s.text),
        params
    )
}

fn pg_message(s: &Stmt, n: u64) -> (&'static str, String) {
    match s.kind {
        SKind::Stmt => ("LOG", audit_msg(s, n)),
        SKind::Connect => ("LOG", format!("connection authorized: user={} database=loyalty application_name=psql", s.user)),
        SKind::AuthFail => ("FATAL", format!("password authentication failed for user \"{}\"", s.user)),
        SKind::Disconnect => ("LOG", format!("disconnection: session time: 0:01:35.021 user={} database=loyalty host={} port=51544", s.user, s.host)),
    }
}

/// The cluster and instance of the simulated Aurora database.
const CLUSTER: (&str, &str) = ("cluster-LOYALTY7Q2D5NBX", "db-LOYALTY1AKW3R");

/// A decrypted activity-stream batch of one event (what the AWS decryption sample prints
/// per Kinesis record).
fn activity_batch(ev: serde_json::Value) -> String {
    serde_json::json!({"type": "DatabaseActivityMonitoringRecord", "clusterId": CLUSTER.0,
        "instanceId": CLUSTER.1, "databaseActivityEventList": [ev]})
    .to_string()
}

/// A batch that holds only a heartbeat (the stream sends them when the database is idle).
pub fn activity_heartbeat() -> String {
    activity_batch(serde_json::json!({"type": "heartbeat"}))
}

/// One Aurora PostgreSQL activity record for a statement or a session event.
fn activity_event(s: &Stmt, c: &Clock, n: u64) -> serde_json::Value {
    let (command, text, params, class, error) = match s.kind {
        SKind::Stmt => (
            s.command,
            Some(s.text.as_str()),
            Some(&s.params),
            s.class,
            None,
        ),
        SKind::Connect => ("CONNECT", None, None, "MISC", None),
        SKind::Disconnect => ("DISCONNECT", None, None, "MISC", None),
        SKind::AuthFail => (
            "AUTH FAILURE",
            None,
            None,
            "MISC",
            Some(format!(
                "password authentication failed for user \"{}\"",
                s.user
            )),
        ),
    };
    serde_json::json!({
        "type": "record", "clientApplication": if s.user == "loyalty_app" { "loyalty-api" } else { "psql" },
        "pid": s.pid, "dbUserName": s.user, "databaseName": "loyalty", "remoteHost": s.host,
        "remotePort": (40000 + s.pid % 1000).to_string(), "command": command, "commandText": text,
        "paramList": params, "logTime": c.utc(s.ts, "%Y-%m-%d %H:%M:%S%.6f+00"),
        "statementId": n, "substatementId": 1,
        "objectType": if s.object.is_empty() { None } else { Some("TABLE") },
        "objectName": if s.object.is_empty() { None } else { Some(s.object.as_str()) },
        "class": class, "serverType": "PostgreSQL", "serverVersion": "16.4.aurora",
        "serviceName": "Amazon Aurora PostgreSQL-Compatible edition", "serverHost": "10.0.1.12",
        "netProtocol": "TCP", "dbProtocol": "Postgres 3.0", "startTime": null, "rowCount": null,
        "sessionId": format!("{:x}.{:x}", (s.ts / S / 86400) * 86400, s.pid),
        "exitCode": if error.is_some() { Some("28P01") } else { None }, "errorMessage": error
    })
}

/// A statement with its inline values (quoted strings, numbers, a sign after `(`, `,`
/// or `=`) as `$n` placeholders, and the values; comments are kept as written.
fn bind_literals(text: &str) -> (String, Vec<String>) {
    let b = text.as_bytes();
    let (mut out, mut params) = (String::new(), Vec::new());
    let mut i = 0;
    let mut last = 0u8;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if text[i..].starts_with("/*") {
            i = text[i..].find("*/").map_or(b.len(), |e| i + e + 2);
            out.push_str(&text[start..i]);
            continue;
        }
        let signed = c == b'-' && matches!(last, b'(' | b',' | b'=');
        let digit_at = |j: usize| b.get(j).is_some_and(u8::is_ascii_digit);
        let word_before =
            start > 0 && (b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_');
        if c == b'\'' {
            let mut v = String::new();
            i += 1;
            while i < b.len() {
                if b[i] == b'\'' {
                    if b.get(i + 1) == Some(&b'\'') {
                        v.push('\'');
                        i += 2;
                        continue;
                    }
                    i += 1;
                    break;
                }
                let ch = text[i..].chars().next().unwrap_or(' ');
                v.push(ch);
                i += ch.len_utf8();
            }
            params.push(v);
        } else if !word_before && (digit_at(i) || (signed && digit_at(i + 1))) {
            i += 1;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            params.push(text[start..i].to_string());
        } else {
            let ch = text[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            if !ch.is_whitespace() {
                last = c;
            }
            continue;
        }
        out.push_str(&format!("${}", params.len()));
        last = b'$';
    }
    (out, params)
}

/// The application's database user.
const APP_USER: &str = "loyalty_app";

/// Separates the records `record` makes of one statement (a connection's two lines).
pub const RECORDS: char = '\u{1e}';

/// Starts a record that is not evidence by design (a statement's parse or bind step,
/// which its execute repeats).
pub const SKIPPED: char = '\u{1f}';

/// PostgreSQL's own statement logging, without pgaudit: `log_statement = 'all'` with
/// log_connections, or (`timed`) `log_min_duration_statement = 0`, which logs a
/// statement's parse, bind and execute steps with their durations. Statements with
/// bound values run through the extended protocol, the values in a `DETAIL` line.
fn pg_statement_log(s: &Stmt, c: &Clock, n: u64) -> String {
    let ts = c.local(s.ts, "%Y-%m-%d %H:%M:%S%.3f %Z");
    let line = |sev: &str, msg: &str| {
        format!(
            "{ts} [{}] {}@loyalty {sev}:  {}",
            s.pid,
            s.user,
            msg.replace('\n', "\n\t")
        )
    };
    let timed = |d: &str| {
        if c.timed {
            format!("duration: {d} ms  ")
        } else {
            String::new()
        }
    };
    if s.kind != SKind::Stmt {
        let (sev, msg) = pg_message(s, n);
        return line(sev, &msg);
    }
    // The application's driver binds the values its statements carry inline too, but
    // for a text it built from its input; a statement with none, and a person's in
    // psql, are sent as they are.
    let (text, params) = if s.params.is_empty() && s.user == APP_USER && !s.concatenated {
        bind_literals(&s.text)
    } else {
        (s.text.clone(), s.params.clone())
    };
    if params.is_empty() {
        return line("LOG", &format!("{}statement: {text}", timed("0.412")));
    }
    let values: Vec<String> = params
        .iter()
        .enumerate()
        .map(|(i, p)| format!("${} = '{}'", i + 1, p.replace('\'', "''")))
        .collect();
    let detail = line("DETAIL", &format!("parameters: {}", values.join(", ")));
    // JDBC names a statement it runs often (`S_1`); most drivers leave it unnamed.
    let name = if n % 3 == 0 { "S_1" } else { "<unnamed>" };
    let execute = format!(
        "{}\n{detail}",
        line("LOG", &format!("{}execute {name}: {text}", timed("0.208")))
    );
    if !c.timed {
        return execute;
    }
    let parse = line("LOG", &format!("duration: 0.031 ms  parse {name}: {text}"));
    let bind = line("LOG", &format!("duration: 0.052 ms  bind {name}: {text}"));
    format!("{SKIPPED}{parse}{RECORDS}{SKIPPED}{bind}\n{detail}{RECORDS}{execute}")
}

/// One record for a statement. `n` is a running statement number.
pub fn record(fmt: &str, s: &Stmt, c: &Clock, n: u64) -> String {
    match fmt {
        "rds-activity-stream" => activity_batch(activity_event(s, c, n)),
        "pg-stderr" => {
            let (sev, msg) = pg_message(s, n);
            let ts = c.local(s.ts, "%Y-%m-%d %H:%M:%S%.3f %Z");
            // Continuation lines of a multi-line message start with a TAB.
            format!(
                "{ts} [{}] {}@loyalty {sev}:  {}",
                s.pid,
                s.user,
                msg.replace('\n', "\n\t")
            )
        }
        // PostgreSQL's default `log_line_prefix` ('%m [%p] ') with log_connections and
        // log_disconnections on: user, database and client are named only by the
        // connection lines; a connection's two lines are two records.
        "pg-stderr-default" => {
            let (sev, msg) = pg_message(s, n);
            let ts = c.local(s.ts, "%Y-%m-%d %H:%M:%S%.3f %Z");
            let line = |sev: &str, msg: &str| {
                format!("{ts} [{}] {sev}:  {}", s.pid, msg.replace('\n', "\n\t"))
            };
            match s.kind {
                SKind::Connect | SKind::AuthFail => format!(
                    "{}{RECORDS}{}",
                    line(
                        "LOG",
                        &format!(
                            "connection received: host={} port={}",
                            s.host,
                            40_000 + s.pid % 20_000
                        )
                    ),
                    line(sev, &msg)
                ),
                _ => line(sev, &msg),
            }
        }
        "pg-stderr-execute" => pg_statement_log(s, c, n),
        "pg-csvlog" => {
            let (sev, msg) = pg_message(s, n);
            format!(
                "{},{},\"loyalty\",{},\"{}:{}\",{:x}.{:x},{},\"{}\",{},3/{},0,{},00000,{},,,,,,,,,\"{}\",\"client backend\",,0",
                c.local(s.ts, "%Y-%m-%d %H:%M:%S%.3f %Z"),
                csvq(s.user),
                s.pid,
                s.host,
                40000 + s.pid % 1000,
                (s.ts / S / 86400) * 86400,
                s.pid,
                n,
                s.command,
                c.local(s.ts - 3600 * S, "%Y-%m-%d %H:%M:%S %Z"),
                n,
                sev,
                csvq(&msg),
                if s.user == "loyalty_app" { "loyalty-api" } else { "psql" }
            )
        }
        "pg-jsonlog" => {
            let (sev, msg) = pg_message(s, n);
            serde_json::json!({
                "timestamp": c.local(s.ts, "%Y-%m-%d %H:%M:%S%.3f %Z"),
                "user": s.user, "dbname": "loyalty", "pid": s.pid, "remote_host": s.host,
                "remote_port": 40000 + s.pid % 1000,
                "session_id": format!("{:x}.{:x}", (s.ts / S / 86400) * 86400, s.pid),
                "line_num": n, "ps": s.command, "error_severity": sev, "state_code": "00000",
                "message": msg, "application_name": if s.user == "loyalty_app" { "loyalty-api" } else { "psql" },
                "backend_type": "client backend", "query_id": 0
            })
            .to_string()
        }
        "mysql-audit-json" => {
            let base = serde_json::json!({
                "timestamp": c.utc(s.ts, "%Y-%m-%d %H:%M:%S"), "id": n % 7, "connection_id": s.pid,
                "account": {"user": s.user, "host": "%"},
                "login": {"user": s.user, "os": "", "ip": s.host, "proxy": ""}
            });
            let mut v = base;
            match s.kind {
                SKind::Stmt => {
                    v["class"] = "general".into();
                    v["event"] = "status".into();
                    v["general_data"] = serde_json::json!({"command": "Query", "sql_command": s.command.to_ascii_lowercase().replace(' ', "_"), "query": inline(s), "status": 0});
                }
                k => {
                    v["class"] = "connection".into();
                    v["event"] = if k == SKind::Disconnect {
                        "disconnect"
                    } else {
                        "connect"
                    }
                    .into();
                    v["connection_data"] = serde_json::json!({"connection_type": "ssl", "status": if k == SKind::AuthFail { 1045 } else { 0 }, "db": "loyalty"});
                }
            }
            format!("{v},")
        }
        "percona-audit-csv" => super::percona::csv(s, c, n),
        "mysql-audit-xml" => super::percona::xml(s, c, n, c.xml_style),
        "percona-audit-json" => {
            let (name, sql) = match s.kind {
                SKind::Stmt => ("Query", inline(s)),
                SKind::Connect => ("Connect", String::new()),
                SKind::AuthFail => ("Connect", String::new()),
                SKind::Disconnect => ("Quit", String::new()),
            };
            serde_json::json!({"audit_record": {
                "name": name, "record": format!("{}_2025-10-01T00:00:00", n),
                "timestamp": c.utc(s.ts, "%Y-%m-%dT%H:%M:%S UTC"),
                "command_class": s.command.to_ascii_lowercase(), "connection_id": s.pid.to_string(),
                "status": if s.kind == SKind::AuthFail { 1045 } else { 0 }, "sqltext": sql,
                "user": format!("{}[{}] @  [{}]", s.user, s.user, s.host), "host": "", "os_user": "",
                "ip": s.host, "db": "loyalty"}})
            .to_string()
        }
        _ => {
            let ts = c.local(s.ts, "%Y%m%d %H:%M:%S");
            match s.kind {
                SKind::Stmt => {
                    let mut q = inline(s);
                    if q.len() > 1024 {
                        let mut cut = 1024;
                        while !q.is_char_boundary(cut) {
                            cut -= 1;
                        }
                        q.truncate(cut);
                    }
                    let esc = q
                        .replace('\\', "\\\\")
                        .replace('\'', "\\'")
                        .replace('\n', "\\n")
                        .replace('\t', "\\t");
                    format!(
                        "{ts},db-loyalty-1,{},{},{},{},QUERY,loyalty,'{}',0",
                        s.user, s.host, s.pid, n, esc
                    )
                }
                SKind::Connect => format!(
                    "{ts},db-loyalty-1,{},{},{},0,CONNECT,loyalty,,0",
                    s.user, s.host, s.pid
                ),
                SKind::AuthFail => format!(
                    "{ts},db-loyalty-1,{},{},{},0,FAILED_CONNECT,,,1045",
                    s.user, s.host, s.pid
                ),
                SKind::Disconnect => format!(
                    "{ts},db-loyalty-1,{},{},{},0,DISCONNECT,loyalty,,0",
                    s.user, s.host, s.pid
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn inline_values_are_bound_as_a_driver_binds_them() {
        let (t, p) = super::bind_literals(
            "INSERT INTO bonus_ledger (account_id, delta, reason) VALUES (100092, -170, 'it''s') /*request_id='x'*/",
        );
        assert_eq!(
            t,
            "INSERT INTO bonus_ledger (account_id, delta, reason) VALUES ($1, $2, $3) /*request_id='x'*/"
        );
        assert_eq!(p, ["100092", "-170", "it's"]);
        let (t, p) = super::bind_literals("UPDATE t2 SET a = a - 5 WHERE id=7");
        assert_eq!(t, "UPDATE t2 SET a = a - $1 WHERE id=$2");
        assert_eq!(p, ["5", "7"]);
    }
}
