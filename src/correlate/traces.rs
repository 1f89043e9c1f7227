//! Statements tagged with a trace rather than a request id: sqlcommenter's own libraries
//! write OpenTelemetry's `traceparent`, and the gateway logs the trace in a field of its
//! own (API Gateway's `xrayTraceId`, a `traceparent` or `trace_id` an nginx or Envoy
//! format adds). Each such statement takes the request id of the request that logged its
//! trace, so that every later join by request id holds it.

use crate::model::{Event, SourceKind, Text};
use foldhash::{HashMap, HashMapExt};

/// Whether an `extra` key names a trace (`xrayTraceId`, `traceparent`, `trace_id`,
/// `x_amzn_trace_id`, `otel_trace_id`).
fn names_trace(key: &str) -> bool {
    (key.as_bytes().windows(5)).any(|w| w.eq_ignore_ascii_case(b"trace"))
}

/// Gives each database statement whose request id is a trace id (`sql::trace_id`) the
/// request id of the first gateway request that logged that trace. Returns how many.
pub fn resolve(ev: &mut [Box<Event>]) -> usize {
    let traced = |e: &Event| {
        e.kind() == SourceKind::Db
            && e.request_id
                .as_deref()
                .is_some_and(|r| r.len() == 32 && r.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    if !ev.iter().any(|e| traced(e)) {
        return 0;
    }
    let mut request: HashMap<String, Text> = HashMap::new();
    for e in ev.iter().filter(|e| e.kind() == SourceKind::Gateway) {
        let Some(r) = &e.request_id else { continue };
        for (k, v) in e.extra.iter() {
            if names_trace(k) {
                if let Some(t) = crate::sql::trace_id(v) {
                    request.entry(t).or_insert_with(|| r.clone());
                }
            }
        }
    }
    let mut n = 0;
    for e in ev.iter_mut().filter(|e| traced(e)) {
        let Some(r) = e.request_id.as_deref().and_then(|t| request.get(t)) else {
            continue;
        };
        if e.request_id.as_ref() == Some(r) {
            continue;
        }
        if let Some(trace) = e.request_id.replace(r.clone()) {
            e.extra.insert("trace_id", &*trace);
        }
        n += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_s_trace_is_the_request_that_logged_it() {
        let mut g = Event::new(SourceKind::Gateway, "apigw-json");
        g.request_id = Some("d63ec0bb-0913-46b8-a5e5-5f6c869b8508".into());
        g.extra
            .insert("xrayTraceId", "1-5759e988-bd862e3fe1be46a994272793");
        let mut s = Event::new(SourceKind::Db, "pg-csvlog");
        s.request_id = Some("5759e988bd862e3fe1be46a994272793".into());
        let mut other = Event::new(SourceKind::Db, "pg-csvlog");
        other.request_id = Some("0af7651916cd43dd8448eb211c80319c".into());
        let mut ev = vec![Box::new(g), Box::new(s), Box::new(other)];
        assert_eq!(resolve(&mut ev), 1);
        assert_eq!(
            ev[1].request_id.as_deref(),
            Some("d63ec0bb-0913-46b8-a5e5-5f6c869b8508")
        );
        assert_eq!(
            ev[1].extra.get("trace_id").map(|v| v.as_str()),
            Some("5759e988bd862e3fe1be46a994272793")
        );
        // A trace no request logged keeps its id.
        assert_eq!(
            ev[2].request_id.as_deref(),
            Some("0af7651916cd43dd8448eb211c80319c")
        );
    }

    #[test]
    fn trace_headers_in_their_forms() {
        let id = Some("5759e988bd862e3fe1be46a994272793".to_string());
        for v in [
            "00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01",
            "1-5759e988-bd862e3fe1be46a994272793",
            "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "5759E988BD862E3FE1BE46A994272793",
        ] {
            assert_eq!(crate::sql::trace_id(v), id, "{v}");
        }
        for v in [
            "-",
            "00-00000000000000000000000000000000-53995c3f42cd8ad8-01",
            "1-5759e988",
            "abc",
        ] {
            assert_eq!(crate::sql::trace_id(v), None, "{v}");
        }
    }
}
