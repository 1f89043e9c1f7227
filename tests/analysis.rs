use crate::util::{bl, csv_rows, ran, root, simulate, simulate_with, truth};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn secs(s: &str) -> i64 {
    breachline::timeparse::parse_bound(s).unwrap() / 1_000_000
}

fn strs(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

/// Waves, affected files and messages equal what truth.json implies.
fn check(dir: &Path, extra: &[&str], identity_known: bool) {
    let t = truth(dir);
    let roster = dir.join("roster.csv");
    let w: Value = serde_json::from_slice(
        &bl()
            .args(["waves", "--format", "json", "-q", "--roster"])
            .arg(&roster)
            .arg(dir)
            .args(extra)
            .assert()
            .get_output()
            .stdout,
    )
    .unwrap();
    assert_eq!(w["schema"], "breachline.waves/1");
    let (tw, ww) = (
        t["waves"].as_array().unwrap(),
        w["waves"].as_array().unwrap(),
    );
    assert_eq!(ww.len(), tw.len(), "wave count");
    for (a, b) in ww.iter().zip(tw) {
        assert!(
            (secs(a["start_utc"].as_str().unwrap()) - secs(b["start_utc"].as_str().unwrap())).abs()
                <= 2,
            "start {a} vs {b}"
        );
        assert!(
            (secs(a["end_utc"].as_str().unwrap()) - secs(b["end_utc"].as_str().unwrap())).abs()
                <= 2,
            "end {a} vs {b}"
        );
        assert_eq!(strs(&a["targets"]), strs(&b["targets"]));
        assert_eq!(strs(&a["attacker_ips"]), strs(&b["attacker_ips"]));
        if identity_known {
            assert_eq!(strs(&a["techniques"]), strs(&b["techniques"]));
            assert_eq!(strs(&a["principals"]), strs(&b["principals"]));
        }
    }
    let out = affected(dir, extra);
    let rows = csv_rows(&out.path().join("affected-customers.csv"));
    let with = |imp: &str| {
        rows.iter()
            .filter(|r| r["impacts"].split(';').any(|x| x == imp))
            .map(|r| r["account_id"].clone())
            .collect::<BTreeSet<_>>()
    };
    let truth_set = |k: &str| strs(&t["affected"][k]).into_iter().collect::<BTreeSet<_>>();
    assert_eq!(with("data_exposed"), truth_set("data_exposed"));
    push_matches(out.path(), &t);
    let deltas: BTreeMap<String, i64> = rows
        .iter()
        .filter(|r| r["impacts"].contains("bonus_tampered"))
        .map(|r| {
            (
                r["account_id"].clone(),
                r["bonus_points_delta"].parse().unwrap(),
            )
        })
        .collect();
    let want = truth_bonus(&t);
    assert_eq!(deltas, want);
    let adj = csv_rows(&out.path().join("bonus-adjustments.csv"));
    for r in &adj {
        assert_eq!(
            r["correction"].parse::<i64>().unwrap(),
            -want[&r["account_id"]]
        );
    }
    for r in &rows {
        // Every affected row names messages exactly when it has the push impact, and has evidence.
        assert_eq!(
            r["impacts"].contains("malicious_push"),
            !r["messages_received"].is_empty()
        );
        assert!(r["evidence_count"].parse::<u64>().unwrap() > 0);
    }
    let msgs = csv_rows(&out.path().join("messages.csv"));
    for m in msgs.iter().filter(|m| m["verdict"] == "legitimate") {
        assert!(
            m["reason"].contains("no link to attacker activity"),
            "{}",
            m["reason"]
        );
    }
    let ev = csv_rows(&out.path().join("evidence.csv"));
    assert!(ev
        .iter()
        .all(|r| r["line"].parse::<u64>().unwrap() > 0 && !r["file"].is_empty()));
    let iocs = csv_rows(&out.path().join("iocs.csv"));
    let ips: BTreeSet<String> = iocs
        .iter()
        .filter(|r| r["type"] == "ip")
        .map(|r| r["value"].clone())
        .collect();
    assert_eq!(ips, strs(&t["indicators"]["ips"]).into_iter().collect());
}

/// Simulates an incident with these formats and `simulate` options, and checks every
/// output against its truth (`identity_known` as for `check`).
pub(crate) fn equals_truth(formats: [&str; 3], args: &[&str], identity_known: bool) {
    let d = crate::util::tmp().unwrap();
    simulate_with(d.path(), formats, args);
    check(d.path(), &[], identity_known);
}

#[test]
fn a_customer_behind_a_proxy_pool_s_exit_before_the_burst_is_not_its_start() {
    // A customer signed in and browsed from one of the pool's exits three and a half
    // minutes before the pool's first failed login; the gateway (API Gateway's CLF
    // preset) logs no agent or subject to tell the two apart. The look-back through the
    // shared address's activity took the customer's sign-in for wave 1's start.
    equals_truth(
        ["apigw-clf", "mariadb-audit", "onesignal"],
        &[
            "--seed",
            "88825",
            "--server-tz",
            "Australia/Sydney",
            "--db-skew",
            "446s",
            "--wave1",
            "stuffing",
            "--wave2",
            "direct",
            "--attack-at",
            "06:32:40,08:02:40",
            "--proxy-pool",
            "30",
            "--shared-address",
            "20",
            "--other-names",
            "--push-skew",
            "855s",
        ],
        // The staff principal of wave 2's direct dump is not named by this evidence.
        false,
    );
}

#[test]
fn statement_lines_in_one_file_and_audit_records_in_another_count_once_with_their_facts() {
    // One server logging to two destinations, one holding its `statement:` lines, the
    // other its pgaudit records. Each line was paired with the AUDIT record of its
    // statement as one server's double logging and lost its facts to it; the two were
    // also copies, and the copy kept was the line: the injected dump of the customers
    // table had no facts left, and no customer's data was exposed.
    equals_truth(
        [
            "apigw-json",
            "pg-stderr-execute,pg-stderr",
            "fcm-bigquery-json",
        ],
        &["--seed", "1", "--wave2", "injection"],
        true,
    );
}

#[test]
fn a_kept_copy_takes_the_client_host_its_dropped_copy_names() {
    // The same server's pgaudit records in one series and its statement lines in the
    // other, whose prefix logs no host. Each series learns a session's host from its
    // connection line, and the line's copy kept was pgaudit's: the statements kept,
    // the other series', named no host, and the attacker's direct dump as the
    // analytics user read as that user's routine export (no bulk export in wave 2).
    equals_truth(
        [
            "apigw-json",
            "pg-stderr,pg-stderr-execute",
            "fcm-bigquery-json",
        ],
        &["--seed", "1", "--wave2", "direct"],
        true,
    );
}

#[test]
fn sample_logs_equal_truth() {
    check(&root().join("sample-logs"), &[], true);
}

#[test]
fn kong_pgcsv_onesignal_equal_truth() {
    let d = crate::util::tmp().unwrap();
    simulate(d.path(), "kong", "pg-csvlog", "onesignal");
    check(d.path(), &[], true);
    // The audience exports of two messages are too few to compare their clock; the
    // summaries of the same messages were compared, and the note says so.
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes.iter().any(|n| n
            .starts_with("The clock of the onesignal-audience-csv evidence could not be compared")
            && n.ends_with("Its messages are also in onesignal-json, whose clock was.")),
        "{notes:?}"
    );
}

/// A topic send that the application logged as a request line (topic, title, body) and
/// a response line (FCM's id alone) is one message: the id's, with the request's content
/// and time. The request was no message at all, and the id one without content; a
/// request whose answer is missing is a message of its own.
#[test]
fn a_send_logged_as_request_and_response_lines_is_one_message() {
    let d = crate::util::tmp().unwrap();
    let log = "2024-03-05T14:25:00.412Z INFO  [push-worker] FCM request: {\"message\":{\"topic\":\"all\",\"notification\":{\"title\":\"Hacked\",\"body\":\"Your data is ours\"}}}\n\
               2024-03-05T14:25:00.612Z INFO  [push-worker] FCM response: {\"name\":\"projects/shop-prod/messages/5123456789012345678\"}\n\
               2024-03-05T14:26:00.412Z INFO  [push-worker] FCM request: {\"message\":{\"token\":\"eJ9kQ2vXR0mZb1a8C4dQyT:APA91bF\",\"notification\":{\"title\":\"Hi\",\"body\":\"Order ready\"}}}\n\
               2024-03-05T14:26:00.512Z INFO  [push-worker] FCM response: {\"name\":\"projects/shop-prod/messages/0:1709648760%c0ffee\"}\n\
               2024-03-05T14:40:00.000Z INFO  [push-worker] FCM request: {\"message\":{\"topic\":\"news\",\"notification\":{\"title\":\"Menu\",\"body\":\"New dishes\"}}}\n";
    std::fs::write(d.path().join("push-worker.log"), log).unwrap();
    let out = report_without_roster(d.path());
    let rows = csv_rows(&out.path().join("messages.csv"));
    let got: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| {
            (
                r["message_id"].as_str(),
                r["sent_utc"].as_str(),
                r["title"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                "5123456789012345678",
                "2024-03-05T14:25:00.412000Z",
                "Hacked"
            ),
            ("0:1709648760%c0ffee", "2024-03-05T14:26:00.412000Z", "Hi"),
            (
                "fcm-send-2024-03-05T14:40:00Z",
                "2024-03-05T14:40:00.000000Z",
                "Menu"
            ),
        ]
    );
}

/// OneSignal's notification pages alone (no audience exports): the attacker's broadcast
/// to "Subscribed Users" names no device. Its recipients are every roster account with a
/// device that existed then, a bound that holds the truth's; before, none.
#[test]
fn a_broadcast_with_only_its_provider_summary_reaches_every_account_with_a_device() {
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-stderr", "onesignal"],
        &["--seed", "3"],
    );
    for f in std::fs::read_dir(d.path().join("push/onesignal")).unwrap() {
        let f = f.unwrap().path();
        if !f.to_string_lossy().ends_with("notifications.json") {
            std::fs::remove_file(f).unwrap();
        }
    }
    let t = truth(d.path());
    let want: BTreeSet<String> = strs(&t["affected"]["malicious_push"]).into_iter().collect();
    let out = report_of(d.path(), &[]);
    let rows = csv_rows(&out.path().join("affected-customers.csv"));
    let got: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["impacts"].contains("malicious_push"))
        .map(|r| r["account_id"].clone())
        .collect();
    assert!(
        got.is_superset(&want),
        "{:?}",
        want.difference(&got).take(5).collect::<Vec<_>>()
    );
    let with_device: BTreeSet<String> = csv_rows(&d.path().join("roster.csv"))
        .into_iter()
        .filter(|r| !r["device_ids"].is_empty())
        .map(|r| r["account_id"].clone())
        .collect();
    assert!(got.is_subset(&with_device));
    assert!(
        got.len() < want.len() * 12 / 10,
        "{} against {}",
        got.len(),
        want.len()
    );
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes.iter().any(|n| n
            .starts_with("Malicious messages whose provider logged no per-device records")
            && n.contains("segment:Subscribed Users")),
        "{notes:?}"
    );
}

#[test]
fn kong_rds_activity_stream_onesignal_equal_truth() {
    let d = crate::util::tmp().unwrap();
    simulate(d.path(), "kong", "rds-activity-stream", "onesignal");
    check(d.path(), &[], true);
    // Decrypted batches unwrapped; heartbeats skipped, corrupt lines rejected, per file.
    let t = truth(d.path());
    let db = d.path().join("db");
    let files = crate::ingest::inventory(&[db.to_str().unwrap()]);
    let mut seen = 0;
    for tf in t["files"].as_array().unwrap() {
        let path = tf["path"].as_str().unwrap();
        if !path.starts_with("db/") {
            continue;
        }
        seen += 1;
        let f = files.iter().find(|f| f.path.ends_with(path)).unwrap();
        assert_eq!(f.format, "rds-activity-batch+rds-activity-stream");
        assert_eq!(f.lines, tf["lines"].as_u64().unwrap(), "{path} lines");
        assert_eq!(f.rejected, tf["malformed"].as_u64().unwrap(), "{path}");
        assert_eq!(f.skipped, tf["skipped"].as_u64().unwrap(), "{path}");
        assert!(f.skipped > 0, "{path}: no heartbeat");
        assert_eq!(f.records, f.events + f.duplicates + f.rejected + f.skipped);
    }
    assert!(seen >= 3);
}

#[test]
fn api_gateway_xml_and_csv_presets_equal_truth() {
    // The console's two other presets: XML, extended with the path, agent and principal
    // (values unescaped), and the REST CSV preset as it is, which logs no identity.
    for (gw, db, push, identity) in [
        ("apigw-xml", "pg-csvlog", "sns-delivery", true),
        ("apigw-csv", "mysql-audit-json", "fcm-bigquery-json", false),
    ] {
        let d = crate::util::tmp().unwrap();
        simulate(d.path(), gw, db, push);
        check(d.path(), &[], identity);
        let t = truth(d.path());
        let dir = d.path().join("gateway");
        let files = crate::ingest::inventory(&[dir.to_str().unwrap()]);
        let mut seen = 0;
        for tf in t["files"].as_array().unwrap() {
            let path = tf["path"].as_str().unwrap();
            if !path.starts_with("gateway/") {
                continue;
            }
            seen += 1;
            let f = files.iter().find(|f| f.path.ends_with(path)).unwrap();
            let want = if gw == "apigw-xml" {
                "apigw-xml"
            } else {
                "apigw-template"
            };
            assert_eq!(f.format, want, "{path}");
            assert_eq!(f.lines, tf["lines"].as_u64().unwrap(), "{path} lines");
            assert_eq!(f.rejected, tf["malformed"].as_u64().unwrap(), "{path}");
            assert_eq!(f.duplicates, tf["duplicates"].as_u64().unwrap(), "{path}");
        }
        assert!(seen >= 3, "{gw}");
    }
}

#[test]
fn enumeration_behind_template_only_gateway_logs_is_read_from_the_statements() {
    // The CLF and CSV presets log route templates: no request names the customer it
    // read. The statements each request issued do, and the staff credential's walk
    // through the customers is enumeration there too.
    for gw in ["apigw-clf", "apigw-csv"] {
        let d = crate::util::tmp().unwrap();
        simulate(d.path(), gw, "mysql-audit-json", "fcm-bigquery-json");
        let r = report_json(d.path(), &[]);
        let t = truth(d.path());
        let (got, want) = (&r["waves"][1], &t["waves"][1]);
        assert!(strs(&want["techniques"]).contains(&"enumeration".to_string()));
        assert_eq!(strs(&got["techniques"]), strs(&want["techniques"]), "{gw}");
        let f = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["technique"] == "enumeration")
            .unwrap();
        assert!(
            strs(&want["attacker_ips"]).contains(&f["subject"].as_str().unwrap().to_string()),
            "{gw}: {f}"
        );
    }
}

#[test]
fn idor_through_one_graphql_endpoint_is_read_from_the_statements() {
    // The app's data goes through `POST /graphql`: no route names an account or a
    // system. The attacker's signed-in account reaching thirty others shows in the
    // statements its requests issued, which carry their request ids.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-csvlog", "fcm-bigquery-json"],
        &["--seed", "41", "--wave1", "idor", "--wave2", "injection"],
    );
    to_graphql(d.path());
    let r = report_json(d.path(), &[]);
    let t = truth(d.path());
    let idor: Vec<&Value> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["technique"] == "idor")
        .collect();
    assert_eq!(idor.len(), 1, "{idor:?}");
    let why = idor[0]["explanation"].as_str().unwrap();
    assert!(why.contains("statements its requests issued"), "{why}");
    let ips = strs(&t["waves"][0]["attacker_ips"]);
    assert!(
        ips.iter().any(|ip| why.contains(ip.as_str())),
        "{why} {ips:?}"
    );
    assert!(strs(&r["waves"][0]["techniques"]).contains(&"idor".to_string()));
}

#[test]
fn idor_through_grpc_methods_is_read_from_the_statements() {
    // gRPC behind Envoy or API Gateway: `/loyalty.v1.BonusService/GetBalance` names the
    // system, the account travels in the message. The statements name it.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-csvlog", "fcm-bigquery-json"],
        &["--seed", "41", "--wave1", "idor", "--wave2", "injection"],
    );
    let methods = [
        (
            "/api/v1/customers/{customerId}/profile",
            "CustomerService/GetProfile",
        ),
        (
            "/api/v1/accounts/{accountId}/bonus",
            "BonusService/GetBalance",
        ),
        (
            "/api/v1/accounts/{accountId}/bonus/redeem",
            "BonusService/Redeem",
        ),
        ("/api/v1/bonus/transfer", "BonusService/Transfer"),
    ];
    rewrite_lines(d.path(), "gateway", |l| {
        let Ok(mut v) = serde_json::from_str::<Value>(l.trim_end()) else {
            return Some(l.to_string());
        };
        let r = v["resourcePath"].as_str().unwrap_or("");
        let Some((_, m)) = methods.iter().find(|(from, _)| *from == r) else {
            return Some(l.to_string());
        };
        let m = format!("/loyalty.v1.{m}");
        v["resourcePath"] = m.clone().into();
        v["path"] = format!("/prod{m}").into();
        v["httpMethod"] = "POST".into();
        Some(format!("{v}\n"))
    });
    let r = report_json(d.path(), &[]);
    let t = truth(d.path());
    assert_eq!(
        strs(&r["waves"][0]["techniques"]),
        strs(&t["waves"][0]["techniques"])
    );
    let idor = (r["findings"].as_array().unwrap().iter()).filter(|f| f["technique"] == "idor");
    assert_eq!(idor.count(), 1);
}

#[test]
fn enumeration_through_a_staff_graphql_endpoint_is_read_from_the_statements() {
    // The back office's GraphQL queries are POSTs whose statements only read: the
    // stolen staff login's walk through the customers is enumeration there too.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-csvlog", "fcm-bigquery-json"],
        &["--seed", "43", "--wave1", "stuffing", "--wave2", "staff"],
    );
    to_graphql(d.path());
    let r = report_json(d.path(), &[]);
    let t = truth(d.path());
    assert!(strs(&t["waves"][1]["techniques"]).contains(&"enumeration".to_string()));
    assert_eq!(
        strs(&r["waves"][1]["techniques"]),
        strs(&t["waves"][1]["techniques"])
    );
}

/// Rewrites a simulated API Gateway log as an app whose data goes through GraphQL would
/// write it: every route but sign-in and push, customers' and staff's, becomes `POST
/// /graphql` (`/admin/graphql` for staff).
fn to_graphql(dir: &Path) {
    rewrite_lines(dir, "gateway", |l| {
        let Ok(mut v) = serde_json::from_str::<Value>(l.trim_end()) else {
            return Some(l.to_string());
        };
        let r = v["resourcePath"].as_str().unwrap_or("").to_string();
        let data = |pre: &str| r.starts_with(pre) && !r.contains("/auth/") && !r.contains("push");
        let at = match () {
            _ if data("/api/v1/") => "/graphql",
            _ if data("/admin/") => "/admin/graphql",
            _ => return Some(l.to_string()),
        };
        v["resourcePath"] = at.into();
        v["path"] = format!("/prod{at}").into();
        v["httpMethod"] = "POST".into();
        Some(format!("{v}\n"))
    });
}

/// The `undetermined` notes of a report on a directory.
fn notes_of(dir: &Path, extra: &[&str]) -> Vec<String> {
    strs(&report_json(dir, extra)["undetermined"])
}

/// `report.json` of a report on a directory.
fn report_json(dir: &Path, extra: &[&str]) -> Value {
    let out = report_of(dir, extra);
    serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap()
}

/// The output directory of `report` on a directory, given no roster.
fn report_without_roster(dir: &Path) -> tempfile::TempDir {
    let out = crate::util::tmp().unwrap();
    ran(bl()
        .args(["report", "-q"])
        .arg(dir)
        .arg("--out-dir")
        .arg(out.path()));
    out
}

/// The output directory of `report` (with the directory's roster) on a directory.
fn report_of(dir: &Path, extra: &[&str]) -> tempfile::TempDir {
    let out = crate::util::tmp().unwrap();
    ran(bl()
        .args(["report", "-q", "--roster"])
        .arg(dir.join("roster.csv"))
        .arg(dir)
        .args(extra)
        .arg("--out-dir")
        .arg(out.path()));
    out
}

