//! Timeline renderers: terminal table, CSV and JSONL with every field, Timesketch import
//! (CSV/JSONL with `message`, `datetime`, `timestamp`, `timestamp_desc`) and Elastic
//! Common Schema NDJSON (Plaso's CSVs are in `plaso`). Times are RFC 3339 UTC with `Z`
//! unless a display zone is given.

use crate::correlate::Analysis;
use crate::model::{Event, SourceKind, Text};
use crate::sanitize::{csv_cell, csv_cell_cow, shorten, terminal};
use crate::timeparse::{fmt_in, fmt_offset_utc, fmt_utc, AssumeTz};
use serde_json::{json, Map, Value};
use std::borrow::Cow;
use std::io::Write;

/// Evidence location `file:line`.
pub fn evidence(a: &Analysis, e: &Event) -> String {
    format!("{}:{}", file_path(a, e), e.line)
}

/// The path of an event's evidence file (`?` if unknown).
pub fn file_path<'a>(a: &'a Analysis, e: &Event) -> &'a str {
    a.ing
        .files
        .get(e.file as usize)
        .map(|f| f.path.as_str())
        .unwrap_or("?")
}

/// A short detail for an event.
pub fn detail(e: &Event) -> String {
    match e.kind() {
        SourceKind::Gateway => {
            let mut s = e.status.map(|s| s.to_string()).unwrap_or_default();
            if let Some(q) = &e.query {
                s.push_str(&format!(" ?{q}"));
            }
            if let Some(ua) = &e.user_agent {
                s.push_str(&format!(" {ua}"));
            }
            s
        }
        SourceKind::Db => e
            .statement
            .as_deref()
            .or(e.extra.get("message").map(Text::as_str))
            .unwrap_or_default()
            .to_string(),
        SourceKind::Push => [
            e.push().push_target.as_deref(),
            e.push().device_id.as_deref(),
            e.push().title.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" "),
    }
}

/// What an event's time means (Timesketch's and Plaso's `timestamp_desc`).
pub fn desc(e: &Event) -> &'static str {
    match e.kind() {
        SourceKind::Gateway => "Request received",
        SourceKind::Db => "Statement logged",
        SourceKind::Push => "Push event",
    }
}

/// Every field of an event as a flat JSON object (the CSV/JSONL columns).
pub fn fields(a: &Analysis, i: usize, tz: Option<&AssumeTz>) -> Map<String, Value> {
    let e = &a.ing.events[i];
    let at = a.attr[i].as_ref();
    let mut m = Map::new();
    let mut put = |k: &str, v: Value| {
        m.insert(k.to_string(), v);
    };
    put("time", json!(fmt_in(e.ts, tz)));
    put("source", json!(e.kind().as_str()));
    put("format", json!(e.format));
    put("actor", json!(e.actor()));
    put("account", json!(e.account_id));
    put("action", json!(e.action()));
    put("outcome", json!(e.outcome.as_str()));
    put("target", json!(a.targets[i].map(|t| t.as_str())));
    put("wave", json!(at.map(|x| x.wave)));
    put("attacker", json!(at.is_some()));
    put("reason", json!(at.map(|x| x.reason.clone())));
    put("evidence", json!(evidence(a, e)));
    put("offset", json!(e.offset));
    for (k, v) in [
        ("request_id", &e.request_id),
        ("client_ip", &e.client_ip),
        ("user_agent", &e.user_agent),
        ("method", &e.method),
        ("route", &e.route),
        ("path", &e.path),
        ("query", &e.query),
        ("user", &e.user),
        ("principal", &e.principal),
        ("token_id", &e.token_id),
        ("session_id", &e.session_id),
        ("db_user", &e.db_user),
        ("db_host", &e.db_host),
        ("db_name", &e.db_name),
        ("command", &e.command),
        ("object", &e.object),
        ("statement", &e.statement),
        ("message_id", &e.push().message_id),
        ("campaign_id", &e.push().campaign_id),
        ("device_id", &e.push().device_id),
        ("push_target", &e.push().push_target),
        ("delivery", &e.push().delivery),
        ("title", &e.push().title),
        ("body", &e.push().body),
    ] {
        put(k, json!(v));
    }
    put("status", json!(e.status));
    put("bytes", json!(e.bytes));
    put("latency_ms", json!(e.latency_ms));
    put("stmt_class", json!(e.stmt_class.map(|c| c.as_str())));
    put("params", json!(e.params));
    put("tz_assumed", json!(e.tz_assumed));
    put("truncated", json!(e.truncated));
    put("extra", json!(e.extra));
    m
}

