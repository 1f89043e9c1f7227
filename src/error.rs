//! Typed errors of the engine (ingest, correlate, report); the command layer wraps them in
//! `anyhow` with context. Messages name the file, line or flag at fault.

use std::path::PathBuf;
use thiserror::Error;

/// Why one record could not become an event.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{path}:{line}: {reason}")]
pub struct ParseError {
    /// Evidence file.
    pub path: String,
    /// 1-based line where the record starts.
    pub line: u64,
    /// What was wrong.
    pub reason: String,
}

/// Engine errors.
#[derive(Debug, Error)]
pub enum Error {
    /// A path could not be opened or read.
    // The reason follows as the error's source (`{:#}` at the edge prints the chain).
    #[error("cannot read {path}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No parser accepted a file (the file is named by the caller, beside the message).
    #[error("no parser recognizes this file (first line: {head:?}); use --format NAME (see `breachline formats`)")]
    UnknownFormat {
        /// Its first line, shortened and escaped.
        head: String,
    },
    /// An archive or a compression breachline does not read (the file is named by the
    /// caller).
    #[error(
        "the file is {kind}, which breachline does not read here; extract it first (`{tool} FILE`)"
    )]
    Compressed {
        /// What it is (`a 7-Zip archive`, …).
        kind: &'static str,
        /// The command that decompresses it.
        tool: &'static str,
    },
    /// `--format` named a format that does not exist.
    #[error("unknown format {0:?}; `breachline formats` lists them")]
    NoSuchFormat(String),
    /// A rejected record under `--strict`.
    #[error("{0} (--strict)")]
    Strict(ParseError),
    /// A bad argument value.
    #[error("{flag}: {message}")]
    BadArg {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A case file that is not one of ours.
    #[error("{path}: not a breachline case file: {message}")]
    BadCase {
        /// The file.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// Polars failed writing or reading a case file.
    #[error("case file {path}: {message}")]
    Case {
        /// The file.
        path: String,
        /// Polars' message.
        message: String,
    },
}