#[test]
fn untagged_sql_with_a_large_skew_and_accounts_only_in_paths() {
    // No request ids in the SQL, a DB clock four minutes ahead, and a gateway that names
    // accounts only in some concrete paths: the skew is found from same-account pairs
    // (the nearest request alone pulled it toward zero) and the bonus changes are tied
    // to the requests that named their accounts seconds before.
    equals_truth(
        ["nginx-combined", "mysql-audit-json", "sns-delivery"],
        &["--untagged-sql", "--db-skew", "4m"],
        true,
    );
}

#[test]
fn untagged_sql_from_a_clock_hours_off_with_a_zone() {
    // The DB's records carry a zone but its clock is two hours behind (a clock set to
    // local time under a log that says UTC): no request ids, so only same-account pairs
    // can find an offset that large, and the note says a clock or zone was set wrong.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["kong", "pg-jsonlog", "sns-delivery"],
        &["--untagged-sql", "--db-skew=-2h"],
    );
    check(d.path(), &[], true);
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes.iter().any(|n| {
            let runs = n
                .strip_prefix("The pg-jsonlog clock, as its records state it, runs ")
                .unwrap_or("");
            (runs.starts_with("1 h 59 min 59.") || runs.starts_with("2 h 00 min 0."))
                && runs.contains("behind the gateway's")
        }),
        "{notes:?}"
    );
}

/// Runs `affected` into a fresh directory.
fn affected(dir: &Path, extra: &[&str]) -> tempfile::TempDir {
    let out = crate::util::tmp().unwrap();
    ran(bl()
        .args(["affected", "-q", "--roster"])
        .arg(dir.join("roster.csv"))
        .arg(dir)
        .args(extra)
        .arg("--out-dir")
        .arg(out.path()));
    out
}

/// Compares who got a malicious push and each message's verdict in `affected`'s output
/// with the truth.
fn push_matches(out: &Path, t: &Value) {
    let pushed: BTreeSet<String> = csv_rows(&out.join("affected-customers.csv"))
        .into_iter()
        .filter(|r| r["impacts"].split(';').any(|x| x == "malicious_push"))
        .map(|r| r["account_id"].clone())
        .collect();
    assert_eq!(
        pushed,
        strs(&t["affected"]["malicious_push"]).into_iter().collect()
    );
    let msgs = csv_rows(&out.join("messages.csv"));
    for v in ["malicious", "legitimate"] {
        let got: BTreeSet<String> = msgs
            .iter()
            .filter(|m| m["verdict"] == v)
            .map(|m| m["message_id"].clone())
            .collect();
        assert_eq!(got, strs(&t["messages"][v]).into_iter().collect(), "{v}");
    }
    // The recipients file lists the devices of malicious messages only, as many as the
    // message counts, and its delivered rows with an account are the pushed accounts.
    let rec = csv_rows(&out.join("message-recipients.csv"));
    for m in &msgs {
        let mine: Vec<_> = rec
            .iter()
            .filter(|r| r["message_id"] == m["message_id"])
            .collect();
        if m["verdict"] == "legitimate" {
            assert!(mine.is_empty(), "{m:?}");
            continue;
        }
        if mine.is_empty() {
            // A provider that logs counts only names no device.
            continue;
        }
        assert_eq!(mine.len().to_string(), m["recipients"], "{m:?}");
        let delivered = mine.iter().filter(|r| r["outcome"] == "delivered").count();
        assert_eq!(delivered.to_string(), m["delivered"], "{m:?}");
        assert!(mine.iter().all(|r| r["wave"] == m["wave"]));
    }
    let reached: BTreeSet<String> = rec
        .iter()
        .filter(|r| r["outcome"] == "delivered" && !r["account_id"].is_empty())
        .map(|r| r["account_id"].clone())
        .collect();
    assert_eq!(reached, pushed);
    assert!(rec
        .iter()
        .all(|r| matches!(&*r["outcome"], "delivered" | "failed")
            && !r["device_id"].is_empty()
            && (r["file"].is_empty() || r["line"].parse::<u64>().unwrap() > 0)));
}

#[test]
fn a_send_whose_campaign_rows_no_request_explains_is_timed_to_its_request() {
    // A CLF gateway (route templates, no accounts) and untagged SQL: the campaign's rows
    // were written by the application's pooled connection, which no request id or account
    // ties to a request. They named the server that wrote them, and the attacker's send,
    // a second before the provider accepted it, was never looked at.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-clf", "mysql-audit-json", "fcm-bigquery-json"],
        &["--untagged-sql", "--db-skew", "0s", "--seed", "1506"],
    );
    push_matches(affected(d.path(), &[]).path(), &truth(d.path()));
    // SNS names no campaign, and the attacker's send came two seconds before a customer's
    // app set its push token (`PUT …/push-tokens/…`) on a push-word route: timing took the
    // token's owner for the sender, and the send for his.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["nginx-combined", "pg-jsonlog", "sns-delivery"],
        &[
            "--seed",
            "744070",
            "--random-names",
            "23915",
            "--untagged-sql",
            "--attack-at",
            "15:48:34,18:32:31",
        ],
    );
    push_matches(affected(d.path(), &[]).path(), &truth(d.path()));
}

/// Drops the gateway lines of the given addresses (the gateway evidence of an attack
/// that was not kept), rewriting gzip files as gzip.
fn drop_gateway_lines(dir: &Path, ips: &[String]) {
    drop_lines_where(dir, "gateway", |l| {
        ips.iter().any(|ip| l.contains(ip.as_str()))
    });
}

/// The timeline of one wave, as CSV rows.
fn wave_timeline(dir: &Path, wave: &str) -> Vec<BTreeMap<String, String>> {
    let out = crate::util::tmp().unwrap();
    let tl = out.path().join("tl.csv");
    ran(bl()
        .args(["timeline", "-q", "--wave", wave, "-o"])
        .arg(&tl)
        .arg(dir));
    csv_rows(&tl)
}

/// Drops the records before `cut` (Unix seconds) from the files under each of `subs`,
/// as a retention cut would: API Gateway JSON by `requestTimeEpoch`, pg-jsonlog by
/// `timestamp`, FCM's BigQuery export by `event_timestamp`.
fn drop_before(dir: &Path, cut: i64, subs: &[&str]) {
    let field = |l: &str, k: &str| -> Option<String> {
        let v: Value = serde_json::from_str(l).ok()?;
        v[k].as_str().map(str::to_string)
    };
    for &sub in subs {
        drop_lines_where(dir, sub, |l| match sub {
            "gateway" => field(l, "requestTimeEpoch")
                .is_some_and(|ms| ms.parse::<i64>().unwrap() / 1000 < cut),
            "db" => field(l, "timestamp").is_some_and(|ts| secs(&ts) < cut),
            _ => field(l, "event_timestamp").is_some_and(|ts| secs(&ts) < cut),
        });
    }
}

/// Rewrites the `created_at` column of a simulated roster (RFC 3339 UTC) with `edit`,
/// keeping the other columns and their order.
fn rewrite_roster_created(
    dir: &Path,
    edit: impl Fn(chrono::DateTime<chrono::FixedOffset>) -> String,
) {
    let path = dir.join("roster.csv");
    let mut r = csv::Reader::from_path(&path).unwrap();
    let head = r.headers().unwrap().clone();
    let at = head.iter().position(|h| h == "created_at").unwrap();
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record(&head).unwrap();
    for row in r.records() {
        let row = row.unwrap();
        let t = edit(chrono::DateTime::parse_from_rfc3339(&row[at]).unwrap());
        let row: Vec<&str> = (row.iter().enumerate())
            .map(|(i, v)| if i == at { t.as_str() } else { v })
            .collect();
        w.write_record(&row).unwrap();
    }
    std::fs::write(&path, w.into_inner().unwrap()).unwrap();
}

/// Drops the lines `drop` picks from the files under `sub`, rewriting gzip files as gzip.
fn drop_lines_where(dir: &Path, sub: &str, drop: impl Fn(&str) -> bool) {
    rewrite_lines(dir, sub, |l| (!drop(l)).then(|| l.to_string()));
}

/// Rewrites each line of the files under `sub` (`None` drops it), gzip files as gzip.
fn rewrite_lines(dir: &Path, sub: &str, edit: impl Fn(&str) -> Option<String>) {
    use std::io::{Read, Write};
    let mut stack = vec![dir.join(sub)];
    while let Some(d) = stack.pop() {
        for f in std::fs::read_dir(&d).unwrap() {
            let f = f.unwrap().path();
            if f.is_dir() {
                stack.push(f);
                continue;
            }
            let raw = std::fs::read(&f).unwrap();
            let gz = f.extension().is_some_and(|e| e == "gz");
            let mut text = String::new();
            if gz {
                flate2::read::MultiGzDecoder::new(&raw[..])
                    .read_to_string(&mut text)
                    .unwrap();
            } else {
                text = String::from_utf8(raw).unwrap();
            }
            let kept: String = text.split_inclusive('\n').filter_map(&edit).collect();
            let out = if gz {
                let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
                e.write_all(kept.as_bytes()).unwrap();
                e.finish().unwrap()
            } else {
                kept.into_bytes()
            };
            std::fs::write(&f, out).unwrap();
        }
    }
}

#[test]
fn evidence_that_stops_inside_a_wave_says_what_it_cannot_show() {
    // The gateway log was kept only until five minutes into wave 2: the attacker's send,
    // later, has no request in the evidence, and "no link to attacker activity" then
    // says nothing of who sent it.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-csvlog", "fcm-bigquery-json"],
        &[],
    );
    let t = truth(d.path());
    let cut_ms = (secs(t["waves"][1]["start_utc"].as_str().unwrap()) + 300) * 1000;
    drop_lines_where(d.path(), "gateway", |l| {
        serde_json::from_str::<Value>(l).is_ok_and(|v| {
            v["requestTimeEpoch"]
                .as_str()
                .and_then(|t| t.parse::<i64>().ok())
                .is_some_and(|ms| ms >= cut_ms)
        })
    });
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes.iter().any(|n| n.starts_with("Wave 2 (")
            && n.contains("the gateway evidence ends at")
            && (n.contains("before the wave ended") || n.contains("may have gone on"))),
        "{notes:#?}"
    );
    let out = affected(d.path(), &[]);
    let mut rows = csv::Reader::from_path(out.path().join("messages.csv")).unwrap();
    let late: Vec<csv::StringRecord> = rows
        .records()
        .map(Result::unwrap)
        .filter(|r| secs(&r[2]) > cut_ms / 1000)
        .collect();
    assert!(!late.is_empty());
    for r in &late {
        assert!(
            &r[8] == "malicious" || r[9].contains("could not be examined"),
            "{r:?}"
        );
        if &r[8] == "legitimate" {
            assert!(
                notes
                    .iter()
                    .any(|n| n.contains("judged legitimate were sent outside")
                        && n.contains(&r[0])),
                "{notes:#?}"
            );
        }
    }
}

#[test]
fn messages_judged_without_any_gateway_evidence_say_so() {
    // Only the push provider's export was handed over: no message can be traced to the
    // request that sent it, so "legitimate" is for want of evidence, and says so.
    let d = crate::util::tmp().unwrap();
    let push = d.path().join("push");
    std::fs::create_dir_all(&push).unwrap();
    for f in
        std::fs::read_dir(crate::util::root().join("sample-logs/push/fcm-bigquery-json")).unwrap()
    {
        let f = f.unwrap().path();
        std::fs::copy(&f, push.join(f.file_name().unwrap())).unwrap();
    }
    std::fs::copy(
        crate::util::root().join("sample-logs/roster.csv"),
        d.path().join("roster.csv"),
    )
    .unwrap();
    let r = report_json(d.path(), &[]);
    let messages = r["messages"].as_array().unwrap();
    assert!(!messages.is_empty());
    for m in messages {
        assert!(
            m["reason"]
                .as_str()
                .unwrap()
                .contains("no gateway evidence was given"),
            "{m}"
        );
    }
    let notes = strs(&r["undetermined"]);
    assert!(
        notes.iter().any(|n| n.contains(
            "judged legitimate had no gateway evidence to be traced in (none was given)"
        )),
        "{notes:#?}"
    );
}

#[test]
fn a_whole_table_read_the_evidence_cannot_show_twice_says_so() {
    // The logs were kept from ten minutes into wave 1 on (a retention cut): a nightly
    // export by a service identity is in them once, where its run the night before would
    // have made it routine. It stays a finding, and says why it could not be cleared.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-jsonlog", "fcm-bigquery-json"],
        &["--db-skew", "0s"],
    );
    let t = truth(d.path());
    let cut = secs(t["waves"][0]["start_utc"].as_str().unwrap()) + 600;
    drop_before(d.path(), cut, &["gateway", "db"]);
    let r = report_json(d.path(), &[]);
    let attackers: BTreeSet<String> = (t["waves"].as_array().unwrap().iter())
        .flat_map(|w| strs(&w["attacker_ips"]))
        .collect();
    let exports: Vec<&Value> = (r["findings"].as_array().unwrap().iter())
        .filter(|f| f["technique"] == "bulk_export")
        .collect();
    let caveat = "could not have been seen twice";
    let said = |f: &Value| f["explanation"].as_str().unwrap().contains(caveat);
    assert!(
        exports
            .iter()
            .any(|f| !attackers.contains(f["subject"].as_str().unwrap()) && said(f)),
        "{exports:#?}"
    );
    for f in &exports {
        if attackers.contains(f["subject"].as_str().unwrap()) {
            assert!(!said(f), "{f:#?}");
        }
    }
}

#[test]
fn evidence_that_begins_on_the_attack_day_still_tells_a_stolen_staff_login() {
    // The logs were kept from the attack day's midnight on: no day before it teaches
    // where staff work, and the staff login the attacker used falls in its owner's
    // first hours of activity. Used while its owner was at work in the office (the
    // default wave 2 at 09:41), or before its owner came to work from the host that had
    // just injected SQL (wave 2 at 03:41), it is still a new place: the export and the
    // push are the attacker's.
    for args in [
        &[][..],
        &["--wave2", "injection", "--attack-at", "01:05:17,03:41:03"],
    ] {
        let d = crate::util::tmp().unwrap();
        simulate_with(
            d.path(),
            ["apigw-json", "pg-jsonlog", "fcm-bigquery-json"],
            args,
        );
        let t = truth(d.path());
        let first = t["waves"][0]["start_utc"].as_str().unwrap();
        let cut = secs(&format!("{}T00:00:00Z", &first[..10]));
        drop_before(d.path(), cut, &["gateway", "db", "push"]);
        let r = report_json(d.path(), &[]);
        let techniques = strs(&r["waves"][1]["techniques"]);
        for want in ["bulk_export", "new_place_access", "malicious_push"] {
            assert!(
                techniques.iter().any(|x| x == want),
                "{args:?}: {techniques:?}"
            );
        }
        let out = affected(d.path(), &[]);
        let pushed: BTreeSet<String> = csv_rows(&out.path().join("affected-customers.csv"))
            .into_iter()
            .filter(|r| r["impacts"].split(';').any(|x| x == "malicious_push"))
            .map(|r| r["account_id"].clone())
            .collect();
        assert_eq!(
            pushed,
            strs(&t["affected"]["malicious_push"]).into_iter().collect(),
            "{args:?}"
        );
    }
}

#[test]
fn a_roster_on_a_clock_minutes_ahead_is_dated_by_the_sign_ups_the_evidence_shows() {
    // The roster's creation times come from a clock twelve minutes ahead of the
    // evidence's: a customer who signed up in the minutes before the export has a
    // roster time after it. The sign-up the evidence shows is on the export's clock.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-jsonlog", "fcm-bigquery-json"],
        &["--seed", "2"],
    );
    rewrite_roster_created(d.path(), |utc| {
        (utc + chrono::Duration::minutes(12))
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    });
    check(d.path(), &[], true);
}

#[test]
fn accounts_the_roster_lacks_that_an_export_read_are_exposed_all_the_same() {
    // The roster was exported after the incident: one customer in seventy closed their
    // account since. The evidence shows them before the export; they were in the table
    // it read.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-jsonlog", "fcm-bigquery-json"],
        &[],
    );
    let path = d.path().join("roster.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let kept: String = (text.split_inclusive('\n').enumerate())
        .filter(|(i, _)| *i == 0 || i % 70 != 6)
        .map(|(_, l)| l)
        .collect();
    std::fs::write(&path, kept).unwrap();
    let out = affected(d.path(), &[]);
    let rows = csv_rows(&out.path().join("affected-customers.csv"));
    let exposed: BTreeSet<String> = (rows.iter())
        .filter(|r| r["impacts"].split(';').any(|x| x == "data_exposed"))
        .map(|r| r["account_id"].clone())
        .collect();
    let t = truth(d.path());
    assert_eq!(
        exposed,
        strs(&t["affected"]["data_exposed"]).into_iter().collect()
    );
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes.iter().any(|n| n.contains("are not in the roster")),
        "{notes:#?}"
    );
}

#[test]
fn bonus_changes_no_link_explains_are_tied_by_timing() {
    // A CLF gateway (route templates, no accounts) and untagged SQL: no request id or
    // account ties a statement to a request. The outlying bonus changes follow the
    // flagged addresses' transfers at one offset, the DB clock 90 s behind; the script's
    // logins before each transfer make a second offset as full, which the brute force's
    // failed logins on the same route give away.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-clf", "percona-audit-json", "sns-delivery"],
        &["--untagged-sql", "--db-skew=-90s", "--seed", "1502"],
    );
    check(d.path(), &[], false);
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes.iter().any(|n| n
            .starts_with("Neither request ids nor accounts tie the percona-audit-json statements")
            && n.contains("(0 h 01 min 30.0 s behind the gateway's)")
            && n.contains("rest on timing alone")),
        "{notes:?}"
    );
    // Zone-less MariaDB two hours off as read, and pg-csvlog with the default skew.
    for (db, seed) in [("mariadb-audit", "1511"), ("pg-csvlog", "7")] {
        let d = crate::util::tmp().unwrap();
        simulate_with(
            d.path(),
            ["apigw-clf", db, "fcm-bigquery-json"],
            &["--untagged-sql", "--seed", seed],
        );
        check(d.path(), &[], false);
    }
}

#[test]
fn what_the_links_cannot_show_is_said() {
    // A CLF gateway log names no accounts and the SQL no request ids, and the gateway
    // lines of the first wave's addresses were not kept: nothing ties the database to
    // the requests, not even timing, and the report says so instead of staying silent.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-clf", "pg-csvlog", "fcm-bigquery-json"],
        &["--untagged-sql"],
    );
    drop_gateway_lines(
        d.path(),
        &strs(&truth(d.path())["waves"][0]["attacker_ips"]),
    );
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("No statement of the application could be tied")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("pg-csvlog evidence could not be compared")),
        "{notes:?}"
    );
    // Local times read as UTC across a daylight-saving change: no single offset fits, and
    // each record takes the offset of the request-id pairs around it in its file.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "mariadb-audit", "fcm-bigquery-json"],
        &["--start", "2025-03-28"],
    );
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("mariadb-audit evidence moves against")
                && n.contains("2 offsets: 2 h 00 min 3")
                && n.contains("3 h 00 min 3")
                && n.contains("each record was corrected")),
        "{notes:?}"
    );
    check(d.path(), &[], true);
    let notes = notes_of(d.path(), &["--assume-tz", "Europe/Kyiv"]);
    assert!(
        !notes.iter().any(|n| n.contains("moves against")),
        "{notes:?}"
    );
}

#[test]
fn nginx_mysql_sns_equal_truth() {
    let d = crate::util::tmp().unwrap();
    simulate(d.path(), "nginx-json", "mysql-audit-json", "sns-delivery");
    check(d.path(), &[], true);
}

#[test]
fn combined_percona_fcmcsv_equal_truth() {
    let d = crate::util::tmp().unwrap();
    simulate(
        d.path(),
        "nginx-combined",
        "percona-audit-json",
        "fcm-bigquery-csv",
    );
    check(d.path(), &[], true);
}

#[test]
fn kong_percona_xml_sns_equal_truth() {
    // Seed 9 writes Percona's default `OLD` XML (one attribute per line), with records
    // cut short among them and the active file still open (no `</AUDIT>`).
    equals_truth(
        ["kong", "mysql-audit-xml", "sns-delivery"],
        &["--seed", "9"],
        true,
    );
}

#[test]
fn untagged_percona_csv_equal_truth() {
    equals_truth(
        ["apigw-json", "percona-audit-csv", "fcm-bigquery-json"],
        &["--untagged-sql"],
        true,
    );
}

