//! The ingestion pipeline: detect each input's envelope and format, stream blocks
//! through the framer, parse records in parallel within a block, and account for every
//! record. Two ways through it: [`ingest`] keeps every event (files in parallel, then
//! one sort) for the analyses; [`stream`] (in `stream.rs`) hands each block's events to
//! a sink as they are parsed (files in order) so that a case file is written without
//! holding the evidence in memory. Output order never depends on thread timing.

use super::blocks::{fill, Framed, Reading};
use super::envelope::{self, Envelope};
use super::frame::{Framer, Span};
use super::input::{self, Input};
use super::merge::{duplicates, sort_events, Tally};
use super::redetect::Alternates;
pub use super::stream::stream;
use super::{by_name, detect, head_of, FileCtx, Head, ParseOpts, Parsed, Parser};
use crate::error::Error;
use crate::model::{Event, FileInfo, Rejection};
use crate::sanitize;
use indicatif::ProgressBar;
use rayon::prelude::*;
use std::hash::{BuildHasher, RandomState};
use std::io::Read;
use std::sync::Arc;

/// Size of the head used for detection.
const HEAD: usize = 64 * 1024;

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
    /// Follow symbolic links in directory walks (`--follow`).
    pub follow: bool,
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
pub(super) struct Item {
    pub(super) line: u64,
    pub(super) hash: u64,
    pub(super) ts: i64,
    pub(super) tz_assumed: bool,
    /// A zone-less time in a daylight-saving fold, read as the earlier of its two
    /// instants: seconds to the later one (0 elsewhere). The merge, which sees a file's
    /// records in order, decides which pass of the repeated hour the record is in.
    pub(super) fold: i32,
    pub(super) parsed: Rec,
}

impl Item {
    /// A record rejected before any parser saw it.
    fn rejected(line: u64, reason: String) -> Item {
        Item {
            line,
            hash: 0,
            ts: 0,
            tz_assumed: false,
            fold: 0,
            parsed: Rec::Reject(reason),
        }
    }
}

/// What one framed record yields: almost always one item; an envelope (a CloudWatch
/// export line) may carry several. Blocks are collected straight into an exactly-sized
/// vector of these, without the per-thread vectors and concatenation a flattening
/// collect needs.
pub(super) enum Out {
    One(Item),
    Many(Vec<Item>),
}

impl Out {
    pub(super) fn items(&self) -> &[Item] {
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
pub(super) enum Rec {
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
            // Split by `parse_span` before it gets here; nested batches are not made.
            Parsed::Many(_) => Rec::Reject("nested batch of records".into()),
        }
    }
}

/// One input's inventory entry and parsed records, one vector per block (appending
/// blocks would copy them all again).
pub(super) struct FileOut {
    pub(super) info: FileInfo,
    pub(super) blocks: Vec<Vec<Out>>,
}

/// What every file of a run is read with: the inputs (the progress bar's length set to
/// their size), the forced parser, the parser options and the known clock skews.
pub(super) struct Setup<'a> {
    pub(super) inputs: Vec<Input>,
    forced: Option<&'static dyn Parser>,
    popts: Arc<ParseOpts>,
    clock_skew: &'a [(String, i64)],
    pb: &'a ProgressBar,
    /// The month the evidence's first lines mostly date, found when a syslog file first
    /// needs a year.
    year_hint: std::sync::OnceLock<Option<super::syslog::YearFrom>>,
}

pub(super) fn setup<'a>(
    paths: &[String],
    opts: &'a IngestOpts,
    pb: &'a ProgressBar,
) -> Result<Setup<'a>, Error> {
    let inputs = super::walk::expand(paths, opts.follow);
    pb.set_length(inputs.iter().map(Input::size).sum());
    let forced = match &opts.format {
        Some(n) => Some(by_name(n).ok_or_else(|| Error::NoSuchFormat(n.clone()))?),
        None => None,
    };
    Ok(Setup {
        inputs,
        forced,
        popts: Arc::new(opts.parse.clone()),
        clock_skew: &opts.clock_skew,
        pb,
        year_hint: std::sync::OnceLock::new(),
    })
}

