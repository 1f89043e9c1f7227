//! The ingestion pipeline: for each input (in parallel across files) detect envelope and
//! format, stream blocks through the framer, parse records in parallel within a block,
//! account for every record, then drop cross-file duplicates and apply clock-skew
//! corrections. Output order never depends on thread timing.

use super::envelope::{self, Envelope};
use super::frame::{Framer, Span};
use super::input::{self, Input};
use super::{by_name, detect, head_of, FileCtx, ParseOpts, Parsed, Parser};
use crate::error::{Error, ParseError};
use crate::model::{Event, FileInfo, Rejection};
use crate::sanitize;
use indicatif::ProgressBar;
use rayon::prelude::*;
use std::hash::{BuildHasher, RandomState};
use std::io::Read;
use std::sync::Arc;

/// Size of the head used for detection.
const HEAD: usize = 64 * 1024;
/// Block size streamed through the framer.
const BLOCK: usize = 8 * 1024 * 1024;

/// Settings of one ingestion run.
#[derive(Debug, Clone, Default)]
pub struct IngestOpts {
    /// Force a format for every file (`--format`).
    pub format: Option<String>,
    /// First rejected record is fatal.
    pub strict: bool,
    /// Parser options.
    pub parse: ParseOpts,
    /// Known clock skews: (file path, file name or format name, µs to add).
    pub clock_skew: Vec<(String, i64)>,
}

/// The result of ingesting evidence: events sorted by (time, source, file, line), the
/// inventory, and every rejected record.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Events, sorted. Boxed: each event is allocated once, by its parser, and never
    /// moved again — blocks, the merge across files and the sort move pointers, where an
    /// inline vector needed a second ~400-byte copy of every event (and its page faults).
    pub events: Vec<Box<Event>>,
    /// One entry per input.
    pub files: Vec<FileInfo>,
    /// Every rejected record.
    pub rejections: Vec<Rejection>,
}

/// One framed record's outcome. An event already carries its provenance and its
/// skew-corrected time (set in the parallel parse); the item repeats the time and the
/// zone flag so that the merge's accounting never has to visit the scattered events.
struct Item {
    line: u64,
    hash: u64,
    ts: i64,
    tz_assumed: bool,
    parsed: Rec,
}

/// What one framed record yields: almost always one item; an envelope (a CloudWatch
/// export line) may carry several. Blocks are collected straight into an exactly-sized
/// vector of these, without the per-thread vectors and concatenation a flattening
/// collect needs.
enum Out {
    One(Item),
    Many(Vec<Item>),
}

impl Out {
    fn items(&self) -> &[Item] {
        match self {
            Out::One(i) => std::slice::from_ref(i),
            Out::Many(v) => v,
        }
    }
}

impl IntoIterator for Out {
    type Item = Item;
    type IntoIter = std::iter::Chain<std::option::IntoIter<Item>, std::vec::IntoIter<Item>>;
    fn into_iter(self) -> Self::IntoIter {
        match self {
            Out::One(i) => Some(i).into_iter().chain(Vec::new()),
            Out::Many(v) => None.into_iter().chain(v),
        }
    }
}

/// A parsed record as a block keeps it: the event stays in the parser's box.
enum Rec {
    Event(Box<Event>),
    Skip,
    Reject(String),
}

impl From<Parsed> for Rec {
    fn from(p: Parsed) -> Rec {
        match p {
            Parsed::Event(e) => Rec::Event(e),
            Parsed::Skip(_) => Rec::Skip,
            Parsed::Reject(r) => Rec::Reject(r),
        }
    }
}

struct FileOut {
    info: FileInfo,
    /// Parsed records, one vector per block (appending blocks would copy them all again).
    blocks: Vec<Vec<Out>>,
}

