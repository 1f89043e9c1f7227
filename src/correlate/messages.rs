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

/// Who the application recorded as a campaign row's author: a column named `author`,
/// `creator`, `sender` or `…_by` (`created_by`, `sent_by`, `requested_by`).
fn row_author(f: &crate::model::SqlFacts) -> Option<String> {
    f.row.as_ref()?.iter().find_map(|(c, v)| {
        let c = c.to_ascii_lowercase();
        let named = matches!(c.as_str(), "author" | "creator" | "sender") || c.ends_with("_by");
        (named && !v.trim().is_empty() && v.len() <= 256).then(|| v.clone())
    })
}

/// The title and body a message lacks, from a campaign row's columns.
fn fill_text(m: &mut Message, f: &crate::model::SqlFacts) {
    if m.title.is_none() {
        m.title = TITLE_COLS.iter().find_map(|c| f.row_value(c).cloned());
    }
    if m.body.is_none() {
        m.body = BODY_COLS.iter().find_map(|c| f.row_value(c).cloned());
    }
}

/// Builds messages and their verdicts.
pub fn build(a: &Analysis, l: &Links, p: &Profile) -> Vec<Message> {
    let ev = &a.ing.events;
    let groups = group(ev);
    // Gateway push-route requests by path segment (campaign ids travel in paths).
    let mut by_seg: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() == SourceKind::Gateway && a.targets[i] == Some(Target::Push) {
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
    let sends = super::pushclock::sends(a, p);
    // Rows written to a campaign table (not a device table), in time order.
    let campaign_rows: Vec<usize> = (0..ev.len())
        .filter(|&i| {
            ev[i].sql.as_ref().is_some_and(|f| {
                f.row.is_some()
                    && (f.tables.iter())
                        .any(|t| p.table_target(t) == Some(Target::Push) && !p.is_device_table(t))
            })
        })
        .collect();
    let gateway = super::coverage::span(a, SourceKind::Gateway);
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
        // Campaign ids the records carry: a per-device export names the message by its
        // own id where the provider's summary carries the application's campaign.
        let mut campaigns: std::collections::BTreeSet<&str> = Default::default();
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
            if let Some(c) = &e.push().campaign_id {
                campaigns.insert(c.as_str());
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
        m.campaign = (campaigns.iter().find(|&&c| c != id.as_str()))
            .or(campaigns.first())
            .map(|c| c.to_string());
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
        let mut author = None;
        for key in campaigns.iter().copied().chain([id.as_str()]) {
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
                        author = author.or_else(|| row_author(f));
                        fill_text(&mut m, f);
                    }
                }
            }
        }
        related.retain(|&i| ev[i].ts <= m.sent + 60_000_000);
        // Timing, when nothing ties the send to a request: the last request that may send
        // a push (accepted, changing, not a device registering its token) in the 15
        // minutes before it. Rows that carry the campaign but whose statements
        // no request id or account ties to a request (the application's pooled
        // connection writing them) say which server wrote them, not who asked it to.
        if !related.iter().any(|&i| ev[i].kind() == SourceKind::Gateway) {
            if let Some(&g) = sends
                .iter()
                .rev()
                .find(|&&g| ev[g].ts <= m.sent && m.sent - ev[g].ts <= 900_000_000)
            {
                related.push(g);
            }
        }
        // Nor a request: the last campaign row written in the 15 minutes before it (a
        // provider that carries no campaign id, and no gateway evidence to time).
        if related.is_empty() {
            if let Some(&d) = (campaign_rows.iter().rev())
                .find(|&&d| ev[d].ts <= m.sent && m.sent - ev[d].ts <= 900_000_000)
            {
                related.push(d);
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
        // A provider that logs neither the text nor the application's campaign id (SNS
        // delivery status logs): the campaign row the originating request wrote says
        // what was sent, and by whom — the row tied to it, else the one row no request
        // claims that the application wrote in the seconds after it.
        if let Some(o) = m.origin {
            let row = (campaign_rows.iter().rev())
                .filter(|&&d| ev[d].ts <= m.sent + 60_000_000 && m.sent - ev[d].ts <= 900_000_000)
                .find(|&&d| d == o || l.origin(d) == Some(o))
                .or_else(|| {
                    let t = ev[o].ts;
                    let mut near = (campaign_rows.iter()).filter(|&&d| {
                        ev[o].kind() == SourceKind::Gateway
                            && l.origin(d).is_none()
                            && (t - 1_000_000..=t + 10_000_000).contains(&ev[d].ts)
                    });
                    near.next().filter(|_| near.next().is_none())
                })
                .and_then(|&d| ev[d].sql.as_ref());
            if let Some(f) = row {
                author = author.or_else(|| row_author(f));
                fill_text(&mut m, f);
            }
        }
        if let Some(o) = m.origin {
            // A request that names no identity (a gateway that logs none) leaves the
            // author the application wrote into the campaign's row; a statement's own
            // database user comes first (a row written straight into the database
            // names whoever its writer chose).
            m.sender = owned(&ev[o].principal)
                .or(owned(&ev[o].user))
                .or(owned(&ev[o].db_user));
            if m.sender.is_none() {
                m.sender_from_row = author.is_some();
                m.sender = author;
            }
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
                        "{scope} originating from {}{}; no link to attacker activity",
                        m.sender.as_deref().unwrap_or("?"),
                        m.source_ip
                            .as_deref()
                            .map(|ip| format!(" at {ip}"))
                            .unwrap_or_default()
                    )
                };
            }
            (None, None) => {
                m.reason = format!("{scope} with no originating request in the evidence and no link to attacker activity");
            }
        }
        if !m.malicious {
            if let Some(why) = super::coverage::unseen_send(m.sent, gateway) {
                m.reason = format!("{}; {why}", m.reason);
            }
        }
        out.push(m);
    }
    out.sort_by(|x, y| x.sent.cmp(&y.sent).then(x.id.cmp(&y.id)));
    out
}