#[test]
fn mariadb_naive_local_time_with_assume_tz() {
    // The zone is MariaDB's; OneSignal's zone-less export times stay UTC.
    let d = crate::util::tmp().unwrap();
    simulate(d.path(), "apigw-json", "mariadb-audit", "onesignal");
    check(d.path(), &["--assume-tz", "Europe/Kyiv"], true);
}

#[test]
fn servers_west_of_utc_across_a_clock_change_equal_truth() {
    // New York's clocks go back on 2 November 2025, the evidence's second day:
    // PostgreSQL prints EDT, then EST; MariaDB's zone-less local times repeat the hour.
    let d = crate::util::tmp().unwrap();
    let sim = [
        "--seed",
        "15",
        "--server-tz",
        "America/New_York",
        "--start",
        "2025-11-01",
    ];
    simulate_with(
        d.path(),
        ["nginx-combined", "pg-stderr,mariadb-audit", "fcm-v1-log"],
        &sim,
    );
    let tz = ["--assume-tz", "America/New_York"];
    check(d.path(), &tz, true);
    let notes = notes_of(d.path(), &tz);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("fell in the hour a daylight-saving change back repeats")),
        "{notes:?}"
    );
}

#[test]
fn a_push_worker_s_clock_an_hour_off_is_corrected() {
    // The backend's send log is written by the application's host: an hour behind, a
    // malicious send seemed to precede its request; an hour ahead, it made a wave of its own.
    equals_truth(
        ["apigw-json", "pg-stderr", "fcm-v1-log"],
        &["--seed", "35", "--push-skew", "-1h"],
        true,
    );
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["envoy", "pg-jsonlog", "expo-push-log"],
        &["--seed", "34", "--push-skew", "1h"],
    );
    check(d.path(), &[], false);
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes.iter().any(|n| n.starts_with(
            "The expo-push-log clock runs 1 h 00 min 2.0 s ahead of the gateway's: 4 of its 4 messages"
        )),
        "{notes:?}"
    );
}

#[test]
fn two_gateway_layers_with_clocks_apart_count_each_request_once() {
    // Kong and Envoy log the same requests; Envoy's host is five minutes ahead. Every
    // request counted twice and the DB's clock compared with a mixture, before. Envoy is
    // first by name, and the DB's clock and the push provider's side with Kong.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["kong,envoy", "pg-stderr", "fcm-bigquery-json"],
        &["--seed", "14", "--gateway-skew", "5m"],
    );
    check(d.path(), &[], true);
    let r = report_json(d.path(), &[]);
    let envoy = r["skews"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["source"] == "gateway:envoy")
        .expect("envoy's clock against kong's");
    assert_eq!(envoy["against"], "gateway:kong (the same requests in both)");
    assert!(
        (envoy["median_s"].as_f64().unwrap() - 300.0).abs() < 1.0,
        "{envoy}"
    );
    // One of each request's two copies is a duplicate.
    let files = r["files"].as_array().unwrap();
    let sum = |fmt: &str, k: &str| -> u64 {
        files
            .iter()
            .filter(|f| f["format"] == fmt)
            .map(|f| f[k].as_u64().unwrap())
            .sum()
    };
    let (lines, copies) = (
        sum("envoy", "lines"),
        sum("envoy", "duplicates") + sum("kong", "duplicates"),
    );
    assert!(
        copies * 100 >= lines * 99,
        "{copies} copies of {lines} envoy lines"
    );
    assert!(strs(&r["undetermined"]).iter().any(|n| n.contains(
        "envoy gateway evidence logs the same requests as kong, by a clock 0 h 05 min 0.0 s ahead"
    ) && n.contains(
        "kong's clock is the reference (the clock pg-stderr and fcm-bigquery-json agree with)"
    )));
    // A provider-run layer keeps its clock: nginx an hour behind API Gateway.
    equals_truth(
        [
            "apigw-json,nginx-combined",
            "pg-stderr",
            "fcm-bigquery-json",
        ],
        &["--seed", "13", "--gateway-skew", "-1h"],
        true,
    );
    // Two provider-run layers four minutes apart (a stage's logs that went through a
    // host's clock on the way): the DB's clock and the push provider's say which is
    // off. API Gateway's CLF preset, the one off, is first by name.
    equals_truth(
        ["apigw-json,apigw-clf", "pg-stderr", "fcm-bigquery-json"],
        &["--seed", "15", "--gateway-skew", "4m"],
        true,
    );
    // API Gateway's records three and a half minutes behind nginx's, and the push
    // provider's export, a clock SNS keeps, sides with nginx: of three clocks, the one
    // the others disagree with is off, provider-run or not.
    equals_truth(
        ["nginx-json,apigw-clf", "pg-stderr", "sns-delivery"],
        &["--seed", "16", "--gateway-skew", "-210s"],
        true,
    );
    // A push worker's clock eight minutes ahead of one layer and six of the other, every
    // send at the same offset (a clock's, no latency): it sides with neither, and the
    // database, an hour off, with neither (accuracy seed 78000 took the push clock's
    // side for the nearer layer, the one that was off).
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["envoy,envoy-json", "pg-stderr", "fcm-v1-log"],
        &[
            "--seed",
            "17",
            "--gateway-skew",
            "133s",
            "--push-skew",
            "506s",
            "--db-skew",
            "-1h",
        ],
    );
    let notes = strs(&report_json(d.path(), &[])["undetermined"]);
    let layers = notes
        .iter()
        .find(|n| n.contains("gateway evidence logs the same requests as"))
        .expect("the layers' clocks compared");
    assert!(
        layers.contains("the other sources' clocks side with no layer"),
        "{layers}"
    );
}

#[test]
fn untagged_mariadb_without_a_zone_is_matched_at_its_zone_offset() {
    // Local times read as UTC are two hours and the skew off, and no request ids tie
    // statements to requests: the account pairs find the offset among all a zone can have.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["nginx-json", "mariadb-audit", "onesignal"],
        &["--untagged-sql"],
    );
    check(d.path(), &[], true);
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes.iter().any(|n| n
            .starts_with("The mariadb-audit times carry no zone and, as read, run 2 h 00 min 3")),
        "{notes:?}"
    );
}

#[test]
fn untagged_mariadb_across_a_dst_change_is_corrected_record_by_record() {
    // Local times read as UTC across the autumn change, no request ids: statements meet
    // their accounts' requests at two offsets, and each record takes its neighbours'.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "mariadb-audit", "fcm-bigquery-json"],
        &[
            "--seed",
            "44",
            "--start",
            "2025-10-24",
            "--untagged-sql",
            "--db-skew",
            "4m",
        ],
    );
    check(d.path(), &[], true);
    let out = report_without_roster(d.path());
    let j: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    assert!(
        strs(&j["undetermined"]).iter().any(|n| n
            .contains("its statements and their accounts' requests show 2 offsets: 2 h 03 min 5")
            && n.contains("3 h 03 min 5")),
        "{:?}",
        j["undetermined"]
    );
    // The simulated server writes one file per UTC day from its first minutes: every
    // file, on either side of the change, starts in its own day's first hour.
    let files: Vec<&Value> = j["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["path"].as_str().unwrap().contains("server_audit-"))
        .collect();
    assert_eq!(files.len(), 5);
    for f in files {
        let path = f["path"].as_str().unwrap();
        let day = &path[path.find("server_audit-").unwrap() + 13..][..10];
        let first = f["first_utc"].as_str().unwrap();
        assert!(first.starts_with(&format!("{day}T00:")), "{path}: {first}");
    }
}

#[test]
fn an_export_on_a_pooled_connection_is_not_the_previous_customers() {
    // Untagged SQL: the attacker's whole-table read ran on the pooled connection a
    // customer's request had used a second before; the session rule gave it that
    // customer's address, flagged for bulk export along with all its traffic.
    equals_truth(
        ["nginx-combined", "mariadb-audit", "fcm-bigquery-csv"],
        &[
            "--seed",
            "957",
            "--untagged-sql",
            "--start",
            "2025-03-27",
            "--db-skew",
            "-90s",
        ],
        true,
    );
}

#[test]
fn untagged_writes_are_not_tied_to_a_read_of_another_record() {
    // During the enumeration, a customer's own order reuses the pooled DB connection 1.6 s
    // after the attacker's read of another record: without request ids, the order's
    // balance change is the customer's, not the attacker's (an extra tampered account
    // before the writes were checked against the request's method).
    equals_truth(
        ["envoy", "pg-jsonlog", "fcm-bigquery-json"],
        &[
            "--untagged-sql",
            "--seed",
            "743",
            "--start",
            "2026-06-01",
            "--db-skew",
            "0s",
        ],
        false,
    );
}

#[test]
fn a_victim_s_sign_in_a_minute_before_did_not_make_the_transfer_from_their_account() {
    // Untagged SQL, an insecure direct object reference: the attacker's transfer, made as
    // the attacker's account, debits a victim no request names. The victim had signed in
    // 56 s before from a carrier-grade NAT address; the sign-in was the closest changing
    // request about the debited account, stood for the transfer, and the victim's
    // address became an indicator of the attack.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["nginx-combined", "percona-audit-csv", "fcm-bigquery-json"],
        &[
            "--seed",
            "36879",
            "--start",
            "2026-06-10",
            "--server-tz",
            "America/Sao_Paulo",
            "--attack-at",
            "10:18:29,18:45:17",
            "--untagged-sql",
            "--other-names",
            "--wave1",
            "idor",
            "--wave2",
            "injection",
        ],
    );
    check(d.path(), &["--assume-tz", "America/Sao_Paulo"], false);
}

#[test]
fn envoy_jsonlog_without_identities_still_finds_the_waves() {
    // Envoy's default format logs no authenticated subject: principals cannot be known.
    let d = crate::util::tmp().unwrap();
    simulate(d.path(), "envoy", "pg-jsonlog", "onesignal");
    check(d.path(), &[], false);
}

#[test]
fn clients_behind_a_load_balancer_are_the_forwarded_addresses() {
    // Istio's JSON at an ingress gateway and nginx JSON both log the balancer as the
    // peer (three private nodes); the attackers are only in X-Forwarded-For.
    for (gw, db) in [
        ("envoy-json", "pg-csvlog"),
        ("nginx-json", "mysql-audit-json"),
    ] {
        let d = crate::util::tmp().unwrap();
        simulate(d.path(), gw, db, "sns-delivery");
        check(d.path(), &[], false);
    }
}

#[test]
fn postgres_default_prefix_names_users_only_on_connection_lines() {
    // '%m [%p] ' with log_connections: statements carry a process id only, and the
    // attacker's sessions are known by their connection lines.
    let d = crate::util::tmp().unwrap();
    simulate(
        d.path(),
        "apigw-json",
        "pg-stderr-default",
        "fcm-bigquery-json",
    );
    check(d.path(), &[], true);
}

#[test]
fn logins_refused_with_400_or_422_are_failed_logins() {
    // OAuth 2 token endpoints (Cognito, Django REST framework) answer a wrong password
    // with 400 `invalid_grant`; Laravel and Rails with 422. Before, only 401, 403 and
    // 429 were failed logins: the stuffing, from three addresses or from a proxy pool,
    // was not seen, and wave 1 was the bonus fraud alone.
    for (formats, status, pool) in [
        (["apigw-json", "pg-stderr", "fcm-bigquery-json"], "400", "0"),
        (["kong", "mysql-audit-json", "sns-delivery"], "422", "60"),
    ] {
        let d = crate::util::tmp().unwrap();
        simulate_with(d.path(), formats, &["--seed", "11", "--proxy-pool", pool]);
        rewrite_lines(d.path(), "gateway", |l| {
            Some(
                l.replace("\"status\":\"401\"", &format!("\"status\":\"{status}\""))
                    .replace("\"status\":401", &format!("\"status\":{status}")),
            )
        });
        check(d.path(), &[], true);
    }
}

#[test]
fn credential_stuffing_from_a_proxy_pool_is_found() {
    // Wave 1's logins spread over a pool of addresses, each trying a few: no address
    // reaches the per-address threshold. Before, wave 1 was the bonus fraud alone, from
    // the few addresses that got in, and the stuffing was not seen.
    // With untagged SQL the names a failed login tried are unknown, while a success is
    // known by its account: an address with one success was taken for one that tried a
    // single name, and left out of the pool with the account it took over.
    for (formats, pool, seed, untagged) in [
        (
            ["apigw-json", "pg-stderr", "fcm-bigquery-json"],
            "60",
            "21",
            false,
        ),
        (
            ["kong", "mysql-audit-json", "sns-delivery"],
            "150",
            "22",
            false,
        ),
        (["apigw-json", "pg-stderr", "onesignal"], "80", "2094", true),
    ] {
        let mut args = vec!["--proxy-pool", pool, "--seed", seed];
        if untagged {
            args.push("--untagged-sql");
        }
        equals_truth(formats, &args, true);
    }
}

#[test]
fn a_proxy_pool_of_one_try_addresses_is_found_whole() {
    // Pools of 300 and 500 over 420 logins: most addresses try once, and with 500 none
    // tries twice. Before, an address had to fail twice to count: the pool of 300 lost
    // 176 of its addresses from the indicators, and the pool of 500 was not found.
    for (formats, pool, seed, extra) in [
        (
            ["apigw-json", "pg-jsonlog", "fcm-bigquery-csv"],
            "300",
            "347642",
            &["--start", "2025-10-12", "--db-skew", "5m", "--untagged-sql"][..],
        ),
        (
            ["apigw-xml", "pg-csvlog", "sns-delivery"],
            "500",
            "249363",
            &["--db-skew", "1h"][..],
        ),
    ] {
        let mut args = vec!["--proxy-pool", pool, "--seed", seed];
        args.extend(extra);
        equals_truth(formats, &args, true);
    }
}

#[test]
fn timing_fits_the_routes_of_pool_addresses_no_detector_flagged() {
    // API Gateway's CLF and CSV presets, untagged SQL, the DB clock an hour ahead or two
    // behind, pools of 300 and 500. The flagged addresses only failed logins; those that
    // got in, unflagged, sent the transfers and promotions. Timing looked only at flagged
    // requests, found no offset, and wave 1 was the DB's bonus changes alone, off by the
    // skew, with no address. At three times the background, five of a quiet route's
    // seven requests fitted another offset, and they outweighed the transfers' eight
    // until the routes at one offset were counted together.
    for (formats, args) in [
        (
            ["apigw-clf", "percona-audit-csv", "fcm-bigquery-json"],
            &["--seed", "814578", "--db-skew", "1h", "--proxy-pool", "300"][..],
        ),
        (
            ["apigw-csv", "percona-audit-csv", "fcm-bigquery-json"],
            &[
                "--seed",
                "884888",
                "--scale",
                "3",
                "--db-skew=-2h",
                "--proxy-pool",
                "500",
            ][..],
        ),
    ] {
        let mut args = args.to_vec();
        args.push("--untagged-sql");
        equals_truth(formats, &args, false);
    }
}

#[test]
fn a_customer_s_order_after_a_pause_on_the_attacker_s_connection_is_the_customer_s() {
    // Untagged SQL: a statement with no request of its own belongs to the request its
    // pooled connection served within the last two seconds. A customer's order came two
    // seconds after the attacker's transfer on the same connection (the DB logs whole
    // seconds), and its +28 points accrual was counted as tampering.
    // Envoy's log names no principals: wave 2's staff identity is not in the evidence.
    equals_truth(
        ["envoy-json", "percona-audit-json", "fcm-bigquery-csv"],
        &[
            "--seed",
            "919743",
            "--start",
            "2025-11-06",
            "--untagged-sql",
            "--proxy-pool",
            "60",
        ],
        false,
    );
}

#[test]
fn transfers_into_a_collector_are_paired_without_request_ids() {
    // Untagged SQL: a transfer's debit and credit carry no request id. One address of a
    // proxy pool got into two accounts at its first tries (no failed login gives it
    // away) and moved points below the outlier limit into the account that collected
    // the pool's other transfers. The fan-in paired debits with credits by request id
    // only, so with none its two transfers, both sides, were left out, and so was it.
    equals_truth(
        ["apigw-json", "mysql-audit-json", "expo-push-log"],
        &[
            "--seed",
            "377488",
            "--start",
            "2025-03-28",
            "--db-skew",
            "-2h",
            "--untagged-sql",
            "--proxy-pool",
            "150",
        ],
        true,
    );
}

#[test]
fn timing_finds_the_offset_when_a_pool_s_silent_addresses_moved_the_points() {
    // API Gateway's CLF preset (no accounts, no agents), untagged SQL, a proxy pool of
    // 150 and the DB clock an hour ahead. Three pool addresses got in at their first
    // tries, so no detector flagged them, and they sent the transfers: most outlying
    // changes followed no flagged request, and the pool's login storm filled a window at
    // every offset. Timing found no offset, the DB clock stayed an hour off, the bonus
    // fraud became a wave of its own, and the three addresses were not indicators.
    // The preset names no principals: wave 2's staff identity is not in the evidence.
    equals_truth(
        ["apigw-clf", "mysql-audit-json", "expo-push-log"],
        &[
            "--seed",
            "796790",
            "--db-skew",
            "1h",
            "--untagged-sql",
            "--proxy-pool",
            "150",
        ],
        false,
    );
}

#[test]
fn injected_statements_without_requests_follow_the_attacker_s_address() {
    // An identity-less gateway (CLF preset: no accounts, no agents), untagged SQL and a
    // wave 2 by SQL injection: the injected probes and the dump carry no request id and
    // name no account, so nothing tied them to a request. Wave 2 had no address, the
    // malicious push was judged legitimate and 192.0.2.77 was not an indicator. Each
    // statement follows one of the injecting address's requests at the offset timing
    // fitted on the bonus changes.
    equals_truth(
        ["apigw-clf", "pg-csvlog", "onesignal"],
        &["--untagged-sql", "--wave2", "injection", "--noise"],
        false,
    );
}

#[test]
fn refunds_and_a_copied_audit_stream_leave_timing_alone() {
    // The same, with a CSV gateway, two DB audit formats of one server (the MySQL plugin's
    // JSON and its RDS activity-stream copy) 12 minutes behind, and the morning-after
    // refunds: the refunds spoiled the timing fit (203.0.113.14 lost), and only the
    // fitted one of the two formats was corrected.
    equals_truth(
        [
            "apigw-csv",
            "mysql-audit-json,rds-activity-stream",
            "sns-delivery",
        ],
        &[
            "--untagged-sql",
            "--wave1",
            "idor",
            "--wave2",
            "injection",
            "--db-skew=-12m",
            "--noise",
            "--compensation",
            "--seed",
            "71909",
            "--scale",
            "2",
            "--start",
            "2025-12-29",
            "--server-tz",
            "Pacific/Auckland",
            "--attack-at",
            "00:03:47,06:46:27",
            "--other-names",
            "--db-via-syslog",
        ],
        false,
    );
}

#[test]
fn a_format_whose_records_were_copies_has_no_gaps_but_a_silence_of_its_own_is_one() {
    // One MySQL server audited to the plugin's JSON log and to an RDS activity stream:
    // the stream's copy of each record is kept, the JSON log's dropped as a duplicate.
    // Gaps were found over what was kept, and the JSON log — its few records of its own
    // a day apart — showed a 24-hour gap every day.
    use std::io::Read;
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["kong", "mysql-audit-json,rds-activity-stream", "onesignal"],
        &[],
    );
    let gaps = |r: &Value| r["gaps"].as_array().unwrap().clone();
    assert_eq!(gaps(&report_json(d.path(), &[])), Vec::<Value>::new());
    // Eight hours cut out of one day of the JSON log: a silence the stream shows was not
    // the server's, and the one gap.
    let dir = d.path().join("db/mysql-audit-json");
    let mut days: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "gz"))
        .collect();
    days.sort();
    let day = &days[1];
    let mut text = String::new();
    flate2::read::MultiGzDecoder::new(std::fs::File::open(day).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let cut = |l: &&str| {
        (l.find("\"timestamp\":\"")).is_some_and(|i| {
            let hour: u32 = l[i + 24..i + 26].parse().unwrap();
            (6..14).contains(&hour)
        })
    };
    let kept: Vec<&str> = text.lines().filter(|l| !cut(l)).collect();
    assert!(kept.len() + 100 < text.lines().count(), "hours cut");
    std::fs::remove_file(day).unwrap();
    std::fs::write(day.with_extension(""), kept.join("\n") + "\n").unwrap();
    let g = gaps(&report_json(d.path(), &[]));
    assert_eq!(g.len(), 1, "{g:?}");
    assert_eq!(g[0]["source"], "db:mysql-audit-json");
    let hours = g[0]["hours"].as_f64().unwrap();
    assert!((7.9..=8.5).contains(&hours), "{g:?}");
}