/// CSV column order.
pub const CSV_COLUMNS: &[&str] = &[
    "time",
    "source",
    "format",
    "actor",
    "account",
    "action",
    "outcome",
    "target",
    "wave",
    "attacker",
    "reason",
    "evidence",
    "offset",
    "request_id",
    "client_ip",
    "user_agent",
    "method",
    "route",
    "path",
    "query",
    "status",
    "bytes",
    "latency_ms",
    "user",
    "principal",
    "token_id",
    "session_id",
    "db_user",
    "db_host",
    "db_name",
    "stmt_class",
    "command",
    "object",
    "statement",
    "params",
    "message_id",
    "campaign_id",
    "device_id",
    "push_target",
    "delivery",
    "title",
    "body",
    "tz_assumed",
    "truncated",
    "extra",
];

fn cell(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Object(o) if o.is_empty() => String::new(),
        other => other.to_string(),
    }
}

/// The CSV cells of one event, in `CSV_COLUMNS` order — the same text `cell` makes of
/// `fields`, without building a JSON object per event.
fn csv_cells<'a>(a: &'a Analysis, i: usize, tz: Option<&AssumeTz>) -> Vec<Cow<'a, str>> {
    fn opt(v: &Option<crate::model::Text>) -> Cow<'_, str> {
        Cow::Borrowed(v.as_deref().unwrap_or(""))
    }
    fn num<T: ToString>(v: Option<T>) -> Cow<'static, str> {
        v.map(|x| Cow::Owned(x.to_string()))
            .unwrap_or(Cow::Borrowed(""))
    }
    let e = &a.ing.events[i];
    let at = a.attr[i].as_ref();
    let json = |v: Value| Cow::Owned(cell(&v));
    vec![
        Cow::Owned(fmt_in(e.ts, tz)),
        Cow::Borrowed(e.kind().as_str()),
        Cow::Borrowed(e.format.as_str()),
        Cow::Owned(e.actor()),
        opt(&e.account_id),
        Cow::Owned(e.action()),
        Cow::Borrowed(e.outcome.as_str()),
        Cow::Borrowed(a.targets[i].map(|t| t.as_str()).unwrap_or("")),
        num(at.map(|x| x.wave)),
        Cow::Borrowed(if at.is_some() { "true" } else { "false" }),
        at.map(|x| Cow::Borrowed(x.reason.as_str()))
            .unwrap_or(Cow::Borrowed("")),
        Cow::Owned(evidence(a, e)),
        Cow::Owned(e.offset.to_string()),
        opt(&e.request_id),
        opt(&e.client_ip),
        opt(&e.user_agent),
        opt(&e.method),
        opt(&e.route),
        opt(&e.path),
        opt(&e.query),
        num(e.status),
        num(e.bytes),
        e.latency_ms
            .map(|l| json(json!(l)))
            .unwrap_or(Cow::Borrowed("")),
        opt(&e.user),
        opt(&e.principal),
        opt(&e.token_id),
        opt(&e.session_id),
        opt(&e.db_user),
        opt(&e.db_host),
        opt(&e.db_name),
        Cow::Borrowed(e.stmt_class.map(|c| c.as_str()).unwrap_or("")),
        opt(&e.command),
        opt(&e.object),
        opt(&e.statement),
        e.params
            .as_ref()
            .map(|p| json(json!(p)))
            .unwrap_or(Cow::Borrowed("")),
        opt(&e.push().message_id),
        opt(&e.push().campaign_id),
        opt(&e.push().device_id),
        opt(&e.push().push_target),
        opt(&e.push().delivery),
        opt(&e.push().title),
        opt(&e.push().body),
        Cow::Borrowed(if e.tz_assumed { "true" } else { "false" }),
        Cow::Borrowed(if e.truncated { "true" } else { "false" }),
        if e.extra.is_empty() {
            Cow::Borrowed("")
        } else {
            Cow::Owned(serde_json::to_string(&e.extra).unwrap_or_default())
        },
    ]
}

