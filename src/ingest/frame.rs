//! Record framing: splits a decompressed byte stream into records — lines, lines with TAB
//! continuations (PostgreSQL stderr), quote-aware CSV records, or top-level JSON values —
//! block by block, so files of any size stream through bounded memory.

/// How a format's records are laid out in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// One record per line.
    Lines,
    /// A line starting with TAB continues the previous record, and so does the
    /// `DETAIL:  parameters:` line right after a PostgreSQL execute or bind message
    /// (both are one message of the server's, as its TAB lines are).
    Continuation,
    /// CloudWatch S3 export or `aws logs tail` lines: an indented line without the time prefix
    /// continues the previous record (a PostgreSQL statement of several lines); any other
    /// line is a record of its own.
    TimePrefixed,
    /// CSV: a newline inside double quotes continues the record.
    Csv,
    /// Top-level JSON values (objects); an enclosing array is transparent.
    Json,
    /// A CloudWatch Logs export: JSON values as `Json`, except that the events of a
    /// `{"events": [...], ...}` document (`aws logs filter-log-events` / `get-log-events`
    /// output, one document of any size) are records of their own; what follows the array
    /// is one record.
    CloudWatch,
    /// Syslog lines; a PostgreSQL chunk after the first (`[line-2]`, …) continues the
    /// previous record.
    Syslog,
    /// XML audit records (`<AUDIT_RECORD …/>` or `<AUDIT_RECORD>…</AUDIT_RECORD>`), one
    /// element per line or on one line; any other line is a record of its own.
    Xml,
}

/// Where a record sits in the stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    /// Start byte in the block.
    pub start: usize,
    /// End byte (exclusive, without the line terminator).
    pub end: usize,
    /// 1-based line of the first byte.
    pub line: u64,
}

/// Stateful framer: feed blocks, get spans; keeps the line counter across blocks.
#[derive(Debug)]
pub struct Framer {
    framing: Framing,
    /// Line number of the first byte of the next block.
    pub next_line: u64,
    /// Inside the events array of a CloudWatch document.
    in_events: bool,
}

/// Whether a value opens a CloudWatch events document (`{"events": [`): the bytes to its
/// first event, `Some(None)` when the buffer ends too soon to tell.
fn events_opening(b: &[u8]) -> Option<Option<usize>> {
    const WANT: [&[u8]; 4] = [b"{", b"\"events\"", b":", b"["];
    let mut i = 0;
    for (k, want) in WANT.iter().enumerate() {
        if k > 0 {
            while b.get(i).is_some_and(|c| c.is_ascii_whitespace()) {
                i += 1;
            }
        }
        let have = &b[i.min(b.len())..];
        if have.len() < want.len() {
            return want.starts_with(have).then_some(None);
        }
        if !have.starts_with(want) {
            return None;
        }
        i += want.len();
    }
    Some(Some(i))
}

impl Framer {
    /// A framer for a framing.
    pub fn new(framing: Framing) -> Framer {
        Framer {
            framing,
            next_line: 1,
            in_events: false,
        }
    }

    /// Splits `buf` into complete records. Returns the spans and how many bytes were
    /// consumed; the rest must be carried into the next call. With `eof`, everything is
    /// consumed (a final record without a newline is still a record).
    pub fn split(&mut self, buf: &[u8], eof: bool) -> (Vec<Span>, usize) {
        let (spans, used) = match self.framing {
            Framing::Lines => self.lines(buf, eof),
            Framing::Continuation => self.continuation(buf, eof),
            Framing::Csv => self.csv(buf, eof),
            Framing::TimePrefixed => self.grouped(buf, eof, |l, open| {
                let continues = open
                    && l.starts_with(b"\t") | l.starts_with(b" ")
                    && !super::envelope::s3_prefixed(l);
                (!continues, false)
            }),
            Framing::Json => self.json(buf, eof, false),
            Framing::CloudWatch => self.json(buf, eof, true),
            Framing::Xml => self.xml(buf, eof),
            Framing::Syslog => self.grouped(buf, eof, |l, open| {
                let cont = open && std::str::from_utf8(l).is_ok_and(super::syslog::continues);
                (!cont, false)
            }),
        };
        (spans, used)
    }

