//! Format names as events carry them: one thin pointer to each parser's name.

use serde::Serialize;

/// The name of the format an event was parsed from (`apigw-json`, `pg-stderr`, …).
///
/// A thin pointer to a `&'static str` kept once per name: 8 bytes in every event where
/// the name itself takes 16. Compares, orders and hashes as its text.
#[derive(Clone, Copy)]
pub struct FormatName(&'static &'static str);

impl FormatName {
    /// The name.
    pub fn as_str(self) -> &'static str {
        self.0
    }
    /// The registered parser of this name, or `unknown` (names read back from a case
    /// file).
    pub fn registered(name: &str) -> FormatName {
        FormatName::from(
            crate::ingest::registry()
                .iter()
                .map(|p| p.name())
                .find(|n| *n == name)
                .unwrap_or("unknown"),
        )
    }
}

impl From<&'static str> for FormatName {
    /// The one slot of a name: parsers create events a block at a time with the same
    /// name, so the last slot a thread used answers almost every call.
    fn from(name: &'static str) -> FormatName {
        use std::sync::{Mutex, PoisonError};
        thread_local! {
            static LAST: std::cell::Cell<Option<FormatName>> = const { std::cell::Cell::new(None) };
        }
        static SLOTS: Mutex<Vec<&'static &'static str>> = Mutex::new(Vec::new());
        // The same literal is the same pointer: compared first, the text only if not.
        if let Some(f) = LAST
            .get()
            .filter(|f| std::ptr::eq(*f.0, name) || *f.0 == name)
        {
            return f;
        }
        let mut slots = SLOTS.lock().unwrap_or_else(PoisonError::into_inner);
        let slot = match slots.iter().find(|s| **s == &name) {
            Some(s) => *s,
            None => {
                // A name is leaked once (the parsers' names, "unknown", a test's own).
                let s: &'static &'static str = Box::leak(Box::new(name));
                slots.push(s);
                s
            }
        };
        let f = FormatName(slot);
        LAST.set(Some(f));
        f
    }
}

impl Default for FormatName {
    /// The empty name, without the registry: every event starts from a default one
    /// before its parser names it, and a registry lookup here would also displace the
    /// thread's last slot.
    fn default() -> FormatName {
        static EMPTY: &str = "";
        FormatName(&EMPTY)
    }
}

impl std::ops::Deref for FormatName {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl std::fmt::Debug for FormatName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl std::fmt::Display for FormatName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq for FormatName {
    /// Each name has one slot (`From<&'static str>`): two slots are two names, so the
    /// pointers answer, and correlation compares every event's format without reading
    /// the text. The default's empty name is the one name with a second slot.
    fn eq(&self, other: &FormatName) -> bool {
        std::ptr::eq(self.0, other.0) || (self.0.is_empty() && other.0.is_empty())
    }
}

impl Eq for FormatName {}

impl PartialEq<&str> for FormatName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialOrd for FormatName {
    fn partial_cmp(&self, other: &FormatName) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for FormatName {
    fn cmp(&self, other: &FormatName) -> std::cmp::Ordering {
        if self == other {
            return std::cmp::Ordering::Equal;
        }
        self.as_str().cmp(other.as_str())
    }
}

impl std::hash::Hash for FormatName {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.as_str().hash(h)
    }
}

impl Serialize for FormatName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::FormatName;

    #[test]
    fn names_compare_as_their_text_whatever_their_pointer() {
        let other: &'static str = Box::leak(String::from("zz-one").into_boxed_str());
        let (a, b) = (FormatName::from("zz-one"), FormatName::from(other));
        assert_eq!(a, b);
        assert_eq!(a.cmp(&b), std::cmp::Ordering::Equal);
        let c = FormatName::from("zz-two");
        assert_ne!(a, c);
        assert!(a < c && c > b);
        // The default's empty name and an empty name made from text are one name.
        assert_eq!(FormatName::default(), FormatName::from(""));
        assert!(FormatName::default() < a);
    }
}
