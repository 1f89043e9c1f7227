//! AWS CloudWatch Logs envelopes around any evidence format: `filter-log-events` /
//! `get-log-events` JSON, subscription-filter payloads (also concatenated `}{` as Firehose
//! writes them), S3 export lines with an ISO time prefix, Logs Insights CSV, and
//! OneSignal's paged `{"notifications":[…]}`. Unwrapped before the inner format is detected.

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
    /// Logs Insights CSV: `@timestamp,@message`.
    InsightsCsv,
    /// `{"notifications":[…]}` pages.
    NotificationsPage,
}

impl Envelope {
    /// Name for the inventory (`cloudwatch-json+apigw-json`).
    pub fn name(self) -> &'static str {
        match self {
            Envelope::CloudWatchJson => "cloudwatch-json",
            Envelope::S3Export => "cloudwatch-s3",
            Envelope::InsightsCsv => "cloudwatch-insights-csv",
            Envelope::NotificationsPage => "onesignal-page",
        }
    }
    /// How envelope records are framed.
    pub fn framing(self) -> Framing {
        match self {
            Envelope::CloudWatchJson | Envelope::NotificationsPage => Framing::Json,
            Envelope::S3Export => Framing::Lines,
            Envelope::InsightsCsv => Framing::Csv,
        }
    }
}

static S3_PREFIX: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ").expect("static regex")
});
static MESSAGE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""message"\s*:\s*("(?:[^"\\]|\\.)*")"#).expect("static regex"));

/// Detects an envelope from the head of a stream.
pub fn detect(head: &str) -> Option<Envelope> {
    let t = head.trim_start();
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
    let lines: Vec<&str> = t.lines().take(10).collect();
    if !lines.is_empty()
        && lines
            .iter()
            .take(lines.len().max(2) - 1)
            .all(|l| S3_PREFIX.is_match(l))
    {
        return Some(Envelope::S3Export);
    }
    None
}

/// Inner messages of a head, for detecting the inner format.
pub fn head_messages(env: Envelope, head: &str) -> String {
    match env {
        Envelope::S3Export => head
            .lines()
            .filter_map(|l| S3_PREFIX.find(l).map(|m| &l[m.end()..]))
            .collect::<Vec<_>>()
            .join("\n"),
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
    }
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
pub fn unwrap(env: Envelope, rec: &str, header: bool) -> Result<Vec<Inner>, String> {
    match env {
        Envelope::S3Export => {
            let m = S3_PREFIX
                .find(rec)
                .ok_or("line lacks the export time prefix")?;
            let ts = crate::timeparse::parse_iso(
                rec[..m.end()].trim(),
                &crate::timeparse::AssumeTz::Fixed(0),
            )
            .map(|p| p.us);
            Ok(vec![(rec[m.end()..].to_string(), ts)])
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
            let v: Value = serde_json::from_str(rec.trim().trim_end_matches(','))
                .map_err(|e| format!("invalid envelope JSON: {e}"))?;
            if v.get("messageType").and_then(|m| m.as_str()) == Some("CONTROL_MESSAGE") {
                return Ok(Vec::new());
            }
            let list = v
                .get("events")
                .or_else(|| v.get("logEvents"))
                .and_then(|a| a.as_array())
                .ok_or("envelope has no events/logEvents array")?;
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s3_export() {
        let h = "2024-03-05T14:22:03.522Z {\"requestId\":\"x\"}\n2024-03-05T14:22:04.522Z {\"requestId\":\"y\"}\n";
        assert_eq!(detect(h), Some(Envelope::S3Export));
        let inner = unwrap(Envelope::S3Export, h.lines().next().unwrap(), false).unwrap();
        assert_eq!(inner[0].0, "{\"requestId\":\"x\"}");
    }

    #[test]
    fn cloudwatch_json_and_control() {
        let r = r#"{"messageType":"DATA_MESSAGE","owner":"1","logGroup":"g","logStream":"s","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1709648521204,"message":"{\"a\":1}"},{"id":"2","timestamp":1709648521205,"message":"{\"a\":2}"}]}"#;
        assert_eq!(detect(r), Some(Envelope::CloudWatchJson));
        let inner = unwrap(Envelope::CloudWatchJson, r, false).unwrap();
        assert_eq!(inner.len(), 2);
        assert_eq!(inner[1].1, Some(1_709_648_521_205_000));
        assert_eq!(
            head_messages(Envelope::CloudWatchJson, r),
            "{\"a\":1}\n{\"a\":2}"
        );
        let c = r#"{"messageType":"CONTROL_MESSAGE","logEvents":[]}"#;
        assert!(unwrap(Envelope::CloudWatchJson, c, false)
            .unwrap()
            .is_empty());
        assert!(unwrap(Envelope::CloudWatchJson, "{\"events\":", false).is_err());
    }
}