/// Writes CSV.
pub fn write_csv(
    a: &Analysis,
    idx: &[usize],
    tz: Option<&AssumeTz>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    use rayon::prelude::*;
    // Rows are rendered in parallel, a run of rows per task, and written in order.
    let render = |rows: &[usize]| -> Vec<u8> {
        let mut out = Vec::with_capacity(rows.len() * 600);
        for &i in rows {
            let cells = csv_cells(a, i, tz);
            debug_assert_eq!(cells.len(), CSV_COLUMNS.len());
            for (k, c) in cells.iter().enumerate() {
                if k > 0 {
                    out.push(b',');
                }
                push_field(&mut out, c);
            }
            out.push(b'\n');
        }
        out
    };
    let mut head = csv::Writer::from_writer(Vec::new());
    head.write_record(CSV_COLUMNS)?;
    out.write_all(&head.into_inner()?)?;
    for chunk in idx.chunks(1 << 16) {
        let parts: Vec<Vec<u8>> = chunk.par_chunks(2048).map(render).collect();
        for p in parts {
            out.write_all(&p)?;
        }
    }
    out.flush()?;
    Ok(())
}

/// Appends one cell of a timeline row as the csv crate writes it (quoted only when it
/// holds a comma, a quote or a line break, quotes doubled), neutralized for spreadsheets
/// first. Printable ASCII that needs neither — nearly every cell — is copied after one
/// pass, where the neutralizing check and the csv writer took a pass each (15 % of
/// `timeline -o out.csv` CPU between them).
fn push_field(out: &mut Vec<u8>, cell: &str) {
    let b = cell.as_bytes();
    if b.iter()
        .all(|&c| (0x20..0x7f).contains(&c) && c != b',' && c != b'"')
        && !matches!(b.first(), Some(b'=' | b'+' | b'@' | b'-'))
    {
        out.extend_from_slice(b);
        return;
    }
    let safe = csv_cell_cow(cell);
    let s = safe.as_bytes();
    if s.iter().any(|c| matches!(c, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        for &c in s {
            if c == b'"' {
                out.push(b'"');
            }
            out.push(c);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(s);
    }
}

/// Writes JSON Lines.
pub fn write_jsonl(
    a: &Analysis,
    idx: &[usize],
    tz: Option<&AssumeTz>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    for &i in idx {
        serde_json::to_writer(&mut *out, &Value::Object(fields(a, i, tz)))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// One line saying what happened (kind, actor, action, status, wave).
pub fn ts_message(a: &Analysis, i: usize) -> String {
    let e = &a.ing.events[i];
    let mut m = format!("{} {} {}", e.kind().as_str(), e.actor(), e.action());
    if let Some(s) = e.status {
        m.push_str(&format!(" -> {s}"));
    }
    if let Some(x) = &a.attr[i] {
        m.push_str(&format!(" [wave {}: {}]", x.wave, x.reason));
    }
    m
}

/// Writes the Timesketch import (JSONL, or CSV when `csv_out`).
pub fn write_timesketch(
    a: &Analysis,
    idx: &[usize],
    csv_out: bool,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let rows = idx.iter().map(|&i| {
        let e = &a.ing.events[i];
        let mut m = Map::new();
        m.insert("message".into(), json!(ts_message(a, i)));
        m.insert("datetime".into(), json!(fmt_offset_utc(e.ts)));
        m.insert("timestamp".into(), json!(e.ts));
        m.insert("timestamp_desc".into(), json!(desc(e)));
        m.insert(
            "data_type".into(),
            json!(format!("{}:{}", e.kind().as_str(), e.format)),
        );
        let f = fields(a, i, None);
        for c in CSV_COLUMNS
            .iter()
            .filter(|c| !matches!(**c, "time" | "extra"))
        {
            if let Some(v) = f.get(*c).filter(|v| !v.is_null()) {
                m.insert((*c).to_string(), v.clone());
            }
        }
        if a.attr[i].is_some() {
            m.insert("tag".into(), json!(["breachline-attacker"]));
        }
        m
    });
    if csv_out {
        let mut w = csv::Writer::from_writer(out);
        let cols: Vec<&str> = [
            "message",
            "datetime",
            "timestamp",
            "timestamp_desc",
            "data_type",
        ]
        .into_iter()
        .chain(
            CSV_COLUMNS
                .iter()
                .copied()
                .filter(|c| !matches!(*c, "time" | "extra")),
        )
        .collect();
        w.write_record(&cols)?;
        for m in rows {
            w.write_record(
                cols.iter()
                    .map(|c| csv_cell(&m.get(*c).map(cell).unwrap_or_default())),
            )?;
        }
        w.flush()?;
    } else {
        for m in rows {
            serde_json::to_writer(&mut *out, &Value::Object(m))?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// Writes ECS NDJSON.
pub fn write_ecs(a: &Analysis, idx: &[usize], out: &mut dyn Write) -> anyhow::Result<()> {
    for &i in idx {
        let e = &a.ing.events[i];
        let at = a.attr[i].as_ref();
        let (category, typ, action) = match e.kind() {
            SourceKind::Gateway => (
                json!(["web"]),
                json!(["access"]),
                "http-request".to_string(),
            ),
            SourceKind::Db => (
                json!(["database"]),
                json!([if e.stmt_class == Some(crate::model::StmtClass::Write) {
                    "change"
                } else {
                    "access"
                }]),
                format!(
                    "db-{}",
                    e.command
                        .as_deref()
                        .unwrap_or("statement")
                        .to_ascii_lowercase()
                        .replace(' ', "-")
                ),
            ),
            SourceKind::Push => (
                json!(["network"]),
                json!(["info"]),
                "push-delivery".to_string(),
            ),
        };
        let mut doc = json!({
            "@timestamp": fmt_utc(e.ts),
            "ecs": {"version": "8.11.0"},
            "message": ts_message(a, i),
            "event": {"kind": if at.is_some() { "alert" } else { "event" }, "category": category, "type": typ, "action": action,
                "outcome": e.outcome.as_str(), "dataset": format!("breachline.{}", e.format)},
            "log": {"file": {"path": a.ing.files.get(e.file as usize).map(|f| f.path.clone())}, "offset": e.offset},
            "breachline": {"format": e.format, "line": e.line, "wave": at.map(|x| x.wave), "attacker": at.is_some(),
                "reason": at.map(|x| x.reason.clone()), "target": a.targets[i].map(|t| t.as_str()), "account": e.account_id}
        });
        let o = doc.as_object_mut().expect("object literal");
        if let Some(ip) = e.client_ip.as_ref().or(e.db_host.as_ref()) {
            o.insert("source".into(), json!({"ip": ip}));
        }
        let user = e
            .principal
            .as_ref()
            .or(e.user.as_ref())
            .or(e.db_user.as_ref());
        if let Some(u) = user {
            o.insert("user".into(), json!({"name": u}));
        }
        if e.kind() == SourceKind::Gateway {
            o.insert("http".into(), json!({"request": {"method": e.method, "id": e.request_id}, "response": {"status_code": e.status, "body": {"bytes": e.bytes}}}));
            o.insert("url".into(), json!({"path": e.path, "query": e.query}));
            if let Some(ua) = &e.user_agent {
                o.insert("user_agent".into(), json!({"original": ua}));
            }
        }
        if e.kind() == SourceKind::Db {
            o["breachline"]["db"] = json!({"user": e.db_user, "name": e.db_name, "statement": e.statement, "class": e.stmt_class.map(|c| c.as_str()), "session": e.session_id, "request_id": e.request_id});
        }
        if e.kind() == SourceKind::Push {
            o["breachline"]["push"] = json!({"message_id": e.push().message_id, "campaign_id": e.push().campaign_id, "device_id": e.push().device_id, "target": e.push().push_target, "delivery": e.push().delivery});
        }
        serde_json::to_writer(&mut *out, &doc)?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// The terminal table.
pub fn write_table(
    a: &Analysis,
    idx: &[usize],
    tz: Option<&AssumeTz>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let mut t = super::table::new_table(&[
        "time", "source", "actor", "account", "action", "outcome", "detail", "wave", "why",
    ]);
    for &i in idx {
        let e = &a.ing.events[i];
        let at = a.attr[i].as_ref();
        t.add_row(vec![
            fmt_in(e.ts, tz),
            e.kind().as_str().to_string(),
            terminal(&shorten(&e.actor(), 40)),
            terminal(e.account_id.as_deref().unwrap_or("")),
            terminal(&shorten(&e.action(), 60)),
            e.outcome.as_str().to_string(),
            terminal(&shorten(&detail(e), 60)),
            at.map(|x| x.wave.to_string()).unwrap_or_default(),
            terminal(&shorten(at.map(|x| x.reason.as_str()).unwrap_or(""), 60)),
        ]);
    }
    writeln!(out, "{t}")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A row written cell by cell is what the csv crate writes for the neutralized
        /// cells.
        #[test]
        fn rows_are_what_the_csv_crate_writes(
            cells in proptest::collection::vec("[a-z0-9 ,\"=+@\\-\\n\\r\\t\\x00\\x7fé\u{202e}]{0,8}", 2..6),
        ) {
            let mut mine = Vec::new();
            for (k, c) in cells.iter().enumerate() {
                if k > 0 {
                    mine.push(b',');
                }
                push_field(&mut mine, c);
            }
            mine.push(b'\n');
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(cells.iter().map(|c| csv_cell(c))).unwrap();
            proptest::prop_assert_eq!(mine, w.into_inner().unwrap());
        }
    }
}
