//! FCM send requests and responses as the sending application logs them (formats.md
//! B1.2): HTTP v1 `messages:send` bodies and `projects/…/messages/…` names, the Admin
//! SDK's `sendEach` messages and batch responses, and the legacy `/fcm/send` API
//! (`registration_ids`, `multicast_id`, `results`). One event per recipient token or
//! target; requests and responses of a line are paired in order. The time is the log
//! line's (`time_source = container`).

use super::applog::{self, str_of};
use super::{FileCtx, Head, Parsed, Parser};
use crate::model::{Event, Outcome, SourceKind, Text};
use serde_json::Value;

/// FCM send log.
pub struct FcmV1Log;

/// One send target: the message object and its token, topic or condition.
struct Send<'v> {
    msg: &'v Value,
    token: Option<&'v str>,
}

/// What FCM answered for one send.
enum Answer {
    Sent(String),
    Failed(String),
}

fn is_expo(s: &str) -> bool {
    s.starts_with("ExponentPushToken[") || s.starts_with("ExpoPushToken[")
}

const PAYLOAD_KEYS: &[&str] = &[
    "notification",
    "data",
    "android",
    "apns",
    "webpush",
    "fcm_options",
];

/// The sends of an object that is a message: v1 (`token` | `topic` | `condition`), a
/// multicast (`tokens`), or legacy (`to` | `registration_ids`).
fn sends_of(v: &Value) -> Vec<Send<'_>> {
    let Some(m) = v.as_object() else {
        return Vec::new();
    };
    if !PAYLOAD_KEYS.iter().any(|k| m.contains_key(*k)) {
        return Vec::new();
    }
    let one = |token| vec![Send { msg: v, token }];
    if let Some(t) = str_of(v, "token").or_else(|| str_of(v, "to")) {
        return if is_expo(t) {
            Vec::new()
        } else if t.starts_with("/topics/") {
            one(None)
        } else {
            one(Some(t))
        };
    }
    if m.contains_key("topic") || m.contains_key("condition") {
        return one(None);
    }
    for k in ["tokens", "registration_ids"] {
        if let Some(a) = v.get(k).and_then(Value::as_array) {
            return a
                .iter()
                .filter_map(Value::as_str)
                .filter(|t| !is_expo(t))
                .map(|t| Send {
                    msg: v,
                    token: Some(t),
                })
                .collect();
        }
    }
    Vec::new()
}

/// The id in a v1 message name (`projects/p/messages/0:1709…%c0ff…`), as FCM's BigQuery
/// export writes it.
fn message_id(name: &str) -> Option<String> {
    name.rsplit_once("/messages/")
        .map(|(_, id)| id.to_string())
        .filter(|id| !id.is_empty())
}

/// The answers an object holds: a v1 name, an Admin SDK `messageId` or failure, a v1
/// error, or a legacy `results` list.
fn answers_of(v: &Value, out: &mut Vec<Answer>) {
    if let Some(id) = str_of(v, "name").and_then(message_id) {
        out.push(Answer::Sent(id));
    } else if let Some(id) = str_of(v, "messageId") {
        out.push(Answer::Sent(
            message_id(id).unwrap_or_else(|| id.to_string()),
        ));
    } else if let Some(err) = v.get("error").filter(|e| e.is_object()) {
        let code = err
            .get("details")
            .and_then(Value::as_array)
            .and_then(|d| d.iter().find_map(|x| str_of(x, "errorCode")))
            .or_else(|| str_of(err, "status"))
            .or_else(|| str_of(err, "code"));
        if let Some(c) = code {
            out.push(Answer::Failed(c.to_string()));
        }
    } else if v.get("multicast_id").is_some() {
        for r in v
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(id) = str_of(r, "message_id") {
                out.push(Answer::Sent(id.to_string()));
            } else {
                out.push(Answer::Failed(
                    str_of(r, "error").unwrap_or("error").to_string(),
                ));
            }
        }
    }
}

