//! Per-device delivery records that are a sample: SNS logs every failed delivery but
//! successful ones only at the platform application's `SuccessFeedbackSampleRate`.
//! Two messages to one topic reach nearly the same devices; where their successful
//! records share few, the records are a sample, and the devices the topic reached are
//! estimated by capture–recapture (Chapman's form of the Lincoln–Petersen estimator).

use super::{Analysis, Message};
use crate::model::SourceKind;
use std::collections::{BTreeMap, BTreeSet};

/// Fewest successful records each of the two messages needs for their overlap to say
/// anything.
const MIN_RECORDS: usize = 10;

/// Two full logs of one topic share most of their devices (subscribers come and go
/// between sends); samples share about the sample rate.
const MAX_SHARED: f64 = 0.5;

/// What the records of a message sampled from its topic's deliveries show.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    /// The other message to the same topic it was compared with (index in the list).
    pub with: usize,
    /// Successful devices of this message, of the other, and of both.
    pub counts: (usize, usize, usize),
    /// The devices the topic delivered to, estimated (successes and failures).
    pub reach: u64,
}

/// The devices a message was delivered to.
fn delivered(m: &Message) -> BTreeSet<&str> {
    (m.recipients.iter())
        .filter(|r| r.ok)
        .map(|r| r.device.as_str())
        .collect()
}

/// The messages (by index) whose per-device records are a sample of their topic's
/// deliveries.
pub fn find(msgs: &[Message]) -> BTreeMap<usize, Sample> {
    let mut topics: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (n, m) in msgs.iter().enumerate() {
        if let Some(t) = m.target.as_deref().filter(|t| t.starts_with("topic:")) {
            if !m.recipients.is_empty() {
                topics.entry(t).or_default().push(n);
            }
        }
    }
    let mut out = BTreeMap::new();
    for list in topics.values().filter(|l| l.len() >= 2) {
        let sets: Vec<BTreeSet<&str>> = list.iter().map(|&n| delivered(&msgs[n])).collect();
        for (x, &n) in list.iter().enumerate() {
            // Compared with the message to the topic that has the most records.
            let Some((y, other)) = (sets.iter().enumerate())
                .filter(|(y, _)| *y != x)
                .max_by_key(|(y, s)| (s.len(), std::cmp::Reverse(*y)))
            else {
                continue;
            };
            let own = &sets[x];
            if own.len() < MIN_RECORDS || other.len() < MIN_RECORDS {
                continue;
            }
            let shared = own.intersection(other).count();
            if shared as f64 > MAX_SHARED * own.len().min(other.len()) as f64 {
                continue;
            }
            let (a, b, k) = (own.len() as u64, other.len() as u64, shared as u64);
            let reach = (a + 1) * (b + 1) / (k + 1) - 1 + msgs[n].failed;
            out.insert(
                n,
                Sample {
                    with: list[y],
                    counts: (own.len(), other.len(), shared),
                    reach,
                },
            );
        }
    }
    out
}

/// A malicious send whose sampled records estimate a reach of every roster device.
#[derive(Debug)]
pub struct Widened {
    /// The message (index in the analysis's list).
    pub message: usize,
    /// Every roster account with a device that existed when it was sent.
    pub accounts: Vec<String>,
    /// Why they count as its recipients, for the evidence.
    pub basis: String,
    /// The record the evidence points to (its first push record).
    pub event: Option<usize>,
}

