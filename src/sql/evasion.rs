//! Statements that blind the evidence: audit or statement logging switched off (or an
//! account excluded from it), the audit plugin or extension removed, audit triggers
//! disabled, binary logs purged, rows or tables of logs deleted. The database's own
//! counterpart of a cleared event log.

use super::tokens::{fallback_lex, Tok};

/// Settings that decide what the database logs (lower case, without `@@global.`).
fn is_logging_setting(name: &str) -> bool {
    name.starts_with("pgaudit.")
        || name.starts_with("audit_log")
        || name.starts_with("server_audit")
        || matches!(
            name,
            "log_statement"
                | "log_min_duration_statement"
                | "log_connections"
                | "log_disconnections"
                | "log_destination"
                | "logging_collector"
                | "general_log"
                | "log_output"
                | "sql_log_off"
        )
}

/// Whether a value switches logging off (`none`, `off`, `0`, `-1`, `false`, empty), or
/// turns it away from statements (`log_statement = 'ddl'` logs no reads or writes).
fn switches_off(name: &str, value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    matches!(v.as_str(), "none" | "off" | "0" | "-1" | "false" | "")
        || (name == "sql_log_off" && matches!(v.as_str(), "1" | "on" | "true"))
        || (name == "log_statement" && v == "ddl")
}

/// Whether a table keeps a record of what happened: an audit table, a log, a history,
/// a journal or trail (`audit_log`, `request_logs`, `balance_history`; not `login_attempts`
/// or `catalog`).
pub fn is_record_table(table: &str) -> bool {
    super::name_words(table).iter().any(|w| {
        matches!(
            w.as_str(),
            "audit" | "audits" | "log" | "logs" | "history" | "journal" | "trail" | "trails"
        )
    })
}

fn word(t: &[Tok], i: usize) -> Option<&str> {
    match t.get(i) {
        Some(Tok::Word(_, u, false)) => Some(u),
        _ => None,
    }
}

/// The tables a `DELETE FROM`, `TRUNCATE [TABLE]` or `DROP TABLE [IF EXISTS]` names, as
/// written (their case tells their words apart: `AuditTrail`).
fn named_tables(t: &[Tok]) -> Vec<String> {
    let skip =
        |x: &Tok| x.kw("FROM") || x.kw("TABLE") || x.kw("ONLY") || x.kw("IF") || x.kw("EXISTS");
    let mut i = 1;
    while t.get(i).is_some_and(skip) {
        i += 1;
    }
    let mut out = Vec::new();
    let mut name = None;
    while let Some(x) = t.get(i) {
        match x {
            Tok::Word(w, u, q)
                if *q || !matches!(&**u, "WHERE" | "CASCADE" | "RESTRICT" | "USING") =>
            {
                name = Some(w.to_string());
            }
            Tok::Sym(s) if &**s == "." => {}
            Tok::Sym(s) if &**s == "," => out.extend(name.take()),
            _ => break,
        }
        i += 1;
    }
    out.extend(name);
    out
}

/// What a statement does to the evidence, in words, when it blinds it.
pub fn blinds(text: &str) -> Option<String> {
    let first = super::command_word(text)?;
    if !matches!(
        first.as_str(),
        "SET" | "ALTER" | "UNINSTALL" | "DROP" | "DELETE" | "TRUNCATE" | "PURGE" | "RESET"
    ) {
        return None;
    }
    let t = fallback_lex(text);
    let start = t.iter().position(|x| x.word().is_some())?;
    let t = &t[start..];
    let records = || {
        let r: Vec<String> = named_tables(t)
            .into_iter()
            .filter(|x| is_record_table(x))
            .collect();
        (!r.is_empty()).then(|| r.join(", "))
    };
    match first.as_str() {
        "DELETE" | "TRUNCATE" => records().map(|r| format!("deleted rows of {r}")),
        "DROP" => match word(t, 1) {
            Some("TABLE") => records().map(|r| format!("dropped {r}")),
            Some("EXTENSION") if t.iter().any(|x| x.kw("PGAUDIT")) => {
                Some("removed the pgaudit extension".into())
            }
            _ => None,
        },
        "UNINSTALL" => {
            let audit = t[1..].iter().any(|x| match x {
                Tok::Word(w, _, _) | Tok::Str(w) => w.to_ascii_lowercase().contains("audit"),
                _ => false,
            });
            audit.then(|| "removed the audit plugin".into())
        }
        "PURGE" | "RESET" => {
            let logs = matches!(word(t, 1), Some("BINARY" | "MASTER"));
            logs.then(|| "purged the binary logs".into())
        }
        _ => {
            if first == "ALTER"
                && word(t, 1) == Some("TABLE")
                && t.windows(2)
                    .any(|w| w[0].kw("DISABLE") && w[1].kw("TRIGGER"))
            {
                return Some("disabled triggers (audit triggers among them)".into());
            }
            setting(t)
        }
    }
}

