//! The one normalized event model every stage shares: ingest produces `Event`s, correlation
//! reads them, reports render them. Not the place for parsing or analysis logic.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which kind of evidence an event came from. The order is the tie-break order of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceKind {
    /// API gateway / HTTP access logs.
    Gateway,
    /// Database audit logs.
    Db,
    /// Push-notification provider logs.
    Push,
}

impl SourceKind {
    /// The lower-case name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Gateway => "gateway",
            SourceKind::Db => "db",
            SourceKind::Push => "push",
        }
    }
    /// Parses `gateway`, `db` or `push`.
    pub fn parse(s: &str) -> Option<SourceKind> {
        match s.to_ascii_lowercase().as_str() {
            "gateway" | "gw" | "http" => Some(SourceKind::Gateway),
            "db" | "database" => Some(SourceKind::Db),
            "push" => Some(SourceKind::Push),
            _ => None,
        }
    }
}

/// Whether the recorded action succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// The action succeeded (2xx/3xx, status 0, delivered).
    Success,
    /// The action failed (4xx/5xx, DB error code, delivery error).
    Failure,
    /// The evidence does not say.
    #[default]
    Unknown,
}

impl Outcome {
    /// The lower-case name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Unknown => "unknown",
        }
    }
    /// Parses the name `as_str` gives.
    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Success, Outcome::Failure, Outcome::Unknown]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
    /// Outcome of an HTTP status code.
    pub fn from_http(status: u16) -> Outcome {
        match status {
            0 => Outcome::Unknown,
            100..=399 => Outcome::Success,
            _ => Outcome::Failure,
        }
    }
}

/// Class of a database statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StmtClass {
    /// SELECT, COPY … TO, SHOW.
    Read,
    /// INSERT, UPDATE, DELETE, MERGE, COPY … FROM.
    Write,
    /// CREATE / ALTER / DROP / TRUNCATE of schema objects.
    Ddl,
    /// Roles, users, grants.
    Role,
    /// Connections, SET, transactions, anything else.
    Other,
}

impl StmtClass {
    /// The lower-case name used in every output.
    pub fn as_str(self) -> &'static str {
        match self {
            StmtClass::Read => "read",
            StmtClass::Write => "write",
            StmtClass::Ddl => "ddl",
            StmtClass::Role => "role",
            StmtClass::Other => "other",
        }
    }
    /// Parses the name `as_str` gives.
    pub fn parse(s: &str) -> Option<StmtClass> {
        [
            StmtClass::Read,
            StmtClass::Write,
            StmtClass::Ddl,
            StmtClass::Role,
            StmtClass::Other,
        ]
        .into_iter()
        .find(|c| c.as_str() == s)
    }
}

/// A change of an account's bonus balance that a statement makes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BonusChange {
    /// The account whose balance changes.
    pub account_id: Text,
    /// Signed points; for `SET balance = N` this is N and `absolute` is true.
    pub delta: i64,
    /// True when the statement sets the balance rather than adding to it.
    pub absolute: bool,
    /// The table written (`bonus_accounts`, `bonus_ledger`, …).
    pub table: Text,
    /// True when it comes from a ledger-style INSERT rather than a balance UPDATE.
    pub ledger: bool,
}

/// What statement analysis learned about a database statement.
///
/// Lists are boxed slices and the rarely set row is boxed: a database event holds one
/// of these, and exact-sized fields keep it in a 96-byte allocation (128 with vectors).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SqlFacts {
    /// Tables touched (lower-case, schema stripped), sorted.
    #[serde(deserialize_with = "de_texts")]
    pub tables: Box<[Text]>,
    /// A read that returns a whole table (no filter, a tautology, `COPY … TO`, huge `LIMIT`).
    pub whole_table_read: bool,
    /// Account ids named by key predicates or inserted rows (literals or bound parameters).
    #[serde(deserialize_with = "de_texts")]
    pub account_ids: Box<[Text]>,
    /// Bonus balance changes the statement makes.
    pub bonus_changes: Box<[BonusChange]>,
    /// Request id from a sqlcommenter-style comment.
    pub request_id: Option<Text>,
    /// Application name from a sqlcommenter-style comment.
    #[serde(default, deserialize_with = "de_opt_text")]
    pub application: Option<Text>,
    /// Injection-looking constructs (`OR 1=1`, `UNION SELECT`, stacked queries).
    #[serde(default, deserialize_with = "de_opt_text")]
    pub injection: Option<Text>,
    /// The real SQL parser could not parse the text; facts come from the tolerant fallback.
    pub fallback: bool,
    /// Column → value of the first row an INSERT into a push / campaign table writes
    /// (campaign id, title, body); never an empty map.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_row"
    )]
    pub row: Option<Box<BTreeMap<String, String>>>,
}

