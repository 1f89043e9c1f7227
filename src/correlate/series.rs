//! Series of files of one format: a log and its rotations are one series, and files of
//! one format that cover the same hours are series side by side — two destinations of
//! one server with different line prefixes, or two web servers. The copy finder looks
//! for copies between series, and between two series of one format only when they
//! mirror each other.

use crate::model::{Event, FormatName, SourceKind};
use rayon::prelude::*;

/// How far a file may begin before the last file of its series ended and still continue
/// it: lines buffered across a rotation straddle the cut.
pub const ROTATION_SLACK_US: i64 = 60_000_000;

/// Fewest records two series of one format must share to be copies of each other.
pub const MIRROR_MIN: usize = 3;

/// A file's records of one format: the file, the format, the kind, first and last time.
type Span = (u32, FormatName, SourceKind, i64, i64);

/// The series of the evidence's files, and which series of one format mirror each other.
#[derive(Debug, Default)]
pub struct Series {
    /// (file, format) → series, sorted by (file, format).
    ids: Vec<(u32, FormatName, u32)>,
    /// Per series: its kind and format.
    pub of: Vec<(SourceKind, FormatName)>,
    /// Series of one format whose records are copies of each other, as (lower, higher).
    mirrors: Vec<(u32, u32)>,
    /// Every (kind, format) of the evidence, of any kind, in order.
    pub formats: Vec<(SourceKind, FormatName)>,
}

impl Series {
    /// The series of the records of `kinds`: files in order of their first record, each
    /// continuing the first series of its format whose last file ended before it began.
    /// Also lists the formats of every kind (`formats`).
    pub fn of(ev: &[Box<Event>], kinds: &[SourceKind]) -> Series {
        let merge = |mut a: Vec<Span>, b: Vec<Span>| {
            for s in b {
                match a.iter_mut().find(|x| x.0 == s.0 && x.1 == s.1) {
                    Some(x) => (x.3, x.4) = (x.3.min(s.3), x.4.max(s.4)),
                    None => a.push(s),
                }
            }
            a
        };
        // Every event is looked at once: the spans give every format of the evidence too.
        let spans = ev
            .par_iter()
            .fold(Vec::new, |mut v: Vec<Span>, e| {
                match v
                    .iter_mut()
                    .rev()
                    .find(|x| x.0 == e.file && x.1 == e.format)
                {
                    Some(x) => (x.3, x.4) = (x.3.min(e.ts), x.4.max(e.ts)),
                    None => v.push((e.file, e.format, e.kind(), e.ts, e.ts)),
                }
                v
            })
            .reduce(Vec::new, merge);
        let mut formats: Vec<(SourceKind, FormatName)> = spans.iter().map(|s| (s.2, s.1)).collect();
        formats.sort_unstable();
        formats.dedup();
        let mut s =
            Series::from_spans(spans.into_iter().filter(|s| kinds.contains(&s.2)).collect());
        s.formats = formats;
        s
    }

    fn from_spans(mut spans: Vec<Span>) -> Series {
        // By format, then by first record (the file breaks ties: runs repeat).
        spans.sort_unstable_by_key(|s| (s.1, s.3, s.0));
        let mut s = Series::default();
        // Per series of the current format: its id and where its last file ended.
        let mut open: Vec<(u32, i64)> = Vec::new();
        for (i, &(file, format, kind, first, last)) in spans.iter().enumerate() {
            if i > 0 && spans[i - 1].1 != format {
                open.clear();
            }
            let id = match open
                .iter_mut()
                .find(|(_, end)| *end - ROTATION_SLACK_US <= first)
            {
                Some((id, end)) => {
                    *end = last;
                    *id
                }
                None => {
                    let id = s.of.len() as u32;
                    s.of.push((kind, format));
                    open.push((id, last));
                    id
                }
            };
            s.ids.push((file, format, id));
        }
        s.ids.sort_unstable_by_key(|x| (x.0, x.1));
        s
    }

    /// The series of an event (0 for a file and format the series were not made of).
    pub fn id(&self, e: &Event) -> u32 {
        self.ids
            .binary_search_by(|x| (x.0, x.1).cmp(&(e.file, e.format)))
            .map_or(0, |i| self.ids[i].2)
    }

    /// How many series a kind has.
    pub fn count(&self, kind: SourceKind) -> usize {
        self.of.iter().filter(|(k, _)| *k == kind).count()
    }

    /// Whether some format has more than one series: only then do copies between series
    /// of one format need counting first.
    pub fn side_by_side(&self) -> bool {
        self.one_format_twice(0..self.of.len() as u32)
    }

