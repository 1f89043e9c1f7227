//! `breachline formats`: the supported evidence formats, how each is detected, an example.

use crate::ingest::registry;
use crate::report::table::new_table;
use std::io::Write;

/// Prints the format table.
pub fn run(out: &mut dyn Write) -> anyhow::Result<u8> {
    let mut t = new_table(&["format", "source", "detected by", "example"]);
    for p in registry() {
        t.add_row(vec![
            p.name().to_string(),
            p.source().as_str().to_string(),
            p.detection().to_string(),
            crate::sanitize::shorten(p.example(), 70),
        ]);
    }
    writeln!(out, "{t}")?;
    writeln!(out, "Envelopes unwrapped first: CloudWatch Logs JSON (events/logEvents, subscription payloads), S3 export lines, `aws logs tail` lines, Logs Insights CSV, OneSignal notification pages, decrypted RDS activity batches, syslog lines (traditional, RFC 3339, RFC 5424; PostgreSQL chunks joined, other programs' lines skipped). A record the file's format rejects is re-detected among the other line formats of its source. Undone first, by content not name: gzip, bzip2, xz, zstd and lz4 (concatenated members too), UTF-16 (transcoded), and zip and tar archives (each member a file of its own).")?;
    Ok(super::EXIT_OK)
}