    fn lines(&mut self, buf: &[u8], eof: bool) -> (Vec<Span>, usize) {
        let mut spans = Vec::with_capacity(buf.len() / 200 + 1);
        let mut pos = 0;
        for nl in memchr::memchr_iter(b'\n', buf) {
            spans.push(Span {
                start: pos,
                end: trim_cr(buf, pos, nl),
                line: self.next_line,
            });
            self.next_line += 1;
            pos = nl + 1;
        }
        if eof && pos < buf.len() {
            spans.push(Span {
                start: pos,
                end: trim_cr(buf, pos, buf.len()),
                line: self.next_line,
            });
            self.next_line += 1;
            pos = buf.len();
        }
        (spans, pos)
    }

    fn continuation(&mut self, buf: &[u8], eof: bool) -> (Vec<Span>, usize) {
        // Whether the open record is a statement a `DETAIL:  parameters:` line may follow.
        let mut takes = false;
        self.grouped(buf, eof, |l, open| {
            if open && l.first() == Some(&b'\t') {
                return (false, false);
            }
            if open && takes && super::pg_statement::is_parameters(l) {
                takes = false;
                return (false, false);
            }
            takes = super::pg_statement::takes_parameters(l);
            (true, false)
        })
    }

    fn xml(&mut self, buf: &[u8], eof: bool) -> (Vec<Span>, usize) {
        // The marker that closes the open record.
        let mut close: &[u8] = b"";
        self.grouped(buf, eof, |l, open| {
            let t = l.trim_ascii();
            let starts = xml_record_end(t);
            // A record cut short (no closing marker) ends where the next one starts, or at
            // a line of the root element.
            if open && starts.is_none() && !t.starts_with(b"</AUDIT>") {
                return (false, t.ends_with(close));
            }
            match starts {
                Some(c) => {
                    close = c;
                    (true, t.ends_with(c))
                }
                None => (true, true),
            }
        })
    }

    /// Groups lines into records. `step(line, open)` says whether the line starts a
    /// record (ending the open one) and whether the record is complete after it; a
    /// record still open at the end of a block waits for the next block.
    fn grouped(
        &mut self,
        buf: &[u8],
        eof: bool,
        mut step: impl FnMut(&[u8], bool) -> (bool, bool),
    ) -> (Vec<Span>, usize) {
        let mut spans = Vec::new();
        let mut pos = 0;
        let mut line = self.next_line;
        let mut open: Option<Span> = None;
        // Where the records not yet complete begin.
        let mut committed = (0, self.next_line);
        loop {
            let nl = memchr::memchr(b'\n', &buf[pos..]).map(|i| pos + i);
            let end = match nl {
                Some(e) => e,
                None if eof && pos < buf.len() => buf.len(),
                None => break,
            };
            let (starts, done) = step(&buf[pos..end], open.is_some());
            let this_end = trim_cr(buf, pos, end);
            match open.as_mut() {
                Some(sp) if !starts => sp.end = this_end,
                _ => {
                    if let Some(sp) = open.take() {
                        spans.push(sp);
                        committed = (pos, line);
                    }
                    open = Some(Span {
                        start: pos,
                        end: this_end,
                        line,
                    });
                }
            }
            line += 1;
            pos = (end + 1).min(buf.len());
            if done {
                if let Some(sp) = open.take() {
                    spans.push(sp);
                }
                committed = (pos, line);
            }
            if nl.is_none() {
                break;
            }
        }
        if eof {
            if let Some(sp) = open.take() {
                spans.push(sp);
            }
            self.next_line = line;
            return (spans, buf.len());
        }
        self.next_line = committed.1;
        (spans, committed.0)
    }

    fn csv(&mut self, buf: &[u8], eof: bool) -> (Vec<Span>, usize) {
        let mut spans = Vec::new();
        let mut start = 0;
        let mut start_line = self.next_line;
        let mut line = self.next_line;
        let mut in_q = false;
        let mut i = 0;
        while let Some(off) = memchr::memchr2(b'"', b'\n', &buf[i..]) {
            let j = i + off;
            if buf[j] == b'"' {
                // A quote opens a quoted field only where a field starts (after a comma,
                // at the record's start, or right after the quote that closed the field
                // before: an escaped `""`); elsewhere it is a literal, as a broken line's
                // stray quote is, and does not swallow the records after it.
                if in_q {
                    in_q = false;
                } else if j == start || matches!(buf[j - 1], b',' | b'"' | b'\n') {
                    in_q = true;
                }
            } else {
                line += 1;
                if !in_q {
                    spans.push(Span {
                        start,
                        end: trim_cr(buf, start, j),
                        line: start_line,
                    });
                    start = j + 1;
                    start_line = line;
                }
            }
            i = j + 1;
        }
        if eof {
            if start < buf.len() {
                spans.push(Span {
                    start,
                    end: trim_cr(buf, start, buf.len()),
                    line: start_line,
                });
                line += 1;
            }
            self.next_line = line;
            return (spans, buf.len());
        }
        self.next_line = start_line;
        (spans, start)
    }

