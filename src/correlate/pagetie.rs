//! Ties the application's page reads to the listing requests they answered, where the
//! statements carry no request id and name no account: a request asks for a page
//! (`?page=3`, `?page=3&per_page=100`, `?offset=200&limit=100`, `?id=gte.5100&id=lte.5199`)
//! and the statement just after it reads that page (`LIMIT 100 OFFSET 200`, `WHERE id
//! BETWEEN 5100 AND 5199`). Without the tie, a script walking an admin panel's customer
//! list page by page leaves the statements that say which rows it got to nobody.

use super::enrich::is_safe;
use crate::model::{Event, KeyRange, Outcome, SourceKind, StmtClass};
use crate::sql::{slice, Slice};
use rayon::prelude::*;
use std::collections::BTreeSet;

/// How long before its request a statement may be logged: a DB that logs whole seconds.
const BEFORE_US: i64 = 1_000_000;

/// How long after its request a statement may come (the application's latency, with
/// room; the request's own logged latency widens it).
const AFTER_US: i64 = 5_000_000;

/// What a listing request asks for.
struct Ask {
    ts: i64,
    at: usize,
    page: Option<super::pages::Asked>,
    range: Option<KeyRange>,
}

/// For each application statement `origin` gives none (`candidate`), the one listing
/// request whose page it read, where the requests that fit it in its window are all of
/// one client address: that address's request nearest before it. Returns the statements
/// tied (their origins set in `origin`).
pub fn tie(
    ev: &[Box<Event>],
    origin: &mut [Option<usize>],
    candidate: impl Fn(&Event) -> bool + Sync,
) -> BTreeSet<usize> {
    let stmts: Vec<usize> = (0..ev.len())
        .into_par_iter()
        .filter(|&i| origin[i].is_none() && page_read(&ev[i]) && candidate(&ev[i]))
        .collect();
    if stmts.is_empty() {
        return BTreeSet::new();
    }
    let asks: Vec<Ask> = (0..ev.len())
        .into_par_iter()
        .filter_map(|g| ask(&ev[g], g))
        .collect();
    if asks.is_empty() {
        return BTreeSet::new();
    }
    let found: Vec<(usize, usize)> = stmts
        .par_iter()
        .filter_map(|&i| Some((i, answered(ev, &asks, &ev[i])?)))
        .collect();
    let mut tied = BTreeSet::new();
    for (i, g) in found {
        origin[i] = Some(g);
        tied.insert(i);
    }
    tied
}

/// A read that pages or ranges over a table.
fn page_read(e: &Event) -> bool {
    e.kind() == SourceKind::Db
        && e.stmt_class == Some(StmtClass::Read)
        && e.outcome != Outcome::Failure
        && e.sql
            .as_ref()
            .is_some_and(|f| f.account_ids.is_empty() && (f.page_rows > 0 || f.key_range.is_some()))
}

/// A gateway request for a page or a range of keys that did not fail and changed nothing.
fn ask(e: &Event, at: usize) -> Option<Ask> {
    if e.kind() != SourceKind::Gateway
        || e.outcome == Outcome::Failure
        || !e.method.as_deref().is_none_or(is_safe)
        || (e.query.is_none() && !e.path.as_deref().is_some_and(|p| p.contains('?')))
    {
        return None;
    }
    let range = super::apiranges::ranged(e);
    let page = if range.is_some() {
        None
    } else {
        super::pages::asked(e)
    };
    (page.is_some() || range.is_some()).then_some(Ask {
        ts: e.ts,
        at,
        page,
        range,
    })
}

/// The request of the one client whose page requests fit the statement in its window.
fn answered(ev: &[Box<Event>], asks: &[Ask], stmt: &Event) -> Option<usize> {
    let lo = asks.partition_point(|a| a.ts < stmt.ts - AFTER_US - MAX_LATENCY_US);
    let cut = std::cell::OnceCell::new();
    let mut best: Option<(i64, usize)> = None;
    let mut client: Option<&str> = None;
    for a in asks[lo..]
        .iter()
        .take_while(|a| a.ts <= stmt.ts + BEFORE_US)
    {
        let req = &ev[a.at];
        if stmt.ts - a.ts > AFTER_US + req.latency_us() {
            continue;
        }
        let s = cut.get_or_init(|| {
            let f = super::definitions::dialect_of(stmt);
            let params = stmt.params.as_deref().unwrap_or_default();
            slice(stmt.statement.as_deref().unwrap_or(""), params, f)
        });
        if !fits(a, *s, stmt) {
            continue;
        }
        let ip = req.client_ip.as_deref().unwrap_or("");
        if client.is_some_and(|c| c != ip) {
            return None;
        }
        client = Some(ip);
        // The request nearest before the statement; else the nearest after it.
        let d = stmt.ts - a.ts;
        let rank = if d >= 0 { d } else { AFTER_US * 4 - d };
        if best.is_none_or(|(r, _)| rank < r) {
            best = Some((rank, a.at));
        }
    }
    best.map(|(_, g)| g)
}

/// Latest a request's logged latency may widen its window by (a request answered after
/// a minute is not answered by a page read).
const MAX_LATENCY_US: i64 = 60_000_000;

