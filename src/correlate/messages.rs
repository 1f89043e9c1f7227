//! The push message model and verdicts: one record per provider message built from
//! whatever records exist (summary, per-device rows, or both), title and body from the
//! provider or the campaign row written through the DB, the originating request found by
//! campaign id or timing, and the verdict traced to attacker activity — or not.

use super::enrich::Links;
use super::{Analysis, Attribution, Message, Recipient};
use crate::model::{owned, Outcome, SourceKind};
use crate::profile::{Profile, Target};
use foldhash::{HashMap, HashMapExt};
use std::collections::BTreeMap;

/// Provider family of a push format.
pub fn provider(format: &str) -> &'static str {
    if format.starts_with("fcm") {
        "fcm"
    } else if format.starts_with("onesignal") {
        "onesignal"
    } else if format.starts_with("sns") {
        "sns"
    } else if format.starts_with("expo") {
        "expo"
    } else {
        "push"
    }
}

const TITLE_COLS: &[&str] = &["title", "heading", "headings", "subject", "headline"];
const BODY_COLS: &[&str] = &["body", "text", "message", "content", "contents", "msg"];

/// Builds messages and their verdicts.
pub fn build(a: &Analysis, l: &Links, p: &Profile) -> Vec<Message> {
    let ev = &a.ing.events;
    let groups = group(ev);
    // Gateway push-route requests by path segment (campaign ids travel in paths).
    let mut by_seg: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut push_reqs: Vec<usize> = Vec::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() == SourceKind::Gateway && a.targets[i] == Some(Target::Push) {
            push_reqs.push(i);
            for s in e
                .path
                .as_deref()
                .unwrap_or("")
                .split('/')
                .filter(|s| s.len() >= 6)
            {
                by_seg.entry(s).or_default().push(i);
            }
        }
    }
    let mut rows: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in ev.iter().enumerate() {
        if let Some(f) = &e.sql {
            for v in f.row_values().filter(|v| v.len() >= 6) {
                rows.entry(v.as_str()).or_default().push(i);
            }
        }
    }
    let mut out = Vec::new();
    for ((prov, id), idx) in groups {
        let mut m = Message {
            id: id.clone(),
            provider: prov.to_string(),
            sent: ev[idx[0]].ts,
            events: idx.clone(),
            ..Default::default()
        };
        // (delivered, account, a receipt's final word) per device.
        let mut devices: BTreeMap<String, (bool, Option<String>, Option<bool>)> = BTreeMap::new();
        let mut summary: Option<(u64, u64, u64)> = None;
        // A receipt names only its ticket: the device is the ticket's.
        let mut device_of: HashMap<&str, &str> = HashMap::new();
        for &i in &idx {
            if let (Some(m), Some(d)) = (&ev[i].push().message_id, &ev[i].push().device_id) {
                device_of.insert(m, d);
            }
        }
        for &i in &idx {
            let e = &ev[i];
            m.sent = m.sent.min(e.ts);
            if m.campaign.is_none() {
                m.campaign = owned(&e.push().campaign_id);
            }
            if m.title.is_none() {
                m.title = owned(&e.push().title);
            }
            if m.body.is_none() {
                m.body = owned(&e.push().body);
            }
            if m.target.is_none() {
                m.target = owned(&e.push().push_target);
            }
            if e.push().delivery.as_deref() == Some("summary") {
                summary = Some((
                    e.push().recipients.unwrap_or(0),
                    e.push().delivered.unwrap_or(0),
                    e.push().failed.unwrap_or(0),
                ));
            } else if let Some(d) = &e.push().device_id {
                let x = devices
                    .entry(d.to_string())
                    .or_insert((false, owned(&e.account_id), None));
                x.0 |= e.outcome == Outcome::Success;
                if x.1.is_none() {
                    x.1 = owned(&e.account_id);
                }
            } else if e
                .push()
                .delivery
                .as_deref()
                .is_some_and(|d| d.starts_with("receipt"))
            {
                let dev = e
                    .push()
                    .message_id
                    .as_deref()
                    .and_then(|m| device_of.get(m));
                if let Some(x) = dev.and_then(|d| devices.get_mut(*d)) {
                    x.2 = Some(e.outcome == Outcome::Success);
                }
            }
        }
        m.recipients = devices
            .into_iter()
            .map(|(d, (ok, acc, receipt))| Recipient {
                device: d,
                account: acc,
                ok: receipt.unwrap_or(ok),
            })
            .collect();
        if m.recipients.is_empty() {
            if let Some((r, d, f)) = summary {
                m.recipient_count = r;
                m.delivered = d;
                m.failed = f;
            }
        } else {
            m.recipient_count = m.recipients.len() as u64;
            m.delivered = m.recipients.iter().filter(|r| r.ok).count() as u64;
            m.failed = m.recipient_count - m.delivered;
        }
        // Related evidence: requests naming the campaign, DB rows carrying it.
        let mut related: Vec<usize> = Vec::new();
        for key in [m.campaign.as_deref(), Some(id.as_str())]
            .into_iter()
            .flatten()
        {
            if let Some(v) = by_seg.get(key) {
                related.extend(v.iter().copied());
            }
            if let Some(v) = rows.get(key) {
                for &d in v {
                    related.push(d);
                    if let Some(g) = l.origin_of(d) {
                        related.push(g);
                    }
                    if let Some(f) = &ev[d].sql {
                        if m.title.is_none() {
                            m.title = TITLE_COLS.iter().find_map(|c| f.row_value(c).cloned());
                        }
                        if m.body.is_none() {
                            m.body = BODY_COLS.iter().find_map(|c| f.row_value(c).cloned());
                        }
                    }
                }
            }
        }
        related.retain(|&i| ev[i].ts <= m.sent + 60_000_000);
        if related.is_empty() {
            // Timing: the last push-route request in the 15 minutes before the send.
            if let Some(&g) = push_reqs
                .iter()
                .rev()
                .find(|&&g| ev[g].ts <= m.sent && m.sent - ev[g].ts <= 900_000_000)
            {
                related.push(g);
            }
        }
        related.sort_unstable();
        related.dedup();
        let gw: Vec<usize> = related
            .iter()
            .copied()
            .filter(|&i| ev[i].kind() == SourceKind::Gateway)
            .collect();
        m.origin = gw.last().copied().or(related.last().copied());
        if let Some(o) = m.origin {
            m.sender = owned(&ev[o].principal)
                .or(owned(&ev[o].user))
                .or(owned(&ev[o].db_user));
            m.source_ip = owned(&ev[o].client_ip).or(owned(&ev[o].db_host));
        }
        let bad: Option<&Attribution> = related.iter().find_map(|&i| a.attr[i].as_ref());
        let mass = m.recipient_count >= p.thresholds.mass_push_recipients;
        let scope = if mass { "mass send" } else { "send" };
        match (bad, m.origin) {
            (Some(at), _) => {
                m.malicious = true;
                m.reason = format!(
                    "{scope} traced to attacker activity: created/sent by {} from {} ({})",
                    m.sender.as_deref().unwrap_or("?"),
                    m.source_ip.as_deref().unwrap_or("?"),
                    at.reason
                );
            }
            (None, Some(o)) => {
                let e = &ev[o];
                let usual = match (&e.principal, &e.client_ip) {
                    (Some(pr), Some(ip)) => l.usual_place(pr, ip, p),
                    _ => false,
                };
                m.reason = if usual {
                    format!("{scope} through the normal staff path by {} from its usual place {}; no link to attacker activity", m.sender.as_deref().unwrap_or("?"), m.source_ip.as_deref().unwrap_or("?"))
                } else {
                    format!(
                        "{scope} originating from {} at {}; no link to attacker activity",
                        m.sender.as_deref().unwrap_or("?"),
                        m.source_ip.as_deref().unwrap_or("?")
                    )
                };
            }
            (None, None) => {
                m.reason = format!("{scope} with no originating request in the evidence and no link to attacker activity");
            }
        }
        out.push(m);
    }
    out.sort_by(|x, y| x.sent.cmp(&y.sent).then(x.id.cmp(&y.id)));
    out
}

