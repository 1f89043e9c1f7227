//! Application log lines that record a push provider's requests and responses. The
//! provider payloads carry no time of their own (Expo tickets and receipts, FCM HTTP v1
//! bodies), so a record's time is the line's: a JSON object per line (pino, winston,
//! bunyan, zap, logrus, ECS) with the payload among its members, possibly as a string
//! of JSON, or a text line `<time> [level] text {json} … {json}`.

use crate::timeparse::{parse_any, parse_epoch, AssumeTz};
use serde_json::Value;

/// Keys loggers put the line's time under, most specific first.
const TIME_KEYS: &[&str] = &[
    "@timestamp",
    "timestamp",
    "time",
    "ts",
    "datetime",
    "date",
    "logged_at",
    "eventTime",
    "log.timestamp",
];

/// One log line: its time and the JSON values it holds.
#[derive(Debug)]
pub struct Line {
    /// UTC µs.
    pub ts: i64,
    /// The time carried no zone and one was assumed.
    pub assumed: bool,
    /// The line's JSON object, or each JSON value embedded in a text line.
    pub values: Vec<Value>,
}

/// Reads a line's time and JSON values; `Err` says why it is not a log line with a time.
pub fn read(rec: &str, assume: &AssumeTz) -> Result<Line, String> {
    let t = rec.trim();
    if t.starts_with('{') {
        let v: Value = serde_json::from_str(t.trim_end_matches(','))
            .map_err(|e| format!("invalid JSON: {e}"))?;
        let (ts, assumed) = json_time(&v, assume).ok_or("no time in the log record")?;
        let mut values = vec![v];
        values.iter_mut().for_each(|v| inflate(v, 0));
        return Ok(Line {
            ts,
            assumed,
            values,
        });
    }
    let (ts, assumed, rest) = text_time(t, assume).ok_or("no time at the start of the line")?;
    let mut values = embedded(rest);
    values.iter_mut().for_each(|v| inflate(v, 0));
    Ok(Line {
        ts,
        assumed,
        values,
    })
}

/// The time of a JSON log record: an RFC 3339 / SQL string, an epoch number in any unit
/// (pino's ms, zap's float seconds), or bunyan's `{"$date": …}`.
fn json_time(v: &Value, assume: &AssumeTz) -> Option<(i64, bool)> {
    for k in TIME_KEYS {
        let x = k.split('.').try_fold(v, |cur, p| cur.get(p));
        let got = match x {
            Some(Value::String(s)) => parse_any(s, assume).map(|p| (p.us, p.assumed)),
            Some(Value::Number(n)) => parse_epoch(&n.to_string()).map(|us| (us, false)),
            Some(Value::Object(o)) => o
                .get("$date")
                .and_then(|d| match d {
                    Value::String(s) => parse_any(s, assume),
                    Value::Number(n) => parse_any(&n.to_string(), assume),
                    _ => None,
                })
                .map(|p| (p.us, p.assumed)),
            _ => None,
        };
        if got.is_some() {
            return got;
        }
    }
    None
}

/// The time at the start of a text line (`2024-03-05T14:25:00.412Z`, `2024-03-05
/// 14:25:00,412`, `[05/Mar/2024:14:25:00 +0000]`, an epoch), and the rest of the line.
fn text_time<'a>(t: &'a str, assume: &AssumeTz) -> Option<(i64, bool, &'a str)> {
    let inner = t.strip_prefix('[');
    let (head, rest) = match inner {
        Some(x) => {
            let end = x.find(']')?;
            (&x[..end], &x[end + 1..])
        }
        None => {
            // Up to two tokens: a date and a time separated by a space.
            let mut it = t.match_indices(' ').map(|(i, _)| i);
            let first = it.next().unwrap_or(t.len());
            let second = it.next().unwrap_or(t.len());
            let two = &t[..second];
            if parse_any(&two.replace(',', "."), assume).is_some() && two.contains(':') {
                (two, &t[second..])
            } else {
                (&t[..first], &t[first..])
            }
        }
    };
    let p = parse_any(&head.replace(',', "."), assume)?;
    Some((p.us, p.assumed, rest))
}

