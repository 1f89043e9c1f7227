//! Evidence ingestion: the `Parser` trait every format implements, the one registry of
//! formats, detection by content, and the pipeline that turns evidence paths into events
//! with full accounting. Formats live one per file beside this one.

pub mod archive;
mod blocks;
pub mod client;
pub mod decode;
pub mod envelope;
pub mod frame;
pub mod input;
pub mod json;
mod lead;
mod merge;
mod zip_local;
pub use merge::{sort_events, sort_order};
pub mod pipeline;
mod redetect;
mod stream;
pub mod walk;

pub mod apigw;
pub mod apigw_template;
pub mod apigw_xml;
pub mod applog;
pub mod audit_xml;
pub mod envoy;
pub mod expo;
pub mod fcm;
pub mod fcm_v1;
pub mod kong;
pub mod mariadb;
pub mod mysql;
pub mod nginx;
pub mod onesignal;
pub mod percona;
pub mod pg;
pub mod pg_infer;
pub mod pg_prefix;
mod pg_statement;
pub mod pgaudit;
pub mod rds;
pub mod sns;
pub mod syslog;

use crate::model::{Event, SourceKind, Text};
use crate::timeparse::AssumeTz;
pub use frame::Framing;
use std::sync::Arc;

/// Options every parser may consult.
#[derive(Debug, Clone, Default)]
pub struct ParseOpts {
    /// Zone for timestamps that carry none.
    pub assume_tz: AssumeTz,
    /// Whether `--assume-tz` was given (otherwise UTC is assumed and the report says so).
    pub assume_tz_given: bool,
    /// A PostgreSQL `log_line_prefix` given with `--pg-prefix`.
    pub pg_prefix: Option<String>,
    /// An API Gateway access-log template given with `--apigw-format`, compiled.
    pub apigw_template: Option<Arc<apigw_template::Template>>,
    /// Proxies in front of the gateways besides private addresses (`--trusted-proxy`).
    pub trusted_proxies: Vec<client::Cidr>,
    /// Which tables and columns matter to statement analysis.
    pub vocab: crate::sql::Vocab,
}

/// Per-file state a parser prepares from the first records (CSV header, detected prefix).
#[derive(Debug, Clone, Default)]
pub struct FileCtx {
    /// The file's name (last path component), for formats that keep ids in file names.
    pub file_name: String,
    /// CSV header fields, lower-cased, when the format has one.
    pub header: Option<Vec<String>>,
    /// A compiled PostgreSQL log_line_prefix.
    pub pg_prefix: Option<Arc<pg_prefix::Prefix>>,
    /// For evidence that went through syslog: which programs' lines are read, and the
    /// file's date for times without a year.
    pub syslog: Option<Arc<syslog::Ctx>>,
    /// Options of the run.
    pub opts: Arc<ParseOpts>,
}

/// What a parser made of one record.
#[derive(Debug)]
pub enum Parsed {
    /// An event (provenance is filled in by the pipeline).
    Event(Box<Event>),
    /// Deliberately not evidence (blank, header, comment, server chatter), with the reason.
    Skip(&'static str),
    /// Malformed, with the reason.
    Reject(String),
    /// Several records in one (an application log line holding a batch of push
    /// messages and their tickets): each is accounted for as a record of its own.
    Many(Vec<Parsed>),
}

#[cfg(test)]
impl Parsed {
    /// The events of a parse (one, or each of a batch); panics on anything else.
    pub fn events(self) -> Vec<Event> {
        match self {
            Parsed::Event(e) => vec![*e],
            Parsed::Many(v) => v.into_iter().flat_map(Parsed::events).collect(),
            other => panic!("{other:?}"),
        }
    }
}

/// A sample of a file's first records, for sniffing.
#[derive(Debug)]
pub struct Head<'a> {
    /// The first bytes of the (decompressed, unwrapped) stream as text.
    pub text: &'a str,
    /// Its first non-empty lines.
    pub lines: Vec<&'a str>,
    /// The run's options, for formats the user describes (`--apigw-format`).
    pub opts: Option<&'a ParseOpts>,
}

