//! Evidence that went through syslog: rsyslog's traditional file lines (`Mar  5 14:22:01
//! host tag[pid]: msg`, no year, local time), its high-precision lines (RFC 3339 time) and
//! RFC 5424 lines (`<pri>1 time host app procid msgid sd msg`). The message is the inner
//! record; PostgreSQL's chunks (`[line-chunk]`, formats.md C1.2) are put back together,
//! and MariaDB's `server_audit_output_type=SYSLOG` records, which carry no time of their
//! own, take the header's.

use super::input::{self, Input};
use super::{head_of, Parser};
use indicatif::ProgressBar;
use regex::Regex;
use std::io::Read;
use std::sync::LazyLock;

// A tag is a program's name (`postgres`, `/usr/sbin/sshd`, `docker/3f2a`): no quotes,
// braces or `=`, so a JSON key after a time and a word (`2024-…Z stream {"id":…`) is not
// taken for one.
static BSD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(?:<\d{1,3}>)?(?P<mon>Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [ \d]\d (?P<hms>\d\d:\d\d:\d\d) (?P<host>\S+) (?P<tag>[^\s\[:{}"'=,<>]+)(?:\[(?P<pid>\d+)\])?: ?"#,
    )
    .expect("static regex")
});
static ISO: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^(?:<\d{1,3}>)?(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (?P<host>\S+) (?P<tag>[^\s\[:{}"'=,<>]+)(?:\[(?P<pid>\d+)\])?: ?"#,
    )
    .expect("static regex")
});
static RFC5424: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^<\d{1,3}>1 (?P<ts>\S+) (?P<host>\S+) (?P<tag>\S+) (?P<pid>\S+) \S+ (?:-|(?:\[(?:[^\]\\]|\\.)*\])+) ?",
    )
    .expect("static regex")
});
/// PostgreSQL's `[line]`, `[line-chunk]` or (without sequence numbers) `[chunk]` tag.
static CHUNK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\[(\d+)(?:-(\d+))?\] ").expect("static regex"));

/// A line's syslog header.
#[derive(Debug, Clone, PartialEq)]
pub struct Header<'a> {
    /// The time as written: RFC 3339, or `Mon dd hh:mm:ss` without a year.
    pub time: &'a str,
    /// Whether `time` is the traditional form (no year, no zone).
    pub bsd: bool,
    /// The program (tag / app name).
    pub tag: &'a str,
    /// The process id, when given.
    pub pid: Option<&'a str>,
    /// The message.
    pub msg: &'a str,
}

/// Parses a syslog line's header.
pub fn header(line: &str) -> Option<Header<'_>> {
    if let Some(c) = BSD.captures(line) {
        let all = c.get(0)?;
        let (mon, hms) = (c.name("mon")?, c.name("hms")?);
        return Some(Header {
            time: &line[mon.start()..hms.end()],
            bsd: true,
            tag: c.name("tag")?.as_str(),
            pid: c.name("pid").map(|m| m.as_str()),
            msg: &line[all.end()..],
        });
    }
    let c = RFC5424.captures(line).or_else(|| ISO.captures(line))?;
    let all = c.get(0)?;
    Some(Header {
        time: c.name("ts")?.as_str(),
        bsd: false,
        tag: c.name("tag")?.as_str(),
        pid: c.name("pid").map(|m| m.as_str()).filter(|p| *p != "-"),
        msg: &line[all.end()..],
    })
}

/// What the records of one syslog file are read with: the programs whose messages are
/// the evidence, and the year and month of the file's last change (for times without a
/// year).
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// Tags whose messages the file's format reads; other programs' lines are skipped.
    pub tags: Vec<String>,
    /// Where the year of traditional times comes from; none for standard input without
    /// dated evidence beside it.
    pub changed: Option<YearFrom>,
}

/// Where the year of syslog's traditional times (which carry none) comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum YearFrom {
    /// The (year, month) the rest of the evidence mostly dates: a line takes the year
    /// that puts it nearest that month, so that evidence across a month's or a year's
    /// end reads on (March and April lines of March evidence are one year's; January
    /// lines of December evidence the next year's).
    Evidence(i32, u32),
    /// The (year, month) of the file's last change: no line is later, so a month later
    /// than the change's is the year before.
    Changed(i32, u32),
}

