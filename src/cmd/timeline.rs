//! `breachline timeline`: one merged, sorted, filtered timeline across all sources.

use crate::cli::{TimelineArgs, TimelineFormat};
use crate::config::Settings;
use crate::error::Error;
use crate::model::SourceKind;
use crate::report::timeline as tl;
use crate::timeparse::{parse_bound, AssumeTz};
use anyhow::Context;
use std::io::Write;

/// Runs `timeline`.
pub fn run(a: &TimelineArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let s = Settings::from_args(&a.ev)?;
    let bad = |flag: &'static str, v: &str| Error::BadArg {
        flag,
        message: format!("cannot parse {v:?}"),
    };
    let since = a
        .since
        .as_deref()
        .map(|v| parse_bound(v).ok_or_else(|| bad("--since", v)))
        .transpose()?;
    let until = a
        .until
        .as_deref()
        .map(|v| parse_bound(v).ok_or_else(|| bad("--until", v)))
        .transpose()?;
    let tz =
        a.tz.as_deref()
            .map(|v| AssumeTz::parse(v).ok_or_else(|| bad("--tz", v)))
            .transpose()?;
    let source = a
        .source
        .as_deref()
        .map(|v| SourceKind::parse(v).ok_or_else(|| bad("--source", v)))
        .transpose()?;
    let an = super::analyze(&s)?;
    let idx: Vec<usize> = (0..an.ing.events.len())
        .filter(|&i| {
            let e = &an.ing.events[i];
            let at = an.attr[i].as_ref();
            since.is_none_or(|t| e.ts >= t)
                && until.is_none_or(|t| e.ts < t)
                && (!a.attack_only || at.is_some())
                && a.wave.is_none_or(|w| at.is_some_and(|x| x.wave == w))
                && a.ip.as_ref().is_none_or(|ip| {
                    e.client_ip.as_deref() == Some(ip.as_str())
                        || e.db_host.as_deref() == Some(ip.as_str())
                })
                && a.account.as_ref().is_none_or(|acc| {
                    e.account_id.as_deref() == Some(acc.as_str())
                        || e.sql
                            .as_ref()
                            .is_some_and(|f| f.account_ids.iter().any(|x| x == acc.as_str()))
                })
                && a.principal.as_ref().is_none_or(|p| {
                    e.principal.as_deref() == Some(p.as_str())
                        || e.db_user.as_deref() == Some(p.as_str())
                        || e.user.as_deref() == Some(p.as_str())
                })
                && source.is_none_or(|k| e.kind() == k)
        })
        .collect();
    let format = a.format.unwrap_or_else(|| format_of(a.output.as_deref()));
    let idx: Vec<usize> = if a.limit > 0 && format == TimelineFormat::Table {
        idx.into_iter().take(a.limit).collect()
    } else {
        idx
    };
    let mut file;
    let w: &mut dyn Write = match &a.output {
        Some(p) => {
            file = std::io::BufWriter::new(
                std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
            );
            &mut file
        }
        None => out,
    };
    let csv_ext = a
        .output
        .as_ref()
        .is_some_and(|p| p.extension().is_some_and(|e| e == "csv"));
    match format {
        TimelineFormat::Table => tl::write_table(&an, &idx, tz.as_ref(), w)?,
        TimelineFormat::Csv => tl::write_csv(&an, &idx, tz.as_ref(), w)?,
        TimelineFormat::Jsonl => tl::write_jsonl(&an, &idx, tz.as_ref(), w)?,
        TimelineFormat::Timesketch => tl::write_timesketch(&an, &idx, csv_ext, w)?,
        TimelineFormat::Ecs => tl::write_ecs(&an, &idx, w)?,
        TimelineFormat::L2tcsv => {
            crate::report::plaso::write_l2tcsv(&an, &idx, a.tz.as_deref().zip(tz.as_ref()), w)?
        }
        TimelineFormat::PlasoDynamic => crate::report::plaso::write_dynamic(&an, &idx, w)?,
    }
    w.flush()?;
    let code = super::analysis_exit(&an);
    Ok(super::leave(an, code))
}

/// The format an output file's extension asks for when `--format` is not given: a
/// terminal table written into `timeline.csv` would surprise anyone who opens it.
fn format_of(output: Option<&std::path::Path>) -> TimelineFormat {
    let ext = output
        .and_then(|p| p.extension())
        .map(|e| e.to_string_lossy().to_ascii_lowercase());
    match ext.as_deref() {
        Some("csv") => TimelineFormat::Csv,
        Some("jsonl" | "ndjson") => TimelineFormat::Jsonl,
        _ => TimelineFormat::Table,
    }
}