/// Push records grouped into messages by provider message id. A provider that gives every
/// recipient an id of its own (Expo tickets, FCM sends per token) logs one send per
/// device: such send records with the same title, body and campaign, each within 30
/// minutes of the previous, are one message, and every id among them names it (the
/// earliest one, by time and then evidence order). Receipts and delivery rows join
/// through those ids.
fn group(ev: &[Box<crate::model::Event>]) -> BTreeMap<(&'static str, String), Vec<usize>> {
    type Key = (&'static str, String);
    let mut sends: Vec<usize> = ev
        .iter()
        .enumerate()
        .filter(|(_, e)| {
            e.kind() == SourceKind::Push
                && e.push().device_id.is_some()
                && (e.push().title.is_some() || e.push().body.is_some())
        })
        .map(|(i, _)| i)
        .collect();
    let content = |i: usize| {
        let p = ev[i].push();
        (
            provider(ev[i].format.as_str()),
            p.title.clone(),
            p.body.clone(),
            p.campaign_id.clone(),
        )
    };
    sends.sort_by(|&x, &y| {
        content(x)
            .cmp(&content(y))
            .then(ev[x].ts.cmp(&ev[y].ts))
            .then(x.cmp(&y))
    });
    let mut alias: HashMap<Key, Key> = HashMap::new();
    let mut orphans: BTreeMap<Key, Vec<usize>> = BTreeMap::new();
    let mut start = 0;
    while start < sends.len() {
        let mut end = start + 1;
        while end < sends.len()
            && content(sends[end]) == content(sends[start])
            && ev[sends[end]].ts - ev[sends[end - 1]].ts <= 1_800_000_000
        {
            end += 1;
        }
        let run = &sends[start..end];
        let prov = provider(ev[run[0]].format.as_str());
        let first_id = run
            .iter()
            .filter_map(|&i| ev[i].push().message_id.as_deref().map(|m| (ev[i].ts, i, m)))
            .min();
        let key: Key = match first_id {
            Some((_, _, m)) => (prov, m.to_string()),
            None => (
                prov,
                format!("{prov}-send-{}", crate::timeparse::fmt_utc_s(ev[run[0]].ts)),
            ),
        };
        for &i in run {
            match &ev[i].push().message_id {
                Some(m) => {
                    alias.insert((prov, m.to_string()), key.clone());
                }
                None => orphans.entry(key.clone()).or_default().push(i),
            }
        }
        start = end;
    }
    let mut groups: BTreeMap<Key, Vec<usize>> = orphans;
    for (i, e) in ev.iter().enumerate() {
        if e.kind() == SourceKind::Push {
            if let Some(m) = &e.push().message_id {
                let k: Key = (provider(e.format.as_str()), m.to_string());
                let k = alias.get(&k).cloned().unwrap_or(k);
                groups.entry(k).or_default().push(i);
            }
        }
    }
    for v in groups.values_mut() {
        v.sort_unstable();
    }
    groups
}

/// Marks every record of a malicious message as attacker activity.
pub fn attribute_push(a: &mut Analysis, _l: &Links) {
    for m in &a.messages {
        if !m.malicious {
            continue;
        }
        for &i in &m.events {
            // A receipt is the backend's later poll for the outcome, not the attack.
            let e = &a.ing.events[i];
            if e.push()
                .delivery
                .as_deref()
                .is_some_and(|d| d.starts_with("receipt"))
            {
                continue;
            }
            if a.attr[i].is_none() {
                a.attr[i] = Some(Attribution {
                    reason: format!("record of malicious message {}", m.id),
                    wave: 0,
                    direct_db: false,
                });
            }
        }
    }
}