/// `SET [GLOBAL|SESSION|LOCAL|PERSIST] name = value`, `ALTER SYSTEM|ROLE …|DATABASE … SET
/// name TO value`: a logging setting switched off, or an account excluded from the audit.
fn setting(t: &[Tok]) -> Option<String> {
    let set = t.iter().position(|x| x.kw("SET"))?;
    let mut i = set + 1;
    while matches!(word(t, i), Some("GLOBAL" | "SESSION" | "LOCAL" | "PERSIST")) {
        i += 1;
    }
    // The name: words joined by `.` (`pgaudit.log`), past `@@global.` (`@`, `@` and the
    // scope are symbols and words to the fallback lexer).
    let mut name = String::new();
    while let Some(x) = t.get(i) {
        match x {
            Tok::Sym(s) if &**s == "@" => {}
            Tok::Sym(s) if &**s == "." => name.push('.'),
            Tok::Word(w, _, _) => name.push_str(&w.to_ascii_lowercase()),
            _ => break,
        }
        i += 1;
    }
    let name = ["global.", "session.", "persist.", "local."]
        .iter()
        .find_map(|p| name.strip_prefix(p))
        .unwrap_or(&name)
        .to_string();
    if name == "session_replication_role" {
        let v = value_at(t, i)?;
        return v.eq_ignore_ascii_case("replica").then(|| {
            "switched triggers off for the session (session_replication_role = replica)".into()
        });
    }
    if !is_logging_setting(&name) {
        return None;
    }
    let value = value_at(t, i).unwrap_or_default();
    if name.contains("excl") {
        return (!value.is_empty()).then(|| format!("excluded {value} from the audit ({name})"));
    }
    switches_off(&name, &value).then(|| format!("set {name} to {value:?}"))
}

/// The value after `=` or `TO` at `i`.
fn value_at(t: &[Tok], i: usize) -> Option<String> {
    let x = t.get(i)?;
    if !(x.sym("=") || x.kw("TO")) {
        return None;
    }
    let sign = t.get(i + 1).is_some_and(|x| x.sym("-"));
    let at = i + 1 + usize::from(sign);
    let v = match t.get(at)? {
        Tok::Word(w, _, _) | Tok::Num(w) | Tok::Str(w) => w.to_string(),
        _ => return None,
    };
    Some(if sign { format!("-{v}") } else { v })
}

#[cfg(test)]
mod tests {
    use super::blinds as b;

    #[test]
    fn statements_that_switch_the_audit_off() {
        for s in [
            "SET pgaudit.log = 'none'",
            "set pgaudit.log to none",
            "ALTER SYSTEM SET pgaudit.log = 'none'",
            "ALTER ROLE app SET pgaudit.log TO 'none'",
            "ALTER SYSTEM SET log_statement = 'none'",
            "SET log_min_duration_statement = -1",
            "SET GLOBAL general_log = 'OFF'",
            "SET @@global.general_log = 0",
            "SET GLOBAL server_audit_logging = OFF",
            "SET GLOBAL audit_log_policy = 'NONE'",
            "SET sql_log_off = 1",
            "SET session_replication_role = replica",
        ] {
            assert!(b(s).is_some(), "{s}");
        }
        assert_eq!(
            b("SET GLOBAL server_audit_excl_users = 'svc_backup'").as_deref(),
            Some("excluded svc_backup from the audit (server_audit_excl_users)")
        );
        assert!(b("UNINSTALL PLUGIN server_audit").is_some());
        assert!(b("UNINSTALL COMPONENT 'file://component_audit_api_message_emit'").is_some());
        assert!(b("DROP EXTENSION IF EXISTS pgaudit").is_some());
        assert!(b("PURGE BINARY LOGS BEFORE now()").is_some());
        assert!(b("ALTER TABLE bonus_ledger DISABLE TRIGGER ALL").is_some());
    }

    #[test]
    fn statements_that_delete_records() {
        assert_eq!(
            b("DELETE FROM audit_log WHERE actor = 'x'").as_deref(),
            Some("deleted rows of audit_log")
        );
        assert!(b("TRUNCATE request_logs").is_some());
        assert_eq!(
            b("DROP TABLE IF EXISTS app.AuditTrail, tmp_x").as_deref(),
            Some("dropped AuditTrail")
        );
        assert!(b("TRUNCATE TABLE ONLY \"RequestLog\"").is_some());
        assert!(b("DROP TABLE balance_history").is_some());
    }

    #[test]
    fn ordinary_statements_blind_nothing() {
        for s in [
            "SET search_path TO app, public",
            "SET pgaudit.log = 'write, ddl'",
            "SET GLOBAL general_log = 'ON'",
            "SET application_name = 'loyalty-api'",
            "SET log_statement = 'all'",
            "DELETE FROM login_attempts WHERE id = 5",
            "DELETE FROM sessions WHERE expires_at < now()",
            "TRUNCATE catalog_cache",
            "DROP TABLE tmp_x",
            "DROP EXTENSION pg_trgm",
            "SELECT * FROM audit_log",
            "ALTER TABLE customers ADD COLUMN x int",
        ] {
            assert_eq!(b(s), None, "{s}");
        }
    }
}