impl SqlFacts {
    /// A value of the first inserted row (`row`).
    pub fn row_value(&self, column: &str) -> Option<&String> {
        self.row.as_ref()?.get(column)
    }
    /// The values of the first inserted row, by column.
    pub fn row_values(&self) -> impl Iterator<Item = &String> {
        self.row.iter().flat_map(|r| r.values())
    }
}

/// One normalized evidence record.
///
/// Events sort by (time, source, file, line) so that output never depends on thread or
/// hash order. Times are UTC microseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(bound(deserialize = ""))]
pub struct Event {
    /// UTC time in microseconds since the epoch (after any clock-skew correction).
    pub ts: i64,
    /// Evidence kind.
    pub source: Option<SourceKind>,
    /// Format name (`apigw-json`, `pg-stderr`, …).
    #[serde(deserialize_with = "de_format")]
    pub format: FormatName,
    /// Index of the evidence file in the run's inventory (path and SHA-256 live there).
    pub file: u32,
    /// 1-based line on which the record starts.
    pub line: u64,
    /// Byte offset (in the decompressed stream) at which the record starts.
    pub offset: u64,
    /// The timestamp carried no zone and one was assumed.
    pub tz_assumed: bool,

    // ---- gateway ----
    /// Request id (gateway) or the request id a statement was tagged with (db).
    pub request_id: Option<Text>,
    /// Client address.
    pub client_ip: Option<Text>,
    /// User-Agent header.
    pub user_agent: Option<Text>,
    /// HTTP method.
    pub method: Option<Text>,
    /// Route template (`/customers/{id}`) when the source logs one.
    pub route: Option<Text>,
    /// Concrete path, without the query string.
    pub path: Option<Text>,
    /// Query string (without `?`).
    pub query: Option<Text>,
    /// HTTP status.
    pub status: Option<u16>,
    /// Response bytes.
    pub bytes: Option<u64>,
    /// Latency in milliseconds.
    pub latency_ms: Option<f64>,
    /// Authenticated subject as logged (customer account id or staff principal).
    pub user: Option<Text>,
    /// Customer account the event concerns (authenticated customer, path parameter, row key).
    pub account_id: Option<Text>,
    /// Staff / API principal.
    pub principal: Option<Text>,
    /// Token or API-key id.
    pub token_id: Option<Text>,
    /// Session id (DB session, gateway session).
    pub session_id: Option<Text>,

    // ---- db ----
    /// Database user.
    pub db_user: Option<Text>,
    /// Database client host.
    pub db_host: Option<Text>,
    /// Database name.
    pub db_name: Option<Text>,
    /// Statement class.
    pub stmt_class: Option<StmtClass>,
    /// Command tag / operation (`SELECT`, `CONNECT`, `password authentication failed`, …).
    pub command: Option<Text>,
    /// Object the record names (table, role).
    pub object: Option<Text>,
    /// Statement text.
    pub statement: Option<Text>,
    /// Bound parameters, when logged (a `ThinVec`: 8 bytes of the event, where a boxed
    /// slice takes 16 and a vector 24 — it keeps `Event` in a 256-byte allocation).
    pub params: Option<thin_vec::ThinVec<String>>,
    /// Statement was cut by the logger.
    pub truncated: bool,
    /// Statement analysis.
    pub sql: Option<Box<SqlFacts>>,

    // ---- push ----
    /// What push-provider records carry. Boxed: most events are not push records, and
    /// the ten fields inline cost every event 104 bytes. `push()` reads it (empty when
    /// absent), `push_mut()` creates it. Serialized flat, as the fields it holds.
    #[serde(flatten, serialize_with = "ser_push", deserialize_with = "de_push")]
    pub push: Option<Box<Push>>,

    /// Outcome of the action.
    pub outcome: Outcome,
    /// Everything else the source carried.
    pub extra: Extra,
}

/// The fields of a push-provider record.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Push {
    /// Provider message id.
    pub message_id: Option<Text>,
    /// Campaign id / analytics label / notification id.
    pub campaign_id: Option<Text>,
    /// Device / installation / subscription id or endpoint ARN.
    pub device_id: Option<Text>,
    /// Push target: topic or segment.
    pub push_target: Option<Text>,
    /// Delivery or provider event (`MESSAGE_DELIVERED`, `SUCCESS`, `summary`, …).
    pub delivery: Option<Text>,
    /// Message title.
    pub title: Option<Text>,
    /// Message body.
    pub body: Option<Text>,
    /// Recipient count a summary record reports.
    pub recipients: Option<u64>,
    /// Delivered count a summary record reports.
    pub delivered: Option<u64>,
    /// Failed count a summary record reports.
    pub failed: Option<u64>,
}

