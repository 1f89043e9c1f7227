//! pgaudit's records of one statement. With `pgaudit.log_relation` on (and always in
//! Aurora PostgreSQL's activity streams), a statement is logged once per table it
//! touched, and with session and object auditing both on, once as SESSION and again as
//! OBJECT; every record repeats the statement (unless
//! `log_statement_once`). Counted per record, a bonus change whose statement joins
//! another table would count twice. The records of one statement — a session's same
//! statement and sub-statement id within 2 s — keep the statement's facts on one: the
//! first of the strongest class (a write over a read). The others keep their table and
//! text, and name the record that holds the facts (`extra.statement_facts_on`).
//!
//! A transaction or script sent as one query (`BEGIN; UPDATE …; COMMIT`) is logged
//! whole with each of its statements' records; those count once too.
//!
//! With PostgreSQL's own statement logging left on beside pgaudit (`log_statement`), a
//! statement is also a `statement:` or `execute` line: each such line and the AUDIT
//! record it pairs with count once too.

use crate::model::{Event, FileInfo, SourceKind, StmtClass};
use rayon::prelude::*;
use std::collections::{HashMap, HashSet};
use std::hash::BuildHasher;

/// Records of one statement id farther apart than this are different statements (a
/// process id reused by a later backend starts its ids over).
const SAME_STATEMENT_US: i64 = 2_000_000;

/// How many records repeat a statement another record counts.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Repeats {
    /// pgaudit's records of a statement it logged per table or as SESSION and OBJECT.
    pub audit: usize,
    /// Statement lines of PostgreSQL's own logging that pgaudit logged too (or the
    /// AUDIT records, where the line holds the bound values).
    pub logged: usize,
}

/// Drops the statement facts of the records that repeat another record's statement
/// (events in time order).
#[allow(clippy::vec_box)] // the events' one shape everywhere
pub fn resolve(events: &mut [Box<Event>], files: &[FileInfo]) -> Repeats {
    // Only PostgreSQL's logs and activity streams carry pgaudit records: other evidence
    // costs no look.
    if !files
        .iter()
        .any(|f| f.format.contains("pg-") || f.format.contains("rds-activity-stream"))
    {
        return Repeats::default();
    }
    let rank = |e: &Event| match e.stmt_class {
        Some(StmtClass::Write | StmtClass::Ddl | StmtClass::Role) => 0,
        Some(StmtClass::Read) => 1,
        _ => 2,
    };
    let mut repeats: Vec<(usize, usize)> = Vec::new();
    // Every statement record's key hashed side by side, sorted: records of one key are
    // neighbours (a map of every record's key cost 0.66 s at 1 GB of evidence).
    let state = foldhash::fast::FixedState::with_seed(0);
    let mut hashed: Vec<(u64, usize)> = events
        .par_iter()
        .enumerate()
        .filter_map(|(i, e)| key(e).map(|k| (state.hash_one(k), i)))
        .collect();
    hashed.par_sort_unstable();
    let mut runs: HashMap<(&str, &str, &str, &str), Vec<usize>> = HashMap::new();
    for same in hashed.chunk_by(|a, b| a.0 == b.0).filter(|s| s.len() > 1) {
        runs.clear();
        for &(_, i) in same {
            if let Some(k) = key(&events[i]) {
                runs.entry(k).or_default().push(i);
            }
        }
        for idx in runs.values().filter(|v| v.len() > 1) {
            for run in idx.chunk_by(|&a, &b| events[b].ts - events[a].ts <= SAME_STATEMENT_US) {
                if let Some(&keep) = run.iter().min_by_key(|&&i| (rank(&events[i]), i)) {
                    repeats.extend(run.iter().filter(|&&i| i != keep).map(|&i| (i, keep)));
                }
            }
        }
    }
    let audit = repeats.len();
    let done: HashSet<usize> = repeats.iter().map(|&(i, _)| i).collect();
    repeats.extend(logged_twice(events, &done));
    repeats.sort_unstable();
    for &(i, keep) in &repeats {
        let at = {
            let k = &events[keep];
            let path = files.get(k.file as usize).map_or("", |f| f.path.as_str());
            format!("{path}:{}", k.line)
        };
        let e = &mut events[i];
        e.sql = None;
        e.extra.insert("statement_facts_on", at);
    }
    Repeats {
        audit,
        logged: repeats.len() - audit,
    }
}

