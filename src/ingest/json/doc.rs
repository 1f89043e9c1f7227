//! A JSON value that borrows its strings from the record: what parsers need of a
//! `serde_json::Value` (lookups, scalars, arrays) without a `String` per key and value
//! or a `BTreeMap` per object. Parsed by serde_json itself, so syntax errors and number
//! handling are serde_json's.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Number;
use std::borrow::Cow;
use std::fmt;

/// A JSON value whose strings borrow from the input when they contain no escapes.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A number, as serde_json keeps it (u64, i64 or f64).
    Number(Number),
    /// A string.
    String(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object, members in document order.
    Object(Map<'a>),
}

/// The members of an object in document order; a repeated key reads as its last value,
/// as in serde_json's map.
///
/// Parsers look up dozens of synonyms in every record, most of them absent: a mask of
/// the members' key signatures (length, first and last byte) answers most misses without
/// a scan, and says whether a key may repeat, which `rest_into` otherwise checks member
/// by member.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map<'a> {
    members: Vec<(Cow<'a, str>, Json<'a>)>,
    /// Bits of the members' key signatures.
    mask: u128,
    /// Whether two members share a signature (their keys may be equal).
    shared: bool,
    /// Whether a member is an object (so a dotted path may lead into it).
    nested: bool,
}

/// The bit of a key's signature in `Map::mask`.
#[inline]
fn signature(key: &str) -> u128 {
    let b = key.as_bytes();
    let (first, last) = match b {
        [] => (0, 0),
        [f, .., l] => (*f as u32, *l as u32),
        [f] => (*f as u32, *f as u32),
    };
    let h = (b.len() as u32)
        .wrapping_mul(0x9E37_79B1)
        .wrapping_add(first.wrapping_mul(0x85EB_CA6B))
        .wrapping_add(last.wrapping_mul(0xC2B2_AE35));
    1u128 << (h >> 25)
}

impl<'a> Map<'a> {
    /// A map of these members, in this order.
    fn of(members: Vec<(Cow<'a, str>, Json<'a>)>) -> Map<'a> {
        let mut m = Map::default();
        for (k, v) in &members {
            m.note(k, v);
        }
        m.members = members;
        m
    }
    fn note(&mut self, key: &str, value: &Json) {
        self.nested |= matches!(value, Json::Object(_));
        let bit = signature(key);
        self.shared |= self.mask & bit != 0;
        self.mask |= bit;
    }
    /// The value of a key (the last one when the key repeats).
    #[inline]
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        if self.mask & signature(key) == 0 {
            return None;
        }
        self.members
            .iter()
            .rev()
            .find(|(k, _)| same_key(k, key))
            .map(|(_, v)| v)
    }
    /// Whether no key occurs twice (when false, one may).
    pub fn keys_unique(&self) -> bool {
        !self.shared
    }
    /// Whether a member is an object.
    pub fn nested(&self) -> bool {
        self.nested
    }
    /// The members in document order, repeated keys included.
    pub fn members(&self) -> &[(Cow<'a, str>, Json<'a>)] {
        &self.members
    }
    /// Adds a member.
    pub fn insert(&mut self, key: impl Into<Cow<'a, str>>, value: Json<'a>) {
        let key = key.into();
        self.note(&key, &value);
        self.members.push((key, value));
    }
    /// Puts a value at a dotted path (`identity.sourceIp`), in the object of that name
    /// when there is one, else in a new one: a record read from named fields looks like
    /// the JSON object a template of the same names would have written.
    pub fn put(&mut self, path: &'a str, value: Json<'a>) {
        let Some((head, rest)) = path.split_once('.') else {
            self.insert(path, value);
            return;
        };
        let found =
            (self.members.iter()).rposition(|(k, v)| k == head && matches!(v, Json::Object(_)));
        let i = match found {
            Some(i) => i,
            None => {
                self.insert(head, Json::Object(Map::default()));
                self.members.len() - 1
            }
        };
        if let Json::Object(m) = &mut self.members[i].1 {
            m.put(rest, value);
        }
    }
}

/// Whether two keys are equal, comparing length and first byte before the bytes: most
/// pairs differ there, where a comparison of the bytes is a call into `memcmp`.
#[inline]
pub fn same_key(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.as_bytes().first() == b.as_bytes().first() && a == b
}