/// The inner record of one syslog record and the header's time (µs, RFC 3339 headers
/// only), or `Ok(None)` for another program's line.
pub fn unwrap(rec: &str, ctx: &Ctx) -> Result<Option<(String, Option<i64>)>, String> {
    let (h, msg) = message(rec)?;
    if !ctx.tags.is_empty() && !ctx.tags.iter().any(|t| t == h.tag) {
        return Ok(None);
    }
    let ts = (!h.bsd)
        .then(|| crate::timeparse::parse_iso(h.time, &crate::timeparse::AssumeTz::Fixed(0)))
        .flatten()
        .filter(|p| !p.assumed)
        .map(|p| p.us);
    inner(&h, msg, ctx.changed).map(|m| Some((m, ts)))
}

/// The inner record of a message. Records that carry no time of their own take the
/// header's in front, as their program writes it to a file: MariaDB's syslog records
/// (which start at the server host), and PostgreSQL messages whose `log_line_prefix`
/// has no time (with the header's process id as `[%p]`).
fn inner(h: &Header, msg: String, changed: Option<YearFrom>) -> Result<String, String> {
    let mariadb = super::mariadb::timeless(&msg);
    if !mariadb && !super::pg_prefix::timeless(&msg) {
        return Ok(msg);
    }
    let time = if h.bsd {
        let from = changed.ok_or("syslog time without a year, and no date to take it from")?;
        dated(h.time, from).ok_or("bad syslog time")?
    } else {
        h.time.to_string()
    };
    if mariadb {
        return Ok(format!("{time},{}", msg.trim_start()));
    }
    let pid = h.pid.map(|p| format!(" [{p}]")).unwrap_or_default();
    Ok(format!(
        "{}{pid} {msg}",
        pg_time(&time).ok_or("bad syslog time")?
    ))
}

/// A header's time as PostgreSQL's `%m` prints it: `YYYY-MM-DD HH:MM:SS.mmm`, with
/// ` UTC` when the header gave a zone (a traditional header's time, dated, is local and
/// takes `--assume-tz`, like the zone-less lines of other logs).
fn pg_time(time: &str) -> Option<String> {
    let p = crate::timeparse::parse_iso(time, &crate::timeparse::AssumeTz::Fixed(0))?;
    let t = chrono::DateTime::from_timestamp_micros(p.us)?;
    let zone = if p.assumed { "" } else { " UTC" };
    Some(format!("{}{zone}", t.format("%Y-%m-%d %H:%M:%S%.3f")))
}

/// The messages of a head's first records (chunk tags removed), and their tags.
pub fn head_messages(head: &str) -> Vec<(&str, String)> {
    head.lines()
        .filter(|l| !continues(l))
        .filter_map(|l| {
            let h = header(l)?;
            let m = chunk(h.msg).map_or(h.msg, |(_, r)| r);
            // Any year serves to recognize the format.
            let m = inner(
                &h,
                unescape(m).into_owned(),
                Some(YearFrom::Changed(2000, 12)),
            )
            .ok()?;
            Some((h.tag, m))
        })
        .collect()
}

/// Whether most of a head's lines are syslog lines.
pub fn detect(head: &str) -> bool {
    let lines: Vec<&str> = head
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(20)
        .collect();
    // The last line may be cut by the head's end.
    let n = if lines.len() > 1 {
        lines.len() - 1
    } else {
        lines.len()
    };
    n > 0 && lines[..n].iter().filter(|l| header(l).is_some()).count() * 10 >= n * 8
}

/// A PostgreSQL chunk tag: (chunk number, the message after the tag).
fn chunk(msg: &str) -> Option<(u32, &str)> {
    let c = CHUNK.captures(msg)?;
    let n = c.get(2).or(c.get(1))?.as_str().parse().ok()?;
    // `[line]` alone is a whole message with its sequence number.
    let n = if c.get(2).is_some() { n } else { 1 };
    Some((n, &msg[c.get(0)?.end()..]))
}

/// Whether a line continues the previous record: a PostgreSQL chunk after the first,
/// unless it opens a secondary line of the message (`STATEMENT:`, `HINT:`, … after the
/// prefix), which PostgreSQL writes to a log file as a record of its own — but for a
/// statement's `DETAIL:  parameters:` line, which stays with the statement.
pub fn continues(line: &str) -> bool {
    header(line)
        .and_then(|h| chunk(h.msg))
        .is_some_and(|(n, rest)| {
            n > 1
                && (super::pg_statement::is_parameters(rest.as_bytes())
                    || !super::pg::secondary_line(rest))
        })
}

