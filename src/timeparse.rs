//! Timestamp parsing for the shapes real logs write (CLF, ISO 8601, PostgreSQL with zone
//! abbreviations, BigQuery, naive local times, epochs of any unit) into UTC microseconds,
//! and RFC 3339 formatting for output. Hand-written fixed-position parsers: this is a hot path.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;

/// A zone to assume for timestamps that carry none (`--assume-tz`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AssumeTz {
    /// A fixed offset in seconds east of UTC.
    Fixed(i32),
    /// An IANA zone, DST-aware.
    Iana(Tz),
}

impl Default for AssumeTz {
    fn default() -> Self {
        AssumeTz::Fixed(0)
    }
}

impl AssumeTz {
    /// Parses an IANA name (`Europe/Kyiv`), `UTC`, a zone abbreviation, or `±HH:MM`.
    pub fn parse(s: &str) -> Option<AssumeTz> {
        if let Some(off) = parse_offset(s) {
            return Some(AssumeTz::Fixed(off));
        }
        if let Some(off) = abbreviation_offset(s) {
            return Some(AssumeTz::Fixed(off));
        }
        // Kyiv was renamed from Kiev in tzdata 2022b; accept both spellings.
        let name = if s.eq_ignore_ascii_case("Europe/Kyiv") {
            "Europe/Kiev"
        } else {
            s
        };
        name.parse::<Tz>().ok().map(AssumeTz::Iana)
    }
    /// Converts a naive local time (seconds since epoch as if UTC) to UTC seconds.
    pub fn local_to_utc(&self, naive: NaiveDateTime) -> Option<i64> {
        match self {
            AssumeTz::Fixed(off) => Some(naive.and_utc().timestamp() - *off as i64),
            AssumeTz::Iana(tz) => {
                let r = tz.from_local_datetime(&naive);
                // In a DST fold take the earlier instant; in a gap, shift by an hour.
                match r.earliest() {
                    Some(dt) => Some(dt.with_timezone(&Utc).timestamp()),
                    None => tz
                        .from_local_datetime(&(naive + chrono::Duration::hours(1)))
                        .earliest()
                        .map(|dt| dt.with_timezone(&Utc).timestamp()),
                }
            }
        }
    }
    /// For a UTC instant that `local_to_utc` read from a local time in a daylight-saving
    /// fold (the hour a change back repeats, where it takes the earlier instant): how
    /// many seconds later the other reading of that local time is. 0 elsewhere and for
    /// fixed offsets.
    pub fn fold_after(&self, utc_us: i64) -> i32 {
        let AssumeTz::Iana(tz) = self else {
            return 0;
        };
        let Some(t) = DateTime::from_timestamp_micros(utc_us) else {
            return 0;
        };
        let local = tz.from_utc_datetime(&t.naive_utc()).naive_local();
        match tz.from_local_datetime(&local) {
            chrono::LocalResult::Ambiguous(a, b) => {
                let (early, late) = (
                    a.timestamp().min(b.timestamp()),
                    a.timestamp().max(b.timestamp()),
                );
                if early == t.timestamp() {
                    (late - early) as i32
                } else {
                    0
                }
            }
            _ => 0,
        }
    }
    /// The offset in effect at a UTC instant (for display).
    pub fn offset_at(&self, utc_us: i64) -> i32 {
        match self {
            AssumeTz::Fixed(off) => *off,
            AssumeTz::Iana(tz) => {
                let dt = DateTime::from_timestamp_micros(utc_us).unwrap_or_default();
                tz.offset_from_utc_datetime(&dt.naive_utc())
                    .fix()
                    .local_minus_utc()
            }
        }
    }
}

/// `+02:00`, `-0500`, `+03`, `Z` → seconds east of UTC.
pub fn parse_offset(s: &str) -> Option<i32> {
    let b = s.as_bytes();
    if s == "Z" || s == "z" {
        return Some(0);
    }
    if b.is_empty() || (b[0] != b'+' && b[0] != b'-') {
        return None;
    }
    let sign = if b[0] == b'-' { -1 } else { 1 };
    let digits: Vec<u8> = b[1..].iter().copied().filter(|c| *c != b':').collect();
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let (h, m) = match digits.len() {
        2 => (num(&digits[0..2])?, 0),
        4 => (num(&digits[0..2])?, num(&digits[2..4])?),
        _ => return None,
    };
    if h > 18 || m > 59 {
        return None;
    }
    Some(sign * (h as i32 * 3600 + m as i32 * 60))
}

