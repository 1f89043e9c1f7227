//! Sends an application logged as a request line and, apart, the provider's answer: a
//! topic send's request (topic, title, body) then FCM's `{"name": …}` alone, an Expo
//! request's messages then a line of its tickets. Each request takes its answer's
//! message id and outcome, so that the message has its content, its devices and its
//! id together; the answer stays an event of its own.

use crate::model::{Event, Outcome, SourceKind};

/// How long after its request an answer may be logged.
const WITHIN_US: i64 = 60_000_000;

fn content(e: &Event) -> bool {
    let p = e.push();
    p.title.is_some() || p.body.is_some() || p.push_target.is_some()
}

/// A request the parser found no answer for on its own line.
pub(super) fn request(e: &Event) -> bool {
    e.kind() == SourceKind::Push
        && e.push().message_id.is_none()
        && e.push().delivery.as_deref() == Some("requested")
}

/// An answer to `req`: a later record of its file and format that carries an id or a
/// failure and nothing of a request (no content; no device, or the request's).
fn answers(req: &Event, x: &Event) -> bool {
    let p = x.push();
    x.kind() == SourceKind::Push
        && x.file == req.file
        && x.format == req.format
        && (p.message_id.is_some() || x.outcome == Outcome::Failure)
        && !content(x)
        && p.delivery
            .as_deref()
            .is_some_and(|d| d != "requested" && !d.starts_with("receipt"))
        && p.device_id
            .as_ref()
            .is_none_or(|d| Some(d) == req.push().device_id.as_ref())
}

/// Pairs each request with the first answer after it not yet taken, in order, and gives
/// the request the answer's id, delivery and outcome. Returns the number paired.
pub fn pair(ev: &mut [Box<Event>]) -> usize {
    let mut taken = vec![false; ev.len()];
    let mut pairs = Vec::new();
    for i in 0..ev.len() {
        if !request(&ev[i]) {
            continue;
        }
        let j = (i + 1..ev.len())
            .take_while(|&j| ev[j].ts - ev[i].ts <= WITHIN_US)
            .find(|&j| !taken[j] && answers(&ev[i], &ev[j]));
        if let Some(j) = j {
            taken[j] = true;
            pairs.push((i, j));
        }
    }
    for &(i, j) in &pairs {
        let (id, delivery, outcome, line) = {
            let a = &ev[j];
            let p = a.push();
            (p.message_id.clone(), p.delivery.clone(), a.outcome, a.line)
        };
        let e = &mut ev[i];
        e.push_mut().message_id = id;
        e.push_mut().delivery = delivery;
        e.outcome = outcome;
        e.extra.insert("answer_line", line.to_string().as_str());
    }
    pairs.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Text;

    fn rec(ts: i64, line: u64, f: impl FnOnce(&mut Event)) -> Box<Event> {
        let mut e = Event::new(SourceKind::Push, "fcm-v1-log");
        e.ts = ts;
        e.line = line;
        f(&mut e);
        Box::new(e)
    }

    fn req(ts: i64, line: u64, token: Option<&str>) -> Box<Event> {
        rec(ts, line, |e| {
            let p = e.push_mut();
            p.delivery = Some("requested".into());
            p.title = Some("Hacked".into());
            p.device_id = token.map(Text::from);
        })
    }

    fn sent(ts: i64, line: u64, id: &str) -> Box<Event> {
        rec(ts, line, |e| {
            e.push_mut().message_id = Some(id.into());
            e.push_mut().delivery = Some("sent".into());
            e.outcome = Outcome::Success;
        })
    }

    #[test]
    fn requests_take_their_answers_in_order() {
        let mut ev = vec![
            req(0, 1, Some("t1")),
            req(10, 2, Some("t2")),
            sent(20, 3, "m1"),
            rec(30, 4, |e| {
                e.push_mut().delivery = Some("UNREGISTERED".into());
                e.outcome = Outcome::Failure;
            }),
            // Another file's answer, and a minute too late.
            req(100, 5, None),
            rec(120, 6, |e| {
                e.file = 1;
                e.push_mut().message_id = Some("other".into());
                e.push_mut().delivery = Some("sent".into());
            }),
            sent(100 + WITHIN_US + 1, 7, "late"),
        ];
        assert_eq!(pair(&mut ev), 2);
        assert_eq!(ev[0].push().message_id.as_deref(), Some("m1"));
        assert_eq!(ev[0].outcome, Outcome::Success);
        assert_eq!(
            ev[0].extra.get("answer_line").map(|x| x.as_str()),
            Some("3")
        );
        assert_eq!(ev[1].push().message_id, None);
        assert_eq!(ev[1].push().delivery.as_deref(), Some("UNREGISTERED"));
        assert_eq!(ev[1].outcome, Outcome::Failure);
        assert_eq!(ev[4].push().message_id, None);
        assert_eq!(ev[4].push().delivery.as_deref(), Some("requested"));
    }

    #[test]
    fn a_request_answered_on_its_own_line_or_a_receipt_is_left_alone() {
        let mut ev = vec![
            sent(0, 1, "m0"),
            req(5, 2, None),
            rec(6, 3, |e| {
                e.push_mut().message_id = Some("r1".into());
                e.push_mut().delivery = Some("receipt ok".into());
            }),
        ];
        assert_eq!(pair(&mut ev), 0);
    }
}
