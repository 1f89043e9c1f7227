//! PostgreSQL's own statement logging (`log_statement`, `log_min_duration_statement`):
//! a simple-protocol `statement:`, an extended-protocol `execute <name>:` whose bound
//! values follow in a `DETAIL:  parameters:` line, and the `parse` and `bind` steps and
//! portal fetches that repeat a statement its execute logs.
//!
//! Applications that bind values (JDBC, node-postgres, pgx, psycopg 3, Rails) run every
//! statement through the extended protocol: with `log_statement = 'mod'` or `'all'` the
//! server writes it as `execute <unnamed>: UPDATE … SET points = points + $1 WHERE
//! account_id = $2`, and the values only in the detail.

use std::sync::LazyLock;

/// What a statement-logging message says.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Logged<'a> {
    /// A statement run.
    Run {
        /// Its text.
        sql: &'a str,
        /// The prepared statement (and `/portal`) it ran as, when named.
        name: Option<&'a str>,
        /// Its duration in ms, when the message was timed.
        duration_ms: Option<&'a str>,
        /// The setting that logged it.
        by: &'static str,
    },
    /// A message that repeats a statement another message counts, with the reason.
    Step(&'static str),
}

/// Reads a message of the statement-logging settings; `None` for any other message
/// (including a bare `duration: 0.120 ms`, which `log_duration` writes after a
/// statement `log_statement` already logged).
pub(super) fn logged(msg: &str) -> Option<Logged<'_>> {
    let (duration_ms, rest) = match msg.strip_prefix("duration: ") {
        Some(r) => {
            let (d, rest) = r.split_once(" ms  ")?;
            (Some(d), rest)
        }
        None => (None, msg),
    };
    let by = if duration_ms.is_some() {
        "log_min_duration_statement"
    } else {
        "log_statement"
    };
    if let Some(sql) = rest.strip_prefix("statement: ") {
        return Some(Logged::Run {
            sql,
            name: None,
            duration_ms,
            by,
        });
    }
    let (step, rest) = rest.split_once(' ')?;
    let step = match step {
        "execute" if rest.starts_with("fetch from ") => {
            return Some(Logged::Step(
                "fetch from an open portal: its statement counts at its execute",
            ))
        }
        "execute" => None,
        "parse" => Some("extended-protocol parse step: its statement counts at its execute"),
        "bind" => Some("extended-protocol bind step: its statement counts at its execute"),
        _ => return None,
    };
    let (name, sql) = rest.split_once(": ")?;
    // A name has no blanks (`<unnamed>`, `S_1`, `S_1/C_2`): anything else is another
    // message that starts with one of these words.
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    if let Some(why) = step {
        return Some(Logged::Step(why));
    }
    Some(Logged::Run {
        sql,
        name: (name != "<unnamed>").then_some(name),
        duration_ms,
        by,
    })
}

/// The bound values of a `parameters: $1 = '500', $2 = NULL` detail, by position (a
/// quote inside a value doubled, `NULL` unquoted, a value cut by
/// `log_parameter_max_length` ending in `...`); `None` for any other detail.
pub(super) fn parameters(detail: &str) -> Option<Vec<String>> {
    let mut s = detail.trim_end().strip_prefix("parameters: ")?;
    let mut out = Vec::new();
    loop {
        s = s.strip_prefix('$')?;
        let digits = s.bytes().take_while(u8::is_ascii_digit).count();
        if s[..digits].parse::<usize>().ok()? != out.len() + 1 {
            return None;
        }
        s = s[digits..].strip_prefix(" = ")?;
        if let Some(r) = s.strip_prefix("NULL") {
            out.push("NULL".to_string());
            s = r;
        } else {
            s = s.strip_prefix('\'')?;
            let mut v = String::new();
            loop {
                let i = s.find('\'')?;
                v.push_str(&s[..i]);
                s = &s[i + 1..];
                match s.strip_prefix('\'') {
                    Some(r) => {
                        v.push('\'');
                        s = r;
                    }
                    None => break,
                }
            }
            out.push(v);
        }
        if s.is_empty() {
            return Some(out);
        }
        s = s.strip_prefix(", ")?;
    }
}

/// Whether a stderr line holds a statement message whose bound values a `DETAIL:
/// parameters:` line may follow (an execute or a bind step, timed or not).
pub(super) fn takes_parameters(line: &[u8]) -> bool {
    EXECUTE.find(line).is_some() || BIND.find(line).is_some()
}

/// Whether a stderr line is the `DETAIL:  parameters:` line of the message before it.
pub(super) fn is_parameters(line: &[u8]) -> bool {
    PARAMETERS.find(line).is_some()
}

// Searchers built once: a search built per line cost as much as the search.
static EXECUTE: Finder = LazyLock::new(|| memchr::memmem::Finder::new(b"  execute "));
static BIND: Finder = LazyLock::new(|| memchr::memmem::Finder::new(b"  bind "));
static PARAMETERS: Finder =
    LazyLock::new(|| memchr::memmem::Finder::new(b"DETAIL:  parameters: $"));
type Finder = LazyLock<memchr::memmem::Finder<'static>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statement_logging_messages_are_read_and_repeats_named() {
        let run = |sql, name, duration_ms, by| {
            Some(Logged::Run {
                sql,
                name,
                duration_ms,
                by,
            })
        };
        assert_eq!(
            logged("execute <unnamed>: UPDATE t SET a = $1"),
            run("UPDATE t SET a = $1", None, None, "log_statement")
        );
        assert_eq!(
            logged("execute S_1/C_2: SELECT 1"),
            run("SELECT 1", Some("S_1/C_2"), None, "log_statement")
        );
        assert_eq!(
            logged("duration: 0.120 ms  execute S_3: DELETE FROM t"),
            run(
                "DELETE FROM t",
                Some("S_3"),
                Some("0.120"),
                "log_min_duration_statement"
            )
        );
        assert_eq!(
            logged("duration: 12.5 ms  statement: SELECT 2"),
            run("SELECT 2", None, Some("12.5"), "log_min_duration_statement")
        );
        assert_eq!(
            logged("statement: SELECT 3"),
            run("SELECT 3", None, None, "log_statement")
        );
        for repeat in [
            "duration: 0.050 ms  parse <unnamed>: SELECT 1",
            "bind S_1: SELECT 1",
            "execute fetch from S_1/C_2: SELECT 1",
        ] {
            assert!(matches!(logged(repeat), Some(Logged::Step(_))), "{repeat}");
        }
        for other in [
            "duration: 0.120 ms",
            "checkpoint starting: time",
            "parse error in file",
        ] {
            assert_eq!(logged(other), None, "{other}");
        }
    }

    #[test]
    fn parameters_are_read_by_position_with_quotes_and_nulls() {
        assert_eq!(
            parameters("parameters: $1 = '500', $2 = NULL, $3 = 'O''Brien, $4 = x'"),
            Some(vec!["500".into(), "NULL".into(), "O'Brien, $4 = x".into()])
        );
        assert_eq!(
            parameters("parameters: $1 = 'a\nb...'"),
            Some(vec!["a\nb...".into()])
        );
        for other in [
            "Key (id)=(5) already exists.",
            "parameters: $2 = '1'",
            "parameters: $1 = 'open",
            "parameters: $1 = '1' trailing",
        ] {
            assert_eq!(parameters(other), None, "{other}");
        }
    }
}