#[test]
fn an_address_that_reads_many_accounts_every_day_is_not_enumeration() {
    // A partner integration reads 60 customers within an hour every afternoon, the
    // attack day included. Before, each of those hours was enumeration: the partner's
    // address became an attacker's, with a wave a day.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-stderr", "fcm-bigquery-json"],
        &["--seed", "41"],
    );
    let start = 1_761_955_200_000i64; // 2025-11-01T00:00:00Z, the simulation's first day
    let mut lines = String::new();
    for day in 0..4i64 {
        for k in 0..60i64 {
            let ms = start + day * 86_400_000 + 13 * 3_600_000 + k * 40_000;
            let acc = 100_001 + (day * 17 + k * 7) % 1300;
            lines.push_str(&format!(
                "{{\"requestId\":\"partner-{day}-{k}\",\"ip\":\"198.51.100.200\",\"requestTimeEpoch\":\"{ms}\",\"httpMethod\":\"GET\",\"resourcePath\":\"/api/v1/customers/{{customerId}}\",\"path\":\"/prod/api/v1/customers/{acc}\",\"status\":\"200\",\"protocol\":\"HTTP/1.1\",\"responseLength\":\"512\",\"userAgent\":\"crm-sync/2.4\",\"principalId\":\"svc-crm-sync\",\"responseLatency\":\"40\"}}\n"
            ));
        }
    }
    std::fs::write(d.path().join("gateway/apigw-json/partner-sync.log"), lines).unwrap();
    check(d.path(), &[], true);
}

#[test]
fn a_scheduled_bonus_job_is_not_fraud() {
    // A job credits birthday bonuses of 1000 points every morning through the
    // application's database user, with no request behind it: twenty times the typical
    // change, so each credit is an outlier. It is the same change by the same identity
    // every day, and neither a wave nor a tampered balance, with or without the gateway.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-stderr", "fcm-bigquery-json"],
        &["--seed", "42"],
    );
    let mut lines = String::new();
    for day in 1..=4 {
        for k in 0..5 {
            lines.push_str(&format!(
                "2025-11-0{day} 06:00:{k:02}.000 EET [20300] loyalty_app@loyalty LOG:  AUDIT: \
                 SESSION,{k},1,WRITE,UPDATE,TABLE,public.bonus_accounts,\"UPDATE bonus_accounts \
                 SET balance = balance + $1, updated_at = now() WHERE account_id = $2\",\
                 \"1000,{}\"\n",
                100_011 + day * 100 + k
            ));
        }
    }
    std::fs::write(d.path().join("db/pg-stderr/birthday-bonus.log"), lines).unwrap();
    check(d.path(), &[], true);
    let out = db_alone(d.path());
    assert_eq!(adjustments(out.path()), truth_bonus(&truth(d.path())));
}

/// The tampered balances `truth.json` lists: account → signed delta.
fn truth_bonus(t: &Value) -> BTreeMap<String, i64> {
    t["affected"]["bonus_tampered"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_i64().unwrap()))
        .collect()
}

/// The fraudulent deltas of a `bonus-adjustments.csv` in an output directory.
fn adjustments(out: &Path) -> BTreeMap<String, i64> {
    csv_rows(&out.join("bonus-adjustments.csv"))
        .into_iter()
        .map(|r| {
            (
                r["account_id"].clone(),
                r["fraudulent_delta"].parse().unwrap(),
            )
        })
        .collect()
}

/// `report` (with the roster) on the database evidence of a directory alone.
fn db_alone(dir: &Path) -> tempfile::TempDir {
    let out = crate::util::tmp().unwrap();
    ran(bl()
        .args(["report", "-q", "--roster"])
        .arg(dir.join("roster.csv"))
        .arg(dir.join("db"))
        .arg("--out-dir")
        .arg(out.path()));
    out
}

#[test]
fn database_evidence_alone_gives_the_waves_and_says_what_it_cannot_see() {
    // A team holding only the database's audit log: the statements the detectors flag
    // (balance changes, an injected tautology) are the attacker's though no request
    // names an address. Before, they were findings of no wave, and no account was
    // affected.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "mysql-audit-json", "fcm-bigquery-json"],
        &["--seed", "11"],
    );
    // Without request ids a transfer's balance UPDATEs and ledger rows are one
    // operation only by their session and moments: counted apart, every delta doubled.
    let u = crate::util::tmp().unwrap();
    simulate_with(
        u.path(),
        ["apigw-json", "mysql-audit-json", "fcm-bigquery-json"],
        &["--seed", "11", "--untagged-sql"],
    );
    for dir in [
        root().join("sample-logs"),
        d.path().to_path_buf(),
        u.path().to_path_buf(),
    ] {
        let out = db_alone(&dir);
        assert_eq!(
            adjustments(out.path()),
            truth_bonus(&truth(&dir)),
            "{}",
            dir.display()
        );
        // The tautology injected into a read of the customers is the second wave; the
        // exports the application ran for the attacker are not seen, so exposure may
        // fall short of the truth, and never goes beyond it.
        let exposed: BTreeSet<String> = csv_rows(&out.path().join("affected-customers.csv"))
            .into_iter()
            .filter(|r| r["impacts"].split(';').any(|x| x == "data_exposed"))
            .map(|r| r["account_id"].clone())
            .collect();
        let truly: BTreeSet<String> = strs(&truth(&dir)["affected"]["data_exposed"])
            .into_iter()
            .collect();
        assert!(exposed.is_subset(&truly), "{}", dir.display());
        assert!(exposed.len() * 100 >= truly.len() * 99, "{}", dir.display());
        let j: Value =
            serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap())
                .unwrap();
        assert_eq!(j["waves"].as_array().unwrap().len(), 2);
        let notes = strs(&j["undetermined"]);
        assert!(
            notes
                .iter()
                .any(|n| n.contains("tied to no request") && n.contains("a lower bound")),
            "{notes:?}"
        );
    }
}

/// `report` with the sample roster on `inputs` (evidence or a case file) and `args`,
/// which finishes with rejected lines (sample-logs holds some): its output directory.
fn report_on(inputs: &[&Path], args: &[&str]) -> tempfile::TempDir {
    let out = crate::util::tmp().unwrap();
    (bl().args(["report", "-q", "--roster", "sample-logs/roster.csv"]))
        .args(inputs)
        .args(args)
        .arg("--out-dir")
        .arg(out.path())
        .assert()
        .code(2);
    out
}

/// A pgaudit record of an intruder's own session in PostgreSQL's stderr log, at 13:`t`
/// (minutes and seconds) EET on the sample's attack day.
fn intruder_audit(t: &str, n: u32, class: &str, cmd: &str, sql: &str) -> String {
    format!(
        "2025-11-04 13:{t}.000 EET [40002] intruder@loyalty LOG:  AUDIT: \
         SESSION,{n},1,{class},{cmd},,,\"{sql}\",<not logged>\n"
    )
}

#[test]
fn an_intruder_s_dump_by_key_ranges_is_told_range_by_range() {
    // Beside the sample incident, a database login of its own dumps the customers in
    // chunks of a hundred keys, as `BETWEEN` and as `>= … <`.
    let extra = crate::util::tmp().unwrap();
    let log: String = (0..12)
        .map(|n| {
            let (lo, hi) = (100_001 + n * 100, 100_100 + n * 100);
            let filter = match n % 2 {
                0 => format!("id BETWEEN {lo} AND {hi}"),
                _ => format!("id >= {lo} AND id < {}", hi + 1),
            };
            format!(
                "2025-11-04 13:{:02}:{:02}.000 EET [40001] intruder@loyalty LOG:  AUDIT: \
                 SESSION,{},1,READ,SELECT,TABLE,public.customers,\"SELECT id, email, phone \
                 FROM customers WHERE {filter}\",<not logged>\n",
                20 + n / 3,
                (n % 3) * 20,
                n + 1
            )
        })
        .collect();
    std::fs::write(extra.path().join("postgresql-intruder.log"), log).unwrap();
    let out = report_on(&[Path::new("sample-logs"), extra.path()], &[]);
    let rows = csv_rows(&out.path().join("evidence.csv"));
    let told = |acc: &str, keys: &str| {
        rows.iter().any(|r| {
            r["subject"] == acc
                && r["kind"] == "data_exposed"
                && r["reason"].contains(&format!("by key range (keys {keys})"))
        })
    };
    assert!(told("100050", "100001–100100"));
    assert!(told("100150", "100101–100200"));
    assert!(told("101200", "101101–101200"));
    assert!(!rows
        .iter()
        .any(|r| r["subject"] == "101250" && r["reason"].contains("key range")));
}

#[test]
fn calls_by_position_of_a_routine_the_intruder_defined_are_read_by_its_definition() {
    // Beside the sample incident, a database login of its own defines two routines of
    // names no vocabulary knows — the function over several lines, as PostgreSQL's
    // stderr log continues a message — and calls them by position.
    let extra = crate::util::tmp().unwrap();
    let line = intruder_audit;
    let mut log = line(
        "20:00",
        1,
        "DDL",
        "CREATE FUNCTION",
        "CREATE FUNCTION public.fx(a bigint, b integer) RETURNS void LANGUAGE sql AS $$\n\t  \
         UPDATE bonus_accounts SET balance = balance - b WHERE account_id = a;\n\t$$",
    );
    log += &line(
        "20:30",
        2,
        "DDL",
        "CREATE PROCEDURE",
        "CREATE PROCEDURE public.gx(bigint, integer) LANGUAGE sql AS 'UPDATE \
         bonus_accounts SET balance = balance + $2 WHERE account_id = $1'",
    );
    log += &line("21:00", 3, "READ", "SELECT", "SELECT fx(100120, 900)");
    log += &line("21:30", 4, "FUNCTION", "CALL", "CALL gx(100121, 5000)");
    std::fs::write(extra.path().join("postgresql-intruder.log"), log).unwrap();
    let out = report_on(&[Path::new("sample-logs"), extra.path()], &[]);
    let adj = adjustments(out.path());
    assert_eq!(adj.get("100120"), Some(&-900), "{adj:?}");
    assert_eq!(adj.get("100121"), Some(&5000), "{adj:?}");
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let notes = strs(&json["undetermined"]);
    assert!(
        notes.iter().any(|n| {
            n.starts_with("2 statements name by position the parameters of a routine")
                && n.contains("fx(account_id, balance), defined at")
                && n.contains("postgresql-intruder.log:1;")
        }),
        "{notes:?}"
    );
}

#[test]
fn balance_updates_by_phone_or_e_mail_name_the_roster_s_accounts() {
    // Beside the sample incident, a database login of its own changes cards' balances by
    // the phone numbers they were issued to (with and without the `+`) and by an
    // e-mail address; one number is no customer's.
    let extra = crate::util::tmp().unwrap();
    let line = intruder_audit;
    let log = line(
        "21:00",
        1,
        "WRITE",
        "UPDATE",
        "UPDATE bonus_accounts SET balance = balance + 7000 WHERE phone = '+380675664324'",
    ) + &line(
        "21:30",
        2,
        "WRITE",
        "UPDATE",
        "UPDATE bonus_accounts SET balance = balance - 300 WHERE phone_number = '380674916708'",
    ) + &line(
        "22:00",
        3,
        "WRITE",
        "UPDATE",
        "UPDATE bonus_accounts SET balance = balance + 900 WHERE email = 'Natalia.Bondarenko29@mail.example'",
    ) + &line(
        "22:30",
        4,
        "WRITE",
        "UPDATE",
        "UPDATE bonus_accounts SET balance = balance + 5 WHERE phone = '+380990000000'",
    );
    std::fs::write(extra.path().join("postgresql-intruder.log"), log).unwrap();
    let out = report_on(&[Path::new("sample-logs"), extra.path()], &[]);
    let adj = adjustments(out.path());
    assert_eq!(adj.get("100124"), Some(&7000), "{adj:?}");
    assert_eq!(adj.get("100125"), Some(&-300), "{adj:?}");
    assert_eq!(adj.get("100126"), Some(&900), "{adj:?}");
    let json: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let notes = strs(&json["undetermined"]);
    assert!(
        notes.iter().any(|n| {
            n.starts_with("4 statements name their rows by a customer's phone number")
                && n.contains("; 3 were named through the roster's")
                && n.contains("1 name 1 values the roster does not hold (e.g. +380990000000)")
        }),
        "{notes:?}"
    );
}

#[test]
fn a_schema_dump_names_positions_in_evidence_and_in_a_case_file() {
    // The intruder calls a function by position and adds a ledger row without a column
    // list; the definitions are in the responder's `pg_dump --schema-only`, not in the
    // logs.
    let extra = crate::util::tmp().unwrap();
    let line = intruder_audit;
    let log = line("21:00", 1, "READ", "SELECT", "SELECT award(100122, 700)")
        + &line(
            "21:30",
            2,
            "WRITE",
            "INSERT",
            "INSERT INTO bonus_ledger VALUES (DEFAULT, 100123, 1200, 'x')",
        );
    std::fs::write(extra.path().join("postgresql-intruder.log"), log).unwrap();
    let schema = extra.path().join("schema.sql");
    std::fs::write(
        &schema,
        "--\n-- PostgreSQL database dump\n--\n\nSET client_encoding = 'UTF8';\n\n\
         CREATE FUNCTION public.award(bigint, integer) RETURNS void\n    LANGUAGE sql\n    \
         AS $_$UPDATE public.bonus_accounts SET balance = balance + $2 WHERE account_id = $1$_$;\n\n\
         CREATE TABLE public.bonus_ledger (\n    id bigint NOT NULL,\n    account_id bigint NOT \
         NULL,\n    points integer NOT NULL,\n    note text\n);\n",
    )
    .unwrap();
    let log_dir = crate::util::tmp().unwrap();
    std::fs::rename(
        extra.path().join("postgresql-intruder.log"),
        log_dir.path().join("postgresql-intruder.log"),
    )
    .unwrap();
    let with_schema = ["--schema", schema.to_str().unwrap()];
    let report = |inputs: &[&Path], schema: bool| {
        report_on(inputs, if schema { &with_schema[..] } else { &[] })
    };
    let evidence = [Path::new("sample-logs"), log_dir.path()];
    let without = adjustments(report(&evidence, false).path());
    assert!(!without.contains_key("100122") && !without.contains_key("100123"));
    let with = report(&evidence, true);
    let adj = adjustments(with.path());
    assert_eq!(adj.get("100122"), Some(&700), "{adj:?}");
    assert_eq!(adj.get("100123"), Some(&1200), "{adj:?}");
    // The same from a case file the evidence was parsed into without the schema.
    let case = extra.path().join("case.parquet");
    bl().args(["ingest", "-q"])
        .args(evidence)
        .arg("-o")
        .arg(&case)
        .assert()
        .code(2);
    let from_case = report(&[case.as_path()], true);
    assert_eq!(adjustments(from_case.path()), adj);
    let json: Value =
        serde_json::from_slice(&std::fs::read(with.path().join("report.json")).unwrap()).unwrap();
    let notes = strs(&json["undetermined"]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("award(account_id, balance), defined at")
                && n.contains("schema.sql:7")
                && n.contains("table bonus_ledger(id, account_id, points, note)")),
        "{notes:?}"
    );
}

#[test]
fn without_roster_exposure_is_bounded_and_said() {
    let out = crate::util::tmp().unwrap();
    bl().args(["report", "-q", "sample-logs", "--out-dir"])
        .arg(out.path())
        .assert()
        .code(2);
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(md.contains("No roster was given"));
    // The devices the malicious message reached that no account is known for are
    // counted, as many as message-recipients.csv lists without an account.
    let rec = csv_rows(&out.path().join("message-recipients.csv"));
    let delivered: BTreeSet<&str> = (rec.iter())
        .filter(|r| r["outcome"] == "delivered")
        .map(|r| r["device_id"].as_str())
        .collect();
    let unnamed: BTreeSet<&str> = (rec.iter())
        .filter(|r| r["outcome"] == "delivered" && r["account_id"].is_empty())
        .map(|r| r["device_id"].as_str())
        .collect();
    assert!(!unnamed.is_empty());
    let said = format!(
        "{} of the {} devices malicious messages were delivered to map to no account (no roster was given",
        unnamed.len(),
        delivered.len()
    );
    assert!(md.contains(&said), "{said}");
    let exposed = |out: &Path| -> BTreeSet<String> {
        csv_rows(&out.join("affected-customers.csv"))
            .into_iter()
            .filter(|r| r["impacts"].split(';').any(|x| x == "data_exposed"))
            .map(|r| r["account_id"].clone())
            .collect()
    };
    let plain = exposed(out.path());
    let truly: BTreeSet<String> =
        strs(&truth(&root().join("sample-logs"))["affected"]["data_exposed"])
            .into_iter()
            .collect();
    assert_eq!(
        plain.difference(&truly).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
    // A scanner the day before asks for accounts 0 and 1 and is refused: that shows no
    // such account, and the dump does not expose one.
    let extra = crate::util::tmp().unwrap();
    let scans: String = (0..6)
        .map(|k| {
            format!(
                r#"{{"requestId":"5c0a1e2b-0000-4000-8000-00000000000{k}","ip":"45.188.83.128","caller":"-","user":"-","requestTime":"03/Nov/2025:02:00:0{k} +0000","httpMethod":"GET","resourcePath":"/api/v1/customers/{{customerId}}/profile","path":"/prod/api/v1/customers/{}/profile","status":"401","protocol":"HTTP/1.1","responseLength":"54","userAgent":"Mozilla/5.0 zgrab/0.x","responseLatency":"3"}}"#,
                k % 2
            ) + "\n"
        })
        .collect();
    std::fs::write(extra.path().join("scanner-access.log"), scans).unwrap();
    let out2 = crate::util::tmp().unwrap();
    bl().args(["report", "-q", "sample-logs"])
        .arg(extra.path())
        .arg("--out-dir")
        .arg(out2.path())
        .assert()
        .code(2);
    let inv = std::fs::read_to_string(out2.path().join("report.md")).unwrap();
    assert!(inv.contains("scanner-access.log"));
    let with_scans = exposed(out2.path());
    assert_eq!(
        with_scans.symmetric_difference(&plain).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
}

#[test]
fn without_roster_devices_map_to_accounts_through_the_database_s_registrations() {
    // API Gateway's CLF preset logs the route template only
    // (`/customers/{customerId}/devices/{deviceId}`): the registrations' device ids are in
    // the application's INSERTs into its device table alone.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-clf", "pg-csvlog", "fcm-bigquery-json"],
        &["--seed", "5"],
    );
    let (pushed, out) = pushed_without_roster(d.path());
    let truly: BTreeSet<String> = strs(&truth(d.path())["affected"]["malicious_push"])
        .into_iter()
        .collect();
    assert_eq!(
        pushed.difference(&truly).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
    assert!(pushed.len() >= 50, "{}", pushed.len());
    let rec = csv_rows(&out.path().join("message-recipients.csv"));
    let named = rec.iter().filter(|r| !r["account_id"].is_empty()).count();
    assert!(named > 0 && named < rec.len(), "{named} of {}", rec.len());
    // An app that keeps the token on the customer's own row and sets it with an UPDATE
    // maps the same devices.
    let re = regex::Regex::new(
        r"INSERT INTO customer_devices \(account_id, installation_id, platform\) VALUES \((\d+), '([^']+)', '[a-z]+'\)",
    )
    .unwrap();
    let updates = std::cell::Cell::new(0);
    rewrite_lines(d.path(), "db/pg-csvlog", |line| {
        updates.set(updates.get() + re.find_iter(line).count());
        Some(
            re.replace_all(line, "UPDATE customers SET fcm_token = '$2' WHERE id = $1")
                .into_owned(),
        )
    });
    assert!(updates.get() > 50, "{}", updates.get());
    let (updated, _) = pushed_without_roster(d.path());
    assert_eq!(updated, pushed);
}

#[test]
fn clock_skew_is_estimated_and_corrected() {
    let out = crate::util::tmp().unwrap();
    ran(bl()
        .args([
            "report",
            "-q",
            "sample-logs",
            "--roster",
            "sample-logs/roster.csv",
            "--out-dir",
        ])
        .arg(out.path()));
    let j: Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let s = &j["skews"][0];
    assert_eq!(s["applied"], true);
    assert!((s["median_s"].as_f64().unwrap() - 37.0).abs() < 0.1, "{s}");
}

#[test]
fn untagged_sql_links_statements_by_account_time_and_session() {
    // An application that does not tag SQL with request ids: statements are joined to
    // requests by the account they name, the time, and the pooled session, and the DB
    // clock skew is estimated from account pairs.
    let d = crate::util::tmp().unwrap();
    bl().args(["simulate", "--untagged-sql", "--out-dir"])
        .arg(d.path())
        .assert()
        .success();
    check(d.path(), &[], true);
}

#[test]
fn expo_push_log_equal_truth() {
    // Expo gives every recipient a ticket id of its own; the batches of one send are one
    // message, and its receipts (15 minutes later) are not attack activity.
    let d = crate::util::tmp().unwrap();
    simulate(d.path(), "kong", "pg-csvlog", "expo-push-log");
    check(d.path(), &[], true);
}

#[test]
fn fcm_send_log_beside_bigquery_equal_truth() {
    equals_truth(
        [
            "apigw-json",
            "mysql-audit-json",
            "fcm-v1-log,fcm-bigquery-csv",
        ],
        &["--seed", "12"],
        true,
    );
}

#[test]
fn another_applications_names_equal_truth() {
    // Routes, tables and columns as another team names them (members and rewards,
    // `/mobile/v3/…`, `/backoffice/…`, an `app` schema): nothing may hang on the
    // sample's names.
    equals_truth(
        ["nginx-json", "pg-csvlog", "onesignal"],
        &["--other-names", "--seed", "21"],
        true,
    );
}

#[test]
fn names_drawn_from_a_seed_equal_truth() {
    // The drawn names put the drains on `/api/v2/wallets/{id}/loyalty`: `wallets` holds
    // no customer word, Envoy logs no template or subject, and the SQL carries no request
    // ids. Three pool addresses that got in at their first tries were tied to their bonus
    // changes only through the account their path names; before, they were no attacker
    // addresses. The evidence shows that `wallets` is followed by accounts.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["envoy", "pg-stderr", "fcm-bigquery-csv"],
        &[
            "--seed",
            "351686",
            "--random-names",
            "24151",
            "--untagged-sql",
            "--proxy-pool",
            "150",
        ],
    );
    // Envoy's default format logs no signed-in subject: no principal to judge by place.
    check(d.path(), &[], false);
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("Request paths were read as naming accounts after `wallets`")),
        "{notes:?}"
    );
}

