//! API Gateway access logs written by the console's XML preset, or an XML template of
//! the user's own: `<request id="…"> <ip>…</ip> … </request>` on one line. API Gateway
//! substitutes values without escaping, so an element's text runs to its closing tag.

use super::apigw::access_event;
use super::json::doc::{Json, Map};
use super::{line_score, FileCtx, Head, Parsed, Parser};
use crate::model::SourceKind;
use std::borrow::Cow;

const OPEN: &str = "<request id=\"";
const CLOSE: &str = "</request>";

/// API Gateway XML access logs.
pub struct ApigwXml;

impl Parser for ApigwXml {
    fn name(&self) -> &'static str {
        "apigw-xml"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Gateway
    }
    fn detection(&self) -> &'static str {
        "lines starting <request id=\"…\"> with one element per $context variable"
    }
    fn example(&self) -> &'static str {
        r#"<request id="6f1c…"> <ip>203.0.113.45</ip> <requestTime>05/Mar/2024:14:22:01 +0000</requestTime> <httpMethod>POST</httpMethod> <resourcePath>/orders/{orderId}/refund</resourcePath> <status>200</status> </request>"#
    }
    fn sniff(&self, head: &Head) -> u8 {
        line_score(head, |l| l.trim_start().starts_with(OPEN))
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        let t = rec.trim();
        if t.is_empty() {
            return Parsed::Skip("blank line");
        }
        match record(t) {
            Ok(doc) => access_event(self.name(), &doc, ctx),
            Err(why) => Parsed::Reject(why),
        }
    }
}

/// A line as the record its elements name (the `id` attribute as `requestId`).
fn record(t: &str) -> Result<Json<'_>, String> {
    let rest = t
        .strip_prefix(OPEN)
        .ok_or("no <request id=\"…\"> at the start")?;
    let q = rest
        .find("\">")
        .ok_or("the request element's tag is not closed")?;
    let mut m = Map::default();
    m.put("requestId", Json::String(Cow::Borrowed(&rest[..q])));
    let rest = elements(&rest[q + 2..], &mut m)?;
    if !rest.trim_start().starts_with(CLOSE) {
        return Err("no </request> at the end: a cut or malformed line".into());
    }
    Ok(Json::Object(m))
}