/// One evidence format.
pub trait Parser: Sync + Send {
    /// Format name, as `--format` takes it.
    fn name(&self) -> &'static str;
    /// Evidence kind.
    fn source(&self) -> SourceKind;
    /// How the format is recognized (for `breachline formats`).
    fn detection(&self) -> &'static str;
    /// A short example record.
    fn example(&self) -> &'static str;
    /// How records are laid out.
    fn framing(&self) -> Framing {
        Framing::Lines
    }
    /// Whether the first record is a header row.
    fn has_header(&self) -> bool {
        false
    }
    /// Confidence 0–100 that the head is this format.
    fn sniff(&self, head: &Head) -> u8;
    /// Prepares per-file state (the header is already parsed into `ctx`).
    fn prepare(&self, _ctx: &mut FileCtx, _head: &Head) -> Result<(), String> {
        Ok(())
    }
    /// Parses one record.
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed;
}

/// The registry: every format, in detection-priority order (more specific first).
pub fn registry() -> &'static [&'static dyn Parser] {
    static REG: &[&dyn Parser] = &[
        &percona::PerconaJson,
        &mysql::EnterpriseJson,
        &audit_xml::AuditXml,
        &percona::PerconaCsv,
        &pg::JsonLog,
        &pg::CsvLog,
        &rds::ActivityStream,
        &kong::Kong,
        &sns::Sns,
        &onesignal::OneSignalApi,
        &onesignal::OneSignalCsv,
        &onesignal::OneSignalAudience,
        &fcm::FcmJson,
        &fcm::FcmCsv,
        &fcm_v1::FcmV1Log,
        &expo::ExpoLog,
        &apigw::ApigwJson,
        &apigw_xml::ApigwXml,
        &apigw_template::ApigwTemplate,
        &nginx::NginxJson,
        &mariadb::MariaDb,
        &pg::Stderr,
        &envoy::Envoy,
        &envoy::EnvoyJson,
        &apigw::ApigwClf,
        &nginx::Combined,
    ];
    REG
}

/// Looks a format up by name.
pub fn by_name(name: &str) -> Option<&'static dyn Parser> {
    registry().iter().copied().find(|p| p.name() == name)
}

/// Picks the parser with the highest confidence for a head; ties go to registry order.
pub fn detect(head: &Head) -> Option<&'static dyn Parser> {
    let mut best: Option<(&'static dyn Parser, u8)> = None;
    for p in registry() {
        let s = p.sniff(head);
        if s >= 50 && best.is_none_or(|(_, b)| s > b) {
            best = Some((*p, s));
        }
    }
    best.map(|(p, _)| p)
}

impl Head<'_> {
    /// The first non-empty line (a CSV header, for formats that have one).
    pub fn first_line(&self) -> &str {
        self.lines.first().copied().unwrap_or("")
    }
}

/// Builds a head from text.
pub fn head_of(text: &str) -> Head<'_> {
    let lines = text
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.trim().is_empty())
        .take(64)
        .collect();
    Head {
        text,
        lines,
        opts: None,
    }
}

/// Fraction (0–100) of the head's lines (at most 20, excluding a possibly cut last line)
/// that satisfy a test.
pub fn line_score(head: &Head, test: impl Fn(&str) -> bool) -> u8 {
    let lines: Vec<&&str> = head.lines.iter().take(20).collect();
    if lines.is_empty() {
        return 0;
    }
    let n = if lines.len() > 1 { lines.len() - 1 } else { 1 };
    let ok = lines.iter().take(n).filter(|l| test(l)).count();
    (ok * 100 / n) as u8
}

/// `-` and empty mean "absent" in most access-log templates.
pub fn present(s: &str) -> Option<Text> {
    present_str(s).map(crate::model::text)
}

/// What `present` keeps, borrowed (for values parsed or rewritten before they are kept).
pub fn present_str(s: &str) -> Option<&str> {
    let t = s.trim();
    (!(t.is_empty() || t == "-" || t == "null")).then_some(t)
}

/// Splits a request target into path and query.
pub fn split_target(target: &str) -> (Text, Option<Text>) {
    let (p, q) = split_query(target);
    (Text::from(p), q)
}

/// Splits a request target into its path (borrowed) and query.
pub fn split_query(target: &str) -> (&str, Option<Text>) {
    match target.split_once('?') {
        Some((p, q)) => (p, present(q)),
        None => (target, None),
    }
}
