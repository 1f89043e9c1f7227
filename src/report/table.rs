//! Terminal tables (comfy-table) fitted to the terminal width; every cell escaped.

use crate::model::FileInfo;
use crate::sanitize::terminal;
use crate::timeparse::fmt_utc_s;
use comfy_table::{presets::UTF8_FULL_CONDENSED, ContentArrangement, Table};

/// A table with a header, fitted to the terminal.
pub fn new_table(header: &[&str]) -> Table {
    let mut t = Table::new();
    t.load_style(UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header.iter().map(|h| h.to_string()).collect::<Vec<_>>());
    if let Some((w, _)) = terminal_width() {
        t.set_width(w);
    } else {
        t.set_width(160);
    }
    t
}

fn terminal_width() -> Option<(u16, u16)> {
    let cols: u16 = std::env::var("COLUMNS").ok()?.parse().ok()?;
    Some((cols, 0))
}

/// The evidence inventory.
pub fn inventory_table(files: &[FileInfo]) -> Table {
    let mut t = new_table(&[
        "file",
        "format",
        "lines",
        "events",
        "dup",
        "rejected",
        "skipped",
        "first UTC",
        "last UTC",
        "sha256",
    ]);
    for f in files {
        t.add_row(vec![
            terminal(&f.path),
            match (&f.note, f.format.is_empty()) {
                // Notes name link targets and archive paths: evidence-controlled text.
                (Some(n), _) => format!("(skipped: {})", terminal(n)),
                (None, true) => format!("? {}", terminal(f.error.as_deref().unwrap_or(""))),
                (None, false) => f.format.clone(),
            },
            f.lines.to_string(),
            f.events.to_string(),
            f.duplicates.to_string(),
            f.rejected.to_string(),
            f.skipped.to_string(),
            f.first_ts.map(fmt_utc_s).unwrap_or_default(),
            f.last_ts.map(fmt_utc_s).unwrap_or_default(),
            f.sha256.chars().take(12).collect(),
        ]);
    }
    t
}

/// The waves table.
pub fn waves_table(a: &crate::correlate::Analysis) -> Table {
    let mut t = new_table(&[
        "wave",
        "start UTC",
        "end UTC",
        "targets",
        "techniques",
        "attacker addresses",
        "principals",
        "events",
        "accounts",
    ]);
    for w in &a.waves {
        t.add_row(vec![
            w.id.to_string(),
            fmt_utc_s(w.start),
            fmt_utc_s(w.end),
            w.targets
                .iter()
                .map(|x| x.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            w.techniques.iter().copied().collect::<Vec<_>>().join(", "),
            w.attacker_ips
                .iter()
                .map(|x| terminal(x))
                .collect::<Vec<_>>()
                .join(", "),
            w.principals
                .iter()
                .map(|x| terminal(x))
                .collect::<Vec<_>>()
                .join(", "),
            w.events.to_string(),
            w.accounts_affected.to_string(),
        ]);
    }
    t
}