/// Reads `<name>text</name>` elements (or elements nested in them) into `m` until a
/// closing tag or the end; returns what follows them.
fn elements<'a>(mut s: &'a str, m: &mut Map<'a>) -> Result<&'a str, String> {
    loop {
        let t = s.trim_start();
        if t.is_empty() || t.starts_with("</") {
            return Ok(t);
        }
        let inner = t
            .strip_prefix('<')
            .ok_or_else(|| format!("text outside an element: {:?}", clip(t)))?;
        let end = inner.find('>').ok_or("an element's tag is not closed")?;
        let (tag, empty) = match inner[..end].strip_suffix('/') {
            Some(t) => (t, true),
            None => (&inner[..end], false),
        };
        // The name, without attributes a template of one's own may give an element.
        let tag = tag.split_whitespace().next().unwrap_or("");
        if tag.is_empty()
            || !tag
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_.-:".contains(&b))
        {
            return Err(format!("bad element name {:?}", clip(tag)));
        }
        if empty {
            m.put(tag, Json::String(Cow::Borrowed("")));
            s = &inner[end + 1..];
            continue;
        }
        let body = &inner[end + 1..];
        let close = format!("</{tag}>");
        let stop = body
            .find(&close)
            .ok_or_else(|| format!("<{}> is not closed", clip(tag)))?;
        let text = &body[..stop];
        // Nested elements when the text is nothing else; a value that merely starts
        // with `<` (an attacker's user agent) stays text.
        let mut child = Map::default();
        let nested =
            text.trim_start().starts_with('<') && matches!(elements(text, &mut child), Ok(""));
        let value = if nested {
            Json::Object(child)
        } else {
            Json::String(Cow::Borrowed(text))
        };
        m.put(tag, value);
        s = &body[stop + close.len()..];
    }
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(40) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::head_of;
    use crate::model::Event;

    fn event(rec: &str) -> Event {
        match ApigwXml.parse(rec, &FileCtx::default()) {
            Parsed::Event(e) => *e,
            other => panic!("{rec}: {other:?}"),
        }
    }

    #[test]
    fn rest_xml_preset() {
        let e = event(
            r#"<request id="6f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c"> <extendedRequestId>Tn7xKGHoIAMEb3Q=</extendedRequestId> <ip>203.0.113.45</ip> <caller>-</caller> <user>-</user> <requestTime>05/Mar/2024:14:22:01 +0000</requestTime> <httpMethod>POST</httpMethod> <resourcePath>/orders/{orderId}/refund</resourcePath> <status>200</status> <protocol>HTTP/1.1</protocol> <responseLength>312</responseLength> </request>"#,
        );
        assert_eq!(e.ts, 1_709_648_521_000_000);
        assert_eq!(
            e.request_id.as_deref(),
            Some("6f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c")
        );
        assert_eq!(e.client_ip.as_deref(), Some("203.0.113.45"));
        assert_eq!(e.route.as_deref(), Some("/orders/{orderId}/refund"));
        assert_eq!((e.status, e.bytes), (Some(200), Some(312)));
        assert!(e.user.is_none());
        assert_eq!(
            e.extra.get("extendedRequestId").map(|t| t.as_str()),
            Some("Tn7xKGHoIAMEb3Q=")
        );
    }

    #[test]
    fn unescaped_values_nested_elements_and_broken_lines() {
        let e = event(
            r#"<request id="r-2"><ip>198.51.100.23</ip><requestTime>05/Mar/2024:14:22:03 +0000</requestTime><httpMethod>GET</httpMethod><path>/v2/users/1007</path><status>403</status><userAgent><script>alert(1)</script> & co</userAgent><authorizer><claims><sub>1007</sub></claims></authorizer></request>"#,
        );
        assert_eq!(
            e.user_agent.as_deref(),
            Some("<script>alert(1)</script> & co")
        );
        assert_eq!(e.user.as_deref(), Some("1007"));
        assert_eq!(e.path.as_deref(), Some("/v2/users/1007"));
        let e = event(
            r#"<request id="r-8"> <ip kind="peer">198.51.100.9</ip> <requestTime>05/Mar/2024:14:22:03 +0000</requestTime> <status>200</status> <caller/> </request>"#,
        );
        assert_eq!(e.client_ip.as_deref(), Some("198.51.100.9"));
        for bad in [
            r#"<request id="r-3"> <ip>198.51.100.23</ip> <requestTime>05/Mar/2024:14:22:03 +0000</requ"#,
            r#"<request id="r-4"> <ip>198.51.100.23</ip> <status>200</status>"#,
            r#"<request id="r-5"> junk <status>200</status> </request>"#,
            "<request id=\"r-6",
        ] {
            assert!(
                matches!(ApigwXml.parse(bad, &FileCtx::default()), Parsed::Reject(_)),
                "{bad}"
            );
        }
        // Well formed, but no time: rejected by the shared mapping.
        assert!(matches!(
            ApigwXml.parse(
                r#"<request id="r-7"> <status>200</status> </request>"#,
                &FileCtx::default()
            ),
            Parsed::Reject(_)
        ));
    }

    #[test]
    fn sniffed_by_the_request_element() {
        let h = head_of(
            "<request id=\"a\"> <ip>1.2.3.4</ip> </request>\n<request id=\"b\"> </request>\n",
        );
        assert_eq!(ApigwXml.sniff(&h), 100);
        assert_eq!(
            ApigwXml.sniff(&head_of("<AUDIT_RECORD NAME=\"Query\"/>\n")),
            0
        );
    }
}
