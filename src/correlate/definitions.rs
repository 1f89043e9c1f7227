//! Definitions of routines and tables the evidence or the schema dump gives: a `CREATE
//! FUNCTION`, `CREATE PROCEDURE` or `CREATE TABLE` the database logged (a deployment,
//! or the intruder's own) or `--schema` holds names the parameters of calls by position
//! and the columns of inserts without a column list, so those statements are read again
//! with them — which account each changed, and by how much.

use crate::model::{Event, FileInfo, SourceKind, StmtClass};
use crate::profile::Profile;
use crate::schema::Given;
use crate::sql::definitions::{self, Definition};
use crate::sql::{Dialect, Vocab};

/// Where the profile's routines are said to come from.
const PROFILE: &str = "the site profile";

/// The dialect an event's statement was read in.
pub(super) fn dialect_of(e: &Event) -> Dialect {
    let f = e.format.as_str();
    let mysql_stream = f == "rds-activity-stream"
        && (e.extra.get("server_type")).is_some_and(|t| t.to_ascii_lowercase().contains("mysql"));
    if f.starts_with("pg") || (f == "rds-activity-stream" && !mysql_stream) {
        Dialect::Postgres
    } else {
        Dialect::MySql
    }
}

/// The definitions the evidence's DB statements give, where each was logged; a routine
/// or table defined again keeps its last definition with that many fields.
fn in_evidence(events: &[Box<Event>], files: &[FileInfo], base: &Vocab) -> Vec<Given> {
    let mut found: Vec<Given> = Vec::new();
    for e in events.iter().filter(|e| e.source == Some(SourceKind::Db)) {
        let Some(text) = e.statement.as_deref() else {
            continue;
        };
        // The command the source or the analysis named (`CREATE FUNCTION`,
        // `create_procedure`), read without a copy: this runs for every statement.
        let create = |c: &str| c.get(..6).is_some_and(|w| w.eq_ignore_ascii_case("create"));
        let ddl = e.stmt_class == Some(StmtClass::Ddl) || e.command.as_deref().is_some_and(create);
        let Some(def) = ddl
            .then(|| definitions::definition(text, dialect_of(e), base))
            .flatten()
        else {
            continue;
        };
        found.retain(|g| !same(&g.def, &def));
        let path = files.get(e.file as usize).map_or("?", |f| f.path.as_str());
        found.push(Given {
            def,
            at: format!("{path}:{}", e.line),
        });
    }
    found
}

/// Whether two definitions are of one routine or table, with as many fields.
fn same(a: &Definition, b: &Definition) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
        && a.name() == b.name()
        && a.fields().len() == b.fields().len()
}

