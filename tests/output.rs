use crate::util::{bl, csv_rows, ran};
use serde_json::Value;
use std::path::Path;

fn report(args: &[&str], dir: &Path) {
    ran(bl()
        .args(["report", "-q"])
        .args(args)
        .arg("--out-dir")
        .arg(dir));
}

#[test]
fn a_case_file_gives_the_report_its_evidence_gives() {
    // Parsed once, analysed many times: every output of `report` from a Parquet or a
    // JSON Lines case file is byte for byte the one from the evidence itself, database
    // statement facts, push fields and extra fields included.
    let d = crate::util::tmp().unwrap();
    let roster = ["--roster", "sample-logs/roster.csv"];
    let direct = d.path().join("direct");
    report(&[&["sample-logs"], &roster[..]].concat(), &direct);
    for case in ["case.parquet", "case.jsonl"] {
        let file = d.path().join(case);
        ran(bl().args(["ingest", "sample-logs", "-q", "-o"]).arg(&file));
        let from_case = d.path().join(format!("from-{case}"));
        report(
            &[&[file.to_str().unwrap()], &roster[..]].concat(),
            &from_case,
        );
        let mut names: Vec<_> = std::fs::read_dir(&direct)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert!(names.len() >= 8, "{names:?}");
        for name in names {
            let a = std::fs::read(direct.join(&name)).unwrap();
            let b = std::fs::read(from_case.join(&name)).unwrap();
            assert!(a == b, "{case}: {name:?} differs from the evidence's");
        }
    }
}

#[test]
fn report_snapshots_and_agreement() {
    let out = crate::util::tmp().unwrap();
    report(
        &["sample-logs", "--roster", "sample-logs/roster.csv"],
        out.path(),
    );
    let md = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    let json = std::fs::read_to_string(out.path().join("report.json")).unwrap();
    let html = std::fs::read_to_string(out.path().join("report.html")).unwrap();
    insta::assert_snapshot!("report_md", md);
    insta::assert_snapshot!("report_json", json);
    let j: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(j["schema"], "breachline.report/1");
    for f in j["files"].as_array().unwrap() {
        for k in [
            "path",
            "format",
            "sha256",
            "lines",
            "events",
            "duplicates",
            "rejected",
            "skipped",
            "first_utc",
            "last_utc",
        ] {
            assert!(f.get(k).is_some(), "files[].{k}");
        }
    }
    // The three formats carry the same numbers.
    let i = &j["impact"];
    for k in [
        "customers_total",
        "bonus_tampered",
        "data_exposed",
        "malicious_push",
        "points_moved_total",
    ] {
        let v = i[k].to_string();
        assert!(md.contains(&format!("| {v} |")), "md lacks {k}={v}");
        assert!(
            html.contains(&format!("<td>{v}</td>")) || html.contains(&format!("<b>{v}</b>")),
            "html lacks {k}={v}"
        );
    }
    let rows = csv_rows(&out.path().join("affected-customers.csv"));
    assert_eq!(rows.len() as u64, i["customers_total"].as_u64().unwrap());
    assert!(!html.contains("<script"));
    assert_eq!(html.matches("<svg").count(), 2);
    assert_eq!(html.matches("</svg>").count(), 2);
}

/// Every file `report` writes.
const REPORT_FILES: [&str; 9] = [
    "report.md",
    "report.html",
    "report.json",
    "affected-customers.csv",
    "evidence.csv",
    "messages.csv",
    "iocs.csv",
    "bonus-adjustments.csv",
    "message-recipients.csv",
];

#[test]
fn outputs_are_byte_identical_across_runs() {
    let (a, b) = (crate::util::tmp().unwrap(), crate::util::tmp().unwrap());
    report(
        &["sample-logs", "--roster", "sample-logs/roster.csv"],
        a.path(),
    );
    report(
        &["sample-logs", "--roster", "sample-logs/roster.csv"],
        b.path(),
    );
    for f in REPORT_FILES {
        assert_eq!(
            std::fs::read(a.path().join(f)).unwrap(),
            std::fs::read(b.path().join(f)).unwrap(),
            "{f}"
        );
    }
    // Files holding personal data (names, contacts, account and device ids) are the
    // owner's alone.
    #[cfg(unix)]
    for f in REPORT_FILES {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(a.path().join(f))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        if matches!(
            f,
            "affected-customers.csv" | "evidence.csv" | "message-recipients.csv"
        ) {
            assert_eq!(mode & 0o077, 0, "{f}: {mode:o}");
        }
    }
}

