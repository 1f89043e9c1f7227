//! The one normalized event model every stage shares: ingest produces `Event`s, correlation
//! reads them, reports render them. Not the place for parsing or analysis logic.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

mod format;
mod strings;

pub use format::FormatName;
pub use strings::{intern, lower, owned, text, Extra, ExtraValue, Text};

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

/// The account keys a read's (or a balance update's) filter bounds, and the slice of
/// them its ORDER BY, LIMIT and OFFSET take. Keys are integers: a range of other keys is
/// left to the extent.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct KeyRange {
    /// The lowest key the filter lets through (inclusive); none: no lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<i64>,
    /// The highest key the filter lets through (inclusive); none: no upper bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<i64>,
    /// The rows come in the key's order, lowest first (`asc`) or highest (`desc`);
    /// none: in no order of the key, so a LIMIT takes rows the log cannot name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<KeyOrder>,
    /// The rows a LIMIT (or FETCH FIRST) lets through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    /// The rows an OFFSET skips.
    #[serde(default, skip_serializing_if = "is_zero_u64")]
    pub offset: u64,
    /// The filter also tests other columns (`AND status = 'active'`): the range's rows are
    /// an upper bound of those returned.
    #[serde(default, skip_serializing_if = "is_false")]
    pub narrowed: bool,
    /// Of a balance UPDATE the range's rows are those of (`SET balance = balance + 500
    /// WHERE account_id BETWEEN …`): the points it adds to each row, or sets each to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub points: Option<i64>,
    /// The UPDATE sets each balance to `points` rather than adding them.
    #[serde(default, skip_serializing_if = "is_false")]
    pub sets: bool,
}

/// The order of a key range's rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyOrder {
    /// Lowest key first.
    Asc,
    /// Highest key first.
    Desc,
}

/// What statement analysis learned about a database statement.
///
/// Lists are boxed slices and the rarely set row is boxed: a database event holds one
/// of these, and exact-sized fields keep it in a 96-byte allocation (128 with vectors).
///
/// Serialized without its empty lists, unset flags and absent values, which read back as
/// those: every database event of a case file holds these facts as a JSON cell, and most
/// name a table or two and nothing else.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct SqlFacts {
    /// Tables touched (lower-case, schema stripped), sorted.
    #[serde(
        default,
        skip_serializing_if = "is_empty",
        deserialize_with = "de_texts"
    )]
    pub tables: Box<[Text]>,
    /// A read that returns a whole table (no filter, a tautology, `COPY … TO`, huge `LIMIT`),
    /// or a class of its rows (a filter only on columns many rows share: `status`, a tier,
    /// a flag, a tenant).
    #[serde(default, skip_serializing_if = "is_false")]
    pub whole_table_read: bool,
    /// Account ids named by key predicates or inserted rows (literals or bound parameters).
    #[serde(
        default,
        skip_serializing_if = "is_empty",
        deserialize_with = "de_texts"
    )]
    pub account_ids: Box<[Text]>,
    /// Bonus balance changes the statement makes.
    #[serde(default, skip_serializing_if = "is_empty")]
    pub bonus_changes: Box<[BonusChange]>,
    /// An UPDATE changed bonus balances of rows it does not name (no key in its filter)
    /// or by an expression of no amount (`balance * 10`): the log cannot say which
    /// accounts, or by how much.
    #[serde(default, skip_serializing_if = "is_false")]
    pub bonus_unnamed: bool,
    /// Request id from a sqlcommenter-style comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Text>,
    /// Application name from a sqlcommenter-style comment.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_opt_text"
    )]
    pub application: Option<Text>,
    /// Injection-looking constructs (`OR 1=1`, `UNION SELECT`, stacked queries).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "de_opt_text"
    )]
    pub injection: Option<Text>,
    /// The real SQL parser could not parse the text, or was not given it (over 64 KiB);
    /// facts come from the tokens alone.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fallback: bool,
    /// The text is a transaction or script of several statements of one class, sent as
    /// one query (`BEGIN; UPDATE …; COMMIT`): the facts are all of theirs. pgaudit logs
    /// such a text whole with each statement's record.
    #[serde(default, skip_serializing_if = "is_false")]
    pub script: bool,
    /// A read that pages through a table (`LIMIT 100 OFFSET 4200`, `WHERE id > 4200
    /// ORDER BY id LIMIT 100`; a whole-table read but for its LIMIT under the bulk
    /// size): the rows of its page; 0 for other statements. Pages are under the bulk
    /// size: a page of more than 65535 rows counts as that many (the field's width keeps
    /// these facts in their allocation).
    #[serde(default, skip_serializing_if = "is_zero", deserialize_with = "de_rows")]
    pub page_rows: u16,
    /// The account keys a read's filter bounds (`WHERE id BETWEEN 1000 AND 1999`, `id >
    /// 4200 ORDER BY id LIMIT 100`, `ORDER BY id LIMIT 50 OFFSET 200`): which accounts it
    /// returned, read against the accounts that existed, where its extent alone says a
    /// whole table or a page of one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_range: Option<Box<KeyRange>>,
    /// The statement names its rows by the row's own `id` in a table that does not hold
    /// the customers (`UPDATE wallets SET points = 550 WHERE id = 17`): its account ids
    /// and bonus changes hold those row numbers, until the correlation learns the rows'
    /// owners from the evidence (`correlate::owners`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub row_ids: bool,
    /// The statement names its rows by a customer's contact or card (`UPDATE
    /// loyalty_cards SET balance = balance + 500 WHERE phone = '+380671234567'`), and by
    /// no account key: its account ids and bonus changes hold those values, until the
    /// correlation finds their accounts in the roster (`correlate::contacts`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub contact_ids: bool,
    /// Column → value of the first row an INSERT into a push / campaign table (campaign
    /// id, title, body) or a device table (device, account) writes, or of an UPDATE's
    /// literal assignments where one sets a device column (a push token); never empty.
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
    /// Byte offset (in the decompressed, UTF-8 stream) at which the record starts.
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