/// Ingests evidence paths, keeping every event.
pub fn ingest(paths: &[String], opts: &IngestOpts, pb: &ProgressBar) -> Result<Ingested, Error> {
    let run = setup(paths, opts, pb)?;
    let outs: Vec<FileOut> = run
        .inputs
        .par_iter()
        .enumerate()
        .map(|(idx, inp)| read_whole(&run, idx as u32, inp))
        .collect::<Result<_, Error>>()?;
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
    let mut files = Vec::with_capacity(outs.len());
    let mut seq = 0usize;
    for out in outs {
        let mut info = out.info;
        let mut tally = Tally::new(info.path.clone(), opts.strict);
        for it in out.blocks.into_iter().flatten().flatten() {
            let d = matches!(it.parsed, Rec::Event(_)) && {
                seq += 1;
                dup.get(seq - 1).is_some_and(|&d| d)
            };
            events.extend(tally.take(it, d, &mut rejections)?);
        }
        tally.close(&mut info)?;
        files.push(info);
    }
    sort_events(&mut events);
    Ok(Ingested {
        events,
        files,
        rejections,
    })
}

/// Reads one input whole: its inventory entry and every block of its records.
pub(super) fn read_whole(run: &Setup, file: u32, inp: &Input) -> Result<FileOut, Error> {
    let mut blocks = Vec::new();
    let keep = &mut |b| {
        blocks.push(b);
        Ok(())
    };
    let info = read_file(run, file, inp, keep)?;
    Ok(FileOut { info, blocks })
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

pub(super) fn read_file(
    run: &Setup,
    file: u32,
    inp: &Input,
    sink: &mut (dyn FnMut(Vec<Out>) -> Result<(), Error> + Send),
) -> Result<FileInfo, Error> {
    let mut info = FileInfo {
        path: inp.display(),
        ..Default::default()
    };
    if let Input::NotEvidence(_, why) = inp {
        info.note = Some(why.to_string());
        return Ok(info);
    }
    if let Input::Archive(p, what, why) = inp {
        // The archive as received: its hash is the one a chain of custody names.
        info.note = Some(what.clone());
        info.error = why.clone();
        match input::hash_file(p) {
            Ok((sha, bytes)) => (info.sha256, info.bytes) = (sha, bytes),
            Err(e) => info.error = Some(format!("cannot read: {e}")),
        }
        return Ok(info);
    }
    let opened = match input::open(inp, run.pb) {
        Ok(o) => o,
        Err(e) => {
            info.error = Some(format!("cannot read: {e}"));
            return Ok(info);
        }
    };
    let state = opened.state.clone();
    let (compression, encoding) = (opened.compression, opened.encoding);
    let mut reader = opened.reader;
    let mut buf: Vec<u8> = Vec::with_capacity(HEAD);
    let mut eof = false;
    let mut io_error: Option<String> = None;
    fill(&mut reader, &mut buf, HEAD, &mut eof, &mut io_error);
    // A byte-order mark (a file saved by Excel or a Windows editor) is no part of the
    // first record; offsets still count it.
    let bom = if buf.starts_with(b"\xEF\xBB\xBF") {
        buf.drain(..3);
        3
    } else {
        0
    };
    let whole_head = String::from_utf8_lossy(&buf[..buf.len().min(HEAD)]).into_owned();
    // A broken first line (binary garbage, a record cut by a crash) hides the format of
    // the lines after it: detected past it, it is read — and rejected — with the rest.
    let lead = match run.forced {
        Some(_) => 0,
        None => super::lead::broken_lead(&whole_head, &run.popts),
    };
    let head_text = super::lead::past(&whole_head, lead).to_string();
    let mut env = envelope::detect(&head_text);
    let mut inner_head = match env {
        Some(e) => envelope::head_messages(e, &head_text),
        None => head_text.clone(),
    };
    // A syslog file may hold many programs: the format is the one detected for the
    // programs with the most lines, and only their lines are read.
    let mut syslog_ctx = None;
    let mut found = None;
    if env == Some(Envelope::Syslog) {
        let (p, tags, msgs) = super::syslog::programs(&head_text, run.forced);
        found = p;
        if let Some(m) = msgs {
            inner_head = m;
        }
        let changed = *run
            .year_hint
            .get_or_init(|| super::syslog::evidence_month(&run.inputs, HEAD));
        syslog_ctx = Some(Arc::new(super::syslog::Ctx {
            tags,
            changed: changed.or_else(|| super::syslog::file_changed(inp)),
        }));
    }
    // An envelope is told by the lines' look, and an application's own lines can look
    // like one (`2024-03-05T14:25:00.412Z INFO …` has an S3 export's time prefix): when
    // no parser knows the messages inside but one knows the lines, the file is read as
    // it is.
    if env.is_some() && found.is_none() && run.forced.is_none() {
        let inner = Head {
            opts: Some(&run.popts),
            ..head_of(&inner_head)
        };
        let raw = Head {
            opts: Some(&run.popts),
            ..head_of(&head_text)
        };
        if detect(&inner).is_none() && detect(&raw).is_some() {
            env = None;
            syslog_ctx = None;
            inner_head = head_text.clone();
        }
    }
    let head = Head {
        opts: Some(&run.popts),
        ..head_of(&inner_head)
    };
    // Detected on all messages when no program's alone was recognized.
    let parser = match found.or_else(|| run.forced.or_else(|| detect(&head))) {
        Some(p) => p,
        None => {
            // A stream cut short is named as such: the part read before the break is
            // too short or too garbled to recognize, and that is not the file's format.
            if let Some(e) = &io_error {
                info.error = Some(stream_error(compression, encoding, buf.len() as u64, e));
            } else if buf.is_empty() {
                info.error = Some("empty file".into());
            } else {
                // The file's own first line, not a message an envelope guess took out.
                let first = whole_head.lines().next().unwrap_or("");
                info.error = Some(if let Some((kind, tool)) = input::other_compression(&buf) {
                    Error::Compressed { kind, tool }.to_string()
                } else {
                    Error::UnknownFormat {
                        head: sanitize::terminal(&sanitize::shorten(first, 80)),
                    }
                    .to_string()
                });
            }
            // Still read to the end so the hash covers the whole file.
            let mut sink = [0u8; 1 << 16];
            while matches!(reader.read(&mut sink), Ok(n) if n > 0) {}
            info.sha256 = input::finish_hash(inp, &state);
            info.bytes = state.lock().map(|s| s.bytes).unwrap_or(0);
            return Ok(info);
        }
    };
    info.source = Some(parser.source());
    info.format = match env {
        Some(e) => format!("{}+{}", e.name(), parser.name()),
        None => parser.name().to_string(),
    };
    info.skew_us = skew_of(&info, run.clock_skew);
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
            Input::Member(m) => m.file_name().to_string(),
            _ => String::new(),
        },
        opts: run.popts.clone(),
        syslog: syslog_ctx,
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
    if let Some(p) = ctx.pg_prefix.as_deref() {
        if p.mixed {
            info.detail = Some(format!(
                "lines of more than one log_line_prefix (a reload changed it, or several \
                 servers' logs are joined): most fit {:?}, the others are read with their own",
                p.template
            ));
        } else if p.inferred {
            info.detail = Some(format!(
                "log_line_prefix read from the lines as {:?}; pass --pg-prefix if it is not the server's",
                p.template
            ));
        }
    }
    if let Some(b) = super::lead::told(lead) {
        info.detail = Some(match info.detail.take() {
            Some(d) => format!("{b}; {d}"),
            None => b,
        });
    }
    // Messages inside a CloudWatch envelope are re-detected too: a stage's format edit
    // shows there first. A syslog file's programs were picked by their formats already.
    let alts = if run.forced.is_none() && env != Some(Envelope::Syslog) {
        Alternates::for_file(parser, &head, &ctx)
    } else {
        Alternates::none()
    };
    let framing = env
        .map(Envelope::framing)
        .unwrap_or_else(|| parser.framing());
    let mut rd = Reading {
        reader,
        framer: Framer::new(framing),
        eof,
        io_error,
        lines: 0,
        last_byte_nl: true,
        header: parser.has_header() && env.is_none(),
        lead,
    };
    // Three stages overlap: while the records of one block are parsed in parallel, the
    // previous block's results go to the sink and the next block is read and framed
    // (both serial, and about a quarter of the wall time when they left the parsing
    // threads idle). Sinks are still called in block order.
    let parse = |b: &Framed| -> Vec<Out> {
        let mut block: Vec<Out> = Vec::new();
        if let Some((line, bytes)) = b.oversize {
            return vec![Out::One(Item::rejected(
                line,
                format!(
                    "record longer than {} MiB ({bytes} bytes to the end of its line): \
                     skipped, not read",
                    super::blocks::MAX_RECORD >> 20
                ),
            ))];
        }
        if info.error.is_some() && ctx.pg_prefix.is_none() && needs_prepare(parser) {
            block.extend(b.spans.iter().map(|sp| {
                Out::One(Item::rejected(
                    sp.line,
                    info.error.clone().unwrap_or_default(),
                ))
            }));
        } else {
            let prov = Prov {
                base: b.base,
                ..prov
            };
            b.spans
                .par_iter()
                .map(|sp| {
                    let is_header = b.header_span == Some(sp.start);
                    parse_span(&b.buf, sp, prov, env, (parser, &alts), &ctx, is_header)
                })
                .collect_into_vec(&mut block);
        }
        block
    };
    let mut cur = rd.next(buf, bom);
    let mut spare: Vec<u8> = Vec::new();
    let mut done: Option<Vec<Out>> = None;
    let mut records = 0u64;
    loop {
        let (next, block) = rayon::join(
            || -> Result<Option<Framed>, Error> {
                if let Some(b) = done.take() {
                    sink(b)?;
                }
                if cur.eof {
                    return Ok(None);
                }
                let mut buf = std::mem::take(&mut spare);
                buf.clear();
                buf.extend_from_slice(&cur.buf[cur.used..]);
                Ok(Some(rd.next(buf, cur.base + cur.used as u64)))
            },
            || parse(&cur),
        );
        records += block.iter().map(|o| o.items().len() as u64).sum::<u64>();
        done = Some(block);
        match next? {
            Some(n) => spare = std::mem::replace(&mut cur, n).buf,
            None => break,
        }
    }
    if let Some(b) = done {
        sink(b)?;
    }
    info.records = records;
    let Reading {
        lines: mut lines_total,
        last_byte_nl,
        io_error,
        ..
    } = rd;
    let base_offset = cur.base + cur.used as u64;
    if !last_byte_nl {
        lines_total += 1;
    }
    info.lines = lines_total;
    if let Some(e) = io_error {
        let what = stream_error(compression, encoding, base_offset, &e);
        info.error = Some(match info.error.take() {
            Some(prev) => format!("{prev}; {what}"),
            None => what,
        });
    }
    info.sha256 = input::finish_hash(inp, &state);
    info.bytes = state.lock().map(|s| s.bytes).unwrap_or(0);
    Ok(info)
}