/// The push fields of an event that has none.
static NO_PUSH: Push = Push {
    message_id: None,
    campaign_id: None,
    device_id: None,
    push_target: None,
    delivery: None,
    title: None,
    body: None,
    recipients: None,
    delivered: None,
    failed: None,
};

fn ser_push<S: serde::Serializer>(p: &Option<Box<Push>>, s: S) -> Result<S::Ok, S::Error> {
    p.as_deref().unwrap_or(&NO_PUSH).serialize(s)
}

fn de_push<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Box<Push>>, D::Error> {
    let p = Push::deserialize(d)?;
    Ok((p != NO_PUSH).then(|| Box::new(p)))
}

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

/// A string field of an event: a thin, shared, immutable string (8 bytes where `String`
/// takes 24; an event carries 30 of them, and correlation clones them freely).
pub type Text = arcstr::ArcStr;

/// An optional event string as an owned `String` (for outputs that keep their own copy).
pub fn owned(t: &Option<Text>) -> Option<String> {
    t.as_deref().map(str::to_string)
}

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
        if let Some(f) = LAST.get().filter(|f| *f.0 == name) {
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
    fn default() -> FormatName {
        FormatName::from("")
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
    fn eq(&self, other: &FormatName) -> bool {
        self.as_str() == other.as_str()
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

/// Strings of a case file read back as the parsers make them: short ones shared through
/// the intern table (table names and account ids repeat across millions of statements).
fn de_texts<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Box<[Text]>, D::Error> {
    let v: Vec<crate::ingest::json::doc::Str> = serde::Deserialize::deserialize(d)?;
    Ok(v.iter().map(|s| text(&s.0)).collect())
}

/// A first row as written (an empty object, which is never written, reads as none).
// The box is the point: 8 bytes in every statement's facts where the map takes 24.
#[allow(clippy::box_collection)]
fn de_row<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Box<BTreeMap<String, String>>>, D::Error> {
    let m: BTreeMap<String, String> = serde::Deserialize::deserialize(d)?;
    Ok((!m.is_empty()).then(|| Box::new(m)))
}

fn de_opt_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Text>, D::Error> {
    let v: Option<crate::ingest::json::doc::Str> = serde::Deserialize::deserialize(d)?;
    Ok(v.map(|s| text(&s.0)))
}

fn de_format<'de, D: serde::Deserializer<'de>>(d: D) -> Result<FormatName, D::Error> {
    let s: String = serde::Deserialize::deserialize(d)?;
    Ok(FormatName::from(
        crate::ingest::registry()
            .iter()
            .map(|p| p.name())
            .find(|n| *n == s)
            .unwrap_or("unknown"),
    ))
}

impl Event {
    /// Makes strings the parsers share between fields one copy again after a case file
    /// was read (each field is read on its own): a statement's request id, held by the
    /// event and by its facts.
    pub fn share_strings(&mut self) {
        if let (Some(f), Some(r)) = (self.sql.as_deref_mut(), &self.request_id) {
            if let Some(fr) = f.request_id.as_mut().filter(|fr| *fr == r) {
                *fr = r.clone();
            }
        }
    }

    /// A new event of a source and format at a provenance.
    pub fn new(source: SourceKind, format: &'static str) -> Event {
        Event {
            source: Some(source),
            format: format.into(),
            ..Event::default()
        }
    }
    /// The push fields (all absent for an event that is not a push record).
    pub fn push(&self) -> &Push {
        self.push.as_deref().unwrap_or(&NO_PUSH)
    }
    /// The push fields, created when the event has none yet.
    pub fn push_mut(&mut self) -> &mut Push {
        self.push.get_or_insert_with(Default::default)
    }
    /// The evidence kind (events are always created with one).
    pub fn kind(&self) -> SourceKind {
        self.source.unwrap_or(SourceKind::Gateway)
    }
    /// The sort key: (time, source, file, line).
    pub fn sort_key(&self) -> (i64, SourceKind, u32, u64) {
        (self.ts, self.kind(), self.file, self.line)
    }
    /// A short human description of what happened.
    pub fn action(&self) -> String {
        match self.kind() {
            SourceKind::Gateway => {
                let m = self.method.as_deref().unwrap_or("?");
                let p = self
                    .path
                    .as_deref()
                    .or(self.route.as_deref())
                    .unwrap_or("?");
                format!("{m} {p}")
            }
            SourceKind::Db => {
                let c = self.command.as_deref().unwrap_or("statement");
                match &self.sql {
                    Some(f) if !f.tables.is_empty() => format!("{c} {}", f.tables.join(",")),
                    _ => match &self.object {
                        Some(o) if !o.is_empty() => format!("{c} {o}"),
                        _ => c.to_string(),
                    },
                }
            }
            SourceKind::Push => {
                let d = self.push().delivery.as_deref().unwrap_or("push");
                match &self.push().message_id {
                    Some(m) => format!("{d} {m}"),
                    None => d.to_string(),
                }
            }
        }
    }
    /// The actor: address, principal or DB user that did it.
    pub fn actor(&self) -> String {
        let who = self
            .principal
            .as_deref()
            .or(self.db_user.as_deref())
            .or(self.user.as_deref());
        let ip = self.client_ip.as_deref().or(self.db_host.as_deref());
        match (who, ip) {
            (Some(w), Some(i)) => format!("{w}@{i}"),
            (Some(w), None) => w.to_string(),
            (None, Some(i)) => i.to_string(),
            (None, None) => String::new(),
        }
    }
}

/// Per-file facts of a run: the evidence inventory.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FileInfo {
    /// Path as given (or `-` for stdin).
    pub path: String,
    /// Detected or forced format name; empty when no parser accepted the file.
    pub format: String,
    /// Evidence kind, when known.
    pub source: Option<SourceKind>,
    /// SHA-256 of the bytes read from disk, hex.
    pub sha256: String,
    /// Bytes read from disk.
    pub bytes: u64,
    /// Physical lines (after decompression).
    pub lines: u64,
    /// Records (a line, or a multi-line statement / CSV record / JSON element).
    pub records: u64,
    /// Records that became events.
    pub events: u64,
    /// Records dropped as exact duplicates of a record in another file.
    pub duplicates: u64,
    /// Records rejected as malformed.
    pub rejected: u64,
    /// Records skipped on purpose (blank, header, comment, non-evidence server chatter).
    pub skipped: u64,
    /// Events whose timestamps carried no zone and had one assumed.
    pub tz_assumed: u64,
    /// First event time (µs UTC).
    pub first_ts: Option<i64>,
    /// Last event time (µs UTC).
    pub last_ts: Option<i64>,
    /// Clock-skew correction applied to this file's events, µs (added to the logged time).
    pub skew_us: i64,
    /// A file-level problem (unreadable, unknown format, truncated gzip).
    pub error: Option<String>,
    /// Why a listed file was not parsed (roster, documentation).
    #[serde(default)]
    pub note: Option<String>,
}

/// A rejected record: where and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// Evidence file path.
    pub path: String,
    /// 1-based line.
    pub line: u64,
    /// Why it was rejected.
    pub reason: String,
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
    fn statement_facts_read_back_share_their_short_strings() {
        let f = SqlFacts {
            tables: vec![text("customers")].into(),
            account_ids: vec![text("100042")].into(),
            application: Some(text("loyalty-api")),
            ..SqlFacts::default()
        };
        let json = serde_json::to_string(&f).unwrap();
        // Values are shared from the second time they are seen.
        let _: SqlFacts = serde_json::from_str(&json).unwrap();
        let a: SqlFacts = serde_json::from_str(&json).unwrap();
        let b: SqlFacts = serde_json::from_str(&json).unwrap();
        assert_eq!(a, f);
        assert!(Text::ptr_eq(&a.tables[0], &b.tables[0]));
        assert!(Text::ptr_eq(
            a.application.as_ref().unwrap(),
            b.application.as_ref().unwrap()
        ));
        let old: SqlFacts = serde_json::from_str(
            r#"{"tables":["t\u00e9"],"whole_table_read":false,"account_ids":[],"bonus_changes":[],"request_id":null,"fallback":false}"#,
        )
        .unwrap();
        assert_eq!(old.tables[0].as_str(), "té");
        assert_eq!(old.application, None);
    }

    #[test]
    fn statement_facts_fit_a_96_byte_allocation() {
        // One per database event; mimalloc's next size class is 112 bytes.
        assert!(
            std::mem::size_of::<SqlFacts>() <= 96,
            "{}",
            std::mem::size_of::<SqlFacts>()
        );
    }

    #[test]
    fn event_fits_a_256_byte_allocation() {
        // Millions of events are boxed; mimalloc's next size class is 320 bytes.
        assert!(
            std::mem::size_of::<Event>() <= 256,
            "{}",
            std::mem::size_of::<Event>()
        );
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
