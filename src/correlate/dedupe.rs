//! Records of one database written in several log formats: a server that logs to more
//! than one destination (PostgreSQL's `log_destination = 'stderr,csvlog,jsonlog'`) writes
//! each statement once per destination. Counted as often as it was logged, every bonus
//! change would add up two or three times. A record that matches a record of another
//! format — same statement and values, same user and database where both say, within
//! `TOLERANCE_US` once each clock is corrected — is one event, counted as a duplicate.

use super::Analysis;
use crate::model::{Event, FormatName, Outcome, SourceKind};
use rayon::prelude::*;
use std::collections::{BTreeMap, VecDeque};
use std::hash::{BuildHasher, RandomState};

/// Largest time difference of two copies of one record: formats that log whole seconds
/// against milliseconds, plus what separate clock corrections leave.
pub const TOLERANCE_US: i64 = 2_000_000;

/// What was dropped: per format, records that matched a kept record of another format.
#[derive(Debug, Default, PartialEq)]
pub struct Dropped {
    /// Format → records dropped as copies.
    pub by_format: BTreeMap<String, usize>,
    /// Old indices of the dropped events, ascending.
    pub events: Vec<usize>,
}

/// What a record says, for matching, appended to `out`: the canonical statement with its
/// values, or the command and object of a record that is no statement (connections,
/// failed logins).
fn key_into(e: &Event, out: &mut String) {
    match &e.statement {
        Some(s) => crate::sql::canonical_into(s, e.params.as_deref().unwrap_or(&[]), out),
        None => {
            out.push('\u{2}');
            out.push_str(e.command.as_deref().unwrap_or(""));
            out.push('\u{0}');
            out.push_str(e.object.as_deref().unwrap_or(""));
        }
    }
}

/// The two keys of the record fingerprint, drawn once per run. Statement text is
/// attacker-controlled: with known keys, a statement could be crafted offline to share
/// the fingerprint of another and be dropped as its copy.
static FINGERPRINT_KEYS: std::sync::LazyLock<[RandomState; 2]> =
    std::sync::LazyLock::new(|| [RandomState::new(), RandomState::new()]);

/// A 128-bit fingerprint of a record's key: two independently keyed SipHash values.
/// Two different keys share one with a chance near 2⁻¹²⁸ per pair (about 10⁻²⁵ among
/// ten million records), so equal fingerprints stand for equal keys, and each key is
/// made once, into a reused buffer, instead of being held or made again to confirm.
fn fingerprint(e: &Event, buf: &mut String) -> (u64, u64) {
    buf.clear();
    key_into(e, buf);
    let [a, b] = &*FINGERPRINT_KEYS;
    (a.hash_one(buf.as_str()), b.hash_one(buf.as_str()))
}

/// Whether two records can be one: what both name agrees.
fn compatible(a: &Event, b: &Event) -> bool {
    let same = |x: &Option<crate::model::Text>, y: &Option<crate::model::Text>| match (x, y) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => true,
    };
    let outcome =
        a.outcome == b.outcome || a.outcome == Outcome::Unknown || b.outcome == Outcome::Unknown;
    outcome && same(&a.db_user, &b.db_user) && same(&a.db_name, &b.db_name)
}

/// How much a copy carries: the one with more kept.
fn richness(e: &Event) -> usize {
    [
        e.db_user.is_some(),
        e.db_name.is_some(),
        e.db_host.is_some(),
        e.session_id.is_some(),
        e.request_id.is_some(),
        e.params.is_some(),
        e.ts % 1_000_000 != 0,
    ]
    .iter()
    .filter(|x| **x)
    .count()
}

/// A record kept so far.
struct Slot {
    kept: usize,
    ts: i64,
}

/// One fingerprint, time, event index: the sort key of the sweep.
type Entry = ((u64, u64), i64, usize);

/// The records of one key in time order: each joins the earliest kept record of another
/// format it can be, or is kept. Each format has a queue of the kept records it has not
/// matched yet, so a record looks at candidates only. Returns the dropped indices.
fn sweep(ev: &[Box<Event>], group: &[Entry]) -> Vec<usize> {
    let mut slots: Vec<Slot> = Vec::new();
    let mut open: Vec<(FormatName, VecDeque<usize>)> = Vec::new();
    for &(.., i) in group {
        if !open.iter().any(|(f, _)| *f == ev[i].format) {
            open.push((ev[i].format, VecDeque::new()));
        }
    }
    if open.len() < 2 {
        return Vec::new();
    }
    let mut dropped = Vec::new();
    for &(_, ts, i) in group {
        let e = &ev[i];
        let Some(queue) = open
            .iter_mut()
            .find(|(f, _)| *f == e.format)
            .map(|(_, q)| q)
        else {
            continue;
        };
        while queue
            .front()
            .is_some_and(|&s| slots[s].ts < ts - TOLERANCE_US)
        {
            queue.pop_front();
        }
        let found = queue
            .iter()
            .position(|&s| compatible(&ev[slots[s].kept], e));
        match found.and_then(|k| queue.remove(k)) {
            Some(s) => {
                let s = &mut slots[s];
                if richness(e) > richness(&ev[s.kept]) {
                    dropped.push(std::mem::replace(&mut s.kept, i));
                } else {
                    dropped.push(i);
                }
            }
            None => {
                slots.push(Slot { kept: i, ts });
                let id = slots.len() - 1;
                for (_, queue) in open.iter_mut().filter(|(f, _)| *f != e.format) {
                    queue.push_back(id);
                }
            }
        }
    }
    dropped
}

