//! Statement skeletons: the text with its plain literals masked, so statements that differ
//! only in inline values (`WHERE phone = '+38067…'`, `SET balance = balance + 500`) share
//! one parse. Conservative by design: anything the scanner is not sure to read exactly
//! like the SQL tokenizer (comments, escapes, prefixed or dollar-quoted strings, numbers
//! glued to letters) makes it give up, and the statement keeps its own parse.

/// A masked literal, as written (no escapes: statements with escapes are not masked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lit<'a> {
    /// Digits, with at most one fraction.
    Num(&'a str),
    /// The content of a single-quoted string.
    Str(&'a str),
}

/// Marker of a masked literal in a skeleton; statements containing it are not masked, so
/// a skeleton never equals another statement's text.
const MARK: char = '\u{1}';

fn ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || b == b'@'
}

/// The skeleton of `text` and its masked literals in order, or `None` when the text has
/// something the scanner does not read with certainty.
pub fn skeleton(text: &str) -> Option<(String, Vec<Lit<'_>>)> {
    let b = text.as_bytes();
    if text.contains(MARK)
        || text.contains("--")
        || text.contains("/*")
        || text.contains('#')
        || text.contains('\\')
    {
        return None;
    }
    let mut out = String::with_capacity(text.len());
    let mut lits = Vec::new();
    let mut copied = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\'' => {
                if i > 0 && ident_byte(b[i - 1]) {
                    // E'…', N'…', X'…', B'…': prefixed literals read differently.
                    return None;
                }
                let len = memchr::memchr(b'\'', &b[i + 1..])?;
                let end = i + 1 + len;
                if b.get(end + 1) == Some(&b'\'') {
                    // A doubled quote escapes one.
                    return None;
                }
                out.push_str(&text[copied..i]);
                out.push(MARK);
                out.push('s');
                lits.push(Lit::Str(&text[i + 1..end]));
                i = end + 1;
                copied = i;
            }
            q @ (b'"' | b'`') => {
                // Quoted names (or MySQL double-quoted strings) stay in the skeleton.
                let len = memchr::memchr(q, &b[i + 1..])?;
                i += len + 2;
            }
            b'$' if b.get(i + 1).is_some_and(|c| !c.is_ascii_digit()) => {
                // Dollar quoting (`$$…$$`, `$tag$…$tag$`).
                return None;
            }
            c if c.is_ascii_digit() => {
                if i > 0 && (ident_byte(b[i - 1]) || b[i - 1] == b'.') {
                    // Part of a name (`t1`), a placeholder (`$1`) or a fraction.
                    while i < b.len() && ident_byte(b[i]) {
                        i += 1;
                    }
                    continue;
                }
                let st = i;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                if b.get(i).is_some_and(|&c| ident_byte(c) || c == b'.') {
                    // `1e5`, `0x1F`, `1.`: not a plain number.
                    return None;
                }
                out.push_str(&text[copied..st]);
                out.push(MARK);
                out.push('n');
                lits.push(Lit::Num(&text[st..i]));
                copied = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[copied..]);
    Some((out, lits))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_plain_literals_only() {
        let (s, l) = skeleton("SELECT id FROM t1 WHERE phone = '+380671' AND n > 5.25").unwrap();
        assert_eq!(s, "SELECT id FROM t1 WHERE phone = \u{1}s AND n > \u{1}n");
        assert_eq!(l, vec![Lit::Str("+380671"), Lit::Num("5.25")]);
        let (s, l) = skeleton("SELECT \"a'b\", `c'd` FROM x WHERE id = $1").unwrap();
        assert_eq!(s, "SELECT \"a'b\", `c'd` FROM x WHERE id = $1");
        assert!(l.is_empty());
        for unsure in [
            "SELECT 1 -- x",
            "SELECT 1 /* x */",
            "SELECT 'it''s'",
            "SELECT 'a\\'b'",
            "SELECT E'x'",
            "SELECT $$x$$",
            "SELECT 1e5",
            "SELECT 0x1F",
            "SELECT 'open",
            "SELECT \u{1}",
        ] {
            assert_eq!(skeleton(unsure), None, "{unsure}");
        }
    }
}
