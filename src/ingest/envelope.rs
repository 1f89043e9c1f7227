//! AWS CloudWatch Logs envelopes around any evidence format: `filter-log-events` /
//! `get-log-events` JSON, subscription-filter payloads (also concatenated `}{` as Firehose
//! writes them), S3 export lines with an ISO time prefix, `aws logs tail` lines (time and
//! stream name before each message), Logs Insights CSV, OneSignal's
//! paged `{"notifications":[…]}`, decrypted RDS activity-stream batches, and syslog lines.
//! Unwrapped before the inner format is detected.

use super::frame::Framing;
use super::pgaudit::csv_split;
use crate::timeparse::epoch_magnitude;
use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

/// An envelope kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Envelope {
    /// `{"events":[{"timestamp":…,"message":"…"}]}` or `{"logEvents":[…]}` payloads.
    CloudWatchJson,
    /// S3 export: `2024-03-05T14:22:01.204Z <message>` per line.
    S3Export,
    /// `aws logs tail`: `2024-03-05T14:22:01.204000+00:00 <stream> <message>` per line.
    Tail,
    /// Logs Insights CSV: `@timestamp,@message`.
    InsightsCsv,
    /// `{"notifications":[…]}` pages.
    NotificationsPage,
    /// Decrypted Database Activity Streams batches:
    /// `{"type":"DatabaseActivityMonitoringRecord","databaseActivityEventList":[…]}`.
    ActivityBatch,
    /// Syslog lines (traditional, high-precision or RFC 5424 headers).
    Syslog,
}

impl Envelope {
    /// Name for the inventory (`cloudwatch-json+apigw-json`).
    pub fn name(self) -> &'static str {
        match self {
            Envelope::CloudWatchJson => "cloudwatch-json",
            Envelope::S3Export => "cloudwatch-s3",
            Envelope::Tail => "cloudwatch-tail",
            Envelope::InsightsCsv => "cloudwatch-insights-csv",
            Envelope::NotificationsPage => "onesignal-page",
            Envelope::ActivityBatch => "rds-activity-batch",
            Envelope::Syslog => "syslog",
        }
    }
    /// How envelope records are framed.
    pub fn framing(self) -> Framing {
        match self {
            Envelope::CloudWatchJson => Framing::CloudWatch,
            Envelope::NotificationsPage | Envelope::ActivityBatch => Framing::Json,
            Envelope::S3Export | Envelope::Tail => Framing::TimePrefixed,
            Envelope::InsightsCsv => Framing::Csv,
            Envelope::Syslog => Framing::Syslog,
        }
    }
}

/// Length of an S3 export line's time prefix, `2024-03-05T14:22:01.204Z `.
const S3_PREFIX_LEN: usize = 25;

/// Whether a line opens an S3 export record (`2024-03-05T14:22:01.204Z <message>`). A
/// message of several lines (a PostgreSQL statement) is exported as written, so the lines
/// after its first carry no prefix: indented, they continue the record.
pub fn s3_prefixed(l: &[u8]) -> bool {
    const SHAPE: &[u8; S3_PREFIX_LEN] = b"dddd-dd-ddTdd:dd:dd.dddZ ";
    l.len() >= S3_PREFIX_LEN
        && SHAPE.iter().zip(l).all(|(&want, &b)| match want {
            b'd' => b.is_ascii_digit(),
            w => b == w,
        })
}
/// Where the message of an `aws logs tail` line starts, and the end of its time: the
/// CLI prints the time as Python's `isoformat` does (`2024-03-05T14:22:01.204000+00:00`,
/// the fraction left out on a whole second: always an offset, never `Z`, which keeps it
/// apart from an S3 export's), then the log stream's name.
pub fn tail_prefixed(l: &str) -> Option<(usize, usize)> {
    let b = l.as_bytes();
    const SHAPE: &[u8; 19] = b"dddd-dd-ddTdd:dd:dd";
    if b.len() < 27
        || !SHAPE.iter().zip(b).all(|(&want, &c)| match want {
            b'd' => c.is_ascii_digit(),
            w => c == w,
        })
    {
        return None;
    }
    let mut i = 19;
    if b[i] == b'.' {
        i += 1;
        let d = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if d == 0 {
            return None;
        }
        i += d;
    }
    let zone = b.get(i..i + 6)?;
    if !(matches!(zone[0], b'+' | b'-')
        && zone[1..3].iter().all(u8::is_ascii_digit)
        && zone[3] == b':'
        && zone[4..6].iter().all(u8::is_ascii_digit))
    {
        return None;
    }
    let ts_end = i + 6;
    if b.get(ts_end) != Some(&b' ') {
        return None;
    }
    let stream = b[ts_end + 1..]
        .iter()
        .take_while(|c| !c.is_ascii_whitespace())
        .count();
    let at = ts_end + 1 + stream;
    (stream > 0 && b.get(at) == Some(&b' ')).then_some((at + 1, ts_end))
}

static MESSAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""message"\s*:\s*("(?:[^"\\]|\\.)*")"#).expect("static regex"));

/// Detects an envelope from the head of a stream.
pub fn detect(head: &str) -> Option<Envelope> {
    let t = head.trim_start();
    if t.starts_with(['{', '[']) && t.contains("\"databaseActivityEventList\"") {
        return Some(Envelope::ActivityBatch);
    }
    if t.starts_with('{') {
        let first_key = t.strip_prefix('{').unwrap_or(t).trim_start();
        if (first_key.starts_with("\"events\"") || t.contains("\"logEvents\""))
            && t.contains("\"message\"")
            || t.starts_with("{\"messageType\"")
        {
            return Some(Envelope::CloudWatchJson);
        }
        if t.contains("\"notifications\"")
            && (t.contains("\"total_count\"") || t.contains("\"offset\""))
        {
            return Some(Envelope::NotificationsPage);
        }
    }
    let first_line = t.lines().next().unwrap_or("");
    if first_line.starts_with("@timestamp,@message")
        || first_line.starts_with("\"@timestamp\",\"@message\"")
    {
        return Some(Envelope::InsightsCsv);
    }
    // Export lines, and lines that continue a message (two export lines at least, or
    // indented followers of one); the head's last line may be cut short.
    let lines: Vec<&str> = t.lines().take(10).collect();
    let whole = &lines[..lines.len().saturating_sub(1).max(lines.len().min(1))];
    let opening = whole.iter().filter(|l| s3_prefixed(l.as_bytes())).count();
    if whole.first().is_some_and(|l| s3_prefixed(l.as_bytes()))
        && (opening >= 2 || whole[1..].iter().all(|l| l.starts_with([' ', '\t'])))
    {
        return Some(Envelope::S3Export);
    }
    // rsyslog's high-precision lines have the same time: `host tag[pid]: ` is syslog's.
    if super::syslog::detect(t) {
        return Some(Envelope::Syslog);
    }
    let opening = whole.iter().filter(|l| tail_prefixed(l).is_some()).count();
    if whole.first().is_some_and(|l| tail_prefixed(l).is_some())
        && (opening >= 2 || whole[1..].iter().all(|l| l.starts_with([' ', '\t'])))
    {
        return Some(Envelope::Tail);
    }
    None
}

/// Inner messages of a head, for detecting the inner format.
pub fn head_messages(env: Envelope, head: &str) -> String {
    match env {
        Envelope::S3Export => {
            let mut out = String::new();
            for l in head.lines() {
                if s3_prefixed(l.as_bytes()) {
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    out.push_str(&l[S3_PREFIX_LEN..]);
                } else if !out.is_empty() && l.starts_with([' ', '\t']) {
                    out.push('\n');
                    out.push_str(l);
                }
            }
            out
        }
        Envelope::Tail => {
            let mut out = String::new();
            for l in head.lines() {
                if let Some((at, _)) = tail_prefixed(l) {
                    if !out.is_empty() {
                        out.push('\n');
                    }
                    out.push_str(&l[at..]);
                } else if !out.is_empty() && l.starts_with([' ', '\t']) {
                    out.push('\n');
                    out.push_str(l);
                }
            }
            out
        }
        Envelope::CloudWatchJson => MESSAGE
            .captures_iter(head)
            .filter_map(|c| serde_json::from_str::<String>(&c[1]).ok())
            .collect::<Vec<_>>()
            .join("\n"),
        Envelope::InsightsCsv => head
            .lines()
            .skip(1)
            .filter_map(|l| csv_split(l).and_then(|f| f.get(1).cloned()))
            .collect::<Vec<_>>()
            .join("\n"),
        Envelope::NotificationsPage => {
            // Elements of the notifications array, re-serialized one per line.
            match serde_json::from_str::<Value>(head) {
                Ok(v) => items(&v, "notifications").join("\n"),
                Err(_) => head.to_string(),
            }
        }
        Envelope::Syslog => super::syslog::head_messages(head)
            .into_iter()
            .map(|(_, m)| m)
            .collect::<Vec<_>>()
            .join("\n"),
        Envelope::ActivityBatch => {
            // The batches the head holds whole (it may end inside one), one per line or
            // as elements of an array.
            let mut out = Vec::new();
            let mut rest = head.trim_start().trim_start_matches('[');
            loop {
                let mut values = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
                let Some(Ok(v)) = values.next() else { break };
                out.extend(activity_events(&v));
                rest = rest[values.byte_offset()..]
                    .trim_start()
                    .trim_start_matches(',');
            }
            out.join("\n")
        }
    }
}

/// The events of a decrypted activity-stream batch, each with the batch's cluster and
/// instance ids (the events do not repeat them).
fn activity_events(batch: &Value) -> Vec<String> {
    let Some(list) = batch
        .get("databaseActivityEventList")
        .and_then(|a| a.as_array())
    else {
        return Vec::new();
    };
    list.iter()
        .map(|ev| {
            let mut ev = ev.clone();
            if let Some(o) = ev.as_object_mut() {
                for k in ["clusterId", "instanceId"] {
                    if let (Some(x), false) = (batch.get(k), o.contains_key(k)) {
                        o.insert(k.to_string(), x.clone());
                    }
                }
            }
            ev.to_string()
        })
        .collect()
}

fn items(v: &Value, key: &str) -> Vec<String> {
    v.get(key)
        .and_then(|a| a.as_array())
        .map(|a| a.iter().map(|x| x.to_string()).collect())
        .unwrap_or_default()
}

/// One unwrapped inner record: its text and the envelope's time (µs), if any.
pub type Inner = (String, Option<i64>);

/// Unwraps one envelope record. `Err` is a malformed envelope record; an empty list is a
/// record with nothing inside (a CONTROL_MESSAGE).
pub fn unwrap(
    env: Envelope,
    rec: &str,
    header: bool,
    syslog: Option<&super::syslog::Ctx>,
) -> Result<Vec<Inner>, String> {
    match env {
        Envelope::Syslog => Ok(
            super::syslog::unwrap(rec, syslog.unwrap_or(&Default::default()))?
                .into_iter()
                .collect(),
        ),
        Envelope::S3Export => {
            if !s3_prefixed(rec.as_bytes()) {
                return Err("line lacks the export time prefix".into());
            }
            let ts = crate::timeparse::parse_iso(
                rec[..S3_PREFIX_LEN].trim(),
                &crate::timeparse::AssumeTz::Fixed(0),
            )
            .map(|p| p.us);
            Ok(vec![(rec[S3_PREFIX_LEN..].to_string(), ts)])
        }
        Envelope::Tail => {
            let (at, ts_end) =
                tail_prefixed(rec).ok_or("line lacks the time and stream of `aws logs tail`")?;
            let ts =
                crate::timeparse::parse_iso(&rec[..ts_end], &crate::timeparse::AssumeTz::Fixed(0))
                    .map(|p| p.us);
            Ok(vec![(rec[at..].to_string(), ts)])
        }
        Envelope::InsightsCsv => {
            if header {
                return Ok(Vec::new());
            }
            let f = csv_split(rec).ok_or("unparseable CSV row")?;
            let msg = f.get(1).ok_or("no @message column")?;
            let ts = f.first().and_then(|t| {
                crate::timeparse::parse_iso(t, &crate::timeparse::AssumeTz::Fixed(0)).map(|p| p.us)
            });
            Ok(vec![(msg.to_string(), ts)])
        }
        Envelope::CloudWatchJson => {
            // What follows a document's events array (`], "nextToken": …}`).
            if rec.trim_start().starts_with(']') {
                return Ok(Vec::new());
            }
            let v: Value = serde_json::from_str(rec.trim().trim_end_matches(','))
                .map_err(|e| format!("invalid envelope JSON: {e}"))?;
            if v.get("messageType").and_then(|m| m.as_str()) == Some("CONTROL_MESSAGE") {
                return Ok(Vec::new());
            }
            // One event of a document's array (the framer hands them on one by one), or
            // a payload with its list.
            let list = match v.get("events").or_else(|| v.get("logEvents")) {
                Some(list) => list
                    .as_array()
                    .map(Vec::as_slice)
                    .ok_or("envelope's events/logEvents is not an array")?,
                None if v.get("message").is_some() => std::slice::from_ref(&v),
                None => return Err("envelope has no events/logEvents array".into()),
            };
            Ok(list
                .iter()
                .filter_map(|ev| {
                    let msg = ev
                        .get("message")?
                        .as_str()?
                        .trim_end_matches('\n')
                        .to_string();
                    let ts = ev
                        .get("timestamp")
                        .and_then(|t| t.as_i64())
                        .and_then(epoch_magnitude);
                    Some((msg, ts))
                })
                .collect())
        }
        Envelope::NotificationsPage => {
            let v: Value = serde_json::from_str(rec.trim())
                .map_err(|e| format!("invalid notifications page: {e}"))?;
            Ok(items(&v, "notifications")
                .into_iter()
                .map(|s| (s, None))
                .collect())
        }
        Envelope::ActivityBatch => {
            let v: Value = serde_json::from_str(rec.trim().trim_end_matches(','))
                .map_err(|e| format!("invalid activity-stream batch: {e}"))?;
            if v.get("databaseActivityEventList")
                .is_none_or(|l| !l.is_array())
            {
                return Err("activity-stream batch has no databaseActivityEventList".into());
            }
            Ok(activity_events(&v).into_iter().map(|s| (s, None)).collect())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_logs_tail_lines() {
        let h = "2024-03-05T14:22:01.204000+00:00 3b7c2e1f9a8d4c6b {\"requestId\":\"a1\"}\n\
                 2024-03-05T14:22:02+00:00 3b7c2e1f9a8d4c6b {\"requestId\":\"a2\"}\n";
        assert_eq!(detect(h), Some(Envelope::Tail));
        assert_eq!(
            head_messages(Envelope::Tail, h),
            "{\"requestId\":\"a1\"}\n{\"requestId\":\"a2\"}"
        );
        let inner = unwrap(Envelope::Tail, h.lines().nth(1).unwrap(), false, None).unwrap();
        assert_eq!(
            inner[0],
            (
                "{\"requestId\":\"a2\"}".to_string(),
                Some(1_709_648_522_000_000)
            )
        );
        // An S3 export's `Z`, no stream, or no fraction digits: not a tail line.
        assert!(tail_prefixed("2024-03-05T14:22:01.204Z s {}").is_none());
        assert!(tail_prefixed("2024-03-05T14:22:01.204000+00:00 {}").is_none());
        assert!(tail_prefixed("2024-03-05T14:22:01.+00:00 s {}").is_none());
        assert!(unwrap(Envelope::Tail, "\tFROM customers", false, None).is_err());
    }

    #[test]
    fn s3_export() {
        let h = "2024-03-05T14:22:03.522Z {\"requestId\":\"x\"}\n2024-03-05T14:22:04.522Z {\"requestId\":\"y\"}\n";
        assert_eq!(detect(h), Some(Envelope::S3Export));
        let inner = unwrap(Envelope::S3Export, h.lines().next().unwrap(), false, None).unwrap();
        assert_eq!(inner[0].0, "{\"requestId\":\"x\"}");
    }

    #[test]
    fn s3_export_lines_without_the_prefix_continue_a_message() {
        let h = "2025-11-04T09:59:01.006Z 2025-11-04 11:59:01 EET:10.0.1.12(51544):app@loyalty:[20000]:LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,\"SELECT id\n\t  FROM customers\",<none>\n\
                 2025-11-04T09:59:02.006Z 2025-11-04 11:59:02 EET:10.0.1.12(51544):app@loyalty:[20000]:LOG:  AUDIT: SESSION,2,1,READ,SELECT,,,\"SELECT 1\",<none>\n";
        assert_eq!(detect(h), Some(Envelope::S3Export));
        let msgs = head_messages(Envelope::S3Export, h);
        assert_eq!(msgs.lines().count(), 3);
        assert!(msgs.starts_with("2025-11-04 11:59:01 EET:"));
        let rec = h.split_inclusive('\n').take(2).collect::<String>();
        let inner = unwrap(Envelope::S3Export, rec.trim_end(), false, None).unwrap();
        assert!(
            inner[0].0.ends_with("\t  FROM customers\",<none>"),
            "{inner:?}"
        );
        assert_eq!(inner[0].1, Some(1_762_250_341_006_000));
        assert!(unwrap(Envelope::S3Export, "\t  FROM customers", false, None).is_err());
        // One prefixed line among others is not an export; with indented followers it is.
        assert_eq!(detect("2025-11-04T09:59:01.006Z a\nb\nc\n"), None);
        assert_eq!(
            detect("2025-11-04T09:59:01.006Z a\n\tb\n\tc\n"),
            Some(Envelope::S3Export)
        );
        assert!(!s3_prefixed(b"2025-11-04T09:59:01.006Z"));
        assert!(!s3_prefixed(b"2025-11-04 09:59:01.006Z x"));
        assert_eq!(detect(""), None);
    }

    #[test]
    fn activity_batches_one_per_line_or_in_an_array() {
        let b = r#"{"type":"DatabaseActivityMonitoringRecord","clusterId":"cluster-4HNY","instanceId":"db-FZJT","databaseActivityEventList":[{"type":"heartbeat"},{"type":"record","logTime":"2024-03-05 14:25:00.004512+00","dbUserName":"svc","commandText":"SELECT 1"}]}"#;
        for head in [format!("{b}\n{b}\n{{\"type\":"), format!("[{b},\n{b},\n{{")] {
            assert_eq!(detect(&head), Some(Envelope::ActivityBatch));
            let inner = head_messages(Envelope::ActivityBatch, &head);
            assert_eq!(inner.lines().count(), 4, "{inner}");
            assert!(inner
                .lines()
                .nth(1)
                .unwrap()
                .contains("\"instanceId\":\"db-FZJT\""));
        }
        let inner = unwrap(Envelope::ActivityBatch, &format!("{b},"), false, None).unwrap();
        assert_eq!(inner.len(), 2);
        assert!(inner[1].0.contains("\"clusterId\":\"cluster-4HNY\""));
        assert!(unwrap(Envelope::ActivityBatch, r#"{"type":"x"}"#, false, None).is_err());
        assert!(unwrap(Envelope::ActivityBatch, "{\"type\":", false, None).is_err());
    }

    #[test]
    fn cloudwatch_json_and_control() {
        let r = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1709648521204,"message":"{\"a\":1}"},{"id":"2","timestamp":1709648521205,"message":"{\"a\":2}"}]}"#;
        assert_eq!(detect(r), Some(Envelope::CloudWatchJson));
        let inner = unwrap(Envelope::CloudWatchJson, r, false, None).unwrap();
        assert_eq!(inner.len(), 2);
        assert_eq!(inner[1].1, Some(1_709_648_521_205_000));
        assert_eq!(
            head_messages(Envelope::CloudWatchJson, r),
            "{\"a\":1}\n{\"a\":2}"
        );
        // One event of a document, as the framer hands it on, and the document's end.
        let one = unwrap(
            Envelope::CloudWatchJson,
            r#"{"logStreamName":"s","timestamp":1709648521204,"message":"{\"a\":3}\n"}"#,
            false,
            None,
        )
        .unwrap();
        assert_eq!(
            one,
            vec![("{\"a\":3}".to_string(), Some(1_709_648_521_204_000))]
        );
        let end = "],\n \"nextToken\": \"x\"\n}";
        assert!(unwrap(Envelope::CloudWatchJson, end, false, None)
            .unwrap()
            .is_empty());
        assert!(unwrap(Envelope::CloudWatchJson, r#"{"events":{}}"#, false, None).is_err());
        let c = r#"{"messageType":"CONTROL_MESSAGE","logEvents":[]}"#;
        assert!(unwrap(Envelope::CloudWatchJson, c, false, None)
            .unwrap()
            .is_empty());
        assert!(unwrap(Envelope::CloudWatchJson, "{\"events\":", false, None).is_err());
    }
}
