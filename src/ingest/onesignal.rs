//! OneSignal evidence: View-notification(s) API JSON and the dashboard notifications CSV
//! (one record per message, with title, text, targeting and aggregate counters), and the
//! per-notification audience-activity / message-history CSV exports (one row per
//! recipient; the message id lives in the export's file name).

use super::fcm::csv_row_object;
use super::json::{object, s, u, Value};
use super::{FileCtx, Framing, Head, Parsed, Parser};
use crate::model::{Event, Outcome, SourceKind, Text};
use crate::timeparse::{parse_any, AssumeTz};

fn lang_text(v: &Value, key: &str) -> Option<Text> {
    match v.get(key)? {
        Value::String(s) => super::present(s),
        Value::Object(m) => m
            .get("en")
            .or_else(|| super::json::doc::by_key(m).first().map(|(_, v)| *v))
            .and_then(|x| x.as_str())
            .map(Text::from),
        _ => None,
    }
}

fn list(v: &Value, key: &str) -> Vec<String> {
    match v.get(key) {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        Some(Value::String(s)) if !s.is_empty() => {
            // CSV exports write lists as JSON text or `;`/`,`-joined.
            serde_json::from_str::<Vec<String>>(s).unwrap_or_else(|_| {
                s.split([';', ','])
                    .map(|x| x.trim().to_string())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
        }
        _ => Vec::new(),
    }
}

/// Maps a notification object (API JSON or a CSV row) onto a summary event.
pub fn notification_event(format: &'static str, v: &Value) -> Parsed {
    let Some(id) = s(v, "id") else {
        return Parsed::Reject("no notification id".into());
    };
    let t = ["queued_at", "send_after", "completed_at"]
        .iter()
        .find_map(|k| s(v, k))
        .and_then(|t| parse_any(&t, &Default::default()));
    let Some(t) = t else {
        return Parsed::Reject("no queued_at/send_after time".into());
    };
    let mut e = Event::new(SourceKind::Push, format);
    e.ts = t.us;
    e.push_mut().message_id = Some(id.clone());
    e.push_mut().campaign_id = s(v, "data.campaign_id")
        .or_else(|| s(v, "name"))
        .or(Some(id));
    e.push_mut().title = lang_text(v, "headings");
    e.push_mut().body = lang_text(v, "contents");
    let segs = list(v, "included_segments");
    let ext: Vec<String> = ["include_external_user_ids", "include_aliases.external_id"]
        .iter()
        .flat_map(|k| list(v, k))
        .collect();
    let players = list(v, "include_player_ids")
        .into_iter()
        .chain(list(v, "include_subscription_ids"))
        .collect::<Vec<_>>();
    e.push_mut().push_target = if !segs.is_empty() {
        Some(format!("segment:{}", segs.join(";")).into())
    } else if !ext.is_empty() {
        Some(format!("external_ids:{}", ext.len()).into())
    } else if !players.is_empty() {
        Some(format!("devices:{}", players.len()).into())
    } else {
        None
    };
    if !ext.is_empty() {
        e.extra.insert("external_ids", ext.join(";"));
    }
    if !players.is_empty() {
        e.extra.insert("device_ids", players.join(";"));
    }
    let n = |k: &str| u(v, k).unwrap_or(0);
    e.push_mut().delivered = Some(n("successful"));
    e.push_mut().failed = Some(n("failed") + n("errored"));
    e.push_mut().recipients = Some(n("successful") + n("failed") + n("errored") + n("remaining"));
    e.push_mut().delivery = Some("summary".into());
    e.outcome = if n("successful") > 0 {
        Outcome::Success
    } else {
        Outcome::Unknown
    };
    for k in [
        "url",
        "app_url",
        "web_url",
        "name",
        "template_id",
        "converted",
        "received",
    ] {
        if let Some(x) = s(v, k) {
            e.extra.insert(k, x);
        }
    }
    if let Some(c) = s(v, "canceled") {
        e.extra.insert("canceled", c);
    }
    Parsed::Event(Box::new(e))
}

/// View notification(s) API JSON.
pub struct OneSignalApi;

impl Parser for OneSignalApi {
    fn name(&self) -> &'static str {
        "onesignal-json"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Push
    }
    fn detection(&self) -> &'static str {
        "JSON notification objects with queued_at + send_after + successful/errored (or a notifications[] page)"
    }
    fn example(&self) -> &'static str {
        r#"{"id":"b98c…","headings":{"en":"Today only"},"contents":{"en":"…"},"included_segments":["Subscribed Users"],"successful":48211,"failed":3120,"errored":17,"queued_at":1709649104,"send_after":1709649104}"#
    }
    fn framing(&self) -> Framing {
        Framing::Json
    }
    fn sniff(&self, head: &Head) -> u8 {
        let t = head.text;
        if t.contains("\"queued_at\"")
            && (t.contains("\"successful\"") || t.contains("\"errored\""))
        {
            90
        } else {
            0
        }
    }
    fn parse(&self, rec: &str, _ctx: &FileCtx) -> Parsed {
        match object(rec) {
            Ok(v) => notification_event(self.name(), &v),
            Err(e) => Parsed::Reject(e),
        }
    }
}

