//! Where the evidence stops short of a wave: a wave's start and end are its first and last
//! attacker events, and they are the attack's only if the logs reach past them. When the
//! gateway or database evidence begins or ends within the wave gap of a wave, or misses
//! it, a note says the wave may be longer than the evidence shows. A message sent when
//! no gateway record was kept is legitimate only for want of evidence, and says so.

use super::{Analysis, Wave};
use crate::model::SourceKind;
use crate::timeparse::fmt_utc_s;

/// The kinds of evidence that log continuously, so that their first and last records
/// bound what they can show. Push exports hold records only where messages were sent.
const CONTINUOUS: [SourceKind; 2] = [SourceKind::Gateway, SourceKind::Db];

/// One second, µs.
const SECOND: i64 = 1_000_000;

/// The first and last times of one kind of evidence, if it has any.
pub fn span(a: &Analysis, kind: SourceKind) -> Option<(i64, i64)> {
    (a.ing.events.iter())
        .filter(|e| e.kind() == kind)
        .fold(None, |s, e| {
            Some(s.map_or((e.ts, e.ts), |(lo, hi): (i64, i64)| {
                (lo.min(e.ts), hi.max(e.ts))
            }))
        })
}

/// Whether evidence of `kind` covers a time: within its span and in none of its
/// silences, `slack` µs either way counting as covered (a request's statements run
/// around its logged time).
pub fn covers(a: &Analysis, kind: SourceKind, slack: i64) -> impl Fn(i64) -> bool + '_ {
    let span = span(a, kind);
    move |t| {
        span.is_some_and(|(lo, hi)| lo - slack <= t && t <= hi + slack)
            && !(a.gaps.iter()).any(|g| g.kind == kind && g.from + slack <= t && t <= g.to - slack)
    }
}

/// What a message sent outside the gateway evidence's times lacks, for its reason: the
/// request that sent it cannot be in the evidence, so "no link to attacker activity"
/// says nothing of who sent it.
pub fn unseen_send(sent: i64, gateway: Option<(i64, i64)>) -> Option<String> {
    let Some((first, last)) = gateway else {
        return Some(
            "no gateway evidence was given, so the request that sent it could not be examined"
                .into(),
        );
    };
    let (edge, at) = match sent {
        s if s > last => ("ends", last),
        s if s < first => ("begins", first),
        _ => return None,
    };
    Some(format!(
        "no gateway evidence covers its send time (it {edge} at {}), so the request that \
         sent it could not be examined",
        fmt_utc_s(at)
    ))
}

/// The notes on waves the gateway or database evidence does not reach past, in wave
/// order then kind order, then on messages judged legitimate that were sent outside the
/// gateway evidence's times.
pub fn notes(a: &Analysis, gap: i64) -> Vec<String> {
    let span = CONTINUOUS.map(|k| span(a, k));
    let mut out = Vec::new();
    for w in &a.waves {
        for (k, s) in CONTINUOUS.iter().zip(&span) {
            if let Some((first, last)) = *s {
                out.extend(note(w, k.as_str(), first, last, gap));
            }
        }
    }
    let unseen: Vec<&str> = (a.messages.iter())
        .filter(|m| !m.malicious && unseen_send(m.sent, span[0]).is_some())
        .map(|m| m.id.as_str())
        .collect();
    if !unseen.is_empty() {
        const SHOWN: usize = 5;
        let more = match unseen.len().saturating_sub(SHOWN) {
            0 => String::new(),
            n => format!(" and {n} more"),
        };
        let outside = match span[0] {
            Some((first, last)) => format!(
                "were sent outside the times of the gateway evidence ({} – {})",
                fmt_utc_s(first),
                fmt_utc_s(last)
            ),
            None => "had no gateway evidence to be traced in (none was given)".to_string(),
        };
        out.push(format!(
            "{} message(s) judged legitimate {outside}: {}{more}. They are legitimate only \
             for want of a link to attacker activity, and the requests that sent them are \
             not in the evidence: review them by their text and recipients.",
            unseen.len(),
            unseen[..unseen.len().min(SHOWN)].join(", ")
        ));
    }
    out
}