/// A session's statement logged by pgaudit and by the server's statement logging: in
/// each run of one text (records within 2 s), the lines pair with the AUDIT records in
/// order (a statement run twice in a row is two pairs). Of a pair, the facts stay on
/// the record with bound values (pgaudit logs none without `log_parameter`), else on
/// the AUDIT record. `done` are records already found to repeat another.
#[allow(clippy::vec_box)] // the events' one shape everywhere
fn logged_twice(events: &[Box<Event>], done: &HashSet<usize>) -> Vec<(usize, usize)> {
    let pg = |e: &Event| {
        e.kind() == SourceKind::Db && e.format.as_str().starts_with("pg-") && e.sql.is_some()
    };
    let audit = |e: &Event| e.extra.contains_key("statement_id");
    let line = |e: &Event| e.extra.contains_key("logged_by");
    let sessions = |kind: &(dyn Fn(&Event) -> bool + Sync)| -> HashSet<&str> {
        events
            .par_iter()
            .filter(|e| pg(e) && kind(e))
            .filter_map(|e| e.session_id.as_deref())
            .collect()
    };
    let lines = sessions(&line);
    if lines.is_empty() {
        return Vec::new();
    }
    let both: HashSet<&str> = sessions(&audit).intersection(&lines).copied().collect();
    // One file's lines: a server writes both to each destination it logs to. An AUDIT
    // record in one file and a line in another are one statement logged to two
    // destinations, each writing one kind (`dedupe` keeps one of the two copies, and
    // dropping the facts of one here could leave the copy it keeps with none).
    let mut runs: HashMap<(u32, &str, &str, &str), Vec<usize>> = HashMap::new();
    for (i, e) in events.iter().enumerate() {
        if !pg(e) || done.contains(&i) || !(audit(e) || line(e)) {
            continue;
        }
        if let (Some(s), Some(st)) = (e.session_id.as_deref(), e.statement.as_deref()) {
            if both.contains(s) {
                let k = (e.file, e.format.as_str(), s, st);
                runs.entry(k).or_default().push(i);
            }
        }
    }
    let mut out = Vec::new();
    for idx in runs.values() {
        for run in idx.chunk_by(|&a, &b| events[b].ts - events[a].ts <= SAME_STATEMENT_US) {
            let (audits, lines): (Vec<usize>, Vec<usize>) =
                run.iter().partition(|&&i| audit(&events[i]));
            for (&a, &l) in audits.iter().zip(&lines) {
                let (keep, drop) = if events[l].params.is_some() && events[a].params.is_none() {
                    (l, a)
                } else {
                    (a, l)
                };
                out.push((drop, keep));
            }
        }
    }
    out
}

