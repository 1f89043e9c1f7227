//! API Gateway access logs laid out by a `$context` template other than JSON: the CSV
//! presets of REST (11 columns) and HTTP APIs (8 columns), or any template given with
//! `--apigw-format`, compiled into a pattern of its literals with each variable matched
//! by what it can hold. A record's variables become the fields the JSON formats map.

use super::apigw::access_event;
use super::json::doc::{Json, Map};
use super::{line_score, FileCtx, Head, Parsed, Parser};
use crate::model::SourceKind;
use regex::Regex;
use std::borrow::Cow;
use std::sync::LazyLock;

/// A compiled access-log template.
#[derive(Debug)]
pub struct Template {
    /// Its variables (the names after `$context.`), in order.
    vars: Vec<String>,
    /// Each variable by the shape of its values (a status, numbers, the CLF time, a token
    /// kept off whitespace and off the next literal's first character, such as a CSV
    /// comma).
    strict: Regex,
    /// Tokens as any text: for values a shape did not foresee (a comma inside a path
    /// in CSV). Numbers, times and the literals still have to match.
    loose: Regex,
    /// Whether the template writes JSON. The JSON parser reads such lines; this one
    /// reads those JSON cannot, such as a user agent holding an unescaped quote.
    json: bool,
}

/// Part of a template.
enum Piece<'t> {
    Lit(&'t str),
    Var(&'t str),
}

/// What a variable holds.
#[derive(Clone, Copy)]
enum Shape {
    /// `dd/Mon/yyyy:HH:MM:SS ±hhmm`.
    ClfTime,
    /// An HTTP status: three digits.
    Status,
    /// Digits (an epoch, a length, a latency).
    Number,
    /// An HTTP method.
    Word,
    /// Free text: may hold spaces and separators (user agents, messages, route keys).
    Text,
    /// Anything else: one token.
    Token,
}

fn shape(var: &str) -> Shape {
    let last = var.rsplit('.').next().unwrap_or(var).to_ascii_lowercase();
    match last.as_str() {
        "requesttime" => Shape::ClfTime,
        "httpmethod" => Shape::Word,
        "requesttimeepoch" | "responselength" | "dataprocessed" => Shape::Number,
        l if l.ends_with("status") => Shape::Status,
        l if l.ends_with("latency") => Shape::Number,
        l if l.contains("agent")
            || l.contains("error")
            || l.contains("message")
            || l.ends_with("dn")
            || l.ends_with("pem")
            || l == "routekey" =>
        {
            Shape::Text
        }
        _ => Shape::Token,
    }
}

fn pieces(t: &str) -> Vec<Piece<'_>> {
    const MARK: &str = "$context.";
    let mut out = Vec::new();
    let mut rest = t;
    while let Some(i) = rest.find(MARK) {
        let after = &rest[i + MARK.len()..];
        let n = after
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
            .count();
        // A dot after a variable is the literal's, not the name's.
        let name = after[..n].trim_end_matches('.');
        if name.is_empty() {
            out.push(Piece::Lit(&rest[..i + MARK.len()]));
            rest = after;
            continue;
        }
        if i > 0 {
            out.push(Piece::Lit(&rest[..i]));
        }
        out.push(Piece::Var(name));
        rest = &after[name.len()..];
    }
    if !rest.is_empty() {
        out.push(Piece::Lit(rest));
    }
    out
}

/// A literal as a pattern: a run of spaces matches one or more (none next to JSON or
/// bracket punctuation), so a template copied with other spacing still fits.
fn literal(s: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            let start = i;
            while i < chars.len() && chars[i].is_whitespace() {
                i += 1;
            }
            let punct = |c: Option<&char>| c.is_some_and(|c| "{}[],:<>\"".contains(*c));
            // Next to a variable (the literal's edge) the run separates two values.
            let prev = start.checked_sub(1).and_then(|p| chars.get(p));
            let tight = punct(prev) || punct(chars.get(i));
            out.push_str(if tight { r"\s*" } else { r"\s+" });
            continue;
        }
        out.push_str(&regex::escape(&chars[i].to_string()));
        i += 1;
    }
    out
}

