//! Per-record re-detection: a record the file's parser rejects is offered to the other
//! line formats of the same source, as when an API Gateway stage's access-log format was
//! edited mid-file (JSON, then the CLF preset) or a web server's `log_format` changed.
//! Only a record another format sniffs as its own and parses into an event is taken;
//! otherwise the original rejection stands.

use super::{head_of, registry, FileCtx, Head, Parsed, Parser};

/// The other formats a file's rejected records are offered to, each prepared for the file.
pub struct Alternates(Vec<(&'static dyn Parser, FileCtx)>);

impl Alternates {
    /// None: for a forced format, or the programs of a syslog file.
    pub fn none() -> Alternates {
        Alternates(Vec::new())
    }

    /// Line formats of the parser's source other than itself, prepared with the file's
    /// head (a format that cannot be prepared for this file is left out).
    pub fn for_file(parser: &dyn Parser, head: &Head, base: &FileCtx) -> Alternates {
        let v = registry()
            .iter()
            .copied()
            .filter(|p| {
                p.name() != parser.name()
                    && p.source() == parser.source()
                    && p.framing() == super::Framing::Lines
                    && !p.has_header()
            })
            .filter_map(|p| {
                let mut ctx = FileCtx {
                    header: None,
                    pg_prefix: None,
                    ..base.clone()
                };
                p.prepare(&mut ctx, head).ok().map(|()| (p, ctx))
            })
            .collect();
        Alternates(v)
    }

    /// The record as the format that claims it most confidently makes it, when that is
    /// an event.
    pub fn reparse(&self, rec: &str) -> Option<Parsed> {
        if self.0.is_empty() {
            return None;
        }
        let head = Head {
            opts: self.0.first().map(|(_, c)| &*c.opts),
            ..head_of(rec)
        };
        let (p, ctx) = self
            .0
            .iter()
            .map(|(p, c)| (p.sniff(&head), p, c))
            .filter(|(s, _, _)| *s >= 50)
            .max_by_key(|(s, _, _)| *s)
            .map(|(_, p, c)| (*p, c))?;
        match p.parse(rec, ctx) {
            e @ (Parsed::Event(_) | Parsed::Many(_)) => Some(e),
            _ => None,
        }
    }
}