    fn json(&mut self, buf: &[u8], eof: bool, cloudwatch: bool) -> (Vec<Span>, usize) {
        let mut spans = Vec::new();
        let mut line = self.next_line;
        let mut i = 0;
        let mut committed = 0;
        let mut committed_line = line;
        'outer: while i < buf.len() {
            if cloudwatch && self.in_events && buf[i] == b']' {
                // The events array closes: the rest of its document is one record (to the
                // end of the file when the document is cut short).
                let end = match close_of_object(&buf[i + 1..]) {
                    Some(o) => i + 1 + o + 1,
                    None if eof => buf.len(),
                    None => break,
                };
                spans.push(Span {
                    start: i,
                    end: trim_cr(buf, i, end),
                    line,
                });
                line += memchr::memchr_iter(b'\n', &buf[i..end]).count() as u64;
                self.in_events = false;
                i = end;
                committed = i;
                committed_line = line;
                continue;
            }
            if cloudwatch && !self.in_events && buf[i] == b'{' {
                match events_opening(&buf[i..]) {
                    Some(Some(len)) => {
                        line += memchr::memchr_iter(b'\n', &buf[i..i + len]).count() as u64;
                        self.in_events = true;
                        i += len;
                        committed = i;
                        committed_line = line;
                        continue;
                    }
                    Some(None) if !eof => break,
                    _ => {}
                }
            }
            // Skip separators between values: whitespace, array brackets, commas.
            match buf[i] {
                b'\n' => {
                    line += 1;
                    i += 1;
                    committed = i;
                    committed_line = line;
                    continue;
                }
                b' ' | b'\t' | b'\r' | b',' | b'[' | b']' => {
                    i += 1;
                    committed = i;
                    committed_line = line;
                    continue;
                }
                _ => {}
            }
            let start = i;
            let start_line = line;
            if buf[i] != b'{' {
                // Not an object: take the rest of the line as one (bad) record.
                let end = memchr::memchr(b'\n', &buf[i..]).map(|o| i + o);
                match end {
                    Some(e) => {
                        spans.push(Span {
                            start,
                            end: trim_cr(buf, start, e),
                            line: start_line,
                        });
                        i = e;
                        committed = i;
                        committed_line = line;
                        continue;
                    }
                    None if eof => {
                        spans.push(Span {
                            start,
                            end: buf.len(),
                            line: start_line,
                        });
                        i = buf.len();
                        committed = i;
                        break;
                    }
                    None => break,
                }
            }
            let mut depth = 0i32;
            let mut in_s = false;
            let mut esc = false;
            let mut j = i;
            let mut l = line;
            // Where a value that never closes is cut: the first line inside it that opens
            // an object no deeper than it (the next record after a broken one).
            let indent = indent_before(buf, start);
            let mut cut: Option<(usize, u64)> = None;
            let mut closed_by_array = None;
            while j < buf.len() {
                let c = buf[j];
                if c == b'\n' {
                    l += 1;
                    if cut.is_none() && !in_s && opens_record(&buf[j + 1..], indent) {
                        cut = Some((j, l - 1));
                    }
                    if in_s {
                        // A raw newline in a string is invalid JSON: end the record here.
                        spans.push(Span {
                            start,
                            end: trim_cr(buf, start, j),
                            line: start_line,
                        });
                        i = j;
                        committed = j;
                        committed_line = line.max(l - 1);
                        line = l - 1;
                        continue 'outer;
                    }
                } else if in_s {
                    if esc {
                        esc = false;
                    } else if c == b'\\' {
                        esc = true;
                    } else if c == b'"' {
                        in_s = false;
                    } else {
                        // Most of a record is string content: jump to the next byte that
                        // can end or escape the string (or end the line).
                        match memchr::memchr3(b'"', b'\\', b'\n', &buf[j..]) {
                            Some(o) => j += o,
                            None => j = buf.len(),
                        }
                        continue;
                    }
                } else if c == b'"' {
                    in_s = true;
                } else if c == b'{' || c == b'[' {
                    depth += 1;
                } else if c == b'}' || c == b']' {
                    depth -= 1;
                    if depth == 0 && c == b']' {
                        // An object closed by `]`: the array around a record that never
                        // closed. The record ends where the next one opens, or here.
                        closed_by_array = Some((j, l));
                        break;
                    }
                    if depth == 0 {
                        spans.push(Span {
                            start,
                            end: j + 1,
                            line: start_line,
                        });
                        i = j + 1;
                        line = l;
                        committed = i;
                        committed_line = line;
                        continue 'outer;
                    }
                }
                j += 1;
            }
            // Unterminated value: cut where a record seems to start, once the array's end,
            // the end of the file or a megabyte of it says it will not close; else all of
            // it at the end of the file.
            let end = match closed_by_array {
                Some(here) => Some(cut.unwrap_or(here)),
                None => cut.filter(|_| eof || j - start >= RESYNC_AFTER),
            };
            if let Some((at, at_line)) = end {
                spans.push(Span {
                    start,
                    end: trim_cr(buf, start, at),
                    line: start_line,
                });
                i = at;
                line = at_line;
                committed = at;
                committed_line = line;
                continue 'outer;
            }
            if eof {
                spans.push(Span {
                    start,
                    end: buf.len(),
                    line: start_line,
                });
                line = l;
                committed = buf.len();
                committed_line = line;
            }
            break;
        }
        if eof {
            // Count remaining newlines in trailing separators.
            self.next_line = committed_line
                + memchr::memchr_iter(b'\n', &buf[committed.min(buf.len())..]).count() as u64;
            return (spans, buf.len());
        }
        self.next_line = committed_line;
        (spans, committed)
    }
}

