//! Case files: the normalized events of an ingest run, written once and reread by every
//! analysis command so large evidence is parsed once. Parquet (typed columns through
//! polars, inventory in a `<case>.inventory.json` sidecar) or JSON Lines (inventory on the
//! first line). Events are written as the ingest streams them, in evidence order (file,
//! then line); reading a case file puts them in time order.

use crate::error::Error;
use crate::ingest::pipeline::Ingested;
use crate::model::{
    Event, FileInfo, FormatName, Outcome, Rejection, SourceKind, SqlFacts, StmtClass, Text,
};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

mod columns;
use columns::to_frame;

/// Schema tag of case files.
pub const SCHEMA: &str = "breachline.case/1";

#[derive(Serialize, Deserialize)]
struct Inventory {
    schema: String,
    files: Vec<FileInfo>,
    rejections: Vec<Rejection>,
}

/// Whether a path looks like a case file we wrote.
pub fn is_case(path: &str) -> bool {
    if path.ends_with(".parquet") {
        return true;
    }
    if path.ends_with(".jsonl") {
        if let Ok(f) = File::open(path) {
            let mut first = String::new();
            let _ = BufReader::new(f).read_line(&mut first);
            return first.contains(SCHEMA);
        }
    }
    false
}

fn err(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Case {
        path: path.display().to_string(),
        message: e.to_string(),
    }
}

/// A case file being written as events arrive, in the order given (the ingest streams
/// them in file, then record order; [`load`] puts them in time order). Written under a
/// `.part` name and renamed when finished, so an interrupted or failed run never leaves
/// a case file that looks whole.
pub struct Writer {
    path: PathBuf,
    /// What is renamed to `path` when finished.
    part: PathBuf,
    /// Taken by `finish`; a writer dropped with it still here removes its part files.
    sink: Option<Sink>,
}

enum Sink {
    /// Events as JSON Lines into a file of their own: the inventory goes first, and is
    /// known only at the end.
    Jsonl { w: BufWriter<File>, events: PathBuf },
    /// Row groups handed to a thread that encodes and writes them while the next
    /// block is parsed (a bounded hand-off keeps at most two groups in memory).
    Parquet {
        tx: std::sync::mpsc::SyncSender<DataFrame>,
        writer: std::thread::JoinHandle<PolarsResult<()>>,
        /// Events waiting to fill a row group.
        #[allow(clippy::vec_box)] // the events' one shape everywhere
        pending: Vec<Box<Event>>,
    },
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    s.into()
}

impl Writer {
    /// Starts a case file at `path` (`.jsonl` for JSON Lines, Parquet otherwise).
    pub fn create(path: &Path) -> Result<Writer, Error> {
        let part = with_suffix(path, ".part");
        let sink = if is_jsonl(path) {
            let events = with_suffix(path, ".events.part");
            let f = File::create(&events).map_err(|e| err(&events, e))?;
            Sink::Jsonl {
                w: BufWriter::new(f),
                events,
            }
        } else {
            let f = File::create(&part).map_err(|e| err(&part, e))?;
            let schema = to_frame(&[])
                .map_err(|e| err(path, e))?
                .schema()
                .as_ref()
                .clone();
            let mut w = ParquetWriter::new(f)
                .with_compression(ParquetCompression::Lz4Raw)
                .batched(&schema)
                .map_err(|e| err(path, e))?;
            let (tx, rx) = std::sync::mpsc::sync_channel::<DataFrame>(0);
            let writer = std::thread::spawn(move || -> PolarsResult<()> {
                for df in rx {
                    w.write_batch(&df)?;
                }
                w.finish()?;
                Ok(())
            });
            Sink::Parquet {
                tx,
                writer,
                pending: Vec::new(),
            }
        };
        Ok(Writer {
            path: path.to_path_buf(),
            part,
            sink: Some(sink),
        })
    }

    /// Appends events.
    #[allow(clippy::vec_box)] // the events' one shape everywhere (see `Ingested::events`)
    pub fn push(&mut self, events: Vec<Box<Event>>) -> Result<(), Error> {
        match &mut self.sink {
            None => Ok(()),
            Some(Sink::Jsonl { w, events: at }) => {
                for e in &events {
                    serde_json::to_writer(&mut *w, e).map_err(|e| err(at, e))?;
                    w.write_all(b"\n").map_err(|e| err(at, e))?;
                }
                Ok(())
            }
            Some(Sink::Parquet { tx, pending, .. }) => {
                pending.extend(events);
                while pending.len() >= ROW_GROUP {
                    let rest = pending.split_off(ROW_GROUP);
                    let group = std::mem::replace(pending, rest);
                    let df = to_frame(&group).map_err(|e| err(&self.path, e))?;
                    // Freeing a group's events visits every string they hold: in
                    // parallel, as they were made.
                    use rayon::prelude::*;
                    group.into_par_iter().for_each(drop);
                    // A closed channel means the writer failed; `finish` returns its error.
                    let _ = tx.send(df);
                }
                Ok(())
            }
        }
    }