/// rsyslog's escapes of control characters (`#011` TAB, `#012` newline, `#015` CR).
fn unescape(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.contains('#') {
        return s.into();
    }
    s.replace("#011", "\t")
        .replace("#012", "\n")
        .replace("#015", "\r")
        .into()
}

/// The message of a record (one line, or a PostgreSQL message and its chunks) and its
/// header. PostgreSQL cut a message at newlines (the next line starts with the TAB it
/// added, or with the prefix of a detail line) and at a word boundary of long lines (the
/// next chunk starts with the space): chunks starting with a TAB, and a statement's
/// parameters detail, continue on a new line; the others run on.
pub fn message(rec: &str) -> Result<(Header<'_>, String), String> {
    let mut lines = rec.lines();
    let first = lines.next().unwrap_or("");
    let h = header(first).ok_or("no syslog header")?;
    let mut msg = match chunk(h.msg) {
        Some((_, rest)) => unescape(rest).into_owned(),
        None => unescape(h.msg).into_owned(),
    };
    for l in lines {
        let Some(part) = header(l).and_then(|x| chunk(x.msg)).map(|(_, r)| r) else {
            return Err("syslog continuation without a chunk tag".into());
        };
        let part = unescape(part);
        // A message's `DETAIL:  parameters:` line is a chunk of its own (with the
        // prefix, not a TAB): the statement's parser takes it as the line after.
        if part.starts_with('\t') || super::pg_statement::is_parameters(part.as_bytes()) {
            msg.push('\n');
        }
        msg.push_str(&part);
    }
    Ok((h, msg))
}

/// A traditional time with the year it most likely has (see [`YearFrom`]), as
/// `YYYYMMDD HH:MM:SS`.
pub fn dated(time: &str, from: YearFrom) -> Option<String> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let mon = MONTHS.iter().position(|m| time.starts_with(m))? as u32 + 1;
    let day: u32 = time.get(4..6)?.trim().parse().ok()?;
    let hms = time.get(7..15)?;
    let y = match from {
        YearFrom::Changed(year, month) if mon > month => year - 1,
        YearFrom::Changed(year, _) => year,
        // The nearest of the three years; at six months either way, the evidence's own.
        YearFrom::Evidence(year, month) => [year, year - 1, year + 1]
            .into_iter()
            .min_by_key(|y| {
                (i64::from(*y) * 12 + i64::from(mon) - i64::from(year) * 12 - i64::from(month))
                    .abs()
            })
            .unwrap_or(year),
    };
    Some(format!("{y:04}{mon:02}{day:02} {hms}"))
}

/// The format of a syslog file's evidence, the programs that write it and their head
/// messages: each program's messages are detected on their own, and the format detected
/// for the most lines wins (with `--format`, the programs whose lines it reads).
pub fn programs(
    head: &str,
    forced: Option<&'static dyn Parser>,
) -> (Option<&'static dyn Parser>, Vec<String>, Option<String>) {
    let msgs = head_messages(head);
    let mut by_tag: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (t, m) in &msgs {
        by_tag.entry(t).or_default().push(m);
    }
    let mut score: Vec<(&'static dyn Parser, usize, Vec<&str>)> = Vec::new();
    for (tag, ms) in &by_tag {
        let text = ms.join("\n");
        let h = head_of(&text);
        let p = match forced {
            Some(f) => (f.sniff(&h) >= 50).then_some(f),
            None => super::detect(&h),
        };
        if let Some(p) = p {
            match score.iter_mut().find(|(q, _, _)| q.name() == p.name()) {
                Some(x) => {
                    x.1 += ms.len();
                    x.2.push(tag);
                }
                None => score.push((p, ms.len(), vec![tag])),
            }
        }
    }
    let Some((p, _, tags)) = score.into_iter().max_by_key(|(_, n, _)| *n) else {
        return (None, Vec::new(), None);
    };
    let text = msgs
        .iter()
        .filter(|(t, _)| tags.contains(t))
        .map(|(_, m)| m.as_str())
        .collect::<Vec<_>>()
        .join("\n");
    (
        Some(p),
        tags.into_iter().map(str::to_string).collect(),
        Some(text),
    )
}

/// The month most dates in the first 64 KB of the evidence files fall in (RFC 3339 / SQL
/// and CLF dates): the year that syslog's traditional times lack is the incident's,
/// which the other evidence dates. The most common month, so that a stray date in log
/// text does not decide it.
pub fn evidence_month(inputs: &[Input], head: usize) -> Option<YearFrom> {
    static DATES: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
        regex::Regex::new(
            r"\b(20\d\d)-(0[1-9]|1[0-2])-[0-3]\d[T ]\d\d:\d\d|\b[0-3]\d/(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)/(20\d\d):",
        )
        .expect("static regex")
    });
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let hidden = ProgressBar::hidden();
    let mut seen: std::collections::BTreeMap<(i32, u32), usize> = Default::default();
    // Not a pipe: a pipe is read once, by the ingest.
    for inp in inputs.iter().filter(|i| match i {
        Input::File(p) => p.is_file(),
        Input::Member(_) => true,
        _ => false,
    }) {
        let Ok(o) = input::open(inp, &hidden) else {
            continue;
        };
        let mut buf = Vec::with_capacity(head);
        let _ = o.reader.take(head as u64).read_to_end(&mut buf);
        // Syslog files count too: their traditional headers do not match, their
        // messages' own dates (PostgreSQL's prefix) do.
        let text = String::from_utf8_lossy(&buf);
        for c in DATES.captures_iter(&text) {
            let ym = match (c.get(1), c.get(2), c.get(3), c.get(4)) {
                (Some(y), Some(m), _, _) => (y.as_str().parse().ok(), m.as_str().parse().ok()),
                (_, _, Some(m), Some(y)) => (
                    y.as_str().parse().ok(),
                    MONTHS
                        .iter()
                        .position(|x| *x == m.as_str())
                        .map(|i| i as u32 + 1),
                ),
                _ => (None, None),
            };
            if let (Some(y), Some(m)) = ym {
                *seen.entry((y, m)).or_default() += 1;
            }
        }
    }
    // Of months seen as often, the latest.
    seen.into_iter()
        .max_by_key(|(ym, n)| (*n, *ym))
        .map(|((y, m), _)| YearFrom::Evidence(y, m))
}

