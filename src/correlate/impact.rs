//! Blast radius: which accounts the attacker's activity affected, how, and by which
//! evidence — bonus balances changed (signed deltas for recomputation), personal data
//! exposed (selective reads, responses naming accounts, whole-table reads at their time),
//! malicious pushes received.

use super::enrich::Links;
use super::impact_kind as k;
use super::{Affected, Analysis};
use crate::model::{Event, Outcome, SourceKind, StmtClass};
use crate::profile::{Profile, Target};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};

pub(super) fn entry<'a>(
    m: &'a mut BTreeMap<String, Affected>,
    acc: &str,
    ts: i64,
) -> &'a mut Affected {
    let x = m.entry(acc.to_string()).or_insert_with(|| Affected {
        account: acc.to_string(),
        first: ts,
        last: ts,
        ..Default::default()
    });
    x.first = x.first.min(ts);
    x.last = x.last.max(ts);
    x
}

/// Records bonus change `i` (at `ts`, in wave `w`) of account `acc`: by `delta` points,
/// or by points the evidence does not give (None).
fn tamper(
    m: &mut BTreeMap<String, Affected>,
    acc: &str,
    (i, ts, w): (usize, i64, u32),
    delta: Option<i64>,
    why: String,
) {
    let x = entry(m, acc, ts);
    x.impacts.insert(k::BONUS);
    x.waves.insert(w);
    x.bonus_ops += 1;
    x.bonus_waves.insert(w);
    *x.bonus_delta.get_or_insert(0) += delta.unwrap_or(0);
    x.bonus_unknown += u64::from(delta.is_none());
    let span = x.bonus_span.get_or_insert((ts, ts));
    span.0 = span.0.min(ts);
    span.1 = span.1.max(ts);
    x.evidence.push((i, k::BONUS, why));
}

/// Records that event `i` (at `ts`, in wave `w`) exposed account `acc`'s data.
fn expose(
    m: &mut BTreeMap<String, Affected>,
    acc: &str,
    (i, ts, w): (usize, i64, u32),
    why: String,
) {
    let x = entry(m, acc, ts);
    x.impacts.insert(k::DATA);
    x.waves.insert(w);
    x.evidence.push((i, k::DATA, why));
}

/// Each account's first sighting: the first event that names it (events are in time
/// order) and did not fail. A refused request or a failed statement names an account
/// without showing that it exists: internet scanners ask for `/customers/0/…` and
/// `/clients/1/…` on every API, and an enumeration's misses name ids nobody holds.
/// Gathered in parallel, hashed, then ordered once per account rather than once per
/// event.
fn first_sightings(ev: &[Box<Event>]) -> HashMap<&str, usize> {
    let sightings: Vec<(&str, usize)> = ev
        .par_iter()
        .enumerate()
        .filter(|(_, e)| e.outcome != Outcome::Failure)
        .filter_map(|(i, e)| Some((e.account_id.as_deref()?, i)))
        .collect();
    let mut first: HashMap<&str, usize> = HashMap::new();
    for (acc, i) in sightings {
        first.entry(acc).or_insert(i);
    }
    first
}

/// Which of `candidates` the evidence shows as customers: signed in to a request that
/// did not fail, or named by a statement on a customer-data table that did not fail. An
/// id a statement on another table names (a wallet's own row number) is not one.
fn customers_shown<'a>(
    ev: &'a [Box<Event>],
    p: &Profile,
    candidates: &HashSet<&str>,
) -> HashSet<&'a str> {
    if candidates.is_empty() {
        return HashSet::new();
    }
    ev.par_iter()
        .filter(|e| e.outcome != Outcome::Failure)
        .filter_map(|e| {
            let acc = e.account_id.as_deref().filter(|a| candidates.contains(a))?;
            let shown = match e.kind() {
                SourceKind::Gateway => e.user.as_deref() == Some(acc),
                SourceKind::Db => super::detect::customer_table(e, p),
                SourceKind::Push => false,
            };
            shown.then_some(acc)
        })
        .collect::<Vec<_>>()
        .into_iter()
        .collect()
}