#[test]
fn waves_at_the_day_s_peak_equal_truth() {
    // Both waves in the busiest hours, two hours apart, with a proxy pool among the
    // customers who log in then: the sample's waves come at night and in the morning.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["kong", "pg-csvlog", "fcm-bigquery-json"],
        &[
            "--seed",
            "31",
            "--attack-at",
            "12:10,14:20",
            "--proxy-pool",
            "60",
        ],
    );
    let waves = truth(d.path())["waves"].clone();
    let start = |w: usize| waves[w]["start_utc"].as_str().unwrap().to_string();
    assert!(
        start(0).contains("T12:10:") && start(1).contains("T14:2"),
        "{waves}"
    );
    check(d.path(), &[], true);
}

#[test]
fn refunds_and_goodwill_credits_the_morning_after_are_not_the_attacker_s() {
    // Staff refund every drained account from the office, then a script credits goodwill
    // points to 300 customers, one POST each with the account in the query. Envoy logs no
    // identity and the SQL no request ids: the refunds were a third wave, and once the
    // query's account tied them to the office, the office was an attacker (its refunds
    // outlying, its script an "enumeration").
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["envoy", "pg-stderr", "fcm-bigquery-json"],
        &["--seed", "203", "--compensation", "--untagged-sql"],
    );
    check(d.path(), &[], false);
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("7 outlying credits put back exactly what")),
        "{notes:?}"
    );
    // API Gateway's CLF preset: route templates only, the refunds tied by timing or not
    // at all.
    equals_truth(
        ["apigw-clf", "pg-stderr", "sns-delivery"],
        &[
            "--seed",
            "764395",
            "--random-names",
            "93864",
            "--compensation",
            "--untagged-sql",
            "--proxy-pool",
            "150",
        ],
        false,
    );
}

#[test]
fn a_transfer_s_credit_is_the_sender_s_request_not_the_receiver_s_login() {
    // Untagged SQL: a customer's transfer debits the sender and credits the receiver on
    // one connection in the same second. The credit names the receiver, whom the attacker
    // had logged in as 18 s before; the same-account rule took that login for the
    // credit's request, and the customer's gift for the attacker's.
    equals_truth(
        ["apigw-xml", "mysql-audit-xml", "onesignal"],
        &[
            "--noise",
            "--seed",
            "772479",
            "--attack-at",
            "06:44:38,14:11:14",
            "--start",
            "2025-08-09",
            "--server-tz",
            "America/Sao_Paulo",
            "--db-skew=-13m",
            "--compensation",
            "--untagged-sql",
        ],
        true,
    );
}

#[test]
fn per_token_fcm_sends_are_one_message_each() {
    // The backend sent to every token: the BigQuery export holds one message id per
    // device. With its send log the incident matches truth; without it (the export
    // alone) each send is still one message, by campaign and time, with its recipients.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-stderr", "fcm-v1-log,fcm-bigquery-json"],
        &["--seed", "8"],
    );
    check(d.path(), &[], true);
    std::fs::remove_dir_all(d.path().join("push/fcm-v1-log")).unwrap();
    let t = truth(d.path());
    let out = crate::util::tmp().unwrap();
    ran(bl()
        .args(["affected", "-q", "--roster"])
        .arg(d.path().join("roster.csv"))
        .arg(d.path())
        .arg("--out-dir")
        .arg(out.path()));
    let msgs = csv_rows(&out.path().join("messages.csv"));
    let n = |v: &str| msgs.iter().filter(|m| m["verdict"] == v).count();
    assert_eq!(n("malicious"), strs(&t["messages"]["malicious"]).len());
    assert_eq!(n("legitimate"), strs(&t["messages"]["legitimate"]).len());
    assert!(msgs
        .iter()
        .all(|m| m["recipients"].parse::<u64>().unwrap() > 100));
    let rows = csv_rows(&out.path().join("affected-customers.csv"));
    let pushed: BTreeSet<String> = rows
        .iter()
        .filter(|r| r["impacts"].split(';').any(|x| x == "malicious_push"))
        .map(|r| r["account_id"].clone())
        .collect();
    assert_eq!(
        pushed,
        strs(&t["affected"]["malicious_push"]).into_iter().collect()
    );
}

#[test]
fn db_audit_through_syslog_equal_truth() {
    // Even seeds write rsyslog's traditional lines (local time, no year, no zone), odd
    // ones high-precision ones (RFC 3339): MariaDB's records without a time of their own,
    // among another program's lines, and PostgreSQL's statements cut into `[line-chunk]`
    // messages; from seed 6 on, PostgreSQL's prefix leaves time and process id to syslog.
    for (db, seed) in [
        ("mariadb-audit", "4"),
        ("mariadb-audit", "5"),
        ("pg-stderr", "5"),
        ("pg-stderr", "6"),
        ("pg-stderr", "7"),
    ] {
        let d = crate::util::tmp().unwrap();
        simulate_with(
            d.path(),
            ["apigw-json", db, "fcm-bigquery-json"],
            &["--db-via-syslog", "--seed", seed],
        );
        let files = crate::ingest::inventory(&[d.path().join("db").to_str().unwrap()]);
        assert!(files.iter().all(|f| f.format == format!("syslog+{db}")));
        assert!(files.iter().map(|f| f.skipped).sum::<u64>() > 0);
        check(d.path(), &[], true);
    }
}

#[test]
fn syslog_times_without_a_year_read_on_across_a_month_and_a_year_end() {
    // rsyslog's traditional lines carry no year. Evidence from 28 March to 1 April mostly
    // dates March: the April lines are that year's, not the year before's (as a file's
    // last change in March would have them). Evidence from 30 December to 3 January: the
    // January lines are the next year's. Both dated the April or January lines a year
    // off, which put accounts' first sightings, and so what a whole-table export exposed
    // without a roster, a year away.
    for (db, seed, start, first, last) in [
        (
            "mariadb-audit",
            "4",
            "2025-03-28",
            "2025-03-28",
            "2025-04-01",
        ),
        ("pg-stderr", "6", "2025-12-30", "2025-12-30", "2026-01-03"),
    ] {
        let d = crate::util::tmp().unwrap();
        let tz = "America/Los_Angeles";
        simulate_with(
            d.path(),
            ["nginx-json", db, "fcm-bigquery-json"],
            &[
                "--db-via-syslog",
                "--seed",
                seed,
                "--start",
                start,
                "--server-tz",
                tz,
            ],
        );
        let r = report_json(d.path(), &["--assume-tz", tz]);
        let day = |k: &str| r[k].as_str().unwrap()[..10].to_string();
        assert_eq!(
            (day("evidence_first_utc"), day("evidence_last_utc")),
            (first.to_string(), last.to_string()),
            "{db}"
        );
        check(d.path(), &["--assume-tz", tz], true);
    }
}

/// pgaudit with session and object auditing both on logs each audited write twice, as
/// SESSION and as OBJECT (as `log_relation` logs a statement once per table): the bundled
/// incident so logged gives the same bonus corrections and affected accounts, not twice
/// the points.
#[test]
fn pgaudit_records_repeating_one_statement_count_once() {
    use std::io::{Read, Write};
    let d = crate::util::tmp().unwrap();
    let src = root().join("sample-logs");
    let mut copied = 0;
    for entry in walk(&src) {
        let rel = entry.strip_prefix(&src).unwrap();
        let to = d.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        if !rel.starts_with("db/pg-stderr") {
            std::fs::copy(&entry, &to).unwrap();
            continue;
        }
        let gz = entry.extension().is_some_and(|x| x == "gz");
        let mut text = String::new();
        if gz {
            flate2::read::MultiGzDecoder::new(std::fs::File::open(&entry).unwrap())
                .read_to_string(&mut text)
                .unwrap();
        } else {
            text = std::fs::read_to_string(&entry).unwrap();
        }
        // A record and its TAB continuation lines, then its OBJECT copy.
        let mut out = String::new();
        let mut rec: Vec<&str> = Vec::new();
        let mut flush = |rec: &mut Vec<&str>, out: &mut String| {
            if rec.is_empty() {
                return;
            }
            let whole = rec.join("\n");
            out.push_str(&whole);
            out.push('\n');
            if whole.contains("AUDIT: SESSION,") && whole.contains(",WRITE,") {
                out.push_str(&whole.replacen("AUDIT: SESSION,", "AUDIT: OBJECT,", 1));
                out.push('\n');
                copied += 1;
            }
            rec.clear();
        };
        for l in text.lines() {
            if !l.starts_with('\t') {
                flush(&mut rec, &mut out);
            }
            rec.push(l);
        }
        flush(&mut rec, &mut out);
        if gz {
            let mut w = flate2::write::GzEncoder::new(
                std::fs::File::create(&to).unwrap(),
                flate2::Compression::fast(),
            );
            w.write_all(out.as_bytes()).unwrap();
            w.finish().unwrap();
        } else {
            std::fs::write(&to, out).unwrap();
        }
    }
    assert!(copied > 1000, "{copied}");
    let (once, twice) = (affected(&src, &[]), affected(d.path(), &[]));
    for f in ["bonus-adjustments.csv", "affected-customers.csv"] {
        assert_eq!(
            std::fs::read_to_string(once.path().join(f)).unwrap(),
            std::fs::read_to_string(twice.path().join(f)).unwrap(),
            "{f}"
        );
    }
}

/// Every file under `dir`, sorted.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// MySQL Enterprise Audit with a filter that logs table access and not statements (a
/// common filter): each statement is known only from its per-table records, which carry
/// it (the attack's days are all such). The first day logs the statements' `general`
/// records as well, after their table records: the table records then echo them.
#[test]
fn mysql_audit_of_table_access_alone_equals_truth() {
    use std::io::{Read, Write};
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "mysql-audit-json", "fcm-bigquery-json"],
        &["--seed", "8"],
    );
    let tables = regex::Regex::new(r"(?i)\b(?:FROM|JOIN|INTO|UPDATE)\s+([A-Za-z_][\w.]*)").unwrap();
    let dir = d.path().join("db/mysql-audit-json");
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let mut access = 0;
    for (k, path) in names.iter().enumerate() {
        let gz = path.extension().is_some_and(|x| x == "gz");
        let mut text = String::new();
        if gz {
            flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap())
                .read_to_string(&mut text)
                .unwrap();
        } else {
            text = std::fs::read_to_string(path).unwrap();
        }
        let mut out: Vec<String> = Vec::new();
        for line in text.lines() {
            let l = line.trim().trim_end_matches(',');
            let Ok(mut v) = serde_json::from_str::<Value>(l) else {
                continue;
            };
            if v["class"] != "general" {
                out.push(v.to_string());
                continue;
            }
            let q = v["general_data"]["query"].as_str().unwrap().to_string();
            let cmd = v["general_data"]["sql_command"]
                .as_str()
                .unwrap()
                .to_string();
            let general = v.clone();
            let mut seen = BTreeSet::new();
            for c in tables.captures_iter(&q) {
                if !seen.insert(c[1].to_string()) {
                    continue;
                }
                v["class"] = "table_access".into();
                v["event"] = if cmd == "select" {
                    "read".into()
                } else {
                    cmd.clone().into()
                };
                v.as_object_mut().unwrap().remove("general_data");
                v["table_access_data"] = serde_json::json!({"db": "loyalty", "table": &c[1], "query": &q, "sql_command": &cmd});
                out.push(v.to_string());
                access += 1;
            }
            if k == 0 {
                out.push(general.to_string());
            }
        }
        let body = format!("[\n{}\n]\n", out.join(",\n"));
        if gz {
            let mut w = flate2::write::GzEncoder::new(
                std::fs::File::create(path).unwrap(),
                flate2::Compression::fast(),
            );
            w.write_all(body.as_bytes()).unwrap();
            w.finish().unwrap();
        } else {
            std::fs::write(path, body).unwrap();
        }
    }
    assert!(access > 1000, "{access}");
    check(d.path(), &[], true);
}

#[test]
fn one_database_logged_in_several_formats_counts_each_record_once() {
    // PostgreSQL with `log_destination = 'stderr,csvlog,jsonlog'` writes every statement
    // three times: each bonus change would count three times. The second case is one
    // statement stream in formats that write it differently (bound parameters against
    // inline values, milliseconds against naive local seconds).
    for (db, seed) in [
        ("pg-stderr,pg-csvlog,pg-jsonlog", "2003"),
        ("pg-csvlog,mariadb-audit", "2001"),
    ] {
        let d = crate::util::tmp().unwrap();
        simulate_with(
            d.path(),
            ["apigw-json", db, "fcm-bigquery-json"],
            &["--seed", seed],
        );
        check(d.path(), &[], true);
        let j = report_json(d.path(), &[]);
        let note = strs(&j["undetermined"])
            .into_iter()
            .find(|n| n.contains("same records in more than one format"))
            .expect("the copies are said");
        assert!(
            note.contains("keeping the copy of the format whose records carry more fields"),
            "{note}"
        );
        let files = j["files"].as_array().unwrap();
        let n = |f: &Value, k: &str| f[k].as_u64().unwrap();
        let dups: u64 = files.iter().map(|f| n(f, "duplicates")).sum();
        assert!(dups > 1000, "{dups}");
        for f in files {
            assert_eq!(
                n(f, "records"),
                n(f, "events") + n(f, "duplicates") + n(f, "rejected") + n(f, "skipped")
            );
        }
    }
}

#[test]
fn one_database_in_two_files_of_one_format_counts_each_record_once() {
    // One server's stderr caught twice, with the operators' prefix and with the default
    // one (no user, no database): same format, files over the same hours. Untagged, every
    // copied statement looked like one no request explains, and the waves spread over
    // the whole evidence.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        [
            "apigw-json",
            "pg-stderr,pg-stderr-default",
            "fcm-bigquery-json",
        ],
        &["--seed", "2004", "--untagged-sql"],
    );
    check(d.path(), &[], true);
    let note = notes_of(d.path(), &[])
        .into_iter()
        .find(|n| n.contains("same records more than once"))
        .expect("the copies are said");
    assert!(
        note.contains("pg-stderr in 2 series of files over the same hours"),
        "{note}"
    );
}

#[test]
fn statements_that_name_no_user_or_host_are_the_pool_s() {
    // PostgreSQL's default prefix (`%m [%p] `) and untagged SQL: a statement names only
    // its backend pid, and the application's pooled backends were opened before the log
    // began. Taken for direct sessions, each pid that carried one flagged change made
    // everything it served for days the attacker's: waves over the whole evidence.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-stderr-default", "sns-delivery"],
        &["--seed", "2005", "--untagged-sql"],
    );
    check(d.path(), &[], true);
    assert!(notes_of(d.path(), &[])
        .iter()
        .any(|n| n.contains("name neither a user nor a client host")));
}

#[test]
fn one_request_stream_in_two_gateway_formats_counts_each_request_once() {
    // API Gateway behind nginx (or nginx with a combined and a JSON `access_log`) logs
    // every request twice: "274 of 284 logins failed" where 142 were made, and two
    // whole-table reads reported for one.
    let findings = |gateway: &str| {
        let d = crate::util::tmp().unwrap();
        simulate_with(
            d.path(),
            [gateway, "pg-csvlog", "fcm-bigquery-json"],
            &["--seed", "2002"],
        );
        check(d.path(), &[], true);
        let j = report_json(d.path(), &[]);
        let f: Vec<(String, String, u64)> = j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["technique"].as_str().unwrap().to_string(),
                    f["explanation"].as_str().unwrap().to_string(),
                    f["events"].as_u64().unwrap(),
                )
            })
            .collect();
        (f, j)
    };
    let (one, _) = findings("apigw-json");
    let (two, j) = findings("apigw-json,nginx-combined");
    assert!(one
        .iter()
        .any(|(t, x, n)| t == "credential_stuffing" && x.contains("of 142 logins") && *n == 142));
    assert_eq!(one, two);
    let note = strs(&j["undetermined"])
        .into_iter()
        .find(|n| n.contains("same requests in more than one format"))
        .expect("the copies are said");
    assert!(note.contains("nginx-combined"), "{note}");
    let n = |f: &Value, k: &str| f[k].as_u64().unwrap();
    for f in j["files"].as_array().unwrap() {
        assert_eq!(
            n(f, "records"),
            n(f, "events") + n(f, "duplicates") + n(f, "rejected") + n(f, "skipped")
        );
    }
}

#[test]
fn internet_scanners_and_a_failed_spray_stay_out_of_the_waves() {
    // Every public API is scanned all day: addresses probing `/.env` and `' OR 1=1`, and a
    // password spray that never gets in. Refused everywhere, they reach nothing; each
    // would otherwise open a wave of its own, or join one it happens to overlap.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-stderr", "fcm-bigquery-json"],
        &["--seed", "31"],
    );
    let probes = [
        "/.env",
        "/wp-login.php",
        "/api/v1/customers?id=1%27%20OR%20%271%27=%271",
        "/api/v1/menu/1%20UNION%20SELECT%20password%20FROM%20users--",
        "/.git/config",
        "/cgi-bin/../../etc/passwd",
    ];
    let day0 = 1_761_955_200i64; // 2025-11-01T00:00:00Z
    let mut lines = Vec::new();
    let mut line = |t: i64, ip: &str, method: &str, path: &str, status: u16, ua: &str| {
        let n = lines.len();
        let when = chrono::DateTime::from_timestamp(t, 0).unwrap();
        lines.push(
            serde_json::json!({
                "requestId": format!("0000aaaa-0000-4000-8000-{n:012}"),
                "ip": ip, "caller": "-", "user": "-",
                "requestTime": when.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
                "requestTimeEpoch": (t * 1000).to_string(),
                "httpMethod": method, "resourcePath": "$default", "path": format!("/prod{path}"),
                "status": status.to_string(), "protocol": "HTTP/1.1", "responseLength": "0",
                "userAgent": ua, "principalId": "-", "responseLatency": "3",
            })
            .to_string(),
        );
    };
    let scanners = ["45.155.205.233", "185.220.101.34", "162.142.125.10"];
    for day in 0..5 {
        for (k, ip) in scanners.iter().enumerate() {
            // Every hour or so, the waves' hours included.
            for h in (k as i64..24).step_by(3) {
                let t = day0 + day * 86_400 + h * 3_600 + 600 * k as i64;
                for (j, p) in probes.iter().enumerate() {
                    line(
                        t + j as i64,
                        ip,
                        "GET",
                        p,
                        [403, 404, 400][j % 3],
                        "sqlmap/1.7.2#stable",
                    );
                }
            }
        }
    }
    for i in 0..40 {
        line(
            day0 + 86_400 + 25_200 + 3 * i,
            "91.240.118.172",
            "POST",
            "/api/v1/auth/login",
            401,
            "python-requests/2.31.0",
        );
    }
    std::fs::write(
        d.path().join("gateway/apigw-json/scanners.log"),
        lines.join("\n") + "\n",
    )
    .unwrap();
    check(d.path(), &[], true);
    let note = notes_of(d.path(), &[])
        .into_iter()
        .find(|n| n.contains("sent only refused requests"))
        .expect("the probing is said");
    for ip in scanners.iter().chain(&["91.240.118.172"]) {
        assert!(note.contains(ip), "{note}");
    }
}

