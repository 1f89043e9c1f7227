//! The database's schema (`--schema FILE`): the routines' parameters and the tables'
//! columns a schema dump gives (`pg_dump --schema-only`, `mysqldump --no-data
//! --routines`), so that calls by position and inserts without a column list are read
//! by their names. Read-only, and not evidence: no event comes from it.

use crate::error::Error;
use crate::sql::definitions::{self, Definition};
use crate::sql::{Dialect, Vocab};
use std::path::Path;

/// A definition and where it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Given {
    /// The routine or table.
    pub def: Definition,
    /// Where: `schema.sql:12`.
    pub at: String,
}

/// Reads the definitions of a schema dump. A statement that defines nothing by position
/// (a view, an index, a grant) is passed over.
pub fn load(path: &Path, vocab: &Vocab) -> Result<Vec<Given>, Error> {
    let bytes = std::fs::read(path).map_err(|e| Error::Io {
        path: path.to_path_buf(),
        source: e,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    Ok(read(&text, &path.display().to_string(), vocab))
}

/// The definitions of a dump's text.
pub fn read(text: &str, name: &str, vocab: &Vocab) -> Vec<Given> {
    let dialect = dialect_of(text);
    statements(text, dialect == Dialect::MySql)
        .into_iter()
        .filter_map(|(line, stmt)| {
            let def = definitions::definition(stmt, dialect, vocab)?;
            Some(Given {
                def,
                at: format!("{name}:{line}"),
            })
        })
        .collect()
}

/// MySQL's dump (backquoted names, `ENGINE=`, `DELIMITER`), else PostgreSQL's.
fn dialect_of(text: &str) -> Dialect {
    let mysql = text.contains("ENGINE=")
        || text.lines().any(is_delimiter)
        || text.contains("CREATE TABLE `");
    if mysql {
        Dialect::MySql
    } else {
        Dialect::Postgres
    }
}

fn is_delimiter(line: &str) -> bool {
    let l = line.trim_start().as_bytes();
    l.len() > 10 && l[..10].eq_ignore_ascii_case(b"DELIMITER ")
}

/// The statements of a dump with the line each starts on: ended by `;` outside quotes,
/// dollar quotes and comments, or by the delimiter a `DELIMITER` line sets (mysqldump
/// writes routines between `DELIMITER ;;` and `DELIMITER ;`). A backslash escapes in
/// MySQL's strings only (PostgreSQL's standard strings keep it).
fn statements(text: &str, escapes: bool) -> Vec<(usize, &str)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut delim: &str = ";";
    let (mut start, mut start_line, mut line) = (0usize, 1usize, 1usize);
    let (mut i, mut at_line_start) = (0usize, true);
    while i < b.len() {
        if at_line_start {
            let end = text[i..].find('\n').map_or(b.len(), |n| i + n);
            let l = text[i..end].trim();
            if is_delimiter(l) {
                let d = l[10..].trim();
                if !d.is_empty() {
                    delim = d;
                }
                push(&mut out, text, start, i, start_line);
                (i, start, start_line) = (end, end, line);
                continue;
            }
        }
        at_line_start = false;
        let c = b[i];
        // Every index it is called with follows an ASCII byte: a char boundary.
        let skip_to = |from: usize, pat: &str| text[from..].find(pat).map_or(b.len(), |n| from + n);
        let next = match c {
            b'\n' => {
                at_line_start = true;
                i + 1
            }
            b'-' if b.get(i + 1) == Some(&b'-') => skip_to(i, "\n"),
            b'/' if b.get(i + 1) == Some(&b'*') => skip_to(i + 2, "*/") + 2,
            b'\'' | b'"' | b'`' => quoted(b, i, escapes),
            b'$' => match dollar_tag(&text[i..]) {
                Some(tag) => skip_to(i + tag.len(), tag) + tag.len(),
                None => i + 1,
            },
            _ if b[i..].starts_with(delim.as_bytes()) => {
                push(&mut out, text, start, i, start_line);
                start = i + delim.len();
                start_line = line;
                i + delim.len()
            }
            _ => i + 1,
        }
        .min(b.len());
        line += b[i..next].iter().filter(|&&x| x == b'\n').count();
        i = next;
    }
    push(&mut out, text, start, b.len(), start_line);
    out
}

fn push<'a>(out: &mut Vec<(usize, &'a str)>, text: &'a str, from: usize, to: usize, line: usize) {
    let s = text.get(from..to).unwrap_or_default();
    let lead = s.len() - s.trim_start().len();
    let skipped = s[..lead].bytes().filter(|&x| x == b'\n').count();
    if !s.trim().is_empty() {
        out.push((line + skipped, s.trim()));
    }
}

