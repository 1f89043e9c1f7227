//! Small helpers for reading loosely-typed JSON records: producers write numbers as
//! strings, `-` for null, and nest the same field at different paths.

use crate::model::Text;
pub use doc::Json as Value;
use std::borrow::Cow;

pub mod doc;

/// The value at a path: the member of that name, else the dotted path followed through
/// nested objects (`delivery.destination`). A member literally named `a.b` wins over the
/// `b` of an `a` object, as it does in `extra` (see [`rest_into`]).
pub fn at<'v, 'a>(v: &'v Value<'a>, path: &str) -> Option<&'v Value<'a>> {
    let Value::Object(m) = v else { return None };
    if let Some(x) = m.get(path) {
        return Some(x);
    }
    // Parsers look up dozens of synonyms a record, most absent: a flat record (no object
    // member) answers a miss without looking for a dot in the path.
    if !m.nested() {
        return None;
    }
    let (head, rest) = path.split_once('.')?;
    at(m.get(head)?, rest)
}

/// A value as a non-empty string (`-`, `""` and null are absent; numbers are stringified).
pub fn s(v: &Value, path: &str) -> Option<Text> {
    str_at(v, path).map(|x| crate::model::text(&x))
}

/// What `s` finds, borrowed from the record when it is a string.
fn str_at<'v>(v: &'v Value, path: &str) -> Option<Cow<'v, str>> {
    match at(v, path)? {
        Value::String(x) => crate::ingest::present_str(x).map(Cow::Borrowed),
        other => scalar(other),
    }
}

/// A string, number or boolean as text (strings borrowed, as written); else `None`.
pub fn scalar<'v>(v: &'v Value) -> Option<Cow<'v, str>> {
    match v {
        Value::String(x) => Some(Cow::Borrowed(x)),
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
/// A repeated key reads as its last value, and members are taken in key order (so a
/// literal `a.b` member overrides the `b` of an `a` object), as if the object were
/// serde_json's sorted map — without sorting members that add nothing.
pub fn rest_into(v: &Value, prefix: &str, used: &[&str], extra: &mut crate::model::Extra) {
    let Value::Object(m) = v else { return };
    let mut keep: Vec<(Cow<str>, &Value)> = Vec::new();
    for (k, val) in m.members() {
        match val {
            Value::Null => continue,
            Value::String(x) if x.is_empty() || x == "-" => continue,
            _ => {}
        }
        let key: Cow<str> = if prefix.is_empty() {
            Cow::Borrowed(k)
        } else {
            Cow::Owned(format!("{prefix}.{k}"))
        };
        // A member a later one of the same key overrides is not the map's value.
        if used.iter().any(|u| doc::same_key(u, &key))
            || !(m.keys_unique() || m.get(k).is_some_and(|last| std::ptr::eq(last, val)))
        {
            continue;
        }
        keep.push((key, val));
    }
    keep.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    for (key, val) in keep {
        match val {
            Value::Object(_) => rest_into(val, &key, used, extra),
            Value::String(x) => {
                extra.insert(&key, x.as_ref());
            }
            other => {
                extra.insert(&key, other.to_string());
            }
        }
    }
}

/// A JSON-lines record as an object, or what it is instead: a blank line or the bracket
/// line of an array written one element per line is skipped, anything else that is no
/// object is rejected.
pub fn record(rec: &str) -> Result<Value<'_>, super::Parsed> {
    use super::Parsed;
    let t = rec.trim();
    if t.is_empty() {
        return Err(Parsed::Skip("blank line"));
    }
    if t == "[" || t == "]" {
        return Err(Parsed::Skip("array bracket"));
    }
    object(t).map_err(Parsed::Reject)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Extra;

    /// The reference: members of serde_json's sorted map (each key once, its last value).
    fn sorted_map_rest(v: &serde_json::Value, prefix: &str, used: &[&str], extra: &mut Extra) {
        let Some(m) = v.as_object() else { return };
        for (k, val) in m {
            let key = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            if used.contains(&key.as_str()) {
                continue;
            }
            match val {
                serde_json::Value::Object(_) => sorted_map_rest(val, &key, used, extra),
                serde_json::Value::Null => {}
                serde_json::Value::String(x) if x.is_empty() || x == "-" => {}
                serde_json::Value::String(x) => {
                    extra.insert(&key, x.as_str());
                }
                other => {
                    extra.insert(&key, other.to_string());
                }
            }
        }
    }

    /// A JSON value over few keys (so keys repeat, nest and collide with `a.b`).
    fn value(depth: u32) -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just("null".to_string()),
            Just("\"\"".to_string()),
            Just("\"-\"".to_string()),
            "[a-c]{1,2}".prop_map(|s| format!("\"{s}\"")),
            (0u32..100).prop_map(|n| n.to_string()),
            Just("[1,\"x\"]".to_string()),
        ];
        leaf.prop_recursive(depth, 24, 5, |inner| {
            proptest::collection::vec(
                (
                    prop_oneof![Just("a"), Just("b"), Just("a.b"), Just("ip"), Just("c")],
                    inner,
                ),
                0..5,
            )
            .prop_map(|members| {
                let body: Vec<String> = members
                    .iter()
                    .map(|(k, v)| format!("\"{k}\":{v}"))
                    .collect();
                format!("{{{}}}", body.join(","))
            })
        })
    }

    proptest::proptest! {
        /// Extra fields are those serde_json's sorted map gives, repeated keys and a
        /// literal dotted key against a flattened one included.
        #[test]
        fn rest_is_what_the_sorted_map_gives(text in value(3)) {
            let text = format!("{{\"z\":{text},\"a\":{text}}}");
            let used = ["ip", "a.ip"];
            let mine = object(&text).unwrap();
            let mut got = Extra::default();
            rest_into(&mine, "", &used, &mut got);
            let reference: serde_json::Value = serde_json::from_str(&text).unwrap();
            let mut want = Extra::default();
            sorted_map_rest(&reference, "", &used, &mut want);
            let got: Vec<_> = got.iter().collect();
            let want: Vec<_> = want.iter().collect();
            proptest::prop_assert_eq!(got, want);
        }
    }
}