#[test]
fn customers_who_share_the_attacker_s_addresses_are_not_the_attacker() {
    // `simulate --shared-address 40`: forty customers' own addresses are wave 1's (a
    // carrier's CGNAT exit, a residential proxy), on every day. Taken whole, those
    // addresses made 49 waves of the customers' orders and reads, and their accruals
    // bonus fraud; with a proxy pool, the pool's addresses customers had used before
    // were left out of the distributed stuffing, and with them most of the pool.
    let args = [
        "--seed",
        "7",
        "--shared-address",
        "40",
        "--attack-at",
        "12:05,15:41",
    ];
    let d = crate::util::tmp().unwrap();
    simulate_with(d.path(), ["kong", "pg-csvlog", "fcm-bigquery-json"], &args);
    check(d.path(), &[], true);
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes.iter().any(|n| n.contains("also served others")),
        "{notes:?}"
    );
    let pool = [&args[..], &["--proxy-pool", "60"]].concat();
    equals_truth(["envoy", "pg-stderr", "fcm-bigquery-json"], &pool, false);
    // A pool's exit a customer signed up from the night after, and never used again:
    // one other day, and the sign-up names its new account only in the row it inserts.
    // Taken whole, the sign-up was a third wave.
    equals_truth(
        ["apigw-json", "mariadb-audit", "onesignal"],
        &[
            "--noise",
            "--shared-address",
            "40",
            "--seed",
            "41939",
            "--attack-at",
            "06:06:15,10:32:49",
            "--start",
            "2025-06-11",
            "--db-skew",
            "5m",
            "--proxy-pool",
            "60",
        ],
        false,
    );
}

#[test]
fn a_pool_s_exits_customers_share_count_under_the_pool_s_agents_only() {
    // `--proxy-pool` with `--shared-address 100`: customers use a hundred of the pool's
    // addresses as their own. Each case failed before.
    //
    // A pool of 300 tries two logins per address: shared addresses with two failures were too few for the pool (88 missing), a
    // customer who mistyped twice on a first visit 45 minutes before the burst stretched
    // its span and became a wave of its own, and a shared address seen on one other day
    // only was the attacker's whole.
    equals_truth(
        ["envoy-json", "rds-activity-stream", "fcm-bigquery-csv"],
        &[
            "--noise",
            "--shared-address",
            "100",
            "--seed",
            "824634",
            "--attack-at",
            "07:51:29,10:51:46",
            "--start",
            "2025-11-06",
            "--server-tz",
            "Australia/Sydney",
            "--db-skew",
            "1h",
            "--untagged-sql",
            "--proxy-pool",
            "300",
        ],
        false,
    );
    // A pool of 150: exits with three failures (enough for the pool) that customers had
    // used on one other day only were taken whole, and the noise's password sprays
    // "acted alongside" them, on other days, and became waves.
    equals_truth(
        ["envoy", "mariadb-audit", "expo-push-log"],
        &[
            "--noise",
            "--shared-address",
            "100",
            "--seed",
            "564438",
            "--attack-at",
            "14:55:31,18:10:48",
            "--start",
            "2025-04-09",
            "--server-tz",
            "UTC",
            "--db-skew",
            "2m30s",
            "--compensation",
            "--proxy-pool",
            "150",
        ],
        false,
    );
    // A customer who mistyped twice on a first visit in the middle of a pool's burst,
    // then got in, under the app's agent: as many failures as the pool's median, so a
    // pool member, an indicator, and a third wave the next day.
    equals_truth(
        [
            "envoy-json,nginx-json",
            "mysql-audit-xml",
            "fcm-bigquery-csv",
        ],
        &[
            "--noise",
            "--shared-address",
            "5",
            "--seed",
            "266103",
            "--attack-at",
            "12:40:57,17:28:10",
            "--start",
            "2025-12-25",
            "--server-tz",
            "America/Sao_Paulo",
            "--db-skew",
            "0s",
            "--compensation",
            "--proxy-pool",
            "300",
        ],
        false,
    );
    // A customer who signed up from an exit minutes before the burst (not seen before
    // it), and one who signed up from another exit that night: the first exit was left
    // out of the pool, the second taken whole, a third wave.
    equals_truth(
        ["nginx-combined", "pg-csvlog", "fcm-v1-log"],
        &[
            "--noise",
            "--shared-address",
            "100",
            "--seed",
            "384628",
            "--attack-at",
            "07:52:19,11:54:07",
            "--start",
            "2025-01-04",
            "--db-skew",
            "2m30s",
            "--compensation",
            "--proxy-pool",
            "300",
        ],
        false,
    );
}

#[test]
fn customers_who_mistype_in_a_spray_s_hours_are_not_a_pool() {
    // A noise bot sprayed 75 passwords from one address at dawn: the per-address rule
    // took it, but its failures still made those hours a burst, and ten customers who
    // mistyped then (on addresses new that day) became a distributed stuffing pool and
    // 39 waves of their orders.
    equals_truth(
        ["apigw-json", "percona-audit-csv", "fcm-bigquery-csv"],
        &[
            "--noise",
            "--shared-address",
            "100",
            "--seed",
            "27885",
            "--attack-at",
            "18:21:46,21:01:53",
            "--start",
            "2025-07-22",
            "--server-tz",
            "UTC",
            "--compensation",
            "--untagged-sql",
            "--db-via-syslog",
            "--proxy-pool",
            "20",
        ],
        false,
    );
}

#[test]
fn a_spray_whose_failed_logins_the_application_looked_up_is_probing() {
    // `simulate --noise`: scanners, an uptime monitor, a menu scraper and, on some days,
    // a bot spraying passwords from one address. The application looks up the account
    // each failed login names, and tags that SELECT with the request id: the spray's
    // statements counted as reaching the database, and each spray became a wave of
    // credential stuffing with its address an indicator.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["kong", "pg-csvlog", "fcm-bigquery-json"],
        &["--seed", "7", "--noise"],
    );
    check(d.path(), &[], true);
    let r = report_json(d.path(), &[]);
    let notes = strs(&r["undetermined"]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("sent only refused requests")),
        "{notes:?}"
    );
    // The three sprays of this seed, each on a day of its own: found, and only found.
    for ip in ["94.142.181.94", "193.25.104.189", "94.168.247.151"] {
        let found = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["subject"] == ip && f["technique"] == "credential_stuffing");
        assert!(found, "{ip}: {}", r["findings"]);
    }
}

#[test]
fn an_idor_wave_and_an_injection_dump_equal_truth() {
    // The same incident reached another way: wave 1 drains accounts from the attacker's
    // own account through routes that never check whose the account is (no failed
    // logins, one address), wave 2 dumps the customer and staff tables through SQL
    // injection on the public menu search before the stolen staff login sends.
    equals_truth(
        ["apigw-json", "pg-csvlog", "fcm-bigquery-json"],
        &["--wave1", "idor", "--wave2", "injection", "--noise"],
        true,
    );
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-csvlog", "fcm-bigquery-json"],
        &["--wave1", "idor"],
    );
    let j = report_json(d.path(), &[]);
    let idor = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["technique"] == "idor")
        .expect("an IDOR finding");
    let why = idor["explanation"].as_str().unwrap();
    assert!(why.contains("30 other customers' accounts"), "{why}");
}

#[test]
fn an_idor_whose_gateway_names_identity_provider_subjects_is_found() {
    // The gateway logs an identity provider's user id (`sub-bcaebcc`) as the signed-in
    // subject while routes name the app's own account ids: each subject's account is the
    // one its requests name far most often, and the IDOR wave is found as with account ids.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-csvlog", "fcm-bigquery-json"],
        &["--wave1", "idor", "--noise"],
    );
    let id = regex::Regex::new(r#""principalId":"(\d+)""#).unwrap();
    rewrite_lines(d.path(), "gateway", |l| {
        Some(
            id.replace_all(l, |c: &regex::Captures| {
                let sub: String = c[1].bytes().map(|b| (b - b'0' + b'a') as char).collect();
                format!(r#""principalId":"sub-{sub}""#)
            })
            .into_owned(),
        )
    });
    check(d.path(), &[], true);
    let notes = notes_of(d.path(), &[]);
    assert!(
        notes
            .iter()
            .any(|n| n.contains("signed-in subject(s) the gateway logs are not account ids")),
        "{notes:#?}"
    );
}

#[test]
fn an_idor_behind_a_gateway_that_logs_no_identity_is_read_from_its_sign_in() {
    // Envoy's JSON names the account in the path and nobody signed in; API Gateway's CLF
    // preset names neither, its statements name the accounts. The attacker's one
    // sign-in walks 30 customers' accounts; everyone else's reaches their own.
    for gw in ["envoy-json", "apigw-clf"] {
        let d = crate::util::tmp().unwrap();
        simulate_with(
            d.path(),
            [gw, "mysql-audit-json", "fcm-bigquery-json"],
            &["--wave1", "idor", "--shared-address", "20", "--noise"],
        );
        check(d.path(), &[], false);
        let (j, t) = (report_json(d.path(), &[]), truth(d.path()));
        assert_eq!(
            j["waves"][0]["techniques"], t["waves"][0]["techniques"],
            "{gw}"
        );
        let why = explanations(&j, "idor");
        assert!(
            why.len() == 1
                && why[0].contains("signed in at")
                && why[0].contains("(the gateway logs no identity)"),
            "{gw}: {why:?}"
        );
        let ip = t["waves"][0]["attacker_ips"][0].as_str().unwrap();
        assert!(why[0].contains(&format!("a client at {ip} ")), "{why:?}");
    }
    // Credential stuffing signs in to each account it uses: no sign-in reaches others'.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["envoy", "pg-csvlog", "onesignal"],
        &["--wave1", "stuffing", "--shared-address", "20"],
    );
    let j = report_json(d.path(), &[]);
    let techniques = j["waves"][0]["techniques"].as_array().unwrap();
    assert!(!techniques.iter().any(|x| x == "idor"), "{techniques:?}");
}

#[test]
fn a_hijack_behind_a_gateway_that_logs_no_identity_is_read_from_the_accounts_named() {
    // Envoy's default format names the account in the path, API Gateway's CSV preset
    // only in the statements; neither names who is signed in. The replayed sessions act
    // on accounts no sign-in from the attacker's addresses opened.
    for gw in ["envoy", "apigw-csv"] {
        let d = crate::util::tmp().unwrap();
        simulate_with(
            d.path(),
            [gw, "pg-jsonlog", "onesignal"],
            &["--wave1", "hijack", "--noise"],
        );
        check(d.path(), &[], false);
        let (j, t) = (report_json(d.path(), &[]), truth(d.path()));
        assert_eq!(
            j["waves"][0]["techniques"], t["waves"][0]["techniques"],
            "{gw}"
        );
        let why = explanations(&j, "session_hijack");
        assert!(
            !why.is_empty()
                && why
                    .iter()
                    .all(|w| w.contains("the gateway logs no identity")),
            "{gw}: {why:?}"
        );
    }
}

#[test]
fn reads_behind_route_templates_without_request_ids_are_tied_by_timing() {
    // API Gateway's CSV and CLF presets log route templates and no identity, and the SQL
    // carries no request ids: only the reads that follow each request at the DB clock's
    // fitted offset say whose accounts the IDOR walked and the staff wave enumerated.
    for (formats, args) in [
        (
            ["apigw-csv", "mysql-audit-json", "fcm-v1-log"],
            [
                "--seed",
                "11076",
                "--server-tz",
                "America/New_York",
                "--db-skew",
                "0s",
            ],
        ),
        (
            ["apigw-clf", "mariadb-audit", "fcm-bigquery-json"],
            ["--seed", "11146", "--server-tz", "UTC", "--db-skew", "300s"],
        ),
    ] {
        let d = crate::util::tmp().unwrap();
        let mut all = args.to_vec();
        all.extend(["--wave1", "idor", "--wave2", "staff", "--untagged-sql"]);
        simulate_with(d.path(), formats, &all);
        check(d.path(), &[], false);
        let (j, t) = (report_json(d.path(), &[]), truth(d.path()));
        for w in 0..2 {
            assert_eq!(
                j["waves"][w]["techniques"], t["waves"][w]["techniques"],
                "{formats:?} wave {w}"
            );
        }
        for technique in ["idor", "enumeration"] {
            let why = explanations(&j, technique);
            assert!(
                why.len() == 1 && why[0].contains("(tied by timing alone)"),
                "{formats:?}: {why:?}"
            );
        }
    }
}

#[test]
fn a_customer_browsing_minutes_before_a_burst_on_its_address_does_not_start_the_wave() {
    // A customer behind one of the stuffing's addresses signs in and browses until five
    // minutes before the burst (failed logins every few seconds): the wave starts with
    // the burst, not with the customer. (The CLF preset names no staff principal.)
    equals_truth(
        ["apigw-clf", "mysql-audit-xml", "fcm-bigquery-json"],
        &[
            "--seed",
            "11175",
            "--server-tz",
            "Europe/London",
            "--db-skew",
            "300s",
            "--push-skew",
            "20s",
            "--wave1",
            "stuffing",
            "--wave2",
            "injection",
            "--attack-at",
            "08:14:09,11:34:09",
            "--shared-address",
            "20",
            "--start",
            "2025-03-28",
        ],
        false,
    );
}

#[test]
fn customers_signing_in_on_a_hijacker_s_address_open_no_replayed_session() {
    // Envoy's JSON logs agents but no identity. Customers behind the replay's addresses
    // sign in on their phones within the hour before; the replay's script signed in
    // nowhere, and its sessions are still the hijack's.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["envoy-json", "percona-audit-json", "fcm-bigquery-json"],
        &[
            "--seed",
            "9020",
            "--server-tz",
            "America/Los_Angeles",
            "--db-skew",
            "37s",
            "--push-skew",
            "120s",
            "--wave1",
            "hijack",
            "--wave2",
            "direct",
            "--attack-at",
            "19:59:27,20:24:27",
            "--noise",
            "--shared-address",
            "20",
        ],
    );
    check(d.path(), &[], false);
    let (j, t) = (report_json(d.path(), &[]), truth(d.path()));
    assert_eq!(j["waves"][0]["techniques"], t["waves"][0]["techniques"]);
    assert!(!explanations(&j, "session_hijack").is_empty());
}

#[test]
fn a_service_identity_s_export_across_midnight_from_a_new_host_is_not_its_routine() {
    // The attacker logs in as the analytics user from their own address at 23:59 and
    // exports the members table at 00:01; the analytics job exports it nightly from its
    // own host. One session across midnight is one day's: the identity from that host
    // was not seen on two days, and the export is a bulk export.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-xml", "rds-activity-stream", "fcm-v1-log"],
        &[
            "--seed",
            "15007",
            "--server-tz",
            "Australia/Sydney",
            "--db-skew",
            "37s",
            "--wave1",
            "stuffing",
            "--wave2",
            "direct",
            "--attack-at",
            "20:38:37,23:58:37",
            "--random-names",
            "674",
            "--untagged-sql",
            "--start",
            "2024-02-27",
        ],
    );
    check(d.path(), &[], false);
    let (j, t) = (report_json(d.path(), &[]), truth(d.path()));
    assert_eq!(j["waves"][1]["techniques"], t["waves"][1]["techniques"]);
    assert!(!explanations(&j, "bulk_export").is_empty());
}

#[test]
fn a_staff_wave_s_injected_dump_during_an_idor_is_tied_to_its_address() {
    // An IDOR and a staff wave in the same quarter hour; the SQL carries no request ids.
    // The staff wave's injected probe and its dump run on pooled connections while the
    // IDOR still runs: each follows a request of the staff wave's address within a
    // second, so they are its, and the two attacks stay two waves.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-stderr-default", "sns-delivery"],
        &[
            "--seed",
            "8107",
            "--server-tz",
            "Europe/Kyiv",
            "--db-skew",
            "-1800s",
            "--wave1",
            "idor",
            "--wave2",
            "staff",
            "--attack-at",
            "19:22:50,19:37:50",
            "--proxy-pool",
            "10",
            "--shared-address",
            "20",
            "--other-names",
            "--untagged-sql",
            "--start",
            "2025-03-28",
        ],
    );
    let (j, t) = (report_json(d.path(), &[]), truth(d.path()));
    let (got, want) = (
        j["waves"].as_array().unwrap(),
        t["waves"].as_array().unwrap(),
    );
    assert_eq!(got.len(), want.len(), "{got:?}");
    for (a, b) in got.iter().zip(want) {
        for k in ["techniques", "attacker_ips", "targets"] {
            assert_eq!(a[k], b[k], "{k}");
        }
    }
}

#[test]
fn a_customer_s_own_request_on_a_shared_blind_address_is_not_the_attack_s() {
    // API Gateway's CSV preset logs neither agents nor who signed in. A customer behind
    // one of the hijacker's addresses reads their own profile while the replay runs: the
    // statement names their account, a regular of the address, so the request is theirs
    // and the wave did not touch customer data.
    equals_truth(
        ["apigw-csv", "pg-stderr-default", "onesignal"],
        &[
            "--seed",
            "9056",
            "--server-tz",
            "America/New_York",
            "--db-skew",
            "300s",
            "--wave1",
            "hijack",
            "--wave2",
            "direct",
            "--attack-at",
            "06:07:12,09:27:12",
            "--shared-address",
            "5",
        ],
        false,
    );
}

#[test]
fn a_service_s_leaked_password_used_from_outside_is_an_export() {
    // Wave 2 connects to the database as the nightly export job's user, from the
    // attacker's address, reads the catalog and copies the customer and staff tables
    // out. PostgreSQL's stderr prefix names no client, and the sessions have no
    // `connection received` line: only the disconnection names the client, and the
    // job's own sessions and the attacker's are told apart by it. The catalog reads of
    // a direct session are its client tool's, not an injection.
    equals_truth(
        ["apigw-json", "pg-stderr", "fcm-bigquery-json"],
        &["--wave2", "direct"],
        true,
    );
    equals_truth(
        ["kong", "mysql-audit-json", "onesignal"],
        &["--wave2", "direct", "--wave1", "hijack", "--noise"],
        true,
    );
}

#[test]
fn a_replay_under_the_customers_agent_on_their_address_says_what_cannot_be_told() {
    // Wave 1 replays sessions under the app's agent from addresses a hundred customers
    // also use. Where the gateway names the signed-in account, the customers are told
    // from the attacker by it; where it names none (Envoy's JSON), their requests in the
    // flagged hours cannot be, and the note says so (seed 774879: a customer's 9 points
    // in those hours counted as the attacker's, and nothing said it might).
    let caveat = "the attacker's agent is one their customers send too, and the gateway \
                  names no signed-in account";
    let shared = |notes: &[String]| {
        notes
            .iter()
            .find(|n| n.contains("flagged addresses also served others"))
            .cloned()
            .unwrap_or_default()
    };
    let args = [
        "--seed",
        "774879",
        "--wave1",
        "hijack",
        "--shared-address",
        "100",
    ];
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["envoy-json", "mysql-audit-xml", "fcm-v1-log"],
        &args,
    );
    let note = shared(&notes_of(d.path(), &[]));
    assert!(note.contains(&format!("For 2 of them {caveat}")), "{note}");
    let d = crate::util::tmp().unwrap();
    simulate_with(d.path(), ["kong", "mysql-audit-xml", "fcm-v1-log"], &args);
    let note = shared(&notes_of(d.path(), &[]));
    assert!(
        note.contains("served others") && !note.contains(caveat),
        "{note}"
    );
}