/// Zone abbreviations real logs print (PostgreSQL `log_timezone`, BigQuery `UTC`), as
/// tzdata names them now and did before 2017 (when many zones lost their letters and
/// print `+03`, `-03`, which `parse_offset` reads). Ambiguous ones follow their most
/// common server meaning: IST India, CST US Central, AST Atlantic.
pub fn abbreviation_offset(s: &str) -> Option<i32> {
    let h = |x: i32| Some(x * 3600);
    let hm = |x: i32, m: i32| Some(x * 3600 + x.signum() * m * 60);
    match s {
        "UTC" | "GMT" | "Z" | "UCT" | "WET" | "Etc/UTC" => h(0),
        "BST" | "WEST" | "CET" | "MET" | "WAT" => h(1),
        "CEST" | "MEST" | "EET" | "SAST" | "CAT" => h(2),
        "EEST" | "MSK" | "EAT" | "TRT" | "IDT" => h(3),
        "IRST" => hm(3, 30),
        "GST" | "MSD" | "AZT" | "GET" => h(4),
        "IRDT" => hm(4, 30),
        "PKT" | "UZT" => h(5),
        "IST" => hm(5, 30),
        "NPT" => hm(5, 45),
        "ALMT" | "BTT" => h(6),
        "ICT" | "WIB" => h(7),
        "HKT" | "SGT" | "AWST" | "PHT" | "MYT" | "WITA" => h(8),
        "JST" | "KST" | "WIT" => h(9),
        "ACST" => hm(9, 30),
        "AEST" | "ChST" => h(10),
        "ACDT" => hm(10, 30),
        "AEDT" => h(11),
        "NZST" => h(12),
        "NZDT" => h(13),
        "NDT" => hm(-2, 30),
        "BRST" => h(-2),
        "NST" => hm(-3, 30),
        "ADT" | "BRT" | "ART" | "UYT" | "CLST" => h(-3),
        "AST" | "EDT" | "CLT" | "VET" | "BOT" | "PYT" => h(-4),
        "EST" | "CDT" | "COT" | "PET" => h(-5),
        "CST" | "MDT" => h(-6),
        "MST" | "PDT" => h(-7),
        "PST" | "AKDT" => h(-8),
        "AKST" | "HDT" => h(-9),
        "HST" => h(-10),
        _ => None,
    }
}

#[inline]
fn num(b: &[u8]) -> Option<u32> {
    let mut n: u32 = 0;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        n = n * 10 + (c - b'0') as u32;
    }
    Some(n)
}

fn month_abbr(b: &[u8]) -> Option<u32> {
    Some(match b {
        b"Jan" => 1,
        b"Feb" => 2,
        b"Mar" => 3,
        b"Apr" => 4,
        b"May" => 5,
        b"Jun" => 6,
        b"Jul" => 7,
        b"Aug" => 8,
        b"Sep" => 9,
        b"Oct" => 10,
        b"Nov" => 11,
        b"Dec" => 12,
        _ => return None,
    })
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm), validated.
fn days_from_civil(y: i64, m: u32, d: u32) -> Option<i64> {
    if !(1..=12).contains(&m) || d == 0 || d > 31 {
        return None;
    }
    NaiveDate::from_ymd_opt(y as i32, m, d)?;
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146097 + doe - 719468)
}

fn hms(b: &[u8]) -> Option<i64> {
    if b.len() < 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    let (h, m, s) = (num(&b[0..2])?, num(&b[3..5])?, num(&b[6..8])?);
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    Some(h as i64 * 3600 + m as i64 * 60 + s as i64)
}

/// Parses `.123456` style fractions; returns (micros, bytes consumed).
fn fraction(b: &[u8]) -> (i64, usize) {
    if b.first() != Some(&b'.') && b.first() != Some(&b',') {
        return (0, 0);
    }
    let mut us: i64 = 0;
    let mut n = 0;
    let mut i = 1;
    while i < b.len() && b[i].is_ascii_digit() {
        if n < 6 {
            us = us * 10 + (b[i] - b'0') as i64;
            n += 1;
        }
        i += 1;
    }
    if i == 1 {
        // A bare trailing separator (`12:00:00.`): consume it, no fraction.
        return (0, 1);
    }
    while n < 6 {
        us *= 10;
        n += 1;
    }
    (us, i)
}