/// A read error, named by what was being undone when it happened.
fn stream_error(
    compression: Option<input::Compression>,
    encoding: Option<&str>,
    offset: u64,
    e: &str,
) -> String {
    match (compression, encoding) {
        (Some(c), _) => format!(
            "{} stream ends early or is corrupt after {offset} bytes: {e}",
            c.name()
        ),
        (None, Some(enc)) => format!("read error in the {enc} text after {offset} bytes: {e}"),
        (None, None) => format!("read error after {offset} bytes: {e}"),
    }
}

fn needs_prepare(p: &dyn Parser) -> bool {
    p.name() == "pg-stderr"
}

/// The key of the record hash, drawn once per run. Evidence text is attacker-controlled:
/// with a fixed key a record could be crafted offline to collide with a record of
/// another file and be dropped as its duplicate.
static RECORD_KEY: std::sync::LazyLock<RandomState> = std::sync::LazyLock::new(RandomState::new);

fn record_hash(s: &str) -> u64 {
    RECORD_KEY.hash_one(s)
}

/// The times an event may have, µs: from the Unix epoch to the last instant of year
/// 9999, the years RFC 3339 writes. A record outside them (a corrupt or forged epoch,
/// a year 30000) is rejected: it would stretch every time range of the analysis (the
/// activity chart's buckets, wave gaps) from 1970 or to the end of time.
pub const TIME_RANGE: std::ops::RangeInclusive<i64> = 0..=253_402_300_799_999_999;