/// Notifications CSV export (dashboard "Export" / API CSV).
pub struct OneSignalCsv;

impl Parser for OneSignalCsv {
    fn name(&self) -> &'static str {
        "onesignal-csv"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Push
    }
    fn detection(&self) -> &'static str {
        "CSV header with id and queued_at / send_after and successful"
    }
    fn example(&self) -> &'static str {
        "id,name,headings,contents,included_segments,successful,failed,errored,remaining,queued_at,send_after,completed_at"
    }
    fn framing(&self) -> Framing {
        Framing::Csv
    }
    fn has_header(&self) -> bool {
        true
    }
    fn sniff(&self, head: &Head) -> u8 {
        let h = head.first_line().to_ascii_lowercase();
        let cols: Vec<&str> = h.split(',').map(|c| c.trim_matches('"')).collect();
        if cols.contains(&"id") && cols.contains(&"queued_at") && cols.contains(&"successful") {
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
            Ok(v) => notification_event(self.name(), &v),
            Err(r) => Parsed::Reject(r),
        }
    }
}

/// Audience-activity and message-history CSV exports (one row per recipient).
pub struct OneSignalAudience;

/// The message id in an export's file name (`events_audience-activity-{id}-push-….csv.gz`).
pub fn message_id_from_name(name: &str) -> Option<String> {
    // A UUID anywhere in the name.
    let b = name.as_bytes();
    (0..b.len().saturating_sub(35)).find_map(|i| {
        let c = &name[i..i + 36];
        let ok = c.char_indices().all(|(j, ch)| {
            if matches!(j, 8 | 13 | 18 | 23) {
                ch == '-'
            } else {
                ch.is_ascii_hexdigit()
            }
        });
        ok.then(|| c.to_string())
    })
}