/// Reads the statements that call a defined routine or insert into a defined table
/// without a column list again, with the definitions: the profile's routines first,
/// then the schema's, then the evidence's (a statement the ingest already read with
/// the profile's is left as it was). Returns a note naming the definitions used
/// and how many statements changed, or `None` where none did.
pub fn resolve(
    events: &mut [Box<Event>],
    files: &[FileInfo],
    profile: &Profile,
    schema: &[Given],
) -> Option<String> {
    let mut base = Vocab::default();
    profile.extend_vocab(&mut base);
    let declared = |d: &Definition| match d {
        Definition::Routine(r) => base.routines.iter().any(|p| p.name == r.name),
        Definition::Table(_) => false,
    };
    // The profile's are in the vocabulary already; they are read again for a case file
    // parsed without the profile.
    let mut known: Vec<Given> = (base.routines.iter())
        .map(|r| Given {
            def: Definition::Routine(r.clone()),
            at: PROFILE.into(),
        })
        .collect();
    let profiled = known.len();
    for g in schema
        .iter()
        .cloned()
        .chain(in_evidence(events, files, &base))
    {
        if !declared(&g.def) && !known.iter().any(|k| same(&k.def, &g.def)) {
            known.push(g);
        }
    }
    if known.is_empty() {
        return None;
    }
    let mut vocab = base.clone();
    for g in &known[profiled..] {
        match &g.def {
            Definition::Routine(r) => vocab.routines.push(r.clone()),
            Definition::Table(t) => vocab.tables.push(t.clone()),
        }
    }
    let mut used = vec![false; known.len()];
    let mut changed = 0usize;
    let finder = Finder::new(&known);
    for e in events
        .iter_mut()
        .filter(|e| e.source == Some(SourceKind::Db))
    {
        let Some(text) = e.statement.as_deref() else {
            continue;
        };
        let Some(k) = finder.first(text, &known) else {
            continue;
        };
        let (d, params) = (dialect_of(e), e.params.as_deref().unwrap_or_default());
        let (class, facts) = crate::sql::analyze(text, params, d, &vocab);
        let Some(f) = e.sql.as_deref_mut() else {
            continue;
        };
        if facts.bonus_changes == f.bonus_changes
            && facts.account_ids == f.account_ids
            && facts.bonus_unnamed == f.bonus_unnamed
            && facts.row == f.row
        {
            continue;
        }
        f.bonus_changes = facts.bonus_changes;
        f.account_ids = facts.account_ids;
        f.bonus_unnamed = facts.bonus_unnamed;
        f.row = facts.row;
        // The class is ours to mend only where the analysis gave it: pgaudit's own
        // (`FUNCTION` for a call) stands, as it does at ingest.
        if !source_class(e) {
            e.stmt_class = Some(class);
        }
        used[k] = true;
        changed += 1;
    }
    if changed == 0 {
        return None;
    }
    let list: Vec<String> = (known.iter().zip(&used))
        .filter(|(_, u)| **u)
        .map(|(g, _)| {
            let what = match g.def {
                Definition::Routine(_) => "",
                Definition::Table(_) => "table ",
            };
            let at = match g.at.as_str() {
                PROFILE => "declared in the site profile".to_string(),
                at => format!("defined at {at}"),
            };
            format!(
                "{what}{}({}), {at}",
                g.def.name(),
                g.def.fields().join(", ")
            )
        })
        .collect();
    let (stmts, name) = if changed == 1 {
        ("statement", "names")
    } else {
        ("statements", "name")
    };
    Some(format!(
        "{changed} {stmts} {name} by position the parameters of a routine or the columns \
         of a table that the evidence or the schema defines: each was read with its \
         definition ({}) — which account each changed and by how much",
        list.join("; ")
    ))
}

/// Finds statements that may call a known routine, or insert into a known table
/// without a column list: its name as a word, in any case (a test on the text; the
/// analysis decides).
struct Finder {
    routines: Option<regex::Regex>,
    tables: Option<regex::Regex>,
}

impl Finder {
    fn new(known: &[Given]) -> Finder {
        // A routine's name anywhere; a table's where the rows follow it with no column
        // list between (`INSERT INTO "ledger" VALUES`, `… ledger SELECT`).
        let re = |table: bool| {
            let names: Vec<String> = (known.iter())
                .filter(|g| matches!(g.def, Definition::Table(_)) == table)
                .map(|g| regex::escape(g.def.name()))
                .collect();
            let alt = names.join("|");
            let rows = if table {
                r#"["`\]]?\s*(?:values?|select)\b"#
            } else {
                ""
            };
            (!names.is_empty())
                .then(|| regex::Regex::new(&format!(r"(?i)\b({alt})\b{rows}")).ok())
                .flatten()
        };
        Finder {
            routines: re(false),
            tables: re(true),
        }
    }

    /// The first known definition a statement's text names.
    fn first(&self, text: &str, known: &[Given]) -> Option<usize> {
        let named = |re: &Option<regex::Regex>| {
            let c = re.as_ref()?.captures(text)?;
            Some(c.get(1)?.as_str().to_ascii_lowercase())
        };
        let (name, table) = match named(&self.routines) {
            Some(n) => (n, false),
            None => (named(&self.tables)?, true),
        };
        known
            .iter()
            .position(|g| matches!(g.def, Definition::Table(_)) == table && g.def.name() == name)
    }
}

