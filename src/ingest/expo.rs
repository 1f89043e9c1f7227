//! Expo push service traffic as the sending application logs it (formats.md B4): the
//! messages posted to `/push/send` (`to` an `ExponentPushToken[…]`, or a list of them),
//! the push tickets returned in the same order, and the receipts fetched later, keyed by
//! ticket id. Tickets and receipts carry no time: a record's time is the log line's
//! (`time_source = container`), and ticket order is the only link between a ticket and
//! its message, as the service defines it.

use super::applog::{self, str_of};
use super::{FileCtx, Head, Parsed, Parser};
use crate::model::{Event, Outcome, SourceKind, Text};
use serde_json::Value;

/// Expo push log.
pub struct ExpoLog;

fn is_token(s: &str) -> bool {
    (s.starts_with("ExponentPushToken[") || s.starts_with("ExpoPushToken[")) && s.ends_with(']')
}

fn is_status(v: &Value) -> bool {
    matches!(str_of(v, "status"), Some("ok" | "error"))
}

/// What one log line holds.
#[derive(Default)]
struct Found<'v> {
    /// (message, token) in request order, a message with several tokens once per token.
    sends: Vec<(&'v Value, &'v str)>,
    /// Tickets in response order.
    tickets: Vec<&'v Value>,
    /// Receipts: (ticket id, receipt).
    receipts: Vec<(&'v str, &'v Value)>,
}

fn collect<'v>(v: &'v Value, f: &mut Found<'v>, taken: &mut Vec<*const Value>) {
    match v {
        Value::Object(m) => {
            let tokens: Vec<&str> = match m.get("to") {
                Some(Value::String(t)) => vec![t.as_str()],
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
                _ => Vec::new(),
            };
            if tokens.iter().any(|t| is_token(t)) {
                f.sends.extend(tokens.into_iter().map(|t| (v, t)));
            } else if is_status(v) && !taken.contains(&(v as *const Value)) {
                // A single message's ticket is an object, not a list.
                f.tickets.push(v);
            } else if !m.is_empty()
                && !m.contains_key("data")
                && m.values()
                    .all(|x| x.is_object() && is_status(x) && x.get("id").is_none())
            {
                // Receipts are keyed by ticket id and carry none themselves; a member
                // named `data` holding a status is a single ticket's response.
                for (id, r) in m {
                    f.receipts.push((id.as_str(), r));
                    taken.push(r as *const Value);
                }
            }
        }
        Value::Array(a) if !a.is_empty() && a.iter().all(|x| x.is_object() && is_status(x)) => {
            for t in a {
                f.tickets.push(t);
                taken.push(t as *const Value);
            }
        }
        _ => {}
    }
}

fn event(ts: i64, assumed: bool) -> Event {
    let mut e = Event::new(SourceKind::Push, "expo-push-log");
    e.ts = ts;
    e.tz_assumed = assumed;
    e.extra.insert("time_source", "container");
    e
}

/// Marks an event with a ticket's or receipt's status.
fn status(e: &mut Event, v: &Value, what: &str) {
    let ok = str_of(v, "status") == Some("ok");
    e.outcome = if ok {
        Outcome::Success
    } else {
        Outcome::Failure
    };
    let err = v
        .get("details")
        .and_then(|d| str_of(d, "error"))
        .unwrap_or("error");
    e.push_mut().delivery = Some(if ok {
        Text::from(format!("{what} ok"))
    } else {
        Text::from(format!("{what} {err}"))
    });
    if let Some(m) = str_of(v, "message") {
        e.extra.insert(&format!("{what}_message"), m);
    }
}

fn message_fields(e: &mut Event, msg: &Value, token: &str) {
    let p = e.push_mut();
    p.device_id = Some(Text::from(token));
    p.title = str_of(msg, "title").map(Text::from);
    p.body = str_of(msg, "body").map(Text::from);
    let data = msg.get("data").and_then(Value::as_object);
    p.campaign_id = data
        .and_then(|d| {
            ["campaign_id", "campaignId", "campaign", "analytics_label"]
                .iter()
                .find_map(|k| d.get(*k).and_then(Value::as_str))
        })
        .map(Text::from);
    for k in [
        "subtitle",
        "channelId",
        "categoryId",
        "sound",
        "priority",
        "ttl",
    ] {
        if let Some(x) = msg.get(k).and_then(applog::scalar) {
            e.extra.insert(k, x);
        }
    }
    for (k, v) in data.into_iter().flatten() {
        if let Some(x) = applog::scalar(v) {
            e.extra.insert(&format!("data.{k}"), x);
        }
    }
}