#[test]
fn outputs_do_not_depend_on_the_thread_count() {
    // Records are parsed in parallel, and parsers keep per-thread caches (interned
    // strings, statement shapes): what one thread has read must never change what
    // another record reads as. Two engines' audit logs carry the same statements here,
    // injected ones included, whose text reads differently in each dialect. Correlation
    // sorts, joins and detects in parallel too: the report is compared as well.
    let d = crate::util::tmp().unwrap();
    crate::util::simulate(
        d.path(),
        "apigw-json",
        "pg-csvlog,mysql-audit-json",
        "fcm-bigquery-json",
    );
    let outs = crate::util::tmp().unwrap();
    let case = |threads: &str| {
        let out = outs.path().join(format!("case-{threads}.jsonl"));
        ran(bl()
            .env("RAYON_NUM_THREADS", threads)
            .args(["ingest", "-q"])
            .arg(d.path())
            .arg("-o")
            .arg(&out));
        std::fs::read(out).unwrap()
    };
    let one = case("1");
    assert!(one.len() > 1_000_000);
    assert!(
        one == case("3"),
        "1 and 3 threads gave different case files"
    );
    let roster = d.path().join("roster.csv");
    let report_at = |threads: &str| {
        let out = outs.path().join(format!("report-{threads}"));
        ran(bl()
            .env("RAYON_NUM_THREADS", threads)
            .args(["report", "-q", "--roster"])
            .arg(&roster)
            .arg(d.path())
            .arg("--out-dir")
            .arg(&out));
        out
    };
    let (a, b) = (report_at("1"), report_at("3"));
    for f in REPORT_FILES {
        let x = std::fs::read(a.join(f)).unwrap();
        assert!(x.len() > 100, "{f}");
        assert!(
            x == std::fs::read(b.join(f)).unwrap(),
            "{f} differs between 1 and 3 threads"
        );
    }
}

#[test]
fn timeline_formats_golden() {
    let run_with = |args: &[&str]| {
        let o = bl()
            .args(["timeline", "-q", "sample-logs", "--wave", "1"])
            .args(args)
            .assert()
            .get_output()
            .stdout
            .clone();
        String::from_utf8(o).unwrap()
    };
    let run = |fmt: &str| run_with(&["--format", fmt]);
    let head = |s: &str, n: usize| s.lines().take(n).collect::<Vec<_>>().join("\n");
    insta::assert_snapshot!("timeline_csv", head(&run("csv"), 8));
    insta::assert_snapshot!("timeline_jsonl", head(&run("jsonl"), 3));
    let ts = run("timesketch");
    insta::assert_snapshot!("timeline_timesketch", head(&ts, 3));
    for l in ts.lines() {
        let v: Value = serde_json::from_str(l).unwrap();
        let dt = breachline::timeparse::parse_bound(v["datetime"].as_str().unwrap()).unwrap();
        assert_eq!(v["timestamp"].as_i64().unwrap(), dt);
        assert!(v["datetime"].as_str().unwrap().ends_with("+00:00"));
        assert!(v["message"].is_string() && v["timestamp_desc"].is_string());
    }
    let ecs = run("ecs");
    insta::assert_snapshot!("timeline_ecs", head(&ecs, 3));
    for l in ecs.lines().take(50) {
        let v: Value = serde_json::from_str(l).unwrap();
        assert!(v["@timestamp"].as_str().unwrap().ends_with('Z'));
        assert!(v["event"]["kind"].is_string() && v["log"]["file"]["path"].is_string());
    }
    // Plaso: the exact headers, 17 / 8 unquoted columns on every row, times that agree.
    let l2t = run("l2tcsv");
    insta::assert_snapshot!("timeline_l2tcsv", head(&l2t, 3));
    let dynamic = run("plaso-dynamic");
    assert_eq!(l2t.lines().count(), dynamic.lines().count());
    for (a, b) in l2t.lines().zip(dynamic.lines()).skip(1) {
        let a: Vec<&str> = a.split(',').collect();
        let b: Vec<&str> = b.split(',').collect();
        assert_eq!((a.len(), b.len()), (17, 8), "{a:?}");
        let (m, d, y) = (&a[0][..2], &a[0][3..5], &a[0][6..]);
        assert!(
            b[0].starts_with(&format!("{y}-{m}-{d}T{}.", a[1])),
            "{a:?} {b:?}"
        );
        assert!(b[0].ends_with("+00:00") && a[2] == "UTC" && a[11] == "2");
    }
    assert!(dynamic.starts_with(
        "datetime,timestamp_desc,source,source_long,message,parser,display_name,tag\n"
    ));
    let table = run("table");
    assert!(table.contains("wave") && table.contains("203.0.113.14"));
    // Without --format, the -o extension chooses: CSV into .csv, JSON Lines into .jsonl.
    let dir = crate::util::tmp().unwrap();
    for (name, fmt) in [("t.csv", "csv"), ("t.jsonl", "jsonl"), ("t.txt", "table")] {
        let p = dir.path().join(name);
        bl().args(["timeline", "-q", "sample-logs", "--wave", "1", "-o"])
            .arg(&p)
            .assert()
            .code(2); // sample-logs holds rejected lines
        assert_eq!(std::fs::read_to_string(&p).unwrap(), run(fmt), "{name}");
    }
    let kyiv = run_with(&["--format", "csv", "--tz", "Europe/Kyiv"]);
    assert!(kyiv.lines().nth(1).unwrap().contains("+02:00"));
    // l2tcsv writes the display zone's local date and time and names the zone.
    let kyiv = run_with(&["--format", "l2tcsv", "--tz", "Europe/Kyiv"]);
    let first = kyiv.lines().nth(1).unwrap();
    assert!(
        first.starts_with("11/04/2025,05:05:19,Europe/Kyiv,"),
        "{first}"
    );
}