#[test]
fn two_gateway_layers_keep_the_identity_only_one_logs() {
    // API Gateway's XML preset names the signed-in principal; the JSON-logging proxy
    // behind it, whose copies carry more fields, does not. The proxy's copies are kept
    // and take the principal from theirs: the stolen staff login from a new place is
    // still found (seed 62870: it was lost with the dropped copies).
    equals_truth(
        ["apigw-xml,envoy-json", "mariadb-audit", "fcm-v1-log"],
        &["--gateway-skew", "2h", "--seed", "62870"],
        true,
    );
}

#[test]
fn an_injected_dump_without_request_ids_is_a_bulk_export() {
    // Untagged SQL: the `UNION SELECT … FROM customers` the menu search ran is tied to no
    // request, and its connection is the application's own, which reads customers all
    // day. The injected statement is a whole-table read all the same (seed 964737: the
    // wave said injection but not that the table was dumped).
    equals_truth(
        ["apigw-json", "pg-csvlog", "onesignal"],
        &["--wave2", "injection", "--untagged-sql", "--seed", "964737"],
        true,
    );
}

#[test]
fn replayed_session_tokens_are_a_hijack_and_the_app_s_agent_no_indicator() {
    // Wave 1 replays ten customers' stolen session tokens from two addresses under the
    // app's own HTTP client's agent: nothing signs in, nothing fails. The wave says how
    // (session hijacking from each address), and the agent a third of the customers send
    // is no indicator to block; a note says why it is left out.
    equals_truth(
        ["kong", "mysql-audit-json", "onesignal"],
        &["--wave1", "hijack", "--noise"],
        true,
    );
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-csvlog", "fcm-bigquery-json"],
        &["--wave1", "hijack"],
    );
    let j = report_json(d.path(), &[]);
    let subjects: BTreeSet<&str> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["technique"] == "session_hijack")
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    let t = truth(d.path());
    let wave1: BTreeSet<String> = strs(&t["waves"][0]["attacker_ips"]).into_iter().collect();
    assert_eq!(
        subjects
            .iter()
            .map(|s| s.to_string())
            .collect::<BTreeSet<_>>(),
        wave1
    );
    let iocs = j["iocs"].as_array().unwrap();
    assert!(
        iocs.iter().all(|i| i["value"] != "okhttp/4.12.0"),
        "{iocs:?}"
    );
    let notes = strs(&j["undetermined"]);
    assert!(
        notes.iter().any(|n| n.starts_with(
            "The attacker's user agent \"okhttp/4.12.0\" is not listed among the indicators"
        )),
        "{notes:?}"
    );
    // Envoy names no signed-in account: the accounts customers' own requests name in
    // their paths show the agent is the app's (seed 77011 listed it).
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["envoy-json", "pg-stderr", "sns-delivery"],
        &["--wave1", "hijack"],
    );
    let j = report_json(d.path(), &[]);
    let iocs = j["iocs"].as_array().unwrap();
    assert!(
        iocs.iter().all(|i| i["value"] != "okhttp/4.12.0"),
        "{iocs:?}"
    );
    assert!(iocs.iter().any(|i| i["type"] == "ip"), "{iocs:?}");
}

#[test]
fn an_idor_s_debits_without_request_ids_are_its_transfers() {
    // Untagged SQL: a transfer debits an account no request names, then credits the
    // caller's own; the credit is tied to the transfer by account, and the debit just
    // before it on the same connection is the same request's (seed 458048: a -645 debit
    // was below the outlier limit and left out). The second case is one database logged
    // in two formats: record by record the richer copy was kept, a debit's balance update
    // from csvlog and its ledger row from the audit plugin, and the debit counted twice
    // (seed 427197).
    //
    // The third case is the other way round: a customer's checkout on the same connection
    // in the same second right after a transfer (whole-second logs) is tied to the
    // customer by its order; the transfer's statements before it are not the customer's
    // (seed 336321: a first version took any next statement's request, and the customer
    // became the attacker).
    let none: &[&str] = &[];
    for (gw, db, seed, at, tz, more) in [
        (
            "kong",
            "mariadb-audit",
            "458048",
            "15:41:19,18:53:16",
            "Australia/Sydney",
            none,
        ),
        (
            "kong",
            "percona-audit-csv,pg-csvlog",
            "427197",
            "15:05:20,22:05:27",
            "UTC",
            none,
        ),
        (
            "apigw-xml",
            "mysql-audit-json,percona-audit-json",
            "336321",
            "18:41:27,22:30:59",
            "America/Los_Angeles",
            &[
                "--shared-address",
                "40",
                "--random-names",
                "99791",
                "--db-skew",
                "2m30s",
            ],
        ),
    ] {
        let d = crate::util::tmp().unwrap();
        let args: Vec<&str> = [
            "--seed",
            seed,
            "--attack-at",
            at,
            "--server-tz",
            tz,
            "--untagged-sql",
            "--wave1",
            "idor",
            "--noise",
        ]
        .into_iter()
        .chain(more.iter().copied())
        .collect();
        simulate_with(d.path(), [gw, db, "onesignal"], &args);
        check(d.path(), &["--assume-tz", tz], true);
    }
}

#[test]
fn login_names_written_inline_keep_customers_who_mistype_out_of_a_pool() {
    // MySQL-family audit logs write the login lookup's phone number inline, not as a
    // bound parameter: the names failed logins tried were unknown, so customers who
    // mistyped twice, each under their own name, in the first hours of the evidence
    // (every address new) made a pool, and 46 waves instead of 2 (seed 345292).
    equals_truth(
        ["kong", "percona-audit-json", "fcm-bigquery-csv"],
        &[
            "--seed",
            "345292",
            "--attack-at",
            "16:06:00,22:30:12",
            "--start",
            "2025-11-06",
            "--server-tz",
            "Australia/Sydney",
            "--db-skew",
            "37s",
            "--noise",
            "--random-names",
            "98228",
            "--wave2",
            "injection",
        ],
        true,
    );
}

#[test]
fn a_dump_of_the_staff_table_exposes_no_customer() {
    // The injection wave dumps `staff_users` as well as `customers`: the staff table's
    // read is not a read of customer data (a `users` word in a staff table's name).
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-csvlog", "fcm-bigquery-json"],
        &["--wave2", "injection"],
    );
    let j = report_json(d.path(), &[]);
    let exports: Vec<&Value> = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["technique"] == "bulk_export")
        .collect();
    assert_eq!(exports.len(), 1, "{exports:?}");
    assert_eq!(exports[0]["events"], 1, "{exports:?}");
}

#[test]
fn waves_closer_than_the_gap_are_parted_by_actor_and_system() {
    // Wave 2 begins while wave 1 still drains points: no pause parts them. Wave 1's
    // addresses touched only the bonus system, wave 2's only customer data (and push).
    two_waves_as_truth(&["--seed", "11", "--attack-at", "03:05:17,03:20:00"]);
}

#[test]
fn a_wave_that_reads_the_profiles_it_drains_is_parted_from_the_next() {
    // Wave 1 (IDOR) reads customer profiles and drains their points. Wave 2 follows 24
    // minutes after its last request, inside the wave gap, from other identifiers; or
    // begins while wave 1 still reads and drains, where every read is an actor's (the
    // statements carry their requests' ids), so the two still part.
    for at in ["03:05:17,03:45:00", "03:05:17,03:12:00"] {
        two_waves_as_truth(&["--seed", "11", "--wave1", "idor", "--attack-at", at]);
    }
}

#[test]
fn a_dump_by_statements_of_nobody_s_after_a_bonus_wave_is_a_wave() {
    // The application tags no SQL: wave 2's injected dumps are linked to no request, and
    // its address (search probes, then a staff sign-in and a send) touched no data itself.
    two_waves_as_truth(&[
        "--seed",
        "11",
        "--wave2",
        "injection",
        "--untagged-sql",
        "--attack-at",
        "03:05:17,03:45:00",
    ]);
}

/// Simulates an incident with these options and checks that the report finds the
/// truth's two waves: their addresses, targets, techniques and starts.
#[test]
fn an_injection_dump_without_request_ids_during_a_bonus_wave_is_its_own_wave() {
    // Wave 2 starts fifteen minutes into wave 1 and dumps the customer table through
    // SQL injected into the application's statements, which carry no request ids. The
    // database clock is compared by accounts and time; the dumps follow the injecting
    // address's requests within a second, and are its.
    for (wave1, at, db) in [
        ("hijack", "18:04:18,18:19:18", "mysql-audit-json"),
        ("stuffing", "14:44:41,15:09:41", "pg-stderr"),
    ] {
        equals_truth(
            ["apigw-json", db, "fcm-bigquery-json"],
            &[
                "--wave1",
                wave1,
                "--wave2",
                "injection",
                "--attack-at",
                at,
                "--untagged-sql",
            ],
            true,
        );
    }
}

/// The explanations of a report's findings of one technique.
fn explanations<'a>(report: &'a Value, technique: &str) -> Vec<&'a str> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["technique"] == technique)
        .map(|f| f["explanation"].as_str().unwrap())
        .collect()
}

fn two_waves_as_truth(args: &[&str]) {
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-stderr", "fcm-bigquery-json"],
        args,
    );
    let r = report_json(d.path(), &[]);
    let t = truth(d.path());
    let waves = r["waves"].as_array().unwrap();
    assert_eq!(waves.len(), 2, "{waves:?}");
    for (w, tw) in waves.iter().zip(t["waves"].as_array().unwrap()) {
        assert_eq!(w["attacker_ips"], tw["attacker_ips"]);
        assert_eq!(w["targets"], tw["targets"]);
        assert_eq!(w["techniques"], tw["techniques"]);
        assert_eq!(
            w["start_utc"].as_str().unwrap()[..19],
            tw["start_utc"].as_str().unwrap()[..19]
        );
    }
}

#[test]
fn a_push_worker_clock_two_minutes_ahead_is_corrected_and_the_wave_ends_on_time() {
    // The backend's FCM send log comes from a worker whose clock runs two minutes ahead:
    // every message starts 122 s after its request, to the second. That is a clock, not
    // a queue; left as logged, wave 2 ended two minutes late.
    equals_truth(
        ["apigw-json", "pg-stderr", "fcm-v1-log"],
        &[
            "--seed",
            "9003",
            "--server-tz",
            "Australia/Sydney",
            "--db-skew",
            "-1800s",
            "--push-skew",
            "120s",
            "--wave1",
            "hijack",
            "--wave2",
            "direct",
            "--attack-at",
            "06:19:25,09:39:25",
            "--random-names",
            "165",
        ],
        true,
    );
}

#[test]
fn a_lone_injected_dump_after_a_staff_attacker_s_request_parts_the_waves() {
    // An IDOR and a staff wave 15 minutes apart, overlapping by two minutes; untagged
    // SQL whose clock accounts compare. The staff wave's injected dump is one statement,
    // 0.5 s after the attacker's request and nobody else's: it is the staff wave's, and
    // the two attacks are two waves.
    equals_truth(
        ["nginx-json", "percona-audit-csv", "fcm-bigquery-csv"],
        &[
            "--seed",
            "19139",
            "--server-tz",
            "Europe/Kyiv",
            "--db-skew",
            "300s",
            "--wave1",
            "idor",
            "--wave2",
            "staff",
            "--attack-at",
            "20:29:52,20:44:52",
            "--proxy-pool",
            "10",
            "--other-names",
            "--untagged-sql",
        ],
        true,
    );
}

#[test]
fn a_lone_dump_beside_a_request_whose_statements_are_tied_is_the_other_address_s() {
    // API Gateway's CLF preset, untagged SQL nearly an hour off: the staff wave's one
    // injected dump follows its request and, in the same second, an IDOR request whose
    // own bonus statements timing tied already. The dump is the staff wave's.
    equals_truth(
        ["apigw-clf", "pg-csvlog", "fcm-v1-log"],
        &[
            "--seed",
            "21084",
            "--server-tz",
            "Europe/Kyiv",
            "--db-skew",
            "3337s",
            "--push-skew",
            "549s",
            "--wave1",
            "idor",
            "--wave2",
            "staff",
            "--attack-at",
            "13:33:58,13:48:58",
            "--proxy-pool",
            "30",
            "--random-names",
            "878",
            "--untagged-sql",
        ],
        false,
    );
}

#[test]
fn an_injected_probe_holding_a_request_s_payload_parts_the_waves() {
    // Untagged SQL nearly an hour off, an IDOR and a staff wave overlapping: the staff
    // wave's one injected probe ran the payload its request carried in the query, and
    // the attacker's requests came too often for timing alone to tell.
    equals_truth(
        [
            "envoy-json",
            "percona-audit-json,pg-stderr",
            "fcm-bigquery-json",
        ],
        &[
            "--seed",
            "22009",
            "--server-tz",
            "Europe/Kyiv",
            "--db-skew",
            "-2844s",
            "--push-skew",
            "624s",
            "--wave1",
            "idor",
            "--wave2",
            "staff",
            "--attack-at",
            "17:05:04,17:20:04",
            "--random-names",
            "305",
            "--untagged-sql",
            "--start",
            "2025-10-24",
        ],
        false,
    );
}

#[test]
fn injected_statements_follow_the_attacker_not_a_customer_browsing_beside_it() {
    // API Gateway's CLF preset (route templates, no payloads) and untagged SQL: a
    // customer browsing while the injection ran had requests in the windows of three of
    // its four statements; the attacker in all four.
    equals_truth(
        ["apigw-clf", "pg-jsonlog", "sns-delivery"],
        &[
            "--seed",
            "23174",
            "--server-tz",
            "Asia/Kolkata",
            "--db-skew",
            "37s",
            "--wave1",
            "hijack",
            "--wave2",
            "injection",
            "--attack-at",
            "17:39:34,17:54:34",
            "--shared-address",
            "5",
            "--other-names",
            "--untagged-sql",
        ],
        false,
    );
}

#[test]
fn a_customer_signing_in_on_a_pool_exit_the_day_before_is_no_wave() {
    // A proxy pool's exit that customers share: one of them signed in there and browsed
    // the menu the day before the stuffing burst. API Gateway's CLF preset names no
    // account and no agent; the sign-in's lookup names a phone the burst never tried.
    equals_truth(
        ["apigw-clf", "pg-jsonlog", "fcm-bigquery-json"],
        &[
            "--seed",
            "30099",
            "--server-tz",
            "Australia/Sydney",
            "--db-skew",
            "300s",
            "--wave1",
            "stuffing",
            "--wave2",
            "direct",
            "--attack-at",
            "19:51:14,20:16:14",
            "--proxy-pool",
            "30",
            "--shared-address",
            "5",
        ],
        false,
    );
}

/// The techniques of the first wave `waves` finds in simulated evidence, after checking
/// the rest of it against the truth.
pub(crate) fn first_wave_techniques(formats: [&str; 3], args: &[&str]) -> Vec<String> {
    let d = crate::util::tmp().unwrap();
    simulate_with(d.path(), formats, args);
    check(d.path(), &[], false);
    let w: Value = serde_json::from_slice(
        &bl()
            .args(["waves", "--format", "json", "-q", "--roster"])
            .arg(d.path().join("roster.csv"))
            .arg(d.path())
            .assert()
            .get_output()
            .stdout,
    )
    .unwrap();
    strs(&w["waves"][0]["techniques"])
}

#[test]
fn replayed_sessions_behind_a_shared_address_are_a_hijack_and_an_idor_is_not() {
    // API Gateway's CLF and CSV presets log neither who signed in nor agents, and
    // customers share the attacker's addresses: each customer's sign-in there opens
    // that customer's session, not the replayed ones.
    let hijack = first_wave_techniques(
        ["apigw-clf", "pg-stderr-default", "sns-delivery"],
        &[
            "--seed",
            "27070",
            "--server-tz",
            "Asia/Tokyo",
            "--db-skew",
            "-272s",
            "--push-skew",
            "-561s",
            "--wave1",
            "hijack",
            "--wave2",
            "injection",
            "--attack-at",
            "11:28:31,14:48:31",
            "--shared-address",
            "20",
            "--other-names",
        ],
    );
    assert!(hijack.iter().any(|t| t == "session_hijack"), "{hijack:?}");
    // One sign-in, then many accounts named: the IDOR reads them through its own session.
    let idor = first_wave_techniques(
        ["apigw-csv", "percona-audit-csv", "fcm-bigquery-json"],
        &[
            "--seed",
            "7146",
            "--server-tz",
            "Europe/London",
            "--db-skew",
            "300s",
            "--push-skew",
            "20s",
            "--wave1",
            "idor",
            "--wave2",
            "staff",
            "--attack-at",
            "18:30:57,18:55:57",
            "--shared-address",
            "20",
            "--other-names",
        ],
    );
    assert!(idor.iter().any(|t| t == "idor"), "{idor:?}");
    assert!(!idor.iter().any(|t| t == "session_hijack"), "{idor:?}");
}

/// PostgreSQL's own statement logging, no pgaudit: applications bind their values, so
/// every write is an `execute <unnamed>: … $1 …` whose values are only in the `DETAIL:
/// parameters:` line after it. Seed 2 logs with `log_statement = 'all'`, seed 3 with
/// `log_min_duration_statement = 0`, whose parse and bind steps repeat each statement
/// and are skipped by design.
#[test]
fn postgresql_statement_logging_with_bound_values_equals_truth() {
    for (seed, parse_steps) in [("2", false), ("3", true)] {
        let d = crate::util::tmp().unwrap();
        simulate_with(
            d.path(),
            ["apigw-json", "pg-stderr-execute", "fcm-bigquery-json"],
            &["--seed", seed],
        );
        check(d.path(), &[], true);
        let t = truth(d.path());
        let files = crate::ingest::inventory(&[d.path().join("db").to_str().unwrap()]);
        for tf in t["files"].as_array().unwrap() {
            let path = tf["path"].as_str().unwrap();
            let Some(f) = files
                .iter()
                .find(|f| path.starts_with("db/") && f.path.ends_with(path))
            else {
                continue;
            };
            assert_eq!(f.format, "pg-stderr", "{path}");
            assert_eq!(f.lines, tf["lines"].as_u64().unwrap(), "{path} lines");
            assert_eq!(f.rejected, tf["malformed"].as_u64().unwrap(), "{path}");
            assert_eq!(f.skipped, tf["skipped"].as_u64().unwrap(), "{path}");
            assert_eq!(f.records, f.events + f.duplicates + f.rejected + f.skipped);
            assert_eq!(f.skipped > 0, parse_steps, "{path}");
        }
    }
}

#[test]
fn a_gateway_without_identities_leaves_the_sender_the_campaign_row_names() {
    // API Gateway's CLF preset logs no identity: each message's sender is the author the
    // application wrote into its campaign row (`created_by`), the attacker's stolen staff
    // account for the malicious one.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-clf", "pg-stderr", "fcm-bigquery-json"],
        &["--seed", "18"],
    );
    let j = report_json(d.path(), &[]);
    let staff = strs(&truth(d.path())["indicators"]["principals"]);
    let messages = j["messages"].as_array().unwrap();
    assert!(messages.iter().any(|m| m["verdict"] == "malicious"));
    for m in messages {
        let sender = m["sender"].as_str().unwrap_or_else(|| panic!("{m}"));
        let attacker = staff.iter().any(|p| p.split('@').next() == Some(sender));
        assert_eq!(attacker, m["verdict"] == "malicious", "{m}");
    }
    // The wave's note names the author instead of saying no account can be named.
    let notes = strs(&j["undetermined"]);
    let wave = notes
        .iter()
        .find(|n| n.contains("used staff routes from"))
        .unwrap_or_else(|| panic!("{notes:?}"));
    let author = staff[0].split('@').next().unwrap();
    assert!(
        wave.contains(&format!(
            "the application's own row for the malicious campaign names its author (\"{author}\")"
        )),
        "{wave}"
    );
}

