//! Case files: the normalized events of an ingest run, written once and reread by every
//! analysis command so large evidence is parsed once. Parquet (typed columns through
//! polars, inventory in a `<case>.inventory.json` sidecar) or JSON Lines (inventory on the
//! first line).

use crate::error::Error;
use crate::ingest::pipeline::Ingested;
use crate::model::{Event, FileInfo, Outcome, Rejection, SourceKind, SqlFacts, StmtClass, Text};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

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

/// Writes a case file by extension.
pub fn save(ing: &Ingested, path: &Path) -> Result<(), Error> {
    let inv = Inventory {
        schema: SCHEMA.into(),
        files: ing.files.clone(),
        rejections: ing.rejections.clone(),
    };
    if path.extension().is_some_and(|e| e == "jsonl") {
        let f = File::create(path).map_err(|e| err(path, e))?;
        let mut w = BufWriter::new(f);
        serde_json::to_writer(&mut w, &inv).map_err(|e| err(path, e))?;
        w.write_all(b"\n").map_err(|e| err(path, e))?;
        for e in &ing.events {
            serde_json::to_writer(&mut w, e).map_err(|e| err(path, e))?;
            w.write_all(b"\n").map_err(|e| err(path, e))?;
        }
        return w.flush().map_err(|e| err(path, e));
    }
    let f = File::create(path).map_err(|e| err(path, e))?;
    write_parquet(&ing.events, f).map_err(|e| err(path, e))?;
    let side = sidecar(path);
    std::fs::write(&side, serde_json::to_vec(&inv).map_err(|e| err(path, e))?)
        .map_err(|e| err(&side, e))?;
    Ok(())
}

fn sidecar(path: &Path) -> std::path::PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".inventory.json");
    s.into()
}

/// Reads a case file.
pub fn load(path: &Path) -> Result<Ingested, Error> {
    if path.extension().is_some_and(|e| e == "jsonl") {
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
            let e: Event =
                serde_json::from_str(&l).map_err(|e| err(path, format!("line {}: {e}", i + 2)))?;
            events.push(Box::new(e));
        }
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
    let f = File::open(path).map_err(|e| err(path, e))?;
    let df = ParquetReader::new(f).finish().map_err(|e| err(path, e))?;
    let events = from_frame(&df).map_err(|e| err(path, e))?;
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
    ($($f:ident),*) => {
        &[$((stringify!($f), |e: &Event| e.$f.as_deref(), |e: &mut Event| &mut e.$f)),*]
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
    statement,
    message_id,
    campaign_id,
    device_id,
    push_target,
    delivery,
    title,
    body
);

/// Rows per Parquet row group: columns are built for one group at a time, so writing a
/// case file needs memory for one group, not for a copy of every event.
const ROW_GROUP: usize = 1 << 17;

/// Writes events as Parquet, one row group at a time: a second thread encodes and
/// writes each group while the next one's columns are built (a bounded hand-off keeps
/// at most two groups in memory).
fn write_parquet(ev: &[Box<Event>], f: File) -> PolarsResult<()> {
    let schema = to_frame(&[])?.schema().as_ref().clone();
    let mut w = ParquetWriter::new(f)
        .with_compression(ParquetCompression::Lz4Raw)
        .batched(&schema)?;
    let (tx, rx) = std::sync::mpsc::sync_channel::<DataFrame>(0);
    std::thread::scope(|s| {
        let writer = s.spawn(move || -> PolarsResult<()> {
            for df in rx {
                w.write_batch(&df)?;
            }
            w.finish()?;
            Ok(())
        });
        for chunk in ev.chunks(ROW_GROUP) {
            let df = to_frame(chunk)?;
            if tx.send(df).is_err() {
                break; // the writer failed; its error is returned below
            }
        }
        drop(tx);
        writer
            .join()
            .unwrap_or_else(|_| Err(PolarsError::ComputeError("parquet writer panicked".into())))
    })
}

fn static_format(name: &str) -> &'static str {
    crate::ingest::registry()
        .iter()
        .map(|p| p.name())
        .find(|n| *n == name)
        .unwrap_or("unknown")
}

#[allow(clippy::vec_box)] // the events' one shape everywhere (see `Ingested::events`)
fn from_frame(df: &DataFrame) -> PolarsResult<Vec<Box<Event>>> {
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
                static_format(format.get(i).unwrap_or("")),
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
        for (e, v) in events.iter_mut().zip(c.iter()) {
            *slot(e) = v.map(Text::from);
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
        e.recipients = rec.get(i);
        e.delivered = del.get(i);
        e.failed = fail.get(i);
        e.stmt_class = class.get(i).and_then(StmtClass::parse);
        e.outcome = outcome.get(i).and_then(Outcome::parse).unwrap_or_default();
        e.truncated = trunc.get(i).unwrap_or(false);
        e.params = params.get(i).and_then(|p| serde_json::from_str(p).ok());
        e.sql = sql
            .get(i)
            .and_then(|p| serde_json::from_str::<SqlFacts>(p).ok())
            .map(Box::new);
        e.extra = extra
            .get(i)
            .and_then(|p| serde_json::from_str(p).ok())
            .unwrap_or_default();
    }
    Ok(events)
}