/// Ingests evidence paths.
pub fn ingest(paths: &[String], opts: &IngestOpts, pb: &ProgressBar) -> Result<Ingested, Error> {
    let inputs = input::expand(paths);
    pb.set_length(inputs.iter().map(Input::size).sum());
    let forced = match &opts.format {
        Some(n) => Some(by_name(n).ok_or_else(|| Error::NoSuchFormat(n.clone()))?),
        None => None,
    };
    let popts = Arc::new(opts.parse.clone());
    let outs: Vec<FileOut> = inputs
        .par_iter()
        .enumerate()
        .map(|(idx, inp)| read_file(idx as u32, inp, forced, &popts, &opts.clock_skew, pb))
        .collect();
    let mut files = Vec::with_capacity(outs.len());
    // One allocation for all events: growing by doubling would copy them repeatedly.
    let total = outs
        .iter()
        .flat_map(|o| o.blocks.iter().flatten())
        .flat_map(Out::items)
        .filter(|i| matches!(i.parsed, Rec::Event(_)))
        .count();
    let mut events = Vec::with_capacity(total);
    let mut rejections = Vec::new();
    let dup = duplicates(&outs, total);
    let mut seq = 0usize;
    for out in outs {
        let mut info = out.info;
        for it in out.blocks.into_iter().flatten().flatten() {
            match it.parsed {
                Rec::Event(e) => {
                    // A record equal to one in an earlier file is a duplicate (overlapping
                    // rotation, the same file twice); repeats inside one file are distinct
                    // occurrences and stay.
                    seq += 1;
                    if dup.get(seq - 1).is_some_and(|&d| d) {
                        info.duplicates += 1;
                        continue;
                    }
                    info.events += 1;
                    if it.tz_assumed {
                        info.tz_assumed += 1;
                    }
                    info.first_ts = Some(info.first_ts.map_or(it.ts, |f| f.min(it.ts)));
                    info.last_ts = Some(info.last_ts.map_or(it.ts, |l| l.max(it.ts)));
                    events.push(e);
                }
                Rec::Skip => info.skipped += 1,
                Rec::Reject(reason) => {
                    info.rejected += 1;
                    let r = Rejection {
                        path: info.path.clone(),
                        line: it.line,
                        reason: sanitize::terminal(&reason),
                    };
                    if opts.strict {
                        return Err(Error::Strict(ParseError {
                            path: r.path,
                            line: r.line,
                            reason: r.reason,
                        }));
                    }
                    rejections.push(r);
                }
            }
        }
        if opts.strict {
            if let Some(err) = &info.error {
                return Err(Error::Strict(ParseError {
                    path: info.path.clone(),
                    line: 0,
                    reason: err.clone(),
                }));
            }
        }
        files.push(info);
    }
    sort_events(&mut events);
    Ok(Ingested {
        events,
        files,
        rejections,
    })
}