/// Every JSON object or array embedded in text, in order. A stray brace is passed over;
/// at most 64 failed starts are tried (log text is attacker-controlled).
fn embedded(text: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut failures = 0;
    while let Some(off) = text[pos..].find(['{', '[']) {
        let start = pos + off;
        let mut it = serde_json::Deserializer::from_str(&text[start..]).into_iter::<Value>();
        match it.next() {
            Some(Ok(v)) => {
                pos = start + it.byte_offset();
                out.push(v);
            }
            _ => {
                failures += 1;
                if failures > 64 {
                    break;
                }
                pos = start + 1;
            }
        }
    }
    out
}

/// Replaces strings that hold a JSON object or array by that value (loggers often write
/// a request or response body as a string).
fn inflate(v: &mut Value, depth: u32) {
    if depth > 12 {
        return;
    }
    match v {
        Value::Object(m) => m.values_mut().for_each(|x| inflate(x, depth + 1)),
        Value::Array(a) => a.iter_mut().for_each(|x| inflate(x, depth + 1)),
        Value::String(s) if s.len() >= 2 && (s.starts_with('{') || s.starts_with('[')) => {
            if let Ok(inner) = serde_json::from_str::<Value>(s) {
                *v = inner;
                inflate(v, depth + 1);
            }
        }
        _ => {}
    }
}

/// Visits every object and array of the values, depth first in document order (parents
/// before their members).
pub fn walk<'v>(values: &'v [Value], f: &mut dyn FnMut(&'v Value)) {
    fn go<'v>(v: &'v Value, depth: u32, f: &mut dyn FnMut(&'v Value)) {
        if depth > 12 {
            return;
        }
        match v {
            Value::Object(m) => {
                f(v);
                m.values().for_each(|x| go(x, depth + 1, f));
            }
            Value::Array(a) => {
                f(v);
                a.iter().for_each(|x| go(x, depth + 1, f));
            }
            _ => {}
        }
    }
    for v in values {
        go(v, 0, f);
    }
}

/// A string, number or boolean member value as text.
pub fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A string member.
pub fn str_of<'v>(v: &'v Value, key: &str) -> Option<&'v str> {
    v.get(key)?.as_str().filter(|s| !s.is_empty())
}

/// Confidence that a head is an application log holding this provider's traffic: some
/// line holds its marks, and most lines are JSON objects or start with a time.
pub fn sniff(head: &super::Head, marks: impl Fn(&str) -> bool) -> u8 {
    let lines: Vec<&&str> = head.lines.iter().take(64).collect();
    let hits = lines.iter().filter(|l| marks(l)).count();
    let timed = lines
        .iter()
        .filter(|l| {
            let t = l.trim();
            t.starts_with('{') || text_time(t, &AssumeTz::Fixed(0)).is_some()
        })
        .count();
    if hits == 0 || timed * 2 < lines.len() {
        return 0;
    }
    // At most 80: a provider's own export that mentions the same words in most of its
    // lines (SNS delivery records carry `notification` and `token`) scores higher.
    (55 + hits * 25 / lines.len().max(1)) as u8
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_and_text_lines_give_their_time_and_payloads() {
        let l = read(
            r#"{"level":30,"time":1709648700412,"msg":"sent","res":"{\"name\":\"x\"}"}"#,
            &AssumeTz::Fixed(0),
        )
        .unwrap();
        assert_eq!(l.ts, 1_709_648_700_412_000);
        let mut names = Vec::new();
        walk(&l.values, &mut |v| {
            if let Some(n) = str_of(v, "name") {
                names.push(n.to_string());
            }
        });
        assert_eq!(names, ["x"]);
        let l = read(
            "2024-03-05 14:25:00,412 INFO push {\"a\":1} -> 200 [1,2] {broken",
            &AssumeTz::Fixed(7200),
        )
        .unwrap();
        assert!(l.assumed);
        assert_eq!(l.ts, 1_709_641_500_412_000);
        assert_eq!(l.values.len(), 2);
        let l = read(r#"{"ts":1709648700.5,"m":1}"#, &AssumeTz::Fixed(0)).unwrap();
        assert_eq!(l.ts, 1_709_648_700_500_000);
        assert!(read("INFO no time here {}", &AssumeTz::Fixed(0)).is_err());
        assert!(read(r#"{"msg":"no time"}"#, &AssumeTz::Fixed(0)).is_err());
    }
}
