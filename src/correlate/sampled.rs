//! Per-device delivery records that are a sample: SNS logs every failed delivery but
//! successful ones only at the platform application's `SuccessFeedbackSampleRate`.
//! Two messages to one topic reach nearly the same devices; where their successful
//! records share few, the records are a sample, and the devices the topic reached are
//! estimated by capture–recapture (Chapman's form of the Lincoln–Petersen estimator).

use super::Message;
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
