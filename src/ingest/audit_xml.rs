//! MySQL audit logs in XML: the Percona `audit_log` plugin's default `OLD` format (one
//! attribute per line) and its `NEW` format (one element per line), and MySQL Enterprise
//! Audit's XML, which has the same two shapes. Records map as in `percona`.

use super::percona::{audit_event, AuditFields};
use super::{FileCtx, Framing, Head, Parsed, Parser};
use crate::model::SourceKind;
use std::borrow::Cow;

/// Percona / MySQL Enterprise audit log, XML.
pub struct AuditXml;

impl Parser for AuditXml {
    fn name(&self) -> &'static str {
        "mysql-audit-xml"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Db
    }
    fn detection(&self) -> &'static str {
        "<?xml …?> and <AUDIT> then <AUDIT_RECORD> elements (attributes or child elements)"
    }
    fn example(&self) -> &'static str {
        "<AUDIT_RECORD\n  NAME=\"Query\"\n  RECORD=\"1407_2024-03-01T08:00:00\"\n  TIMESTAMP=\"2024-03-05T14:23:10 UTC\"\n  COMMAND_CLASS=\"select\"\n  CONNECTION_ID=\"88\"\n  STATUS=\"0\"\n  SQLTEXT=\"SELECT email FROM customers\"\n  USER=\"svc[svc] @  [203.0.113.45]\"\n  IP=\"203.0.113.45\"\n  DB=\"orders\"\n/>"
    }
    fn framing(&self) -> Framing {
        Framing::Xml
    }
    fn sniff(&self, head: &Head) -> u8 {
        let t = head.text.trim_start_matches('\u{feff}').trim_start();
        if !head.text.contains("<AUDIT_RECORD") {
            0
        } else if t.starts_with("<?xml") || t.starts_with("<AUDIT>") {
            95
        } else if t.starts_with("<AUDIT_RECORD") {
            90
        } else {
            0
        }
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        let t = rec.trim();
        if t.is_empty() {
            return Parsed::Skip("blank line");
        }
        if t.starts_with("<?xml") {
            return Parsed::Skip("XML declaration");
        }
        if t == "<AUDIT>" || t == "</AUDIT>" {
            return Parsed::Skip("XML root element");
        }
        match fields(t) {
            Ok(f) => audit_event(self.name(), &f, ctx),
            Err(why) => Parsed::Reject(why),
        }
    }
}

/// The fields of one `<AUDIT_RECORD>`, names lower-cased and values unescaped.
fn fields(t: &str) -> Result<AuditFields<'_>, String> {
    let Some(body) = t.strip_prefix("<AUDIT_RECORD") else {
        return Err("not an AUDIT_RECORD element".into());
    };
    let mut out = Vec::with_capacity(16);
    if let Some(inner) = body.strip_prefix('>') {
        let inner = inner
            .strip_suffix("</AUDIT_RECORD>")
            .ok_or("record cut short: no </AUDIT_RECORD>")?;
        let mut rest = inner.trim_start();
        while !rest.is_empty() {
            let open = rest
                .strip_prefix('<')
                .ok_or_else(|| format!("text outside an element: {:?}", short(rest)))?;
            let close = open.find('>').ok_or("element cut short")?;
            let tag = &open[..close];
            let after = &open[close + 1..];
            if let Some(name) = tag.strip_suffix('/') {
                out.push((lower(name.trim()), Cow::Borrowed("")));
                rest = after.trim_start();
                continue;
            }
            let end_tag = format!("</{tag}>");
            let at = after
                .find(&end_tag)
                .ok_or_else(|| format!("<{}> has no closing tag", short(tag)))?;
            out.push((lower(tag), unescape(&after[..at])));
            rest = after[at + end_tag.len()..].trim_start();
        }
    } else {
        let inner = body
            .strip_suffix("/>")
            .ok_or("record cut short: no closing />")?;
        let mut rest = inner.trim_start();
        while !rest.is_empty() {
            let eq = rest
                .find('=')
                .ok_or_else(|| format!("attribute without a value: {:?}", short(rest)))?;
            let name = rest[..eq].trim();
            let value = rest[eq + 1..]
                .trim_start()
                .strip_prefix('"')
                .ok_or_else(|| format!("unquoted value of {}", short(name)))?;
            let end = value
                .find('"')
                .ok_or_else(|| format!("value of {} not closed", short(name)))?;
            out.push((lower(name), unescape(&value[..end])));
            rest = value[end + 1..].trim_start();
        }
    }
    Ok(AuditFields(out))
}

fn short(s: &str) -> String {
    crate::sanitize::shorten(s, 40)
}

fn lower(name: &str) -> Cow<'_, str> {
    if name.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// XML character references and the five predefined entities; anything else is kept as
