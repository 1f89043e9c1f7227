//! The pgaudit `AUDIT:` message (CSV with pgaudit's own quoting, parameters CSV-quoted
//! again inside one field) and the statement analysis every DB format shares.

use super::FileCtx;
use crate::model::{Event, StmtClass};
use crate::sql::{analyze, Dialect};
use std::borrow::Cow;

/// Splits one CSV record (RFC 4180 quoting: `"` quotes, `""` escapes, newlines inside
/// quotes) into fields. Hand-written because building a `csv::Reader` per record costs
/// more than parsing it; fields borrow from the record unless they hold a `""` escape.
/// A quote opens a quoted part only at the start of a field; text after the closing
/// quote is kept as written. `None` when a quote is left open.
pub fn csv_split(s: &str) -> Option<Vec<Cow<'_, str>>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(32);
    let mut i = 0;
    loop {
        let (field, end) = if b.get(i) == Some(&b'"') {
            let mut owned: Option<String> = None;
            let mut seg = i + 1;
            let close = loop {
                let q = seg + memchr::memchr(b'"', &b[seg..])?;
                if b.get(q + 1) == Some(&b'"') {
                    owned.get_or_insert_with(String::new).push_str(&s[seg..=q]);
                    seg = q + 2;
                } else {
                    break q;
                }
            };
            let end = memchr::memchr(b',', &b[close + 1..]).map_or(b.len(), |c| close + 1 + c);
            let tail = &s[close + 1..end];
            let field = match owned {
                None if tail.is_empty() => Cow::Borrowed(&s[i + 1..close]),
                o => {
                    let mut o = o.unwrap_or_default();
                    o.push_str(&s[seg..close]);
                    o.push_str(tail);
                    Cow::Owned(o)
                }
            };
            (field, end)
        } else {
            let end = memchr::memchr(b',', &b[i..]).map_or(b.len(), |c| i + c);
            (Cow::Borrowed(&s[i..end]), end)
        };
        out.push(field);
        if end >= b.len() {
            return Some(out);
        }
        i = end + 1;
    }
}

/// Fills statement fields from a pgaudit message body (after `AUDIT: `).
pub fn apply_audit(e: &mut Event, body: &str, ctx: &FileCtx) -> Result<(), String> {
    let f = csv_split(body).ok_or("unparseable AUDIT CSV")?;
    if f.len() < 9 {
        return Err(format!(
            "AUDIT record has {} fields, expected 9 or 10",
            f.len()
        ));
    }
    e.extra.insert("audit_type", &*f[0]);
    e.extra.insert("statement_id", &*f[1]);
    e.extra.insert("substatement_id", &*f[2]);
    e.stmt_class = Some(match &*f[3] {
        "READ" => StmtClass::Read,
        "WRITE" => StmtClass::Write,
        "DDL" => StmtClass::Ddl,
        "ROLE" => StmtClass::Role,
        _ => StmtClass::Other,
    });
    e.extra.insert("audit_class", &*f[3]);
    e.command = Some(crate::model::text(&f[4]));
    if !f[6].is_empty() {
        e.object = Some(crate::model::text(&f[6]));
    }
    let stmt = &*f[7];
    // Exactly sized: a record keeps its parameters for the whole run.
    let params = match &*f[8] {
        "<not logged>" | "<none>" | "" => None,
        p => Some(match csv_split(p) {
            Some(ps) => ps.into_iter().map(Cow::into_owned).collect(),
            None => thin_vec::thin_vec![p.to_string()],
        }),
    };
    if let Some(rows) = f.get(9) {
        e.extra.insert("rows", &**rows);
    }
    e.params = params;
    if stmt == "<not logged>" || stmt == "<previously logged>" {
        e.extra.insert("statement_marker", stmt);
    } else {
        e.statement = Some(stmt.into());
    }
    apply_sql(e, Dialect::Postgres, ctx);
    // pgaudit's own class is authoritative over ours.
    Ok(())
}