    /// Writes the inventory and puts the file in place.
    pub fn finish(mut self, files: &[FileInfo], rejections: &[Rejection]) -> Result<(), Error> {
        let inv = Inventory {
            schema: SCHEMA.into(),
            files: files.to_vec(),
            rejections: rejections.to_vec(),
        };
        let Some(sink) = self.sink.take() else {
            return Ok(());
        };
        let done = self.complete(sink, &inv);
        if done.is_err() {
            let _ = std::fs::remove_file(&self.part);
        }
        done
    }

    fn complete(&self, sink: Sink, inv: &Inventory) -> Result<(), Error> {
        let (path, part) = (&self.path, &self.part);
        match sink {
            Sink::Jsonl { mut w, events } => {
                w.flush().map_err(|e| err(&events, e))?;
                drop(w);
                let copied = (|| {
                    let mut out = BufWriter::new(File::create(part)?);
                    serde_json::to_writer(&mut out, inv)?;
                    out.write_all(b"\n")?;
                    std::io::copy(&mut File::open(&events)?, &mut out)?;
                    out.flush()
                })();
                let _ = std::fs::remove_file(&events);
                copied.map_err(|e| err(path, e))?;
            }
            Sink::Parquet {
                tx,
                writer,
                pending,
            } => {
                if !pending.is_empty() {
                    let _ = tx.send(to_frame(&pending).map_err(|e| err(path, e))?);
                }
                drop(tx);
                writer
                    .join()
                    .unwrap_or_else(|_| {
                        Err(PolarsError::ComputeError("parquet writer panicked".into()))
                    })
                    .map_err(|e| err(path, e))?;
                // The sidecar first: a case file in place always has its inventory.
                let side = sidecar(path);
                std::fs::write(&side, serde_json::to_vec(inv).map_err(|e| err(path, e))?)
                    .map_err(|e| err(&side, e))?;
            }
        }
        std::fs::rename(part, path).map_err(|e| err(path, e))
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        if let Some(sink) = self.sink.take() {
            match sink {
                Sink::Parquet { tx, writer, .. } => {
                    drop(tx);
                    let _ = writer.join();
                }
                Sink::Jsonl { w, events } => {
                    drop(w);
                    let _ = std::fs::remove_file(events);
                }
            }
            let _ = std::fs::remove_file(&self.part);
        }
    }
}

fn is_jsonl(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "jsonl")
}

fn sidecar(path: &Path) -> PathBuf {
    with_suffix(path, ".inventory.json")
}

