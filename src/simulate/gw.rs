//! Gateway writers: each turns a simulated request into one line of a real format.

use super::scenario::{Req, S};
use chrono::{DateTime, FixedOffset, Utc};

/// Gateway formats the simulator writes.
pub const FORMATS: &[&str] = &[
    "apigw-json",
    "apigw-clf",
    "apigw-xml",
    "apigw-csv",
    "kong",
    "nginx-combined",
    "nginx-json",
    "envoy",
    "envoy-json",
];

fn dt(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or_default()
}

fn clf(us: i64, off_s: i32) -> String {
    let fo = FixedOffset::east_opt(off_s).unwrap_or_else(|| FixedOffset::east_opt(0).expect("0"));
    dt(us)
        .with_timezone(&fo)
        .format("%d/%b/%Y:%H:%M:%S %z")
        .to_string()
}

fn esc(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

/// The private address of the load balancer node that forwarded a request.
fn balancer(r: &Req) -> String {
    format!("10.0.0.{}", 4 + r.id.as_bytes()[0] % 3)
}

fn target(r: &Req) -> String {
    match &r.query {
        Some(q) => format!("{}?{q}", r.path),
        None => r.path.clone(),
    }
}

/// One line for a request in a format. `local_off` is the server's UTC offset in seconds
/// (nginx writes local time).
pub fn line(fmt: &str, r: &Req, local_off: i32) -> String {
    let subj = r.subject.clone().unwrap_or_else(|| "-".into());
    match fmt {
        "apigw-json" => format!(
            r#"{{"requestId":"{}","extendedRequestId":"{}=","ip":"{}","caller":"-","user":"-","requestTime":"{}","requestTimeEpoch":"{}","httpMethod":"{}","resourcePath":"{}","path":"/prod{}","status":"{}","protocol":"HTTP/1.1","responseLength":"{}","userAgent":{},"principalId":"{}","responseLatency":"{}"}}"#,
            r.id,
            &r.id.replace('-', "")[..15],
            r.ip,
            clf(r.ts, 0),
            r.ts / 1000,
            r.method,
            r.route,
            target(r),
            r.status,
            r.bytes,
            esc(&r.ua),
            subj,
            r.latency,
        ),
        "apigw-clf" => format!(
            r#"{} - - [{}] "{} {} HTTP/1.1" {} {} {} {}="#,
            r.ip,
            clf(r.ts, 0),
            r.method,
            r.route,
            r.status,
            r.bytes,
            r.id,
            &r.id.replace('-', "")[..15]
        ),
        // The console's XML preset with the concrete path, agent and principal added;
        // values are substituted unescaped, as API Gateway does.
        "apigw-xml" => format!(
            "<request id=\"{}\"> <extendedRequestId>{}=</extendedRequestId> <ip>{}</ip> <caller>-</caller> <user>-</user> <requestTime>{}</requestTime> <httpMethod>{}</httpMethod> <resourcePath>{}</resourcePath> <path>/prod{}</path> <status>{}</status> <protocol>HTTP/1.1</protocol> <responseLength>{}</responseLength> <userAgent>{}</userAgent> <principalId>{}</principalId> </request>",
            r.id,
            &r.id.replace('-', "")[..15],
            r.ip,
            clf(r.ts, 0),
            r.method,
            r.route,
            target(r),
            r.status,
            r.bytes,
            r.ua,
            subj,
        ),
        // The console's REST CSV preset as it is: no header, no quoting, no identity.
        "apigw-csv" => format!(
            "{},-,-,{},{},{},HTTP/1.1,{},{},{},{}=",
            r.ip,
            clf(r.ts, 0),
            r.method,
            r.route,
            r.status,
            r.bytes,
            r.id,
            &r.id.replace('-', "")[..15]
        ),
        "kong" => {
            let v = serde_json::json!({
                "request": {"id": r.id, "uri": target(r), "method": r.method,
                    "url": format!("https://api.loyalty.example:443{}", target(r)),
                    "headers": {"host": "api.loyalty.example", "user-agent": r.ua, "authorization": "REDACTED"},
                    "querystring": {}, "size": 420},
                "upstream_uri": target(r), "upstream_status": r.status.to_string(),
                "response": {"status": r.status, "size": r.bytes + 300, "headers": {"content-type": "application/json"}},
                "latencies": {"kong": 2, "proxy": r.latency, "request": r.latency + 2, "receive": 0},
                "client_ip": r.ip, "started_at": r.ts / 1000, "source": "upstream",
                "user": r.subject,
                "route": {"name": r.route.trim_start_matches('/').replace(['/', '{', '}'], "-")},
                "service": {"name": "loyalty-api"}, "workspace_name": "default"
            });
            v.to_string().replace('/', "\\/")
        }
        "nginx-combined" => format!(
            r#"{} - {} [{}] "{} {} HTTP/1.1" {} {} "-" "{}" "{}""#,
            r.ip,
            subj,
            clf(r.ts, local_off),
            r.method,
            target(r),
            r.status,
            r.bytes,
            r.ua.replace('"', "\\x22"),
            r.id
        ),
        "nginx-json" => {
            let fo = FixedOffset::east_opt(local_off)
                .unwrap_or_else(|| FixedOffset::east_opt(0).expect("0"));
            format!(
                r#"{{"time":"{}","msec":"{}.{:03}","request_id":"{}","remote_addr":"{}","xff":"{}","remote_user":{},"method":"{}","uri":{},"protocol":"HTTP/1.1","status":{},"bytes_sent":{},"request_time":{:.3},"user_agent":{},"host":"api.loyalty.example"}}"#,
                dt(r.ts).with_timezone(&fo).format("%Y-%m-%dT%H:%M:%S%:z"),
                r.ts / S,
                (r.ts / 1000) % 1000,
                r.id,
                balancer(r),
                r.ip,
                esc(r.subject.as_deref().unwrap_or("")),
                r.method,
                esc(&target(r)),
                r.status,
                r.bytes,
                r.latency as f64 / 1000.0,
                esc(&r.ua)
            )
        }
        // Istio's JSON encoding at an ingress gateway behind a load balancer: the peer is
        // the balancer, the client is in X-Forwarded-For.
        "envoy-json" => serde_json::json!({
            "start_time": dt(r.ts).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "method": r.method, "path": target(r), "protocol": "HTTP/1.1",
            "response_code": r.status, "response_flags": "-",
            "response_code_details": "via_upstream",
            "bytes_received": 0, "bytes_sent": r.bytes, "duration": r.latency + 2,
            "upstream_service_time": r.latency.to_string(),
            "x_forwarded_for": r.ip, "user_agent": r.ua, "request_id": r.id,
            "authority": "api.loyalty.example", "upstream_host": "10.0.1.11:8080",
            "upstream_cluster": "outbound|8080||loyalty-api.default.svc.cluster.local",
            "downstream_local_address": "10.0.7.3:8443",
            "downstream_remote_address": format!("{}:{}", balancer(r), 30000 + r.latency),
            "route_name": "default"
        })
        .to_string(),
        _ => format!(
            r#"[{}] "{} {} HTTP/1.1" {} - 0 {} {} {} "{}" "{}" "{}" "api.loyalty.example" "10.0.1.11:8080""#,
            dt(r.ts).format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            r.method,
            target(r),
            r.status,
            r.bytes,
            r.latency + 2,
            r.latency,
            r.ip,
            r.ua,
            r.id
        ),
    }
}
