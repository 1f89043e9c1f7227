//! The request-id join: for each database statement tagged with a request id, the
//! gateway request that carries it. Made once, before the clock-skew estimate that
//! needs it, and carried through the re-sort to the link indexes that need it again.

use crate::model::{Event, SourceKind};
use foldhash::{HashMap, HashMapExt};
use rayon::prelude::*;

/// Per event: for a DB statement, the first gateway event with its request id.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RequestJoin(Vec<Option<u32>>);

impl RequestJoin {
    /// Joins the (time-ordered) events: the first gateway event of a request id is its
    /// request. Lookups run in parallel against the map of request ids.
    pub fn build(ev: &[Box<Event>]) -> RequestJoin {
        let requests: Vec<(&str, u32)> = (0..ev.len())
            .into_par_iter()
            .filter(|&i| ev[i].kind() == SourceKind::Gateway)
            .filter_map(|i| Some((ev[i].request_id.as_deref()?, i as u32)))
            .collect();
        let mut first: HashMap<&str, u32> = HashMap::with_capacity(requests.len());
        for (r, i) in requests {
            first.entry(r).or_insert(i);
        }
        RequestJoin(
            ev.par_iter()
                .map(|e| match e.kind() {
                    SourceKind::Db => e.request_id.as_deref().and_then(|r| first.get(r).copied()),
                    _ => None,
                })
                .collect(),
        )
    }

    /// The gateway event DB event `i` carries the request id of.
    pub fn request_of(&self, i: usize) -> Option<usize> {
        self.0.get(i).copied().flatten().map(|g| g as usize)
    }

    /// The join after the events were reordered, or database records dropped:
    /// `order[new] = old`. Gateway times are never corrected, so each request's first
    /// gateway event stays the same event while it is kept; a statement whose gateway
    /// event was dropped loses its link (build the join again when gateway copies go).
    pub fn reordered(&self, order: &[usize]) -> RequestJoin {
        const GONE: u32 = u32::MAX;
        let mut new_of = vec![GONE; self.0.len()];
        for (new, &old) in order.iter().enumerate() {
            new_of[old] = new as u32;
        }
        RequestJoin(
            order
                .iter()
                .map(|&old| {
                    self.0[old]
                        .map(|g| new_of[g as usize])
                        .filter(|&g| g != GONE)
                })
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: SourceKind, ts: i64, req: &str) -> Box<Event> {
        let mut e = Event::new(kind, "t");
        e.ts = ts;
        e.request_id = Some(req.into());
        Box::new(e)
    }

    #[test]
    fn statements_join_their_first_request_and_follow_a_reorder() {
        let events = vec![
            ev(SourceKind::Db, 1, "b"),
            ev(SourceKind::Gateway, 2, "a"),
            ev(SourceKind::Gateway, 3, "a"),
            ev(SourceKind::Db, 4, "a"),
            ev(SourceKind::Db, 5, "zz"),
            ev(SourceKind::Gateway, 6, "b"),
        ];
        let j = RequestJoin::build(&events);
        let got: Vec<Option<usize>> = (0..6).map(|i| j.request_of(i)).collect();
        assert_eq!(got, [Some(5), None, None, Some(1), None, None]);
        // Move the first statement to the end (a corrected clock).
        let r = j.reordered(&[1, 2, 3, 4, 5, 0]);
        let got: Vec<Option<usize>> = (0..6).map(|i| r.request_of(i)).collect();
        assert_eq!(got, [None, None, Some(0), None, None, Some(4)]);
    }
}