impl Parser for ExpoLog {
    fn name(&self) -> &'static str {
        "expo-push-log"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Push
    }
    fn detection(&self) -> &'static str {
        "application log lines (JSON or `<time> text {json}`) holding Expo push messages to ExponentPushToken[…], tickets ({status, id}) or receipts keyed by ticket id"
    }
    fn example(&self) -> &'static str {
        r#"{"time":"2024-03-05T14:25:00.412Z","msg":"expo send","messages":[{"to":"ExponentPushToken[xxxx]","title":"Today only","body":"…"}],"tickets":{"data":[{"status":"ok","id":"0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}]}}"#
    }
    fn sniff(&self, head: &Head) -> u8 {
        applog::sniff(head, |l| {
            l.contains("PushToken[")
                || l.contains("\"status\":\"ok\"") && (l.contains("expo") || l.contains("Expo"))
        })
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let line = match applog::read(rec, &ctx.opts.assume_tz) {
            Ok(l) => l,
            Err(r) => return Parsed::Reject(r),
        };
        let mut f = Found::default();
        let mut taken = Vec::new();
        applog::walk(&line.values, &mut |v| collect(v, &mut f, &mut taken));
        let mut out = Vec::new();
        let n = f.sends.len().max(f.tickets.len());
        for i in 0..n {
            let mut e = event(line.ts, line.assumed);
            if let Some((msg, token)) = f.sends.get(i) {
                message_fields(&mut e, msg, token);
                e.push_mut().delivery = Some("requested".into());
            }
            if let Some(t) = f.tickets.get(i) {
                e.push_mut().message_id = str_of(t, "id").map(Text::from);
                status(&mut e, t, "ticket");
                if e.push().device_id.is_none() {
                    e.push_mut().device_id = t
                        .get("details")
                        .and_then(|d| str_of(d, "expoPushToken"))
                        .map(Text::from);
                }
            }
            if !f.sends.is_empty() && !f.tickets.is_empty() && f.sends.len() != f.tickets.len() {
                e.extra.insert(
                    "pairing",
                    "message and ticket counts differ; paired by order",
                );
            }
            out.push(Parsed::Event(Box::new(e)));
        }
        for (id, r) in &f.receipts {
            let mut e = event(line.ts, line.assumed);
            e.push_mut().message_id = Some(Text::from(*id));
            status(&mut e, r, "receipt");
            out.push(Parsed::Event(Box::new(e)));
        }
        match out.len() {
            0 => Parsed::Skip("log line without Expo messages, tickets or receipts"),
            1 => out.pop().unwrap_or(Parsed::Skip("blank line")),
            _ => Parsed::Many(out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(l: &str) -> Vec<Event> {
        ExpoLog.parse(l, &FileCtx::default()).events()
    }

    #[test]
    fn messages_pair_with_tickets_in_order() {
        let l = r#"{"level":"info","timestamp":"2024-03-05T14:25:00.412Z","request":"[{\"to\":[\"ExponentPushToken[a]\",\"ExponentPushToken[b]\"],\"title\":\"T\",\"body\":\"B\",\"data\":{\"campaign_id\":\"c1\"}}]","response":{"data":[{"status":"ok","id":"t-1"},{"status":"error","message":"not registered","details":{"error":"DeviceNotRegistered","expoPushToken":"ExponentPushToken[b]"}}]}}"#;
        let v = events(l);
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[0].push().device_id.as_deref(),
            Some("ExponentPushToken[a]")
        );
        assert_eq!(v[0].push().message_id.as_deref(), Some("t-1"));
        assert_eq!(v[0].push().campaign_id.as_deref(), Some("c1"));
        assert_eq!(v[0].outcome, Outcome::Success);
        assert_eq!(
            v[1].push().device_id.as_deref(),
            Some("ExponentPushToken[b]")
        );
        assert_eq!(v[1].push().message_id, None);
        assert_eq!(
            v[1].push().delivery.as_deref(),
            Some("ticket DeviceNotRegistered")
        );
        assert_eq!(
            v[1].extra.get("time_source").map(|s| &**s),
            Some("container")
        );
    }

    #[test]
    fn receipts_and_a_single_ticket() {
        let l = r#"2024-03-05T14:40:00Z INFO receipts {"data":{"t-1":{"status":"ok"},"t-2":{"status":"error","details":{"error":"MessageRateExceeded"}}}}"#;
        let v = events(l);
        assert_eq!(v.len(), 2);
        assert_eq!(v[1].push().message_id.as_deref(), Some("t-2"));
        assert_eq!(v[1].outcome, Outcome::Failure);
        let l = r#"{"time":1709648700412,"msg":{"to":"ExpoPushToken[z]","body":"hi"},"ticket":{"data":{"status":"ok","id":"t-9"}}}"#;
        let v = events(l);
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].push().message_id.as_deref(), Some("t-9"));
        assert_eq!(v[0].push().body.as_deref(), Some("hi"));
    }

    #[test]
    fn other_lines_are_skipped_and_broken_ones_rejected() {
        let ctx = FileCtx::default();
        assert!(matches!(
            ExpoLog.parse(r#"{"time":"2024-03-05T14:25:00Z","msg":"listening"}"#, &ctx),
            Parsed::Skip(_)
        ));
        assert!(matches!(
            ExpoLog.parse(r#"{"data":[{"status":"ok","id":"x"}]}"#, &ctx),
            Parsed::Reject(_)
        ));
        assert!(matches!(
            ExpoLog.parse("{\"time\":\"2024-03-05T14:25:00Z\",\"to\":\"Expo", &ctx),
            Parsed::Reject(_)
        ));
    }
}
