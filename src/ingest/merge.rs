//! What the pipeline does with parsed records once a block is back: account for each
//! (event, duplicate, skipped, rejected) into the file's inventory entry, find
//! duplicates across files, and put events in their one order.

use super::pipeline::{FileOut, Item, Out, Rec};
use crate::error::{Error, ParseError};
use crate::model::{Event, FileInfo, Rejection};
use crate::sanitize;
use rayon::prelude::*;

/// The counts of one file's records, filled record by record.
pub(super) struct Tally {
    path: String,
    strict: bool,
    events: u64,
    duplicates: u64,
    skipped: u64,
    rejected: u64,
    tz_assumed: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    /// The latest first-pass time seen in a daylight-saving fold, and whether the file
    /// has gone back into the fold's second pass.
    fold_last: Option<i64>,
    fallen: bool,
    /// Records placed in a fold's second pass.
    folded: u64,
}

/// How far a time in a fold must go back from the file's latest first-pass time to show
/// that the clock was set back (records of one log are out of order by seconds, the
/// change by an hour).
const FOLD_BACK_US: i64 = 5 * 60 * 1_000_000;

impl Tally {
    /// Counts for the file at `path`; with `strict` the first rejected record is fatal.
    pub(super) fn new(path: String, strict: bool) -> Tally {
        Tally {
            path,
            strict,
            events: 0,
            duplicates: 0,
            skipped: 0,
            rejected: 0,
            tz_assumed: 0,
            first_ts: None,
            last_ts: None,
            fold_last: None,
            fallen: false,
            folded: 0,
        }
    }

    /// Accounts for one record (`dup`: it repeats a record of an earlier file); returns
    /// the event to keep. A rejected record is added to `rejections`.
    pub(super) fn take(
        &mut self,
        it: Item,
        dup: bool,
        rejections: &mut Vec<Rejection>,
    ) -> Result<Option<Box<Event>>, Error> {
        match it.parsed {
            Rec::Event(_) if dup => {
                self.duplicates += 1;
                Ok(None)
            }
            Rec::Event(mut e) => {
                let ts = it.ts + self.second_pass(it.ts, it.fold);
                e.ts += ts - it.ts;
                self.events += 1;
                self.tz_assumed += u64::from(it.tz_assumed);
                self.first_ts = Some(self.first_ts.map_or(ts, |f| f.min(ts)));
                self.last_ts = Some(self.last_ts.map_or(ts, |l| l.max(ts)));
                Ok(Some(e))
            }
            Rec::Skip => {
                self.skipped += 1;
                Ok(None)
            }
            Rec::Reject(reason) => {
                self.rejected += 1;
                let r = Rejection {
                    path: self.path.clone(),
                    line: it.line,
                    reason: sanitize::terminal(&reason),
                };
                if self.strict {
                    return Err(Error::Strict(ParseError {
                        path: r.path,
                        line: r.line,
                        reason: r.reason,
                    }));
                }
                rejections.push(r);
                Ok(None)
            }
        }
    }

    /// A zone-less local time in the hour a daylight-saving change back repeats names two
    /// instants; it was read as the earlier (`fold`: seconds to the later). A log is
    /// written in time order, so once its times in the fold go back by minutes, the clock
    /// was set back: that record and the fold's records after it are the second pass, an
    /// hour later. Returns the µs to add.
    fn second_pass(&mut self, ts: i64, fold: i32) -> i64 {
        if fold == 0 {
            if self.fallen {
                // Past the fold: the next fold (a year on) starts afresh.
                (self.fallen, self.fold_last) = (false, None);
            }
            return 0;
        }
        if !self.fallen && self.fold_last.is_some_and(|p| ts < p - FOLD_BACK_US) {
            self.fallen = true;
        }
        if self.fallen {
            self.folded += 1;
            return i64::from(fold) * 1_000_000;
        }
        self.fold_last = Some(self.fold_last.map_or(ts, |p| p.max(ts)));
        0
    }

