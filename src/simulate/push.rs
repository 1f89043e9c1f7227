//! Push-provider writers: FCM BigQuery export rows (NDJSON / CSV), OneSignal notification
//! pages and audience-activity exports, SNS delivery-status records.

use super::scenario::{Customer, Msg, S};
use chrono::DateTime;

/// Push formats the simulator writes.
pub const FORMATS: &[&str] = &[
    "fcm-bigquery-json",
    "fcm-bigquery-csv",
    "onesignal",
    "sns-delivery",
    "fcm-v1-log",
    "expo-push-log",
];

/// FCM export columns, in order.
pub const FCM_COLUMNS: &[&str] = &[
    "event_timestamp",
    "project_number",
    "message_id",
    "instance_id",
    "message_type",
    "sdk_platform",
    "app_name",
    "collapse_key",
    "priority",
    "ttl",
    "topic",
    "bulk_id",
    "event",
    "analytics_label",
];

fn bq_time(us: i64) -> String {
    DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S%.6f UTC")
        .to_string()
}

/// FCM rows of a message: the topic fan-out row, then per device ACCEPTED (+ DELIVERED on
/// Android) or an error event. Each row is a list of column values (None = null). With
/// `per_token` the backend sent to each token (the ids its send log holds): no topic row,
/// and every device's rows carry that send's own message id.
pub fn fcm_rows(
    m: &Msg,
    customers: &[Customer],
    per_token: bool,
) -> Vec<(i64, Vec<Option<String>>)> {
    let mut rows = Vec::new();
    let mut k = 0;
    let mut id = m.fcm_id.clone();
    let base = |mid: &str,
                ts: i64,
                inst: Option<String>,
                typ: &str,
                plat: Option<&str>,
                topic: Option<&str>,
                ev: &str| {
        vec![
            Some(bq_time(ts)),
            Some("412345678901".into()),
            Some(mid.to_string()),
            inst,
            Some(typ.to_string()),
            plat.map(|p| p.to_ascii_uppercase()),
            Some("com.loyalty.app".into()),
            Some("com.loyalty.app".into()),
            Some("10".into()),
            Some("2419200".into()),
            topic.map(str::to_string),
            topic.map(|_| format!("{}", m.ts / 1000 % 10_000_000_000)),
            Some(ev.to_string()),
            Some(m.campaign.clone()),
        ]
    };
    if !per_token {
        rows.push((
            m.ts,
            base(
                &id,
                m.ts,
                None,
                "TOPIC",
                None,
                Some(m.topic),
                "MESSAGE_ACCEPTED",
            ),
        ));
    }
    for d in &m.deliveries {
        if per_token {
            id = super::applog::fcm_id(m, k);
            k += 1;
        }
        let dev = &customers[d.cust].devices[d.dev];
        if d.ok {
            rows.push((
                d.ts - 400_000,
                base(
                    &id,
                    d.ts - 400_000,
                    Some(dev.fcm.clone()),
                    "DISPLAY_NOTIFICATION",
                    Some(dev.platform),
                    None,
                    "MESSAGE_ACCEPTED",
                ),
            ));
            if dev.platform == "android" {
                rows.push((
                    d.ts,
                    base(
                        &id,
                        d.ts,
                        Some(dev.fcm.clone()),
                        "DISPLAY_NOTIFICATION",
                        Some(dev.platform),
                        None,
                        "MESSAGE_DELIVERED",
                    ),
                ));
            }
        } else {
            rows.push((
                d.ts,
                base(
                    &id,
                    d.ts,
                    Some(dev.fcm.clone()),
                    "DISPLAY_NOTIFICATION",
                    Some(dev.platform),
                    None,
                    "INVALID_REGISTRATION",
                ),
            ));
        }
    }
    rows.sort_by_key(|r| r.0);
    rows
}

/// One FCM row as NDJSON.
pub fn fcm_json(row: &[Option<String>]) -> String {
    let mut m = serde_json::Map::new();
    for (k, v) in FCM_COLUMNS.iter().zip(row) {
        m.insert(
            k.to_string(),
            v.clone()
                .map(serde_json::Value::String)
                .unwrap_or(serde_json::Value::Null),
        );
    }
    serde_json::Value::Object(m).to_string()
}

