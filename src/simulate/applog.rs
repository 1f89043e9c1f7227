//! Push traffic as the sending backend logs it: FCM Admin SDK multicast sends (one JSON
//! line per batch of up to 500 tokens, with the batch response) and Expo push batches (up
//! to 100 messages with their tickets), then Expo receipts fetched 15 minutes later.

use super::scenario::{Customer, Device, Msg};
use serde_json::json;

/// A device's Expo push token, derived from its FCM id (no draw from the generator, so
/// the simulated world is the same whichever formats are written).
pub fn expo_token(dev: &Device) -> String {
    let n = dev.fcm.len().min(22);
    format!("ExponentPushToken[{}]", &dev.fcm[..n])
}

fn mix(m: &Msg, k: usize) -> u64 {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in m.fcm_id.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    (h ^ k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The FCM message id of the send to delivery `k` (one per token).
pub fn fcm_id(m: &Msg, k: usize) -> String {
    format!("0:{}%{:016x}", m.ts + k as i64, mix(m, k))
}

/// The Expo ticket id of delivery `k`.
pub fn ticket_id(m: &Msg, k: usize) -> String {
    let h = mix(m, k);
    let g = mix(m, k + 1_000_000);
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        g >> 52,
        g & 0xffff_ffff_ffff
    )
}

/// The id a message is reported under: the first accepted send's.
pub fn first_id(fmt: &str, m: &Msg) -> Option<String> {
    let k = m.deliveries.iter().position(|d| d.ok)?;
    Some(if fmt == "expo-push-log" {
        ticket_id(m, k)
    } else {
        fcm_id(m, k)
    })
}

fn iso(us: i64) -> String {
    crate::timeparse::fmt_utc(us)
}

/// FCM multicast batches of a message, pino-style JSON lines, with true times beside
/// them; `skew` is the worker's clock error (the lines' times carry it, the message ids
/// FCM returns do not).
pub fn fcm_lines(m: &Msg, customers: &[Customer], skew: i64) -> Vec<(i64, String)> {
    let mut out = vec![(
        m.ts - 40_000,
        json!({"level":30,"time": (m.ts - 40_000 + skew) / 1000,"pid":412,"hostname":"push-worker-1",
            "msg":"campaign queued","campaign": m.campaign,"recipients": m.deliveries.len()})
        .to_string(),
    )];
    for (b, chunk) in m.deliveries.chunks(500).enumerate() {
        let ts = m.ts + b as i64 * 180_000;
        let base = b * 500;
        let tokens: Vec<String> = chunk
            .iter()
            .map(|d| customers[d.cust].devices[d.dev].fcm.clone())
            .collect();
        let responses: Vec<serde_json::Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, d)| {
                if d.ok {
                    json!({"success": true, "messageId": format!("projects/loyalty-prod/messages/{}", fcm_id(m, base + i))})
                } else {
                    json!({"success": false, "error": {"code": "messaging/registration-token-not-registered",
                        "message": "Requested entity was not found."}})
                }
            })
            .collect();
        let ok = chunk.iter().filter(|d| d.ok).count();
        out.push((
            ts,
            json!({"level":30,"time": (ts + skew) / 1000,"pid":412,"hostname":"push-worker-1","msg":"fcm multicast sent",
                "request": {"tokens": tokens, "notification": {"title": m.title, "body": m.body},
                    "android": {"priority": "high"}, "fcm_options": {"analytics_label": m.campaign}},
                "response": {"successCount": ok, "failureCount": chunk.len() - ok, "responses": responses}})
            .to_string(),
        ));
    }
    out
}

/// Expo batches of a message (winston-style JSON lines), then the receipts; true times
/// beside them, the lines' times off by the worker's clock `skew`.
pub fn expo_lines(m: &Msg, customers: &[Customer], skew: i64) -> Vec<(i64, String)> {
    let mut out = Vec::new();
    let mut receipts = serde_json::Map::new();
    for (b, chunk) in m.deliveries.chunks(100).enumerate() {
        let ts = m.ts + b as i64 * 35_000;
        let base = b * 100;
        let messages: Vec<serde_json::Value> = chunk
            .iter()
            .map(|d| {
                json!({"to": expo_token(&customers[d.cust].devices[d.dev]), "title": m.title, "body": m.body,
                    "sound": "default", "data": {"campaign_id": m.campaign}})
            })
            .collect();
        let tickets: Vec<serde_json::Value> = chunk
            .iter()
            .enumerate()
            .map(|(i, d)| {
                if d.ok {
                    let id = ticket_id(m, base + i);
                    receipts.insert(id.clone(), json!({"status": "ok"}));
                    json!({"status": "ok", "id": id})
                } else {
                    let tok = expo_token(&customers[d.cust].devices[d.dev]);
                    json!({"status": "error", "message": format!("\"{tok}\" is not a registered push notification recipient"),
                        "details": {"error": "DeviceNotRegistered", "expoPushToken": tok}})
                }
            })
            .collect();
        out.push((
            ts,
            json!({"level": "info", "timestamp": iso(ts + skew), "service": "push", "message": "expo push batch sent",
                "request": serde_json::Value::Array(messages).to_string(), "response": {"data": tickets}})
            .to_string(),
        ));
    }
    let ts = m.ts + 900 * 1_000_000;
    if !receipts.is_empty() {
        out.push((
            ts,
            json!({"level": "info", "timestamp": iso(ts + skew), "service": "push", "message": "expo receipts",
                "response": {"data": receipts}})
            .to_string(),
        ));
    }
    out
}