fn variable(var: &str, next: Option<char>, strict: bool) -> String {
    let p = match shape(var) {
        Shape::ClfTime => r"\d{2}/[A-Za-z]{3}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}|-".into(),
        Shape::Status => r"\d{3}|-".into(),
        Shape::Number => r"-?\d+(?:\.\d+)?|-".into(),
        Shape::Word => r"[A-Za-z]+|-".into(),
        Shape::Text => ".*?".into(),
        Shape::Token if !strict => ".*?".into(),
        Shape::Token => match next.filter(|c| !c.is_whitespace()) {
            Some(c) => format!(r"[^\s{}]*?", regex::escape(&c.to_string())),
            None => r"\S*?".into(),
        },
    };
    format!("({p})")
}

impl Template {
    /// Compiles a template such as `$context.identity.sourceIp,$context.requestTime,…`.
    pub fn compile(text: &str) -> Result<Template, String> {
        let text = text.trim();
        let ps = pieces(text);
        let vars: Vec<String> = ps
            .iter()
            .filter_map(|p| match p {
                Piece::Var(v) => Some(v.to_string()),
                Piece::Lit(_) => None,
            })
            .collect();
        if vars.is_empty() {
            return Err("no $context variable in the template".into());
        }
        let build = |strict: bool| -> Result<Regex, String> {
            let mut re = String::from("^");
            for (i, p) in ps.iter().enumerate() {
                match p {
                    Piece::Lit(s) => re.push_str(&literal(s)),
                    Piece::Var(v) => {
                        let next = match ps.get(i + 1) {
                            Some(Piece::Lit(l)) => l.chars().next(),
                            _ => None,
                        };
                        re.push_str(&variable(v, next, strict));
                    }
                }
            }
            re.push('$');
            Regex::new(&re).map_err(|e| format!("cannot compile the template: {e}"))
        };
        Ok(Template {
            vars,
            strict: build(true)?,
            loose: build(false)?,
            json: text.starts_with('{'),
        })
    }

    /// Whether a line has the template's layout.
    pub fn fits(&self, line: &str) -> bool {
        let l = line.trim_end_matches(['\r', '\n']);
        self.strict.is_match(l) || self.loose.is_match(l)
    }

    /// A line's variables as the record a JSON template of the same names would have
    /// written (`identity.sourceIp` inside `identity`), or `None` when it does not fit.
    pub fn record<'a>(&'a self, line: &'a str) -> Option<Json<'a>> {
        let l = line.trim_end_matches(['\r', '\n']);
        let c = self.strict.captures(l).or_else(|| self.loose.captures(l))?;
        let mut m = Map::default();
        for (name, val) in self.vars.iter().zip(c.iter().skip(1)) {
            if let Some(v) = val {
                m.put(name, Json::String(Cow::Borrowed(v.as_str())));
            }
        }
        Some(Json::Object(m))
    }
}

/// The CSV presets of the API Gateway console (no header row, no quoting).
static PRESETS: LazyLock<[Template; 2]> = LazyLock::new(|| {
    [
        "$context.identity.sourceIp,$context.identity.caller,$context.identity.user,\
         $context.requestTime,$context.httpMethod,$context.resourcePath,$context.protocol,\
         $context.status,$context.responseLength,$context.requestId,$context.extendedRequestId",
        "$context.identity.sourceIp,$context.requestTime,$context.httpMethod,\
         $context.routeKey,$context.protocol,$context.status,$context.responseLength,\
         $context.requestId",
    ]
    .map(|t| Template::compile(t).expect("preset templates compile"))
});

/// The templates a file may follow: the user's first, then the presets.
fn templates(user: Option<&Template>) -> impl Iterator<Item = &Template> {
    user.into_iter().chain(PRESETS.iter())
}

/// API Gateway access logs written by a non-JSON template.
pub struct ApigwTemplate;

