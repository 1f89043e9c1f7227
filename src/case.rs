//! Case files: the normalized events of an ingest run, written once and reread by every
//! analysis command so large evidence is parsed once. Parquet (typed columns through
//! polars, inventory in a `<case>.inventory.json` sidecar) or JSON Lines (inventory on the
//! first line).

use crate::error::Error;
use crate::ingest::pipeline::Ingested;
use crate::model::{Event, FileInfo, Rejection, SourceKind, SqlFacts};
use polars::prelude::*;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::Path;

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
    let mut df = to_frame(&ing.events).map_err(|e| err(path, e))?;
    let f = File::create(path).map_err(|e| err(path, e))?;
    ParquetWriter::new(f)
        .finish(&mut df)
        .map_err(|e| err(path, e))?;
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
            events.push(e);
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

macro_rules! str_cols {
    ($($f:ident),*) => { &[$(stringify!($f)),*] };
}

/// String columns, in order.
const STR_COLS: &[&str] = str_cols!(
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

fn get_str<'a>(e: &'a Event, name: &str) -> Option<&'a str> {
    let v = match name {
        "request_id" => &e.request_id,
        "client_ip" => &e.client_ip,
        "user_agent" => &e.user_agent,
        "method" => &e.method,
        "route" => &e.route,
        "path" => &e.path,
        "query" => &e.query,
        "user" => &e.user,
        "account_id" => &e.account_id,
        "principal" => &e.principal,
        "token_id" => &e.token_id,
        "session_id" => &e.session_id,
        "db_user" => &e.db_user,
        "db_host" => &e.db_host,
        "db_name" => &e.db_name,
        "command" => &e.command,
        "object" => &e.object,
        "statement" => &e.statement,
        "message_id" => &e.message_id,
        "campaign_id" => &e.campaign_id,
        "device_id" => &e.device_id,
        "push_target" => &e.push_target,
        "delivery" => &e.delivery,
        "title" => &e.title,
        "body" => &e.body,
        _ => return None,
    };
    v.as_deref()
}

fn set_str(e: &mut Event, name: &str, v: Option<String>) {
    let slot = match name {
        "request_id" => &mut e.request_id,
        "client_ip" => &mut e.client_ip,
        "user_agent" => &mut e.user_agent,
        "method" => &mut e.method,
        "route" => &mut e.route,
        "path" => &mut e.path,
        "query" => &mut e.query,
        "user" => &mut e.user,
        "account_id" => &mut e.account_id,
        "principal" => &mut e.principal,
        "token_id" => &mut e.token_id,
        "session_id" => &mut e.session_id,
        "db_user" => &mut e.db_user,
        "db_host" => &mut e.db_host,
        "db_name" => &mut e.db_name,
        "command" => &mut e.command,
        "object" => &mut e.object,
        "statement" => &mut e.statement,
        "message_id" => &mut e.message_id,
        "campaign_id" => &mut e.campaign_id,
        "device_id" => &mut e.device_id,
        "push_target" => &mut e.push_target,
        "delivery" => &mut e.delivery,
        "title" => &mut e.title,
        "body" => &mut e.body,
        _ => return,
    };
    *slot = v;
}

fn to_frame(ev: &[Event]) -> PolarsResult<DataFrame> {
    let mut cols: Vec<Column> = Vec::new();
    let ts: Vec<i64> = ev.iter().map(|e| e.ts).collect();
    cols.push(
        Series::new("time".into(), ts)
            .cast(&DataType::Datetime(TimeUnit::Microseconds, None))?
            .into(),
    );
    cols.push(
        Series::new(
            "source".into(),
            ev.iter().map(|e| e.kind().as_str()).collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "format".into(),
            ev.iter().map(|e| e.format).collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(Series::new("file".into(), ev.iter().map(|e| e.file).collect::<Vec<_>>()).into());
    cols.push(Series::new("line".into(), ev.iter().map(|e| e.line).collect::<Vec<_>>()).into());
    cols.push(
        Series::new(
            "offset".into(),
            ev.iter().map(|e| e.offset).collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "tz_assumed".into(),
            ev.iter().map(|e| e.tz_assumed).collect::<Vec<_>>(),
        )
        .into(),
    );
    for name in STR_COLS {
        let v: Vec<Option<&str>> = ev.iter().map(|e| get_str(e, name)).collect();
        cols.push(Series::new((*name).into(), v).into());
    }
    cols.push(
        Series::new(
            "status".into(),
            ev.iter()
                .map(|e| e.status.map(|s| s as u32))
                .collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "bytes".into(),
            ev.iter().map(|e| e.bytes).collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "latency_ms".into(),
            ev.iter().map(|e| e.latency_ms).collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "recipients".into(),
            ev.iter().map(|e| e.recipients).collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "delivered".into(),
            ev.iter().map(|e| e.delivered).collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "failed".into(),
            ev.iter().map(|e| e.failed).collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "stmt_class".into(),
            ev.iter()
                .map(|e| e.stmt_class.map(|c| c.as_str()))
                .collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "outcome".into(),
            ev.iter().map(|e| e.outcome.as_str()).collect::<Vec<_>>(),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "truncated".into(),
            ev.iter().map(|e| e.truncated).collect::<Vec<_>>(),
        )
        .into(),
    );
    let js = |f: &dyn Fn(&Event) -> Option<String>| ev.iter().map(f).collect::<Vec<_>>();
    cols.push(
        Series::new(
            "params".into(),
            js(&|e| {
                e.params
                    .as_ref()
                    .and_then(|p| serde_json::to_string(p).ok())
            }),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "sql".into(),
            js(&|e| e.sql.as_ref().and_then(|p| serde_json::to_string(p).ok())),
        )
        .into(),
    );
    cols.push(
        Series::new(
            "extra".into(),
            js(&|e| {
                if e.extra.is_empty() {
                    None
                } else {
                    serde_json::to_string(&e.extra).ok()
                }
            }),
        )
        .into(),
    );
    DataFrame::new(ev.len(), cols)
}

fn static_format(name: &str) -> &'static str {
    crate::ingest::registry()
        .iter()
        .map(|p| p.name())
        .find(|n| *n == name)
        .unwrap_or("unknown")
}

fn from_frame(df: &DataFrame) -> PolarsResult<Vec<Event>> {
    let n = df.height();
    let time = df.column("time")?.cast(&DataType::Int64)?;
    let time = time.i64()?;
    let source = df.column("source")?.str()?.clone();
    let format = df.column("format")?.str()?.clone();
    let file = df.column("file")?.u32()?.clone();
    let line = df.column("line")?.u64()?.clone();
    let offset = df.column("offset")?.u64()?.clone();
    let tz = df.column("tz_assumed")?.bool()?.clone();
    let mut events: Vec<Event> = (0..n)
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
            e
        })
        .collect();
    for name in STR_COLS {
        let c = df.column(name)?.str()?.clone();
        for (i, e) in events.iter_mut().enumerate() {
            set_str(e, name, c.get(i).map(str::to_string));
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
        e.stmt_class = class
            .get(i)
            .and_then(|c| serde_json::from_str(&format!("\"{c}\"")).ok());
        e.outcome = outcome
            .get(i)
            .and_then(|c| serde_json::from_str(&format!("\"{c}\"")).ok())
            .unwrap_or_default();
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