/// Whether the source gave the statement's class (pgaudit's, and RDS activity
/// streams' of PostgreSQL), not the analysis.
fn source_class(e: &Event) -> bool {
    const CLASSES: &[&str] = &[
        "READ", "WRITE", "DDL", "ROLE", "FUNCTION", "MISC", "MISC_SET",
    ];
    (e.extra.get("audit_class")).is_some_and(|c| CLASSES.iter().any(|k| c.eq_ignore_ascii_case(k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_routine_is_called_by_its_name_as_a_word_and_a_table_by_an_insert() {
        let schema = crate::schema::read(
            "CREATE FUNCTION fx(a bigint) RETURNS void AS $$ SELECT 1 $$ LANGUAGE sql;\n\
             CREATE FUNCTION gx(a bigint) RETURNS void AS $$ SELECT 1 $$ LANGUAGE sql;\n\
             CREATE TABLE ledger (id int, account_id int);",
            "s.sql",
            &Vocab::default(),
        );
        let f = Finder::new(&schema);
        assert_eq!(f.first("SELECT FX(1, 2)", &schema), Some(0));
        assert_eq!(f.first("CALL public.gx(1)", &schema), Some(1));
        assert_eq!(f.first("SELECT fxrate FROM rates", &schema), None);
        assert_eq!(f.first("SELECT * FROM t WHERE a_fx = 1", &schema), None);
        assert_eq!(
            f.first("insert into Ledger values (1, 2)", &schema),
            Some(2)
        );
        assert_eq!(f.first("SELECT * FROM ledger", &schema), None);
        assert_eq!(
            f.first("INSERT INTO \"ledger\" VALUES (1, 2)", &schema),
            Some(2)
        );
        assert_eq!(
            f.first("INSERT INTO ledger (id, account_id) VALUES (1, 2)", &schema),
            None
        );
    }

    #[test]
    fn definitions_in_the_evidence_name_their_calls_and_only_those() {
        let db = |sql: &str, line: u64| {
            let mut e = Event::new(SourceKind::Db, "pg-stderr");
            e.statement = Some(sql.into());
            e.line = line;
            let (class, facts) =
                crate::sql::analyze(sql, &[], Dialect::Postgres, &Vocab::default());
            e.stmt_class = Some(class);
            e.sql = Some(Box::new(facts));
            Box::new(e)
        };
        let mut ev = vec![
            db("CALL gx(100121, 5000)", 1),
            db(
                "CREATE PROCEDURE gx(a bigint, b int) LANGUAGE sql AS $$ UPDATE bonus_accounts \
                 SET balance = balance + b WHERE account_id = a $$",
                2,
            ),
            db("CALL hx(100122, 5)", 3),
        ];
        let note = resolve(&mut ev, &[], &Profile::default(), &[]).unwrap();
        assert!(note.starts_with("1 statement names by position"), "{note}");
        assert!(
            note.contains("gx(account_id, balance), defined at ?:2"),
            "{note}"
        );
        let changes = |e: &Event| e.sql.as_ref().unwrap().bonus_changes.len();
        assert_eq!(changes(&ev[0]), 1);
        assert_eq!(ev[0].stmt_class, Some(StmtClass::Write));
        assert_eq!(changes(&ev[2]), 0);
        // MySQL's audit log: its procedure, backquoted, and a call with bound values.
        let mut call = Event::new(SourceKind::Db, "mysql-audit-json");
        call.statement = Some("CALL `loyalty`.`adj`(?, ?)".into());
        call.params = Some(
            ["100123".to_string(), "25".to_string()]
                .into_iter()
                .collect(),
        );
        call.sql = Some(Box::default());
        let mut def = Event::new(SourceKind::Db, "mysql-audit-json");
        def.statement = Some(
            "CREATE DEFINER=`app`@`%` PROCEDURE `adj`(IN a INT, IN b INT)\nBEGIN\n  UPDATE \
             `reward_wallets` SET `points` = `points` - b WHERE `member_id` = a;\nEND"
                .into(),
        );
        // As ingest leaves it: the analysis's class, the command's first word.
        let text = def.statement.as_deref().unwrap_or_default();
        def.stmt_class = Some(crate::sql::analyze(text, &[], Dialect::MySql, &Vocab::default()).0);
        def.command = crate::sql::command_word(text).map(|w| w.as_str().into());
        let mut ev = vec![Box::new(def), Box::new(call)];
        assert!(resolve(&mut ev, &[], &Profile::default(), &[]).is_some());
        let c = &ev[1].sql.as_ref().unwrap().bonus_changes;
        assert_eq!((&*c[0].account_id, c[0].delta), ("100123", -25));
        // A case file parsed without the profile: its routines read the call again;
        // parsed with it, the call stays as the ingest read it.
        let profile: Profile =
            toml::from_str("[routines]\nhx = [\"account_id\", \"points\"]\n").unwrap();
        let mut ev = vec![db("CALL hx(100122, 5)", 1)];
        let note = resolve(&mut ev, &[], &profile, &[]).unwrap();
        assert!(
            note.contains("hx(account_id, points), declared in the site profile"),
            "{note}"
        );
        assert_eq!(changes(&ev[0]), 1);
        assert_eq!(resolve(&mut ev, &[], &profile, &[]), None);
        // Nothing defined, nothing read again.
        let mut ev = vec![db("CALL gx(100121, 5000)", 1)];
        assert_eq!(resolve(&mut ev, &[], &Profile::default(), &[]), None);
    }
}