/// Result of parsing a timestamp: UTC micros and whether a zone was assumed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parsed {
    /// UTC microseconds since the epoch.
    pub us: i64,
    /// No zone in the text; `--assume-tz` (or UTC) was applied.
    pub assumed: bool,
}

/// CLF time `05/Mar/2024:14:22:01 +0000` (with or without the surrounding brackets).
pub fn parse_clf(s: &str) -> Option<i64> {
    let s = s.trim_matches(|c| c == '[' || c == ']');
    let b = s.as_bytes();
    if b.len() < 20 || b[2] != b'/' || b[6] != b'/' || b[11] != b':' {
        return None;
    }
    let d = num(&b[0..2])?;
    let m = month_abbr(&b[3..6])?;
    let y = num(&b[7..11])? as i64;
    let secs = hms(&b[12..20])?;
    let (frac, used) = fraction(&b[20..]);
    let rest = s[20 + used..].trim();
    let off = if rest.is_empty() {
        0
    } else {
        parse_offset(rest)?
    };
    let days = days_from_civil(y, m, d)?;
    Some((days * 86400 + secs - off as i64) * 1_000_000 + frac)
}

/// ISO-8601 / RFC 3339 / SQL-style `YYYY-MM-DD[T ]HH:MM:SS[.f][Z|±hh[:mm]| ABBR]`, also
/// `YYYYMMDD HH:MM:SS` (MariaDB). Zone-less text takes `assume`.
pub fn parse_iso(s: &str, assume: &AssumeTz) -> Option<Parsed> {
    let s = s.trim();
    let b = s.as_bytes();
    let (days, rest_at) = if b.len() >= 10 && b[4] == b'-' && b[7] == b'-' {
        (
            days_from_civil(num(&b[0..4])? as i64, num(&b[5..7])?, num(&b[8..10])?)?,
            10,
        )
    } else if b.len() >= 8 && b[..8].iter().all(u8::is_ascii_digit) {
        (
            days_from_civil(num(&b[0..4])? as i64, num(&b[4..6])?, num(&b[6..8])?)?,
            8,
        )
    } else {
        return None;
    };
    let b2 = &b[rest_at..];
    if b2.is_empty() {
        return local(days * 86400, 0, assume);
    }
    if b2[0] != b'T' && b2[0] != b' ' && b2[0] != b't' {
        return None;
    }
    let secs = hms(&b2[1..])?;
    let (frac, used) = fraction(&b2[9..]);
    let zone = s[rest_at + 9 + used..].trim();
    let base = days * 86400 + secs;
    if zone.is_empty() {
        return local(base, frac, assume);
    }
    let off = parse_offset(zone)
        .or_else(|| abbreviation_in(assume, zone, base))
        .or_else(|| abbreviation_offset(zone))?;
    Some(Parsed {
        us: (base - off as i64) * 1_000_000 + frac,
        assumed: false,
    })
}

/// A zone abbreviation as the `--assume-tz` zone prints it at that local time: `IST` is
/// +01:00 in Europe/Dublin and +02:00 in Asia/Jerusalem where the table's common meaning
/// is India's +05:30, and `CST` is −05:00 in Cuba. The responder names the server's zone;
/// an abbreviation it does not print keeps the table's meaning.
fn abbreviation_in(assume: &AssumeTz, zone: &str, local_secs: i64) -> Option<i32> {
    use chrono::offset::LocalResult;
    use chrono_tz::OffsetName;
    let AssumeTz::Iana(tz) = assume else {
        return None;
    };
    if !zone.bytes().all(|b| b.is_ascii_alphabetic()) {
        return None;
    }
    let naive = DateTime::from_timestamp(local_secs, 0)?.naive_utc();
    let (a, b) = match tz.offset_from_local_datetime(&naive) {
        LocalResult::Single(o) => (Some(o), None),
        LocalResult::Ambiguous(x, y) => (Some(x), Some(y)),
        LocalResult::None => (None, None),
    };
    [a, b]
        .into_iter()
        .flatten()
        .find(|o| o.abbreviation() == Some(zone))
        .map(|o| o.fix().local_minus_utc())
}

