//! Owners of rows a statement names by their own id. An application whose points live
//! in a table of their own rows (`wallets (id, customer_id, points)`) reads the row by
//! its owner and writes it back by the row's id, as Rails, Django and Hibernate do:
//!
//! ```sql
//! SELECT wallets.* FROM wallets WHERE wallets.customer_id = 42 LIMIT 1
//! UPDATE wallets SET points = 550 WHERE wallets.id = 17
//! ```
//!
//! The write names row 17, not account 17. A row read by exactly one account in the same
//! request (or the same database session, within seconds) just before it is written by
//! its id is that account's; a row the evidence pairs with one account only, anywhere,
//! is that account's in every statement that names it, the attacker's own direct writes
//! included. Statements whose rows are paired get their owners for account ids and bonus
//! changes (`extra.row_owner` says which); rows paired with several accounts, or with
//! none, keep their numbers, and the notes say so.

use crate::model::{Event, FileInfo, SourceKind, Text};
use foldhash::{HashMap, HashMapExt, HashSet};
use std::collections::{BTreeMap, BTreeSet};

/// A read by owner pairs with a write by id this long after it in the same request or
/// session (an ORM's read and save are milliseconds apart).
const PAIR_US: i64 = 5_000_000;

/// What the pass found, per table (sorted by name).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Owners {
    pub tables: BTreeMap<Text, TableOwners>,
}

/// The rows of one table named by their own id.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct TableOwners {
    /// Rows paired with one owner.
    pub rows: usize,
    /// Rows paired with several owners: left as row numbers.
    pub conflicting: BTreeSet<Text>,
    /// Statements that name rows by id whose owners are all known, now theirs.
    pub resolved: usize,
    /// Statements that name a row no read pairs with an owner, and those rows.
    pub unresolved: usize,
    pub unpaired: BTreeSet<Text>,
    /// Some statement names this table's rows by an account column: its `id` is the
    /// row's own number, not a customer's.
    pub has_owner_column: bool,
}

/// A row's owner and the write it was first paired at (file index, line).
type Owner = (Text, (u32, u64));

/// Where a statement runs: the request it is tagged with, else its database session.
#[derive(Clone, PartialEq, Eq, Hash)]
enum Stream {
    Request(Text),
    Session(u32, Text),
}

fn stream(e: &Event) -> Option<Stream> {
    let request = e
        .request_id
        .as_ref()
        .or(e.sql.as_ref()?.request_id.as_ref());
    match (request, &e.session_id) {
        (Some(r), _) => Some(Stream::Request(r.clone())),
        (None, Some(s)) => Some(Stream::Session(e.file, s.clone())),
        _ => None,
    }
}

/// The accounts a stream has read a table's rows by since its last write by id.
struct Reads {
    accounts: BTreeSet<Text>,
    last: i64,
}