/// Sign-ups the evidence shows: accounts whose first sighting is a row inserted into a
/// customer-data table (the sign-up's own statement), with its time.
pub(super) fn signups<'a>(ev: &'a [Box<Event>], p: &Profile) -> HashMap<&'a str, i64> {
    signups_of(ev, p, first_sightings(ev))
}

/// `signups`, from the accounts' first sightings.
fn signups_of<'a>(
    ev: &'a [Box<Event>],
    p: &Profile,
    first: HashMap<&'a str, usize>,
) -> HashMap<&'a str, i64> {
    let inserted = |e: &Event| {
        e.kind() == SourceKind::Db
            && e.stmt_class == Some(StmtClass::Write)
            && e.statement.as_deref().is_some_and(|s| {
                s.trim_start()
                    .get(..6)
                    .is_some_and(|w| w.eq_ignore_ascii_case("insert"))
            })
            && super::detect::customer_table(e, p)
    };
    first
        .into_iter()
        .filter(|&(_, i)| inserted(&ev[i]))
        .map(|(acc, i)| (acc, ev[i].ts))
        .collect()
}

/// The kind of an account id, to tell a closed account's id from an id of another
/// namespace: digits (of roughly a length), a UUID, a prefixed id (`cus_…`), or other
/// text of a length (Firebase's 28 characters).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum IdShape {
    /// Digits, by length in threes (100234 and 99999 in one class, 1000000 in the next).
    Digits(usize),
    /// A UUID in any case.
    Uuid,
    /// Letters before `_` or `-`.
    Prefixed(String),
    /// Other text, by length.
    Other(usize),
}

fn id_shape(id: &str) -> IdShape {
    let b = id.as_bytes();
    if !b.is_empty() && b.iter().all(u8::is_ascii_digit) {
        return IdShape::Digits(b.len().div_ceil(3));
    }
    let uuid = b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        });
    if uuid {
        return IdShape::Uuid;
    }
    match id.split_once(['_', '-']) {
        Some((pre, rest))
            if (1..=8).contains(&pre.len())
                && pre.bytes().all(|c| c.is_ascii_alphabetic())
                && !rest.is_empty() =>
        {
            IdShape::Prefixed(pre.to_ascii_lowercase())
        }
        _ => IdShape::Other(b.len()),
    }
}

/// How far the clock of a roster's source may be from the evidence's corrected clock
/// for a sign-up in the evidence to be the account's creation the roster dates: two
/// gateway layers' clocks minutes apart leave the evidence on the one chosen, and the
/// roster on the application's. A row inserted further off is another event (an import,
/// a restore), and the roster's time holds.
const ROSTER_CLOCK_US: i64 = 15 * 60 * 1_000_000;

/// Whether an account the roster says was created at `created` existed at `t`. The
/// roster gives a day, an hour, a minute or a second, by another clock than the
/// evidence's: where the evidence shows the account's sign-up within that unit (and
/// the clocks' reach) of it, the sign-up is the finer time, on the clock of the reads it
/// is compared with — a whole-table read a minute before the sign-up could not return
/// the row, and one a minute after it did, whatever the roster's clock said.
#[cfg(test)]
fn existed_at(signup: Option<&i64>, created: i64, t: i64) -> bool {
    exists_from(signup, created) <= t
}

/// The time from which an account the roster dates at `created` existed: its sign-up's
/// where the evidence shows it within the roster's unit and clock reach (`existed_at`).
fn exists_from(signup: Option<&i64>, created: i64) -> i64 {
    const MINUTE: i64 = 60_000_000;
    let unit = [24 * 60 * MINUTE, 60 * MINUTE, MINUTE, 1_000_000]
        .into_iter()
        .find(|u| created.rem_euclid(*u) == 0)
        .unwrap_or(1);
    match signup {
        Some(&s) if s >= created - ROSTER_CLOCK_US && s < created + unit + ROSTER_CLOCK_US => s,
        _ => created,
    }
}

