//! Accounts that received a malicious message: by its per-device records, by what a
//! message without them addressed or went to (`audience`), and by the topic a sampled
//! log's send reached (`sampled`).

use super::impact_kind as k;
use super::{Affected, Analysis};
use std::collections::{BTreeMap, BTreeSet};

/// Records the recipients of every malicious message in `m`; returns the notes on
/// counted audiences and each such message's counted audience (message, accounts).
/// `existing` gives the accounts that existed at a time.
pub(super) fn record(
    a: &Analysis,
    m: &mut BTreeMap<String, Affected>,
    existing: &dyn Fn(i64) -> Vec<String>,
) -> (Vec<String>, Vec<(usize, usize)>) {
    let ev = &a.ing.events;
    let (mut notes, mut sizes) = (Vec::new(), Vec::new());
    let wave = |i: usize| a.attr[i].as_ref().map(|x| x.wave).unwrap_or(0);
    let mut audiences: Vec<(usize, super::audience::Audience)> = Vec::new();
    // Sends whose delivery records are a sample (`sampled`): those that reached every
    // roster device count every roster account with a device.
    let (sampled_note, widened) = super::sampled::widen(a, existing);
    for wd in &widened {
        let msg = &a.messages[wd.message];
        let named: BTreeSet<&str> = (msg.recipients.iter())
            .filter(|r| r.ok)
            .filter_map(|r| r.account.as_deref())
            .collect();
        let w = msg.origin.map(wave).unwrap_or(0);
        for acc in wd
            .accounts
            .iter()
            .filter(|acc| !named.contains(acc.as_str()))
        {
            let why = (wd.event).map(|i| {
                (
                    i,
                    format!("received malicious message {}: {}", msg.id, wd.basis),
                )
            });
            receive(m, acc, (msg.sent, w), &msg.id, why);
        }
    }
    notes.extend(sampled_note);
    for (n, msg) in a.messages.iter().enumerate().filter(|(_, x)| x.malicious) {
        let w = msg.origin.map(wave).unwrap_or(0);
        // No per-device records: the accounts the message's own record addresses, or
        // everyone it went to.
        if msg.recipients.is_empty() {
            if let Some(au) = super::audience::of(msg, ev, a.roster.as_ref(), existing) {
                for acc in &au.accounts {
                    let why = format!("received malicious message {}: {}", msg.id, au.basis);
                    receive(m, acc, (msg.sent, w), &msg.id, Some((au.event, why)));
                }
                audiences.push((n, au));
            }
            continue;
        }
        let first = msg.first_event_per_device(ev);
        for r in msg.recipients.iter().filter(|r| r.ok) {
            let Some(acc) = &r.account else { continue };
            let ev_i = first.get(r.device.as_str()).copied();
            let ts = ev_i.map(|i| ev[i].ts).unwrap_or(msg.sent);
            let why = ev_i.map(|i| {
                let on = format!(
                    "received malicious message {} on device {}",
                    msg.id, r.device
                );
                (i, on)
            });
            receive(m, acc, (ts, w), &msg.id, why);
        }
    }
    if !audiences.is_empty() {
        notes.push(format!(
            "Malicious messages whose provider logged no per-device records count as received \
             by the accounts their own record addresses, or, sent to everyone, by every roster \
             account with a device that existed then (an upper bound: a device that was \
             unsubscribed or failed is among them; the provider's delivery export or \
             message history says which): {}",
            audiences
                .iter()
                .map(|(n, au)| format!(
                    "{} ({} accounts; {})",
                    a.messages[*n].id,
                    au.accounts.len(),
                    au.basis
                ))
                .collect::<Vec<_>>()
                .join("; ")
        ));
        for (n, au) in audiences {
            sizes.push((n, au.accounts.len()));
        }
    }
    for wd in widened {
        sizes.push((wd.message, wd.accounts.len()));
    }
    (notes, sizes)
}

/// Records that account `acc` received malicious message `msg` (at `ts`, in wave `w`),
/// with the event and reason that show it, where there is one.
fn receive(
    m: &mut BTreeMap<String, Affected>,
    acc: &str,
    (ts, w): (i64, u32),
    msg: &str,
    evidence: Option<(usize, String)>,
) {
    let x = super::impact::entry(m, acc, ts);
    x.impacts.insert(k::PUSH);
    x.waves.insert(w);
    x.messages.insert(msg.to_string());
    if let Some((i, why)) = evidence {
        x.evidence.push((i, k::PUSH, why));
    }
}
