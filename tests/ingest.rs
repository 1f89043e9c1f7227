use crate::util::{bl, ran, root, truth};
use predicates::str::contains;
use std::io::Write;

pub fn inventory(args: &[&str]) -> Vec<breachline::model::FileInfo> {
    let dir = crate::util::tmp().unwrap();
    let case = dir.path().join("case.jsonl");
    ran(bl().arg("ingest").args(args).arg("-o").arg(&case).arg("-q"));
    let first = std::fs::read_to_string(&case)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&first).unwrap();
    serde_json::from_value(v["files"].clone()).unwrap()
}

/// The records of a JSON Lines case file `ingest` writes beside `evidence` (the
/// inventory first, then the events).
fn ingested(evidence: &std::path::Path, extra: &[&str]) -> Vec<serde_json::Value> {
    let case = evidence.with_file_name("case.jsonl");
    ran(bl()
        .arg("ingest")
        .arg(evidence)
        .args(extra)
        .arg("-q")
        .arg("-o")
        .arg(&case));
    std::fs::read_to_string(&case)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn sample_accounting_matches_truth_per_file() {
    let t = truth(&root().join("sample-logs"));
    let files = inventory(&["sample-logs"]);
    for tf in t["files"].as_array().unwrap() {
        let path = tf["path"].as_str().unwrap();
        if path == "roster.csv" {
            continue;
        }
        let f = files
            .iter()
            .find(|f| f.path.ends_with(path))
            .unwrap_or_else(|| panic!("{path} not in inventory"));
        assert_eq!(f.lines, tf["lines"].as_u64().unwrap(), "{path} lines");
        assert_eq!(
            f.rejected,
            tf["malformed"].as_u64().unwrap(),
            "{path} rejected"
        );
        assert_eq!(
            f.duplicates,
            tf["duplicates"].as_u64().unwrap(),
            "{path} duplicates"
        );
        assert_eq!(
            f.records,
            f.events + f.duplicates + f.rejected + f.skipped,
            "{path} accounting"
        );
        assert_eq!(f.sha256.len(), 64);
        assert!(f.error.is_none(), "{path}: {:?}", f.error);
    }
}

#[test]
fn rejected_records_give_exit_2_and_a_reject_log() {
    let dir = crate::util::tmp().unwrap();
    let log = dir.path().join("rejects.csv");
    bl().args(["ingest", "sample-logs", "-q", "--reject-log"])
        .arg(&log)
        .assert()
        .code(2);
    let rows = crate::util::csv_rows(&log);
    assert_eq!(rows.len(), 9);
    assert!(rows
        .iter()
        .all(|r| r["line"].parse::<u64>().unwrap() > 0 && !r["reason"].is_empty()));
    bl().args(["ingest", "sample-logs", "-q", "--strict"])
        .assert()
        .code(1)
        .stderr(contains("--strict"));
    // A run that fails part-way leaves no case file, whole or partial.
    let case = dir.path().join("strict.parquet");
    bl().args(["ingest", "sample-logs", "-q", "--strict", "-o"])
        .arg(&case)
        .assert()
        .code(1);
    let left: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("strict"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

#[test]
fn bad_files_are_reported_and_do_not_stop_the_others() {
    let dir = crate::util::tmp().unwrap();
    let d = dir.path();
    // Unknown format, binary garbage, a truncated gzip, a 10 MB line, non-UTF-8 bytes.
    std::fs::write(d.join("a-unknown.txt"), "hello world\nnot a log\n").unwrap();
    std::fs::write(
        d.join("b-binary.bin"),
        (0..4096u32)
            .map(|i| (i * 7 % 256) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for i in 0..2000 {
        writeln!(gz, r#"{{"requestId":"r{i}","ip":"203.0.113.9","requestTime":"05/Mar/2024:14:22:01 +0000","httpMethod":"GET","resourcePath":"/x","status":"200"}}"#).unwrap();
    }
    let bytes = gz.finish().unwrap();
    std::fs::write(d.join("c-truncated.log.gz"), &bytes[..bytes.len() / 2]).unwrap();
    // Cut inside its first record: what was read is too short to recognize, and the
    // break, not the format, is what to report.
    std::fs::write(d.join("c-cut-early.log.gz"), &bytes[..30]).unwrap();
    let mut big = String::from(
        r#"{"requestId":"a","ip":"1.2.3.4","requestTime":"05/Mar/2024:14:22:01 +0000","httpMethod":"GET","resourcePath":"/x","status":"200"}"#,
    );
    big.push('\n');
    big.push_str(&"x".repeat(10 << 20));
    big.push('\n');
    big.push_str("{\"requestId\":\"b\",\"ip\":\"1.2.3.4\",\"requestTime\":\"05/Mar/2024:14:22:02 +0000\",\"httpMethod\":\"GET\",\"resourcePath\":\"/\u{fffd}\",\"status\":\"200\"}\n");
    let mut raw = big.into_bytes();
    raw.extend_from_slice(b"{\"requestId\":\"c\",\"ip\":\"1.2.3.4\",\"requestTime\":\"05/Mar/2024:14:22:03 +0000\",\"httpMethod\":\"GET\",\"resourcePath\":\"/\xff\xfe\",\"status\":\"200\"}\n");
    std::fs::write(d.join("d-big.log"), raw).unwrap();
    // Rotated by a logrotate whose compresscmd is bzip2 or xz, but damaged; and an export
    // that is an archive.
    std::fs::write(
        d.join("e-api.log.1.bz2"),
        b"BZh91AY&SY\x8a\x01\x02\x03garbage",
    )
    .unwrap();
    std::fs::write(
        d.join("f-api.log.2.xz"),
        b"\xFD7zXZ\x00\x00\x04\xe6\xd6\xb4F",
    )
    .unwrap();
    std::fs::write(d.join("g-export.zip"), b"PK\x03\x04\x14\x00\x00\x00").unwrap();
    std::fs::write(d.join("h-export.7z"), b"7z\xBC\xAF\x27\x1C\x00\x04").unwrap();
    let out = bl()
        .arg("ingest")
        .arg(d)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("a-unknown.txt") && err.contains("no parser recognizes"),
        "{err}"
    );
    assert!(
        err.contains("c-truncated.log.gz") && err.contains("gzip"),
        "{err}"
    );
    for (f, kind) in [("e-api.log.1.bz2", "bzip2"), ("f-api.log.2.xz", "xz")] {
        assert!(
            err.contains(&format!("{f}: {kind} stream ends early or is corrupt")),
            "{err}"
        );
    }
    assert!(
        err.contains("g-export.zip: cannot list the zip archive") && err.contains("zip -FF"),
        "{err}"
    );
    assert!(
        err.contains("h-export.7z: the file is a 7-Zip archive") && err.contains("7z x"),
        "{err}"
    );
    assert!(
        err.contains("c-cut-early.log.gz: gzip stream ends early or is corrupt"),
        "{err}"
    );
    // The caller names each file; its message does not name it again.
    for f in ["a-unknown.txt", "h-export.7z"] {
        assert_eq!(err.matches(f).count(), 1, "{f} named twice: {err}");
    }
    assert!(!err.contains("panicked"));
    let files = inventory(&[d.to_str().unwrap()]);
    let big = files
        .iter()
        .find(|f| f.path.ends_with("d-big.log"))
        .unwrap();
    assert_eq!((big.events, big.rejected), (3, 1));
    let tr = files
        .iter()
        .find(|f| f.path.ends_with("c-truncated.log.gz"))
        .unwrap();
    assert!(tr.events > 0 && tr.error.is_some());
    assert_eq!(tr.bytes, bytes.len() as u64 / 2);
}

#[test]
fn stdin_and_case_files_round_trip() {
    let log = std::fs::read(root().join("sample-logs/gateway/apigw-json/api-access.log")).unwrap();
    bl().args(["ingest", "-", "-q"])
        .write_stdin(log)
        .assert()
        .success()
        .stdout(contains("apigw-json"));
    let dir = crate::util::tmp().unwrap();
    let pq = dir.path().join("case.parquet");
    bl().args([
        "ingest",
        "sample-logs/gateway",
        "sample-logs/push",
        "-q",
        "-o",
    ])
    .arg(&pq)
    .assert()
    .code(2);
    let from_case = bl()
        .args(["waves", "--format", "json", "-q"])
        .arg(&pq)
        .assert()
        .get_output()
        .stdout
        .clone();
    let from_logs = bl()
        .args([
            "waves",
            "--format",
            "json",
            "-q",
            "sample-logs/gateway",
            "sample-logs/push",
        ])
        .assert()
        .get_output()
        .stdout
        .clone();
    assert_eq!(
        String::from_utf8_lossy(&from_case),
        String::from_utf8_lossy(&from_logs)
    );
}

#[test]
fn same_file_twice_is_all_duplicates() {
    let p = "sample-logs/gateway/apigw-json/api-access.log";
    let files = inventory(&[p, p]);
    assert_eq!(files[1].duplicates, files[0].events);
    assert_eq!(files[1].events, 0);
}

#[test]
fn a_case_file_inside_the_evidence_directory_is_not_read_as_evidence() {
    // `-o` into the directory being ingested: the file being written (and, on the
    // second run, the finished one) is listed as not evidence, never parsed.
    let dir = crate::util::tmp().unwrap();
    let d = dir.path();
    std::fs::copy(
        root().join("sample-logs/gateway/apigw-json/api-access.log"),
        d.join("api-access.log"),
    )
    .unwrap();
    let events = |case: &str| {
        let out = bl()
            .arg("ingest")
            .arg(d)
            .arg("-q")
            .arg("-o")
            .arg(d.join(case))
            .assert()
            .get_output()
            .stdout
            .clone();
        String::from_utf8_lossy(&out)
            .lines()
            .last()
            .unwrap()
            .to_string()
    };
    let first = events("case.parquet");
    let second = events("again.parquet");
    let n = |s: &str| s.split(", ").nth(1).unwrap().to_string();
    assert_ne!(n(&first), "0 events", "{first}");
    assert_eq!(n(&first), n(&second));
    let inv: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.join("again.parquet.inventory.json")).unwrap())
            .unwrap();
    let notes: Vec<&str> = inv["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["note"].as_str())
        .collect();
    assert!(
        notes.iter().any(|n| n.starts_with("case file")),
        "{notes:?}"
    );
    assert!(
        notes.iter().any(|n| n.starts_with("unfinished")),
        "{notes:?}"
    );
    assert!(inv["files"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["error"].is_null()));
}

/// A push worker's own log, as it is handed over: pino JSON lines and plain text lines
/// mixed, service chatter, an Expo batch whose body was logged as a string, receipts
/// fetched later, a line cut mid-record and a line without a time.
#[test]
fn push_worker_logs_of_expo_and_fcm_are_read_send_by_send() {
    let dir = crate::util::tmp().unwrap();
    let expo = dir.path().join("expo-worker.log");
    std::fs::write(
        &expo,
        concat!(
            r#"{"level":"info","timestamp":"2025-11-04T09:58:00.000Z","message":"worker started"}"#, "\n",
            r#"{"level":"info","timestamp":"2025-11-04T09:58:01.120Z","message":"expo push batch","request":"[{\"to\":\"ExponentPushToken[aaaa]\",\"title\":\"Hi\",\"body\":\"=1+1\"},{\"to\":[\"ExponentPushToken[bbbb]\",\"ExponentPushToken[cccc]\"],\"title\":\"Hi\",\"body\":\"=1+1\"}]","response":{"data":[{"status":"ok","id":"t-a"},{"status":"error","message":"not registered","details":{"error":"DeviceNotRegistered","expoPushToken":"ExponentPushToken[bbbb]"}},{"status":"ok","id":"t-c"}]}}"#, "\n",
            r#"{"level":"info","timestamp":"2025-11-04T09:58:01.500Z","message":"expo push batch","request":"[{\"to\":\"ExponentPushToken[dddd]\",\"title\":\"Hi\",\"body\":\"=1"#, "\n",
            "2025-11-04 10:13:01,002 INFO receipts {\"data\":{\"t-a\":{\"status\":\"ok\"},\"t-c\":{\"status\":\"error\",\"details\":{\"error\":\"MessageRateExceeded\"}}}}\n",
            "INFO receipts without a time {\"data\":{\"t-x\":{\"status\":\"ok\"}}}\n",
        ),
    )
    .unwrap();
    let fcm = dir.path().join("fcm-worker.log");
    std::fs::write(
        &fcm,
        concat!(
            r#"{"level":30,"time":1762250281120,"msg":"fcm send","request":{"message":{"topic":"all","notification":{"title":"Hi","body":"there"},"fcm_options":{"analytics_label":"cmp-1"}}},"response":{"name":"projects/shop/messages/0:1762250281120000%aa"}}"#, "\n",
            r#"{"level":30,"time":1762250282000,"msg":"healthcheck ok"}"#, "\n",
            "2025-11-04T09:58:03Z WARN fcm send {\"message\":{\"token\":\"tok-1\",\"notification\":{\"title\":\"Hi\"}}} -> {\"error\":{\"code\":404,\"status\":\"NOT_FOUND\",\"details\":[{\"errorCode\":\"UNREGISTERED\"}]}}\n",
            r#"{"level":30,"time":1762250284000,"msg":"fcm send","request":{"message":{"token":"tok-2","notif"#, "\n",
        ),
    )
    .unwrap();
    let files = inventory(&[dir.path().to_str().unwrap()]);
    let by = |name: &str| files.iter().find(|f| f.path.ends_with(name)).unwrap();
    let e = by("expo-worker.log");
    assert_eq!(e.format, "expo-push-log");
    // Three tickets of the first batch (one message went to two tokens) and two receipts.
    assert_eq!((e.lines, e.records), (5, 8));
    assert_eq!((e.events, e.skipped, e.rejected), (5, 1, 2));
    let f = by("fcm-worker.log");
    assert_eq!(f.format, "fcm-v1-log");
    assert_eq!((f.events, f.skipped, f.rejected), (2, 1, 1));

    // Through the analysis: the batch and its receipts are one message; the receipt's
    // failure marks the device, and the hostile body is neutralized in the CSV.
    let out = dir.path().join("out");
    ran(bl()
        .args(["affected", "-q"])
        .arg(&expo)
        .arg("--out-dir")
        .arg(&out));
    let csv = std::fs::read_to_string(out.join("messages.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().skip(1).collect();
    assert_eq!(rows.len(), 1, "{csv}");
    assert!(
        rows[0].starts_with("t-a,expo,2025-11-04T09:58:01.120000Z,Hi,'=1+1,"),
        "{csv}"
    );
    assert!(rows[0].ends_with(",3,1,2"), "{csv}");
}

/// A stage's access-log format edited mid-file (JSON, then the CLF preset): the later
/// lines are re-detected one by one instead of rejected; a broken line still is.
#[test]
fn a_format_changed_mid_file_is_read_line_by_line() {
    let dir = crate::util::tmp().unwrap();
    let json: Vec<String> =
        std::fs::read_to_string(root().join("sample-logs/gateway/apigw-json/api-access.log"))
            .unwrap()
            .lines()
            .take(40)
            .map(str::to_string)
            .collect();
    let mut text = json.join("\n") + "\n";
    text += r#"203.0.113.45 - - [05/Nov/2025:10:00:27 +0000] "POST /api/v1/auth/login HTTP/1.1" 200 1179 7fdac7de-5b84-45f3-a04d-65b0083705e6 7fdac7de5b8445f="#;
    text += "\n";
    text += r#"203.0.113.45 - - [05/Nov/2025:10:00:46 +0000] "GET /api/v1/menu/{itemId} HTTP/1.1" 200 2026 3142f8d4-00b6-4bd5-abaf-db1c7cc2b4c6 3142f8d400b64bd="#;
    text += "\n{\"requestId\":\"cut\",\"ip\":\"203.0.1\n";
    let p = dir.path().join("api-access.log");
    std::fs::write(&p, text).unwrap();
    let lines = ingested(&p, &[]);
    let f = &lines[0]["files"][0];
    assert_eq!(f["format"], "apigw-json");
    assert_eq!(
        (f["events"].as_u64(), f["rejected"].as_u64()),
        (Some(42), Some(1))
    );
    let clf: Vec<&serde_json::Value> = lines[1..]
        .iter()
        .filter(|e| e["format"] == "apigw-clf")
        .collect();
    assert_eq!(clf.len(), 2);
    assert_eq!(clf[1]["route"], "/api/v1/menu/{itemId}");
}

/// A `log_line_prefix` none of the common ones fits is read from the lines themselves:
/// Debian's old default `%t [%p-%l] %q%u@%d ` and a pgBadger-style key=value prefix,
/// with the `[unknown]@[unknown]` of a connection before it authenticates, background
/// lines without the session part, a continuation line and a broken line.
#[test]
fn a_deployments_own_log_line_prefix_is_read_from_its_lines() {
    let dir = crate::util::tmp().unwrap();
    let debian = "\
2024-03-05 14:23:09 EET [4240-1] LOG:  checkpoint starting: time
2024-03-05 14:23:10 EET [4243-1] [unknown]@[unknown] LOG:  connection received: host=203.0.113.45 port=51234
2024-03-05 14:23:10 EET [4243-2] app@loyalty LOG:  connection authorized: user=app database=loyalty
2024-03-05 14:23:11 EET [4243-3] app@loyalty LOG:  AUDIT: SESSION,1,1,WRITE,UPDATE,,,\"UPDATE bonus_accounts SET balance = balance + 5000
\tWHERE customer_id = 1001\",<not logged>
garbage that no server wrote
2024-03-05 14:23:12 EET [4243-4] app@loyalty LOG:  disconnection: session time: 0:00:02.001 user=app database=loyalty host=203.0.113.45 port=51234
";
    let badger = "\
2024-03-05 12:23:10 UTC [4243]: user=,db=,app=,client=203.0.113.45 LOG:  connection received: host=203.0.113.45 port=51234
2024-03-05 12:23:11 UTC [4243]: user=app,db=loyalty,app=psql,client=203.0.113.45 LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,SELECT email FROM customers,<not logged>
";
    std::fs::write(dir.path().join("postgresql-main.log"), debian).unwrap();
    std::fs::write(dir.path().join("postgresql-badger.log"), badger).unwrap();
    let out = bl()
        .arg("ingest")
        .arg(dir.path())
        .arg("-o")
        .arg(dir.path().join("case.jsonl"))
        .arg("--no-progress")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("postgresql-main.log: note: log_line_prefix read from the lines as \"%t [%p-%l] %q%u@%d \""),
        "{err}"
    );
    assert!(
        err.contains("as \"%t [%p]: user=%u,db=%d,app=%a,client=%h \""),
        "{err}"
    );
    let text = std::fs::read_to_string(dir.path().join("case.jsonl")).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let files: Vec<breachline::model::FileInfo> =
        serde_json::from_value(rows[0]["files"].clone()).unwrap();
    let of = |name: &str| files.iter().find(|f| f.path.ends_with(name)).unwrap();
    let main = of("postgresql-main.log");
    assert_eq!(main.format, "pg-stderr");
    // The checkpoint is server chatter, skipped; the garbage line is rejected.
    assert_eq!(
        (main.events, main.rejected, main.skipped),
        (4, 1, 1),
        "{main:?}"
    );
    let badger = of("postgresql-badger.log");
    assert_eq!((badger.events, badger.rejected), (2, 0), "{badger:?}");
    let ev = |file: &str, cmd: &str| {
        let f = files.iter().position(|f| f.path.ends_with(file)).unwrap();
        rows[1..]
            .iter()
            .find(|e| e["file"] == f && e["command"] == cmd)
            .unwrap_or_else(|| panic!("{file} {cmd}"))
            .clone()
    };
    let recv = ev("postgresql-main.log", "connection received");
    assert_eq!(recv["db_host"], "203.0.113.45");
    assert_eq!(recv["db_user"], serde_json::Value::Null);
    assert_eq!(recv["ts"], 1_709_641_390_000_000i64);
    let upd = ev("postgresql-main.log", "UPDATE");
    assert_eq!(
        (upd["db_user"].as_str(), upd["db_name"].as_str()),
        (Some("app"), Some("loyalty"))
    );
    assert!(upd["statement"]
        .as_str()
        .unwrap()
        .contains("WHERE customer_id = 1001"));
    let sel = ev("postgresql-badger.log", "SELECT");
    assert_eq!(sel["db_host"], "203.0.113.45");
    assert_eq!(sel["extra"]["application_name"], "psql");
}

/// A `log_line_prefix` changed by a reload mid-file: the lines after it are read with the
/// prefix they were written with (here a deployment's own, with the client address), and
/// each such event names it. A file whose first lines already mix two servers' prefixes
/// is still taken for PostgreSQL, with a note. A line no prefix fits stays rejected.
#[test]
fn lines_after_a_reload_changed_the_log_line_prefix_are_read_with_theirs() {
    let dir = crate::util::tmp().unwrap();
    let mut log = String::new();
    for i in 0..45 {
        log += &format!(
            "2024-03-05 14:{:02}:{:02}.100 EET [4243] app@loyalty LOG:  AUDIT: SESSION,{},1,READ,SELECT,TABLE,public.customers,\"SELECT email FROM customers WHERE id = {}\",<not logged>\n",
            i / 60,
            i % 60,
            i + 1,
            1000 + i
        );
    }
    log +=
        "2024-03-05 14:01:00.000 EET [100] LOG:  received SIGHUP, reloading configuration files\n";
    log += "2024-03-05 14:01:00.001 EET [100] LOG:  parameter \"log_line_prefix\" changed to \"%m [%p]: [%l-1] db=%d,user=%u,app=%a,client=%h \"\n";
    for i in 0..20 {
        log += &format!(
            "2024-03-05 14:02:{i:02}.500 EET [4300]: [{}-1] db=loyalty,user=attacker,app=psql,client=198.51.100.7 LOG:  AUDIT: SESSION,{},1,WRITE,UPDATE,TABLE,public.bonus_accounts,\"UPDATE bonus_accounts SET balance = balance + 500\n\tWHERE account_id = {}\",<not logged>\n",
            i + 1,
            i + 1,
            2000 + i
        );
    }
    log += "not a line any server wrote\n";
    log += "2024-03-05 14:03:00.000 EET [4301]: [1-1] db=loyalty,user=postgres,app=[unknown],client=198.51.100.7 FATAL:  password authentication failed for user \"postgres\"\n";
    let path = dir.path().join("postgresql-2024-03-05.log");
    std::fs::write(&path, &log).unwrap();
    let rows = ingested(&path, &[]);
    let f = &rows[0]["files"][0];
    assert_eq!(f["format"], "pg-stderr");
    assert_eq!(
        (&f["events"], &f["rejected"], &f["skipped"]),
        (
            &serde_json::json!(66),
            &serde_json::json!(1),
            &serde_json::json!(2)
        ),
        "{f}"
    );
    let own = "%m [%p]: [%l-1] db=%d,user=%u,app=%a,client=%h ";
    let updates: Vec<&serde_json::Value> = rows[1..]
        .iter()
        .filter(|e| e["command"] == "UPDATE")
        .collect();
    assert_eq!(updates.len(), 20);
    for u in &updates {
        assert_eq!(u["db_user"], "attacker");
        assert_eq!(u["db_host"], "198.51.100.7");
        assert_eq!(u["extra"]["application_name"], "psql");
        assert_eq!(u["extra"]["log_line_prefix"], own);
        assert!(u["statement"]
            .as_str()
            .unwrap()
            .contains("\nWHERE account_id"));
    }
    assert_eq!(updates[0]["ts"], 1_709_640_120_500_000i64);
    let failed = rows[1..]
        .iter()
        .find(|e| e["command"] == "authentication failed")
        .unwrap();
    assert_eq!(failed["db_user"], "postgres");
    // The lines written with the file's own prefix do not carry it.
    let reads = rows[1..].iter().filter(|e| e["command"] == "SELECT");
    assert!(
        reads.clone().count() == 45
            && reads
                .clone()
                .all(|e| e["extra"]["log_line_prefix"].is_null())
    );

    // Two servers' logs joined, one line each way: neither prefix fits 80 % of the head.
    let joined = dir.path().join("joined.log");
    std::fs::write(&joined, "\
2024-03-05 14:22:01.123 UTC [12345] svc_reporting@orders LOG:  AUDIT: SESSION,5,1,READ,SELECT,TABLE,public.customers,\"SELECT id, email, phone FROM customers WHERE id = $1\",<not logged>
2024-03-05 14:23:10.004 UTC [12345] svc_reporting@orders LOG:  AUDIT: SESSION,6,1,READ,COPY,TABLE,public.customers,\"COPY (SELECT id, email, phone
\tFROM customers) TO STDOUT WITH CSV\",<not logged>
2024-03-05 14:25:00 UTC:203.0.113.45(53112):attacker@orders:[23456]:LOG:  AUDIT: SESSION,1,1,ROLE,CREATE ROLE,,,CREATE ROLE backdoor LOGIN SUPERUSER PASSWORD 'Winter2024!',<not logged>
").unwrap();
    let rows = ingested(&joined, &[]);
    let f = &rows[0]["files"][0];
    assert_eq!(
        (&f["format"], &f["events"]),
        (&serde_json::json!("pg-stderr"), &serde_json::json!(3)),
        "{f}"
    );
    assert!(
        f["detail"]
            .as_str()
            .unwrap()
            .contains("more than one log_line_prefix"),
        "{f}"
    );
    let role = rows[1..]
        .iter()
        .find(|e| e["command"] == "CREATE ROLE")
        .unwrap();
    assert_eq!(role["db_host"], "203.0.113.45");
    assert_eq!(role["extra"]["log_line_prefix"], "%t:%r:%u@%d:[%p]:");
}

/// `aws logs tail` output is unwrapped like an S3 export, and an application's lines that
/// only look like an envelope (an S3 export's time prefix, a JSON key where syslog has
/// its tag) are read as they are.
#[test]
fn tail_output_is_unwrapped_and_envelope_look_alikes_are_read_as_they_are() {
    let dir = crate::util::tmp().unwrap();
    let gw = |t: &str, id: &str| {
        format!(
            r#"{{"requestId":"{id}","ip":"203.0.113.45","requestTime":"05/Mar/2024:{t} +0000","httpMethod":"GET","resourcePath":"/customers/{{id}}","path":"/prod/customers/1001","status":"200"}}"#
        )
    };
    let tail = format!(
        "2024-03-05T14:22:01.204000+00:00 3b7c2e1f9a8d4c6b8e0f1a2b3c4d5e6f {}\n\
         2024-03-05T14:22:02+00:00 3b7c2e1f9a8d4c6b8e0f1a2b3c4d5e6f {}\n\
         2024-03-05T14:22:03.000000+00:00 3b7c2e1f9a8d4c6b8e0f1a2b3c4d5e6f {{\"requestId\": cut\n",
        gw("14:22:01", "a1"),
        gw("14:22:02", "a2"),
    );
    std::fs::write(dir.path().join("api-tail.log"), tail).unwrap();
    let app = "\
2024-03-05T14:25:00.412Z INFO fcm send {\"message\":{\"token\":\"abc\",\"notification\":{\"title\":\"Hi\",\"body\":\"Yo\"}}}
2024-03-05T14:25:01.412Z INFO fcm send {\"message\":{\"token\":\"def\",\"notification\":{\"title\":\"Hi\",\"body\":\"Yo\"}}}
";
    std::fs::write(dir.path().join("push-worker.log"), app).unwrap();
    let files = inventory(&[dir.path().to_str().unwrap()]);
    let of = |name: &str| files.iter().find(|f| f.path.ends_with(name)).unwrap();
    let t = of("api-tail.log");
    assert_eq!(t.format, "cloudwatch-tail+apigw-json");
    assert_eq!((t.events, t.rejected), (2, 1), "{t:?}");
    assert_eq!(t.first_ts, Some(1_709_648_521_000_000));
    let a = of("push-worker.log");
    assert_eq!(a.format, "fcm-v1-log");
    assert_eq!((a.events, a.rejected), (2, 0), "{a:?}");
}

/// Zone-less times read as UTC because no zone was named are said so on stderr, with the
/// option that names it; naming it, or a format whose times are UTC by definition, says
/// nothing.
#[test]
fn zone_less_times_read_as_utc_are_warned_about() {
    let dir = crate::util::tmp().unwrap();
    std::fs::write(
        dir.path().join("server_audit.log"),
        "20240305 14:22:01,db1,app,203.0.113.45,88,0,CONNECT,loyalty,,0\n\
         20240305 14:23:10,db1,app,203.0.113.45,88,4711,QUERY,loyalty,'SELECT 1',0\n",
    )
    .unwrap();
    let run = |extra: &[&str]| {
        let out = bl()
            .arg("ingest")
            .arg(dir.path().join("server_audit.log"))
            .args(extra)
            .arg("--no-progress")
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let err = run(&[]);
    assert!(
        err.contains("2 events of ")
            && err.contains(
                "server_audit.log carry no time zone and were read as UTC; pass --assume-tz ZONE"
            ),
        "{err}"
    );
    assert!(!run(&["--assume-tz", "Europe/Kyiv"]).contains("no time zone"));
    assert!(!run(&["-q"]).contains("no time zone"));
}

/// MySQL Enterprise Audit events handed over one object per line (`jq -c '.[]'`, a log
/// shipper's output) or as a piece cut from the middle of the active file's array are the
/// same events as the array.
#[test]
fn mysql_audit_objects_one_per_line_or_cut_from_the_array_are_read() {
    let dir = crate::util::tmp().unwrap();
    let rec = |sec: u32, id: u32, q: &str| {
        format!(
            r#"{{"timestamp":"2024-03-05 14:23:{sec:02}","id":{id},"class":"general","event":"status","connection_id":88,"account":{{"user":"svc","host":"%"}},"login":{{"user":"svc","os":"","ip":"203.0.113.45","proxy":""}},"general_data":{{"command":"Query","sql_command":"select","query":"{q}","status":0}}}}"#
        )
    };
    let lines = [
        rec(10, 0, "SELECT email, phone FROM customers"),
        rec(10, 1, "SELECT 1"),
        "{\"timestamp\":\"2024-03-05 14:23:11\",\"id\":0,\"class\":\"gen".to_string(),
        rec(12, 0, "SELECT points FROM bonus WHERE customer_id = 7"),
    ];
    std::fs::write(dir.path().join("audit.ndjson"), lines.join("\n") + "\n").unwrap();
    let cut = format!(
        ",\n{},\n{},\n",
        rec(20, 0, "SELECT 2"),
        rec(21, 0, "SELECT 3")
    );
    std::fs::write(dir.path().join("audit.cut.log"), cut).unwrap();
    let files = inventory(&[dir.path().to_str().unwrap()]);
    let of = |name: &str| files.iter().find(|f| f.path.ends_with(name)).unwrap();
    let nd = of("audit.ndjson");
    assert_eq!(nd.format, "mysql-audit-json");
    assert_eq!((nd.events, nd.rejected), (3, 1));
    let cut = of("audit.cut.log");
    assert_eq!(cut.format, "mysql-audit-json");
    assert_eq!((cut.events, cut.rejected), (2, 0));
}

/// The same edit seen through a CloudWatch export (`aws logs filter-log-events`, pretty
/// printed as the CLI prints it): the envelope's messages are re-detected one by one too.
#[test]
fn a_format_changed_inside_a_cloudwatch_export_is_read_message_by_message() {
    let dir = crate::util::tmp().unwrap();
    let mut msgs: Vec<String> = (10..30)
        .map(|s| format!(r#"{{"requestId":"6f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b{s}","ip":"203.0.113.45","requestTime":"05/Mar/2024:14:21:{s} +0000","httpMethod":"POST","resourcePath":"/orders/{{orderId}}/refund","status":"200","protocol":"HTTP/1.1","responseLength":"312"}}"#))
        .collect();
    msgs.extend([
        "203.0.113.45,-,-,05/Mar/2024:14:22:03 +0000,GET,/orders/{orderId},HTTP/1.1,404,12,7f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c,Tn7xKGHoIAMEb3R=".to_string(),
        r#"203.0.113.45 - - [05/Mar/2024:14:22:04 +0000] "GET /orders/{orderId} HTTP/1.1" 200 1179 8f1c2a3b-8d4e-4f5a-9b6c-1d2e3f4a5b6c Tn7xKGHoIAMEb3S="#.to_string(),
        r#"{"requestId":"cut","ip":"203.0.1"#.to_string(),
    ]);
    let events: Vec<serde_json::Value> = msgs
        .iter()
        .enumerate()
        .map(|(i, m)| {
            serde_json::json!({"logStreamName": "a1b2c3/prod", "timestamp": 1709648521204i64 + i as i64 * 1000,
                "message": m, "ingestionTime": 1709648522011i64, "eventId": format!("3799610839291921234723687236782637823678236782367823{i}")})
        })
        .collect();
    let body =
        serde_json::json!({"events": events, "searchedLogStreams": [], "nextToken": "Bxkq6"});
    let p = dir.path().join("filter-log-events.json");
    std::fs::write(&p, serde_json::to_string_pretty(&body).unwrap()).unwrap();
    let lines = ingested(&p, &[]);
    let f = &lines[0]["files"][0];
    assert_eq!(f["format"], "cloudwatch-json+apigw-json");
    assert_eq!(
        (f["events"].as_u64(), f["rejected"].as_u64()),
        (Some(22), Some(1))
    );
    // Each event cites its own place in the document, and what follows the events array
    // is skipped, not rejected.
    assert_eq!(f["skipped"], 1);
    assert_eq!(lines[1]["line"], 3);
    assert_eq!(lines[2]["line"], 10);
    let formats: Vec<&str> = lines[21..]
        .iter()
        .map(|e| e["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["apigw-template", "apigw-clf"]);
}

/// RDS PostgreSQL logs exported to S3 (`CreateExportTask`): each line the export's time,
/// a space and the message as the server wrote it, so a statement of several lines goes
/// on without the prefix; chunks out of order; gzip. The statement stays whole and is the
/// one event of its record, and a line cut before its prefix is a rejected line.
#[test]
fn an_s3_export_of_rds_postgresql_keeps_multi_line_statements_whole() {
    let dir = crate::util::tmp().unwrap();
    let rec = |s: u32, pid: u32, stmt: &str| {
        format!(
            "2025-11-04T09:59:{s:02}.{ms:03}Z 2025-11-04 09:59:{s:02} UTC:10.0.1.12(51544):loyalty_app@loyalty:[{pid}]:LOG:  AUDIT: SESSION,{s},1,READ,SELECT,TABLE,public.customers,\"{stmt}\",<none>\n",
            ms = s * 7
        )
    };
    let mut text = String::new();
    for s in 30..40 {
        text += &rec(
            s,
            20001,
            "SELECT id, points FROM customers WHERE id = 100001",
        );
    }
    // The earlier chunk comes second, as exports may order them.
    text += &rec(
        5,
        20000,
        "SELECT id, name, email, phone, created_at\n\t  FROM customers\n\t  ORDER BY id",
    );
    text += "s UTC:10.0.1.12(51544):loyalty_app@loyalty:[20000]:LOG:  AUDIT: SESSION\n";
    for s in 6..9 {
        text += &rec(s, 20000, "SELECT 1");
    }
    let p = dir.path().join("000000.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(text.as_bytes()).unwrap();
    std::fs::write(&p, gz.finish().unwrap()).unwrap();
    let lines = ingested(&p, &[]);
    let f = &lines[0]["files"][0];
    assert_eq!(f["format"], "cloudwatch-s3+pg-stderr");
    assert_eq!(
        (f["events"].as_u64(), f["rejected"].as_u64()),
        (Some(14), Some(1))
    );
    let dump: Vec<&serde_json::Value> = lines[1..].iter().filter(|e| e["line"] == 11).collect();
    assert_eq!(dump.len(), 1, "{lines:?}");
    assert_eq!(
        dump[0]["statement"],
        "SELECT id, name, email, phone, created_at\n  FROM customers\n  ORDER BY id"
    );
    assert_eq!(dump[0]["ts"], 1_762_250_345_000_000i64);
    assert_eq!(
        dump[0]["extra"]["envelope_time"],
        "2025-11-04T09:59:05.035000Z"
    );
}

/// A stage whose access-log template no detector knows, given with `--apigw-format`:
/// a CSV layout with an unquoted user agent full of commas, broken lines among the
/// records, and a JSON file whose lines with an unescaped quote only the template reads.
#[test]
fn a_stage_template_given_on_the_command_line_reads_its_layout() {
    let dir = crate::util::tmp().unwrap();
    let template = "$context.requestTimeEpoch,$context.identity.sourceIp,$context.httpMethod,\
        $context.routeKey,$context.path,$context.status,$context.responseLength,\
        $context.identity.userAgent,$context.authorizer.claims.sub,$context.requestId";
    let lines = [
        "1762336827412,203.0.113.45,POST,POST /v1/bonus/transfer,/v1/bonus/transfer,200,91,Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko),100087,Tn8AbHqLoAMEVxw=",
        "1762336828001,203.0.113.45,GET,GET /v1/customers/{id},/v1/customers/100088,200,1400,python-requests/2.31.0,-,Tn8AbHqLoAMEVxx=",
        "1762336828",
        "1762336829001,203.0.113.46,GET,$default,/favicon.ico,404,0,curl/8.4.0,-,Tn8AbHqLoAMEVxy=",
        "1762336830001,203.0.113.45,GET,GET /v1/customers/{id},/v1/customers/100089,200,1400,python-req",
    ];
    let p = dir.path().join("api-access.log");
    std::fs::write(&p, lines.join("\n") + "\n").unwrap();
    let run = |extra: &[&str]| ingested(&p, extra);
    // Without the template the file is not recognized, and says so.
    assert_ne!(run(&[])[0]["files"][0]["error"], serde_json::Value::Null);
    let got = run(&["--apigw-format", template]);
    let f = &got[0]["files"][0];
    assert_eq!(f["format"], "apigw-template");
    assert_eq!(
        (f["events"].as_u64(), f["rejected"].as_u64()),
        (Some(3), Some(2))
    );
    let ev = &got[1..];
    assert_eq!(ev[0]["ts"], 1_762_336_827_412_000i64);
    assert_eq!(
        ev[0]["user_agent"],
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    );
    assert_eq!(ev[0]["user"], "100087");
    assert_eq!(ev[0]["route"], "/v1/bonus/transfer");
    assert_eq!(ev[1]["route"], "/v1/customers/{id}");
    assert_eq!(ev[1]["path"], "/v1/customers/100088");
    assert_eq!(ev[2]["status"], 404);
    assert_eq!(
        ev[2]["route"],
        serde_json::Value::Null,
        "$default is no template"
    );
    // A template that names no variable is refused before any work.
    bl().arg("ingest")
        .arg(&p)
        .args(["--apigw-format", "ip,time,status"])
        .assert()
        .code(1)
        .stderr(contains("--apigw-format: no $context variable"));

    // A JSON template: the JSON parser reads the file, the template the line it cannot.
    let json = r#"{"requestId":"$context.requestId","ip":"$context.identity.sourceIp","requestTime":"$context.requestTime","httpMethod":"$context.httpMethod","routeKey":"$context.routeKey","status":"$context.status","userAgent":"$context.identity.userAgent"}"#;
    let rec = |id: &str, ua: &str| {
        format!(
            r#"{{"requestId":"{id}","ip":"198.51.100.23","requestTime":"05/Nov/2025:10:00:27 +0000","httpMethod":"GET","routeKey":"GET /v2/users/{{id}}","status":"200","userAgent":"{ua}"}}"#
        )
    };
    let text = [rec("a", "ok"), rec("b", r#"x" onerror="1"#), rec("c", "ok")].join("\n") + "\n";
    std::fs::write(&p, text).unwrap();
    let plain = run(&[]);
    assert_eq!(plain[0]["files"][0]["rejected"], 1);
    let got = run(&["--apigw-format", json]);
    let f = &got[0]["files"][0];
    assert_eq!(f["format"], "apigw-json");
    assert_eq!(
        (f["events"].as_u64(), f["rejected"].as_u64()),
        (Some(3), Some(0))
    );
    let b = got[1..].iter().find(|e| e["request_id"] == "b").unwrap();
    assert_eq!(b["format"], "apigw-template");
    assert_eq!(b["user_agent"], r#"x" onerror="1"#);
}

#[test]
fn a_byte_order_mark_is_read_past_and_utf16_is_transcoded() {
    // Files saved by Excel or a Windows editor start with a UTF-8 byte-order mark;
    // PowerShell's `>` and `Out-File` write UTF-16 (little-endian, with a mark), and some
    // exports write it big-endian or without the mark.
    let sim = crate::util::tmp().unwrap();
    crate::util::simulate_with(
        sim.path(),
        [
            "nginx-combined",
            "pg-csvlog,percona-audit-csv,mariadb-audit",
            "fcm-bigquery-csv,onesignal",
        ],
        &["--seed", "3"],
    );
    let plain = crate::util::tmp().unwrap();
    let marked = crate::util::tmp().unwrap();
    let wide = crate::util::tmp().unwrap();
    for (n, (name, text)) in evidence_texts(sim.path()).into_iter().enumerate() {
        let name = format!("{n:02}-{name}");
        std::fs::write(plain.path().join(&name), &text).unwrap();
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend_from_slice(&text);
        std::fs::write(marked.path().join(&name), bom).unwrap();
        let text = String::from_utf8(text).expect("simulated evidence is UTF-8");
        let units = (n % 3 != 2)
            .then_some('\u{feff}')
            .into_iter()
            .chain(text.chars());
        let mut utf16 = String::from_iter(units)
            .encode_utf16()
            .collect::<Vec<u16>>();
        let bytes: Vec<u8> = if n % 3 == 1 {
            utf16.drain(..).flat_map(u16::to_be_bytes).collect()
        } else {
            utf16.drain(..).flat_map(u16::to_le_bytes).collect()
        };
        std::fs::write(wide.path().join(&name), bytes).unwrap();
    }
    let a = inventory(&[plain.path().to_str().unwrap()]);
    for other in [marked.path(), wide.path()] {
        let b = inventory(&[other.to_str().unwrap()]);
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(&b) {
            assert_eq!(
                (&x.format, x.lines, x.events, x.rejected, x.skipped),
                (&y.format, y.lines, y.events, y.rejected, y.skipped),
                "{}",
                y.path
            );
            assert!(y.error.is_none(), "{}: {:?}", y.path, y.error);
        }
    }
}

/// The evidence files of a simulated incident as (file name without `.gz`, text).
fn evidence_texts(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for kind in ["gateway", "db", "push"] {
        let mut formats: Vec<_> = std::fs::read_dir(dir.join(kind))
            .unwrap()
            .map(|f| f.unwrap().path())
            .collect();
        formats.sort();
        for f in formats {
            let mut files: Vec<_> = std::fs::read_dir(f)
                .unwrap()
                .map(|f| f.unwrap().path())
                .collect();
            files.sort();
            for p in files {
                let name = p.file_name().unwrap().to_string_lossy().replace(".gz", "");
                let mut text = Vec::new();
                if p.extension().is_some_and(|x| x == "gz") {
                    std::io::Read::read_to_end(
                        &mut flate2::read::MultiGzDecoder::new(std::fs::File::open(&p).unwrap()),
                        &mut text,
                    )
                    .unwrap();
                } else {
                    text = std::fs::read(&p).unwrap();
                }
                out.push((name, text));
            }
        }
    }
    out
}

#[test]
fn rotations_compressed_by_any_compresscmd_are_read() {
    // logrotate compresses with gzip unless `compresscmd` names bzip2, xz, zstd or lz4,
    // and rotations appended to one another leave several members in one file.
    let sim = crate::util::tmp().unwrap();
    crate::util::simulate_with(
        sim.path(),
        [
            "apigw-json",
            "pg-csvlog,mysql-audit-json",
            "fcm-bigquery-json",
        ],
        &["--seed", "7"],
    );
    let plain = crate::util::tmp().unwrap();
    let packed = crate::util::tmp().unwrap();
    let damaged = crate::util::tmp().unwrap();
    let codecs = ["gz", "bz2", "xz", "zst", "lz4"];
    for (n, (name, text)) in evidence_texts(sim.path()).into_iter().enumerate() {
        let name = format!("{n:02}-{name}");
        std::fs::write(plain.path().join(&name), &text).unwrap();
        let half = text[..text.len() / 2]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let codec = codecs[n % codecs.len()];
        let mut bytes = compress(codec, &text[..half]);
        bytes.extend(compress(codec, &text[half..]));
        std::fs::write(packed.path().join(format!("{name}.{codec}")), &bytes).unwrap();
        if n < codecs.len() {
            let cut = &bytes[..bytes.len() * 3 / 4];
            std::fs::write(damaged.path().join(format!("{name}.{codec}")), cut).unwrap();
        }
    }
    let a = inventory(&[plain.path().to_str().unwrap()]);
    let b = inventory(&[packed.path().to_str().unwrap()]);
    assert_eq!(a.len(), b.len());
    assert!(a.len() >= 2 * codecs.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(
            (
                &x.format,
                x.lines,
                x.events,
                x.rejected,
                x.skipped,
                x.duplicates
            ),
            (
                &y.format,
                y.lines,
                y.events,
                y.rejected,
                y.skipped,
                y.duplicates
            ),
            "{}",
            y.path
        );
        assert!(y.error.is_none(), "{}: {:?}", y.path, y.error);
        let raw = std::fs::read(&y.path).unwrap();
        assert_eq!(y.bytes, raw.len() as u64, "{}", y.path);
        let sha = sha256_hex(&raw);
        assert_eq!(y.sha256, sha, "{}", y.path);
    }
    // The analyses see the same incident.
    let roster = sim.path().join("roster.csv");
    let findings = |dir: &std::path::Path| report_of(&roster, dir, "bonus-adjustments.csv");
    let (fa, wa, ba) = findings(plain.path());
    assert!(!fa.as_array().unwrap().is_empty() && ba.lines().count() > 1);
    assert_eq!((fa, wa, ba), findings(packed.path()));
    // A rotation cut short: what came before the cut is read, the file is named with its
    // compression, and the SHA-256 is still that of the whole file on disk.
    let files = inventory(&[damaged.path().to_str().unwrap()]);
    assert_eq!(files.len(), codecs.len());
    for (f, codec) in files.iter().zip(codecs) {
        let kind = match codec {
            "gz" => "gzip",
            "bz2" => "bzip2",
            "zst" => "zstd",
            c => c,
        };
        let err = f.error.clone().unwrap_or_default();
        assert!(
            err.contains(&format!("{kind} stream ends early or is corrupt")),
            "{}: {err}",
            f.path
        );
        assert_eq!(
            f.bytes,
            std::fs::metadata(&f.path).unwrap().len(),
            "{}",
            f.path
        );
        // The first member is whole; bzip2 gives nothing of a block it could not finish.
        if kind != "bzip2" {
            assert!(f.events > 0, "{}", f.path);
        }
        assert_eq!(f.records, f.events + f.duplicates + f.rejected + f.skipped);
    }
}

/// Every finding of a `report` run but its example's file name (which differs between
/// evidence forms), its waves, and one of its CSV files.
fn report_of(
    roster: &std::path::Path,
    dir: &std::path::Path,
    csv: &str,
) -> (serde_json::Value, serde_json::Value, String) {
    let out = crate::util::tmp().unwrap();
    ran(bl()
        .args(["report", "-q", "--roster"])
        .arg(roster)
        .arg(dir)
        .arg("--out-dir")
        .arg(out.path()));
    let j: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("report.json")).unwrap()).unwrap();
    let mut findings = j["findings"].clone();
    for f in findings.as_array_mut().unwrap() {
        f.as_object_mut().unwrap().remove("example");
    }
    let csv = std::fs::read_to_string(out.path().join(csv)).unwrap();
    (findings, j["waves"].clone(), csv)
}

/// The SHA-256 of bytes, in the inventory's lower-case hex.
fn sha256_hex(b: &[u8]) -> String {
    breachline::ingest::input::hex(&<sha2::Sha256 as sha2::Digest>::digest(b))
}

/// `data` compressed as the command named by the file suffix would.
fn compress(codec: &str, data: &[u8]) -> Vec<u8> {
    match codec {
        "gz" => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "bz2" => {
            let mut e = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::default());
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "xz" => {
            let mut e = liblzma::write::XzEncoder::new(Vec::new(), 6);
            e.write_all(data).unwrap();
            e.finish().unwrap()
        }
        "zst" => zstd::encode_all(data, 3).unwrap(),
        "lz4" => {
            let mut e = lz4::EncoderBuilder::new().build(Vec::new()).unwrap();
            e.write_all(data).unwrap();
            let (w, r) = e.finish();
            r.unwrap();
            w
        }
        _ => unreachable!("{codec}"),
    }
}

#[test]
fn evidence_handed_over_in_zip_and_tar_archives_is_read_member_by_member() {
    // Evidence reaches a responder packed: a zip from a provider's portal, a tar.gz of a
    // server's log directory. Each member is evidence of its own, hashed as the file it
    // was before it was packed.
    let sim = crate::util::tmp().unwrap();
    crate::util::simulate_with(
        sim.path(),
        ["nginx-combined", "pg-stderr", "onesignal"],
        &["--seed", "11"],
    );
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    for kind in ["gateway", "db", "push"] {
        for f in std::fs::read_dir(sim.path().join(kind)).unwrap() {
            for p in std::fs::read_dir(f.unwrap().path()).unwrap() {
                let p = p.unwrap().path();
                let rel = p
                    .strip_prefix(sim.path())
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                files.push((rel, p));
            }
        }
    }
    files.sort();
    let packed = crate::util::tmp().unwrap();
    let zip_path = packed.path().join("evidence.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&zip_path).unwrap());
    for (rel, p) in &files {
        let method = if rel.starts_with("gateway") {
            zip::CompressionMethod::Deflated
        } else {
            zip::CompressionMethod::Stored
        };
        let opts = zip::write::SimpleFileOptions::default().compression_method(method);
        z.start_file(rel.as_str(), opts).unwrap();
        z.write_all(&std::fs::read(p).unwrap()).unwrap();
    }
    let opts = zip::write::SimpleFileOptions::default();
    z.start_file("__MACOSX/gateway/._access.log", opts).unwrap();
    z.write_all(b"\x00\x05\x16\x07").unwrap();
    z.start_file("README.md", opts).unwrap();
    z.write_all(b"# logs as requested\n").unwrap();
    z.finish().unwrap();
    let tgz_path = packed.path().join("var-log.tar.gz");
    let gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&tgz_path).unwrap(),
        flate2::Compression::default(),
    );
    let mut t = tar::Builder::new(gz);
    // As `tar -czf var-log.tar.gz .` names them.
    for (rel, p) in &files {
        t.append_path_with_name(p, format!("./{rel}")).unwrap();
    }
    t.into_inner().unwrap().finish().unwrap();

    let plain = inventory(&[sim.path().to_str().unwrap()]);
    let by_member = |archive: &std::path::Path| {
        let prefix = format!("{}!/", archive.display());
        let inv = inventory(&[archive.to_str().unwrap()]);
        inv.into_iter()
            .filter_map(|f| {
                let rel = f.path.strip_prefix(&prefix)?;
                Some((rel.strip_prefix("./").unwrap_or(rel).to_string(), f))
            })
            .collect::<std::collections::BTreeMap<_, _>>()
    };
    for archive in [&zip_path, &tgz_path] {
        let members = by_member(archive);
        let mut seen = 0;
        for x in &plain {
            let Some(rel) = x.path.strip_prefix(&format!("{}/", sim.path().display())) else {
                continue;
            };
            let Some(y) = members.get(rel) else {
                assert!(x.events == 0, "{rel} missing from {}", archive.display());
                continue;
            };
            assert_eq!(
                (
                    &x.format,
                    x.lines,
                    x.events,
                    x.rejected,
                    x.skipped,
                    x.duplicates
                ),
                (
                    &y.format,
                    y.lines,
                    y.events,
                    y.rejected,
                    y.skipped,
                    y.duplicates
                ),
                "{}",
                y.path
            );
            // The member is hashed as the file it was.
            assert_eq!((&x.sha256, x.bytes), (&y.sha256, y.bytes), "{}", y.path);
            seen += 1;
        }
        assert_eq!(seen, files.len(), "{}", archive.display());
        // The archive as received is listed too, with its own hash.
        let inv = inventory(&[archive.to_str().unwrap()]);
        let whole = inv.iter().find(|f| f.path == archive.display().to_string());
        let whole = whole.expect("the archive is listed");
        let raw = std::fs::read(archive).unwrap();
        let sha = sha256_hex(&raw);
        assert_eq!((&whole.sha256, whole.bytes), (&sha, raw.len() as u64));
        assert!(whole.note.as_deref().unwrap_or("").contains("!/MEMBER"));
        assert_eq!(whole.events, 0);
        // Hidden members and documentation are listed with the reason, never read.
        for (k, m) in members.iter().filter(|(k, _)| k.contains("__MACOSX")) {
            assert!(
                m.note.as_deref().unwrap_or("").contains("macOS metadata"),
                "{k}"
            );
            assert_eq!(m.lines, 0, "{k}");
        }
        if archive == &zip_path {
            assert!(members.contains_key("__MACOSX/gateway/._access.log"));
            let doc = &members["README.md"];
            assert!(doc.note.as_deref().unwrap_or("").contains("not evidence"));
        }
    }
    // A stored member changed after packing fails its CRC-32 and is named damaged; the
    // others are read as before.
    let mut raw = std::fs::read(&zip_path).unwrap();
    let (rel, p) = files
        .iter()
        .find(|(r, _)| r.starts_with("db") && !r.ends_with(".gz"))
        .unwrap();
    let text = std::fs::read(p).unwrap();
    let at = raw.windows(64).position(|w| w == &text[..64]).unwrap() + 100;
    raw[at] ^= 0x20;
    let damaged = crate::util::tmp().unwrap();
    let damaged_zip = damaged.path().join("evidence.zip");
    std::fs::write(&damaged_zip, raw).unwrap();
    let inv = inventory(&[damaged_zip.to_str().unwrap()]);
    for f in inv.iter().filter(|f| f.path.contains("!/")) {
        if f.path.ends_with(rel.as_str()) {
            let err = f.error.clone().unwrap_or_default();
            assert!(err.contains("CRC-32") && err.contains("damaged"), "{err}");
        } else {
            assert!(f.error.is_none(), "{}: {:?}", f.path, f.error);
        }
    }
    // The analyses see the same incident.
    let roster = sim.path().join("roster.csv");
    let findings = |dir: &std::path::Path| report_of(&roster, dir, "messages.csv");
    let want = findings(sim.path());
    assert!(!want.0.as_array().unwrap().is_empty());
    assert_eq!(want, findings(&zip_path));
    assert_eq!(want, findings(&tgz_path));
    // A tar.gz cut short: the members before the cut are read, the one it cuts is named
    // with its error, and so is the archive.
    let cut = crate::util::tmp().unwrap();
    let bytes = std::fs::read(&tgz_path).unwrap();
    let cut_path = cut.path().join("var-log.tar.gz");
    std::fs::write(&cut_path, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let out = bl()
        .arg("ingest")
        .arg(&cut_path)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("var-log.tar.gz: the gzip-compressed tar archive ends early"),
        "{err}"
    );
    let inv = inventory(&[cut_path.to_str().unwrap()]);
    assert!(
        inv.iter()
            .filter(|f| f.events > 0 && f.error.is_none())
            .count()
            >= 2
    );
    assert!(inv
        .iter()
        .any(|f| f.path.contains("!/") && f.error.is_some()));
    // A zip cut short has lost its directory; its local headers still name the members
    // before the cut.
    let bytes = std::fs::read(&zip_path).unwrap();
    let cut_zip = cut.path().join("evidence.zip");
    std::fs::write(&cut_zip, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let inv = inventory(&[cut_zip.to_str().unwrap()]);
    let whole = inv.iter().find(|f| f.path == cut_zip.display().to_string());
    let err = whole.and_then(|f| f.error.clone()).unwrap_or_default();
    assert!(err.contains("found by their local headers"), "{err}");
    let read = inv.iter().filter(|f| f.events > 0 && f.error.is_none());
    assert!(read.count() >= 2);
}

#[cfg(unix)]
#[test]
fn a_named_pipe_is_read_whole() {
    // `breachline ingest <(zcat api.log.gz)` gives a pipe: it can be read once, so no
    // look into it (for an archive, say) may take its first bytes.
    let d = crate::util::tmp().unwrap();
    let fifo = d.path().join("api.pipe");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let log = std::fs::read(root().join("sample-logs/gateway/apigw-json/api-access.log")).unwrap();
    let writer = {
        let (fifo, log) = (fifo.clone(), log.clone());
        std::thread::spawn(move || {
            std::fs::OpenOptions::new()
                .write(true)
                .open(&fifo)
                .unwrap()
                .write_all(&log)
                .unwrap();
        })
    };
    let piped = inventory(&[fifo.to_str().unwrap()]);
    writer.join().unwrap();
    let plain = inventory(&["sample-logs/gateway/apigw-json/api-access.log"]);
    assert_eq!(
        (
            piped[0].lines,
            piped[0].events,
            piped[0].rejected,
            &piped[0].sha256
        ),
        (
            plain[0].lines,
            plain[0].events,
            plain[0].rejected,
            &plain[0].sha256
        )
    );
}

#[test]
fn a_walk_lists_links_hidden_files_and_pipes_and_reads_them_only_when_named() {
    // Evidence copied off a server keeps its links: `access.log -> /dev/stdout` in an
    // nginx image, a link back up the tree. A walk that followed them read one file once
    // per loop turn, and would read the analyst's own files as evidence.
    let d = crate::util::tmp().unwrap();
    let ev = d.path().join("ev");
    let gw = ev.join("gateway");
    std::fs::create_dir_all(&gw).unwrap();
    let log = root().join("sample-logs/gateway/apigw-json/api-access.log");
    std::fs::copy(&log, gw.join("api-access.log")).unwrap();
    let outside = d.path().join("outside.log");
    std::fs::copy(&log, &outside).unwrap();
    std::os::unix::fs::symlink("..", gw.join("loop")).unwrap();
    std::os::unix::fs::symlink(&outside, ev.join("linked.log")).unwrap();
    std::fs::write(ev.join(".hidden.log"), std::fs::read(&log).unwrap()).unwrap();
    assert!(std::process::Command::new("mkfifo")
        .arg(ev.join("live.pipe"))
        .status()
        .unwrap()
        .success());
    let files = inventory(&[ev.to_str().unwrap()]);
    let note = |suffix: &str| {
        let f = listed(&files, suffix);
        assert_eq!((f.lines, f.events), (0, 0), "{suffix} is not read");
        f.note.clone().unwrap_or_default()
    };
    assert!(note("gateway/loop").starts_with("symbolic link to .."));
    assert!(note("linked.log").contains("not followed"));
    assert!(note(".hidden.log").starts_with("hidden file"));
    assert!(note("live.pipe").starts_with("named pipe"));
    let read: Vec<_> = files.iter().filter(|f| f.lines > 0).collect();
    assert_eq!(read.len(), 1, "{files:#?}");
    assert_eq!(read[0].duplicates, 0);
    // Named on the command line, a link is read.
    let named = inventory(&[ev.join("linked.log").to_str().unwrap()]);
    assert_eq!(named[0].events, read[0].events);

    // The same in a tar made by tar(1): the link and the hidden member are listed.
    let tarball = d.path().join("ev.tar");
    std::fs::remove_file(ev.join("live.pipe")).unwrap();
    assert!(std::process::Command::new("tar")
        .arg("-cf")
        .arg(&tarball)
        .arg("-C")
        .arg(&ev)
        .arg(".")
        .status()
        .unwrap()
        .success());
    let files = inventory(&[tarball.to_str().unwrap()]);
    let note = |suffix: &str| listed(&files, suffix).note.clone().unwrap_or_default();
    assert!(note("!/./gateway/loop").starts_with("link to .."));
    assert!(note("!/./.hidden.log").starts_with("hidden file"));
    assert_eq!(files.iter().filter(|f| f.lines > 0).count(), 1);

    // And in a zip, where a link is a member whose mode says so and whose data is the
    // target: it was dropped without a word.
    let zipped = d.path().join("ev.zip");
    let mut z = zip::ZipWriter::new(std::fs::File::create(&zipped).unwrap());
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    z.start_file("gateway/api-access.log", stored).unwrap();
    z.write_all(&std::fs::read(&log).unwrap()).unwrap();
    z.add_symlink("gateway/current.log", "api-access.log", stored)
        .unwrap();
    z.finish().unwrap();
    let files = inventory(&[zipped.to_str().unwrap()]);
    assert!(listed(&files, "!/gateway/current.log")
        .note
        .as_deref()
        .unwrap_or("")
        .starts_with("link to api-access.log"));
    assert_eq!(files.iter().filter(|f| f.lines > 0).count(), 1);
}

/// The inventory row whose path ends with `suffix`.
#[test]
fn a_walk_with_follow_reads_links_once_and_stops_at_loops() {
    // Evidence laid out as links into a store (a mounted image, a collection tool's
    // dedup tree): `--follow` reads what they point to, each place once.
    let d = crate::util::tmp().unwrap();
    let ev = d.path().join("ev");
    let store = d.path().join("store");
    std::fs::create_dir_all(ev.join("gateway")).unwrap();
    std::fs::create_dir_all(store.join("db")).unwrap();
    let gw = root().join("sample-logs/gateway/apigw-json/api-access.log");
    let pg = std::fs::read_dir(root().join("sample-logs/db/pg-stderr"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "log"))
        .unwrap();
    std::fs::copy(&gw, ev.join("gateway/api-access.log")).unwrap();
    std::fs::copy(&pg, store.join("db/postgresql.log")).unwrap();
    let link =
        |to: &std::path::Path, at: &str| std::os::unix::fs::symlink(to, ev.join(at)).unwrap();
    link(&store.join("db"), "db");
    link(&store.join("db"), "db-again");
    link(&ev.join("gateway/api-access.log"), "gateway/access.log");
    link(&ev, "gateway/loop");
    link(&d.path().join("gone.log"), "dangling.log");
    link(&store.join("db/postgresql.log"), ".hidden.log");

    let files = inventory(&["--follow", ev.to_str().unwrap()]);
    let read: Vec<&str> = files
        .iter()
        .filter(|f| f.lines > 0)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(read.len(), 2, "{files:#?}");
    assert!(read[0].ends_with("ev/db/postgresql.log"), "{read:?}");
    assert!(read[1].ends_with("ev/gateway/access.log"), "{read:?}");
    assert!(files.iter().all(|f| f.duplicates == 0));
    let note = |suffix: &str| {
        let f = listed(&files, suffix);
        assert_eq!((f.lines, f.events), (0, 0), "{suffix} is not read");
        f.note.clone().unwrap_or_default()
    };
    assert!(
        note("ev/db-again").contains("directory already walked as"),
        "{files:#?}"
    );
    // The link sorts before the file it names: the first path listed is the one read.
    assert!(note("gateway/api-access.log").contains("file already listed as"));
    assert!(note("gateway/api-access.log").ends_with("not read twice"));
    assert!(note("gateway/loop").contains("directory already walked"));
    assert!(note("dangling.log").contains("cannot be followed"));
    assert!(note(".hidden.log").starts_with("hidden file"));
    // The events are those of the two files, read once each.
    let plain = inventory(&[gw.to_str().unwrap(), pg.to_str().unwrap()]);
    let events = |v: &[breachline::model::FileInfo]| v.iter().map(|f| f.events).sum::<u64>();
    assert_eq!(events(&files), events(&plain));
}

fn listed<'a>(
    files: &'a [breachline::model::FileInfo],
    suffix: &str,
) -> &'a breachline::model::FileInfo {
    files
        .iter()
        .find(|f| f.path.ends_with(suffix))
        .unwrap_or_else(|| panic!("{suffix} listed in {files:#?}"))
}

#[test]
fn zone_less_times_in_the_hour_clocks_go_back_are_placed_by_their_order() {
    // MariaDB writes local time without a zone; New York's 01:00–02:00 happened twice
    // on 2 November 2025 (EDT, then EST). The log's times going back within that hour
    // show where the second pass starts.
    let dir = crate::util::tmp().unwrap();
    let rec = |t: &str, n: u32| {
        format!("{t},db-1,app,10.0.1.12,20107,{n},QUERY,loyalty,'SELECT id FROM menu_items',0\n")
    };
    let times = [
        ("20251102 00:59:00", "2025-11-02T04:59:00.000000Z"),
        ("20251102 01:20:00", "2025-11-02T05:20:00.000000Z"),
        ("20251102 01:50:00", "2025-11-02T05:50:00.000000Z"),
        ("20251102 01:49:58", "2025-11-02T05:49:58.000000Z"),
        ("20251102 01:05:00", "2025-11-02T06:05:00.000000Z"),
        ("20251102 01:40:00", "2025-11-02T06:40:00.000000Z"),
        ("20251102 02:10:00", "2025-11-02T07:10:00.000000Z"),
    ];
    let text: String = times.iter().zip(1..).map(|((t, _), n)| rec(t, n)).collect();
    let p = dir.path().join("server_audit.log");
    std::fs::write(&p, text).unwrap();
    let lines = ingested(&p, &["--assume-tz", "America/New_York"]);
    let f = &lines[0]["files"][0];
    assert_eq!(f["format"], "mariadb-audit");
    assert_eq!(
        (f["tz_assumed"].as_u64(), f["tz_folded"].as_u64()),
        (Some(7), Some(2))
    );
    let mut got: Vec<(u64, i64)> = lines[1..]
        .iter()
        .map(|e| (e["line"].as_u64().unwrap(), e["ts"].as_i64().unwrap()))
        .collect();
    got.sort();
    let utc = |t: &str| breachline::timeparse::parse_bound(t).unwrap();
    let want: Vec<(u64, i64)> = (1..).zip(times.iter().map(|t| utc(t.1))).collect();
    assert_eq!(got, want);
}

#[test]
fn times_out_of_range_are_rejected_and_years_of_evidence_keep_the_chart_small() {
    // A corrupt or forged epoch (1e30 → past year 9999), a time before 1970, an absurd
    // `msec` beside a readable `time` (the record keeps the readable one), and two
    // in-range records 54 years apart: the report's activity buckets stay a few
    // hundred (one bucket per 15 minutes of 54 years hung the report).
    let dir = crate::util::tmp().unwrap();
    let d = dir.path();
    let line = |t: &str| {
        format!(
            r#"{{"requestId":"r-{}","ip":"203.0.113.9",{t},"httpMethod":"GET","resourcePath":"/x","status":"200"}}"#,
            t.len()
        )
    };
    let log = [
        line(r#""requestTimeEpoch":"1e30""#),
        line(r#""requestTime":"31/Dec/1969:23:59:59 +0000""#),
        line(r#""msec":"176199300017619930001761993000.5","time":"2025-11-01T12:30:00+02:00""#),
        line(r#""requestTime":"05/Mar/1971:14:22:01 +0000""#),
        line(r#""requestTime":"05/Mar/2025:14:22:01 +0000""#),
    ]
    .join("\n");
    std::fs::write(d.join("api.log"), log + "\n").unwrap();
    let rejects = d.join("rejects.csv");
    let out = d.join("out");
    bl().args(["report", "-q", "--reject-log"])
        .arg(&rejects)
        .arg("--out-dir")
        .arg(&out)
        .arg(d.join("api.log"))
        .timeout(std::time::Duration::from_secs(60))
        .assert()
        .code(2);
    let rows = crate::util::csv_rows(&rejects);
    let lines: Vec<&str> = rows.iter().map(|r| r["line"].as_str()).collect();
    assert_eq!(lines, ["1", "2"], "{rows:?}");
    assert!(
        rows.iter()
            .all(|r| r["reason"].starts_with("time out of range")),
        "{rows:?}"
    );
    assert!(
        rows[1]["reason"].ends_with("1969-12-31T23:59:59Z"),
        "{rows:?}"
    );
    let r: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    let buckets = r["activity"].as_array().unwrap();
    assert!((2..=201).contains(&buckets.len()), "{}", buckets.len());
    assert!(buckets[0]["start_utc"]
        .as_str()
        .unwrap()
        .starts_with("1971-"));
    let events: u64 = buckets
        .iter()
        .map(|b| b["events"]["gateway"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(events, 3);
}

#[test]
fn a_record_past_64_mib_is_skipped_to_its_line_end_and_the_next_lines_read() {
    // One line of 70 MiB between two records (a gzip bomb's endless line): rejected
    // with its size, not buffered; the records around it stay events, lines add up.
    let dir = crate::util::tmp().unwrap();
    let p = dir.path().join("api.log.gz");
    let rec = |id: &str, s: u32| {
        format!(
            r#"{{"requestId":"{id}","ip":"203.0.113.9","requestTime":"05/Mar/2024:14:22:{s:02} +0000","httpMethod":"GET","resourcePath":"/x","status":"200"}}"#
        )
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    writeln!(gz, "{}", rec("a", 1)).unwrap();
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..70 {
        gz.write_all(&chunk).unwrap();
    }
    writeln!(gz).unwrap();
    writeln!(gz, "{}", rec("b", 2)).unwrap();
    write!(gz, "{}", rec("c", 3)).unwrap();
    std::fs::write(&p, gz.finish().unwrap()).unwrap();
    let rejects = dir.path().join("rejects.csv");
    let out = bl()
        .args(["ingest", "--format", "apigw-json", "--reject-log"])
        .arg(&rejects)
        .arg(&p)
        .assert()
        .code(2)
        .get_output()
        .clone();
    let said = String::from_utf8_lossy(&out.stdout) + String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("1 files, 3 events, 0 duplicates, 1 rejected"),
        "{said}"
    );
    let rows = crate::util::csv_rows(&rejects);
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0]["line"], "2");
    assert!(
        rows[0]["reason"].starts_with("record longer than 64 MiB (73400321 bytes"),
        "{rows:?}"
    );
}

/// PostgreSQL's own statement logging as each destination writes it: an application's
/// extended-protocol `execute` with its values in the detail (stderr: the next line;
/// csvlog: the `detail` column; jsonlog: the `detail` key), timed messages, the parse and
/// bind steps and a portal fetch (skipped: the execute counts), a detail line of another
/// process (not this statement's), and a damaged line.
#[test]
fn postgresql_statement_logging_carries_bound_values_in_every_destination() {
    let dir = crate::util::tmp().unwrap();
    let upd = "UPDATE bonus_accounts SET balance = balance + $1 WHERE account_id = $2";
    let p = |t: &str, pid: u32| format!("2025-11-04 11:05:{t} UTC [{pid}] app@loyalty");
    let stderr = [
        format!(
            "{} LOG:  duration: 0.031 ms  parse <unnamed>: {upd}",
            p("01.100", 4242)
        ),
        format!(
            "{} LOG:  duration: 0.052 ms  bind <unnamed>: {upd}",
            p("01.101", 4242)
        ),
        format!(
            "{} DETAIL:  parameters: $1 = '500', $2 = '1042'",
            p("01.101", 4242)
        ),
        format!(
            "{} LOG:  duration: 0.208 ms  execute <unnamed>: {upd}",
            p("01.123", 4242)
        ),
        format!(
            "{} DETAIL:  parameters: $1 = '500', $2 = '1042'",
            p("01.123", 4242)
        ),
        format!(
            "{} LOG:  execute S_1: SELECT email, phone",
            p("02.000", 4243)
        ),
        "\tFROM customers WHERE id = $1".to_string(),
        format!("{} DETAIL:  parameters: $1 = '1043'", p("02.000", 4243)),
        format!(
            "{} LOG:  execute fetch from S_1/C_1: SELECT email, phone",
            p("02.010", 4243)
        ),
        "\tFROM customers WHERE id = $1".to_string(),
        format!(
            "{} LOG:  execute <unnamed>: SELECT 1 WHERE $1",
            p("03.000", 4244)
        ),
        format!("{} DETAIL:  parameters: $1 = 't'", p("03.000", 4299)),
        "2025-11-04 11:05:0".to_string(),
        format!(
            "{} LOG:  statement: /* Hibernate */ DELETE FROM sessions",
            p("04.000", 4242)
        ),
    ]
    .join("\n");
    std::fs::write(dir.path().join("postgresql.log"), stderr + "\n").unwrap();
    let msg = format!("execute <unnamed>: {upd}");
    let csv = format!(
        "2025-11-04 11:05:01.123 UTC,\"app\",\"loyalty\",4242,\"10.0.0.5:51544\",6729a1b0.1092,7,\"UPDATE\",2025-11-04 11:00:00 UTC,3/120,0,LOG,00000,\"{msg}\",\"parameters: $1 = '500', $2 = '1042'\",,,,,,,,\"loyalty-api\",\"client backend\",,0\n"
    );
    std::fs::write(dir.path().join("postgresql.csv"), csv).unwrap();
    let json = serde_json::json!({"timestamp": "2025-11-04 11:05:01.123 UTC", "user": "app",
        "dbname": "loyalty", "pid": 4242, "remote_host": "10.0.0.5", "session_id": "6729a1b0.1092",
        "line_num": 7, "error_severity": "LOG", "message": msg,
        "detail": "parameters: $1 = '500', $2 = '1042'", "backend_type": "client backend"});
    std::fs::write(dir.path().join("postgresql.json"), format!("{json}\n")).unwrap();
    let rows = ingested(&dir.path().join("postgresql.log"), &[]);
    let f = &rows[0]["files"][0];
    assert_eq!(f["format"], "pg-stderr");
    // 14 lines: 4 events, 1 rejected, 4 skipped (the parse step, the bind step with its
    // detail, the fetch, and the other process's detail).
    assert_eq!(
        (&f["lines"], &f["events"], &f["rejected"], &f["skipped"]),
        (
            &serde_json::json!(14),
            &serde_json::json!(4),
            &serde_json::json!(1),
            &serde_json::json!(4)
        ),
        "{f}"
    );
    let update = &rows[1];
    assert_eq!(update["params"], serde_json::json!(["500", "1042"]));
    assert_eq!(update["sql"]["bonus_changes"][0]["delta"], 500);
    assert_eq!(update["sql"]["bonus_changes"][0]["account_id"], "1042");
    assert_eq!(update["extra"]["logged_by"], "log_min_duration_statement");
    assert_eq!(update["extra"]["duration_ms"], "0.208");
    let read = &rows[2];
    assert_eq!(read["extra"]["prepared_statement"], "S_1");
    assert_eq!(read["sql"]["account_ids"], serde_json::json!(["1043"]));
    assert_eq!(rows[3]["params"], serde_json::Value::Null);
    assert_eq!(rows[4]["command"], "DELETE");
    for other in ["postgresql.csv", "postgresql.json"] {
        let rows = ingested(&dir.path().join(other), &[]);
        let e = &rows[1];
        assert_eq!(e["params"], serde_json::json!(["500", "1042"]), "{other}");
        assert_eq!(e["sql"]["bonus_changes"][0]["delta"], 500, "{other}");
        assert_eq!(e["extra"]["logged_by"], "log_statement", "{other}");
    }
}

/// PostgreSQL through syslog cuts a message into `[seq-n]` chunks, one per line of it:
/// an execute's parameters line stays with the execute, while the `STATEMENT:` line of
/// an error is a record of its own, as in a log file.
#[test]
fn postgresql_messages_through_syslog_keep_their_lines_apart() {
    let dir = crate::util::tmp().unwrap();
    let log = "Nov  4 11:05:01 db1 postgres[4242]: [12-1] app@loyalty LOG:  execute <unnamed>: UPDATE bonus_accounts SET balance = balance + $1 WHERE account_id = $2\n\
               Nov  4 11:05:01 db1 postgres[4242]: [12-2] app@loyalty DETAIL:  parameters: $1 = '500', $2 = '1042'\n\
               Nov  4 11:05:03 db1 postgres[4242]: [14-1] app@loyalty ERROR:  syntax error at or near \"OR\" at character 40\n\
               Nov  4 11:05:03 db1 postgres[4242]: [14-2] app@loyalty STATEMENT:  SELECT * FROM customers WHERE id = 1 OR 1=1 --'\n";
    let path = dir.path().join("postgresql.log");
    std::fs::write(&path, log).unwrap();
    let rows = ingested(&path, &["--assume-tz", "UTC"]);
    let f = &rows[0]["files"][0];
    assert_eq!(f["format"], "syslog+pg-stderr", "{f}");
    assert_eq!(
        (&f["events"], &f["rejected"]),
        (&serde_json::json!(3), &serde_json::json!(0))
    );
    assert_eq!(rows[1]["params"], serde_json::json!(["500", "1042"]));
    assert_eq!(rows[1]["sql"]["bonus_changes"][0]["delta"], 500);
    assert_eq!(
        rows[2]["extra"]["message"],
        "syntax error at or near \"OR\" at character 40"
    );
    assert_eq!(
        rows[3]["statement"],
        "SELECT * FROM customers WHERE id = 1 OR 1=1 --'"
    );
    assert_eq!(rows[3]["outcome"], "failure");
}

/// pgaudit through syslog with a `key=value` prefix has MariaDB's run of commas,
/// numbers and a word (`client=10.0.0.5 LOG:  AUDIT: SESSION,1,1,WRITE,`); and a prefix of
/// a time alone (`< %m >`) is PostgreSQL's where its messages are. Both were misread: the
/// first as MariaDB records of garbage fields, the second as no format at all.
#[test]
fn pgaudit_with_a_key_value_prefix_through_syslog_and_a_time_alone_prefix() {
    let dir = crate::util::tmp().unwrap();
    let log = "Mar  5 14:22:01 db01 postgres[12345]: [7-1] user=app,db=loyalty,client=10.0.0.5 LOG:  AUDIT: SESSION,1,1,WRITE,UPDATE,,,\"UPDATE bonus_accounts SET points = points + 500\n\
               Mar  5 14:22:01 db01 postgres[12345]: [7-2] #011WHERE customer_id = 42\",<not logged>\n\
               Mar  5 14:22:03 db01 postgres[12345]: [8-1] user=app,db=loyalty,client=10.0.0.5 LOG:  AUDIT: SESSION,2,1,READ,SELECT,,,SELECT 1,<not logged>\n\
               Mar  5 14:22:04 db01 postgres[12345]: [9-1] user=app,db=loyalty,client=10.0.0.5 LOG:  AUDIT: SESSION,3,1,READ,SELECT,,,\"SELECT * FROM customers WHERE 1=1 OR\n";
    let path = dir.path().join("postgresql.log");
    std::fs::write(&path, log).unwrap();
    let rows = ingested(&path, &["--assume-tz", "UTC"]);
    let f = &rows[0]["files"][0];
    assert_eq!(f["format"], "syslog+pg-stderr", "{f}");
    assert_eq!(rows[1]["db_host"], "10.0.0.5");
    assert_eq!(rows[1]["db_user"], "app");
    assert_eq!(
        rows[1]["statement"],
        "UPDATE bonus_accounts SET points = points + 500\nWHERE customer_id = 42"
    );
    assert_eq!(rows[1]["sql"]["bonus_changes"][0]["delta"], 500);
    assert_eq!(rows[2]["statement"], "SELECT 1");

    let log = "< 2024-03-05 14:22:01.123 UTC >LOG:  AUDIT: SESSION,1,1,READ,SELECT,,,\"SELECT * FROM customers\n\
               \tWHERE id = 5\",<not logged>\n\
               < 2024-03-05 14:22:02.123 UTC >LOG:  connection authorized: user=app database=loyalty\n\
               < 2024-03-05 14:22:03.123 UTC >LOG:  checkpoint starting: time\n\
               < 2024-03-05 14:22:0\n";
    let path = dir.path().join("postgresql-time.log");
    std::fs::write(&path, log).unwrap();
    let rows = ingested(&path, &[]);
    let f = &rows[0]["files"][0];
    assert_eq!(f["format"], "pg-stderr", "{f}");
    // The checkpoint is the server's housekeeping (skipped), the cut line rejected.
    assert_eq!(
        (&f["events"], &f["skipped"], &f["rejected"]),
        (
            &serde_json::json!(2),
            &serde_json::json!(1),
            &serde_json::json!(1)
        ),
        "{f}"
    );
    assert_eq!(
        rows[1]["statement"],
        "SELECT * FROM customers\nWHERE id = 5"
    );
    assert_eq!(rows[2]["command"], "connection authorized");
    assert_eq!(rows[2]["db_user"], "app");
}

#[test]
fn a_broken_first_line_hides_no_file_s_format() {
    // A crash's garbage (or a record cut mid-write) at the head of a file: the format is
    // detected past it, the line rejected, and the rest read as without it — a header
    // row after it included.
    use std::io::Read;
    let dir = crate::util::tmp().unwrap();
    let sim = dir.path().join("sim");
    crate::util::simulate_with(&sim, ["all", "all", "all"], &["--seed", "5"]);
    let (mut checked, mut looked_past) = (0, 0);
    for kind in ["gateway", "db", "push"] {
        for fmt_dir in std::fs::read_dir(sim.join(kind)).unwrap() {
            let fmt_dir = fmt_dir.unwrap().path();
            let mut files: Vec<_> = std::fs::read_dir(&fmt_dir)
                .unwrap()
                .map(|f| f.unwrap().path())
                .collect();
            files.sort();
            let file = &files[0];
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            let mut text = Vec::new();
            let raw = std::fs::read(file).unwrap();
            if name.ends_with(".gz") {
                flate2::read::MultiGzDecoder::new(&raw[..])
                    .read_to_end(&mut text)
                    .unwrap();
            } else {
                text = raw;
            }
            let before = inventory(&[file.to_str().unwrap()]);
            let broken = dir
                .path()
                .join(format!("broken-{checked}-{}", name.trim_end_matches(".gz")));
            let mut w = std::fs::File::create(&broken).unwrap();
            w.write_all(b"\x01\x02\x03\xff corrupt-7ea3daa9 {\"cut\": \"mid-wri\n")
                .unwrap();
            w.write_all(&text).unwrap();
            drop(w);
            let after = inventory(&[broken.to_str().unwrap()]);
            let (b, a) = (&before[0], &after[0]);
            assert_eq!(a.format, b.format, "{name}: {:?}", a.error);
            assert_eq!((a.lines, a.events), (b.lines + 1, b.events), "{name}");
            assert_eq!(a.rejected, b.rejected + 1, "{name}");
            // Formats told by most of their first lines see past it anyway; those told
            // by the first line alone say they looked past it.
            let told = a.detail.as_deref().unwrap_or("");
            looked_past += usize::from(told.contains("past 1 broken line"));
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked} formats checked");
    assert!(looked_past > 0);
}

#[test]
fn thousands_of_small_files_read_together_keep_file_order_and_duplicates() {
    // A CloudWatch export: hundreds of small files, each overlapping the one before by
    // a few records (the export's chunks), some gzipped, one garbage file among them.
    // They are read on every core at once and must account as one at a time would.
    let dir = crate::util::tmp().unwrap();
    let d = dir.path();
    let text =
        std::fs::read_to_string(root().join("sample-logs/gateway/apigw-json/api-access.log"))
            .unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (step, overlap) = (8, 3);
    let mut want = Vec::new();
    let mut k = 0;
    while k * step < lines.len() {
        let from = (k * step).saturating_sub(overlap);
        let to = ((k + 1) * step).min(lines.len());
        let body = lines[from..to].join("\n") + "\n";
        let name = d.join(format!("part-{k:05}.log"));
        if k % 7 == 3 {
            use std::io::Write;
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(body.as_bytes()).unwrap();
            std::fs::write(name.with_extension("log.gz"), e.finish().unwrap()).unwrap();
        } else {
            std::fs::write(&name, body).unwrap();
        }
        want.push((to - from, if k == 0 { 0 } else { overlap }));
        if k == 100 {
            std::fs::write(d.join(format!("part-{k:05}.zz")), b"\x00\x01garbage\xff\n").unwrap();
        }
        k += 1;
    }
    let files = inventory(&[d.to_str().unwrap()]);
    let parts: Vec<_> = files.iter().filter(|f| f.format == "apigw-json").collect();
    assert_eq!(parts.len(), want.len());
    for (i, (f, (n, dup))) in parts.iter().zip(&want).enumerate() {
        assert!(
            f.path.contains(&format!("part-{i:05}")),
            "{} at {i}",
            f.path
        );
        assert_eq!(
            (f.events + f.duplicates + f.rejected, f.duplicates),
            (*n as u64, *dup as u64),
            "{}",
            f.path
        );
    }
    assert!(files
        .iter()
        .any(|f| f.path.ends_with(".zz") && f.events == 0));
    let events: u64 = files.iter().map(|f| f.events).sum();
    let rejected: u64 = parts.iter().map(|f| f.rejected).sum();
    assert_eq!(events + rejected, lines.len() as u64);
}