/// Title and body from the notification, or from a platform block.
fn title_body(msg: &Value) -> (Option<&str>, Option<&str>) {
    for p in [
        &["notification"][..],
        &["android", "notification"],
        &["webpush", "notification"],
        &["apns", "payload", "aps", "alert"],
    ] {
        let Some(n) = p.iter().try_fold(msg, |cur, k| cur.get(k)) else {
            continue;
        };
        if let Some(s) = n.as_str() {
            return (None, Some(s));
        }
        let t = str_of(n, "title");
        let b = str_of(n, "body");
        if t.is_some() || b.is_some() {
            return (t, b);
        }
    }
    (None, None)
}

fn event(ts: i64, assumed: bool, send: Option<&Send>, ans: Option<&Answer>) -> Event {
    let mut e = Event::new(SourceKind::Push, "fcm-v1-log");
    e.ts = ts;
    e.tz_assumed = assumed;
    e.extra.insert("time_source", "container");
    let p = e.push_mut();
    if let Some(s) = send {
        p.device_id = s.token.map(Text::from);
        p.push_target = str_of(s.msg, "topic")
            .or_else(|| str_of(s.msg, "to").filter(|t| t.starts_with("/topics/")))
            .map(|t| format!("topic:{}", t.trim_start_matches("/topics/")).into())
            .or_else(|| str_of(s.msg, "condition").map(|c| format!("condition:{c}").into()));
        let (t, b) = title_body(s.msg);
        p.title = t.map(Text::from);
        p.body = b.map(Text::from);
        p.campaign_id = ["fcm_options", "android.fcm_options", "apns.fcm_options"]
            .iter()
            .find_map(|k| {
                let o = k.split('.').try_fold(s.msg, |cur, x| cur.get(x))?;
                str_of(o, "analytics_label")
            })
            .map(Text::from);
    }
    match ans {
        Some(Answer::Sent(id)) => {
            p.message_id = Some(Text::from(id.as_str()));
            p.delivery = Some("sent".into());
            e.outcome = Outcome::Success;
        }
        Some(Answer::Failed(code)) => {
            p.delivery = Some(Text::from(code.as_str()));
            e.outcome = Outcome::Failure;
        }
        None => {
            p.delivery = Some("requested".into());
        }
    }
    if let Some(s) = send {
        if let Some(d) = s.msg.get("data").and_then(Value::as_object) {
            for (k, v) in d {
                if let Some(x) = v.as_str() {
                    e.extra.insert(&format!("data.{k}"), x);
                }
            }
        }
    }
    e
}