/// What identifies a pgaudit record's statement: format, session, statement and
/// sub-statement id; for a script logged whole with each of its statements, its text.
fn key(e: &Event) -> Option<(&str, &str, &str, &str)> {
    if e.kind() != SourceKind::Db || e.sql.is_none() {
        return None;
    }
    let pgaudit = match e.format.as_str() {
        f if f.starts_with("pg-") => true,
        // Aurora PostgreSQL's activity streams are pgaudit's records, one per object;
        // MySQL's number no statements (every id is 0).
        "rds-activity-stream" => e
            .extra
            .get("server_type")
            .is_some_and(|t| t.as_str() == "PostgreSQL"),
        _ => false,
    };
    if !pgaudit {
        return None;
    }
    let session = e.session_id.as_deref()?;
    let id = e.extra.get("statement_id")?.as_str();
    // A script sent as one query is logged whole with each of its statements' records
    // (each its own statement id): its records are one run of its text.
    if e.sql.as_ref().is_some_and(|f| f.script) {
        return Some((
            e.format.as_str(),
            session,
            "script",
            e.statement.as_deref()?,
        ));
    }
    Some((
        e.format.as_str(),
        session,
        id,
        e.extra.get("substatement_id")?.as_str(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::pg::Stderr;
    use crate::ingest::{head_of, FileCtx, Parsed, Parser};

    #[allow(clippy::vec_box)] // the events' one shape everywhere
    fn events(lines: &str) -> Vec<Box<Event>> {
        records(&lines.lines().collect::<Vec<_>>())
    }

    /// The events of stderr records (a line, or a statement and its joined detail line),
    /// each numbered as the line of its index.
    #[allow(clippy::vec_box)] // the events' one shape everywhere
    fn records<S: AsRef<str>>(recs: &[S]) -> Vec<Box<Event>> {
        let mut ctx = FileCtx::default();
        Stderr
            .prepare(&mut ctx, &head_of(recs[0].as_ref()))
            .unwrap();
        recs.iter()
            .enumerate()
            .map(|(n, r)| match Stderr.parse(r.as_ref(), &ctx) {
                Parsed::Event(mut e) => {
                    e.line = n as u64 + 1;
                    e
                }
                o => panic!("{o:?}"),
            })
            .collect()
    }

    fn files() -> Vec<FileInfo> {
        vec![FileInfo {
            path: "postgresql.log".into(),
            format: "pg-stderr".into(),
            ..Default::default()
        }]
    }

    #[test]
    fn a_statement_logged_per_relation_counts_once() {
        let mut ev = events(concat!(
            "2024-03-05 14:22:03.123 UTC [12345] app@loyalty LOG:  AUDIT: SESSION,9,1,READ,SELECT,TABLE,public.customers,\"UPDATE bonus_accounts SET balance = balance + 700 FROM customers c WHERE c.id = bonus_accounts.account_id AND c.id = 1002\",<not logged>\n",
            "2024-03-05 14:22:03.123 UTC [12345] app@loyalty LOG:  AUDIT: SESSION,9,1,WRITE,UPDATE,TABLE,public.bonus_accounts,\"UPDATE bonus_accounts SET balance = balance + 700 FROM customers c WHERE c.id = bonus_accounts.account_id AND c.id = 1002\",<not logged>\n",
            "2024-03-05 14:22:03.123 UTC [12345] app@loyalty LOG:  AUDIT: OBJECT,9,1,WRITE,UPDATE,TABLE,public.bonus_accounts,\"UPDATE bonus_accounts SET balance = balance + 700 FROM customers c WHERE c.id = bonus_accounts.account_id AND c.id = 1002\",<not logged>\n",
            // The next statement of the session, and the same id from a later backend.
            "2024-03-05 14:22:04.123 UTC [12345] app@loyalty LOG:  AUDIT: SESSION,10,1,WRITE,UPDATE,TABLE,public.bonus_accounts,\"UPDATE bonus_accounts SET balance = balance + 1 WHERE account_id = 1002\",<not logged>\n",
            "2024-03-05 15:00:00.000 UTC [12345] app@loyalty LOG:  AUDIT: SESSION,9,1,WRITE,UPDATE,TABLE,public.bonus_accounts,\"UPDATE bonus_accounts SET balance = balance + 700 FROM customers c WHERE c.id = bonus_accounts.account_id AND c.id = 1002\",<not logged>\n",
        ));
        assert!(ev[..3]
            .iter()
            .all(|e| e.sql.as_ref().is_some_and(|f| f.bonus_changes.len() == 1)));
        assert_eq!(resolve(&mut ev, &files()).audit, 2);
        // The write keeps the facts; the read of the joined table and the OBJECT copy name it.
        assert!(ev[1].sql.is_some());
        for i in [0, 2] {
            assert!(ev[i].sql.is_none());
            assert_eq!(ev[i].extra["statement_facts_on"], "postgresql.log:2");
            assert!(ev[i].statement.is_some());
        }
        assert!(ev[3].sql.is_some() && ev[4].sql.is_some());
    }

    #[test]
    fn a_script_logged_whole_with_each_statement_counts_once() {
        // pgAdmin sends its editor's text as one query; pgaudit logs it whole with each
        // statement's record, each its own statement id.
        let script = "\"BEGIN; UPDATE bonus_accounts SET balance = balance + 700 WHERE account_id = 1002; UPDATE bonus_accounts SET balance = balance + 300 WHERE account_id = 1003; COMMIT;\"";
        let mut ev = events(&format!(
            "2024-03-05 14:22:03.123 UTC [12345] app@loyalty LOG:  AUDIT: SESSION,4,1,MISC,BEGIN,,,{script},<none>\n\
             2024-03-05 14:22:03.124 UTC [12345] app@loyalty LOG:  AUDIT: SESSION,5,1,WRITE,UPDATE,,,{script},<none>\n\
             2024-03-05 14:22:03.125 UTC [12345] app@loyalty LOG:  AUDIT: SESSION,6,1,WRITE,UPDATE,,,{script},<none>\n\
             2024-03-05 14:22:03.126 UTC [12345] app@loyalty LOG:  AUDIT: SESSION,7,1,MISC,COMMIT,,,{script},<none>\n"
        ));
        assert!(ev.iter().all(|e| e
            .sql
            .as_ref()
            .is_some_and(|f| f.script && f.bonus_changes.len() == 2)));
        assert_eq!(resolve(&mut ev, &files()).audit, 3);
        // The first write keeps both changes.
        assert!(ev[1].sql.is_some());
        for i in [0, 2, 3] {
            assert!(ev[i].sql.is_none());
            assert_eq!(ev[i].extra["statement_facts_on"], "postgresql.log:2");
        }
        // One write between BEGIN and COMMIT: three records, one change.
        let one = "\"BEGIN; UPDATE bonus_accounts SET balance = balance + 700 WHERE account_id = 1002; COMMIT;\"";
        let mut ev = events(&format!(
            "2024-03-05 14:22:03.123 UTC [12345] app@loyalty LOG:  AUDIT: SESSION,4,1,MISC,BEGIN,,,{one},<none>\n\
             2024-03-05 14:22:03.124 UTC [12345] app@loyalty LOG:  AUDIT: SESSION,5,1,WRITE,UPDATE,,,{one},<none>\n\
             2024-03-05 14:22:03.126 UTC [12345] app@loyalty LOG:  AUDIT: SESSION,6,1,MISC,COMMIT,,,{one},<none>\n"
        ));
        assert_eq!(resolve(&mut ev, &files()).audit, 2);
        assert!(ev[1].sql.is_some() && ev[0].sql.is_none() && ev[2].sql.is_none());
    }

    #[test]
    fn a_statement_line_and_its_audit_record_count_once_each_run() {
        let stmt = "UPDATE bonus_accounts SET balance = balance + $1 WHERE account_id = $2";
        let execute = |t: &str, pid: u32, v: u32| {
            format!("2024-03-05 14:22:{t} UTC [{pid}] app@loyalty LOG:  execute <unnamed>: {stmt}\n2024-03-05 14:22:{t} UTC [{pid}] app@loyalty DETAIL:  parameters: $1 = '{v}', $2 = '1002'")
        };
        let audit = |t: &str, pid: u32, id: u32| {
            format!("2024-03-05 14:22:{t} UTC [{pid}] app@loyalty LOG:  AUDIT: SESSION,{id},1,WRITE,UPDATE,TABLE,public.bonus_accounts,{stmt},<not logged>")
        };
        let recs = [
            execute("03.123", 12345, 700),
            audit("03.124", 12345, 9),
            // The same statement again at once, with another value: a second pair.
            execute("03.200", 12345, 5),
            audit("03.201", 12345, 10),
            // A session that pgaudit does not log keeps its line.
            execute("03.300", 777, 9),
        ];
        let mut ev = records(&recs);
        assert_eq!(
            resolve(&mut ev, &files()),
            Repeats {
                audit: 0,
                logged: 2
            }
        );
        let delta = |e: &Event| e.sql.as_ref().map(|f| f.bonus_changes[0].delta);
        assert_eq!(delta(&ev[0]), Some(700));
        assert_eq!(delta(&ev[2]), Some(5));
        assert_eq!(delta(&ev[4]), Some(9));
        for (i, on) in [(1, "postgresql.log:1"), (3, "postgresql.log:3")] {
            assert!(ev[i].sql.is_none());
            assert_eq!(ev[i].extra["statement_facts_on"], on);
        }
    }

    #[test]
    fn an_activity_stream_records_each_object_and_counts_the_statement_once() {
        use crate::ingest::rds::ActivityStream;
        let rec = |object: &str, class: &str, server: &str, id: u32| {
            let l = format!(
                r#"{{"type":"record","pid":23456,"dbUserName":"svc","databaseName":"loyalty","remoteHost":"203.0.113.45","command":"UPDATE","commandText":"UPDATE bonus_accounts SET balance = balance + 500 FROM customers c WHERE c.id = bonus_accounts.account_id AND c.id = 1002","paramList":[],"logTime":"2024-03-05 14:25:00.004512+00","statementId":{id},"substatementId":1,"objectType":"TABLE","objectName":"{object}","class":"{class}","serverType":"{server}","sessionId":"65e72b3c.5ba0"}}"#
            );
            match ActivityStream.parse(&l, &FileCtx::default()) {
                Parsed::Event(e) => e,
                o => panic!("{o:?}"),
            }
        };
        let files = vec![FileInfo {
            path: "stream.json".into(),
            format: "rds-activity-stream".into(),
            ..Default::default()
        }];
        let mut ev = vec![
            rec("public.bonus_accounts", "WRITE", "PostgreSQL", 7),
            rec("public.customers", "READ", "PostgreSQL", 7),
        ];
        assert_eq!(resolve(&mut ev, &files).audit, 1);
        assert!(ev[0].sql.is_some() && ev[1].sql.is_none());
        // MySQL's streams number no statements: records of id 0 are different ones.
        let mut ev = vec![rec("", "MAIN", "MySQL", 0), rec("", "MAIN", "MySQL", 0)];
        assert_eq!(resolve(&mut ev, &files), Repeats::default());
    }
}