/// How far a JSON value that has not closed is read before it is cut at a line that
/// opens the next record: no audit record comes near it.
const RESYNC_AFTER: usize = 1 << 20;

/// Spaces and tabs before `start` on its line, if nothing else is before it there and
/// the line starts in `buf`. Read backwards over the blanks only: searching back for
/// the line's start cost a scan of the line per value, quadratic in a CloudWatch
/// export of one line (30 s where 0.8 s).
fn indent_before(buf: &[u8], start: usize) -> Option<usize> {
    let n = buf[..start]
        .iter()
        .rev()
        .take_while(|c| matches!(c, b' ' | b'\t'))
        .count();
    (start > n && buf[start - n - 1] == b'\n').then_some(n)
}

/// Whether a line opens an object (`{` after spaces and tabs) no deeper than `indent`
/// (any depth when the value's own is not known).
fn opens_record(line: &[u8], indent: Option<usize>) -> bool {
    let n = line
        .iter()
        .take_while(|c| matches!(c, b' ' | b'\t'))
        .count();
    line.get(n) == Some(&b'{') && indent.is_none_or(|d| n <= d)
}

/// Where the object that encloses `b` closes: the offset of its `}`, strings skipped.
fn close_of_object(b: &[u8]) -> Option<usize> {
    let (mut depth, mut in_s, mut esc) = (0i32, false, false);
    for (k, &c) in b.iter().enumerate() {
        if in_s {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_s = false,
                _ => {}
            }
            continue;
        }
        match c {
            b'"' => in_s = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' => {
                if depth == 0 {
                    return Some(k);
                }
                depth -= 1;
            }
            _ => {}
        }
    }
    None
}

/// Where an XML audit record that starts on this (trimmed) line ends: `/>` for the
/// attribute form, `</AUDIT_RECORD>` for the element form; `None` if no record starts.
fn xml_record_end(t: &[u8]) -> Option<&'static [u8]> {
    let rest = t.strip_prefix(b"<AUDIT_RECORD")?;
    match rest.first() {
        Some(b'>') => Some(b"</AUDIT_RECORD>"),
        None | Some(b' ' | b'\t' | b'\r' | b'/') => Some(b"/>"),
        _ => None,
    }
}