impl Parser for FcmV1Log {
    fn name(&self) -> &'static str {
        "fcm-v1-log"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Push
    }
    fn detection(&self) -> &'static str {
        "application log lines (JSON or `<time> text {json}`) holding FCM send bodies (message with token/topic/condition), projects/…/messages/… names or legacy multicast results"
    }
    fn example(&self) -> &'static str {
        r#"{"time":"2024-03-05T14:25:00.412Z","msg":"fcm send","request":{"message":{"topic":"promo-all","notification":{"title":"Today only","body":"…"}}},"response":{"name":"projects/shop-prod/messages/0:1709648700412873%c0ffee12"}}"#
    }
    fn sniff(&self, head: &Head) -> u8 {
        applog::sniff(head, |l| {
            !l.contains("PushToken[")
                && !l.contains("\"delivery\"")
                && (l.contains("fcm.googleapis.com")
                    || l.contains("/messages/0:")
                    || l.contains("multicast_id")
                    || l.contains("\"notification\"")
                        && [
                            "\"token\"",
                            "\"topic\"",
                            "\"condition\"",
                            "\"registration_ids\"",
                        ]
                        .iter()
                        .any(|k| l.contains(k)))
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
        let mut sends = Vec::new();
        let mut answers = Vec::new();
        applog::walk(&line.values, &mut |v| {
            sends.extend(sends_of(v));
            answers_of(v, &mut answers);
        });
        let n = sends.len().max(answers.len());
        if n == 0 {
            return Parsed::Skip("log line without an FCM send");
        }
        let evs: Vec<Parsed> = (0..n)
            .map(|i| {
                let mut e = event(line.ts, line.assumed, sends.get(i), answers.get(i));
                if sends.len() != answers.len() && !answers.is_empty() {
                    e.extra
                        .insert("pairing", "request and response counts differ");
                }
                Parsed::Event(Box::new(e))
            })
            .collect();
        if n == 1 {
            evs.into_iter().next().unwrap_or(Parsed::Skip("blank line"))
        } else {
            Parsed::Many(evs)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn events(l: &str) -> Vec<Event> {
        FcmV1Log.parse(l, &FileCtx::default()).events()
    }

    #[test]
    fn v1_topic_send_with_its_name() {
        let e = &events(FcmV1Log.example())[0];
        assert_eq!(e.ts, 1_709_648_700_412_000);
        assert_eq!(
            e.push().message_id.as_deref(),
            Some("0:1709648700412873%c0ffee12")
        );
        assert_eq!(e.push().push_target.as_deref(), Some("topic:promo-all"));
        assert_eq!(e.push().title.as_deref(), Some("Today only"));
        assert_eq!(e.outcome, Outcome::Success);
    }

    #[test]
    fn text_line_with_a_stringified_body_and_an_error() {
        let l = r#"2024-03-05 14:25:01.002 WARN fcm body="{\"message\":{\"token\":\"dX1\",\"notification\":{\"title\":\"T\",\"body\":\"B\"}}}" -> 404 {"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#;
        // The stringified body sits in text, not in JSON: only the error is seen.
        let e = &events(l)[0];
        assert_eq!(e.push().delivery.as_deref(), Some("UNREGISTERED"));
        assert_eq!(e.outcome, Outcome::Failure);
        let l = r#"{"@timestamp":"2024-03-05T14:25:01.002Z","body":"{\"message\":{\"token\":\"dX1\",\"notification\":{\"title\":\"T\",\"body\":\"B\"}}}","response":{"error":{"code":404,"status":"NOT_FOUND"}}}"#;
        let e = &events(l)[0];
        assert_eq!(e.push().device_id.as_deref(), Some("dX1"));
        assert_eq!(e.push().body.as_deref(), Some("B"));
        assert_eq!(e.push().delivery.as_deref(), Some("NOT_FOUND"));
    }

    #[test]
    fn legacy_multicast_pairs_tokens_with_results() {
        let l = r#"{"time":1709648700,"req":{"registration_ids":["a","b"],"notification":{"title":"T"}},"res":{"multicast_id":1,"success":1,"failure":1,"results":[{"message_id":"0:1%x"},{"error":"NotRegistered"}]}}"#;
        let v = events(l);
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].push().device_id.as_deref(), Some("a"));
        assert_eq!(v[0].push().message_id.as_deref(), Some("0:1%x"));
        assert_eq!(v[1].push().delivery.as_deref(), Some("NotRegistered"));
        assert_eq!(v[1].outcome, Outcome::Failure);
    }

    #[test]
    fn other_lines_are_skipped_and_broken_ones_rejected() {
        let ctx = FileCtx::default();
        assert!(matches!(
            FcmV1Log.parse(r#"{"time":"2024-03-05T14:25:00Z","msg":"started"}"#, &ctx),
            Parsed::Skip(_)
        ));
        assert!(matches!(
            FcmV1Log.parse(r#"{"time":"2024-03-05T14:25:00Z","msg":"#, &ctx),
            Parsed::Reject(_)
        ));
        assert!(matches!(
            FcmV1Log.parse(
                r#"{"msg":"no time","message":{"topic":"x","data":{}}}"#,
                &ctx
            ),
            Parsed::Reject(_)
        ));
    }
}
