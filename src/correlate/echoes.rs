//! MySQL Enterprise Audit's table-access records. Each names one table a statement read
//! or changed and carries the statement. Where the audit filter logs the statement's
//! own `general` record too, the table-access records echo it (one per table): their
//! statement is dropped, so its reads and bonus changes count once. Where the filter
//! logs table access alone (a common filter), the statement's first table-access record
//! stands for it, and the others echo that one.

use crate::model::{text, Event, FileInfo, SourceKind};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};

/// The format whose table-access records carry their statement.
const FORMAT: &str = "mysql-audit-json";

/// Records of one statement farther apart than this are separate runs of it.
const SAME_RUN_US: i64 = 2_000_000;

/// Resolves table-access records (events in time order): echoes lose their statement,
/// and a record that stands for a statement no other record logs becomes that statement.
/// Returns how many stand for their statement.
#[allow(clippy::vec_box)] // the events' one shape everywhere
pub fn resolve(events: &mut [Box<Event>], files: &[FileInfo]) -> usize {
    // Only MySQL Enterprise Audit JSON writes them (through syslog too): other evidence
    // costs no look at its events.
    if !files.iter().any(|f| f.format.ends_with(FORMAT)) {
        return 0;
    }
    let access = |e: &Event| e.format.as_str() == FORMAT && e.extra.contains_key("table_access");
    // The sessions with table-access records; most audit logs have none (a map of every
    // statement cost a second at 1 GB of evidence).
    let sessions: HashSet<&str> = events
        .par_iter()
        .filter(|e| access(e) && e.statement.is_some())
        .filter_map(|e| e.session_id.as_deref())
        .collect();
    if sessions.is_empty() {
        return 0;
    }
    // Per (session, statement), its records in time order.
    let mut runs: HashMap<(&str, &str), Vec<usize>> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        if e.kind() != SourceKind::Db || e.format.as_str() != FORMAT {
            continue;
        }
        if let (Some(s), Some(st)) = (e.session_id.as_deref(), e.statement.as_deref()) {
            if sessions.contains(s) {
                runs.entry((s, st)).or_default().push(i);
            }
        }
    }
    let mut echo = Vec::new();
    let mut stands = Vec::new();
    for idx in runs.values() {
        if !idx.iter().any(|&i| access(&events[i])) {
            continue;
        }
        for run in idx.chunk_by(|&a, &b| events[b].ts - events[a].ts <= SAME_RUN_US) {
            let mut logged = run.iter().any(|&i| !access(&events[i]));
            for &i in run.iter().filter(|&&i| access(&events[i])) {
                if logged {
                    echo.push(i);
                } else {
                    stands.push(i);
                    logged = true;
                }
            }
        }
    }
    for i in echo {
        let e = &mut events[i];
        e.statement = None;
        e.sql = None;
        e.request_id = None;
    }
    for &i in &stands {
        let e = &mut events[i];
        e.extra.remove("table_access");
        e.extra.insert("statement_from", "table_access");
        e.command = e
            .statement
            .as_deref()
            .and_then(crate::sql::command_word)
            .map(|w| text(&w));
    }
    stands.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::mysql::EnterpriseJson;
    use crate::ingest::{FileCtx, Parsed, Parser};

    fn rec(id: u32, secs: u32, class: &str, table: Option<&str>, q: &str) -> Box<Event> {
        let body = match table {
            Some(t) => format!(
                r#""class":"table_access","event":"read","table_access_data":{{"db":"loyalty","table":"{t}","query":"{q}","sql_command":"select"}}"#
            ),
            None => format!(
                r#""class":"{class}","event":"status","general_data":{{"command":"Query","sql_command":"select","query":"{q}","status":0}}"#
            ),
        };
        let l = format!(
            r#"{{"timestamp":"2024-03-05 14:23:{secs:02}","id":{id},"connection_id":11,"account":{{"user":"app","host":"10.0.0.5"}},{body}}}"#
        );
        match EnterpriseJson.parse(&l, &FileCtx::default()) {
            Parsed::Event(e) => e,
            o => panic!("{o:?}"),
        }
    }

    fn files() -> Vec<FileInfo> {
        vec![FileInfo {
            format: FORMAT.into(),
            ..Default::default()
        }]
    }

    const READ: &str =
        "SELECT c.email, b.balance FROM customers c JOIN bonus_accounts b ON b.account_id = c.id";

    #[test]
    fn echoes_of_a_logged_statement_lose_it() {
        let mut ev = vec![
            rec(1, 10, "", Some("customers"), READ),
            rec(2, 10, "", Some("bonus_accounts"), READ),
            rec(3, 10, "general", None, READ),
        ];
        assert!(ev[0].sql.as_ref().is_some_and(|f| f.whole_table_read));
        assert_eq!(resolve(&mut ev, &files()), 0);
        assert!(ev[..2]
            .iter()
            .all(|e| e.statement.is_none() && e.sql.is_none()));
        assert!(ev[2].sql.as_ref().is_some_and(|f| f.whole_table_read));
        assert_eq!(ev[0].object.as_deref(), Some("customers"));
    }

    #[test]
    fn with_table_access_alone_the_first_record_stands_for_the_statement() {
        let mut ev = vec![
            rec(1, 10, "", Some("customers"), READ),
            rec(2, 10, "", Some("bonus_accounts"), READ),
            // The same statement a minute later is another run of it.
            rec(3, 59, "", Some("customers"), READ),
        ];
        assert_eq!(resolve(&mut ev, &files()), 2);
        assert_eq!(ev[0].command.as_deref(), Some("SELECT"));
        assert!(!ev[0].extra.contains_key("table_access"));
        assert_eq!(ev[0].extra["statement_from"], "table_access");
        assert!(ev[0].sql.as_ref().is_some_and(|f| f.whole_table_read));
        assert!(ev[1].statement.is_none() && ev[1].extra.contains_key("table_access"));
        assert!(ev[2].sql.is_some());
    }
}