fn local(base: i64, frac: i64, assume: &AssumeTz) -> Option<Parsed> {
    let naive = DateTime::from_timestamp(base, 0)?.naive_utc();
    Some(Parsed {
        us: assume.local_to_utc(naive)? * 1_000_000 + frac,
        assumed: true,
    })
}

/// An epoch number of unknown unit, decided by magnitude (s, ms, µs, ns). Accepts
/// fractions (`1709648521.123`) and BigQuery's float seconds (`1.709648700412873E9`).
pub fn parse_epoch(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if s.contains(['.', 'e', 'E']) {
        let f: f64 = s.parse().ok()?;
        if !f.is_finite() || f <= 0.0 {
            return None;
        }
        return epoch_magnitude_f(f);
    }
    let n: i64 = s.parse().ok()?;
    epoch_magnitude(n)
}

/// An integer epoch by magnitude into µs.
pub fn epoch_magnitude(n: i64) -> Option<i64> {
    if n <= 0 {
        return None;
    }
    Some(if n > 100_000_000_000_000_000 {
        n / 1000
    } else if n > 100_000_000_000_000 {
        n
    } else if n > 100_000_000_000 {
        n * 1000
    } else {
        n * 1_000_000
    })
}

fn epoch_magnitude_f(f: f64) -> Option<i64> {
    let us = if f > 1e17 {
        f / 1000.0
    } else if f > 1e14 {
        f
    } else if f > 1e11 {
        f * 1000.0
    } else {
        f * 1e6
    };
    Some(us.round() as i64)
}

/// Any of the above, tried in order: ISO/SQL, CLF, epoch.
pub fn parse_any(s: &str, assume: &AssumeTz) -> Option<Parsed> {
    let t = s.trim();
    if let Some(p) = parse_iso(t, assume) {
        return Some(p);
    }
    if let Some(us) = parse_clf(t) {
        return Some(Parsed { us, assumed: false });
    }
    parse_epoch(t).map(|us| Parsed { us, assumed: false })
}

/// RFC 3339 with `Z`, microsecond precision: `2025-11-04T06:12:33.123456Z`.
pub fn fmt_utc(us: i64) -> String {
    match DateTime::from_timestamp_micros(us) {
        Some(dt) => {
            rfc3339_z(&dt, true).unwrap_or_else(|| dt.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string())
        }
        None => String::from("invalid"),
    }
}

