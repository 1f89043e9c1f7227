//! What a statement's text says besides its SQL: sqlcommenter tags (request id,
//! application) in its comments, and the markers of an injection attempt.

use super::tokens::Tok;
use std::borrow::Cow;

/// Values of a comment's `key='value'` pairs (sqlcommenter): (request id, application).
/// Where no request id is tagged, the trace id of OpenTelemetry's `traceparent` (the
/// tag sqlcommenter's own libraries write) stands for it: `correlate::traces` joins it
/// to the request that logged the same trace.
pub fn sqlcommenter(text: &str) -> (Option<Cow<'_, str>>, Option<Cow<'_, str>>) {
    let mut req = None;
    let mut app = None;
    let mut trace = None;
    let mut rest = text;
    while let Some(st) = find_pair(rest, b'/', b'*') {
        let after = &rest[st + 2..];
        let Some(en) = find_pair(after, b'*', b'/') else {
            break;
        };
        let body = &after[..en];
        for pair in body.split(',') {
            let Some((k, v)) = pair.split_once('=') else {
                continue;
            };
            // Keys compared without case and values decoded only for the keys we keep
            // (traceparent and the like are skipped without a copy).
            let k = k.trim();
            let is = |names: &[&str]| names.iter().any(|n| k.eq_ignore_ascii_case(n));
            let slot = if is(&[
                "request_id",
                "requestid",
                "request-id",
                "x_request_id",
                "req_id",
            ]) {
                &mut req
            } else if is(&["application", "app", "service", "application_name"]) {
                &mut app
            } else if is(&["traceparent"]) {
                let v = url_decode(v.trim().trim_matches('\''));
                trace = trace_id(&v).map(Cow::Owned).or(trace);
                continue;
            } else {
                continue;
            };
            let v = url_decode(v.trim().trim_matches('\''));
            if !v.is_empty() {
                *slot = Some(v);
            }
        }
        rest = &after[en + 2..];
    }
    (req.or(trace), app)
}

/// The trace id (32 lower-case hex digits) a trace header's value carries: W3C's
/// `traceparent` (`00-<trace id>-<span id>-01`), AWS X-Ray's id (`1-5759e988-bd86…`,
/// alone or as `Root=1-…;Parent=…;Sampled=1`: its time and random parts are the W3C trace
/// id), or the bare id.
pub fn trace_id(v: &str) -> Option<String> {
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let v = v.trim();
    let v = (v.split(';'))
        .find_map(|p| p.trim().strip_prefix("Root="))
        .unwrap_or(v);
    let parts: Vec<&str> = v.split('-').collect();
    let id = match parts[..] {
        [ver, id, span, flags] if hex(ver, 2) && hex(id, 32) && hex(span, 16) && hex(flags, 2) => {
            id.to_string()
        }
        ["1", time, rest] if hex(time, 8) && hex(rest, 24) => format!("{time}{rest}"),
        [id] if hex(id, 32) => id.to_string(),
        _ => return None,
    };
    (!id.bytes().all(|b| b == b'0')).then(|| id.to_ascii_lowercase())
}

