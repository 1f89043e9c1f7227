//! Recipients of a malicious message whose provider logged no per-device records: the
//! accounts its own record addresses (OneSignal's `include_external_user_ids`, player
//! and subscription ids), or, for a send to everyone, every roster account with a
//! device that existed when it went out — a segment or topic whose provider count
//! reaches the accounts with a device the roster knows, or one named for everyone (OneSignal's
//! "Subscribed Users", an FCM topic `all`).

use super::Message;
use crate::model::{Event, SourceKind};
use crate::roster::Roster;
use std::collections::BTreeSet;

/// The accounts a message reached by its own record, or by its audience, and why.
#[derive(Debug, PartialEq)]
pub struct Audience {
    /// Accounts, sorted.
    pub accounts: Vec<String>,
    /// How they were found, for the evidence and the notes.
    pub basis: String,
    /// The record the message's audience is read from.
    pub event: usize,
}

/// Segments and topics whose name says they reach every subscriber: OneSignal's default
/// segments, and topic names for everyone.
pub(super) fn everyone(target: &str) -> bool {
    let (kind, names) = target.split_once(':').unwrap_or(("", target));
    let words = |n: &str| -> Vec<String> {
        n.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect()
    };
    match kind {
        "segment" => names.split(';').any(|s| {
            matches!(
                words(s).join(" ").as_str(),
                "subscribed users" | "total subscriptions" | "all" | "all users" | "everyone"
            )
        }),
        "topic" => {
            let w = words(names);
            !w.is_empty()
                && w.iter()
                    .any(|x| matches!(x.as_str(), "all" | "everyone" | "everybody" | "broadcast"))
                && w.iter().all(|x| {
                    matches!(
                        x.as_str(),
                        "all"
                            | "everyone"
                            | "everybody"
                            | "broadcast"
                            | "users"
                            | "customers"
                            | "devices"
                            | "app"
                            | "global"
                            | "topics"
                    )
                })
        }
        _ => false,
    }
}