/// Year and month (UTC) of an evidence file's last change: the year of syslog's
/// traditional times, which carry none.
pub fn file_changed(inp: &Input) -> Option<YearFrom> {
    use chrono::Datelike;
    let p = match inp {
        Input::File(p) => p,
        Input::Member(m) => return m.modified.map(|(y, m)| YearFrom::Changed(y, m)),
        _ => return None,
    };
    let t = std::fs::metadata(p).ok()?.modified().ok()?;
    let d: chrono::DateTime<chrono::Utc> = t.into();
    Some(YearFrom::Changed(d.year(), d.month()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_header_forms() {
        let h = header("Nov  4 09:41:03 db1 postgres[4242]: [12-1] 2025-11-04 LOG:  x").unwrap();
        assert_eq!(
            (h.time, h.bsd, h.tag, h.pid),
            ("Nov  4 09:41:03", true, "postgres", Some("4242"))
        );
        assert_eq!(h.msg, "[12-1] 2025-11-04 LOG:  x");
        let h = header("2025-11-04T09:41:03.123456+02:00 web1 nginx: 1.2.3.4 - -").unwrap();
        assert_eq!(
            (h.time, h.bsd, h.tag, h.msg),
            (
                "2025-11-04T09:41:03.123456+02:00",
                false,
                "nginx",
                "1.2.3.4 - -"
            )
        );
        let h =
            header(r#"<134>1 2025-11-04T07:41:03Z gw1 kong 1 - [meta x="a\]b"] {"a":1}"#).unwrap();
        assert_eq!((h.tag, h.pid, h.msg), ("kong", Some("1"), r#"{"a":1}"#));
        assert!(header("20251104 09:41:03,db1,svc").is_none());
    }

    #[test]
    fn postgres_chunks_are_put_back_together() {
        let rec = "Nov  4 09:41:03 db1 postgres[42]: [7-1] 2025-11-04 09:41:03.1 EET [42] a@b LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,\"SELECT id, name\n\
                   Nov  4 09:41:03 db1 postgres[42]: [7-2] #011FROM customers WHERE note = 'a\n\
                   Nov  4 09:41:03 db1 postgres[42]: [7-3]  b'\",<none>";
        assert!(continues(rec.lines().nth(1).unwrap()));
        assert!(!continues(rec.lines().next().unwrap()));
        let (h, m) = message(rec).unwrap();
        assert_eq!(h.tag, "postgres");
        assert!(
            m.ends_with("\"SELECT id, name\n\tFROM customers WHERE note = 'a b'\",<none>"),
            "{m}"
        );
    }

    #[test]
    fn a_message_s_secondary_lines_are_records_but_its_parameters() {
        let l = |chunk: &str| format!("Nov  4 09:41:03 db1 postgres[42]: [9-2] {chunk}");
        // A failed statement's text is a record of its own, as in a log file.
        assert!(!continues(&l("a@b STATEMENT:  SELECT * FROM x")));
        assert!(!continues(&l("HINT:  No function matches.")));
        // An execute's values stay with it, on a line of their own.
        assert!(continues(&l("a@b DETAIL:  parameters: $1 = '5'")));
        // A long line cut at a blank, or inside a word, and a TAB line run on.
        assert!(continues(&l(" WHERE x = 'STATEMENT:  y'")));
        assert!(continues(&l("#011FROM customers")));
        assert!(continues(&l(
            "bcdefSTATEMENT:  not a severity at a word start"
        )));
        let rec = format!(
            "Nov  4 09:41:03 db1 postgres[42]: [9-1] a@b LOG:  execute <unnamed>: SELECT $1\n{}",
            l("a@b DETAIL:  parameters: $1 = '5'")
        );
        let (_, m) = message(&rec).unwrap();
        assert!(
            m.ends_with("SELECT $1\na@b DETAIL:  parameters: $1 = '5'"),
            "{m}"
        );
    }

    #[test]
    fn postgres_messages_without_a_time_take_the_headers() {
        let ctx = Ctx {
            tags: vec![],
            changed: Some(YearFrom::Evidence(2025, 11)),
        };
        let un = |l: &str| unwrap(l, &ctx).unwrap().unwrap().0;
        // `%q%u@%d ` and an empty prefix, as PostgreSQL's documentation advises for syslog.
        assert_eq!(
            un("Nov  4 09:41:03 db1 postgres[4242]: [12-1] app@loyalty LOG:  statement: SELECT 1"),
            "2025-11-04 09:41:03.000 [4242] app@loyalty LOG:  statement: SELECT 1"
        );
        assert_eq!(
            un("2025-11-04T09:41:03.123456+02:00 db1 postgres[7]: [3-1] FATAL:  password authentication failed for user \"x\""),
            "2025-11-04 07:41:03.123 UTC [7] FATAL:  password authentication failed for user \"x\""
        );
        assert_eq!(
            un("<134>1 2025-11-04T07:41:03Z db1 postgres - - - LOG:  connection received: host=1.2.3.4"),
            "2025-11-04 07:41:03.000 UTC LOG:  connection received: host=1.2.3.4"
        );
        // A prefix with its own time, and other programs' messages, are left as written.
        for l in [
            "Nov  4 09:41:03 db1 postgres[4242]: [12-1] 2025-11-04 09:41:03.1 EET [4242] LOG:  x",
            "Nov  4 09:41:03 db1 postgres[4242]: [12-1] 1762242063.123 [4242] LOG:  x",
            "Nov  4 09:41:03 web1 app[1]: {\"level\":\"ERROR:  x\"}",
            "Nov  4 09:41:03 web1 CRON[1]: (root) CMD (true)",
        ] {
            assert_eq!(
                un(l),
                header(l).unwrap().msg.trim_start_matches("[12-1] "),
                "{l}"
            );
        }
    }

    #[test]
    fn a_traditional_time_gets_a_year() {
        use YearFrom::{Changed, Evidence};
        let d = |t, from| dated(t, from).unwrap();
        assert_eq!(d("Nov  4 09:41:03", Changed(2025, 11)), "20251104 09:41:03");
        // A December line in a file last changed in January is from the year before,
        // a July line in a file changed in June too (no line is later than the change).
        assert_eq!(d("Dec 31 23:59:59", Changed(2026, 1)), "20251231 23:59:59");
        assert_eq!(d("Jul  1 00:00:00", Changed(2026, 6)), "20250701 00:00:00");
        // Dated by the other evidence, a line takes the nearest year: April lines of
        // evidence that mostly dates March are that year's (not the year before, as a
        // file's last change would have it), January lines of December evidence the
        // next year's, December lines of January evidence the year before's.
        assert_eq!(d("Apr  1 01:38:48", Evidence(2025, 3)), "20250401 01:38:48");
        assert_eq!(
            d("Jan  2 00:00:01", Evidence(2025, 12)),
            "20260102 00:00:01"
        );
        assert_eq!(d("Dec 31 23:59:59", Evidence(2026, 1)), "20251231 23:59:59");
        assert_eq!(d("Mar  1 12:00:00", Evidence(2025, 3)), "20250301 12:00:00");
    }
}