    /// Whether series of one format are among `ids` (a group of records of one key).
    pub fn one_format_twice(&self, ids: impl Iterator<Item = u32>) -> bool {
        let mut seen: Vec<u32> = Vec::new();
        for id in ids {
            if !seen.contains(&id) {
                let format = self.of[id as usize].1;
                if seen.iter().any(|&s| self.of[s as usize].1 == format) {
                    return true;
                }
                seen.push(id);
            }
        }
        false
    }

    /// Whether a record of series `b` can be a copy of one of series `a`: other
    /// formats always; one format's series only when they mirror each other.
    pub fn can_copy(&self, a: u32, b: u32) -> bool {
        a != b
            && (self.of[a as usize].1 != self.of[b as usize].1
                || self.mirrors.binary_search(&(a.min(b), a.max(b))).is_ok())
    }

    /// Takes the counts of records shared between series (`shared`, per pair) and the
    /// records of each series that can be matched (`records`): two series of one
    /// format mirror each other when at least half the records of the smaller one have
    /// a copy in the other. Two web servers behind one balancer share a request now and
    /// then; two destinations of one server share nearly every record.
    pub fn set_mirrors(&mut self, shared: &[((u32, u32), usize)], records: &[usize]) {
        self.mirrors = shared
            .iter()
            .filter(|((a, b), n)| {
                let smaller = records[*a as usize].min(records[*b as usize]);
                self.of[*a as usize].1 == self.of[*b as usize].1
                    && *n >= MIRROR_MIN
                    && 2 * n >= smaller
            })
            .map(|(p, _)| *p)
            .collect();
        self.mirrors.sort_unstable();
    }

    /// The formats that have series mirroring each other, with how many of its series.
    pub fn mirrored(&self) -> Vec<(SourceKind, FormatName, usize)> {
        let mut out: Vec<(SourceKind, FormatName, usize)> = Vec::new();
        for &(a, _) in &self.mirrors {
            let (kind, format) = self.of[a as usize];
            if !out.iter().any(|(_, f, _)| *f == format) {
                let n = self.of.iter().filter(|x| x.1 == format).count();
                out.push((kind, format, n));
            }
        }
        out.sort_unstable_by_key(|x| (x.0, x.1));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000_000;

    #[test]
    fn rotations_continue_a_series_and_parallel_files_start_their_own() {
        let pg = FormatName::from("pg-stderr");
        let csv = FormatName::from("pg-csvlog");
        let g = SourceKind::Db;
        let s = Series::from_spans(vec![
            // One stream rotated daily, its second file starting a few seconds before
            // the first ended.
            (0, pg, g, 0, 24 * H),
            (1, pg, g, 24 * H - 5_000_000, 48 * H),
            // A second destination with another prefix, rotated every twelve hours.
            (2, pg, g, 0, 12 * H),
            (3, pg, g, 12 * H, 24 * H),
            (4, pg, g, 24 * H, 36 * H),
            // Another format: a series of its own even over the same hours.
            (5, csv, g, 0, 48 * H),
        ]);
        let id = |file: u32, format: FormatName| {
            let mut e = Event::new(g, format);
            e.file = file;
            s.id(&e)
        };
        assert_eq!(id(0, pg), id(1, pg));
        assert_ne!(id(0, pg), id(2, pg));
        assert_eq!(id(2, pg), id(3, pg));
        assert_eq!(id(3, pg), id(4, pg));
        assert_eq!(s.of.len(), 3);
        assert!(s.side_by_side());
        assert_eq!(s.count(g), 3);
        // Until counted as mirrors, the two series of pg-stderr are not copies.
        let (a, b) = (id(0, pg), id(2, pg));
        assert!(!s.can_copy(a, b));
        assert!(s.can_copy(a, id(5, csv)));
        assert!(!s.can_copy(a, a));
    }

    #[test]
    fn series_mirror_when_half_the_smaller_is_shared() {
        let ng = FormatName::from("nginx-combined");
        let g = SourceKind::Gateway;
        let mut s = Series::from_spans(vec![(0, ng, g, 0, H), (1, ng, g, 0, H), (2, ng, g, 0, H)]);
        // 0 and 1 share 60 of 100 records; 0 and 2 a coincidental 4 of 90; 1 and 2 two.
        s.set_mirrors(&[((0, 1), 60), ((0, 2), 4), ((1, 2), 2)], &[100, 120, 90]);
        assert!(s.can_copy(0, 1) && s.can_copy(1, 0));
        assert!(!s.can_copy(0, 2) && !s.can_copy(1, 2));
        assert_eq!(s.mirrored(), [(g, ng, 3)]);
        // Two records shared out of two are too few to tell.
        s.set_mirrors(&[((1, 2), 2)], &[100, 2, 2]);
        assert!(!s.can_copy(1, 2));
    }
}
