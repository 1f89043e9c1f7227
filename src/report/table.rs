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
    let mut t = new_table(&["file", "format", "lines", "events", "dup", "rejected", "skipped", "first UTC", "last UTC", "sha256"]);
    for f in files {
        t.add_row(vec![
            terminal(&f.path),
            if f.format.is_empty() { format!("? {}", terminal(f.error.as_deref().unwrap_or(""))) } else { f.format.clone() },
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
