//! The canonical form of a statement: the same statement as two log formats write it
//! (bound parameters beside the text, or the values inline; other spacing, comments or
//! quoting of names) reads as one string. Used to recognize one server's statements
//! written to several log destinations; never to analyze them.

/// Separates tokens of the canonical form.
const SEP: char = '\u{0}';
/// Starts a value token: a literal or a bound parameter, written without its quotes.
const VALUE: char = '\u{1}';

/// `text` as tokens: comments and spacing dropped, names and keywords in lower case,
/// quoted names unquoted, and every literal and placeholder (`$n`, `?`) as its value —
/// a placeholder takes its bound parameter when `params` has one. `'66'`, `66` and a
/// `$1` bound to `66` are the same value.
pub fn canonical(text: &str, params: &[String]) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    canonical_into(text, params, &mut out);
    out
}

/// `canonical`, appended to `out` (a buffer reused across records).
pub fn canonical_into(text: &str, params: &[String], out: &mut String) {
    let b = text.as_bytes();
    let start = out.len();
    let mut next_param = 0usize;
    let mut i = 0;
    let token = |out: &mut String| {
        if out.len() > start {
            out.push(SEP);
        }
    };
    // Whether the last token ends an operand (a value, a name, `)`): a `-` after one
    // subtracts; anywhere else it is a negative number's sign, part of its value, as a
    // bound parameter holds it (`VALUES (1, -1016)` and `$2` bound to `-1016`).
    let mut operand = false;
    while i < b.len() {
        let c = b[i];
        let was_operand = std::mem::replace(&mut operand, true);
        match c {
            _ if c.is_ascii_whitespace() => {
                operand = was_operand;
                i += 1;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                operand = was_operand;
                i = match text[i + 2..].find("*/") {
                    Some(n) => i + 2 + n + 2,
                    None => b.len(),
                };
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                operand = was_operand;
                i = memchr::memchr(b'\n', &b[i..]).map_or(b.len(), |n| i + n + 1);
            }
            b'\'' => {
                token(out);
                out.push(VALUE);
                i += 1;
                // Runs between escapes are copied whole.
                while i < b.len() {
                    let run = memchr::memchr2(b'\'', b'\\', &b[i..]).map_or(b.len(), |n| i + n);
                    out.push_str(&text[i..run]);
                    i = run;
                    match (b.get(i), b.get(i + 1)) {
                        (Some(b'\\'), Some(&n)) => {
                            push_char(out, text, i + 1);
                            i += 1 + char_len(n);
                        }
                        (Some(b'\\'), None) => i += 1,
                        (Some(b'\''), Some(b'\'')) => {
                            out.push('\'');
                            i += 2;
                        }
                        (Some(_), _) => {
                            i += 1;
                            break;
                        }
                        (None, _) => {}
                    }
                }
            }
            b'"' | b'`' => {
                token(out);
                let end = memchr::memchr(c, &b[i + 1..]).map_or(b.len(), |n| i + 1 + n);
                push_lower(out, &text[i + 1..end]);
                i = (end + 1).min(b.len());
            }
            b'$' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                let end = i + 1 + b[i + 1..].iter().take_while(|d| d.is_ascii_digit()).count();
                let n: usize = text[i + 1..end].parse().unwrap_or(0);
                token(out);
                match n.checked_sub(1).and_then(|k| params.get(k)) {
                    Some(p) => {
                        out.push(VALUE);
                        out.push_str(p);
                    }
                    None => out.push_str(&text[i..end]),
                }
                i = end;
            }
            b'?' => {
                token(out);
                match params.get(next_param) {
                    Some(p) => {
                        out.push(VALUE);
                        out.push_str(p);
                    }
                    None => out.push('?'),
                }
                next_param += 1;
                i += 1;
            }
            // A number, with its sign where no operand precedes the `-`.
            _ if c.is_ascii_digit()
                || (c == b'.' || (c == b'-' && !was_operand))
                    && b.get(i + 1).is_some_and(u8::is_ascii_digit) =>
            {
                let end = i
                    + 1
                    + b[i + 1..]
                        .iter()
                        .take_while(|d| d.is_ascii_alphanumeric() || **d == b'.')
                        .count();
                token(out);
                out.push(VALUE);
                out.push_str(&text[i..end]);
                i = end;
            }
            _ if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let end = i + b[i..]
                    .iter()
                    .take_while(|d| {
                        d.is_ascii_alphanumeric() || matches!(**d, b'_' | b'$') || **d >= 0x80
                    })
                    .count();
                token(out);
                push_lower(out, &text[i..end]);
                i = end;
            }
            _ => {
                operand = c == b')';
                token(out);
                push_char(out, text, i);
                i += char_len(c);
            }
        }
    }
}