/// One FCM row as CSV.
pub fn fcm_csv(row: &[Option<String>]) -> String {
    row.iter()
        .map(|v| match v {
            Some(s) if s.contains([',', '"']) => format!("\"{}\"", s.replace('"', "\"\"")),
            Some(s) => s.clone(),
            None => String::new(),
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// A OneSignal notification object.
pub fn onesignal(m: &Msg) -> serde_json::Value {
    let ok = m.deliveries.iter().filter(|d| d.ok).count();
    let failed = m.deliveries.len() - ok;
    serde_json::json!({
        "id": m.onesignal_id, "app_id": "1f2e3d4c-5b6a-4789-8a7b-6c5d4e3f2a1b",
        "name": m.campaign, "headings": {"en": m.title}, "contents": {"en": m.body},
        "included_segments": [if m.topic == "all" { "Subscribed Users".to_string() } else { m.topic.to_string() }],
        "data": {"campaign_id": m.campaign},
        "successful": ok, "failed": 0, "errored": failed, "converted": ok / 20, "received": ok,
        "remaining": 0, "queued_at": m.ts / S, "send_after": m.ts / S,
        "completed_at": m.deliveries.last().map(|d| d.ts / S).unwrap_or(m.ts / S),
        "canceled": false, "isAndroid": true, "isIos": true
    })
}

/// Audience-activity CSV header.
pub const AUDIENCE_HEADER: &str = "external_user_id,subscription_id,device_type,sent,delivered,clicked,onesignal_id,failed,unsubscribed,failure_message";

/// Audience-activity rows of a message.
pub fn audience_rows(m: &Msg, customers: &[Customer]) -> Vec<String> {
    m.deliveries
        .iter()
        .map(|d| {
            let c = &customers[d.cust];
            let dev = &c.devices[d.dev];
            let t = |us: i64| {
                DateTime::from_timestamp_micros(us)
                    .unwrap_or_default()
                    .format("%Y-%m-%d %H:%M:%S")
                    .to_string()
            };
            if d.ok {
                format!(
                    "{},{},{},{},{},,{},,,",
                    c.id,
                    dev.onesignal,
                    dev.platform,
                    t(m.ts),
                    t(d.ts),
                    dev.onesignal
                )
            } else {
                format!(
                    "{},{},{},{},,,{},{},,\"Unregistered, token expired\"",
                    c.id,
                    dev.onesignal,
                    dev.platform,
                    t(m.ts),
                    dev.onesignal,
                    t(d.ts)
                )
            }
        })
        .collect()
}

/// SNS delivery-status records of a message.
pub fn sns_rows(m: &Msg, customers: &[Customer]) -> Vec<(i64, String)> {
    let pub_ts = DateTime::from_timestamp_micros(m.ts)
        .unwrap_or_default()
        .format("%Y-%m-%d %H:%M:%S%.3f")
        .to_string();
    // SNS prints 1–3 fractional digits.
    let pub_ts = pub_ts
        .trim_end_matches('0')
        .trim_end_matches('.')
        .to_string();
    m.deliveries
        .iter()
        .map(|d| {
            let dev = &customers[d.cust].devices[d.dev];
            let (status, code, resp) = if d.ok {
                ("SUCCESS", 200, format!("{{\"name\":\"projects/loyalty-prod/messages/{}\"}}", m.fcm_id))
            } else {
                ("FAILURE", 410, "{\"reason\":\"Unregistered\"}".to_string())
            };
            let v = serde_json::json!({
                "notification": {"messageMD5Sum": "9d8f8f1e0f", "messageId": m.sns_id,
                    "topicArn": format!("arn:aws:sns:eu-central-1:111122223333:{}", m.topic), "timestamp": pub_ts},
                "delivery": {"deliveryId": format!("{}-{}-{}", m.sns_id, d.cust, d.dev), "destination": dev.sns,
                    "providerResponse": resp, "dwellTimeMs": (d.ts - m.ts) / 1000, "attempts": 1, "statusCode": code},
                "status": status
            });
            (d.ts, v.to_string())
        })
        .collect()
}