/// The audience of `msg` (which has no per-device recipients): `existing` gives the
/// accounts that existed at a time.
pub fn of(
    msg: &Message,
    ev: &[Box<Event>],
    roster: Option<&Roster>,
    existing: &dyn Fn(i64) -> Vec<String>,
) -> Option<Audience> {
    let records: Vec<usize> = (msg.events.iter().copied())
        .filter(|&i| ev[i].kind() == SourceKind::Push)
        .collect();
    let &event = records.first()?;
    // Addressed by the message itself.
    let mut addressed: BTreeSet<String> = BTreeSet::new();
    let (mut external, mut devices) = (0usize, 0usize);
    for &i in &records {
        let x = &ev[i].extra;
        for id in x.get("external_ids").map_or("", |v| v.as_str()).split(';') {
            if id.is_empty() {
                continue;
            }
            external += 1;
            let acc = roster.and_then(|r| r.account_of(id)).unwrap_or(id);
            addressed.insert(acc.to_string());
        }
        for d in x.get("device_ids").map_or("", |v| v.as_str()).split(';') {
            if d.is_empty() {
                continue;
            }
            devices += 1;
            if let Some(acc) = roster.and_then(|r| r.account_of(d)) {
                addressed.insert(acc.to_string());
            }
        }
    }
    if external + devices > 0 {
        let mut parts = Vec::new();
        if external > 0 {
            parts.push(format!("{external} external user id(s)"));
        }
        if devices > 0 {
            parts.push(format!("{devices} device(s)"));
        }
        return (!addressed.is_empty()).then(|| Audience {
            accounts: addressed.into_iter().collect(),
            basis: format!(
                "the provider's record of the message addresses {} (no per-device delivery \
                 records)",
                parts.join(" and ")
            ),
            event,
        });
    }
    // Sent to everyone: the roster's accounts with a device, as they existed then.
    let roster = roster?;
    let accounts: Vec<String> = existing(msg.sent)
        .into_iter()
        .filter(|a| {
            roster
                .customers
                .get(a)
                .is_some_and(|c| !c.devices.is_empty())
        })
        .collect();
    // Against accounts, not devices: a roster keeps a customer's old devices too.
    let known = accounts.len() as u64;
    if accounts.is_empty() {
        return None;
    }
    let target = msg.target.as_deref().unwrap_or("");
    let by_count = msg.recipient_count > 0 && msg.recipient_count * 10 >= known * 8;
    let by_name = everyone(target);
    if !(by_count || by_name)
        || target.starts_with("external_ids:")
        || target.starts_with("devices:")
    {
        return None;
    }
    let to = if target.is_empty() {
        "its audience".to_string()
    } else {
        crate::sanitize::shorten(target, 80)
    };
    let why = if by_count {
        format!(
            "{} recipients by the provider's count, against {known} roster accounts with a \
             device",
            msg.recipient_count
        )
    } else {
        "a segment or topic for every subscriber".to_string()
    };
    Some(Audience {
        accounts,
        basis: format!(
            "sent to {to} ({why}) with no per-device records: every roster account with a \
             device that existed then"
        ),
        event,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Event;

    /// A message and its one summary record (boxed, as the analysis holds events).
    type Summary = (Message, Vec<Box<Event>>);

    fn summary(target: &str, recipients: u64, extra: &[(&str, &str)]) -> Summary {
        let mut e = Event::new(SourceKind::Push, "onesignal-json");
        e.ts = 1_000;
        for (k, v) in extra {
            e.extra.insert(k, *v);
        }
        let msg = Message {
            id: "m1".into(),
            sent: 1_000,
            target: (!target.is_empty()).then(|| target.to_string()),
            recipient_count: recipients,
            events: vec![0],
            malicious: true,
            ..Default::default()
        };
        (msg, vec![Box::new(e)])
    }

    fn roster() -> Roster {
        Roster::parse(
            "account_id,created_at,device_ids,external_id\n\
             1,2024-01-01T00:00:00Z,d1;d2,ext-1\n\
             2,2024-01-01T00:00:00Z,d3,ext-2\n\
             3,2024-01-01T00:00:00Z,,ext-3\n\
             4,2024-01-01T00:00:00Z,d4,ext-4\n",
            "roster.csv",
        )
    }

    #[test]
    fn a_summary_that_names_its_recipients_reaches_them() {
        let r = roster();
        let all = |_: i64| vec!["1".into(), "2".into(), "3".into(), "4".into()];
        let (m, ev) = summary("external_ids:2", 2, &[("external_ids", "ext-2;ext-3")]);
        let got = of(&m, &ev, Some(&r), &all).unwrap();
        assert_eq!(got.accounts, ["2", "3"]);
        let (m, ev) = summary("devices:2", 2, &[("device_ids", "d4;unknown")]);
        assert_eq!(of(&m, &ev, Some(&r), &all).unwrap().accounts, ["4"]);
        // Without a roster an external id is the application's own account id.
        let (m, ev) = summary("external_ids:1", 1, &[("external_ids", "100234")]);
        assert_eq!(of(&m, &ev, None, &all).unwrap().accounts, ["100234"]);
    }

    #[test]
    fn a_send_to_everyone_reaches_every_account_with_a_device_then() {
        let r = roster();
        let all = |_: i64| vec!["1".into(), "2".into(), "3".into(), "4".into()];
        // Three accounts with a device (four devices); the provider counted three.
        let (m, ev) = summary("segment:Active Last Week", 3, &[]);
        assert_eq!(
            of(&m, &ev, Some(&r), &all).unwrap().accounts,
            ["1", "2", "4"]
        );
        // Named for everyone, no count (an FCM topic send).
        let (m, ev) = summary("topic:all-users", 0, &[]);
        assert_eq!(
            of(&m, &ev, Some(&r), &all).unwrap().accounts,
            ["1", "2", "4"]
        );
        let (m, ev) = summary("segment:Subscribed Users", 0, &[]);
        assert!(of(&m, &ev, Some(&r), &all).is_some());
        // Accounts created after the send had no device then.
        let early = |_: i64| vec!["1".into(), "3".into()];
        assert_eq!(of(&m, &ev, Some(&r), &early).unwrap().accounts, ["1"]);
    }

    #[test]
    fn a_send_to_a_part_reaches_no_one_the_evidence_cannot_name() {
        let r = roster();
        let all = |_: i64| vec!["1".into(), "2".into(), "3".into(), "4".into()];
        for (target, n) in [
            ("segment:Kyiv VIP", 2),
            ("topic:promo-kyiv", 0),
            ("topic:all-kyiv", 0),
            ("condition:'a' in topics", 0),
            ("", 0),
        ] {
            let (m, ev) = summary(target, n, &[]);
            assert_eq!(of(&m, &ev, Some(&r), &all), None, "{target}");
        }
        // No roster: no list of everyone.
        let (m, ev) = summary("segment:Subscribed Users", 4, &[]);
        assert_eq!(of(&m, &ev, None, &all), None);
    }
}