/// Learns row owners and gives each statement that names rows by id their owners.
/// Events are in time order.
#[allow(clippy::vec_box)] // the events' one shape everywhere
pub fn resolve(events: &mut [Box<Event>], files: &[FileInfo]) -> Owners {
    let db = |e: &Event| e.kind() == SourceKind::Db;
    let by_id: HashSet<Text> = events
        .iter()
        .filter(|e| db(e))
        .filter_map(|e| e.sql.as_deref())
        .filter(|f| f.row_ids)
        .map(|f| f.tables[0].clone())
        .collect();
    let mut out = Owners::default();
    // Most evidence names no row by id outside the customers' table: nothing to learn.
    if by_id.is_empty() {
        return out;
    }
    // Votes: (table, row) → owner → the first write it was paired at (file, line).
    let mut votes: BTreeMap<(Text, Text), BTreeMap<Text, (u32, u64)>> = BTreeMap::new();
    let mut reads: HashMap<(Stream, Text), Reads> = HashMap::new();
    for e in events.iter() {
        let Some(f) = e.sql.as_deref().filter(|f| db(e) && f.tables.len() == 1) else {
            continue;
        };
        let table = &f.tables[0];
        if !by_id.contains(table) || f.account_ids.is_empty() {
            continue;
        }
        if !f.row_ids {
            out.tables
                .entry(table.clone())
                .or_default()
                .has_owner_column = true;
        }
        let Some(s) = stream(e) else {
            continue;
        };
        let key = (s, table.clone());
        if f.row_ids {
            if let Some(r) = reads.remove(&key) {
                let one = (r.accounts.len() == 1)
                    .then(|| r.accounts.first())
                    .flatten();
                if let ([row], Some(owner)) = (&*f.account_ids, one) {
                    if e.ts - r.last <= PAIR_US {
                        let v = votes.entry((table.clone(), row.clone())).or_default();
                        v.entry(owner.clone()).or_insert((e.file, e.line));
                    }
                }
            }
        } else {
            let r = reads.entry(key).or_insert_with(|| Reads {
                accounts: BTreeSet::new(),
                last: e.ts,
            });
            if e.ts - r.last > PAIR_US {
                r.accounts.clear();
            }
            r.accounts.extend(f.account_ids.iter().cloned());
            r.last = e.ts;
        }
    }
    drop(reads);
    let mut owner: HashMap<(Text, Text), Owner> = HashMap::new();
    for ((table, row), v) in votes {
        let t = out.tables.entry(table.clone()).or_default();
        if v.len() == 1 {
            let (o, at) = v.into_iter().next().expect("one owner");
            t.rows += 1;
            owner.insert((table, row), (o, at));
        } else {
            t.conflicting.insert(row);
        }
    }
    for e in events.iter_mut() {
        if !db(e) {
            continue;
        }
        let Some(f) = e.sql.as_deref_mut().filter(|f| f.row_ids) else {
            continue;
        };
        let table = f.tables[0].clone();
        let t = out.tables.entry(table.clone()).or_default();
        let of = |row: &Text| owner.get(&(table.clone(), row.clone()));
        let paired: Vec<(&Text, Option<&Owner>)> =
            f.account_ids.iter().map(|r| (r, of(r))).collect();
        if paired.iter().any(|(_, o)| o.is_none()) {
            t.unresolved += 1;
            let unpaired = (paired.iter())
                .filter(|(r, o)| o.is_none() && !t.conflicting.contains(*r))
                .map(|(r, _)| (*r).clone());
            t.unpaired.extend(unpaired);
            continue;
        }
        t.resolved += 1;
        let mut said = Vec::new();
        let mut ids = Vec::new();
        for (row, (o, (file, line))) in paired.into_iter().filter_map(|(r, o)| Some((r, o?))) {
            let path = files.get(*file as usize).map_or("?", |f| f.path.as_str());
            said.push(format!(
                "{table} row {row} is account {o}'s (read by it before its write at {path}:{line})"
            ));
            ids.push(o.clone());
        }
        ids.sort();
        ids.dedup();
        f.account_ids = ids.into();
        for c in f.bonus_changes.iter_mut() {
            if let Some((o, _)) = of(&c.account_id) {
                c.account_id = o.clone();
            }
        }
        f.row_ids = false;
        e.extra.insert("row_owner", said.join("; "));
    }
    out
}

/// What `extra.row_owner` says of one account's row (`wallets row 17 is account 42's
/// (…)`), for the evidence of a change to it.
pub fn said_of<'a>(e: &'a Event, account: &str) -> Option<&'a str> {
    let said = e.extra.get("row_owner")?.as_str();
    let whose = format!(" is account {account}'s ");
    said.split("; ").find(|s| s.contains(&whose))
}