impl Parser for OneSignalAudience {
    fn name(&self) -> &'static str {
        "onesignal-audience-csv"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Push
    }
    fn detection(&self) -> &'static str {
        "CSV header subscription_id,device_type,sent,delivered,clicked… or player_id,onesignal_id,external_id,target_channel,timestamp; message id from the file name"
    }
    fn example(&self) -> &'static str {
        "external_user_id,subscription_id,device_type,sent,delivered,clicked,onesignal_id,failed,unsubscribed,failure_message"
    }
    fn framing(&self) -> Framing {
        Framing::Csv
    }
    fn has_header(&self) -> bool {
        true
    }
    fn sniff(&self, head: &Head) -> u8 {
        let h = head.first_line().to_ascii_lowercase();
        if (h.contains("subscription_id") && h.contains("sent") && h.contains("delivered"))
            || h.starts_with("player_id,onesignal_id,external_id")
        {
            95
        } else {
            0
        }
    }
    fn prepare(&self, ctx: &mut FileCtx, _head: &Head) -> Result<(), String> {
        if message_id_from_name(&ctx.file_name).is_none() {
            return Err(format!(
                "{}: audience export names no message id (expected events_audience-activity-<id>-…)",
                ctx.file_name
            ));
        }
        Ok(())
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let v = match csv_row_object(rec, ctx) {
            Ok(v) => v,
            Err(r) => return Parsed::Reject(r),
        };
        // OneSignal's times are UTC (its API gives epoch seconds; the export's text,
        // undocumented, is read as UTC when zone-less): `--assume-tz`, meant for servers
        // that log local time, does not apply.
        let when = |k: &str| s(&v, k).and_then(|t| parse_any(&t, &AssumeTz::Fixed(0)));
        let (ts, what) = if let Some(t) = when("failed") {
            (t, "failed")
        } else if let Some(t) = when("delivered") {
            (t, "delivered")
        } else if let Some(t) = when("sent") {
            (t, "sent")
        } else if let Some(t) = when("timestamp") {
            (t, "clicked")
        } else {
            return Parsed::Reject("row has no sent/delivered/failed time".into());
        };
        let mut e = Event::new(SourceKind::Push, self.name());
        e.ts = ts.us;
        e.push_mut().message_id = message_id_from_name(&ctx.file_name).map(Text::from);
        e.push_mut().campaign_id = e.push().message_id.clone();
        e.push_mut().device_id = s(&v, "subscription_id").or_else(|| s(&v, "player_id"));
        e.user = s(&v, "external_user_id").or_else(|| s(&v, "external_id"));
        e.push_mut().delivery = Some(what.into());
        e.outcome = if what == "failed" {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        for k in [
            "device_type",
            "failure_message",
            "onesignal_id",
            "clicked",
            "unsubscribed",
        ] {
            if let Some(x) = s(&v, k) {
                e.extra.insert(k, x);
            }
        }
        Parsed::Event(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_notification() {
        let l = r#"{"id":"c0d1e2f3-a4b5-4c6d-8e7f-90a1b2c3d4e5","contents":{"en":"Flash sale"},"headings":{"en":"Today only"},"included_segments":["Subscribed Users"],"url":"https://examp1e-shop.test/claim","successful":48211,"failed":3120,"errored":17,"converted":904,"received":40118,"remaining":0,"queued_at":1709649104,"send_after":1709649104,"completed_at":1709649391,"canceled":false}"#;
        let Parsed::Event(e) = OneSignalApi.parse(l, &FileCtx::default()) else {
            panic!()
        };
        assert_eq!(e.ts, 1_709_649_104_000_000);
        assert_eq!(e.push().title.as_deref(), Some("Today only"));
        assert_eq!(
            e.push().push_target.as_deref(),
            Some("segment:Subscribed Users")
        );
        assert_eq!(e.push().recipients, Some(51348));
        assert_eq!(e.push().failed, Some(3137));
    }

    #[test]
    fn audience_rows_take_id_from_file_name() {
        let ctx = FileCtx {
            file_name: "events_audience-activity-c0d1e2f3-a4b5-4c6d-8e7f-90a1b2c3d4e5-push-1709649391.csv.gz".into(),
            header: Some(
                "external_user_id,subscription_id,device_type,sent,delivered,clicked,onesignal_id,failed,unsubscribed,failure_message"
                    .split(',')
                    .map(str::to_string)
                    .collect(),
            ),
            // Meant for a DB server's local times: OneSignal's stay UTC.
            opts: std::sync::Arc::new(crate::ingest::ParseOpts {
                assume_tz: AssumeTz::parse("Europe/Kyiv").unwrap(),
                assume_tz_given: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        OneSignalAudience
            .prepare(&mut ctx.clone(), &super::super::head_of(""))
            .unwrap();
        let Parsed::Event(e) = OneSignalAudience.parse(
            "100123,7e6d5c4b,android,2024-03-05 14:31:45,2024-03-05 14:31:47,,3c2b,,,",
            &ctx,
        ) else {
            panic!()
        };
        assert_eq!(
            e.push().message_id.as_deref(),
            Some("c0d1e2f3-a4b5-4c6d-8e7f-90a1b2c3d4e5")
        );
        assert_eq!(e.push().delivery.as_deref(), Some("delivered"));
        assert_eq!(e.ts, 1_709_649_107_000_000);
        assert!(!e.tz_assumed);
        assert_eq!(e.user.as_deref(), Some("100123"));
        assert!(matches!(
            OneSignalAudience.parse("a,b", &ctx),
            Parsed::Reject(_)
        ));
    }
}