/// Finds the copies among database records of two or more formats (none when the
/// evidence holds one database format).
pub fn find(ev: &[Box<Event>]) -> Dropped {
    let db: Vec<usize> = (0..ev.len())
        .into_par_iter()
        .filter(|&i| ev[i].kind() == SourceKind::Db)
        .collect();
    let first = db.first().map(|&i| &ev[i].format);
    if !db.iter().any(|&i| Some(&ev[i].format) != first) {
        return Dropped::default();
    }
    // The groups' order never reaches the output: each group's drops are sorted below.
    let mut order: Vec<Entry> = db
        .par_iter()
        .map_init(String::new, |buf, &i| {
            (fingerprint(&ev[i], buf), ev[i].ts, i)
        })
        .collect();
    order.par_sort_unstable();
    let mut events: Vec<usize> = order
        .par_chunk_by(|a, b| a.0 == b.0)
        .flat_map_iter(|g| sweep(ev, g))
        .collect();
    events.par_sort_unstable();
    let mut by_format = BTreeMap::new();
    for &i in &events {
        *by_format
            .entry(ev[i].format.as_str().to_string())
            .or_default() += 1;
    }
    Dropped { by_format, events }
}

/// Drops the copies `find` finds from the analysis: events and their targets, each
/// file's counts (a copy counts as a duplicate), and a note. Returns the kept events'
/// old indices (`kept[new] = old`) when anything was dropped.
pub fn drop_copies(a: &mut Analysis) -> Option<Vec<usize>> {
    let d = find(&a.ing.events);
    if d.events.is_empty() {
        return None;
    }
    let formats: std::collections::BTreeSet<&str> = a
        .ing
        .events
        .iter()
        .filter(|e| e.kind() == SourceKind::Db)
        .map(|e| e.format.as_str())
        .collect();
    let formats: Vec<&str> = formats.into_iter().collect();
    let mut gone = vec![false; a.ing.events.len()];
    for &i in &d.events {
        gone[i] = true;
        let f = &mut a.ing.files[a.ing.events[i].file as usize];
        f.events = f.events.saturating_sub(1);
        f.duplicates += 1;
    }
    let kept: Vec<usize> = (0..gone.len()).filter(|&i| !gone[i]).collect();
    super::reindex(a, &kept);
    let counts: Vec<String> = d
        .by_format
        .iter()
        .map(|(f, n)| format!("{n} {f}"))
        .collect();
    a.notes.push(format!(
        "The database evidence holds the same records in more than one format ({}): a server \
         that logs to several destinations writes each record to each. {} records matched a \
         record of another format — the same statement and values, the same user and \
         database where both name them, within {} s once each clock was corrected — and \
         count once, as duplicates, keeping the copy with more fields ({}).",
        formats.join(", "),
        d.events.len(),
        TOLERANCE_US / 1_000_000,
        counts.join(", ")
    ));
    Some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(
        fmt: &'static str,
        ts: i64,
        text: &str,
        params: &[&str],
        user: Option<&str>,
    ) -> Box<Event> {
        let mut e = Event::new(SourceKind::Db, fmt);
        e.ts = ts;
        e.statement = Some(text.into());
        if !params.is_empty() {
            e.params = Some(params.iter().map(|p| p.to_string()).collect());
        }
        e.db_user = user.map(Into::into);
        Box::new(e)
    }

    #[test]
    fn copies_across_formats_count_once_and_repeats_within_one_stay() {
        let s = 1_000_000_000_000;
        let up = "UPDATE bonus SET balance = balance + $1 WHERE account_id = $2";
        let ev = vec![
            // One change logged by two destinations of one server (and by a third in
            // whole seconds, inline values, no user).
            stmt("pg-csvlog", s + 400_000, up, &["50", "7"], Some("app")),
            stmt("pg-stderr", s + 400_000, up, &["50", "7"], Some("app")),
            stmt(
                "mariadb-audit",
                s,
                "update bonus set balance=balance+50 where account_id=7",
                &[],
                None,
            ),
            // The same change made twice in one second: twice in each format.
            stmt("pg-csvlog", s + 900_000, up, &["50", "7"], Some("app")),
            stmt("pg-stderr", s + 900_000, up, &["50", "7"], Some("app")),
            // Another user's statement is not a copy; nor is one 3 s away, nor one with
            // other values at the same moment.
            stmt("pg-stderr", s + 950_000, up, &["50", "7"], Some("admin")),
            stmt("pg-stderr", s + 960_000, up, &["5", "7"], Some("app")),
            stmt("pg-stderr", s + 3_500_000, up, &["50", "8"], Some("app")),
            stmt("pg-csvlog", s + 6_600_000, up, &["50", "8"], Some("app")),
            stmt("pg-csvlog", s + 960_000, up, &["50", "70"], Some("app")),
        ];
        let d = find(&ev);
        assert_eq!(d.events, [1, 2, 4]);
        assert_eq!(d.by_format["pg-stderr"], 2);
        // One format alone: nothing is a copy, however alike.
        let one: Vec<Box<Event>> = vec![ev[0].clone(), ev[0].clone()];
        assert!(find(&one).events.is_empty());
    }

    #[test]
    fn the_copy_with_more_fields_is_kept() {
        let s = 1_000_000_000_000;
        let ev = vec![
            stmt("mariadb-audit", s, "DELETE FROM t WHERE id = 1", &[], None),
            stmt(
                "pg-csvlog",
                s + 250_000,
                "DELETE FROM t WHERE id = $1",
                &["1"],
                Some("app"),
            ),
        ];
        assert_eq!(find(&ev).events, [0]);
    }
}
