//! Pages of a listing: reads of customer data each under the bulk size — statements
//! (`LIMIT 100 OFFSET 4200`, `WHERE id > 4200 ORDER BY id LIMIT 100`) or requests
//! (`/admin/customers?page=43&per_page=100`) — that one actor, page after page, makes
//! into a bulk of the table: the harvest of a script walking an admin panel's customer
//! list, which no single record shows.

use super::Analysis;
use crate::model::{Event, Outcome, SourceKind, StmtClass};
use crate::profile::{Profile, Target};
use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeSet;

const HOUR: i64 = 3_600_000_000;
const DAY: i64 = 86_400_000_000;

/// Fewest distinct pages that make a harvest (a person looking at a few pages of a list
/// is not one, however large the pages).
pub const MIN_PAGES: usize = 5;

/// Query keys (lower case, without `_`, `-`, `[` and `]`: `page[number]`, `pageToken`)
/// that say which page of a listing a request asks for.
pub(super) const PAGE_KEYS: &[&str] = &[
    "page",
    "pagenumber",
    "pageno",
    "pagenum",
    "pageindex",
    "offset",
    "skip",
    "cursor",
    "after",
    "startafter",
    "startindex",
    "pagetoken",
    "nextpagetoken",
    "continuationtoken",
    "pagecursor",
];

/// Query keys that give a page's size.
pub(super) const SIZE_KEYS: &[&str] = &[
    "limit",
    "perpage",
    "pagesize",
    "size",
    "count",
    "take",
    "first",
    "maxresults",
    "top",
    "pagelimit",
];

/// Pages of a size the requests do not give that make a harvest by their number alone
/// (an API's default page is commonly 20 to 50 rows).
pub const UNSIZED_PAGES: usize = 20;

/// A request for a page of a listing: `Some(rows)` where its query names the page and
/// says its size, `Some(None)` where it names the page only. A range of keys the query
/// asks for (`?id=gte.1001&id=lte.1100`, `?since_id=4200&limit=250`) is a page too, of
/// its size or, where it gives none, of the range's width.
pub fn request_page(e: &Event) -> Option<Option<u64>> {
    numbered_page(e).or_else(|| {
        let r = super::apiranges::ranged(e)?;
        let width = match (r.from, r.to) {
            (Some(a), Some(b)) => u64::try_from(b.checked_sub(a)?.checked_add(1)?).ok(),
            _ => None,
        };
        Some(r.limit.or(width))
    })
}

/// A request for a numbered page (or an offset, a cursor) of a listing.
fn numbered_page(e: &Event) -> Option<Option<u64>> {
    asked(e).map(|a| a.size)
}

/// Which page of a listing a request asks for, as its query says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Asked {
    /// The page's number (`page=3`, `pageIndex=2`): counted from 0 or from 1.
    pub number: Option<u64>,
    /// The rows skipped before it (`offset=200`, `skip=200`).
    pub offset: Option<u64>,
    /// Its size (`per_page=100`, `limit=100`).
    pub size: Option<u64>,
}

/// Query keys of `PAGE_KEYS` that number the page.
const NUMBER_KEYS: &[&str] = &["page", "pagenumber", "pageno", "pagenum", "pageindex"];

/// Query keys of `PAGE_KEYS` that give the rows skipped.
const OFFSET_KEYS: &[&str] = &["offset", "skip", "startindex"];

/// The page a request names (by number, offset or cursor), and what its query says of
/// its number, offset and size; None where it names no page.
pub fn asked(e: &Event) -> Option<Asked> {
    let path = e.path.as_deref().unwrap_or("");
    let inline = path.split_once('?').map_or("", |(_, q)| q);
    let pairs = [inline, e.query.as_deref().unwrap_or("")]
        .into_iter()
        .flat_map(|q| q.split('&'))
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| {
            let k: String = (k.chars())
                .filter(|c| !matches!(c, '_' | '-' | '[' | ']' | '%'))
                .map(|c| c.to_ascii_lowercase())
                .collect();
            (k, v)
        });
    let (mut page, mut a) = (false, Asked::default());
    for (k, v) in pairs {
        if PAGE_KEYS.contains(&k.as_str()) && !v.is_empty() {
            page = true;
            let n = v.parse::<u64>().ok();
            if NUMBER_KEYS.contains(&k.as_str()) {
                a.number = n.or(a.number);
            } else if OFFSET_KEYS.contains(&k.as_str()) {
                a.offset = n.or(a.offset);
            }
        } else if SIZE_KEYS.contains(&k.as_str()) {
            a.size = v.parse::<u64>().ok().or(a.size);
        }
    }
    page.then_some(a)
}

/// Whether event `i` is a page of customer data that did not fail: a read statement of a
/// customer table under the bulk size, or a request for a page of a customer listing
/// that names no account (an export route's request is the whole list already).
pub fn is_page(a: &Analysis, p: &Profile, i: usize) -> bool {
    let e = &a.ing.events[i];
    if e.outcome == Outcome::Failure {
        return false;
    }
    match e.kind() {
        SourceKind::Db => {
            e.stmt_class == Some(StmtClass::Read)
                && e.sql.as_ref().is_some_and(|f| f.page_rows > 0)
                && super::detect::customer_table(e, p)
        }
        SourceKind::Gateway => {
            a.targets[i] == Some(Target::CustomerData)
                && e.account_id.is_none()
                && e.method.as_deref().is_none_or(super::enrich::is_safe)
                && !super::detect::export_request(e, p)
                && request_page(e).is_some()
        }
        SourceKind::Push => false,
    }
}

