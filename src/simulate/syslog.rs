//! DB audit records as they reach a file through syslog (rsyslog): PostgreSQL's messages
//! with their `[line]` / `[line-chunk]` tags (a multi-line statement one chunk per line,
//! TAB escaped as `#011`), MariaDB's `server_audit_output_type=SYSLOG` records without
//! their own time; traditional headers (`Nov  4 09:41:03`, local time, no year) or
//! high-precision ones (RFC 3339 with offset), and PostgreSQL prefixes with or without
//! their own time, by seed.

use super::db::Clock;
use super::scenario::Stmt;

/// Whether a DB format can be written through syslog.
pub fn applies(fmt: &str) -> bool {
    matches!(fmt, "pg-stderr" | "mariadb-audit")
}

/// One record as syslog lines. `seq` is PostgreSQL's per-process line number;
/// `timeless`: PostgreSQL's `log_line_prefix` leaves the time and process id to syslog.
pub fn wrap(
    fmt: &str,
    rec: &str,
    s: &Stmt,
    clock: &Clock,
    seq: u64,
    (iso, timeless): (bool, bool),
) -> String {
    let time = if iso {
        clock.local(s.ts, "%Y-%m-%dT%H:%M:%S%.6f%:z")
    } else {
        clock.local(s.ts, "%b %e %H:%M:%S")
    };
    if fmt == "mariadb-audit" {
        // The plugin's syslog record starts at the server host.
        let rest = rec.split_once(',').map_or(rec, |(_, r)| r);
        return format!("{time} db-prod-1 mysql-server_auditing:  {rest}");
    }
    let head = format!("{time} db-prod-1 postgres[{}]: ", s.pid);
    // `%m [%p] ` ends at the first `] `.
    let rec = match rec.find("] ") {
        Some(i) if timeless => &rec[i + 2..],
        _ => rec,
    };
    let lines: Vec<&str> = rec.lines().collect();
    if lines.len() == 1 {
        return format!("{head}[{seq}] {rec}");
    }
    lines
        .iter()
        .enumerate()
        .map(|(k, l)| format!("{head}[{seq}-{}] {}", k + 1, l.replace('\t', "#011")))
        .collect::<Vec<_>>()
        .join("\n")
}

/// A line of another program on the same host.
pub fn chatter(s: &Stmt, clock: &Clock, iso: bool) -> String {
    let time = if iso {
        clock.local(s.ts, "%Y-%m-%dT%H:%M:%S%.6f%:z")
    } else {
        clock.local(s.ts, "%b %e %H:%M:%S")
    };
    format!("{time} db-prod-1 CRON[{}]: (root) CMD (command -v debian-sa1 > /dev/null && debian-sa1 1 1)", 4000 + s.pid % 97)
}