/// The note on the messages whose records are a sample, and the malicious sends among
/// them that count every roster account with a device, as a provider's count does in
/// `audience::of`: an estimated reach of eight in ten of the roster's devices or more,
/// or a topic named for everyone. `existing` gives the accounts that existed at a time.
pub fn widen(
    a: &Analysis,
    existing: &dyn Fn(i64) -> Vec<String>,
) -> (Option<String>, Vec<Widened>) {
    let ev = &a.ing.events;
    let mut notes = Vec::new();
    let mut widened = Vec::new();
    for (n, s) in find(&a.messages) {
        let msg = &a.messages[n];
        let topic = msg.target.as_deref().unwrap_or("");
        let to = crate::sanitize::shorten(topic.strip_prefix("topic:").unwrap_or(topic), 80);
        let (own, other, shared) = s.counts;
        let mut note = format!(
            "{} {}: its {own} devices with a successful delivery share {shared} with the \
             {other} of {} to the same topic {to}, where two full logs of one topic share most; \
             the topic reached about {} devices (capture–recapture), the records name {}",
            if msg.malicious {
                "malicious message"
            } else {
                "message"
            },
            msg.id,
            a.messages[s.with].id,
            s.reach,
            msg.recipients.len()
        );
        let everyone = (a.roster.as_ref()).filter(|_| msg.malicious).and_then(|r| {
            let accounts: Vec<String> = existing(msg.sent)
                .into_iter()
                .filter(|acc| r.customers.get(acc).is_some_and(|c| !c.devices.is_empty()))
                .collect();
            let devices: u64 = (accounts.iter())
                .map(|acc| r.customers[acc].devices.len() as u64)
                .sum();
            let all = s.reach * 10 >= devices * 8 || super::audience::everyone(topic);
            (devices > 0 && all).then_some((accounts, devices))
        });
        if let Some((accounts, devices)) = everyone {
            note.push_str(&format!(
                ", and the roster holds {devices}: all {} roster accounts with a device that \
                 existed then count as recipients (an upper bound)",
                accounts.len()
            ));
            widened.push(Widened {
                message: n,
                accounts,
                basis: format!(
                    "the provider's delivery records are a sample of a send to topic {to}, \
                     which reached about {} devices, as many as every roster account with a \
                     device has",
                    s.reach
                ),
                event: (msg.events.iter().copied()).find(|&i| ev[i].kind() == SourceKind::Push),
            });
        } else if msg.malicious {
            note.push_str(": recipients the records do not name cannot be listed");
        }
        notes.push(note);
    }
    let note = (!notes.is_empty()).then(|| {
        format!(
            "Delivery records that are a sample of the deliveries (SNS logs every failed \
             delivery, successful ones at the platform application's \
             SuccessFeedbackSampleRate): {}.",
            notes.join("; ")
        )
    });
    (note, widened)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::Recipient;

    fn msg(id: &str, topic: &str, devices: impl Iterator<Item = u32>, failed: u32) -> Message {
        let mut recipients: Vec<Recipient> = devices
            .map(|d| Recipient {
                device: format!("dev{d}"),
                account: None,
                ok: true,
            })
            .collect();
        recipients.extend((0..failed).map(|d| Recipient {
            device: format!("gone{d}"),
            account: None,
            ok: false,
        }));
        Message {
            id: id.into(),
            target: Some(format!("topic:{topic}")),
            failed: u64::from(failed),
            recipients,
            ..Default::default()
        }
    }

    #[test]
    fn two_sends_to_one_topic_logged_in_full_are_no_sample() {
        let msgs = [msg("a", "all", 0..380, 12), msg("b", "all", 5..390, 15)];
        assert!(find(&msgs).is_empty());
    }

    #[test]
    fn a_tenth_of_the_successes_is_a_sample_and_the_reach_is_estimated() {
        // Every ninth device of one send, every tenth of the other: 43 and 38 share 5.
        let msgs = [
            msg("a", "all", (0..380).filter(|d| d % 9 == 0), 12),
            msg("b", "all", (0..380).filter(|d| d % 10 == 0), 19),
            msg("c", "kyiv-deals", (0..50).filter(|d| d % 10 == 0), 0),
        ];
        let got = find(&msgs);
        assert_eq!(got.keys().copied().collect::<Vec<_>>(), [0, 1]);
        let b = &got[&1];
        assert_eq!((b.with, b.counts), (0, (38, 43, 5)));
        // (39 × 44) / 6 − 1 = 285, and the 19 failures.
        assert_eq!(b.reach, 285 + 19);
    }

    #[test]
    fn few_records_or_one_send_say_nothing() {
        let msgs = [
            msg("a", "all", (0..380).filter(|d| d % 50 == 0), 1),
            msg("b", "all", (0..380).filter(|d| d % 51 == 0), 1),
            msg("c", "news", (0..380).filter(|d| d % 10 == 0), 1),
        ];
        assert!(find(&msgs).is_empty());
    }
}