    /// Writes the counts into the file's inventory entry; with `strict` a file-level
    /// problem is fatal.
    pub(super) fn close(self, info: &mut FileInfo) -> Result<(), Error> {
        info.events += self.events;
        info.duplicates += self.duplicates;
        info.skipped += self.skipped;
        info.rejected += self.rejected;
        info.tz_assumed += self.tz_assumed;
        info.tz_folded += self.folded;
        info.first_ts = self.first_ts;
        info.last_ts = self.last_ts;
        match &info.error {
            Some(err) if self.strict => Err(Error::Strict(ParseError {
                path: info.path.clone(),
                line: 0,
                reason: err.clone(),
            })),
            _ => Ok(()),
        }
    }
}

/// Which parsed events (numbered in file, then record order) repeat a record of an
/// earlier file — overlapping rotations, the same file given twice. Repeats inside one
/// file are distinct occurrences and stay. A parallel sort of (record hash, file) finds
/// them; a hash table of every record cost a cache miss per record.
pub(super) fn duplicates(outs: &[FileOut], total: usize) -> Vec<bool> {
    if outs.len() < 2 {
        return Vec::new();
    }
    let mut keys: Vec<(u64, u32, u32)> = Vec::with_capacity(total);
    for (file, out) in outs.iter().enumerate() {
        let items = out.blocks.iter().flatten().flat_map(Out::items);
        for it in items.filter(|i| matches!(i.parsed, Rec::Event(_))) {
            keys.push((it.hash, file as u32, keys.len() as u32));
        }
    }
    keys.par_sort_unstable_by_key(|k| (k.0, k.1));
    let mut dup = vec![false; keys.len()];
    for run in keys.chunk_by(|a, b| a.0 == b.0) {
        let first = run[0].1;
        for k in run.iter().filter(|k| k.1 != first) {
            dup[k.2 as usize] = true;
        }
    }
    dup
}

/// The order that sorts events by (time, source, file, line), ties in input order
/// (`order[new] = old`), or `None` when they are in order. The keys are read once, in
/// event order, and sorted with the index as their last part (a stable order without a
/// stable sort): sorting the boxes by a key read through each missed the cache twice
/// per comparison.
pub fn sort_order(events: &[Box<Event>]) -> Option<Vec<usize>> {
    if in_order(events) {
        return None;
    }
    let mut keyed: Vec<_> = (events.par_iter().enumerate())
        .map(|(i, e)| (e.sort_key(), i))
        .collect();
    keyed.par_sort_unstable();
    Some(keyed.into_iter().map(|(_, i)| i).collect())
}

/// Sorts events by (time, source, file, line), ties in input order: keys read once and
/// the boxes swapped into place (rayon's cached-key sort, stable by the index it pairs
/// with each key), with no second list of the events.
pub fn sort_events(events: &mut [Box<Event>]) {
    if !in_order(events) {
        events.par_sort_by_cached_key(|e| e.sort_key());
    }
}

/// Whether events are in (time, source, file, line) order already (checked on every
/// core: after a parse or a correction they mostly are).
fn in_order(events: &[Box<Event>]) -> bool {
    (events.par_windows(2)).all(|w| w[0].sort_key() <= w[1].sort_key())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;

    #[test]
    fn sort_keeps_input_order_for_equal_keys() {
        let mk = |ts: i64, line: u64, tag: &str| {
            let mut e = Event::new(SourceKind::Db, "pg-stderr");
            e.ts = ts;
            e.line = line;
            e.command = Some(tag.into());
            Box::new(e)
        };
        // Two events of one envelope line share (time, source, file, line).
        let mut ev: Vec<Box<Event>> = vec![
            mk(30, 3, "c"),
            mk(10, 1, "a1"),
            mk(20, 2, "b"),
            mk(10, 1, "a2"),
            mk(5, 9, "z"),
        ];
        sort_events(&mut ev);
        let order: Vec<&str> = ev.iter().map(|e| e.command.as_deref().unwrap()).collect();
        assert_eq!(order, ["z", "a1", "a2", "b", "c"]);
    }
}
