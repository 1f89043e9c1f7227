//! Records of one source written in several log formats. A database that logs to more
//! than one destination (PostgreSQL's `log_destination = 'stderr,csvlog,jsonlog'`)
//! writes each statement once per destination; a web server with two `access_log`
//! lines (combined for the operators, JSON for the log shipper), or two gateway layers
//! that both log the client, write each request twice. Counted as often as it was
//! logged, every bonus change would add up two or three times and every finding's
//! request count double. A record that matches a record of another format of its kind
//! — for statements the same statement and values, same user and database where both
//! say; for requests the same client address, method, path, status, agent and request
//! id where both say — within `TOLERANCE_US` once each clock is corrected (widened by a
//! request's logged latency), is one event, counted as a duplicate.

use super::series::Series;
use super::Analysis;
use crate::model::{Event, FormatName, Outcome, SourceKind, Text};
use rayon::prelude::*;
use std::collections::{BTreeMap, VecDeque};
use std::hash::{BuildHasher, RandomState};

/// Largest time difference of two copies of one record: formats that log whole seconds
/// against milliseconds, plus what separate clock corrections leave.
pub const TOLERANCE_US: i64 = 2_000_000;

/// Longest request duration that widens the window of two gateway copies: a layer that
/// logs when a request ended (nginx's `$time_local`) and one that logs when it began
/// (API Gateway's `requestTime`, Kong's `started_at`) differ by the request's latency,
/// and the slow requests are the exports.
pub const LATENCY_CAP_US: i64 = 60_000_000;

/// How much a record's logged latency widens its window (none for statements).
fn latency_us(e: &Event) -> i64 {
    e.latency_us().min(LATENCY_CAP_US)
}

/// What was dropped: per format, records that matched a kept record of another format.
#[derive(Debug, Default, PartialEq)]
pub struct Dropped {
    /// (kind, format) → records dropped as copies.
    pub by_format: BTreeMap<(SourceKind, String), usize>,
    /// Old indices of the dropped events, ascending.
    pub events: Vec<usize>,
    /// Every (kind, format) of the evidence, in order.
    pub formats: Vec<(SourceKind, FormatName)>,
    /// Formats with files side by side that mirror each other, with their series.
    pub mirrored: Vec<(SourceKind, FormatName, usize)>,
    /// (kept, dropped) old indices of every copy, ascending.
    pub pairs: Vec<(usize, usize)>,
}

/// What a record says, for matching, appended to `out` (`false` when it says too little
/// to be matched). A statement: its canonical form with its values; a database record
/// that is no statement (connections, failed logins): its command and object. A
/// request: its client address and method; the path and the rest are compared by
/// `compatible`, since layers write the path differently (API Gateway's stage prefix).
fn key_into(e: &Event, out: &mut String) -> bool {
    match e.kind() {
        SourceKind::Db => {
            out.push('d');
            match &e.statement {
                Some(s) => crate::sql::canonical_into(s, e.params.as_deref().unwrap_or(&[]), out),
                None => {
                    out.push('\u{2}');
                    out.push_str(e.command.as_deref().unwrap_or(""));
                    out.push('\u{0}');
                    out.push_str(e.object.as_deref().unwrap_or(""));
                }
            }
            true
        }
        SourceKind::Gateway => {
            let (Some(ip), Some(method)) = (&e.client_ip, &e.method) else {
                return false;
            };
            out.push('g');
            out.push_str(ip);
            out.push('\u{0}');
            let at = out.len();
            out.push_str(method);
            out.as_mut_str()[at..].make_ascii_uppercase();
            true
        }
        SourceKind::Push => false,
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
fn fingerprint(e: &Event, buf: &mut String) -> Option<(u64, u64)> {
    buf.clear();
    if !key_into(e, buf) {
        return None;
    }
    let [a, b] = &*FINGERPRINT_KEYS;
    Some((a.hash_one(buf.as_str()), b.hash_one(buf.as_str())))
}

/// Whether two records of one key can be one: what both name agrees.
fn compatible(a: &Event, b: &Event) -> bool {
    use crate::model::Text;
    let same = |x: &Option<Text>, y: &Option<Text>| match (x, y) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => true,
    };
    let exact = |x: &Option<Text>, y: &Option<Text>| match (x, y) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    };
    match a.kind() {
        SourceKind::Gateway => {
            let status = match (a.status, b.status) {
                (Some(x), Some(y)) => x == y,
                _ => true,
            };
            status
                && exact(&a.request_id, &b.request_id)
                && exact(&a.user_agent, &b.user_agent)
                && exact(&a.account_id, &b.account_id)
                && exact(&a.query, &b.query)
                && same_path(a.path.as_deref(), b.path.as_deref())
        }
        _ => {
            let outcome = a.outcome == b.outcome
                || a.outcome == Outcome::Unknown
                || b.outcome == Outcome::Unknown;
            outcome && same(&a.db_user, &b.db_user) && same(&a.db_name, &b.db_name)
        }
    }
}

