//! Event strings: the shared `Text` type, the per-thread intern table that makes
//! repeated values one allocation, and the `extra` map built from them.

use serde::{Deserialize, Serialize};

/// Everything else a source carried, as key → value sorted by key.
///
/// A sorted vector of shared strings rather than a `BTreeMap<String, String>`: events
/// carry a handful of extra fields whose keys (and often values) repeat in every record;
/// keys and short values are interned, so an entry costs 16 bytes, where a B-tree's first
/// node alone cost ~500 bytes per event. A `ThinVec` (length and capacity live with the
/// entries) takes 8 bytes of the event where a `Vec` takes 24.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Extra(thin_vec::ThinVec<(Text, Text)>);

impl Extra {
    /// Sets a key, returning the previous value.
    pub fn insert(&mut self, key: &str, value: impl ExtraValue) -> Option<Text> {
        let value = value.into_value();
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)) {
            Ok(i) => Some(std::mem::replace(&mut self.0[i].1, value)),
            Err(i) => {
                self.0.insert(i, (intern(key), value));
                None
            }
        }
    }
    /// Removes a key, returning its value.
    pub fn remove(&mut self, key: &str) -> Option<Text> {
        let i = self.0.binary_search_by(|(k, _)| k.as_str().cmp(key)).ok()?;
        Some(self.0.remove(i).1)
    }
    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&Text> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|i| &self.0[i].1)
    }
    /// Whether a key is present.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&Text, &Text)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
}

/// What an extra value can be made from.
pub trait ExtraValue {
    /// The value as a shared string (short values interned).
    fn into_value(self) -> Text;
}

impl ExtraValue for String {
    fn into_value(self) -> Text {
        text(&self)
    }
}

impl ExtraValue for &str {
    fn into_value(self) -> Text {
        text(self)
    }
}

impl ExtraValue for &String {
    fn into_value(self) -> Text {
        self.as_str().into_value()
    }
}

impl ExtraValue for Text {
    fn into_value(self) -> Text {
        self
    }
}

/// Longest string `text` interns: addresses, methods, names, codes and ids repeat across
/// records; longer text (statements, agents, request ids) rarely does.
const INTERN_MAX: usize = 24;

/// A field value as a shared string, interned when short.
pub fn text(s: &str) -> Text {
    if s.len() <= INTERN_MAX {
        intern(s)
    } else {
        Text::from(s)
    }
}

/// A shared copy of a string from this thread's intern table: repeated values (keys,
/// addresses, users, commands) are stored once and cloned by reference count.
///
/// A value enters the table the second time it is seen: ids that occur once (request
/// and transaction ids, record numbers) would otherwise fill it, push out the values
/// that repeat and make every lookup a miss in a cold, growing table. A direct-mapped
/// array of hash fingerprints remembers what was seen once. The table is bounded: it
/// starts over when it holds 65,536 strings.
pub fn intern(s: &str) -> Text {
    use std::cell::RefCell;
    thread_local! {
        static TABLE: RefCell<Interner> = RefCell::new(Interner::default());
    }
    if s.is_empty() {
        return Text::new();
    }
    TABLE.with(|t| t.borrow_mut().get(s))
}

/// The intern table of one thread.
struct Interner {
    hasher: foldhash::fast::RandomState,
    table: hashbrown::HashTable<Text>,
    /// Fingerprints (high hash bits) of values seen once, by low hash bits.
    seen: Box<[u32]>,
}

impl Default for Interner {
    fn default() -> Interner {
        Interner {
            hasher: Default::default(),
            table: hashbrown::HashTable::new(),
            seen: vec![0; SEEN_SLOTS].into_boxed_slice(),
        }
    }
}

const SEEN_SLOTS: usize = 1 << 16;
const INTERN_CAP: usize = 1 << 16;