/// The end of a quoted run starting at `i` (a doubled quote escapes, and a backslash
/// where `escapes`).
fn quoted(b: &[u8], i: usize, escapes: bool) -> usize {
    let q = b[i];
    let mut k = i + 1;
    while k < b.len() {
        if escapes && b[k] == b'\\' {
            k += 2;
        } else if b[k] == q {
            if b.get(k + 1) == Some(&q) {
                k += 2;
            } else {
                return k + 1;
            }
        } else {
            k += 1;
        }
    }
    b.len()
}

/// A dollar-quote tag opening at the text's start (`$$`, `$body$`).
fn dollar_tag(s: &str) -> Option<&str> {
    let end = s[1..].find('$')? + 2;
    let tag = &s[..end];
    tag[1..end - 1]
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'_')
        .then_some(tag)
        .filter(|t| !t[1..t.len() - 1].starts_with(|c: char| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PG_DUMP: &str = "--\n-- PostgreSQL database dump\n--\n\nSET statement_timeout = 0;\n\
        SELECT pg_catalog.set_config('search_path', '', false);\n\n\
        CREATE FUNCTION public.fx(a bigint, b integer) RETURNS void\n    LANGUAGE plpgsql\n    \
        AS $_$\nBEGIN\n  UPDATE public.bonus_accounts SET balance = balance - b WHERE account_id = a;\n\
        END;\n$_$;\n\nALTER FUNCTION public.fx(a bigint, b integer) OWNER TO app;\n\n\
        CREATE TABLE public.bonus_ledger (\n    id bigint NOT NULL,\n    account_id bigint,\n    \
        points integer,\n    reason text DEFAULT 'x;y'::text,\n    CONSTRAINT ok CHECK (points <> 0)\n);\n\n\
        CREATE INDEX ix ON public.bonus_ledger USING btree (account_id);\n";

    #[test]
    fn a_pg_dump_gives_its_routines_and_tables_with_their_lines() {
        let got = read(PG_DUMP, "schema.sql", &Vocab::default());
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].def.name(), "fx");
        assert_eq!(got[0].def.fields(), ["account_id", "balance"]);
        assert_eq!(got[0].at, "schema.sql:8");
        assert_eq!(got[1].def.name(), "bonus_ledger");
        assert_eq!(
            got[1].def.fields(),
            ["id", "account_id", "points", "reason"]
        );
        assert_eq!(got[1].at, "schema.sql:18");
        // PostgreSQL's standard strings keep a backslash: the quote after it ends them.
        let got = read(
            "CREATE TABLE a (p text DEFAULT 'C:\\');\nCREATE TABLE b (q int);",
            "s",
            &Vocab::default(),
        );
        assert_eq!(got.len(), 2, "{got:?}");
    }

    #[test]
    fn a_mysqldump_s_routines_between_delimiters_are_read_whole() {
        let dump = "/*!40101 SET NAMES utf8mb4 */;\nCREATE TABLE `points_ledger` (\n  `id` int NOT \
            NULL AUTO_INCREMENT,\n  `member_id` int NOT NULL,\n  `delta` int NOT NULL,\n  PRIMARY \
            KEY (`id`)\n) ENGINE=InnoDB;\nDELIMITER ;;\nCREATE DEFINER=`app`@`%` PROCEDURE `adj`(IN \
            a INT, IN b INT)\nBEGIN\n  UPDATE wallets SET points = points + b WHERE member_id = a;\n  \
            INSERT INTO points_ledger VALUES (NULL, a, b);\nEND ;;\nDELIMITER ;\n";
        let got = read(dump, "d.sql", &Vocab::default());
        let names: Vec<(&str, Vec<&str>)> =
            got.iter().map(|g| (g.def.name(), g.def.fields())).collect();
        assert_eq!(
            names,
            [
                ("points_ledger", vec!["id", "member_id", "delta"]),
                ("adj", vec!["member_id", "points"]),
            ]
        );
        assert_eq!(got[1].at, "d.sql:9");
    }

    proptest::proptest! {
        #[test]
        fn any_text_splits_without_panic(s in "[a-zA-Z$;'\"`#/*\\-\n ()_]{0,80}") {
            let _ = read(&s, "x", &Vocab::default());
            let _ = read(&format!("DELIMITER ;;\n{s}"), "x", &Vocab::default());
        }
    }
}