/// Whether two layers' paths of a request can be one: equal, or one is the other under
/// a single leading segment (API Gateway's stage, `/prod/admin/x` against `/admin/x`).
fn same_path(a: Option<&str>, b: Option<&str>) -> bool {
    let (Some(a), Some(b)) = (a, b) else {
        return true;
    };
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    match long.strip_suffix(short) {
        Some("") => true,
        Some(prefix) => {
            short.starts_with('/')
                && prefix.starts_with('/')
                && prefix.len() > 1
                && !prefix[1..].contains('/')
        }
        None => false,
    }
}

/// How much a copy carries: the one with more kept.
fn richness(e: &Event) -> usize {
    let sub_second = e.ts % 1_000_000 != 0;
    let count = |fields: &[bool]| fields.iter().filter(|x| **x).count();
    match e.kind() {
        SourceKind::Gateway => count(&[
            e.request_id.is_some(),
            e.route.is_some(),
            e.account_id.is_some(),
            e.principal.is_some(),
            e.user_agent.is_some(),
            e.latency_ms.is_some(),
            e.bytes.is_some(),
            e.token_id.is_some() || e.session_id.is_some(),
            sub_second,
        ]),
        _ => count(&[
            e.db_user.is_some(),
            e.db_name.is_some(),
            e.db_host.is_some(),
            e.session_id.is_some(),
            e.request_id.is_some(),
            e.params.is_some(),
            sub_second,
        ]),
    }
}

/// Per series, how much its records carry on average (thousandths of a field): of two
/// copies, the one of the richer series is kept. Decided per series, not per record: a
/// record-by-record choice kept a transfer's balance update from one format and its
/// ledger row from the other, and the operation's two halves then sat in two sessions
/// that no longer read as one operation (its points counted twice). Each entry carries
/// its record's richness, found while the event was at hand: visiting the events again
/// in fingerprint order missed the cache on every one.
fn ranks(order: &[Entry], n: usize) -> Vec<u64> {
    let per: Vec<(u64, u64)> = order
        .par_iter()
        .fold(
            || vec![(0u64, 0u64); n],
            |mut acc, &(.., id, rich)| {
                let x = &mut acc[id as usize];
                x.0 += rich as u64;
                x.1 += 1;
                acc
            },
        )
        .reduce(
            || vec![(0u64, 0u64); n],
            |mut a, b| {
                for (x, y) in a.iter_mut().zip(b) {
                    x.0 += y.0;
                    x.1 += y.1;
                }
                a
            },
        );
    per.into_iter()
        .map(|(sum, count)| sum * 1000 / count.max(1))
        .collect()
}

/// A record kept so far, and the series it is from.
struct Slot {
    kept: usize,
    ts: i64,
    series: u32,
}

/// One fingerprint, time, event index, the record's series and its `richness`: the sort
/// key of the sweep (series and richness ride along, found once while the event is at
/// hand; the index is unique, so they never decide the order).
type Entry = ((u64, u64), i64, u32, u32, u8);

/// What sweeps give: the dropped indices or, when counting, for each record found more
/// than once every pair of the series that hold it.
#[derive(Default)]
struct Swept {
    dropped: Vec<usize>,
    joined: Vec<(u32, u32)>,
    /// (kept, dropped) of every copy: what the kept record lacks, its copy may carry.
    pairs: Vec<(usize, usize)>,
}

impl Swept {
    fn merge(mut self, other: Swept) -> Swept {
        self.dropped.extend(other.dropped);
        self.joined.extend(other.joined);
        self.pairs.extend(other.pairs);
        self
    }
}

