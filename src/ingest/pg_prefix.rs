//! PostgreSQL `log_line_prefix` templates: compiled into matchers, chosen for a file
//! from its first lines, and found for a single line the file's prefix does not fit (a
//! reload changed the setting mid-file, or the logs of servers set up differently were
//! joined into one file).

use super::pg_infer::Fields;
use super::Head;
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// Prefixes PostgreSQL deployments commonly use, tried in order when detecting.
pub const KNOWN_PREFIXES: &[&str] = &[
    "%t:%r:%u@%d:[%p]:",
    "%m [%p] %q%u@%d ",
    "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ",
    "%m %u %d [%p]: ",
    "%m [%p] %q[user=%u,db=%d,app=%a] ",
    "%m [%p] ",
    "%t [%p] ",
];

pub(super) static SEVERITY: LazyLock<Regex> = LazyLock::new(|| {
    // No group for the message itself: a capture that runs to the end of a long
    // statement made the capturing engine walk all of it (a third of pg-stderr's time).
    // Any upper-case word: with lc_messages other than C the severity is translated
    // (`FEHLER`, `ОШИБКА`), while pgaudit's `AUDIT: …` after it is not.
    Regex::new(r"^(\p{Lu}[\p{Lu}\d]{1,24}):  (?:([0-9A-Z]{5}): )?").expect("static regex")
});

/// What `%t` prints, and `%m` before its milliseconds (ASCII digits: Unicode `\d` made a
/// template ten times slower to compile).
macro_rules! date_time {
    () => {
        r"[0-9]{4}-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
    };
}

/// The zone after a time: an abbreviation, or an offset where the zone has none.
macro_rules! zone {
    () => {
        r"(?: [A-Za-z][A-Za-z0-9/_+-]*| ?[+-][0-9][0-9](?::?[0-9][0-9])?)?"
    };
}

/// A compiled `log_line_prefix`.
#[derive(Debug, Clone)]
pub struct Prefix {
    /// The template.
    pub template: String,
    /// Read from the log's own lines, not a common template or `--pg-prefix`.
    pub inferred: bool,
    /// The file's first lines were written with more than one prefix: this one fits
    /// most of them, and the others are read with their own (`for_line`).
    pub mixed: bool,
    pub(super) re: Regex,
}

/// What `%u` or `%d` prints: a role or database name, or `[unknown]` before
/// authentication (`connection received` lines).
const ROLE_OR_DB: &str = r"(?:\[unknown\]|[^@ \t\n\r\x0B\x0C,:\[\]]*)";

impl Prefix {
    /// Compiles a `log_line_prefix` template into a matcher.
    pub fn compile(template: &str) -> Result<Prefix, String> {
        let mut re = String::from("^");
        let mut optional_from: Option<usize> = None;
        let mut seen = std::collections::HashSet::new();
        let mut chars = template.chars().peekable();
        while let Some(c) = chars.next() {
            if c != '%' {
                re.push_str(&regex::escape(&c.to_string()));
                continue;
            }
            let Some(k) = chars.next() else { break };
            let (name, pat) = match k {
                'm' => ("ts", concat!(date_time!(), r"\.[0-9]{3}", zone!())),
                't' => ("ts", concat!(date_time!(), zone!())),
                'n' => ("epoch", r"[0-9]+\.[0-9]+"),
                'p' => ("pid", r"[0-9]+"),
                'P' => ("lpid", r"[0-9]*"),
                'u' => ("user", ROLE_OR_DB),
                'd' => ("db", ROLE_OR_DB),
                // `[unknown]` before the connection names one.
                'a' => ("app", r"(?:\[unknown\]|[^,\]]*?)"),
                'h' => ("host", r"(?:\[local\]|[^ \t\n\r\x0B\x0C,:()\]]*)"),
                'r' => (
                    "host",
                    r"(?:\[local\]|[^ \t\n\r\x0B\x0C,:()\]]*(?:\([0-9]+\))?)",
                ),
                'c' => ("session", r"[0-9a-f]+\.[0-9a-f]+"),
                'l' => ("line", r"[0-9]+"),
                's' => ("sstart", concat!(date_time!(), r"(?: [A-Za-z]+)?")),
                'v' => ("vxid", r"[0-9/-]*"),
                'x' => ("xid", r"[0-9]+"),
                'e' => ("sqlstate", r"[0-9A-Z]{5}"),
                'i' => ("tag", r"[^\]]*?"),
                'b' => ("btype", r"[a-z ]+?"),
                'Q' => ("qid", r"-?[0-9]+"),
                'q' => {
                    optional_from = Some(re.len());
                    continue;
                }
                '%' => {
                    re.push('%');
                    continue;
                }
                other => return Err(format!("unsupported log_line_prefix escape %{other}")),
            };
            if seen.insert(name) {
                re.push_str(&format!("(?P<{name}>{pat})"));
            } else {
                re.push_str(&format!("(?:{pat})"));
            }
        }
        if let Some(at) = optional_from {
            let tail = re.split_off(at);
            re.push_str(&format!("(?:{tail})?"));
        }
        // The rest of the line is what follows the match: capturing it made the
        // capturing engine walk the whole statement.
        let re = Regex::new(&re).map_err(|e| format!("bad log_line_prefix: {e}"))?;
        Ok(Prefix {
            template: template.to_string(),
            inferred: false,
            mixed: false,
            re,
        })
    }