/// The rows of pages, as a finding or note tells them.
pub fn told(rows: u64, blind: usize) -> String {
    match (rows, blind) {
        (r, 0) => format!("{r} rows"),
        (0, _) => "pages of a size the requests do not give".to_string(),
        (r, b) => format!("{r} rows, and {b} pages of a size the requests do not give"),
    }
}

/// Which page a record returned: a statement's text and bound values, a request's path
/// and query (a page repeated — the list's first page at each visit — returns the same
/// rows again).
fn page_key(e: &Event) -> String {
    let mut k = match e.kind() {
        SourceKind::Gateway => format!(
            "{}?{}",
            e.path.as_deref().unwrap_or(""),
            e.query.as_deref().unwrap_or("")
        ),
        _ => e.statement.as_deref().unwrap_or("").to_string(),
    };
    for p in e.params.iter().flatten() {
        k.push('\u{1f}');
        k.push_str(p);
    }
    k
}

/// The rows of a page, where its record says.
fn rows(e: &Event) -> Option<u64> {
    match e.kind() {
        SourceKind::Gateway => request_page(e).flatten(),
        _ => e.sql.as_ref().map(|f| u64::from(f.page_rows)),
    }
}

/// What the distinct pages among `idx` returned: (rows of the pages that say their
/// size, pages, pages that do not).
pub fn distinct_rows(ev: &[Box<Event>], idx: &[usize]) -> (u64, usize, usize) {
    let mut seen = BTreeSet::new();
    let (mut sum, mut blind) = (0, 0);
    for &i in idx {
        if seen.insert(page_key(&ev[i])) {
            match rows(&ev[i]) {
                Some(r) => sum += r,
                None => blind += 1,
            }
        }
    }
    (sum, seen.len(), blind)
}

/// What the pages of one source kind returned, of the kind whose pages say more (a
/// request and its statement are one page, seen twice).
pub fn pages_read(ev: &[Box<Event>], idx: &[usize]) -> (u64, usize, usize) {
    let of = |k: SourceKind| {
        let part: Vec<usize> = idx.iter().copied().filter(|&i| ev[i].kind() == k).collect();
        distinct_rows(ev, &part)
    };
    let (db, gw) = (of(SourceKind::Db), of(SourceKind::Gateway));
    if (db.0, db.1) >= (gw.0, gw.1) {
        db
    } else {
        gw
    }
}

/// One page read: its time, which page (an index among the actor's distinct pages) and
/// its weight.
type Read = (i64, usize, u64);

/// The page reads of `idx` (in time order), each page's key and rows worked out once: a
/// page of unknown size weighs `need / UNSIZED_PAGES` rows.
fn reads(ev: &[Box<Event>], idx: &[usize], need: u64) -> Vec<Read> {
    let mut ids: HashMap<String, usize> = HashMap::new();
    idx.iter()
        .map(|&i| {
            let e = &ev[i];
            let n = ids.len();
            let id = *ids.entry(page_key(e)).or_insert(n);
            (e.ts, id, rows(e).unwrap_or(need / UNSIZED_PAGES as u64))
        })
        .collect()
}

/// The hour of an actor's page reads whose distinct pages weigh the most: (weight,
/// pages, first, last position in `reads`).
fn densest_hour(reads: &[Read]) -> (u64, usize, usize, usize) {
    let mut best = (0, 0, 0, 0);
    let mut counts: HashMap<usize, usize> = HashMap::new();
    let (mut sum, mut lo) = (0u64, 0usize);
    for (hi, &(ts, id, w)) in reads.iter().enumerate() {
        let c = counts.entry(id).or_insert(0);
        *c += 1;
        if *c == 1 {
            sum += w;
        }
        while reads[lo].0 <= ts - HOUR {
            let (_, old, w) = reads[lo];
            let c = counts.get_mut(&old).expect("counted");
            *c -= 1;
            if *c == 0 {
                counts.remove(&old);
                sum -= w;
            }
            lo += 1;
        }
        if sum > best.0 {
            best = (sum, counts.len(), lo, hi);
        }
    }
    best
}

/// The page reads of one actor (`idx`, in time order, of one source kind) that make a
/// harvest: those of the hour whose distinct pages, `MIN_PAGES` or more, return `need`
/// rows or more (or are `UNSIZED_PAGES` of unknown size), unless the actor does that on
/// two other UTC days as well (a partner's nightly sync of the list).
pub fn harvest(ev: &[Box<Event>], idx: &[usize], need: u64) -> Option<Vec<usize>> {
    let bulk = |(sum, pages, _, _): (u64, usize, usize, usize)| sum >= need && pages >= MIN_PAGES;
    let reads = reads(ev, idx, need);
    let best = densest_hour(&reads);
    if !bulk(best) {
        return None;
    }
    let (_, _, lo, hi) = best;
    let day = |r: &Read| r.0.div_euclid(DAY);
    let peak = day(&reads[hi]);
    // In time order, a day's reads are one run.
    let routine = reads
        .chunk_by(|x, y| day(x) == day(y))
        .filter(|run| day(&run[0]) != peak && bulk(densest_hour(run)))
        .count()
        >= 2;
    (!routine).then(|| idx[lo..=hi].to_vec())
}