/// Runs statement analysis on an event's statement and fills the derived fields.
pub fn apply_sql(e: &mut Event, dialect: Dialect, ctx: &FileCtx) {
    let Some(stmt) = e.statement.as_deref() else {
        return;
    };
    let params = e.params.as_deref().unwrap_or_default();
    let (class, facts) = analyze(stmt, params, dialect, &ctx.opts.vocab);
    if e.stmt_class.is_none() {
        e.stmt_class = Some(class);
    }
    if e.command.is_none() {
        e.command = crate::sql::command_word(stmt).map(|w| crate::model::text(&w));
    }
    if let Some(r) = &facts.request_id {
        e.request_id = Some(r.clone());
    }
    if let Some(a) = &facts.application {
        e.extra.insert("application", a.clone());
    }
    e.sql = Some(Box::new(facts));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::SourceKind;

    #[test]
    fn csv_split_quotes() {
        assert_eq!(
            csv_split(
                r#"a,"b,c","d""e",,"x
y""#
            )
            .unwrap(),
            vec!["a", "b,c", "d\"e", "", "x\ny"]
        );
        assert!(csv_split(r#"a,"open"#).is_none());
        assert_eq!(csv_split("").unwrap(), vec![""]);
        assert_eq!(
            csv_split(r#""ab"cd,e"f,"#).unwrap(),
            vec!["abcd", "e\"f", ""]
        );
        assert!(matches!(
            csv_split(r#""plain""#).unwrap()[0],
            Cow::Borrowed("plain")
        ));
    }

    /// The character-at-a-time splitter the byte scanner replaced, as the oracle.
    fn reference(s: &str) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut chars = s.chars().peekable();
        let (mut in_q, mut at_start) = (false, true);
        while let Some(c) = chars.next() {
            if in_q {
                if c == '"' {
                    if chars.peek() == Some(&'"') {
                        cur.push('"');
                        chars.next();
                    } else {
                        in_q = false;
                    }
                } else {
                    cur.push(c);
                }
            } else if c == '"' && at_start {
                in_q = true;
                at_start = false;
            } else if c == ',' {
                out.push(std::mem::take(&mut cur));
                at_start = true;
            } else {
                cur.push(c);
                at_start = false;
            }
        }
        (!in_q).then(|| {
            out.push(cur);
            out
        })
    }

    proptest::proptest! {
        #[test]
        fn csv_split_matches_reference(s in r#"[a",\n é]{0,40}"#) {
            let got = csv_split(&s).map(|v| v.into_iter().map(Cow::into_owned).collect::<Vec<_>>());
            proptest::prop_assert_eq!(got, reference(&s));
        }
    }

    #[test]
    fn audit_with_quoted_statement_and_params() {
        let mut e = Event::new(SourceKind::Db, "t");
        apply_audit(
            &mut e,
            r#"SESSION,5,1,READ,SELECT,TABLE,public.customers,"SELECT id, email FROM customers WHERE id = $1","100234""#,
            &FileCtx::default(),
        )
        .unwrap();
        assert_eq!(e.stmt_class, Some(StmtClass::Read));
        assert_eq!(e.object.as_deref(), Some("public.customers"));
        assert_eq!(e.params.as_deref(), Some(&["100234".to_string()][..]));
        assert_eq!(*e.sql.as_ref().unwrap().account_ids, ["100234"]);
    }

    #[test]
    fn markers() {
        let mut e = Event::new(SourceKind::Db, "t");
        apply_audit(
            &mut e,
            "SESSION,6,1,READ,SELECT,,,<previously logged>,<not logged>",
            &FileCtx::default(),
        )
        .unwrap();
        assert!(e.statement.is_none());
        assert_eq!(e.extra["statement_marker"], "<previously logged>");
        let mut e = Event::new(SourceKind::Db, "t");
        assert!(apply_audit(&mut e, "SESSION,1,1", &FileCtx::default()).is_err());
    }
}