#[test]
fn hostile_content_is_neutralized_everywhere() {
    let dir = crate::util::tmp().unwrap();
    let d = dir.path();
    let evil_ua = "<img src=x onerror=alert(1)>\u{1b}[31m";
    let mut gw = String::new();
    // Forty failed logins, the last three getting in (an attacker that only failed
    // would be probing, and no indicator).
    for i in 0..40 {
        let (status, who) = if i < 37 {
            ("401", "-")
        } else {
            ("200", "1001")
        };
        gw.push_str(&format!(
            "{{\"requestId\":\"r{i}\",\"ip\":\"203.0.113.5\",\"requestTime\":\"05/Mar/2024:14:{:02}:01 +0000\",\"httpMethod\":\"POST\",\"resourcePath\":\"/api/login\",\"path\":\"/api/login/</svg><script>alert(1)</script>\",\"status\":\"{status}\",\"principalId\":\"{who}\",\"userAgent\":{}}}\n",
            i % 60,
            serde_json::to_string(evil_ua).unwrap()
        ));
    }
    std::fs::write(d.join("x<img src=x onerror=alert(9)>.log"), gw).unwrap();
    let note = serde_json::json!({"total_count": 1, "offset": 0, "limit": 50, "notifications": [{
        "id": "c0d1e2f3-a4b5-4c6d-8e7f-90a1b2c3d4e5",
        "headings": {"en": "=HYPERLINK(\"http://evil.example\",\"click\")"},
        "contents": {"en": "line1\nline2 \"quoted\", \u{202E}txet\u{1b}[2J </svg><script>alert(2)</script>"},
        "included_segments": ["Subscribed Users"], "successful": 10, "failed": 0, "errored": 1, "remaining": 0,
        "queued_at": 1709649104, "send_after": 1709649104}]});
    std::fs::write(d.join("notifications.json"), note.to_string()).unwrap();
    let out = d.join("out");
    ran(bl()
        .args(["report", "-q"])
        .arg(d.join("x<img src=x onerror=alert(9)>.log"))
        .arg(d.join("notifications.json"))
        .arg("--out-dir")
        .arg(&out));
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(!html.contains("<script"), "raw script in HTML");
    assert!(!html.contains("<img"), "raw img in HTML");
    assert!(!html.contains('\u{1b}') && !html.contains('\u{202E}'));
    assert_eq!(html.matches("</svg>").count(), html.matches("<svg").count());
    assert!(html.contains("&lt;/svg&gt;&lt;script&gt;"));
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(!md.contains("<script") && !md.contains('\u{1b}'));
    let msgs = csv_rows(&out.join("messages.csv"));
    assert_eq!(msgs.len(), 1);
    assert!(msgs[0]["title"].starts_with("'="), "{}", msgs[0]["title"]);
    assert!(!msgs[0]["body"].contains('\u{1b}') && !msgs[0]["body"].contains('\u{202E}'));
    assert!(msgs[0]["body"].contains("\"quoted\""));
    let iocs = csv_rows(&out.join("iocs.csv"));
    assert!(iocs
        .iter()
        .any(|r| r["type"] == "user_agent" && !r["value"].contains('\u{1b}')));
    let tl = bl()
        .args(["timeline", "-q"])
        .arg(d.join("x<img src=x onerror=alert(9)>.log"))
        .assert()
        .get_output()
        .stdout
        .clone();
    assert!(!tl.contains(&0x1b), "raw ESC on the terminal");
    // Plaso's CSVs quote nothing: delimiters and line breaks in the text become spaces.
    for fmt in ["l2tcsv", "plaso-dynamic"] {
        let o = bl()
            .args(["timeline", "-q", "--format", fmt])
            .arg(d.join("notifications.json"))
            .assert()
            .get_output()
            .stdout
            .clone();
        let o = String::from_utf8(o).unwrap();
        let cols = o.lines().next().unwrap().split(',').count();
        assert!(o.lines().count() > 1);
        for l in o.lines() {
            assert_eq!(l.split(',').count(), cols, "{fmt}: {l}");
            assert!(!l.contains(['\u{1b}', '\u{202E}']), "{fmt}: {l}");
            assert!(
                l.split(',').all(|c| !c.starts_with(['=', '+', '@'])),
                "{fmt}: {l}"
            );
        }
    }
}