impl Interner {
    fn get(&mut self, s: &str) -> Text {
        use std::hash::BuildHasher;
        let h = self.hasher.hash_one(s);
        if let Some(k) = self.table.find(h, |k| k.as_str() == s) {
            return k.clone();
        }
        let slot = &mut self.seen[h as usize & (SEEN_SLOTS - 1)];
        let print = (h >> 32) as u32 | 1;
        if *slot != print {
            *slot = print;
            return Text::from(s);
        }
        if self.table.len() >= INTERN_CAP {
            self.table.clear();
        }
        let k = Text::from(s);
        let hasher = &self.hasher;
        self.table
            .insert_unique(h, k.clone(), |k| hasher.hash_one(k.as_str()));
        k
    }
}

impl std::ops::Index<&str> for Extra {
    type Output = Text;
    fn index(&self, key: &str) -> &Text {
        self.get(key).expect("no such extra key")
    }
}

impl Serialize for Extra {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Extra {
    /// Reads the object `Serialize` writes (keys in order, each once) without a map or
    /// a `String` per key and value; keys out of order or repeated are put in place, the
    /// last value winning, as a map would.
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Extra, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = Extra;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of strings")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Extra, A::Error> {
                use crate::ingest::json::doc::Str;
                let mut x = Extra(thin_vec::ThinVec::with_capacity(16));
                while let Some((Str(k), Str(v))) = m.next_entry::<Str, Str>()? {
                    // Keys in order land at the end of the search.
                    x.insert(&k, v.as_ref());
                }
                // Millions of events hold one: exactly sized, as the map's collect was.
                x.0.shrink_to_fit();
                Ok(x)
            }
        }
        d.deserialize_map(V)
    }
}

/// `s` in ASCII lower case, borrowed when it has no upper-case letter (names and path
/// segments are tested for every event and rarely need a copy).
pub fn lower(s: &str) -> std::borrow::Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) {
        std::borrow::Cow::Owned(s.to_ascii_lowercase())
    } else {
        std::borrow::Cow::Borrowed(s)
    }
}

/// A string field of an event: a thin, shared, immutable string (8 bytes where `String`
/// takes 24; an event carries 30 of them, and correlation clones them freely).
pub type Text = arcstr::ArcStr;

/// An optional event string as an owned `String` (for outputs that keep their own copy).
pub fn owned(t: &Option<Text>) -> Option<String> {
    t.as_deref().map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_stays_sorted_and_replaces() {
        let mut x = Extra::default();
        assert!(x.insert("b", "2").is_none());
        assert!(x.insert("a", String::from("1")).is_none());
        assert_eq!(x.insert("b", "3").as_deref(), Some("2"));
        let keys: Vec<&str> = x.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b"]);
        assert_eq!(serde_json::to_string(&x).unwrap(), r#"{"a":"1","b":"3"}"#);
        let back: Extra = serde_json::from_str(r#"{"b":"3","a":"1"}"#).unwrap();
        assert_eq!(back, x);
        // As a map reads it: a repeated key keeps its last value; escapes are undone.
        let back: Extra = serde_json::from_str(r#"{"a":"0","b":"3","a":"1"}"#).unwrap();
        assert_eq!(back, x);
        let esc: Extra = serde_json::from_str(r#"{"q\"":"\u00e9"}"#).unwrap();
        assert_eq!(esc.get("q\"").map(|t| t.as_str()), Some("é"));
        assert!(serde_json::from_str::<Extra>(r#"{"a":1}"#).is_err());
        assert!(!x.contains_key("c"));
    }

    #[test]
    fn intern_shares_short_strings_only_by_value() {
        // Shared from the second time a value is seen.
        let first = intern("10.0.1.12");
        let a = intern("10.0.1.12");
        let b = intern(&String::from("10.0.1.12"));
        assert!(Text::ptr_eq(&a, &b));
        assert!(!Text::ptr_eq(&first, &a));
        assert_eq!(first, a);
        assert_eq!(intern("x"), "x");
        assert_eq!(intern(""), "");
        let long = "SELECT * FROM customers WHERE id = 1".to_string();
        assert_eq!(long.as_str().into_value(), long.as_str());
    }
}
