//! Mass sends that went around the application: no request and no row in the evidence
//! made them, the gateway evidence covers their time, and the attacker was at work
//! around them — the provider's key or console used from outside, which the provider's
//! own audit trail, not the application's logs, can name. And mass sends whose campaign
//! row the application wrote amid the attack where no gateway evidence can show the
//! request behind it.

use super::{Analysis, Message};
use crate::model::SourceKind;
use crate::profile::Profile;
use crate::timeparse::fmt_utc_s;
use std::collections::BTreeSet;

/// Judges the messages `build` found no origin for, and those whose origin is a
/// campaign row. A mass send with no origin qualifies when the gateway logged steadily
/// over its send time (inside its span, in none of its silences); one whose origin is a
/// row, when the gateway evidence does not cover its time. Both need attacker-attributed
/// events within `gap` of it (the distance that keeps events in one wave), and no
/// message with the same title and body (or, where the provider keeps neither, campaign
/// label) sent away from attacker activity (a recurring send is the application's
/// routine, whoever scheduled it).
pub fn judge(out: &mut [Message], a: &Analysis, p: &Profile, gap: i64) {
    let ev = &a.ing.events;
    let mut attacked: Vec<(i64, usize)> = (a.attr.iter().enumerate())
        .filter(|(_, x)| x.is_some())
        .map(|(i, _)| (ev[i].ts, i))
        .collect();
    attacked.sort_unstable();
    let near = |t: i64| -> Option<(usize, usize)> {
        let lo = attacked.partition_point(|&(ts, _)| ts < t - gap);
        let hi = attacked.partition_point(|&(ts, _)| ts <= t + gap);
        // The attributed event nearest before the send names the activity, else the
        // first after it.
        let before = attacked[lo..hi].iter().rposition(|&(ts, _)| ts <= t);
        (hi > lo).then(|| (hi - lo, attacked[lo + before.unwrap_or(0)].1))
    };
    // What a recurring send repeats: its title and body, or, where the provider keeps
    // neither (FCM's export), its campaign label.
    let content = |m: &Message| {
        if m.title.is_some() || m.body.is_some() {
            Some((m.title.clone(), m.body.clone()))
        } else {
            m.campaign.clone().map(|c| (None, Some(c)))
        }
    };
    // Titles and bodies sent away from attacker activity.
    let routine: BTreeSet<_> = (out.iter())
        .filter(|m| !m.malicious && near(m.sent).is_none())
        .filter_map(content)
        .collect();
    let routed = out.iter().any(|m| {
        m.recipient_count >= p.thresholds.mass_push_recipients
            && m.origin
                .is_some_and(|o| ev[o].kind() == SourceKind::Gateway)
    });
    let covered = super::coverage::covers(a, SourceKind::Gateway, 0);
    // Mass sends that no request or row made while the gateway logged (the provider
    // used from outside), and those whose campaign row the application wrote at a time no
    // gateway evidence covers (the request behind the row cannot be examined, and the
    // attack under way around it is the one lead the evidence gives).
    for m in out.iter_mut() {
        if m.malicious
            || m.recipient_count < p.thresholds.mass_push_recipients
            || content(m).is_some_and(|c| routine.contains(&c))
        {
            continue;
        }
        let row = match m.origin {
            None if covered(m.sent) => None,
            Some(o) if ev[o].kind() == SourceKind::Db && !covered(m.sent) => Some(o),
            _ => continue,
        };
        let Some((n, i)) = near(m.sent) else {
            continue;
        };
        let why = a.attr[i].as_ref().map_or("", |x| x.reason.as_str());
        m.malicious = true;
        m.reason = match row {
            None => format!(
                "mass send that no request or database row in the evidence made, while the \
                 gateway logged steadily, amid attacker activity ({n} attributed events \
                 within {} min; at {}: {why}): the provider's key or console was used outside \
                 the application, and the provider's audit trail names who used it{}",
                gap / 60_000_000,
                fmt_utc_s(ev[i].ts),
                if routed {
                    "; the application's other mass sends each came through a request"
                } else {
                    ""
                }
            ),
            Some(o) => format!(
                "mass send whose campaign row the application wrote at {}{}, amid attacker \
                 activity ({n} attributed events within {} min; at {}: {why}), where no \
                 gateway evidence covers its time: the request that asked for it cannot be \
                 examined, and its content was sent at no other time",
                fmt_utc_s(ev[o].ts),
                m.sender
                    .as_deref()
                    .map(|s| format!(" as {s}"))
                    .unwrap_or_default(),
                gap / 60_000_000,
                fmt_utc_s(ev[i].ts),
            ),
        };
    }
}