/// written.
fn unescape(s: &str) -> Cow<'_, str> {
    if !s.contains('&') {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let tail = &rest[amp..];
        let semi = tail.find(';').filter(|&i| i <= 10);
        let ch = semi.and_then(|i| match &tail[1..i] {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            r => {
                let n = r.strip_prefix('#')?;
                let code = match n.strip_prefix(['x', 'X']) {
                    Some(h) => u32::from_str_radix(h, 16).ok()?,
                    None => n.parse().ok()?,
                };
                char::from_u32(code)
            }
        });
        match (ch, semi) {
            (Some(c), Some(i)) => {
                out.push(c);
                rest = &tail[i + 1..];
            }
            _ => {
                out.push('&');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Event, Outcome, StmtClass};

    fn ev(rec: &str) -> Event {
        match AuditXml.parse(rec, &FileCtx::default()) {
            Parsed::Event(e) => *e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn percona_old_format_with_escapes() {
        let e = ev("<AUDIT_RECORD\n  NAME=\"Query\"\n  RECORD=\"1407_2024-03-01T08:00:00\"\n  TIMESTAMP=\"2024-03-05T14:23:10 UTC\"\n  COMMAND_CLASS=\"update\"\n  CONNECTION_ID=\"88\"\n  STATUS=\"0\"\n  SQLTEXT=\"UPDATE loyalty_accounts SET balance = balance + 500&#10;WHERE account_id = 100231 AND note &lt;&gt; &quot;a &amp; b&quot;\"\n  USER=\"svc[svc] @  [203.0.113.45]\"\n  HOST=\"\"\n  OS_USER=\"\"\n  IP=\"203.0.113.45\"\n  DB=\"orders\"\n/>");
        assert_eq!(e.ts, 1_709_648_590_000_000);
        assert_eq!(
            e.statement.as_deref(),
            Some("UPDATE loyalty_accounts SET balance = balance + 500\nWHERE account_id = 100231 AND note <> \"a & b\"")
        );
        assert_eq!(e.stmt_class, Some(StmtClass::Write));
        assert_eq!(e.db_user.as_deref(), Some("svc"));
        assert_eq!(e.session_id.as_deref(), Some("conn:88"));
        assert_eq!(e.extra["record"], "1407_2024-03-01T08:00:00");
    }

    #[test]
    fn new_format_and_mysql_enterprise_elements() {
        let e = ev("<AUDIT_RECORD>\n  <NAME>Connect</NAME>\n  <RECORD>1406_2024-03-01T08:00:00</RECORD>\n  <TIMESTAMP>2024-03-05T14:22:01 UTC</TIMESTAMP>\n  <CONNECTION_ID>88</CONNECTION_ID>\n  <STATUS>1045</STATUS>\n  <USER>svc</USER>\n  <PRIV_USER>svc</PRIV_USER>\n  <OS_LOGIN></OS_LOGIN>\n  <PROXY_USER></PROXY_USER>\n  <HOST></HOST>\n  <IP>198.51.100.23</IP>\n  <DB>orders</DB>\n</AUDIT_RECORD>");
        assert_eq!(e.command.as_deref(), Some("connect"));
        assert_eq!(e.outcome, Outcome::Failure);
        assert_eq!(e.db_host.as_deref(), Some("198.51.100.23"));
        // MySQL Enterprise: RECORD_ID, self-closing empty elements, one space of indent.
        let e = ev(" <AUDIT_RECORD>\n  <TIMESTAMP>2024-03-05T14:23:10 UTC</TIMESTAMP>\n  <RECORD_ID>6_2024-03-01T08:00:00</RECORD_ID>\n  <NAME>Query</NAME>\n  <CONNECTION_ID>5</CONNECTION_ID>\n  <STATUS>0</STATUS>\n  <STATUS_CODE>0</STATUS_CODE>\n  <USER>root[root] @ localhost [127.0.0.1]</USER>\n  <OS_LOGIN/>\n  <HOST>localhost</HOST>\n  <IP>127.0.0.1</IP>\n  <COMMAND_CLASS>select</COMMAND_CLASS>\n  <SQLTEXT>SELECT * FROM customers</SQLTEXT>\n </AUDIT_RECORD>");
        assert_eq!(e.db_user.as_deref(), Some("root"));
        assert_eq!(e.command.as_deref(), Some("SELECT"));
        assert!(e.sql.as_ref().unwrap().whole_table_read);
        assert_eq!(e.extra["record"], "6_2024-03-01T08:00:00");
    }

    #[test]
    fn prolog_skipped_and_broken_records_rejected() {
        for (rec, skip) in [
            ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>", true),
            ("<AUDIT>", true),
            ("</AUDIT>", true),
            (
                "<AUDIT_RECORD\n  NAME=\"Query\"\n  TIMESTAMP=\"2024-03-05T14:2",
                false,
            ),
            (
                "<AUDIT_RECORD>\n  <NAME>Query</NAME>\n  <TIMESTAMP>2024",
                false,
            ),
            ("<AUDIT_RECORD NAME=Query />", false),
            ("<AUDIT_RECORD NAME=\"Query\" TIMESTAMP=\"soon\"/>", false),
            ("\u{1}\u{2}corrupt-00ff", false),
        ] {
            let got = AuditXml.parse(rec, &FileCtx::default());
            assert_eq!(matches!(got, Parsed::Skip(_)), skip, "{rec:?}: {got:?}");
            assert_eq!(matches!(got, Parsed::Reject(_)), !skip, "{rec:?}: {got:?}");
        }
        assert_eq!(unescape("a &bogus; &#x41;&#66; &"), "a &bogus; AB &");
    }
}