/// Members sorted by key, each key once with its last value: the order and content
/// serde_json's `BTreeMap` gave, so that what is derived from iteration does not change.
pub fn by_key<'m, 'a>(m: &'m Map<'a>) -> Vec<(&'m str, &'m Json<'a>)> {
    let mut v: Vec<(usize, &str, &Json)> = m
        .members
        .iter()
        .enumerate()
        .map(|(i, (k, v))| (i, k.as_ref(), v))
        .collect();
    // Later members of a key first, so the dedup below keeps the last one written.
    v.sort_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(&a.0)));
    v.dedup_by(|b, a| a.1 == b.1);
    v.into_iter().map(|(_, k, v)| (k, v)).collect()
}

impl<'a> Json<'a> {
    /// The value of a key of an object.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Object(m) => m.get(key),
            _ => None,
        }
    }
    /// A string's text.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
    /// A value that owns its strings (outlives the input).
    pub fn into_owned(self) -> Json<'static> {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::Number(n) => Json::Number(n),
            Json::String(s) => Json::String(Cow::Owned(s.into_owned())),
            Json::Array(a) => Json::Array(a.into_iter().map(Json::into_owned).collect()),
            Json::Object(m) => Json::Object(Map::of(
                m.members
                    .into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            )),
        }
    }
    /// The same value as a `serde_json::Value` (for rendering nested values as text).
    pub fn to_value(&self) -> serde_json::Value {
        use serde_json::Value as V;
        match self {
            Json::Null => V::Null,
            Json::Bool(b) => V::Bool(*b),
            Json::Number(n) => V::Number(n.clone()),
            Json::String(s) => V::String(s.to_string()),
            Json::Array(a) => V::Array(a.iter().map(Json::to_value).collect()),
            Json::Object(m) => V::Object(
                m.members
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_value()))
                    .collect(),
            ),
        }
    }
}

impl fmt::Display for Json<'_> {
    /// Compact JSON text, as serde_json's `Value` prints it (object keys sorted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Bool(b) => write!(f, "{b}"),
            Json::Number(n) => write!(f, "{n}"),
            other => write!(f, "{}", other.to_value()),
        }
    }
}

/// A string that borrows from the input when it can (serde's `Cow<str>` always copies).
pub(crate) struct Str<'a>(pub(crate) Cow<'a, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }
    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }
    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Json<'de>, E> {
        Ok(Number::from_f64(n).map_or(Json::Null, Json::Number))
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Borrowed(s)))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::String(Cow::Owned(s)))
    }
    fn visit_none<E: de::Error>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Json<'de>, D::Error> {
        Deserialize::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut v = Vec::new();
        while let Some(x) = seq.next_element()? {
            v.push(x);
        }
        Ok(Json::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        // Access-log records carry 10–30 members: one allocation for most objects.
        let mut m = Map {
            members: Vec::with_capacity(16),
            ..Map::default()
        };
        while let Some(Str(k)) = map.next_key()? {
            let v: Json = map.next_value()?;
            m.insert(k, v);
        }
        Ok(Json::Object(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrows_plain_strings_and_matches_serde_json() {
        let text =
            r#"{"b":"x","a":{"n":1.5,"z":[1,"q\"",{"y":2,"x":null}]},"b":"last","e":"\u00e9"}"#;
        let j: Json = serde_json::from_str(text).unwrap();
        let v: serde_json::Value = serde_json::from_str(text).unwrap();
        assert!(matches!(j.get("e"), Some(Json::String(Cow::Owned(_)))));
        assert_eq!(j.get("b").and_then(Json::as_str), Some("last"));
        assert_eq!(j.to_value(), v);
        assert_eq!(j.get("a").unwrap().to_string(), v["a"].to_string());
        let Json::Object(m) = &j else { panic!() };
        let keys: Vec<&str> = by_key(m).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["a", "b", "e"]);
        assert_eq!(by_key(m)[1].1.as_str(), Some("last"));
        assert!(!m.keys_unique(), "\"b\" repeats");
        assert!(m.nested());
        // Absent keys, whatever their signature, and keys that differ in one byte.
        for k in ["", "c", "bb", "ab", "E", "e ", "a.n"] {
            assert_eq!(m.get(k), None, "{k:?}");
        }
        let flat: Json = serde_json::from_str(r#"{"ip":"x","ua":"y","e":""}"#).unwrap();
        let Json::Object(f) = &flat else { panic!() };
        assert!(f.keys_unique() && !f.nested());
        assert_eq!(f.get("ua").and_then(Json::as_str), Some("y"));
        // Errors are serde_json's own.
        let bad = "{\"a\":";
        assert_eq!(
            serde_json::from_str::<Json>(bad).unwrap_err().to_string(),
            serde_json::from_str::<serde_json::Value>(bad)
                .unwrap_err()
                .to_string()
        );
    }
}