    /// The values this prefix's escapes printed at the start of `text`, when it fits.
    pub(super) fn fields<'a>(&self, text: &'a str) -> Option<Fields<'a>> {
        let c = self.re.captures(text)?;
        let g = |n: &str| c.name(n).map(|m| m.as_str());
        Some(Fields {
            ts: g("ts"),
            epoch: g("epoch"),
            user: g("user"),
            db: g("db"),
            host: g("host"),
            app: g("app"),
            session: g("session"),
            pid: g("pid"),
            end: c.get(0).map_or(0, |m| m.end()),
        })
    }

    /// Whether this prefix, with a time in it, fits the line and a severity follows.
    pub(super) fn matches_line(&self, l: &str) -> bool {
        self.re.captures(l).is_some_and(|c| {
            (c.name("ts").is_some() || c.name("epoch").is_some())
                && c.get(0).is_some_and(|m| SEVERITY.is_match(&l[m.end()..]))
        })
    }
}

pub(super) static SEVERITY_ANYWHERE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b\p{Lu}[\p{Lu}\d]{1,24}:  ").expect("static regex"));

/// The prefix a file's first lines were written with: a common template when one fits
/// 80 % of them, else one read from the lines that does. When none fits that many — the
/// head spans a reload of `log_line_prefix`, or joins two servers' logs — the one that
/// fits most is taken, marked `mixed`, provided 80 % of the lines fit it or a prefix of
/// their own (`for_line`).
pub(super) fn best_prefix(head: &Head) -> Option<Prefix> {
    let lines: Vec<&str> = head
        .lines
        .iter()
        .copied()
        .filter(|l| !l.starts_with('\t') && SEVERITY_ANYWHERE.is_match(l))
        .take(40)
        .collect();
    if lines.is_empty() {
        return None;
    }
    let enough = |n: usize| n * 10 >= lines.len() * 8;
    // The first of the most-fitting candidates wins: common templates come first.
    let mut best: Option<(Prefix, usize)> = None;
    let consider = |best: &mut Option<(Prefix, usize)>, p: Prefix| {
        let n = lines.iter().filter(|l| p.matches_line(l)).count();
        if n > 0 && best.as_ref().is_none_or(|(_, b)| n > *b) {
            *best = Some((p, n));
        }
    };
    for p in known() {
        consider(&mut best, p.clone());
    }
    if best.as_ref().is_some_and(|(_, n)| enough(*n)) {
        return best.map(|(p, _)| p);
    }
    // A prefix of the deployment's own: the templates its lines are the output of.
    let mut tried = std::collections::BTreeSet::new();
    for l in &lines {
        if let Some((t, _)) = own(l) {
            if tried.insert(t.clone()) {
                if let Ok(mut p) = Prefix::compile(&t) {
                    p.inferred = true;
                    consider(&mut best, p);
                }
            }
        }
    }
    let (mut p, n) = best?;
    if enough(n) {
        return Some(p);
    }
    let fit = lines
        .iter()
        .filter(|l| p.matches_line(l) || for_line(l).is_some())
        .count();
    p.mixed = true;
    enough(fit).then_some(p)
}

/// The common templates, compiled once.
fn known() -> &'static [Prefix] {
    static KNOWN: LazyLock<Vec<Prefix>> = LazyLock::new(|| {
        KNOWN_PREFIXES
            .iter()
            .filter_map(|t| Prefix::compile(t).ok())
            .collect()
    });
    &KNOWN
}

/// The template a line's text before its severity is the output of, with the values
/// its escapes printed (`end` is where the severity starts).
fn own(line: &str) -> Option<(String, Fields<'_>)> {
    let m = SEVERITY_ANYWHERE.find(line)?;
    let postgres = POSTGRES_MESSAGE.is_match(&line[m.end()..]);
    crate::ingest::pg_infer::infer_for(&line[..m.start()], postgres)
}

/// Messages only PostgreSQL (and pgaudit) write, after the severity's two spaces and an
/// optional SQLSTATE: with one of them, a prefix of a time alone is PostgreSQL's.
static POSTGRES_MESSAGE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"^(?:[0-9A-Z]{5}: )?(?:AUDIT: (?:SESSION|OBJECT),|connection (?:received|authorized): ",
        r"|disconnection: session time: |password authentication failed for user ",
        r"|(?:statement|duration): |execute [^:]{1,64}: |database system (?:is|was) )"
    ))
    .expect("static regex")
});

/// The prefix a record was written with, for a record the file's prefix does not fit: a
/// common template that fits its first line, else the template its own prefix is the
/// output of; with the values the prefix holds. Nothing is compiled for a line: the
/// values of its own prefix are read as the template is, so a file of lines that each
/// have a prefix of their own costs no more than one that has one.
pub(super) fn for_line(rec: &str) -> Option<(Cow<'static, str>, Fields<'_>)> {
    let line = rec.lines().next()?;
    if let Some(p) = known().iter().find(|p| p.matches_line(line)) {
        return Some((Cow::Borrowed(p.template.as_str()), p.fields(rec)?));
    }
    own(line).map(|(t, f)| (Cow::Owned(t), f))
}
/// Whether a PostgreSQL message logged through syslog has a prefix without a time (the
/// documentation's advice, as syslog stamps its own): text before a severity, and no
/// time in it. Such a message takes the syslog header's time in front.
pub(super) fn timeless(msg: &str) -> bool {
    static TIME: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"[0-9]{4}-[0-9][0-9]-[0-9][0-9][ T][0-9][0-9]:[0-9][0-9]|[0-9]{9,11}\.[0-9]{3}")
            .expect("static regex")
    });
    let line = msg.lines().next().unwrap_or("");
    let Some(m) = SEVERITY_ANYWHERE.find(line) else {
        return false;
    };
    let before = &line[..m.start()];
    !before.contains(['{', '"']) && !TIME.is_match(before)
}