impl Owners {
    /// What the notes of a report say about the rows named by their own id.
    pub fn notes(&self) -> Vec<String> {
        let mut out = Vec::new();
        let list = |rows: &BTreeSet<Text>| {
            let mut s: Vec<&str> = rows.iter().take(10).map(Text::as_str).collect();
            if rows.len() > 10 {
                s.push("…");
            }
            s.join(", ")
        };
        for (table, t) in &self.tables {
            if t.resolved > 0 {
                out.push(format!(
                    "{} statements named rows of {table} by the rows' own id, not by their \
                     owners: each of {} rows was read by one account just before its write \
                     in the same request or database session, and counts as that account's \
                     in every statement that names it (row_owner)",
                    t.resolved, t.rows
                ));
            }
            if !t.conflicting.is_empty() {
                out.push(format!(
                    "{} rows of {table} were read by different accounts before their writes \
                     by id ({}): their statements keep the row numbers as accounts",
                    t.conflicting.len(),
                    list(&t.conflicting)
                ));
            }
            if t.has_owner_column && !t.unpaired.is_empty() {
                out.push(format!(
                    "{} statements named rows of {table} by the rows' own id, and no read by \
                     an account pairs {} of those rows with an owner ({}): {table} names \
                     rows by an account column too, so these numbers are probably rows, \
                     not customers, though they are counted as accounts; look their owners \
                     up in the application's database",
                    t.unresolved,
                    t.unpaired.len(),
                    list(&t.unpaired)
                ));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sql::{analyze, Dialect, Vocab};

    /// A statement at `ms`, in request `req` or else session `pid`.
    fn stmt(ms: i64, line: u64, req: Option<&str>, pid: &str, sql: &str) -> Box<Event> {
        let mut e = Event::new(SourceKind::Db, "pg-stderr");
        e.ts = ms * 1000;
        e.line = line;
        e.request_id = req.map(Into::into);
        e.session_id = Some(pid.into());
        e.statement = Some(sql.into());
        e.sql = Some(Box::new(
            analyze(sql, &[], Dialect::Postgres, &Vocab::default()).1,
        ));
        Box::new(e)
    }

    fn read(ms: i64, line: u64, req: Option<&str>, pid: &str, owner: u32) -> Box<Event> {
        let sql =
            format!("SELECT wallets.* FROM wallets WHERE wallets.customer_id = {owner} LIMIT 1");
        stmt(ms, line, req, pid, &sql)
    }

    fn write(ms: i64, line: u64, req: Option<&str>, pid: &str, row: u32, add: i64) -> Box<Event> {
        let sql = format!("UPDATE wallets SET points = points + {add} WHERE wallets.id = {row}");
        stmt(ms, line, req, pid, &sql)
    }

    fn changes(e: &Event) -> Vec<(String, i64)> {
        let f = e.sql.as_deref().unwrap();
        f.bonus_changes
            .iter()
            .map(|c| (c.account_id.to_string(), c.delta))
            .collect()
    }

    fn files() -> Vec<FileInfo> {
        vec![FileInfo {
            path: "db/postgresql.log".into(),
            ..Default::default()
        }]
    }

    #[test]
    fn a_row_read_by_its_owner_before_its_write_is_the_owners() {
        let mut evs = vec![
            read(0, 1, Some("r1"), "p1", 42),
            // Another request's read between them, on another connection.
            read(1, 2, Some("r2"), "p2", 43),
            write(2, 3, Some("r1"), "p1", 17, 100),
            write(3, 4, Some("r2"), "p2", 18, -20),
            // The attacker's own session writes row 17 directly, reading nothing.
            write(60_000, 5, None, "p9", 17, 5000),
        ];
        let found = resolve(&mut evs, &files());
        assert_eq!(changes(&evs[2]), [("42".to_string(), 100)]);
        assert_eq!(changes(&evs[3]), [("43".to_string(), -20)]);
        assert_eq!(changes(&evs[4]), [("42".to_string(), 5000)]);
        let f = evs[4].sql.as_deref().unwrap();
        assert_eq!((&*f.account_ids, f.row_ids), (&["42".into()][..], false));
        assert_eq!(
            evs[4].extra["row_owner"].as_str(),
            "wallets row 17 is account 42's (read by it before its write at db/postgresql.log:3)"
        );
        assert_eq!(
            said_of(&evs[4], "42"),
            Some(evs[4].extra["row_owner"].as_str())
        );
        assert_eq!(said_of(&evs[4], "4"), None);
        let t = &found.tables["wallets"];
        assert_eq!((t.rows, t.resolved, t.unresolved), (2, 3, 0));
        assert_eq!(found.notes().len(), 1);
    }

    #[test]
    fn rows_no_read_or_several_reads_pair_keep_their_numbers() {
        let mut evs = vec![
            // A session (no request ids) that reads two owners, then writes one row.
            read(0, 1, None, "p1", 42),
            read(1, 2, None, "p1", 43),
            write(2, 3, None, "p1", 17, 100),
            // A read too long before the write.
            read(10, 4, None, "p2", 44),
            write(10_000, 5, None, "p2", 19, 1),
            // Row 20 read by 45 here and by 46 there.
            read(20_000, 6, Some("a"), "p3", 45),
            write(20_001, 7, Some("a"), "p3", 20, 1),
            read(20_002, 8, Some("b"), "p3", 46),
            write(20_003, 9, Some("b"), "p3", 20, 1),
        ];
        let found = resolve(&mut evs, &files());
        for (i, row) in [(2, "17"), (4, "19"), (6, "20"), (8, "20")] {
            assert_eq!(changes(&evs[i])[0].0, row, "{i}");
            assert!(evs[i].sql.as_deref().unwrap().row_ids);
        }
        let t = &found.tables["wallets"];
        assert_eq!((t.rows, t.resolved, t.unresolved), (0, 0, 4));
        assert_eq!(
            t.conflicting.iter().map(Text::as_str).collect::<Vec<_>>(),
            ["20"]
        );
        assert_eq!(
            t.unpaired.iter().map(Text::as_str).collect::<Vec<_>>(),
            ["17", "19"]
        );
        let notes = found.notes();
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[1].contains("(17, 19)"), "{notes:?}");
    }

    #[test]
    fn a_table_keyed_by_the_customers_own_id_is_left_alone() {
        // No statement names the table's rows by an owner column: its id may be the
        // customer's (a table sharing the customers' key), and no note doubts it.
        let mut evs = vec![write(0, 1, None, "p1", 100042, 100)];
        let found = resolve(&mut evs, &files());
        assert_eq!(changes(&evs[0]), [("100042".to_string(), 100)]);
        assert!(found.notes().is_empty());
    }
}