/// Percent-decoding (`%2D` → `-`), as sqlcommenter and URLs use it; borrowed when
/// there is nothing to decode (every tagged statement's request id).
pub fn url_decode(s: &str) -> Cow<'_, str> {
    if !s.contains('%') {
        return Cow::Borrowed(s);
    }
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        // Bytes, not `&s[i + 1..i + 3]`: a `%` before a multi-byte character would
        // cut it.
        if b[i] == b'%' && i + 2 < b.len() {
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push(h << 4 | l);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    Cow::Owned(String::from_utf8_lossy(&out).into_owned())
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// Injection markers in a statement.
pub fn injection(text: &str, t: &[Tok]) -> Option<String> {
    // A tautology compared inside OR: `OR 1=1`, `OR 'a'='a'`, `OR 2>1`, `|| 1 LIKE 1`.
    if (1..t.len())
        .any(|k| super::filters::is_or(&t[k - 1]) && super::filters::always_true(&t[k..]))
    {
        return Some("tautology after OR".into());
    }
    // Markers are searched in an upper-case copy with finders built once (a searcher
    // built per call cost as much as the search); the first marker of the list wins.
    static MARKERS: [(&str, &str); 9] = [
        ("UNION SELECT", "UNION SELECT"),
        ("UNION ALL SELECT", "UNION SELECT"),
        ("PG_SLEEP(", "time-based probe"),
        ("SLEEP(", "time-based probe"),
        ("BENCHMARK(", "time-based probe"),
        ("INFORMATION_SCHEMA.", "catalog probing"),
        ("INTO OUTFILE", "file write"),
        ("INTO DUMPFILE", "file write"),
        ("LOAD_FILE(", "file read"),
    ];
    static FINDERS: std::sync::LazyLock<Vec<memchr::memmem::Finder<'static>>> =
        std::sync::LazyLock::new(|| {
            MARKERS
                .iter()
                .map(|m| memchr::memmem::Finder::new(m.0))
                .collect()
        });
    let up = text.to_ascii_uppercase();
    FINDERS
        .iter()
        .zip(MARKERS)
        .find(|(f, _)| f.find(up.as_bytes()).is_some())
        .map(|(_, m)| m.1.to_string())
        .or_else(|| token_marker(t).map(str::to_string))
        .or_else(|| error_payload(t).then(|| "error-based extraction".to_string()))
        .or_else(|| blind_payload(t).then(|| "blind extraction".to_string()))
}

/// Whether a statement tests a subquery's result a character at a time, as boolean-
/// blind payloads do: `ASCII(SUBSTRING((SELECT …), 1, 1)) > 64`, MySQL's
/// `ORD(MID((SELECT …), 1, 1))`.
fn blind_payload(t: &[Tok]) -> bool {
    let call = |i: usize, names: &[&str]| {
        matches!(t.get(i), Some(Tok::Word(_, u, false)) if names.contains(&&**u))
            && t.get(i + 1).is_some_and(|x| x.sym("("))
    };
    (0..t.len()).any(|i| {
        call(i, &["ASCII", "ORD", "UNICODE"])
            && call(i + 2, &["SUBSTR", "SUBSTRING", "MID"])
            && super::tokens::close(t, i + 3)
                .is_some_and(|end| t[i + 4..end].iter().any(|x| x.kw("SELECT")))
    })
}

/// Functions payloads call to make the server's error message carry what a subquery
/// read (MySQL's XPath functions, `GTID_SUBSET`): no application calls them on its
/// customers' rows.
const ERROR_FUNCTIONS: &[&str] = &["EXTRACTVALUE", "UPDATEXML", "GTID_SUBSET"];

/// Whether a statement asks the server to put a subquery's result in an error message:
/// one of [`ERROR_FUNCTIONS`] around a subquery, or a cast to a number of a string built
/// from a subquery (`CAST((CHR(113)||(SELECT …)) AS NUMERIC)`,
/// `CAST((SELECT string_agg(email, ',') FROM customers) AS int)`), which can only fail.
pub fn error_payload(t: &[Tok]) -> bool {
    let word = |i: usize| match t.get(i) {
        Some(Tok::Word(_, u, false)) => Some(&**u),
        _ => None,
    };
    (0..t.len()).any(|i| {
        let Some(w) = word(i) else { return false };
        let cast = matches!(w, "CAST" | "CONVERT");
        let error_fn = ERROR_FUNCTIONS.contains(&w);
        if !(cast || error_fn) || !t.get(i + 1).is_some_and(|x| x.sym("(")) {
            return false;
        }
        let Some(end) = super::tokens::close(t, i + 1) else {
            return false;
        };
        let arg = &t[i + 2..end];
        let select = arg.iter().any(|x| x.kw("SELECT"));
        if error_fn {
            return select;
        }
        let joins_strings = arg.iter().any(|x| {
            x.sym("||")
                || matches!(x, Tok::Word(_, u, false) if matches!(&**u,
                    "CHR" | "CONCAT" | "STRING_AGG" | "GROUP_CONCAT" | "ARRAY_TO_STRING"))
        });
        cast && select && joins_strings
    })
}

/// Whether a marker is of the server's own tools (COPY to and from files and
/// programs, file functions, links to other servers), which a DBA's session or a
/// routine job (a backup piping COPY to gzip) uses by design and only the
/// application's connection makes an injection.
pub fn server_tool(marker: &str) -> bool {
    matches!(
        marker,
        "program execution" | "server file read" | "server file write" | "outbound connection"
    )
}

/// Functions whose call reads or writes the server's files, or reaches another host.
/// Their markers, and COPY's, are the server's own tools: `correlate::detect` counts
/// them as injection only through the application's connection, as a DBA's session
/// uses them for imports, backups and links.
const SERVER_FUNCTIONS: &[(&str, &str)] = &[
    ("PG_READ_FILE", "server file read"),
    ("PG_READ_BINARY_FILE", "server file read"),
    ("PG_LS_DIR", "server file read"),
    ("LO_IMPORT", "server file read"),
    ("LO_EXPORT", "server file write"),
    ("DBLINK", "outbound connection"),
    ("DBLINK_EXEC", "outbound connection"),
    ("DBLINK_CONNECT", "outbound connection"),
    ("SLEEP", "time-based probe"),
    ("PG_SLEEP", "time-based probe"),
    ("BENCHMARK", "time-based probe"),
];

/// Markers the tokens show where the text hides them from a search (comments or line
/// breaks between words: `UNION/**/SELECT`, `SLEEP (5)`), and PostgreSQL's server-side
/// COPY: `TO PROGRAM` runs a command, `TO '/path'` writes a file, `FROM '/path'` reads
/// one (a client's `TO STDOUT` is neither).
fn token_marker(t: &[Tok]) -> Option<&'static str> {
    let word = |i: usize| match t.get(i) {
        Some(Tok::Word(_, u, false)) => Some(&**u),
        _ => None,
    };
    for i in 0..t.len() {
        match word(i) {
            Some("UNION") => {
                let mut j = i + 1;
                if matches!(word(j), Some("ALL" | "DISTINCT")) {
                    j += 1;
                }
                while t.get(j).is_some_and(|x| x.sym("(")) {
                    j += 1;
                }
                if word(j) == Some("SELECT") {
                    return Some("UNION SELECT");
                }
            }
            Some(u) if t.get(i + 1).is_some_and(|x| x.sym("(")) => {
                if let Some((_, m)) = SERVER_FUNCTIONS.iter().find(|(f, _)| *f == u) {
                    return Some(m);
                }
            }
            _ => {}
        }
    }
    if word(0) == Some("COPY") {
        // The COPY's own TO or FROM, outside the parentheses of its query.
        let mut depth = 0i32;
        let at = (1..t.len()).find(|&i| {
            depth += i32::from(t[i].sym("(")) - i32::from(t[i].sym(")"));
            depth == 0 && matches!(word(i), Some("TO" | "FROM"))
        })?;
        return match (word(at), t.get(at + 1)) {
            (_, Some(x)) if x.kw("PROGRAM") => Some("program execution"),
            (Some("TO"), Some(Tok::Str(_))) => Some("server file write"),
            (Some("FROM"), Some(Tok::Str(_))) => Some("server file read"),
            _ => None,
        };
    }
    None
}

/// Byte offset of the first `a` directly followed by `b` (comment delimiters).
pub fn find_pair(hay: &str, a: u8, b: u8) -> Option<usize> {
    let h = hay.as_bytes();
    memchr::memchr_iter(a, h).find(|&i| h.get(i + 1) == Some(&b))
}