/// Appends `s` in ASCII lower case.
fn push_lower(out: &mut String, s: &str) {
    let at = out.len();
    out.push_str(s);
    out.as_mut_str()[at..].make_ascii_lowercase();
}

/// Length of the UTF-8 character that starts with byte `b`.
fn char_len(b: u8) -> usize {
    match b {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

/// Appends the character at byte `i` of `text` (a character boundary).
fn push_char(out: &mut String, text: &str, i: usize) {
    if let Some(ch) = text.get(i..).and_then(|s| s.chars().next()) {
        out.push(ch);
    }
}

#[cfg(test)]
mod tests {
    use super::canonical;

    fn p(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn one_statement_as_formats_write_it_is_one_form() {
        let pg = canonical(
            "UPDATE bonus_accounts SET balance = balance + $1, updated_at = now() \
             WHERE account_id = $2 /*request_id='5ca9',application='loyalty-api'*/",
            &p(&["66", "101109"]),
        );
        let inline = canonical(
            "update  bonus_accounts set balance=balance+66, updated_at=now()\n\
             where `account_id` = '101109' -- trailing note",
            &[],
        );
        assert_eq!(pg, inline);
        let mysql = canonical(
            "UPDATE bonus_accounts SET balance = balance + ?, updated_at = now() WHERE account_id = ?",
            &p(&["66", "101109"]),
        );
        assert_eq!(pg, mysql);
        // Escapes of either dialect, and text outside ASCII.
        assert_eq!(
            canonical("INSERT INTO t VALUES ('it''s', 'café')", &[]),
            canonical("INSERT INTO t VALUES ('it\\'s', $1)", &p(&["café"]))
        );
    }

    #[test]
    fn other_values_or_words_are_other_forms() {
        let base = canonical("UPDATE a SET b = b + 66 WHERE id = 1", &[]);
        for other in [
            "UPDATE a SET b = b + 67 WHERE id = 1",
            "UPDATE a SET b = b - 66 WHERE id = 1",
            "UPDATE a SET b = b + 66 WHERE id = 11",
            "UPDATE a SET c = b + 66 WHERE id = 1",
            "UPDATE a SET b = b + $1 WHERE id = 1",
        ] {
            assert_ne!(canonical(other, &[]), base, "{other}");
        }
        // A negative value is one value, inline or bound; a subtraction is not one.
        assert_eq!(
            canonical("INSERT INTO l (a, d) VALUES (100030, -1016)", &[]),
            canonical(
                "INSERT INTO l (a, d) VALUES ($1, $2)",
                &p(&["100030", "-1016"])
            )
        );
        assert_eq!(
            canonical("UPDATE a SET b = b + -5 /* x */ WHERE id = 1", &[]),
            canonical("UPDATE a SET b = b + $1 WHERE id = 1", &p(&["-5"]))
        );
        assert_ne!(
            canonical("UPDATE a SET b = b -5 WHERE id = 1", &[]),
            canonical("UPDATE a SET b = b $1 WHERE id = 1", &p(&["-5"]))
        );
        assert_ne!(
            canonical("SELECT (a) -5", &[]),
            canonical("SELECT (a) $1", &p(&["-5"]))
        );
        // Unbound placeholders stay placeholders; broken text never panics.
        assert_eq!(canonical("SELECT $3", &p(&["x"])), "select\u{0}$3");
        for s in ["'unterminated", "\"x", "/* open", "$", "é'\\", "--"] {
            canonical(s, &[]);
        }
    }
}