/// Push records grouped into messages by provider message id. A provider id that names
/// one device only is a per-device send (Expo tickets, FCM sends per token): a backend
/// sending one message to everyone logs thousands of them. Per-device sends with the same
/// title, body and campaign, each within 30 minutes of the previous, are one message, and
/// every id among them names it; ids shared with another such run (a send log and the
/// delivery export of the same sends) join the two. A message is reported under its
/// earliest id (by time, then evidence order).
pub(super) fn group(
    ev: &[Box<crate::model::Event>],
) -> BTreeMap<(&'static str, String), Vec<usize>> {
    type Key<'e> = (&'static str, &'e str);
    // Every provider id, its first record and its devices (up to two).
    let mut keys: HashMap<Key, usize> = HashMap::new();
    let mut info: Vec<(Key, usize, Vec<&str>)> = Vec::new();
    for (i, e) in ev.iter().enumerate() {
        if e.kind() != SourceKind::Push {
            continue;
        }
        let Some(m) = e.push().message_id.as_deref() else {
            continue;
        };
        let k = (provider(e.format.as_str()), m);
        let n = *keys.entry(k).or_insert_with(|| {
            info.push((k, i, Vec::new()));
            info.len() - 1
        });
        if let Some(d) = e.push().device_id.as_deref() {
            let devs = &mut info[n].2;
            if devs.len() < 2 && !devs.contains(&d) {
                devs.push(d);
            }
        }
    }
    let mut parent: Vec<usize> = (0..info.len()).collect();
    fn root(p: &mut [usize], mut x: usize) -> usize {
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    let per_device = |e: &crate::model::Event| {
        let p = e.push();
        e.kind() == SourceKind::Push
            && p.device_id.is_some()
            && (p.title.is_some() || p.body.is_some() || p.campaign_id.is_some())
            && p.message_id.as_deref().is_none_or(|m| {
                keys.get(&(provider(e.format.as_str()), m))
                    .is_some_and(|&n| info[n].2.len() <= 1)
            })
    };
    let mut sends: Vec<usize> = (0..ev.len()).filter(|&i| per_device(&ev[i])).collect();
    let content = |i: usize| {
        let p = ev[i].push();
        (
            provider(ev[i].format.as_str()),
            p.title.as_deref(),
            p.body.as_deref(),
            p.campaign_id.as_deref(),
        )
    };
    sends.sort_by(|&x, &y| {
        content(x)
            .cmp(&content(y))
            .then(ev[x].ts.cmp(&ev[y].ts))
            .then(x.cmp(&y))
    });
    // Runs of sends; records without an id wait for their run's id (or stand alone).
    let mut orphans: Vec<(Option<usize>, Vec<usize>)> = Vec::new();
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
        let mut anchor: Option<usize> = None;
        let mut lone = Vec::new();
        for &i in run {
            let e = &ev[i];
            match e.push().message_id.as_deref() {
                Some(m) => {
                    let n = keys[&(provider(e.format.as_str()), m)];
                    match anchor {
                        Some(a) => {
                            let (ra, rn) = (root(&mut parent, a), root(&mut parent, n));
                            parent[rn] = ra;
                        }
                        None => anchor = Some(n),
                    }
                }
                None => lone.push(i),
            }
        }
        if !lone.is_empty() {
            orphans.push((anchor, lone));
        }
        start = end;
    }
    // The name of each set: its earliest id.
    let mut name: HashMap<usize, usize> = HashMap::new();
    for n in 0..info.len() {
        let r = root(&mut parent, n);
        let best = name.entry(r).or_insert(n);
        let at = |k: usize| (ev[info[k].1].ts, info[k].1);
        if at(n) < at(*best) {
            *best = n;
        }
    }
    let mut groups: BTreeMap<(&'static str, String), Vec<usize>> = BTreeMap::new();
    let key_of = |n: usize, parent: &mut [usize]| {
        let k = info[name[&root(parent, n)]].0;
        (k.0, k.1.to_string())
    };
    for (i, e) in ev.iter().enumerate() {
        if e.kind() != SourceKind::Push {
            continue;
        }
        let p = e.push();
        if let Some(m) = p.message_id.as_deref() {
            let k = key_of(keys[&(provider(e.format.as_str()), m)], &mut parent);
            groups.entry(k).or_default().push(i);
        } else if p.device_id.is_none() && p.push_target.is_some() && super::replies::request(e) {
            // A topic or condition send whose request no answer followed
            // (`replies::pair`): a message of its own.
            groups.entry(unnamed_send(e)).or_default().push(i);
        }
    }
    for (anchor, lone) in orphans {
        let k = match anchor {
            Some(n) => key_of(n, &mut parent),
            None => unnamed_send(&ev[lone[0]]),
        };
        groups.entry(k).or_default().extend(lone);
    }
    for v in groups.values_mut() {
        v.sort_unstable();
    }
    groups
}

/// The name of a message no provider id names, by its first record: the provider and
/// the time (`fcm-send-2024-03-05T14:40:00Z`).
fn unnamed_send(e: &crate::model::Event) -> (&'static str, String) {
    let prov = provider(e.format.as_str());
    (
        prov,
        format!("{prov}-send-{}", crate::timeparse::fmt_utc_s(e.ts)),
    )
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
