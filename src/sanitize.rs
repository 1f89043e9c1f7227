//! Escaping of attacker-controlled log text for the three places it is shown: the terminal
//! (control, bidi and zero-width characters), spreadsheets (formula injection) and HTML.
//! Every renderer goes through these functions; nothing else escapes.

/// True for characters that must never reach a terminal raw: C0/C1 controls, bidi
/// overrides and isolates, zero-width and other invisible formatting characters.
fn is_dangerous(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{061C}' | '\u{180E}')
}

/// Escapes text for the terminal: dangerous characters become `\u{…}` / `\n` / `\t`
/// so an escape sequence in a log line is shown, not executed.
pub fn terminal(s: &str) -> String {
    if !s.chars().any(is_dangerous) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_dangerous(c) => out.push_str(&format!("\\u{{{:04x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Neutralizes a CSV cell for spreadsheets: a cell starting with `=`, `+`, `-`, `@`, tab or
/// carriage return gets a leading `'` so no formula runs. Negative numbers are left alone
/// (`-42` is data, not a formula). Bidi/zero-width characters are made visible.
pub fn csv_cell(s: &str) -> String {
    csv_cell_cow(s).into_owned()
}

/// `csv_cell` without a copy when the cell needs no change (printable ASCII that does
/// not start a formula — nearly every cell).
pub fn csv_cell_cow(s: &str) -> std::borrow::Cow<'_, str> {
    let b = s.as_bytes();
    if b.iter().all(|&c| (0x20..0x7f).contains(&c))
        && !matches!(b.first(), Some(b'=' | b'+' | b'@' | b'-'))
    {
        return std::borrow::Cow::Borrowed(s);
    }
    std::borrow::Cow::Owned(csv_cell_slow(s))
}

fn csv_cell_slow(s: &str) -> String {
    let visible = if s
        .chars()
        .any(|c| is_dangerous(c) && !matches!(c, '\n' | '\t' | '\r'))
    {
        s.chars()
            .map(|c| {
                if is_dangerous(c) && !matches!(c, '\n' | '\t' | '\r') {
                    format!("\\u{{{:04x}}}", c as u32)
                } else {
                    c.to_string()
                }
            })
            .collect()
    } else {
        s.to_string()
    };
    match visible.chars().next() {
        Some('=' | '+' | '@' | '\t' | '\r') => format!("'{visible}"),
        // Only a plain number: Rust's float syntax also takes `-inf` and `-NaN`, which a
        // spreadsheet reads as a formula naming a cell or a function.
        Some('-')
            if visible.parse::<f64>().is_err()
                || !visible.bytes().all(|c| {
                    c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E')
                }) =>
        {
            format!("'{visible}")
        }
        _ => visible,
    }
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn html(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if is_dangerous(c) && c != '\n' && c != '\t' => {
                out.push_str(&format!("\\u{{{:04x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for a Markdown table cell or paragraph: pipes, backticks, HTML and
/// Markdown link/emphasis syntax lose their meaning; controls become visible.
pub fn markdown(s: &str) -> String {
    let t = terminal(s);
    let mut out = String::with_capacity(t.len() + 8);
    for c in t.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' | '`' | '*' | '_' | '[' | ']' | '#' | '\\' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Shortens text to at most `max` characters, marking the cut with `…`.
pub fn shorten(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes_ansi_and_bidi() {
        assert_eq!(terminal("ok"), "ok");
        assert_eq!(terminal("\x1b[31mred"), "\\u{001b}[31mred");
        assert_eq!(terminal("a\u{202E}b"), "a\\u{202e}b");
        assert_eq!(terminal("a\nb"), "a\\nb");
    }

    #[test]
    fn csv_formula_guard() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("-42"), "-42");
        assert_eq!(csv_cell("-4.2e3"), "-4.2e3");
        for f in ["-inf", "-NaN", "-infinity"] {
            assert_eq!(csv_cell(f), format!("'{f}"));
        }
        assert_eq!(csv_cell("-cmd|x"), "'-cmd|x");
        assert_eq!(csv_cell("\tx"), "'\tx");
        assert_eq!(csv_cell("plain"), "plain");
    }

    #[test]
    fn html_escapes_markup() {
        assert_eq!(
            html("<script>alert('x')</script>&"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
        assert_eq!(html("\"onerror"), "&quot;onerror");
    }

    #[test]
    fn markdown_neutralizes_tables_and_links() {
        assert_eq!(markdown("a|b [x](y)"), "a\\|b \\[x\\](y)");
        assert_eq!(markdown("<script>"), "&lt;script&gt;");
    }
}