/// RFC 3339 with `Z`, whole seconds (for summaries).
pub fn fmt_utc_s(us: i64) -> String {
    match DateTime::from_timestamp_micros(us) {
        Some(dt) => {
            rfc3339_z(&dt, false).unwrap_or_else(|| dt.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        }
        None => String::from("invalid"),
    }
}

/// What `format("%Y-%m-%dT%H:%M:%S[%.6f]Z")` writes, written digit by digit: timelines
/// format a time per event, and chrono parses the format string at every call. `None`
/// for years outside 0–9999, which chrono writes with a sign.
fn rfc3339_z(dt: &DateTime<chrono::Utc>, micros: bool) -> Option<String> {
    use chrono::{Datelike, Timelike};
    let year = u32::try_from(dt.year()).ok().filter(|y| *y <= 9999)?;
    let mut b = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (at..at + width).rev() {
            b[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, dt.month());
    put(8, 2, dt.day());
    put(11, 2, dt.hour());
    put(14, 2, dt.minute());
    put(17, 2, dt.second());
    let end = if micros {
        put(20, 6, dt.nanosecond() / 1000);
        27
    } else {
        b[19] = b'Z';
        20
    };
    Some(String::from_utf8_lossy(&b[..end]).into_owned())
}

/// RFC 3339 in a display zone; `Z` when the zone is UTC.
pub fn fmt_in(us: i64, tz: Option<&AssumeTz>) -> String {
    let Some(tz) = tz else {
        return fmt_utc(us);
    };
    let off = tz.offset_at(us);
    if off == 0 {
        return fmt_utc(us);
    }
    let fo = FixedOffset::east_opt(off).unwrap_or_else(|| FixedOffset::east_opt(0).expect("0"));
    match DateTime::from_timestamp_micros(us) {
        Some(dt) => dt
            .with_timezone(&fo)
            .format("%Y-%m-%dT%H:%M:%S%.6f%:z")
            .to_string(),
        None => String::from("invalid"),
    }
}

/// RFC 3339 with an explicit `+00:00` offset and µs (Timesketch's `datetime`).
pub fn fmt_offset_utc(us: i64) -> String {
    match DateTime::from_timestamp_micros(us) {
        Some(dt) => dt.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
        None => String::from("invalid"),
    }
}

/// Parses a user-given time bound (`--since`): RFC 3339, date, or SQL-style; zone-less is UTC.
pub fn parse_bound(s: &str) -> Option<i64> {
    parse_any(s, &AssumeTz::Fixed(0)).map(|p| p.us)
}

/// Parses a duration: a number with a unit (`30m`, `90s`, `2h`, `1500ms`, `0.5d`), units
/// in a row as Go and systemd write them (`1h30m`, `59m30s`, `2m3.5s`), or a clock
/// difference (`01:02:03`, `00:00:37.250`, `2:30`, read as hours and minutes); a leading
/// `-` or `+` signs the whole.
pub fn parse_duration_us(s: &str) -> Option<i64> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let v = if s.contains(':') {
        clock_us(s)?
    } else {
        units_us(s)?
    };
    Some(if neg { -v } else { v })
}

/// `H:MM`, `H:MM:SS` or `H:MM:SS.fff` as µs.
fn clock_us(s: &str) -> Option<i64> {
    let parts: Vec<&str> = s.split(':').collect();
    if !(2..=3).contains(&parts.len()) {
        return None;
    }
    let int = |p: &str| -> Option<i64> {
        (!p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse().ok())
            .flatten()
    };
    let h = int(parts[0])?;
    let m = int(parts[1])?;
    if m >= 60 {
        return None;
    }
    let sec = match parts.get(2) {
        None => 0.0,
        Some(p) => {
            let (whole, _) = p.split_once('.').unwrap_or((p, ""));
            if whole.len() != 2 || int(whole)? >= 60 {
                return None;
            }
            p.parse::<f64>().ok().filter(|f| f.is_finite())?
        }
    };
    let v = ((h * 3600 + m * 60) as f64 + sec) * 1e6;
    (v.abs() < 9e18).then(|| v.round() as i64)
}

/// One or more `<number><unit>` terms, largest unit first, as µs.
fn units_us(mut s: &str) -> Option<i64> {
    let mut total = 0f64;
    let mut last = f64::INFINITY;
    if s.is_empty() {
        return None;
    }
    while !s.is_empty() {
        let split = s.find(|c: char| !c.is_ascii_digit() && c != '.')?;
        let (n, rest) = s.split_at(split);
        let ulen = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (unit, rest) = rest.split_at(ulen);
        let n: f64 = n.parse().ok()?;
        let mult = match unit {
            "us" | "µs" => 1.0,
            "ms" => 1e3,
            "s" | "sec" => 1e6,
            "m" | "min" => 60e6,
            "h" => 3600e6,
            "d" => 86400e6,
            _ => return None,
        };
        // `30s1h` or `1m1m` is a typo, not a duration.
        if mult >= last {
            return None;
        }
        last = mult;
        total += n * mult;
        s = rest;
    }
    (total.is_finite() && total.abs() < 9e18).then(|| total.round() as i64)
}

#[cfg(test)]
mod tests {

    #[test]
    fn fast_utc_format_matches_chrono() {
        let chrono_fmt = |us: i64, f: &str| {
            DateTime::from_timestamp_micros(us)
                .unwrap()
                .format(f)
                .to_string()
        };
        let mut us: i64 = -62_167_219_200_000_000; // 0000-01-01
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            assert_eq!(
                fmt_utc(us),
                chrono_fmt(us, "%Y-%m-%dT%H:%M:%S%.6fZ"),
                "{us}"
            );
            assert_eq!(fmt_utc_s(us), chrono_fmt(us, "%Y-%m-%dT%H:%M:%SZ"), "{us}");
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            us += (x % 40_000_000_000_000) as i64;
        }
        // Outside 0–9999 chrono's own text is kept.
        for us in [
            -62_167_219_200_000_001,
            253_402_300_800_000_000,
            1_000_000_000_000_000_000,
        ] {
            assert_eq!(fmt_utc(us), chrono_fmt(us, "%Y-%m-%dT%H:%M:%S%.6fZ"));
        }
    }

    use super::*;

    const UTC: AssumeTz = AssumeTz::Fixed(0);

    #[test]
    fn clf_with_offset() {
        let us = parse_clf("05/Mar/2024:15:22:01 +0100").unwrap();
        assert_eq!(fmt_utc_s(us), "2024-03-05T14:22:01Z");
        assert!(parse_clf("05/Foo/2024:15:22:01 +0100").is_none());
        assert!(parse_clf("garbage").is_none());
    }

    #[test]
    fn pg_abbreviations() {
        let p = parse_iso("2025-11-04 08:12:33.123 EET", &UTC).unwrap();
        assert_eq!(fmt_utc(p.us), "2025-11-04T06:12:33.123000Z");
        assert!(!p.assumed);
        let p = parse_iso("2025-07-04 09:12:33 EEST", &UTC).unwrap();
        assert_eq!(fmt_utc_s(p.us), "2025-07-04T06:12:33Z");
        assert!(parse_iso("2025-07-04 09:12:33 XYZT", &UTC).is_none());
        // Zones tzdata names by their offset since 2017, and older names of the same.
        for (t, want) in [
            ("2025-11-04 09:12:33 +03", "2025-11-04T06:12:33Z"),
            ("2025-11-04 03:12:33 -03", "2025-11-04T06:12:33Z"),
            ("2025-11-04 11:57:33 +0545", "2025-11-04T06:12:33Z"),
            ("2025-11-04 03:12:33 BRT", "2025-11-04T06:12:33Z"),
            ("2025-11-04 09:42:33 IRST", "2025-11-04T06:12:33Z"),
            ("2025-11-04 02:42:33 NST", "2025-11-04T06:12:33Z"),
        ] {
            assert_eq!(fmt_utc_s(parse_iso(t, &UTC).unwrap().us), want, "{t}");
        }
    }

    #[test]
    fn ambiguous_abbreviations_follow_the_assumed_zone() {
        let tz = |z: &str| AssumeTz::parse(z).unwrap();
        for (t, zone, want) in [
            // Without a zone, or in one that does not print it: the common meaning.
            ("2025-07-04 11:42:33 IST", "UTC", "2025-07-04T06:12:33Z"),
            (
                "2025-07-04 11:42:33 IST",
                "Europe/Kyiv",
                "2025-07-04T06:12:33Z",
            ),
            (
                "2025-07-04 11:42:33 IST",
                "Asia/Kolkata",
                "2025-07-04T06:12:33Z",
            ),
            // Irish summer time, Israel's standard and daylight time, Cuba's CST / CDT.
            (
                "2025-07-04 07:12:33 IST",
                "Europe/Dublin",
                "2025-07-04T06:12:33Z",
            ),
            (
                "2025-11-04 08:12:33 IST",
                "Asia/Jerusalem",
                "2025-11-04T06:12:33Z",
            ),
            (
                "2025-07-04 09:12:33 IDT",
                "Asia/Jerusalem",
                "2025-07-04T06:12:33Z",
            ),
            (
                "2025-11-04 01:12:33 CST",
                "America/Havana",
                "2025-11-04T06:12:33Z",
            ),
            (
                "2025-11-04 00:12:33 CST",
                "America/Chicago",
                "2025-11-04T06:12:33Z",
            ),
            (
                "2025-11-04 14:12:33 CST",
                "Asia/Shanghai",
                "2025-11-04T06:12:33Z",
            ),
            // The hour a change back repeats: the printed abbreviation decides.
            (
                "2025-11-02 01:30:00 CDT",
                "America/Chicago",
                "2025-11-02T06:30:00Z",
            ),
            (
                "2025-11-02 01:30:00 CST",
                "America/Chicago",
                "2025-11-02T07:30:00Z",
            ),
        ] {
            let p = parse_iso(t, &tz(zone)).unwrap();
            assert_eq!(fmt_utc_s(p.us), want, "{t} in {zone}");
            assert!(!p.assumed);
        }
    }

    #[test]
    fn bigquery_and_rfc3339() {
        let p = parse_iso("2025-11-04 06:12:33.123456 UTC", &UTC).unwrap();
        assert_eq!(fmt_utc(p.us), "2025-11-04T06:12:33.123456Z");
        let p = parse_iso("2025-11-04T08:12:33+02:00", &UTC).unwrap();
        assert_eq!(fmt_utc_s(p.us), "2025-11-04T06:12:33Z");
        let p = parse_iso("2024-03-05T14:22:01.204Z", &UTC).unwrap();
        assert_eq!(fmt_utc(p.us), "2024-03-05T14:22:01.204000Z");
    }

    #[test]
    fn naive_takes_assumed_zone_with_dst() {
        let kyiv = AssumeTz::parse("Europe/Kyiv").unwrap();
        let p = parse_iso("20251104 08:00:00", &kyiv).unwrap();
        assert!(p.assumed);
        assert_eq!(fmt_utc_s(p.us), "2025-11-04T06:00:00Z");
        let p = parse_iso("20250704 08:00:00", &kyiv).unwrap();
        assert_eq!(fmt_utc_s(p.us), "2025-07-04T05:00:00Z");
        let fixed = AssumeTz::parse("+03:00").unwrap();
        let p = parse_iso("2025-07-04 08:00:00.41", &fixed).unwrap();
        assert_eq!(fmt_utc(p.us), "2025-07-04T05:00:00.410000Z");
    }

    #[test]
    fn a_time_in_a_fold_reads_as_the_first_pass_and_knows_the_second() {
        // New York sets clocks back at 02:00 EDT on 2 November 2025: 01:30 happens at
        // 05:30Z and again at 06:30Z.
        let ny = AssumeTz::parse("America/New_York").unwrap();
        let p = parse_iso("20251102 01:30:00", &ny).unwrap();
        assert_eq!(fmt_utc_s(p.us), "2025-11-02T05:30:00Z");
        assert_eq!(ny.fold_after(p.us), 3_600);
        // The second pass, the hours around the fold, and fixed offsets have none.
        for t in [
            "2025-11-02T06:30:00Z",
            "2025-11-02T04:59:59Z",
            "2025-11-02T07:00:00Z",
        ] {
            assert_eq!(ny.fold_after(parse_bound(t).unwrap()), 0, "{t}");
        }
        let fixed = AssumeTz::parse("-05:00").unwrap();
        assert_eq!(fixed.fold_after(p.us), 0);
        // Lord Howe Island sets its clocks back by half an hour.
        let lh = AssumeTz::parse("Australia/Lord_Howe").unwrap();
        let p = parse_iso("20250406 01:45:00", &lh).unwrap();
        assert_eq!(lh.fold_after(p.us), 1_800);
    }

    #[test]
    fn epochs_by_magnitude() {
        let s = parse_epoch("1709648521").unwrap();
        assert_eq!(parse_epoch("1709648521000"), Some(s));
        assert_eq!(parse_epoch("1709648521000000"), Some(s));
        assert_eq!(parse_epoch("1709648521000000000"), Some(s));
        assert_eq!(parse_epoch("1709648521.5"), Some(s + 500_000));
        assert_eq!(
            parse_epoch("1.709648700412873E9"),
            Some(1_709_648_700_412_873)
        );
        assert_eq!(parse_epoch("-"), None);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration_us("30m"), Some(1_800_000_000));
        assert_eq!(parse_duration_us("-45s"), Some(-45_000_000));
        assert_eq!(parse_duration_us("1500ms"), Some(1_500_000));
        assert_eq!(parse_duration_us("x"), None);
        assert_eq!(parse_duration_us("1h30m"), Some(5_400_000_000));
        assert_eq!(parse_duration_us("-59m30s"), Some(-3_570_000_000));
        assert_eq!(parse_duration_us("2m3.5s"), Some(123_500_000));
        assert_eq!(parse_duration_us("-00:00:37.250"), Some(-37_250_000));
        assert_eq!(parse_duration_us("+01:02:03"), Some(3_723_000_000));
        assert_eq!(parse_duration_us("2:30"), Some(9_000_000_000));
        for bad in [
            "", "-", "30s1h", "1m1m", "1h30", "1:60", "1:2:3", "1:02:3x", "1::02", "h", "1e9999h",
        ] {
            assert_eq!(parse_duration_us(bad), None, "{bad}");
        }
    }

    #[test]
    fn display_zone() {
        let us = parse_bound("2025-11-04T06:00:00Z").unwrap();
        let kyiv = AssumeTz::parse("Europe/Kyiv").unwrap();
        assert_eq!(fmt_in(us, Some(&kyiv)), "2025-11-04T08:00:00.000000+02:00");
        assert_eq!(fmt_in(us, None), "2025-11-04T06:00:00.000000Z");
    }
}