impl Parser for ApigwTemplate {
    fn name(&self) -> &'static str {
        "apigw-template"
    }
    fn source(&self) -> SourceKind {
        SourceKind::Gateway
    }
    fn detection(&self) -> &'static str {
        "lines of the API Gateway CSV presets (REST: 11 columns, CLF time in the 4th; HTTP: 8, time in the 2nd) or of the template given with --apigw-format"
    }
    fn example(&self) -> &'static str {
        "203.0.113.45,-,-,05/Mar/2024:14:22:01 +0000,POST,/orders/{orderId}/refund,HTTP/1.1,200,312,6f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c,Tn7xKGHoIAMEb3Q="
    }
    fn sniff(&self, head: &Head) -> u8 {
        let user = head.opts.and_then(|o| o.apigw_template.as_deref());
        if let Some(t) = user {
            let s = line_score(head, |l| t.fits(l));
            // JSON lines are the JSON parser's; the template reads the ones it rejects.
            return if t.json { s.min(60) } else { s };
        }
        line_score(head, |l| PRESETS.iter().any(|t| t.fits(l)))
    }
    fn parse(&self, rec: &str, ctx: &FileCtx) -> Parsed {
        if rec.trim().is_empty() {
            return Parsed::Skip("blank line");
        }
        let user = ctx.opts.apigw_template.as_deref();
        match templates(user).find_map(|t| t.record(rec)) {
            Some(doc) => access_event(self.name(), &doc, ctx),
            None if user.is_some() => {
                Parsed::Reject("line does not fit the --apigw-format template".into())
            }
            None => Parsed::Reject("line does not fit an API Gateway CSV preset".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::{head_of, ParseOpts};
    use crate::model::Event;
    use std::sync::Arc;

    fn ctx(template: Option<&str>) -> FileCtx {
        FileCtx {
            opts: Arc::new(ParseOpts {
                apigw_template: template.map(|t| Arc::new(Template::compile(t).unwrap())),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn event(rec: &str, ctx: &FileCtx) -> Event {
        match ApigwTemplate.parse(rec, ctx) {
            Parsed::Event(e) => *e,
            other => panic!("{rec}: {other:?}"),
        }
    }

    #[test]
    fn rest_csv_preset() {
        let e = event("203.0.113.45,-,-,05/Mar/2024:14:22:01 +0000,POST,/orders/{orderId}/refund,HTTP/1.1,200,312,6f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c,Tn7xKGHoIAMEb3Q=", &ctx(None));
        assert_eq!(e.ts, 1_709_648_521_000_000);
        assert_eq!(e.client_ip.as_deref(), Some("203.0.113.45"));
        assert_eq!(e.method.as_deref(), Some("POST"));
        assert_eq!(e.route.as_deref(), Some("/orders/{orderId}/refund"));
        assert_eq!(e.status, Some(200));
        assert_eq!(e.bytes, Some(312));
        assert_eq!(
            e.request_id.as_deref(),
            Some("6f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c")
        );
        assert_eq!(
            e.extra.get("extendedRequestId").map(|t| t.as_str()),
            Some("Tn7xKGHoIAMEb3Q=")
        );
        assert!(e.user.is_none(), "`-` is no caller");
    }

    #[test]
    fn http_csv_preset_with_route_key() {
        let e = event(
            "198.51.100.23,05/Mar/2024:14:22:03 +0000,GET,GET /v2/users/{id},HTTP/1.1,403,23,Tn8AbHqLoAMEVxw=",
            &ctx(None),
        );
        assert_eq!(e.route.as_deref(), Some("/v2/users/{id}"));
        assert_eq!(e.method.as_deref(), Some("GET"));
        assert_eq!(e.status, Some(403));
        assert_eq!(e.request_id.as_deref(), Some("Tn8AbHqLoAMEVxw="));
    }

    #[test]
    fn a_user_template_with_a_user_agent_holding_commas() {
        let c = ctx(Some(
            "$context.identity.sourceIp,$context.requestTime,$context.httpMethod,$context.path,\
             $context.status,$context.identity.userAgent,$context.authorizer.claims.sub,$context.requestId",
        ));
        let e = event(
            "198.51.100.7,05/Mar/2024:14:22:03 +0000,GET,/v2/users/1007,200,Mozilla/5.0 (X11, Linux x86_64),1007,Tn8AbHqLoAMEVxw=",
            &c,
        );
        assert_eq!(
            e.user_agent.as_deref(),
            Some("Mozilla/5.0 (X11, Linux x86_64)")
        );
        assert_eq!(e.user.as_deref(), Some("1007"));
        assert_eq!(e.path.as_deref(), Some("/v2/users/1007"));
        assert_eq!(e.request_id.as_deref(), Some("Tn8AbHqLoAMEVxw="));
        // A comma in the path: the typed pattern fails, any-text still fits.
        let e = event(
            "198.51.100.7,05/Mar/2024:14:22:04 +0000,GET,/v2/users/1,2,200,curl/8.4.0,-,Tn8AbHqLoAMEVxx=",
            &c,
        );
        assert_eq!(e.path.as_deref(), Some("/v2/users/1,2"));
        assert_eq!(e.status, Some(200));
        assert!(matches!(
            ApigwTemplate.parse("198.51.100.7,05/Mar/2024:14:22:04 +0000,GET", &c),
            Parsed::Reject(_)
        ));
    }

    #[test]
    fn a_clf_like_user_template_with_epoch_and_spacing() {
        let c = ctx(Some(
            r#"$context.extendedRequestId $context.identity.sourceIp [$context.requestTimeEpoch] "$context.httpMethod $context.path $context.protocol" $context.status $context.responseLatency"#,
        ));
        let e = event(
            r#"Tn7xKGHoIAMEb3Q= 203.0.113.45  [1709648521123] "POST /prod/orders/8812/refund HTTP/1.1" 200 95"#,
            &c,
        );
        assert_eq!(e.ts, 1_709_648_521_123_000);
        assert_eq!(e.path.as_deref(), Some("/prod/orders/8812/refund"));
        assert_eq!(e.latency_ms, Some(95.0));
    }

    #[test]
    fn a_json_template_reads_a_line_json_cannot() {
        let t = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","path":"$context.path","status":"$context.status","userAgent":"$context.identity.userAgent"}"#;
        let c = ctx(Some(t));
        let line = r#"{"requestId":"r-1","ip":"203.0.113.9","requestTime":"05/Mar/2024:14:22:01 +0000","httpMethod":"GET","path":"/v1/x","status":"200","userAgent":"evil" agent"}"#;
        assert!(serde_json::from_str::<serde_json::Value>(line).is_err());
        let e = event(line, &c);
        assert_eq!(e.user_agent.as_deref(), Some(r#"evil" agent"#));
        let opts = ParseOpts {
            apigw_template: c.opts.apigw_template.clone(),
            ..Default::default()
        };
        let head = Head {
            opts: Some(&opts),
            ..head_of(line)
        };
        assert_eq!(
            ApigwTemplate.sniff(&head),
            60,
            "below the JSON parser's claim"
        );
    }

    const CUSTOM: &str = "$context.requestTimeEpoch $context.identity.sourceIp \"$context.identity.userAgent\" [$context.requestTime] $context.status,$context.path";

    proptest::proptest! {
        /// Arbitrary text, and a fitting line cut anywhere with junk after the cut, is
        /// an event or a rejection; no line panics the parser.
        #[test]
        fn arbitrary_and_cut_lines_never_panic(
            junk in "\\PC{0,120}",
            cut in 0usize..120,
        ) {
            let c = ctx(Some(CUSTOM));
            let good = "1709648521123 203.0.113.9 \"Mozilla/5.0 (X, \"Y\")\" [05/Mar/2024:14:22:01 +0000] 200,/v1/a,b";
            let at = good.char_indices().nth(cut).map_or(good.len(), |(i, _)| i);
            for line in [junk.clone(), format!("{}{junk}", &good[..at])] {
                let r = ApigwTemplate.parse(&line, &c);
                proptest::prop_assert!(matches!(r, Parsed::Event(_) | Parsed::Reject(_) | Parsed::Skip(_)));
            }
            let Parsed::Event(e) = ApigwTemplate.parse(good, &c) else { panic!() };
            proptest::prop_assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0 (X, \"Y\")"));
            proptest::prop_assert_eq!(e.path.as_deref(), Some("/v1/a,b"));
        }

        /// Any template compiles or is refused with a message.
        #[test]
        fn any_template_compiles_or_is_refused(
            t in "(\\$context\\.[a-zA-Z.]{0,12}|[ ,\\[\\]\"{}:a-z(*+?\\\\]{0,4}){0,12}",
        ) {
            if let Ok(t) = Template::compile(&t) {
                let _ = t.record("05/Mar/2024:14:22:01 +0000 200 x,y");
            }
        }
    }

    #[test]
    fn detection_by_the_presets_and_by_the_users_template() {
        let csv = "203.0.113.45,-,-,05/Mar/2024:14:22:01 +0000,POST,/orders/{orderId}/refund,HTTP/1.1,200,312,6f1c2a3b,Tn7xKGHoIAMEb3Q=\n";
        assert_eq!(ApigwTemplate.sniff(&head_of(csv)), 100);
        let nginx = r#"203.0.113.45 - - [05/Mar/2024:15:22:01 +0100] "POST /v1/orders HTTP/1.1" 200 12 "-" "curl/8""#;
        assert_eq!(ApigwTemplate.sniff(&head_of(nginx)), 0);
        assert!(Template::compile("no variables here").is_err());
    }
}