/// Computes affected accounts; `unlogged` are the attacker's bonus-changing requests no
/// database evidence covers (`unlogged::bonus_requests`).
pub fn compute(a: &mut Analysis, l: &Links, p: &Profile, unlogged: &[usize]) {
    let ev = &a.ing.events;
    let wave = |i: usize| a.attr[i].as_ref().map(|x| x.wave).unwrap_or(0);
    let mut m: BTreeMap<String, Affected> = BTreeMap::new();
    // Bonus.
    for &(i, ref acc, d, abs) in &a.bonus_ops {
        // A change by nothing (the opening row of an account the attacker signed up,
        // a balance set to what it was) moved no points and needs no correction.
        if a.attr[i].is_none() || (!abs && d == 0) {
            continue;
        }
        // Sets are settled into changes where the evidence gave the balance before
        // (`balances`); those left are of unknown effect.
        let why = match (abs, super::balances::set_value(&ev[i], acc)) {
            (true, _) => format!("balance set to {d} (the balance before is not in the evidence)"),
            (false, Some(v)) => {
                format!("balance set to {v} ({d:+} on the balance the evidence last gave it)")
            }
            (false, None) => format!("balance changed by {d:+}"),
        };
        // A row the statement names by its own number: whose it is, and why.
        let why = match super::owners::said_of(&ev[i], acc) {
            Some(row) => format!("{why}; {row}"),
            None => why,
        };
        let delta = (!abs).then_some(d);
        tamper(&mut m, acc, (i, ev[i].ts, wave(i)), delta, why);
    }
    // Attacker statements that changed the balances of accounts they name by an amount
    // they do not state (`balance * 10`, `GREATEST(balance - 300, 0)`): tampered, by
    // points a backup must tell.
    for i in (0..ev.len()).filter(|&i| a.attr[i].is_some()) {
        let Some(f) = ev[i].sql.as_ref().filter(|f| f.bonus_unnamed) else {
            continue;
        };
        if ev[i].outcome == Outcome::Failure {
            continue;
        }
        for acc in f.account_ids.iter() {
            if f.bonus_changes.iter().any(|c| c.account_id == *acc) {
                continue;
            }
            let removed = (ev[i].statement.as_deref())
                .and_then(crate::sql::command_word)
                .is_some_and(|c| c == "DELETE" || c == "TRUNCATE");
            let why = if removed {
                "bonus rows of the account removed: its balance changed by what they held"
            } else {
                "balance changed by an amount the statement does not state"
            };
            tamper(&mut m, acc, (i, ev[i].ts, wave(i)), None, why.to_string());
        }
    }
    // Accounts that existed at a time: the roster's (refined by the sign-ups the
    // evidence shows), and those seen in the evidence by then that the roster does not
    // list (closed since, or left out of its export), where the evidence shows them as
    // customers and their ids are of the roster's kind — not an identity provider's
    // subject the roster does not map; without a roster, the accounts seen.
    let shapes: BTreeSet<IdShape> = (a.roster.iter())
        .flat_map(|r| r.customers.keys().map(|k| id_shape(k)))
        .collect();
    let first = first_sightings(ev);
    let outside: HashSet<&str> = match &a.roster {
        Some(r) => (first.keys().copied())
            .filter(|acc| r.account_of(acc).is_none() && shapes.contains(&id_shape(acc)))
            .collect(),
        None => HashSet::new(),
    };
    let customers = customers_shown(ev, p, &outside);
    let seen_first: BTreeMap<&str, i64> = (first.iter())
        .filter(|(acc, _)| a.roster.is_none() || customers.contains(*acc))
        .map(|(&acc, &i)| (acc, ev[i].ts))
        .collect();
    let signups = match a.roster {
        Some(_) => signups_of(ev, p, first),
        None => HashMap::new(),
    };
    // Each account, and the time from which it existed.
    let since: Vec<(&str, i64)> = (a.roster.iter())
        .flat_map(|r| r.customers.values())
        .map(|c| {
            let from = (c.created).map_or(i64::MIN, |c0| {
                exists_from(signups.get(c.account_id.as_str()), c0)
            });
            (c.account_id.as_str(), from)
        })
        .chain(seen_first.iter().map(|(&acc, &f)| (acc, f)))
        .collect();
    let existing = |t: i64| -> Vec<String> {
        (since.iter())
            .filter(|(_, f)| *f <= t)
            .map(|(acc, _)| acc.to_string())
            .collect()
    };
    // The same in key order, for the ranges of reads and updates: built where one needs it.
    let mut keys: Option<super::keyranges::KeyIndex> = None;
    // Balances changed through attacker requests where no database evidence covers
    // their time: changed, by points only the database could give.
    for &i in unlogged {
        let e = &ev[i];
        let Some(acc) = &e.account_id else { continue };
        let why = format!(
            "attacker request {} {} changed the account's bonus; no database evidence covers \
             its time to give the points",
            e.method.as_deref().unwrap_or(""),
            e.path.as_deref().unwrap_or("")
        );
        tamper(&mut m, acc, (i, e.ts, wave(i)), None, why);
    }
    // Balance updates and deletes of a range of keys (`SET balance = balance + 500
    // WHERE account_id BETWEEN …`): against a roster, which lists every account, each
    // account in the range that existed then, by the points the update states.
    let mut ranged_writes: HashSet<usize> = HashSet::new();
    for i in (0..ev.len()).filter(|&i| a.attr[i].is_some() && a.roster.is_some()) {
        let e = &ev[i];
        let Some((r, removed)) = super::keyranges::written(e) else {
            continue;
        };
        if e.outcome == Outcome::Failure {
            continue;
        }
        let what = super::keyranges::told(r);
        let (why, delta) = match (removed, r.points, r.sets) {
            (true, _, _) => (
                format!(
                    "bonus rows of every account with {what} removed: its balance changed by \
                     what they held"
                ),
                None,
            ),
            (false, Some(points), true) => (
                format!(
                    "balance set to {points} by an update of every account with {what} (the \
                     balance before is not in the evidence)"
                ),
                None,
            ),
            (false, Some(points), false) => (
                format!("balance changed by {points:+} by an update of every account with {what}"),
                Some(points),
            ),
            (false, None, _) => continue,
        };
        let keys = keys.get_or_insert_with(|| super::keyranges::KeyIndex::new(&since));
        let Some(got) = keys.returned(r, e.ts, true).filter(|g| g.exact) else {
            continue;
        };
        for acc in &got.accounts {
            tamper(&mut m, acc, (i, e.ts, wave(i)), delta, why.clone());
        }
        ranged_writes.insert(i);
    }
    // Exposure.
    let mut whole: Vec<(usize, String)> = Vec::new();
    // The attacker's page reads of customer tables, by wave.
    let mut paged: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    // The attacker's reads whose accounts their key ranges name.
    let mut ranged_reads: HashSet<usize> = HashSet::new();
    for (i, e) in ev.iter().enumerate() {
        if a.attr[i].is_none() {
            continue;
        }
        match e.kind() {
            SourceKind::Gateway => {
                if a.targets[i] != Some(Target::CustomerData) || e.outcome != Outcome::Success {
                    continue;
                }
                if super::detect::export_request(e, p) {
                    whole.push((
                        i,
                        format!(
                            "export request {} returned the customer list",
                            e.path.as_deref().unwrap_or("")
                        ),
                    ));
                } else if super::pages::is_page(a, p, i) {
                    // A page by key range returned the accounts whose keys it holds.
                    let ranged = super::apiranges::ranged(e).and_then(|r| {
                        let keys =
                            keys.get_or_insert_with(|| super::keyranges::KeyIndex::new(&since));
                        let got = keys.returned(&r, e.ts, a.roster.is_some())?;
                        Some((r, got))
                    });
                    let Some((r, got)) = ranged else {
                        paged.entry(wave(i)).or_default().push(i);
                        continue;
                    };
                    let what = format!(
                        "attacker request {} {} asked for customers",
                        e.method.as_deref().unwrap_or(""),
                        e.path.as_deref().unwrap_or("")
                    );
                    let why = super::keyranges::exposed_why(&what, &r, got.exact);
                    for acc in &got.accounts {
                        expose(&mut m, acc, (i, e.ts, wave(i)), why.clone());
                    }
                } else if let Some(acc) = &e.account_id {
                    let path = e.path.as_deref().unwrap_or("").to_ascii_lowercase();
                    if p.is_device_route(&path) {
                        continue;
                    }
                    let why = format!(
                        "attacker request {} {} returned the account's data",
                        e.method.as_deref().unwrap_or(""),
                        e.path.as_deref().unwrap_or("")
                    );
                    expose(&mut m, acc, (i, e.ts, wave(i)), why);
                }
            }
            SourceKind::Db => {
                // Reads, and writes that copy a whole table into another (staged).
                let copy = e.sql.as_ref().is_some_and(|f| f.whole_table_read);
                if !(e.stmt_class == Some(StmtClass::Read) || copy) || e.outcome == Outcome::Failure
                {
                    continue;
                }
                // A statement whose request failed returned nothing to the attacker.
                if l.origin(i)
                    .is_some_and(|g| ev[g].outcome == Outcome::Failure)
                {
                    continue;
                }
                let Some(f) = &e.sql else { continue };
                if !super::detect::customer_table(e, p) {
                    continue;
                }
                // A read by key range returned the accounts whose keys it holds.
                let ranged = (f.key_range.as_deref())
                    .filter(|_| f.whole_table_read || super::pages::is_page(a, p, i))
                    .and_then(|r| {
                        let keys =
                            keys.get_or_insert_with(|| super::keyranges::KeyIndex::new(&since));
                        Some((r, keys.returned(r, e.ts, a.roster.is_some())?))
                    });
                if let Some((r, got)) = ranged {
                    let what = format!("attacker read of {}", f.tables.join(", "));
                    let why = super::keyranges::exposed_why(&what, r, got.exact);
                    for acc in &got.accounts {
                        expose(&mut m, acc, (i, e.ts, wave(i)), why.clone());
                    }
                    ranged_reads.insert(i);
                    continue;
                }
                if f.whole_table_read {
                    let class = crate::sql::class_filter(e.statement.as_deref().unwrap_or(""));
                    let what = if class.is_empty() {
                        format!(
                            "whole-table read of {} by the attacker",
                            f.tables.join(", ")
                        )
                    } else {
                        format!(
                            "read of {} filtered only by {} (a class of rows, counted as the \
                             whole table: an upper bound) by the attacker",
                            f.tables.join(", "),
                            class.join(", ")
                        )
                    };
                    whole.push((i, what));
                } else if super::pages::is_page(a, p, i) {
                    paged.entry(wave(i)).or_default().push(i);
                } else {
                    for acc in &f.account_ids {
                        let why = "attacker statement selected the account's row".into();
                        expose(&mut m, acc, (i, e.ts, wave(i)), why);
                    }
                }
            }
            SourceKind::Push => {}
        }
    }
    // Pages that return as many rows as there were accounts read the table whole;
    // fewer name no account the logs can give.
    let mut partial = Vec::new();
    // A request whose statement's key range named its rows is that page, named.
    let ranged_requests: HashSet<usize> =
        ranged_reads.iter().filter_map(|&s| l.origin(s)).collect();
    for (w, mut idx) in paged {
        idx.retain(|i| !ranged_requests.contains(i));
        if idx.is_empty() {
            continue;
        }
        let (rows, pages, blind) = super::pages::pages_read(ev, &idx);
        let last = *idx.iter().max_by_key(|&&i| (ev[i].ts, i)).expect("a page");
        let known = existing(ev[last].ts).len() as u64;
        if rows >= known {
            whole.push((
                last,
                format!(
                    "{pages} pages of customer data read by the attacker ({rows} rows: the \
                     table page by page)"
                ),
            ));
        } else {
            partial.push(format!(
                "{pages} pages{} ({})",
                if w == 0 {
                    String::new()
                } else {
                    format!(" in wave {w}")
                },
                super::pages::told(rows, blind)
            ));
        }
    }
    if !partial.is_empty() {
        a.notes.push(format!(
            "The attacker read customer tables page by page: {}, fewer rows than the accounts \
             that existed, so which accounts the pages returned the logs cannot say; their \
             ORDER BY and OFFSET (or key ranges), read against the table, do.",
            partial.join("; ")
        ));
    }
    let mut unlisted: BTreeSet<String> = BTreeSet::new();
    for (i, why) in whole {
        let ts = ev[i].ts;
        for acc in existing(ts) {
            if a.roster.is_some() && seen_first.contains_key(acc.as_str()) {
                unlisted.insert(acc.clone());
            }
            let why = format!("{why}; the account existed at that time");
            expose(&mut m, &acc, (i, ts, wave(i)), why);
        }
    }
    if !unlisted.is_empty() {
        a.notes.push(format!(
            "{} accounts that whole-table reads exposed are not in the roster: the evidence \
             shows them before the reads (accounts closed since, or left out of the roster's \
             export; first: {}). They are counted as exposed; affected-customers.csv has no \
             name or contact for them, which the application's records of closed accounts or \
             its backups hold.",
            unlisted.len(),
            unlisted
                .iter()
                .take(5)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let (notes, audiences) = super::received::record(a, &mut m, &existing);
    a.notes.extend(notes);
    for (n, accounts) in audiences {
        a.messages[n].audience = accounts;
    }
    let ev = &a.ing.events;
    for x in m.values_mut() {
        x.waves.remove(&0);
        x.evidence.sort_by_key(|e| (ev[e.0].ts, e.0));
    }
    let unknown: Vec<String> = m
        .values()
        .filter(|x| x.bonus_unknown > 0)
        .map(|x| match x.bonus_span {
            Some((first, _)) => format!(
                "{} (first change {})",
                x.account,
                crate::timeparse::fmt_utc(first)
            ),
            None => x.account.clone(),
        })
        .collect();
    if !unknown.is_empty() {
        a.notes.push(format!(
            "{} account(s) had their balance set to a value by the attacker with no earlier \
             balance in the evidence, changed by an amount the statement does not state, or \
             changed through a request no database evidence covers, so the points it changed \
             are unknown (left empty in \
             bonus-adjustments.csv and out of the points totals): restore these balances from \
             a backup taken before their first change: {}",
            unknown.len(),
            unknown.join(", ")
        ));
    }
    // Attacker statements that changed balances of rows their text does not name.
    let unnamed: Vec<usize> = (0..ev.len())
        .filter(|&i| a.attr[i].is_some())
        .filter(|&i| ev[i].sql.as_ref().is_some_and(|f| f.bonus_unnamed))
        .filter(|i| !ranged_writes.contains(i))
        .collect();
    if let Some(&first) = unnamed.first() {
        let named = unnamed.iter().any(|&i| {
            ev[i]
                .sql
                .as_ref()
                .is_some_and(|f| !f.account_ids.is_empty())
        });
        a.notes.push(format!(
            "{} balance update(s) attributed to the attack changed rows their text does not \
             name, or by no stated amount (the first at {}): {}, and their points are not in \
             the totals. Compare the balance table with a backup taken before then.",
            unnamed.len(),
            crate::timeparse::fmt_utc(ev[first].ts),
            if named {
                "the accounts they name are among the affected accounts with their points \
                 unknown, the rows they do not name are not"
            } else {
                "the accounts they changed are not among the affected accounts"
            }
        ));
    }
    a.affected = m;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::text;

    const MIN: i64 = 60_000_000;

    #[test]
    fn a_sign_up_in_the_evidence_dates_the_account_on_the_evidence_s_clock() {
        // The roster says 01:00 (a minute, or an hour); the evidence signs up at 01:01:29;
        // a dump at 01:00:26 could not return the row.
        let created = 60 * MIN;
        let signup = 60 * MIN + 89_000_000;
        let dump = 60 * MIN + 26_000_000;
        assert!(!existed_at(Some(&signup), created, dump));
        // A dump after the sign-up, or no sign-up in the evidence: the roster holds.
        assert!(existed_at(Some(&signup), created, signup + 1));
        assert!(existed_at(None, created, dump));
        assert!(!existed_at(None, created, created - 1));
        // A date: any time that day.
        let day = 24 * 60 * MIN;
        assert!(!existed_at(Some(&(day + 600 * MIN)), day, day + 10));
        // A roster on a clock three minutes ahead of the evidence's corrected one: its
        // 19:15:00 is the evidence's 19:11:52, and an export at 19:12:30 read the row.
        let created = 19 * 60 * MIN + 15 * MIN + 7_000_000;
        let signup = created - 188_000_000;
        let export = signup + 38_000_000;
        assert!(existed_at(Some(&signup), created, export));
        assert!(!existed_at(None, created, export));
        // A row inserted hours from the roster's time is not the account's creation (a
        // restore, an import): the roster's time holds.
        let restored = created + 300 * MIN;
        assert!(existed_at(Some(&restored), created, created + MIN));
        assert!(!existed_at(
            Some(&(created - 300 * MIN)),
            created,
            created - 200 * MIN
        ));
    }

    #[test]
    fn ids_of_the_roster_s_kind_are_told_from_another_namespace_s() {
        assert_eq!(id_shape("100234"), id_shape("100999"));
        assert_eq!(id_shape("100234"), id_shape("99999"));
        assert_ne!(id_shape("100234"), id_shape("1000000"));
        let uuid = "0f8fad5b-d9cb-469f-a165-70867728950e";
        assert_eq!(id_shape(uuid), IdShape::Uuid);
        assert_eq!(id_shape(&uuid.to_uppercase()), IdShape::Uuid);
        assert_ne!(id_shape(uuid), id_shape("100234"));
        assert_eq!(
            id_shape("cus_NffrFeUfNV2Hib"),
            id_shape("cus_9s6XKzkNRiz8i3")
        );
        assert_ne!(
            id_shape("cus_NffrFeUfNV2Hib"),
            id_shape("usr_9s6XKzkNRiz8i3")
        );
        assert_eq!(id_shape("kU8ZxRvYw1Tq0bCdEfGhIjKlMnO2"), IdShape::Other(28));
        assert_ne!(id_shape("o.kovalenko@example.com"), id_shape("100234"));
    }

    #[test]
    fn a_sign_up_is_an_account_s_first_sighting_inserted_into_customer_data() {
        let p = Profile::default();
        let stmt = |ts: i64, acc: &str, sql: &str, table: &str| {
            let mut e = Event::new(SourceKind::Db, "pg-csvlog");
            e.ts = ts;
            e.account_id = Some(text(acc));
            e.stmt_class = Some(StmtClass::Write);
            e.statement = Some(text(sql));
            e.sql = Some(Box::new(crate::model::SqlFacts {
                tables: vec![text(table)].into(),
                ..Default::default()
            }));
            Box::new(e)
        };
        let ev = vec![
            stmt(
                1,
                "100001",
                "INSERT INTO customers (id) VALUES (100001)",
                "customers",
            ),
            // Seen before its row is inserted: an old account, not a sign-up.
            stmt(
                2,
                "100002",
                "UPDATE customers SET phone = '1' WHERE id = 100002",
                "customers",
            ),
            stmt(
                3,
                "100002",
                "insert into customers (id) values (100002)",
                "customers",
            ),
            // An order is no customer row.
            stmt(
                4,
                "100003",
                "INSERT INTO orders (customer_id) VALUES (100003)",
                "orders",
            ),
        ];
        let s = signups(&ev, &p);
        assert_eq!(s.get("100001"), Some(&1));
        assert_eq!(s.len(), 1, "{s:?}");
    }
}
