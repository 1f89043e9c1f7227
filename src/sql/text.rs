//! What can be read off a statement's text without analysing it: its command word, its
//! string literals, its shape with the values masked, the class of rows its filter
//! names, and the text without sqlcommenter tags.

use super::{filters, markers, skeleton, tokens};
use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::Tokenizer;

/// The text without sqlcommenter-style comments (the cache key: request ids differ per call).
pub(super) fn without_tag_comments(text: &str) -> std::borrow::Cow<'_, str> {
    if markers::find_pair(text, b'/', b'*').is_none() {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(st) = markers::find_pair(rest, b'/', b'*') {
        // The comment's end is searched after its opening: in `/*/` the `*` opens it.
        let Some(en) = markers::find_pair(&rest[st + 2..], b'*', b'/') else {
            break;
        };
        let body = &rest[st + 2..st + 2 + en];
        out.push_str(&rest[..st]);
        if !body.contains('=') {
            out.push_str(&rest[st..st + 2 + en + 2]);
        }
        rest = &rest[st + 2 + en + 2..];
    }
    out.push_str(rest);
    std::borrow::Cow::Owned(out)
}

/// A statement's first word, upper-cased: its command (`UPDATE`), past comments
/// (`/* … */`, nested as PostgreSQL allows them; `-- …` and MySQL's `# …` to the line
/// end) and opening parentheses. ORMs put comments first: Hibernate's
/// `/* update com.example.Bonus */ update …`, a tool's `-- name: …` line.
pub fn command_word(text: &str) -> Option<String> {
    let mut s = text;
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(r) = s.strip_prefix("/*") {
            let b = r.as_bytes();
            let (mut depth, mut i) = (1, 0);
            while depth > 0 {
                match b.get(i..i + 2)? {
                    b"/*" => (depth, i) = (depth + 1, i + 2),
                    b"*/" => (depth, i) = (depth - 1, i + 2),
                    _ => i += 1,
                }
            }
            s = &r[i..];
        } else if s.starts_with("--") || s.starts_with('#') {
            s = s.split_once('\n')?.1;
        } else {
            break;
        }
    }
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    (end > 0).then(|| s[..end].to_ascii_uppercase())
}

/// A statement's text with its literals masked and its tag comments dropped: one shape
/// for every run of a query whatever its values (`WHERE store_id = 5`, `= 7`). None where
/// the text has what the scanner does not read with certainty (other comments, escapes).
pub fn masked(text: &str) -> Option<String> {
    skeleton::skeleton(&without_tag_comments(text)).map(|(s, _)| s)
}

/// The columns a read's filter pins where it pins only columns many rows share
/// (`SELECT … FROM customers WHERE status = 'active'` → `status`): the class of rows a
/// read counted as the table's returned. Empty for any other statement.
pub fn class_filter(text: &str) -> Vec<String> {
    filters::class_columns(&tokens::fallback_lex(&without_tag_comments(text)))
}

/// The single-quoted string literals of a statement, as written inline: a MySQL-family
/// audit log's `WHERE phone = '+38067…'`, where PostgreSQL logs the value as a bound
/// parameter. Comments (sqlcommenter tags) are not read.
pub fn string_literals(text: &str) -> Vec<String> {
    let text = without_tag_comments(text);
    if let Some((_, lits)) = skeleton::skeleton(&text) {
        return lits
            .into_iter()
            .filter_map(|l| match l {
                skeleton::Lit::Str(s) => Some(s.to_string()),
                skeleton::Lit::Num(_) => None,
            })
            .collect();
    }
    use sqlparser::tokenizer::Token;
    match Tokenizer::new(&MySqlDialect {}, &text).tokenize() {
        Ok(toks) => toks
            .into_iter()
            .filter_map(|t| match t {
                Token::SingleQuotedString(s)
                | Token::NationalStringLiteral(s)
                | Token::EscapedStringLiteral(s) => Some(s),
                _ => None,
            })
            .collect(),
        Err(_) => Vec::new(),
    }
}