/// Reads a case file; events come back in their one order (time, source, file, line)
/// whatever order the file holds them in.
pub fn load(path: &Path) -> Result<Ingested, Error> {
    if is_jsonl(path) {
        let f = File::open(path).map_err(|e| err(path, e))?;
        let mut lines = BufReader::new(f).lines();
        let head = lines
            .next()
            .ok_or_else(|| err(path, "empty"))?
            .map_err(|e| err(path, e))?;
        let inv: Inventory = serde_json::from_str(&head).map_err(|e| Error::BadCase {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        let mut events = Vec::new();
        for (i, l) in lines.enumerate() {
            let l = l.map_err(|e| err(path, e))?;
            let mut e: Event =
                serde_json::from_str(&l).map_err(|e| err(path, format!("line {}: {e}", i + 2)))?;
            e.share_strings();
            events.push(Box::new(e));
        }
        crate::ingest::sort_events(&mut events);
        return Ok(Ingested {
            events,
            files: inv.files,
            rejections: inv.rejections,
        });
    }
    let side = sidecar(path);
    let inv: Inventory = serde_json::from_slice(&std::fs::read(&side).map_err(|e| err(&side, e))?)
        .map_err(|e| Error::BadCase {
            path: side.display().to_string(),
            message: e.to_string(),
        })?;
    let mut events = read_parquet(path).map_err(|e| err(path, e))?;
    crate::ingest::sort_events(&mut events);
    Ok(Ingested {
        events,
        files: inv.files,
        rejections: inv.rejections,
    })
}

/// Accessor of one string field of an event.
type StrField = (
    &'static str,
    for<'a> fn(&'a Event) -> Option<&'a str>,
    fn(&mut Event) -> &mut Option<Text>,
);

macro_rules! str_fields {
    ($($f:ident),* ; push: $($p:ident),*) => {
        &[
            $((stringify!($f), |e: &Event| e.$f.as_deref(), |e: &mut Event| &mut e.$f),)*
            $((stringify!($p), |e: &Event| e.push().$p.as_deref(), |e: &mut Event| &mut e.push_mut().$p)),*
        ]
    };
}

/// String columns, in order.
const STR_FIELDS: &[StrField] = str_fields!(
    request_id,
    client_ip,
    user_agent,
    method,
    route,
    path,
    query,
    user,
    account_id,
    principal,
    token_id,
    session_id,
    db_user,
    db_host,
    db_name,
    command,
    object,
    statement;
    push: message_id,
    campaign_id,
    device_id,
    push_target,
    delivery,
    title,
    body
);

/// Rows per Parquet row group: events wait until a group is full, so a case file
/// written block by block holds a block's events and one group's at most.
const ROW_GROUP: usize = 1 << 17;

/// Reads the events of a Parquet case file a row group at a time, so that memory holds
/// the events and one group's columns, never every column of the file beside them.
#[allow(clippy::vec_box)] // the events' one shape everywhere (see `Ingested::events`)
fn read_parquet(path: &Path) -> PolarsResult<Vec<Box<Event>>> {
    let meta = ParquetReader::new(File::open(path)?)
        .get_metadata()?
        .clone();
    let mut events = Vec::with_capacity(meta.num_rows);
    let mut at = 0;
    for rg in &meta.row_groups {
        let mut r = ParquetReader::new(File::open(path)?);
        r.set_metadata(meta.clone());
        let df = r.with_slice(Some((at, rg.num_rows()))).finish()?;
        at += rg.num_rows();
        events.extend(from_frame(&df)?);
    }
    Ok(events)
}

/// Rows per task when a row group's events are built in parallel.
const SLICE: usize = 8192;

/// The events of a frame, built by slices of rows in parallel, in row order.
#[allow(clippy::vec_box)] // the events' one shape everywhere (see `Ingested::events`)
fn from_frame(df: &DataFrame) -> PolarsResult<Vec<Box<Event>>> {
    use rayon::prelude::*;
    let starts: Vec<usize> = (0..df.height()).step_by(SLICE).collect();
    let parts = starts
        .into_par_iter()
        .map(|at| from_rows(&df.slice(at as i64, SLICE)))
        .collect::<PolarsResult<Vec<_>>>()?;
    Ok(parts.into_iter().flatten().collect())
}

#[allow(clippy::vec_box)] // the events' one shape everywhere (see `Ingested::events`)
fn from_rows(df: &DataFrame) -> PolarsResult<Vec<Box<Event>>> {
    let n = df.height();
    let time = df.column("time")?.cast(&DataType::Int64)?;
    let time = time.i64()?;
    let source = df.column("source")?.str()?.clone();
    let format = df.column("format")?.str()?.clone();
    let file = df.column("file")?.u32()?.clone();
    let line = df.column("line")?.u64()?.clone();
    let offset = df.column("offset")?.u64()?.clone();
    let tz = df.column("tz_assumed")?.bool()?.clone();
    let mut events: Vec<Box<Event>> = (0..n)
        .map(|i| {
            let mut e = Event::new(
                source
                    .get(i)
                    .and_then(SourceKind::parse)
                    .unwrap_or(SourceKind::Gateway),
                FormatName::registered(format.get(i).unwrap_or("")),
            );
            e.ts = time.get(i).unwrap_or(0);
            e.file = file.get(i).unwrap_or(0);
            e.line = line.get(i).unwrap_or(0);
            e.offset = offset.get(i).unwrap_or(0);
            e.tz_assumed = tz.get(i).unwrap_or(false);
            Box::new(e)
        })
        .collect();
    for (name, _, slot) in STR_FIELDS {
        let c = df.column(name)?.str()?.clone();
        // Agents repeat whatever their length: shared as the gateway parsers share them.
        let make = match *name {
            "user_agent" => crate::model::intern,
            _ => crate::model::text,
        };
        // Only present values are set: a push field's slot creates the event's push part.
        for (e, v) in events.iter_mut().zip(c.iter()) {
            if let Some(v) = v {
                *slot(e) = Some(make(v));
            }
        }
    }
    let status = df.column("status")?.u32()?.clone();
    let bytes = df.column("bytes")?.u64()?.clone();
    let lat = df.column("latency_ms")?.f64()?.clone();
    let rec = df.column("recipients")?.u64()?.clone();
    let del = df.column("delivered")?.u64()?.clone();
    let fail = df.column("failed")?.u64()?.clone();
    let class = df.column("stmt_class")?.str()?.clone();
    let outcome = df.column("outcome")?.str()?.clone();
    let trunc = df.column("truncated")?.bool()?.clone();
    let params = df.column("params")?.str()?.clone();
    let sql = df.column("sql")?.str()?.clone();
    let extra = df.column("extra")?.str()?.clone();
    for (i, e) in events.iter_mut().enumerate() {
        e.status = status.get(i).map(|s| s as u16);
        e.bytes = bytes.get(i);
        e.latency_ms = lat.get(i);
        let counts = (rec.get(i), del.get(i), fail.get(i));
        if counts != (None, None, None) {
            let p = e.push_mut();
            (p.recipients, p.delivered, p.failed) = counts;
        }
        e.stmt_class = class.get(i).and_then(StmtClass::parse);
        e.outcome = outcome.get(i).and_then(Outcome::parse).unwrap_or_default();
        e.truncated = trunc.get(i).unwrap_or(false);
        e.params = params.get(i).and_then(|p| serde_json::from_str(p).ok());
        e.sql = sql
            .get(i)
            .and_then(|p| serde_json::from_str::<SqlFacts>(p).ok())
            .map(Box::new);
        e.share_strings();
        e.extra = extra
            .get(i)
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
    }
    Ok(events)
}