/// Whether a flag is unset (left out of a serialized `SqlFacts`).
fn is_false(b: &bool) -> bool {
    !*b
}

fn is_zero(n: &u16) -> bool {
    *n == 0
}

/// A page's rows, saturated at the field's width.
fn de_rows<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    let n = u64::deserialize(d)?;
    Ok(u16::try_from(n).unwrap_or(u16::MAX))
}

fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

/// Whether a list is empty (left out of a serialized `SqlFacts`).
fn is_empty<T>(v: &[T]) -> bool {
    v.is_empty()
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
    Ok(FormatName::registered(&s))
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
    pub fn new(source: SourceKind, format: impl Into<FormatName>) -> Event {
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
    /// The request's logged latency in µs (0 when none is logged, or it is no positive
    /// finite number).
    pub fn latency_us(&self) -> i64 {
        self.latency_ms
            .filter(|l| l.is_finite() && *l > 0.0)
            .map_or(0, |l| (l * 1000.0) as i64)
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
                // No request was read: a line that is none (a TLS handshake sent to a
                // plain port, a client that sent nothing) or a proxied TCP/TLS session
                // (Kong's stream subsystem).
                if self.method.is_none() && self.path.is_none() && self.route.is_none() {
                    return match (
                        self.extra.get("request_line"),
                        self.extra.get("server_port"),
                    ) {
                        (Some(r), _) if r.as_str() == "-" => "no request line".into(),
                        (Some(r), _) => format!("unparsed request {r}"),
                        (None, Some(p)) => format!("session to port {p}"),
                        (None, None) => "connection".into(),
                    };
                }
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
    /// Who did it: the principal, DB user or access-log user.
    pub fn who(&self) -> Option<&str> {
        self.principal
            .as_deref()
            .or(self.db_user.as_deref())
            .or(self.user.as_deref())
    }
    /// From where: the client or DB client address.
    pub fn address(&self) -> Option<&str> {
        self.client_ip.as_deref().or(self.db_host.as_deref())
    }
    /// The actor: address, principal or DB user that did it.
    pub fn actor(&self) -> String {
        match (self.who(), self.address()) {
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
    /// Of those, events in the repeated hour of a daylight-saving change back that their
    /// order in the file placed in its second pass.
    #[serde(default)]
    pub tz_folded: u64,
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
    /// How a parsed file was read when that was inferred from its content rather than
    /// known (a `log_line_prefix` read from the lines), for the responder to check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
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
    fn statement_facts_leave_out_what_is_unset_and_read_back_whole() {
        let f = SqlFacts {
            tables: vec![text("customers")].into(),
            request_id: Some(text("7f3e")),
            ..SqlFacts::default()
        };
        let json = serde_json::to_string(&f).unwrap();
        assert_eq!(json, r#"{"tables":["customers"],"request_id":"7f3e"}"#);
        assert_eq!(serde_json::from_str::<SqlFacts>(&json).unwrap(), f);
        assert_eq!(serde_json::to_string(&SqlFacts::default()).unwrap(), "{}");
        assert_eq!(
            serde_json::from_str::<SqlFacts>("{}").unwrap(),
            SqlFacts::default()
        );
        // Every field set: each is written, and all read back.
        let mut row = BTreeMap::new();
        row.insert("title".to_string(), "Hi".to_string());
        let full = SqlFacts {
            tables: vec![text("bonus_ledger"), text("customers")].into(),
            whole_table_read: true,
            account_ids: vec![text("100042")].into(),
            bonus_changes: vec![BonusChange {
                account_id: text("100042"),
                delta: -500,
                absolute: false,
                table: text("bonus_ledger"),
                ledger: true,
            }]
            .into(),
            bonus_unnamed: true,
            request_id: Some(text("7f3e")),
            application: Some(text("loyalty-api")),
            injection: Some(text("OR 1=1")),
            fallback: true,
            script: true,
            page_rows: 100,
            key_range: Some(Box::new(KeyRange {
                from: Some(4201),
                to: None,
                order: Some(KeyOrder::Asc),
                limit: Some(100),
                offset: 0,
                narrowed: false,
                points: None,
                sets: false,
            })),
            row_ids: true,
            contact_ids: true,
            row: Some(Box::new(row)),
        };
        let json = serde_json::to_string(&full).unwrap();
        for key in [
            "tables",
            "whole_table_read",
            "account_ids",
            "bonus_changes",
            "bonus_unnamed",
            "request_id",
            "application",
            "injection",
            "fallback",
            "script",
            "page_rows",
            "key_range",
            "row_ids",
            "contact_ids",
            "row",
        ] {
            assert!(json.contains(&format!("\"{key}\":")), "{key} in {json}");
        }
        assert_eq!(serde_json::from_str::<SqlFacts>(&json).unwrap(), full);
    }

    #[test]
    fn a_page_wider_than_the_field_reads_back_as_its_widest() {
        let f: SqlFacts = serde_json::from_str(r#"{"page_rows":100000}"#).unwrap();
        assert_eq!(f.page_rows, u16::MAX);
        let f: SqlFacts = serde_json::from_str(r#"{"page_rows":100}"#).unwrap();
        assert_eq!(f.page_rows, 100);
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
}