/// What the first and last records of one kind of evidence say of one wave.
fn note(w: &Wave, kind: &str, first: i64, last: i64, gap: i64) -> Option<String> {
    let (f, l) = (fmt_utc_s(first), fmt_utc_s(last));
    let said: Vec<String> = if last < w.start {
        vec![format!(
            "ends at {l}, before the wave began: none of the wave's {kind} activity is in it"
        )]
    } else if first > w.end {
        vec![format!(
            "begins at {f}, after the wave ended: none of the wave's {kind} activity is in it"
        )]
    } else {
        // Within a second of the wave's own first or last event is at it: the times
        // are said to the second, and a statement a millisecond after the last request
        // is the same moment.
        let begins = if first > w.start + SECOND {
            Some(format!(
                "begins at {f}, after the wave began: what the wave did before then is not in it"
            ))
        } else if first > w.start - gap {
            Some(format!(
                "begins at {f}, less than the wave gap before the wave: the wave may have \
                 begun before the evidence does"
            ))
        } else {
            None
        };
        let ends = if last < w.end - SECOND {
            Some(format!(
                "ends at {l}, before the wave ended: what the wave did after then is not in it"
            ))
        } else if last < w.end + gap {
            Some(format!(
                "ends at {l}, less than the wave gap after the wave: the wave may have gone \
                 on after the evidence ends"
            ))
        } else {
            None
        };
        begins.into_iter().chain(ends).collect()
    };
    if said.is_empty() {
        return None;
    }
    Some(format!(
        "Wave {} ({} – {}): the {kind} evidence {}.",
        w.id,
        fmt_utc_s(w.start),
        fmt_utc_s(w.end),
        said.join("; it ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    fn wave(start: i64, end: i64) -> Wave {
        Wave {
            id: 1,
            start,
            end,
            ..Wave::default()
        }
    }

    #[test]
    fn evidence_that_reaches_past_the_wave_gap_says_nothing() {
        let w = wave(100 * MIN, 130 * MIN);
        assert_eq!(note(&w, "gateway", 0, 1000 * MIN, 30 * MIN), None);
        // Exactly the wave gap away on both sides: a longer wave would have been seen.
        assert_eq!(note(&w, "gateway", 70 * MIN, 160 * MIN, 30 * MIN), None);
    }

    #[test]
    fn evidence_that_begins_or_ends_near_a_wave_says_so() {
        let w = wave(100 * MIN, 130 * MIN);
        let n = note(&w, "gateway", 95 * MIN, 1000 * MIN, 30 * MIN).unwrap();
        assert!(n.contains("may have begun before"), "{n}");
        assert!(!n.contains("gone on"), "{n}");
        let n = note(&w, "db", 0, 140 * MIN, 30 * MIN).unwrap();
        assert!(
            n.starts_with("Wave 1 (") && n.contains("the db evidence ends at"),
            "{n}"
        );
        assert!(n.contains("may have gone on after"), "{n}");
        let n = note(&w, "db", 110 * MIN, 120 * MIN, 30 * MIN).unwrap();
        assert!(
            n.contains("after the wave began") && n.contains("before the wave ended"),
            "{n}"
        );
        assert!(n.contains("; it ends at"), "{n}");
        // A millisecond before the wave's last event is at its end, not inside it.
        let n = note(&w, "gateway", 0, 130 * MIN - 1_000, 30 * MIN).unwrap();
        assert!(n.contains("may have gone on after"), "{n}");
    }

    #[test]
    fn evidence_that_misses_a_wave_says_none_of_it_is_there() {
        let w = wave(100 * MIN, 130 * MIN);
        let n = note(&w, "db", 0, 99 * MIN, 30 * MIN).unwrap();
        assert!(
            n.contains("before the wave began") && n.contains("none of the wave's db"),
            "{n}"
        );
        let n = note(&w, "db", 131 * MIN, 500 * MIN, 30 * MIN).unwrap();
        assert!(
            n.contains("begins at") && n.contains("after the wave ended"),
            "{n}"
        );
    }

    #[test]
    fn a_send_outside_the_gateway_evidence_says_it_could_not_be_examined() {
        let gw = Some((10 * MIN, 100 * MIN));
        assert_eq!(unseen_send(50 * MIN, gw), None);
        assert!(unseen_send(50 * MIN, None)
            .unwrap()
            .contains("no gateway evidence was given"));
        assert!(unseen_send(101 * MIN, gw).unwrap().contains("it ends at"));
        assert!(unseen_send(9 * MIN, gw).unwrap().contains("it begins at"));
    }
}
