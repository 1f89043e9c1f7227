//! Firebase Cloud Messaging delivery data exported from BigQuery (`firebase_messaging.data`)
//! as NDJSON or CSV: one row per message event per app instance; `TOPIC` rows are the
//! fan-out send itself. Liberal in timestamps (BigQuery text, RFC 3339, float s, epoch µs).

use super::json::{object, s, Value};
use super::pgaudit::csv_split;
use super::{present, FileCtx, Head, Parsed, Parser};
use crate::model::{Event, Outcome, SourceKind, Text};
use crate::timeparse::{parse_any, AssumeTz};

/// Maps one FCM export row (as a JSON object) onto an event.
pub fn fcm_event(format: &'static str, v: &Value) -> Parsed {
    let Some(t) = s(v, "event_timestamp") else {
        return Parsed::Reject("no event_timestamp".into());
    };
    // A BigQuery TIMESTAMP is UTC by definition, whether or not an export prints ` UTC`:
    // `--assume-tz` (meant for servers that log local time) does not apply.
    let Some(p) = parse_any(&t, &AssumeTz::Fixed(0)) else {
        return Parsed::Reject(format!("bad event_timestamp {t:?}"));
    };
    let Some(event) = s(v, "event") else {
        return Parsed::Reject("no event".into());
    };
    let mut e = Event::new(SourceKind::Push, format);
    e.ts = p.us;
    e.push_mut().message_id = s(v, "message_id").map(|m| {
        // HTTP v1 names are `projects/<p>/messages/<id>`.
        Text::from(m.rsplit("/messages/").next().unwrap_or(&m))
    });
    e.push_mut().device_id = s(v, "instance_id");
    e.push_mut().campaign_id = s(v, "analytics_label");
    e.push_mut().push_target = s(v, "topic").map(|t| format!("topic:{t}").into());
    e.outcome = match event.as_str() {
        "MESSAGE_ACCEPTED" | "MESSAGE_DELIVERED" => Outcome::Success,
        _ => Outcome::Failure,
    };
    e.push_mut().delivery = Some(event);
    for k in [
        "project_number",
        "message_type",
        "sdk_platform",
        "app_name",
        "collapse_key",
        "priority",
        "ttl",
        "bulk_id",
    ] {
        if let Some(x) = s(v, k) {
            e.extra.insert(k, x);
        }
    }
    if e.push().message_id.is_none() {
        return Parsed::Reject("no message_id".into());
    }
    Parsed::Event(Box::new(e))
}

/// NDJSON export.
pub struct FcmJson;

impl Parser for FcmJson {
    fn name(&self) -> &'static str {
        "fcm-bigquery-json"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Push
    }
    fn detection(&self) -> &'static str {
        "JSON lines with event_timestamp, message_id, instance_id, event = MESSAGE_*/error"
    }
    fn example(&self) -> &'static str {
        r#"{"event_timestamp":"2024-03-05 14:25:00.412873 UTC","project_number":"412345678901","message_id":"0:1709648700412873%c0ffee12","instance_id":"eJ9kQ2vX…","message_type":"DISPLAY_NOTIFICATION","event":"MESSAGE_DELIVERED","analytics_label":"refund_notice"}"#
    }
    fn sniff(&self, head: &Head) -> u8 {
        super::line_score(head, |l| {
            l.starts_with('{')
                && l.contains("\"event_timestamp\"")
                && l.contains("\"message_id\"")
                && l.contains("\"event\"")
        })
    }
    fn parse(&self, rec: &str, _ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        match object(rec) {
            Ok(v) => fcm_event(self.name(), &v),
            Err(e) => Parsed::Reject(e),
        }
    }
}

/// CSV export (header row).
pub struct FcmCsv;

impl Parser for FcmCsv {
    fn name(&self) -> &'static str {
        "fcm-bigquery-csv"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Push
    }
    fn detection(&self) -> &'static str {
        "CSV header with event_timestamp, message_id, instance_id, event"
    }
    fn example(&self) -> &'static str {
        "event_timestamp,project_number,message_id,instance_id,message_type,…,event,analytics_label"
    }
    fn framing(&self) -> super::Framing {
        super::Framing::Csv
    }
    fn has_header(&self) -> bool {
        true
    }
    fn sniff(&self, head: &Head) -> u8 {
        let h = head.first_line().to_ascii_lowercase();
        if h.contains("event_timestamp") && h.contains("message_id") && h.contains(",event") {
            95
        } else {
            0
        }
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        match csv_row_object(rec, ctx) {
            Ok(v) => fcm_event(self.name(), &v),
            Err(r) => Parsed::Reject(r),
        }
    }
}

/// Turns a CSV row into a JSON object keyed by the file's header.
pub fn csv_row_object(rec: &str, ctx: &FileCtx) -> Result<Value<'static>, String> {
    let Some(h) = &ctx.header else {
        return Err("no header".into());
    };
    let f = csv_split(rec).ok_or("unparseable CSV row")?;
    if f.len() != h.len() {
        return Err(format!("{} fields, header has {}", f.len(), h.len()));
    }
    let mut m = super::json::doc::Map::default();
    for (k, v) in h.iter().zip(f) {
        if let Some(v) = present(&v) {
            m.insert(k.clone(), Value::String(v.to_string().into()));
        }
    }
    Ok(Value::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndjson_rows() {
        let l = r#"{"event_timestamp":"2024-03-05 14:25:01.090114 UTC","project_number":"412345678901","message_id":"0:1709648700412873%c0ffee12c0ffee12","instance_id":"eJ9kQ2vXR0mZb1a8C4dQyT","message_type":"DISPLAY_NOTIFICATION","sdk_platform":"ANDROID","event":"MESSAGE_DELIVERED","analytics_label":"refund_notice","topic":null}"#;
        let Parsed::Event(e) = FcmJson.parse(l, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!(e.ts, 1_709_648_701_090_114);
        assert_eq!(
            e.push().device_id.as_deref(),
            Some("eJ9kQ2vXR0mZb1a8C4dQyT")
        );
        assert_eq!(e.push().campaign_id.as_deref(), Some("refund_notice"));
        assert_eq!(e.outcome, Outcome::Success);
        let err = r#"{"event_timestamp":"1709648701090114","message_id":"m","instance_id":"d","event":"INVALID_REGISTRATION"}"#;
        let Parsed::Event(e) = FcmJson.parse(err, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.ts, 1_709_648_701_090_114);
    }

    #[test]
    fn csv_rows() {
        let ctx = FileCtx {
            header: Some(
                [
                    "event_timestamp",
                    "message_id",
                    "instance_id",
                    "event",
                    "topic",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect(),
            ),
            ..Default::default()
        };
        let Parsed::Event(e) = FcmCsv.parse(
            "2024-03-05T14:31:44.000501Z,0:17%bada55,,MESSAGE_ACCEPTED,promo-all",
            &ctx,
        ) else {
            panic!()
        };
        assert_eq!(e.push().push_target.as_deref(), Some("topic:promo-all"));
        assert!(matches!(FcmCsv.parse("x,y", &ctx), Parsed::Reject(_)));
    }
}