/// One sweep's working space, reused from group to group by a worker: most groups are
/// two records, and allocating a sweep's lists for each was a third of its time.
#[derive(Default)]
struct Scratch {
    slots: Vec<Slot>,
    /// Per slot: the series of the record it was first kept from.
    owner: Vec<u32>,
    /// Per series of the group, the kept records it has not matched yet.
    open: Vec<(u32, VecDeque<usize>)>,
    /// Emptied queues, for the next group's series.
    spare: Vec<VecDeque<usize>>,
    /// (slot, series) of each record that joined a kept one.
    joins: Vec<(usize, u32)>,
    /// (slot, dropped record).
    copies: Vec<(usize, usize)>,
}

impl Scratch {
    fn reset(&mut self) {
        self.slots.clear();
        self.owner.clear();
        for (_, mut q) in self.open.drain(..) {
            q.clear();
            self.spare.push(q);
        }
        self.joins.clear();
        self.copies.clear();
    }
}

/// The records of one key in time order: each joins the earliest kept record of another
/// series it can be a copy of (`Series::can_copy`; when `counting`, any other series),
/// or is kept. Each series has a queue of the kept records it has not matched yet, so a
/// record looks at candidates only. What it finds is added to `out`.
fn sweep(
    ev: &[Box<Event>],
    group: &[Entry],
    series: &Series,
    rank: &[u64],
    counting: bool,
    (s, out): &mut (Scratch, Swept),
) {
    // Most keys are held by one record, or by records of one series: nothing to join.
    if !group.iter().any(|x| x.3 != group[0].3) {
        return;
    }
    s.reset();
    let Scratch {
        slots,
        owner,
        open,
        spare,
        joins,
        copies,
    } = s;
    for &(.., id, _) in group {
        if !open.iter().any(|(f, _)| *f == id) {
            open.push((id, spare.pop().unwrap_or_default()));
        }
    }
    // The farthest a kept record can be from a later copy.
    let reach = match ev[group[0].2 as usize].kind() {
        SourceKind::Gateway => TOLERANCE_US + LATENCY_CAP_US,
        _ => TOLERANCE_US,
    };
    for &(_, ts, i, id, _) in group {
        let i = i as usize;
        let e = &ev[i];
        let Some(queue) = open.iter_mut().find(|(f, _)| *f == id).map(|(_, q)| q) else {
            continue;
        };
        while queue.front().is_some_and(|&s| slots[s].ts < ts - reach) {
            queue.pop_front();
        }
        // A copy is in another file: one file holds two formats only when its format
        // changed mid-file (an edited access-log template), and then its records are
        // different requests.
        let found = queue.iter().position(|&s| {
            // What the slot knows first, then its event.
            if !counting && !series.can_copy(owner[s], id) {
                return false;
            }
            let k = &ev[slots[s].kept];
            k.file != e.file
                && ts - slots[s].ts <= TOLERANCE_US + latency_us(k).max(latency_us(e))
                && compatible(k, e)
        });
        match found.and_then(|k| queue.remove(k)) {
            Some(n) => {
                if counting {
                    joins.push((n, id));
                }
                let s = &mut slots[n];
                let gone = if rank[id as usize] > rank[s.series as usize] {
                    s.series = id;
                    std::mem::replace(&mut s.kept, i)
                } else {
                    i
                };
                out.dropped.push(gone);
                copies.push((n, gone));
            }
            None => {
                slots.push(Slot {
                    kept: i,
                    ts,
                    series: id,
                });
                owner.push(id);
                let slot = slots.len() - 1;
                for (_, queue) in open.iter_mut().filter(|(f, _)| *f != id) {
                    queue.push_back(slot);
                }
            }
        }
    }
    out.pairs
        .extend(copies.iter().map(|&(n, d)| (slots[n].kept, d)));
    joins.sort_unstable();
    for one in joins.chunk_by(|a, b| a.0 == b.0) {
        let held = std::iter::once(owner[one[0].0]).chain(one.iter().map(|j| j.1));
        for (n, a) in held.clone().enumerate() {
            for b in held.clone().skip(n + 1) {
                out.joined.push((a.min(b), a.max(b)));
            }
        }
    }
}

/// Sweeps every group, each worker in its own space; the results' order is the
/// workers', and is sorted by the caller.
fn sweep_all<'g>(
    ev: &[Box<Event>],
    groups: impl ParallelIterator<Item = &'g [Entry]>,
    series: &Series,
    rank: &[u64],
    counting: bool,
) -> Swept {
    groups
        .fold(
            || (Scratch::default(), Swept::default()),
            |mut acc, g| {
                sweep(ev, g, series, rank, counting, &mut acc);
                acc
            },
        )
        .map(|(_, out)| out)
        .reduce(Swept::default, Swept::merge)
}