/// Which parsed events (numbered in file, then record order) repeat a record of an
/// earlier file — overlapping rotations, the same file given twice. Repeats inside one
/// file are distinct occurrences and stay. A parallel sort of (record hash, file) finds
/// them; a hash table of every record cost a cache miss per record.
fn duplicates(outs: &[FileOut], total: usize) -> Vec<bool> {
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

/// Sorts events by (time, source, file, line), ties in input order (a stable sort of
/// pointers).
fn sort_events(events: &mut [Box<Event>]) {
    if events.is_sorted_by_key(|e| e.sort_key()) {
        return;
    }
    events.par_sort_by_key(|e| e.sort_key());
}

/// Known skew of a file (`--clock-skew`): by format, path, file name or the format
/// inside an envelope.
fn skew_of(info: &FileInfo, clock_skew: &[(String, i64)]) -> i64 {
    clock_skew
        .iter()
        .filter(|(k, _)| {
            *k == info.format
                || *k == info.path
                || info.path.ends_with(&format!("/{k}"))
                || info.format.ends_with(&format!("+{k}"))
        })
        .map(|(_, d)| *d)
        .sum()
}

fn read_file(
    file: u32,
    inp: &Input,
    forced: Option<&'static dyn Parser>,
    popts: &Arc<ParseOpts>,
    clock_skew: &[(String, i64)],
    pb: &ProgressBar,
) -> FileOut {
    let mut info = FileInfo {
        path: inp.display(),
        ..Default::default()
    };
    let mut blocks = Vec::new();
    if let Input::NotEvidence(_, why) = inp {
        info.note = Some(why.to_string());
        return FileOut { info, blocks };
    }
    let opened = match input::open(inp, pb) {
        Ok(o) => o,
        Err(e) => {
            info.error = Some(format!("cannot read: {e}"));
            return FileOut { info, blocks };
        }
    };
    let state = opened.state.clone();
    let mut reader = opened.reader;
    let mut buf: Vec<u8> = Vec::with_capacity(HEAD);
    let mut eof = false;
    let mut io_error: Option<String> = None;
    fill(&mut reader, &mut buf, HEAD, &mut eof, &mut io_error);
    let head_text = String::from_utf8_lossy(&buf[..buf.len().min(HEAD)]).into_owned();
    let env = envelope::detect(&head_text);
    let inner_head = match env {
        Some(e) => envelope::head_messages(e, &head_text),
        None => head_text.clone(),
    };
    let head = head_of(&inner_head);
    let parser = match forced.or_else(|| detect(&head)) {
        Some(p) => p,
        None => {
            if buf.is_empty() {
                info.error = Some("empty file".into());
            } else {
                let first = head.first_line();
                info.error = Some(
                    Error::UnknownFormat {
                        path: info.path.clone(),
                        head: sanitize::terminal(&sanitize::shorten(first, 80)),
                    }
                    .to_string(),
                );
            }
            // Still read to the end so the hash covers the whole file.
            let mut sink = [0u8; 1 << 16];
            while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
            info.sha256 = input::finish_hash(inp, &state);
            info.bytes = state.lock().map(|s| s.bytes).unwrap_or(0);
            return FileOut { info, blocks };
        }
    };
    info.source = Some(parser.source());
    info.format = match env {
        Some(e) => format!("{}+{}", e.name(), parser.name()),
        None => parser.name().to_string(),
    };
    info.skew_us = skew_of(&info, clock_skew);
    let prov = Prov {
        base: 0,
        file,
        skew: info.skew_us,
    };
    let mut ctx = FileCtx {
        file_name: match inp {
            Input::File(p) => p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            _ => String::new(),
        },
        opts: popts.clone(),
        ..Default::default()
    };
    if parser.has_header() {
        let first = head.first_line();
        ctx.header = super::pgaudit::csv_split(first).map(|h| {
            h.into_iter()
                .map(|c| c.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
                .collect()
        });
    }
    if let Err(e) = parser.prepare(&mut ctx, &head) {
        info.error = Some(e);
    }
    let framing = env
        .map(Envelope::framing)
        .unwrap_or_else(|| parser.framing());
    let mut framer = Framer::new(framing);
    let mut base_offset: u64 = 0;
    let mut first_record = true;
    let mut lines_total: u64 = 0;
    let mut last_byte_nl = true;
    loop {
        if !eof {
            fill(&mut reader, &mut buf, BLOCK, &mut eof, &mut io_error);
        }
        let (spans, used) = framer.split(&buf, eof);
        lines_total += memchr::memchr_iter(b'\n', &buf[..used]).count() as u64;
        if used > 0 {
            last_byte_nl = buf[used - 1] == b'\n';
        }
        let header_span = if first_record && parser.has_header() && env.is_none() {
            spans.first().map(|s| s.start)
        } else {
            None
        };
        if !spans.is_empty() {
            first_record = false;
        }
        let mut block: Vec<Out> = Vec::new();
        if info.error.is_some() && ctx.pg_prefix.is_none() && needs_prepare(parser) {
            block.extend(spans.iter().map(|sp| {
                Out::One(Item {
                    line: sp.line,
                    hash: 0,
                    ts: 0,
                    tz_assumed: false,
                    parsed: Rec::Reject(info.error.clone().unwrap_or_default()),
                })
            }));
        } else {
            spans
                .par_iter()
                .map(|sp| {
                    parse_span(
                        &buf,
                        sp,
                        Prov {
                            base: base_offset,
                            ..prov
                        },
                        env,
                        parser,
                        &ctx,
                        header_span == Some(sp.start),
                    )
                })
                .collect_into_vec(&mut block);
        }
        info.records += block.iter().map(|o| o.items().len() as u64).sum::<u64>();
        blocks.push(block);
        buf.drain(..used);
        base_offset += used as u64;
        if eof {
            break;
        }
    }
    if !last_byte_nl {
        lines_total += 1;
    }
    info.lines = lines_total;
    if let Some(e) = io_error {
        let what = if opened.gzip {
            format!("gzip stream ends early or is corrupt after {base_offset} bytes: {e}")
        } else {
            format!("read error after {base_offset} bytes: {e}")
        };
        info.error = Some(match info.error.take() {
            Some(prev) => format!("{prev}; {what}"),
            None => what,
        });
    }
    info.sha256 = input::finish_hash(inp, &state);
    info.bytes = state.lock().map(|s| s.bytes).unwrap_or(0);
    FileOut { info, blocks }
}

fn needs_prepare(p: &dyn Parser) -> bool {
    p.name() == "pg-stderr"
}

fn fill(
    r: &mut dyn Read,
    buf: &mut Vec<u8>,
    want: usize,
    eof: &mut bool,
    err: &mut Option<String>,
) {
    // Reads straight into the block buffer (no bounce buffer); a short read means EOF.
    buf.reserve(want);
    match r.take(want as u64).read_to_end(buf) {
        Ok(n) if n < want => *eof = true,
        Ok(_) => {}
        Err(e) => {
            *err = Some(e.to_string());
            *eof = true;
        }
    }
}

/// The key of the record hash, drawn once per run. Evidence text is attacker-controlled:
/// with a fixed key a record could be crafted offline to collide with a record of
/// another file and be dropped as its duplicate.
static RECORD_KEY: std::sync::LazyLock<RandomState> = std::sync::LazyLock::new(RandomState::new);

fn record_hash(s: &str) -> u64 {
    RECORD_KEY.hash_one(s)
}

/// Where a block's events come from and the known skew of their file's clock.
#[derive(Clone, Copy)]
struct Prov {
    file: u32,
    skew: i64,
    /// Offset of the block in the (decompressed) stream.
    base: u64,
}

fn parse_span(
    buf: &[u8],
    sp: &Span,
    prov: Prov,
    env: Option<Envelope>,
    parser: &dyn Parser,
    ctx: &FileCtx,
    is_header: bool,
) -> Out {
    let bytes = &buf[sp.start..sp.end];
    let (text, lossy) = match std::str::from_utf8(bytes) {
        Ok(t) => (std::borrow::Cow::Borrowed(t), false),
        Err(_) => (String::from_utf8_lossy(bytes), true),
    };
    let offset = prov.base + sp.start as u64;
    let mk = |parsed: Parsed, hash: u64| {
        let mut it = Item {
            line: sp.line,
            hash,
            ts: 0,
            tz_assumed: false,
            parsed: parsed.into(),
        };
        if let Rec::Event(e) = &mut it.parsed {
            e.file = prov.file;
            e.line = sp.line;
            e.offset = offset;
            e.ts += prov.skew;
            it.ts = e.ts;
            it.tz_assumed = e.tz_assumed;
        }
        it
    };
    if is_header {
        return Out::One(mk(Parsed::Skip("header row"), 0));
    }
    if text.contains('\0')
        && text
            .chars()
            .filter(|c| c.is_control() && !c.is_whitespace())
            .count()
            > 8
    {
        return Out::One(mk(Parsed::Reject("binary data".into()), 0));
    }
    let with_flag = |mut p: Parsed| {
        if lossy {
            if let Parsed::Event(e) = &mut p {
                e.extra.insert("invalid_utf8", "replaced");
            }
        }
        p
    };
    match env {
        None => {
            let h = record_hash(&text);
            Out::One(mk(with_flag(parser.parse(&text, ctx)), h))
        }
        Some(env) => {
            if text.trim().is_empty() {
                return Out::One(mk(Parsed::Skip("blank line"), 0));
            }
            let is_hdr = env == Envelope::InsightsCsv && sp.line == 1;
            match envelope::unwrap(env, &text, is_hdr) {
                Err(r) => Out::One(mk(Parsed::Reject(r), 0)),
                Ok(inner) if inner.is_empty() => Out::One(mk(
                    Parsed::Skip(if is_hdr {
                        "header row"
                    } else {
                        "envelope without events"
                    }),
                    0,
                )),
                Ok(inner) => Out::Many(
                    inner
                        .into_iter()
                        .map(|(msg, ts)| {
                            let h = record_hash(&msg);
                            let mut p = with_flag(parser.parse(&msg, ctx));
                            if let (Parsed::Event(e), Some(ts)) = (&mut p, ts) {
                                e.extra
                                    .insert("envelope_time", crate::timeparse::fmt_utc(ts));
                            }
                            mk(p, h)
                        })
                        .collect(),
                ),
            }
        }
    }
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