/// Whether a statement reads the page a request asked for: the same range of keys, or
/// the same size (a LIMIT one over it: the application's look for a next page) and the
/// offset of the page's number (counted from 0 or 1) or of its offset.
fn fits(a: &Ask, cut: Option<Slice>, stmt: &Event) -> bool {
    let stmt_range = stmt.sql.as_ref().and_then(|f| f.key_range.as_deref());
    if let (Some(r), Some(s)) = (&a.range, stmt_range) {
        if r.from.is_some() || r.to.is_some() {
            let limits = match (r.limit, s.limit) {
                (Some(x), Some(y)) => y == x || y == x + 1,
                _ => true,
            };
            return (r.from, r.to) == (s.from, s.to) && limits;
        }
    }
    let Some(Slice {
        limit: Some(rows),
        offset,
    }) = cut
    else {
        return false;
    };
    let size = a
        .page
        .and_then(|p| p.size)
        .or(a.range.as_ref().and_then(|r| r.limit));
    if size.is_some_and(|n| rows != n && rows != n + 1) {
        return false;
    }
    let n = size.unwrap_or(rows);
    let skipped =
        a.page
            .and_then(|p| p.offset)
            .or(a.range.as_ref().map(|r| r.offset).filter(|&o| o > 0));
    match (skipped, a.page.and_then(|p| p.number)) {
        (Some(o), _) => offset == o,
        (None, Some(p)) => {
            offset == p.saturating_mul(n) || (p >= 1 && offset == (p - 1).saturating_mul(n))
        }
        (None, None) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(ts: i64, ip: &str, target: &str) -> Box<Event> {
        let mut e = Event::new(SourceKind::Gateway, "kong");
        e.ts = ts;
        e.client_ip = Some(ip.into());
        e.method = Some("GET".into());
        let (p, q) = crate::ingest::split_target(target);
        e.path = Some(p);
        e.query = q;
        e.status = Some(200);
        Box::new(e)
    }

    fn statement(ts: i64, sql: &str) -> Box<Event> {
        let mut e = crate::correlate::test_statement(sql);
        e.ts = ts;
        e.statement = Some(sql.into());
        Box::new(e)
    }

    fn ties(ev: &[Box<Event>]) -> Vec<(usize, usize)> {
        let mut origin = vec![None; ev.len()];
        let tied = tie(ev, &mut origin, |_| true);
        tied.into_iter().map(|i| (i, origin[i].unwrap())).collect()
    }

    const S: i64 = 1_000_000;

    #[test]
    fn a_page_read_is_the_request_s_that_asked_for_that_page() {
        let q = "SELECT id, email FROM members ORDER BY id LIMIT 100 OFFSET 200";
        for target in [
            "/admin/members?page=3",
            "/admin/members?page=2",
            "/admin/members?page=3&per_page=100",
            "/admin/members?offset=200&limit=100",
            "/admin/members?pageNumber=2&pageSize=100",
        ] {
            let ev = vec![
                request(10 * S, "203.0.113.9", target),
                statement(10 * S + 40_000, q),
            ];
            assert_eq!(ties(&ev), vec![(1, 0)], "{target}");
        }
        // The application fetches one row more to know whether a next page exists.
        let ev = vec![
            request(10 * S, "203.0.113.9", "/admin/members?page=3&size=100"),
            statement(11 * S, "SELECT * FROM members LIMIT 101 OFFSET 200"),
        ];
        assert_eq!(ties(&ev), vec![(1, 0)]);
        // A range of keys asked and read.
        let ev = vec![
            request(
                10 * S,
                "203.0.113.9",
                "/rest/v1/customers?id=gte.5100&id=lte.5199",
            ),
            statement(
                10 * S,
                "SELECT * FROM customers WHERE id >= 5100 AND id <= 5199",
            ),
        ];
        assert_eq!(ties(&ev), vec![(1, 0)]);
    }

    #[test]
    fn another_page_another_size_or_another_client_ties_nothing() {
        let q = "SELECT id, email FROM members ORDER BY id LIMIT 100 OFFSET 200";
        for (target, at) in [
            ("/admin/members?page=5", 10 * S),
            ("/admin/members?page=3&per_page=20", 10 * S),
            ("/admin/members?offset=100&limit=100", 10 * S),
            ("/admin/members?cursor=abc", 10 * S),
            ("/admin/members?page=3", 3 * S),
            ("/admin/members", 10 * S),
        ] {
            let ev = vec![request(at, "203.0.113.9", target), statement(10 * S, q)];
            assert_eq!(ties(&ev), vec![], "{target}");
        }
        // Two clients asked for the same page in the window: neither is known.
        let ev = vec![
            request(10 * S, "203.0.113.9", "/admin/members?page=3"),
            request(10 * S + 5_000, "198.51.100.7", "/admin/members?page=3"),
            statement(10 * S + 40_000, q),
        ];
        assert_eq!(ties(&ev), vec![]);
        // A statement that names its account is tied by it, not by its page.
        let ev = vec![
            request(10 * S, "203.0.113.9", "/admin/members?page=1"),
            statement(
                10 * S,
                "SELECT * FROM orders WHERE member_id = 7012 ORDER BY id LIMIT 100",
            ),
        ];
        assert_eq!(ties(&ev), vec![]);
    }

    #[test]
    fn the_nearest_request_of_the_one_client_before_the_statement() {
        let ev = vec![
            request(10 * S, "203.0.113.9", "/admin/members?page=1"),
            request(12 * S, "203.0.113.9", "/admin/members?page=1"),
            statement(12 * S + 30_000, "SELECT * FROM members LIMIT 50"),
            request(13 * S, "203.0.113.9", "/admin/members?page=1"),
        ];
        assert_eq!(ties(&ev), vec![(2, 1)]);
    }
}