/// Finds the copies among database records, and among gateway records, of two or more
/// series of their kind (none when each kind has one): formats, or files of one format
/// side by side that mirror each other.
pub fn find(ev: &[Box<Event>]) -> Dropped {
    let mut series = Series::of(ev, &[SourceKind::Db, SourceKind::Gateway]);
    let formats = std::mem::take(&mut series.formats);
    let kinds: Vec<SourceKind> = [SourceKind::Db, SourceKind::Gateway]
        .into_iter()
        .filter(|&k| series.count(k) > 1)
        .collect();
    if kinds.is_empty() {
        return Dropped {
            formats,
            ..Dropped::default()
        };
    }
    // The groups' order never reaches the output: each group's drops are sorted below.
    let mut order: Vec<Entry> = (0..ev.len())
        .into_par_iter()
        .filter(|&i| kinds.contains(&ev[i].kind()))
        .map_init(String::new, |buf, i| {
            let e = &ev[i];
            let rich = richness(e) as u8;
            fingerprint(e, buf).map(|f| (f, e.ts, i as u32, series.id(e), rich))
        })
        .flatten_iter()
        .collect();
    order.par_sort_unstable();
    let rank = ranks(&order, series.of.len());
    let groups = || order.par_chunk_by(|a, b| a.0 == b.0);
    if series.side_by_side() {
        // Series of one format are copies of each other only if they share most
        // records: counted first with every pair of series allowed.
        // Only a group holding two series of one format can add to their count.
        let twice = groups().filter(|g| series.one_format_twice(g.iter().map(|x| x.3)));
        let mut shared = sweep_all(ev, twice, &series, &rank, true).joined;
        shared.par_sort_unstable();
        let shared: Vec<((u32, u32), usize)> = shared
            .chunk_by(|a, b| a == b)
            .map(|c| (c[0], c.len()))
            .collect();
        let mut records = vec![0usize; series.of.len()];
        for &(.., id, _) in &order {
            records[id as usize] += 1;
        }
        series.set_mirrors(&shared, &records);
    }
    let Swept {
        dropped: mut events,
        mut pairs,
        ..
    } = sweep_all(ev, groups(), &series, &rank, false);
    events.par_sort_unstable();
    pairs.par_sort_unstable();
    let mut by_format = BTreeMap::new();
    for &i in &events {
        *by_format
            .entry((ev[i].kind(), ev[i].format.as_str().to_string()))
            .or_default() += 1;
    }
    Dropped {
        by_format,
        events,
        formats,
        mirrored: series.mirrored(),
        pairs,
    }
}

/// Fills what a kept gateway record does not say from its dropped copies: the layer that
/// logs the signed-in principal may be the poorer one otherwise (API Gateway's preset in
/// front of a JSON-logging proxy), and the identity is not to be lost with it. A kept
/// database record likewise takes the client host, user and database its copy names: a
/// series whose prefix logs no host learns it from its session's connection line, and
/// that line's copy may be the one the other series kept.
fn merge_identities(ev: &mut [Box<Event>], pairs: &[(usize, usize)]) {
    fn fill(mine: &mut Option<Text>, theirs: &Option<Text>) {
        if mine.is_none() {
            mine.clone_from(theirs);
        }
    }
    for &(k, d) in pairs {
        // The kept record mutably, its copy shared (two indices of one slice).
        let (to, from) = match k.cmp(&d) {
            std::cmp::Ordering::Less => {
                let (a, b) = ev.split_at_mut(d);
                (&mut a[k], &b[0])
            }
            std::cmp::Ordering::Greater => {
                let (a, b) = ev.split_at_mut(k);
                (&mut b[0], &a[d])
            }
            std::cmp::Ordering::Equal => continue,
        };
        match to.kind() {
            SourceKind::Db => {
                fill(&mut to.db_host, &from.db_host);
                fill(&mut to.db_user, &from.db_user);
                fill(&mut to.db_name, &from.db_name);
            }
            SourceKind::Gateway => {
                fill(&mut to.principal, &from.principal);
                fill(&mut to.user, &from.user);
                fill(&mut to.account_id, &from.account_id);
                fill(&mut to.route, &from.route);
                fill(&mut to.token_id, &from.token_id);
                fill(&mut to.session_id, &from.session_id);
            }
            SourceKind::Push => {}
        }
    }
}