fn out_of_range(ts: i64, skew: i64) -> String {
    let at = match crate::timeparse::fmt_utc_s(ts) {
        s if s == "invalid" => format!("{ts} µs from the Unix epoch"),
        s => s,
    };
    let skewed = if skew == 0 {
        ""
    } else {
        " once its clock skew is corrected"
    };
    format!("time out of range (before 1970 or after 9999){skewed}: {at}")
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
    (parser, alts): (&dyn Parser, &Alternates),
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
            fold: 0,
            parsed: parsed.into(),
        };
        if let Rec::Event(e) = &mut it.parsed {
            super::client::canonical_addresses(e);
            e.file = prov.file;
            e.line = sp.line;
            e.offset = offset;
            let ts =
                e.ts.checked_add(prov.skew)
                    .filter(|t| TIME_RANGE.contains(t));
            let Some(ts) = ts else {
                it.parsed = Rec::Reject(out_of_range(e.ts, prov.skew));
                return it;
            };
            if e.tz_assumed {
                it.fold = ctx.opts.assume_tz.fold_after(e.ts);
            }
            e.ts = ts;
            it.ts = e.ts;
            it.tz_assumed = e.tz_assumed;
        }
        it
    };
    if is_header {
        return Out::One(mk(Parsed::Skip("header row"), 0));
    }
    // memchr's vector search: `str::contains` walks a record a word at a time.
    if memchr::memchr(0, bytes).is_some()
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
    // A batch: one item per record, each with a hash of its own (the records of one line
    // are not duplicates of each other).
    let split = |p: Parsed, h: u64| match p {
        Parsed::Many(v) if v.is_empty() => vec![mk(Parsed::Skip("empty batch"), h)],
        Parsed::Many(v) => v
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                mk(
                    with_flag(p),
                    h ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                )
            })
            .collect(),
        p => vec![mk(with_flag(p), h)],
    };
    match env {
        None => {
            let h = record_hash(&text);
            let parsed = match parser.parse(&text, ctx) {
                r @ Parsed::Reject(_) => alts.reparse(&text).unwrap_or(r),
                p => p,
            };
            match parsed {
                p @ Parsed::Many(_) => Out::Many(split(p, h)),
                p => Out::One(mk(with_flag(p), h)),
            }
        }
        Some(env) => {
            if text.trim().is_empty() {
                return Out::One(mk(Parsed::Skip("blank line"), 0));
            }
            let is_hdr = env == Envelope::InsightsCsv && sp.line == 1;
            match envelope::unwrap(env, &text, is_hdr, ctx.syslog.as_deref()) {
                Err(r) => Out::One(mk(Parsed::Reject(r), 0)),
                Ok(inner) if inner.is_empty() => Out::One(mk(
                    Parsed::Skip(if is_hdr {
                        "header row"
                    } else if env == Envelope::Syslog {
                        "syslog line of another program"
                    } else {
                        "envelope without events"
                    }),
                    0,
                )),
                Ok(inner) => Out::Many(
                    inner
                        .into_iter()
                        .flat_map(|(msg, ts)| {
                            let h = record_hash(&msg);
                            let parsed = match parser.parse(&msg, ctx) {
                                r @ Parsed::Reject(_) => alts.reparse(&msg).unwrap_or(r),
                                p => p,
                            };
                            let mut items = split(parsed, h);
                            if let Some(ts) = ts {
                                for it in &mut items {
                                    if let Rec::Event(e) = &mut it.parsed {
                                        e.extra
                                            .insert("envelope_time", crate::timeparse::fmt_utc(ts));
                                    }
                                }
                            }
                            items
                        })
                        .collect(),
                ),
            }
        }
    }
}