#[test]
fn without_roster_sns_endpoints_the_app_stored_map_to_accounts() {
    // SNS logs each delivery's endpoint ARN. An app that stores the ARN in its device
    // table (`endpoint_arn`) maps the message's recipients to their accounts without a
    // roster; the simulated app stores an installation id, so its registrations are
    // rewritten here to the ARN the roster gives each account.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-stderr", "sns-delivery"],
        &["--seed", "7"],
    );
    let arn: BTreeMap<String, String> = csv_rows(&d.path().join("roster.csv"))
        .into_iter()
        .filter_map(|r| {
            let a = r["device_ids"].split(';').find(|x| x.starts_with("arn:"))?;
            Some((r["account_id"].clone(), a.to_string()))
        })
        .collect();
    let re = regex::Regex::new(
        r"INSERT INTO customer_devices \(account_id, installation_id, platform\) VALUES \((\d+), '([^']+)'",
    )
    .unwrap();
    let stored = std::cell::Cell::new(0);
    rewrite_lines(d.path(), "db/pg-stderr", |line| {
        let line = re.replace_all(line, |c: &regex::Captures| match arn.get(&c[1]) {
            Some(a) => {
                stored.set(stored.get() + 1);
                format!(
                    "INSERT INTO customer_devices (account_id, endpoint_arn, platform) VALUES ({}, '{a}'",
                    &c[1]
                )
            }
            None => c[0].to_string(),
        });
        Some(line.into_owned())
    });
    assert!(stored.get() > 50, "{}", stored.get());
    let (pushed, _) = pushed_without_roster(d.path());
    let truly: BTreeSet<String> = strs(&truth(d.path())["affected"]["malicious_push"])
        .into_iter()
        .collect();
    assert!(pushed.len() >= 50, "{}", pushed.len());
    assert_eq!(
        pushed.difference(&truly).collect::<Vec<_>>(),
        Vec::<&String>::new()
    );
}

/// The accounts `affected` without a roster finds pushed, and its output directory.
fn pushed_without_roster(d: &Path) -> (BTreeSet<String>, tempfile::TempDir) {
    let out = crate::util::tmp().unwrap();
    bl().args(["affected", "-q"])
        .arg(d.join("gateway"))
        .arg(d.join("db"))
        .arg(d.join("push"))
        .arg("--out-dir")
        .arg(out.path())
        .assert()
        .code(2);
    let pushed = csv_rows(&out.path().join("affected-customers.csv"))
        .into_iter()
        .filter(|r| r["impacts"].split(';').any(|x| x == "malicious_push"))
        .map(|r| r["account_id"].clone())
        .collect();
    (pushed, out)
}

/// A simulated incident (API Gateway JSON, MySQL audit JSON, OneSignal; `extra`
/// `simulate` options) whose database lines `edit` rewrites (`None` drops one), and how
/// many lines it changed: the schema or statements of another application, written
/// by the same events.
fn with_db_rewritten(
    extra: &[&str],
    edit: impl Fn(&str) -> Option<String>,
) -> (tempfile::TempDir, usize) {
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "mysql-audit-json", "onesignal"],
        extra,
    );
    let changed = std::cell::Cell::new(0);
    rewrite_lines(d.path(), "db", |l| {
        let out = edit(l);
        changed.set(changed.get() + usize::from(out.as_deref() != Some(l)));
        out
    });
    (d, changed.get())
}

/// The simulated incident's balance updates: sign, amount and account.
const BONUS_UPDATE: &str = r"UPDATE bonus_accounts SET balance = balance ([+-]) (\d+), updated_at = now\(\) WHERE account_id = (\d+)";

/// A simulated incident (as `with_db_rewritten`) whose balance updates `write` rewrites
/// from their sign, amount and account (`balance + 21 … WHERE account_id = 100099` →
/// `("+", "21", "100099")`), without its ledger rows unless `ledger`; and how many lines
/// it changed.
fn with_bonus_updates_rewritten(
    ledger: bool,
    write: impl Fn(&str, &str, &str) -> String,
) -> (tempfile::TempDir, usize) {
    let re = regex::Regex::new(BONUS_UPDATE).unwrap();
    with_db_rewritten(&[], |l| {
        if !ledger && l.contains("INSERT INTO bonus_ledger") {
            return None;
        }
        let out = re.replace_all(l, |c: &regex::Captures| write(&c[1], &c[2], &c[3]));
        Some(out.into_owned())
    })
}

#[test]
fn a_dump_of_the_active_customers_exposes_the_table() {
    // The leaked analytics password copies `… FROM customers WHERE status = 'active'`:
    // a class of rows, not rows a key picks. Every account counts as exposed, as for the
    // unfiltered copy the truth was drawn with, and the evidence says what it was.
    let (d, changed) = with_db_rewritten(&["--wave2", "direct"], |l| {
        Some(l.replace(
            "COPY (SELECT * FROM customers) TO",
            "COPY (SELECT * FROM customers WHERE status = 'active') TO",
        ))
    });
    assert_eq!(changed, 1);
    check(d.path(), &[], true);
    let out = report_of(d.path(), &[]);
    let ev = csv_rows(&out.path().join("evidence.csv"));
    assert!(ev.iter().any(|r| r["kind"] == "data_exposed"
        && r["reason"].starts_with("read of customers filtered only by status (a class of rows")));
}

#[test]
fn points_kept_only_in_a_transactions_table_are_the_bonus_changes() {
    // An application that keeps no balance row, only `transactions (account_id, points,
    // reason)`: a table of no bonus word whose rows carry points is the ledger.
    let (d, changed) = with_db_rewritten(&[], |l| {
        (!l.contains("UPDATE bonus_accounts")).then(|| {
            l.replace(
                "INSERT INTO bonus_ledger (account_id, delta, reason)",
                "INSERT INTO transactions (account_id, points, reason)",
            )
        })
    });
    // Each balance update dropped, each ledger row renamed.
    assert!(changed > 2000 && changed % 2 == 0, "{changed}");
    check(d.path(), &[], true);
}

#[test]
fn balance_rows_saved_by_their_own_id_change_their_owners_balances() {
    // An ORM that saves the whole row: `SET account_id = 100004, balance = balance - 2606
    // WHERE id = 600004`. The wallet's id is no customer; the owner's column names one.
    let (d, changed) = with_bonus_updates_rewritten(true, |sign, amount, account| {
        let wallet = account.parse::<u64>().unwrap() + 500_000;
        format!(
            "UPDATE bonus_accounts SET account_id = {account}, balance = balance {sign} {amount} WHERE id = {wallet}"
        )
    });
    assert!(changed > 1000, "{changed}");
    check(d.path(), &[], true);
}

#[test]
fn balance_rows_written_by_their_own_id_are_their_owners_once_a_read_pairs_them() {
    // Rails: `find_by(account_id:)` reads the wallet by its owner, `save` writes it by
    // its id (account + 500000). Paired by the request id the statements are tagged
    // with, and, with every tag gone, by the database session.
    let re = regex::Regex::new(BONUS_UPDATE).unwrap();
    let tag = regex::Regex::new(r" /\*request_id='[^']*',application='[^']*'\*/").unwrap();
    for untagged in [false, true] {
        let (d, changed) = with_db_rewritten(&[], |l| {
            let l = &*match untagged {
                true => tag.replace_all(l, ""),
                false => l.into(),
            };
            let Some(c) = re.captures(l) else {
                return Some(l.to_string());
            };
            let wallet = c[3].parse::<u64>().unwrap() + 500_000;
            let update = format!(
                "UPDATE bonus_accounts SET balance = balance {} {}, updated_at = now() WHERE bonus_accounts.id = {wallet}",
                &c[1], &c[2]
            );
            let select = format!(
                "SELECT bonus_accounts.* FROM bonus_accounts WHERE bonus_accounts.account_id = {} LIMIT 1",
                &c[3]
            );
            let read = (l.trim_end())
                .replace(&c[0], &select)
                .replace(r#""sql_command":"update""#, r#""sql_command":"select""#);
            let read = read
                .strip_suffix(']')
                .map_or(read.clone(), |r| format!("{r},"));
            Some(format!("{read}\n{}", l.replace(&c[0], &update)))
        });
        assert!(changed > 1000, "{changed}");
        check(d.path(), &[], true);
        let out = report_of(d.path(), &[]);
        let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
        assert!(
            md.contains("by the rows' own id, not by their owners"),
            "{md}"
        );
        // Each change's evidence says whose row it was, and why.
        let ev = csv_rows(&out.path().join("evidence.csv"));
        let tampered: Vec<_> = ev
            .iter()
            .filter(|r| r["kind"] == "bonus_tampered")
            .collect();
        assert!(!tampered.is_empty());
        for r in tampered {
            let row = format!(
                "bonus_accounts row {}",
                r["subject"].parse::<u64>().unwrap() + 500_000
            );
            let owner = format!(
                "is account {}'s (read by it before its write at ",
                r["subject"]
            );
            assert!(
                r["reason"].contains(&row) && r["reason"].contains(&owner),
                "{r:?}"
            );
        }
    }
}

#[test]
fn balance_updates_qualified_by_schema_and_table_are_the_bonus_changes() {
    // Prisma's `increment`: the column qualified by schema and table, in parentheses,
    // and `AND 1=1` after the key; no ledger rows beside it.
    let t = "`loyalty`.`bonus_accounts`";
    let (d, changed) = with_bonus_updates_rewritten(false, |sign, amount, account| {
        format!(
            "UPDATE {t} SET `balance` = ({t}.`balance` {sign} {amount}), `updated_at` = now() WHERE ({t}.`account_id` = {account} AND 1=1)"
        )
    });
    assert!(changed > 2000 && changed % 2 == 0, "{changed}");
    check(d.path(), &[], true);
}

#[test]
fn balance_amounts_cast_to_a_type_are_the_bonus_changes() {
    // Hibernate's arithmetic on a bound amount casts it (`points+cast(? as integer)`);
    // here written into the statement, as MySQL's audit log shows it. No ledger rows.
    let (d, changed) = with_bonus_updates_rewritten(false, |sign, amount, account| {
        format!(
            "update bonus_accounts set balance=(balance{sign}cast({amount} as signed)), updated_at=now() where account_id={account}"
        )
    });
    assert!(changed > 2000 && changed % 2 == 0, "{changed}");
    check(d.path(), &[], true);
}

#[test]
fn an_api_namespaced_by_the_application_s_bonus_word_still_returns_customers() {
    // The customer routes live under `/loyalty/…` and the database logs writes only
    // (`pgaudit.log = 'write'`): the staff panel's reads of customers, request by
    // request, are all the evidence of the exposure.
    let (d, changed) = with_db_rewritten(&[], |l| {
        (!l.contains(r#""sql_command":"select""#)).then(|| l.to_string())
    });
    assert!(changed > 1000, "{changed}");
    let moved = std::cell::Cell::new(0);
    rewrite_lines(d.path(), "gateway", |l| {
        moved.set(moved.get() + usize::from(l.contains("/customers")));
        Some(l.replace("/customers", "/loyalty/customers"))
    });
    assert!(moved.get() > 1000, "{}", moved.get());
    check(d.path(), &[], true);
}

#[test]
fn a_bonus_function_called_by_a_select_changes_the_balances_it_names() {
    // The application credits points through a PostgreSQL function with named
    // arguments, `SELECT loyalty.credit_points(p_account_id => $2, p_points => $1)`,
    // which pgaudit logs as a READ; no ledger rows.
    let d = crate::util::tmp().unwrap();
    simulate_with(d.path(), ["apigw-json", "pg-csvlog", "onesignal"], &[]);
    let re = regex::Regex::new(
        r#""UPDATE",(.*?)WRITE,UPDATE,TABLE,public\.bonus_accounts,""UPDATE bonus_accounts SET balance = balance ([+-]) \$1, updated_at = now\(\) WHERE account_id = \$2"#,
    )
    .unwrap();
    let changed = std::cell::Cell::new(0);
    rewrite_lines(d.path(), "db", |l| {
        if l.contains("INSERT INTO bonus_ledger") {
            return None;
        }
        let out = re.replace_all(l, |c: &regex::Captures| {
            let sign = if &c[2] == "-" { "-" } else { "" };
            format!(
                r#""SELECT",{}READ,SELECT,,,""SELECT loyalty.credit_points(p_account_id => $2, p_points => {sign}$1)"#,
                &c[1]
            )
        });
        changed.set(changed.get() + usize::from(out != l));
        Some(out.into_owned())
    });
    assert!(changed.get() > 1000, "{}", changed.get());
    check(d.path(), &[], true);
}

#[test]
fn a_login_looked_up_by_like_without_a_wildcard_reads_one_row() {
    // Django's `iexact` on MySQL: `WHERE phone LIKE '+380…'`. Each of the stuffing
    // wave's thousands of login lookups picks one row; none is a read of the table.
    let (d, changed) = with_db_rewritten(&["--wave1", "stuffing"], |l| {
        Some(l.replace(
            "FROM customers WHERE phone = '",
            "FROM customers WHERE phone LIKE '",
        ))
    });
    assert!(changed > 1000, "{changed}");
    check(d.path(), &[], true);
    // The data the truth exposes, wave 2's dump, is all: wave 1 exposed nobody.
    let out = affected(d.path(), &[]);
    for r in csv_rows(&out.path().join("affected-customers.csv")) {
        let tampered = r["impacts"].contains("bonus_tampered");
        assert!(
            tampered || !r["waves"].split(';').any(|w| w == "1"),
            "{r:?}"
        );
    }
}

#[test]
fn a_django_application_called_loyalty_keeps_its_customers_in_loyalty_customer() {
    // Django names each model's table `<app>_<model>`. The customers' table carries the
    // application's bonus word; its dump by the leaked password is still the customers'.
    let re = regex::Regex::new(
        r"\b(customers|bonus_accounts|bonus_ledger|push_campaigns|customer_devices|orders)\b",
    )
    .unwrap();
    let (d, changed) = with_db_rewritten(&["--wave2", "direct"], |l| {
        let out = re.replace_all(l, |c: &regex::Captures| match &c[1] {
            "customers" => "loyalty_customer",
            "bonus_accounts" => "loyalty_bonusaccount",
            "bonus_ledger" => "loyalty_bonusledger",
            "push_campaigns" => "loyalty_pushcampaign",
            "customer_devices" => "loyalty_customerdevice",
            _ => "loyalty_order",
        });
        Some(out.into_owned())
    });
    assert!(changed > 5000, "{changed}");
    check(d.path(), &[], true);
}

#[test]
fn an_endpoint_that_reads_a_class_of_customers_for_every_user_is_no_dump() {
    // The app's profile lookup rewritten as a read of a store's members, as a
    // leaderboard would make it: hundreds of customers' requests run it, a whole class
    // of rows each time. It is the endpoint's query, not a dump by each of them.
    let re =
        regex::Regex::new(r"SELECT id, name, email, phone FROM customers WHERE id = \d+").unwrap();
    let (d, changed) = with_db_rewritten(&[], |l| {
        let store = "SELECT id, name, email, phone FROM customers WHERE store_id = 7";
        Some(re.replace_all(l, store).into_owned())
    });
    assert!(changed > 100, "{changed}");
    check(d.path(), &[], true);
}

#[test]
fn a_roster_in_local_time_without_a_zone_is_read_in_the_zone_its_sign_ups_show() {
    // A roster exported from a local `timestamp` column, or saved by Excel: Kyiv time,
    // no zone. Read as UTC, the customers who signed up in the two hours before the
    // staff export were placed after it, and left out of those it exposed; Excel's
    // `11/18/2024 2:33:28 PM` was no time at all, and every customer counted as existing
    // at every time. The evidence's sign-ups tell the zone.
    use chrono::TimeZone;
    for form in ["%Y-%m-%d %H:%M:%S", "%m/%d/%Y %-I:%M:%S %p"] {
        let d = crate::util::tmp().unwrap();
        simulate_with(
            d.path(),
            ["apigw-json", "pg-stderr", "fcm-bigquery-json"],
            &["--seed", "11"],
        );
        rewrite_roster_created(d.path(), |utc| {
            let local = chrono_tz::Europe::Kyiv.from_utc_datetime(&utc.naive_utc());
            local.format(form).to_string()
        });
        check(d.path(), &[], true);
        let j = report_json(d.path(), &[]);
        let note = strs(&j["undetermined"])
            .into_iter()
            .find(|n| n.contains("roster's creation times carry no zone"))
            .expect("the roster's zone is said");
        assert!(note.contains("UTC+02:00"), "{form}: {note}");
    }
}

#[test]
fn a_dual_stack_server_s_mapped_addresses_are_the_ipv4_clients_they_are() {
    // Node.js and Java servers log an IPv4 client as `::ffff:203.0.113.14`. Before, the
    // report named every address so, and the attacker's host, plain in the database's
    // log, was another address than its requests' at the gateway.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-stderr", "fcm-bigquery-json"],
        &["--seed", "11", "--wave2", "direct"],
    );
    let re = regex::Regex::new(r#""ip":"(\d+\.\d+\.\d+\.\d+)""#).unwrap();
    rewrite_lines(d.path(), "gateway", |l| {
        Some(re.replace_all(l, r#""ip":"::ffff:$1""#).into_owned())
    });
    check(d.path(), &[], true);
    let out = affected(d.path(), &[]);
    let iocs = csv_rows(&out.path().join("iocs.csv"));
    assert!(iocs.iter().all(|r| !r["value"].starts_with("::ffff:")));
    let tl = wave_timeline(d.path(), "1");
    assert!(tl.iter().any(|r| r["client_ip"] == "203.0.113.14"
        && r["extra"].contains(r#""client_ip_logged":"::ffff:203.0.113.14""#)));
}

#[test]
fn statements_tagged_with_a_trace_join_the_request_that_logged_it() {
    // sqlcommenter's own libraries tag OpenTelemetry's `traceparent`, not a request id;
    // API Gateway logs the trace as `xrayTraceId`, whose parts are the W3C trace id.
    // Before, such statements were untagged: tied to requests by account and timing.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["apigw-json", "pg-stderr", "fcm-bigquery-json"],
        &["--seed", "11"],
    );
    let tag = regex::Regex::new(r"request_id='([0-9a-f-]{36})'").unwrap();
    rewrite_lines(d.path(), "db", |l| {
        Some(
            tag.replace_all(l, |c: &regex::Captures| {
                let h = c[1].replace('-', "");
                format!("traceparent='00-{h}-{}-01'", &h[..16])
            })
            .into_owned(),
        )
    });
    let req = regex::Regex::new(r#""requestId":"([0-9a-f-]{36})""#).unwrap();
    rewrite_lines(d.path(), "gateway", |l| {
        Some(
            req.replace_all(l, |c: &regex::Captures| {
                let h = c[1].replace('-', "");
                format!(
                    r#""requestId":"{}","xrayTraceId":"1-{}-{}""#,
                    &c[1],
                    &h[..8],
                    &h[8..]
                )
            })
            .into_owned(),
        )
    });
    check(d.path(), &[], true);
    let db: Vec<_> = wave_timeline(d.path(), "1")
        .into_iter()
        .filter(|r| r["source"] == "db")
        .collect();
    assert!(!db.is_empty());
    assert!(
        db.iter().all(|r| r["reason"].contains("(request id ")),
        "{:?}",
        db.iter().map(|r| &r["reason"]).collect::<Vec<_>>()
    );
}

#[test]
fn a_cdn_s_edges_the_run_was_not_told_of_are_read_as_proxies() {
    // Envoy behind a CDN logs the edge as its peer and the client in X-Forwarded-For.
    // Without --trusted-proxy, four edge addresses stood for every customer and the
    // attacker alike: the malicious message was judged legitimate and 1308 exposed
    // customers were missed.
    let d = crate::util::tmp().unwrap();
    simulate_with(
        d.path(),
        ["envoy-json", "pg-stderr", "fcm-bigquery-json"],
        &["--seed", "13"],
    );
    let peer = regex::Regex::new(r#""downstream_remote_address":"10\.0\.0\.\d+:(\d+)""#).unwrap();
    rewrite_lines(d.path(), "gateway", |l| {
        Some(
            peer.replace_all(l, |c: &regex::Captures| {
                let port: usize = c[1].parse().unwrap();
                let edge = ["13.32.10.5", "13.32.10.9", "13.32.11.5", "13.32.11.9"][port % 4];
                format!(r#""downstream_remote_address":"{edge}:{}""#, &c[1])
            })
            .into_owned(),
        )
    });
    // Envoy logs no signed-in identity: waves are checked without principals.
    check(d.path(), &[], false);
    let j = report_json(d.path(), &[]);
    assert!(strs(&j["undetermined"])
        .iter()
        .any(|n| n.starts_with("4 public addresses forwarded requests for many clients")));
}