/// What `drop_copies` left.
pub struct Kept {
    /// The kept events' old indices: `old[new] = old`.
    pub old: Vec<usize>,
    /// Whether gateway records were among the dropped: links to them are gone.
    pub gateway: bool,
    /// DB formats whose records matched copies of each other's (both ways round): one
    /// server's clock, so a correction found for one holds for the other.
    pub same_clock: Vec<(&'static str, &'static str)>,
}

/// Drops the copies `find` finds from the analysis: events and their targets, each
/// file's counts (a copy counts as a duplicate), and a note. `None` when nothing was
/// dropped.
pub fn drop_copies(a: &mut Analysis) -> Option<Kept> {
    let d = find(&a.ing.events);
    if d.events.is_empty() {
        return None;
    }
    for kind in [SourceKind::Db, SourceKind::Gateway] {
        let mine: Vec<(&str, usize)> = d
            .by_format
            .iter()
            .filter(|((k, _), _)| *k == kind)
            .map(|((_, f), n)| (f.as_str(), *n))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let n: usize = mine.iter().map(|(_, n)| n).sum();
        let counts: Vec<String> = mine.iter().map(|(f, n)| format!("{n} {f}")).collect();
        let names: Vec<&str> = d
            .formats
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, f)| f.as_str())
            .collect();
        let (source, what, writer, same) = match kind {
            SourceKind::Db => (
                "database",
                "records",
                "a server that logs to several destinations writes each record to each",
                "the same statement and values, the same user and database where both name them",
            ),
            _ => (
                "gateway",
                "requests",
                "a server with several access logs, or two layers that both log the client, \
                 writes each request to each",
                "the same client address, method, path (a stage prefix aside), and status, user \
                 agent and request id where both name them",
            ),
        };
        // A format with files side by side is named with its series.
        let side = |f: &str| {
            d.mirrored
                .iter()
                .find(|(k, m, _)| *k == kind && m.as_str() == f)
                .map(|(.., n)| *n)
        };
        let listed: Vec<String> = names
            .iter()
            .map(|f| match side(f) {
                Some(n) => format!("{f} in {n} series of files over the same hours"),
                None => f.to_string(),
            })
            .collect();
        let (held, other) = match names.iter().any(|f| side(f).is_some()) {
            false => ("in more than one format", "another format"),
            true => ("more than once", "another format or series"),
        };
        let held = format!("{held} ({})", listed.join(", "));
        a.notes.push(format!(
            "The {source} evidence holds the same {what} {held}: {writer}. \
             {n} {what} matched a record of {other} — {same}, within {} s{} once \
             each clock was corrected — and count once, as duplicates, keeping the copy of \
             the format whose records carry more fields ({}).",
            TOLERANCE_US / 1_000_000,
            match kind {
                SourceKind::Gateway => format!(
                    " (more by a request's logged latency, up to {} s)",
                    LATENCY_CAP_US / 1_000_000
                ),
                _ => String::new(),
            },
            counts.join(", ")
        ));
    }
    merge_identities(&mut a.ing.events, &d.pairs);
    let mut gone = vec![false; a.ing.events.len()];
    for &i in &d.events {
        gone[i] = true;
        let f = &mut a.ing.files[a.ing.events[i].file as usize];
        f.events = f.events.saturating_sub(1);
        f.duplicates += 1;
    }
    let gateway = d.by_format.keys().any(|(k, _)| *k == SourceKind::Gateway);
    let ev = &a.ing.events;
    let db = |i: usize| (ev[i].kind() == SourceKind::Db).then(|| ev[i].format.as_str());
    let mut same_clock: Vec<(&'static str, &'static str)> = (d.pairs.iter())
        .filter_map(|&(k, x)| Some((db(k)?, db(x)?)))
        .filter(|(k, x)| k != x)
        .flat_map(|(k, x)| [(k, x), (x, k)])
        .collect();
    same_clock.sort_unstable();
    same_clock.dedup();
    let old: Vec<usize> = (0..gone.len()).filter(|&i| !gone[i]).collect();
    super::reindex(a, &old);
    Some(Kept {
        old,
        gateway,
        same_clock,
    })
}

#[cfg(test)]
#[path = "dedupe_tests.rs"]
mod tests;
