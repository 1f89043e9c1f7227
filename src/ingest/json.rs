//! Small helpers for reading loosely-typed JSON records: producers write numbers as
//! strings, `-` for null, and nest the same field at different paths.

use crate::model::Text;
pub use doc::Json as Value;
use std::borrow::Cow;

pub mod doc;

/// The value at a dotted path (`delivery.destination`).
pub fn at<'v, 'a>(v: &'v Value<'a>, path: &str) -> Option<&'v Value<'a>> {
    // Most paths are one key: no splitting (parsers look up dozens of synonyms a record).
    if !path.as_bytes().contains(&b'.') {
        return v.get(path);
    }
    let mut cur = v;
    for k in path.split('.') {
        cur = cur.get(k)?;
    }
    Some(cur)
}

/// A value as a non-empty string (`-`, `""` and null are absent; numbers are stringified).
pub fn s(v: &Value, path: &str) -> Option<Text> {
    str_at(v, path).map(|x| crate::model::text(&x))
}

/// What `s` finds, borrowed from the record when it is a string.
fn str_at<'v>(v: &'v Value, path: &str) -> Option<Cow<'v, str>> {
    match at(v, path)? {
        Value::String(x) => crate::ingest::present_str(x).map(Cow::Borrowed),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

/// The first present of several paths.
pub fn first(v: &Value, paths: &[&str]) -> Option<Text> {
    paths.iter().find_map(|p| s(v, p))
}

/// What `first` finds, borrowed from the record: for values that are parsed or
/// rewritten before they are kept (times, addresses, paths), a shared string would be
/// made only to be thrown away.
pub fn first_str<'v>(v: &'v Value, paths: &[&str]) -> Option<Cow<'v, str>> {
    paths.iter().find_map(|p| str_at(v, p))
}

/// A value as an unsigned integer (number or numeric string).
pub fn u(v: &Value, path: &str) -> Option<u64> {
    match at(v, path)? {
        Value::Number(n) => n.as_u64().or_else(|| n.as_f64().map(|f| f as u64)),
        Value::String(x) => x.trim().parse().ok(),
        _ => None,
    }
}

/// A value as a float (number or numeric string).
pub fn f(v: &Value, path: &str) -> Option<f64> {
    match at(v, path)? {
        Value::Number(n) => n.as_f64(),
        Value::String(x) => x.trim().parse().ok(),
        _ => None,
    }
}

/// Copies every scalar field not in `used` into `extra`, flattening objects with dots.
pub fn rest_into(v: &Value, prefix: &str, used: &[&str], extra: &mut crate::model::Extra) {
    if let Value::Object(m) = v {
        for (k, val) in doc::by_key(m) {
            let key: Cow<str> = if prefix.is_empty() {
                Cow::Borrowed(k)
            } else {
                Cow::Owned(format!("{prefix}.{k}"))
            };
            if used.contains(&key.as_ref()) {
                continue;
            }
            match val {
                Value::Object(_) => rest_into(val, &key, used, extra),
                Value::Null => {}
                Value::String(x) if x.is_empty() || x == "-" => {}
                Value::String(x) => {
                    extra.insert(&key, x.as_ref());
                }
                other => {
                    extra.insert(&key, other.to_string());
                }
            }
        }
    }
}

/// Parses a record as a JSON object, tolerating a trailing comma (array elements) and
/// the invalid `"key":-` / `"key":,` that access-log templates produce for empty numbers.
pub fn object(rec: &str) -> Result<Value<'_>, String> {
    let t = rec.trim().trim_end_matches(',');
    match serde_json::from_str::<Value>(t) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err("not a JSON object".into()),
        Err(e) => {
            if t.contains(":-") || t.contains(":,") || t.contains(":}") {
                let fixed = t
                    .replace(":-,", ":null,")
                    .replace(":-}", ":null}")
                    .replace(":,", ":null,")
                    .replace(":}", ":null}");
                if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(&fixed) {
                    return Ok(v.into_owned());
                }
            }
            Err(format!("invalid JSON: {e}"))
        }
    }
}