fn trim_cr(buf: &[u8], start: usize, end: usize) -> usize {
    if end > start && buf[end - 1] == b'\r' {
        end - 1
    } else {
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(f: Framing, s: &str, block: usize) -> Vec<(String, u64)> {
        let mut fr = Framer::new(f);
        let b = s.as_bytes();
        let mut carry: Vec<u8> = Vec::new();
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            let end = (pos + block).min(b.len());
            carry.extend_from_slice(&b[pos..end]);
            pos = end;
            let eof = pos == b.len();
            let (spans, used) = fr.split(&carry, eof);
            for sp in spans {
                out.push((
                    String::from_utf8_lossy(&carry[sp.start..sp.end]).into_owned(),
                    sp.line,
                ));
            }
            carry.drain(..used);
            if eof {
                break;
            }
        }
        out
    }

    #[test]
    fn lines_across_blocks() {
        for bs in [1, 3, 100] {
            let r = all(Framing::Lines, "a\r\nbb\n\nccc", bs);
            assert_eq!(
                r,
                vec![
                    ("a".into(), 1),
                    ("bb".into(), 2),
                    ("".into(), 3),
                    ("ccc".into(), 4)
                ]
            );
        }
    }

    #[test]
    fn continuation_joins_tab_lines() {
        for bs in [1, 5, 100] {
            let r = all(Framing::Continuation, "x1\n\tx2\ny\n\ty2\n\ty3\nz\n", bs);
            assert_eq!(
                r,
                vec![
                    ("x1\n\tx2".into(), 1),
                    ("y\n\ty2\n\ty3".into(), 3),
                    ("z".into(), 6)
                ]
            );
        }
    }

    #[test]
    fn continuation_joins_the_parameters_of_an_execute_only() {
        let text = "t LOG:  execute <unnamed>: SELECT $1\n\tFROM x\nt DETAIL:  parameters: $1 = '1'\n\t2'\nt DETAIL:  parameters: $1 = '3'\nt LOG:  statement: SELECT 1\nt DETAIL:  parameters: $1 = '4'\n";
        for bs in [1, 9, 100] {
            let r = all(Framing::Continuation, text, bs);
            let got: Vec<u64> = r.iter().map(|(_, l)| *l).collect();
            // The execute, its TAB line and its detail (with the detail's own TAB line);
            // a second detail and a detail after a simple statement stand alone.
            assert_eq!(got, vec![1, 5, 6, 7], "block size {bs}");
            assert!(r[0].0.ends_with("$1 = '1'\n\t2'"));
        }
    }

    #[test]
    fn a_cloudwatch_document_s_events_are_records_of_their_own() {
        let doc = "{\n    \"events\": [\n        {\n            \"timestamp\": 1,\n            \"message\": \"a ] }\"\n        },\n        {\"timestamp\": 2, \"message\": \"b\"}\n    ],\n    \"searchedLogStreams\": [{\"logStreamName\": \"s\"}],\n    \"nextToken\": \"x}\"\n}\n{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[{\"message\":\"c\"}]}";
        for bs in [1, 7, 1000] {
            let r = all(Framing::CloudWatch, doc, bs);
            let got: Vec<(&str, u64)> = r.iter().map(|(s, l)| (s.as_str(), *l)).collect();
            assert_eq!(
                got,
                vec![
                    (
                        "{\n            \"timestamp\": 1,\n            \"message\": \"a ] }\"\n        }",
                        3
                    ),
                    ("{\"timestamp\": 2, \"message\": \"b\"}", 7),
                    (
                        "],\n    \"searchedLogStreams\": [{\"logStreamName\": \"s\"}],\n    \"nextToken\": \"x}\"\n}",
                        8
                    ),
                    (
                        "{\"messageType\":\"DATA_MESSAGE\",\"logEvents\":[{\"message\":\"c\"}]}",
                        12
                    ),
                ],
                "block size {bs}"
            );
            // Plain JSON framing keeps the document whole.
            assert_eq!(all(Framing::Json, doc, bs).len(), 2);
        }
        assert_eq!(events_opening(b"{ \"ev"), Some(None));
        assert_eq!(events_opening(b"{\"eventsX\": ["), None);
        assert_eq!(events_opening(b"{\"events\":\n ["), Some(Some(13)));
    }

    #[test]
    fn time_prefixed_lines_carry_their_unprefixed_followers() {
        let text =
            "\torphan\n2025-11-04T09:59:01.006Z a\n\tb\n  c\nd\n2025-11-04T09:59:02.006Z e\n";
        for bs in [1, 9, 100] {
            let r = all(Framing::TimePrefixed, text, bs);
            assert_eq!(
                r,
                vec![
                    ("\torphan".into(), 1),
                    ("2025-11-04T09:59:01.006Z a\n\tb\n  c".into(), 2),
                    ("d".into(), 5),
                    ("2025-11-04T09:59:02.006Z e".into(), 6)
                ],
                "block size {bs}"
            );
        }
    }

    #[test]
    fn xml_records_both_forms_and_cut_ones() {
        let text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<AUDIT>\n<AUDIT_RECORD\n  NAME=\"Query\"\n/>\n<AUDIT_RECORD>\n  <OS_LOGIN/>\n  <NAME>Quit</NAME>\n</AUDIT_RECORD>\n<AUDIT_RECORD NAME=\"x\"/>\n<AUDIT_RECORD\n  NAME=\"cut\"\n<AUDIT_RECORD>\n  <NAME>open</NAME>\n</AUDIT>\n";
        for bs in [1, 7, 1000] {
            let r = all(Framing::Xml, text, bs);
            let got: Vec<(&str, u64)> = r.iter().map(|(s, l)| (s.as_str(), *l)).collect();
            assert_eq!(
                got,
                vec![
                    ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", 1),
                    ("<AUDIT>", 2),
                    ("<AUDIT_RECORD\n  NAME=\"Query\"\n/>", 3),
                    (
                        "<AUDIT_RECORD>\n  <OS_LOGIN/>\n  <NAME>Quit</NAME>\n</AUDIT_RECORD>",
                        6
                    ),
                    ("<AUDIT_RECORD NAME=\"x\"/>", 10),
                    ("<AUDIT_RECORD\n  NAME=\"cut\"", 11),
                    ("<AUDIT_RECORD>\n  <NAME>open</NAME>", 13),
                    ("</AUDIT>", 15),
                ],
                "block size {bs}"
            );
        }
    }

    #[test]
    fn a_stray_quote_inside_a_field_opens_nothing() {
        for bs in [1, 3, 64] {
            let r = all(
                Framing::Csv,
                "\x01 garbage {\"cut\": \"mid\na,\"b\nc\",\"x\"\"y\"\nd,e\n",
                bs,
            );
            assert_eq!(r.len(), 3, "{r:?}");
            assert_eq!(r[1], ("a,\"b\nc\",\"x\"\"y\"".to_string(), 2));
        }
    }

    #[test]
    fn csv_quoted_newlines() {
        for bs in [1, 4, 100] {
            let r = all(Framing::Csv, "a,\"b\nc\"\nd,e\n", bs);
            assert_eq!(r, vec![("a,\"b\nc\"".into(), 1), ("d,e".into(), 3)]);
        }
    }

    #[test]
    fn a_json_value_that_never_closes_is_cut_where_the_next_record_opens() {
        for bs in [1, 7, 1000] {
            // One record per line: the broken one ends at its line, the rest are read.
            let r = all(
                Framing::Json,
                "[\n{\"broken\": {\"a\":1},\n{\"b\":2},\n{\"c\":3}\n]\n",
                bs,
            );
            assert_eq!(
                r,
                vec![
                    ("{\"broken\": {\"a\":1},".into(), 2),
                    ("{\"b\":2}".into(), 3),
                    ("{\"c\":3}".into(), 4)
                ]
            );
            // Pretty-printed: cut at the next line that opens an object.
            let r = all(
                Framing::Json,
                "[\n  {\n    \"x\": {\n  {\n    \"b\": 2\n  }\n]\n",
                bs,
            );
            assert_eq!(
                r,
                vec![
                    ("{\n    \"x\": {".into(), 2),
                    ("{\n    \"b\": 2\n  }".into(), 4)
                ]
            );
            // A value that closes is never cut, whatever lines it holds.
            let r = all(Framing::Json, "{\"a\": [\n{\"c\": 1}\n]}\n{\"d\":1}\n", bs);
            assert_eq!(
                r,
                vec![
                    ("{\"a\": [\n{\"c\": 1}\n]}".into(), 1),
                    ("{\"d\":1}".into(), 4)
                ]
            );
        }
    }

    #[test]
    fn json_values_in_array_and_concatenated() {
        for bs in [1, 7, 1000] {
            let r = all(
                Framing::Json,
                "[\n{\"a\":\"}\"},\n{\"b\":\n {\"c\":1}}\n",
                bs,
            );
            assert_eq!(
                r,
                vec![
                    ("{\"a\":\"}\"}".into(), 2),
                    ("{\"b\":\n {\"c\":1}}".into(), 3)
                ]
            );
            let r = all(Framing::Json, "{\"x\":1}{\"y\":2}", bs);
            assert_eq!(r.len(), 2);
        }
    }
}
