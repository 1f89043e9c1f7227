//! Plaso's CSV timelines: legacy `l2tcsv` (17 columns) and psort's default `dynamic`,
//! for responders who merge breachline's events into a Plaso super-timeline.
//! Plaso's writer does not quote: a comma or line break inside a value becomes a space,
//! and cells that a spreadsheet would run as a formula are neutralized.

use super::timeline::{desc, detail, file_path, ts_message};
use crate::correlate::Analysis;
use crate::model::{Event, SourceKind};
use crate::sanitize::csv_cell_cow;
use crate::timeparse::{fmt_offset_utc, AssumeTz};
use chrono::{DateTime, FixedOffset};
use std::io::Write;

/// The l2tcsv header, exactly as Plaso writes it.
pub const L2TCSV_HEADER: &str =
    "date,time,timezone,MACB,source,sourcetype,type,user,host,short,desc,version,filename,inode,notes,format,extra";
/// The dynamic header (Plaso's default fields).
pub const DYNAMIC_HEADER: &str =
    "datetime,timestamp_desc,source,source_long,message,parser,display_name,tag";

/// A value as one unquoted cell: delimiters and line breaks become spaces, other
/// control and bidi characters are made visible, a leading formula is neutralized.
fn cell(s: &str) -> String {
    let flat: String = s
        .chars()
        .map(|c| match c {
            ',' | '\n' | '\r' | '\t' => ' ',
            c => c,
        })
        .collect();
    // Plaso's `-` for "none" is no formula.
    if flat.is_empty() || flat == "-" {
        return "-".into();
    }
    csv_cell_cow(&flat).into_owned()
}

fn sourcetype(e: &Event) -> String {
    let what = match e.kind() {
        SourceKind::Gateway => "API gateway access log",
        SourceKind::Db => "Database audit log",
        SourceKind::Push => "Push provider log",
    };
    format!("{what} ({})", e.format)
}

fn tags(a: &Analysis, i: usize) -> String {
    match &a.attr[i] {
        Some(x) => format!("breachline-attacker wave-{}", x.wave),
        None => String::new(),
    }
}

/// The full message: what happened and its detail.
fn message(a: &Analysis, i: usize) -> String {
    let d = detail(&a.ing.events[i]);
    let m = ts_message(a, i);
    if d.is_empty() {
        m
    } else {
        format!("{m} {d}")
    }
}

/// Writes l2tcsv: date and time in the display zone (`--tz`, named as the user gave it;
/// UTC by default), `....` MACB, the other fields as sorted `key: value` pairs.
pub fn write_l2tcsv(
    a: &Analysis,
    idx: &[usize],
    tz: Option<(&str, &AssumeTz)>,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    writeln!(out, "{L2TCSV_HEADER}")?;
    for &i in idx {
        let e = &a.ing.events[i];
        let (zname, off) = tz.map_or(("UTC", 0), |(n, z)| (n, z.offset_at(e.ts)));
        let local = DateTime::from_timestamp_micros(e.ts)
            .zip(FixedOffset::east_opt(off))
            .map(|(t, o)| t.with_timezone(&o));
        let (date, time) = match local {
            Some(t) => (
                t.format("%m/%d/%Y").to_string(),
                t.format("%H:%M:%S").to_string(),
            ),
            None => ("00/00/0000".into(), "00:00:00".into()),
        };
        // Every field the other columns do not hold, the record's own extras included.
        let fields = super::timeline::fields(a, i, None);
        let own = e.extra.iter().map(|(k, v)| (k.as_str(), v.as_str().into()));
        let mut extra: Vec<String> = fields
            .iter()
            .filter(|(k, v)| {
                !v.is_null() && !matches!(k.as_str(), "time" | "extra" | "format" | "source")
            })
            .map(|(k, v)| {
                let v = match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (k.as_str(), v)
            })
            .chain(own)
            .map(|(k, v)| format!("{k}: {}", v.replace(['\n', '\r'], "-")))
            .collect();
        extra.sort();
        let row = [
            date,
            time,
            zname.into(),
            "....".into(),
            "LOG".into(),
            sourcetype(e),
            desc(e).into(),
            e.who().unwrap_or_default().to_string(),
            e.address().unwrap_or_default().to_string(),
            crate::sanitize::shorten(&format!("{} {}", e.actor(), e.action()), 80),
            message(a, i),
            "2".into(),
            file_path(a, e).to_string(),
            "-".into(),
            tags(a, i),
            format!("breachline/{}", e.format),
            extra.join("; "),
        ];
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

/// Writes Plaso's dynamic CSV (psort's default columns), times as `+00:00` with µs.
pub fn write_dynamic(a: &Analysis, idx: &[usize], out: &mut dyn Write) -> anyhow::Result<()> {
    writeln!(out, "{DYNAMIC_HEADER}")?;
    for &i in idx {
        let e = &a.ing.events[i];
        let row = [
            fmt_offset_utc(e.ts),
            desc(e).into(),
            "LOG".into(),
            sourcetype(e),
            message(a, i),
            format!("breachline/{}", e.format),
            file_path(a, e).to_string(),
            tags(a, i),
        ];
        let cells: Vec<String> = row.iter().map(|c| cell(c)).collect();
        writeln!(out, "{}", cells.join(","))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_flat_and_safe() {
        assert_eq!(cell("a,b\nc\td"), "a b c d");
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert!(!cell("\u{1b}[31mred\u{202e}").contains(['\u{1b}', '\u{202e}']));
        assert_eq!(cell(""), "-");
        assert_eq!(cell("-"), "-");
        assert_eq!(cell("-x"), "'-x");
        assert_eq!(
            L2TCSV_HEADER.split(',').count(),
            17,
            "l2tcsv has 17 columns"
        );
    }
}
