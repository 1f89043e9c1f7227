//! Tests of `dedupe`: copies across formats and series, and what a kept copy keeps.
use super::*;

fn stmt(fmt: &'static str, ts: i64, text: &str, params: &[&str], user: Option<&str>) -> Box<Event> {
    let mut e = Event::new(SourceKind::Db, fmt);
    e.file = file_of(fmt);
    e.ts = ts;
    e.statement = Some(text.into());
    if !params.is_empty() {
        e.params = Some(params.iter().map(|p| p.to_string()).collect());
    }
    e.db_user = user.map(Into::into);
    Box::new(e)
}

#[test]
fn copies_across_formats_count_once_and_repeats_within_one_stay() {
    let s = 1_000_000_000_000;
    let up = "UPDATE bonus SET balance = balance + $1 WHERE account_id = $2";
    let ev = vec![
        // One change logged by two destinations of one server (and by a third in
        // whole seconds, inline values, no user).
        stmt("pg-csvlog", s + 400_000, up, &["50", "7"], Some("app")),
        stmt("pg-stderr", s + 400_000, up, &["50", "7"], Some("app")),
        stmt(
            "mariadb-audit",
            s,
            "update bonus set balance=balance+50 where account_id=7",
            &[],
            None,
        ),
        // The same change made twice in one second: twice in each format.
        stmt("pg-csvlog", s + 900_000, up, &["50", "7"], Some("app")),
        stmt("pg-stderr", s + 900_000, up, &["50", "7"], Some("app")),
        // Another user's statement is not a copy; nor is one 3 s away, nor one with
        // other values at the same moment.
        stmt("pg-stderr", s + 950_000, up, &["50", "7"], Some("admin")),
        stmt("pg-stderr", s + 960_000, up, &["5", "7"], Some("app")),
        stmt("pg-stderr", s + 3_500_000, up, &["50", "8"], Some("app")),
        stmt("pg-csvlog", s + 6_600_000, up, &["50", "8"], Some("app")),
        stmt("pg-csvlog", s + 960_000, up, &["50", "70"], Some("app")),
    ];
    let d = find(&ev);
    assert_eq!(d.events, [1, 2, 4]);
    assert_eq!(d.by_format[&(SourceKind::Db, "pg-stderr".to_string())], 2);
    // One format alone: nothing is a copy, however alike.
    let one: Vec<Box<Event>> = vec![ev[0].clone(), ev[0].clone()];
    assert!(find(&one).events.is_empty());
}

#[test]
fn the_copy_with_more_fields_is_kept() {
    let s = 1_000_000_000_000;
    let ev = vec![
        stmt("mariadb-audit", s, "DELETE FROM t WHERE id = 1", &[], None),
        stmt(
            "pg-csvlog",
            s + 250_000,
            "DELETE FROM t WHERE id = $1",
            &["1"],
            Some("app"),
        ),
    ];
    assert_eq!(find(&ev).events, [0]);
}
#[test]
fn an_operation_s_statements_are_kept_from_one_format() {
    // A balance update and its ledger row, logged by csvlog (bound parameters for
    // the update, none for the ledger's inline values) and by an audit plugin in
    // whole seconds whose clock correction left it a fraction of a second early:
    // record by record the ledger row's copies carry as much, and the earlier would
    // have been kept, splitting the operation across two sessions.
    let s = 1_000_000_000_000;
    let ev = vec![
        stmt(
            "percona-audit-csv",
            s - 2_000,
            "UPDATE b SET balance = balance - 70 WHERE account_id = 7",
            &[],
            Some("app"),
        ),
        stmt(
            "pg-csvlog",
            s + 247_000,
            "UPDATE b SET balance = balance - $1 WHERE account_id = $2",
            &["70", "7"],
            Some("app"),
        ),
        stmt(
            "percona-audit-csv",
            s + 998_000,
            "INSERT INTO ledger (account_id, delta) VALUES (7, -70)",
            &[],
            Some("app"),
        ),
        stmt(
            "pg-csvlog",
            s + 1_250_000,
            "INSERT INTO ledger (account_id, delta) VALUES (7, -70)",
            &[],
            Some("app"),
        ),
    ];
    assert_eq!(find(&ev).events, [0, 2]);
}

/// Each format's records in a file of their own.
fn file_of(fmt: &str) -> u32 {
    let all = [
        "pg-csvlog",
        "pg-stderr",
        "mariadb-audit",
        "apigw-json",
        "apigw-clf",
        "nginx-combined",
        "percona-audit-csv",
    ];
    all.iter().position(|f| *f == fmt).unwrap() as u32
}

fn req(fmt: &'static str, ts: i64, path: &str, status: u16, id: Option<&str>) -> Box<Event> {
    let mut e = Event::new(SourceKind::Gateway, fmt);
    e.file = file_of(fmt);
    e.ts = ts;
    e.client_ip = Some("198.51.100.7".into());
    e.method = Some("POST".into());
    e.path = Some(path.into());
    e.status = Some(status);
    e.request_id = id.map(Into::into);
    Box::new(e)
}

#[test]
fn one_request_in_two_access_logs_counts_once() {
    let s = 1_000_000_000_000;
    let ev = vec![
        // API Gateway (stage prefix, milliseconds, request id) and nginx (whole
        // seconds) logging one login; then the same login again, twice in each.
        req(
            "apigw-json",
            s + 300_000,
            "/prod/auth/login",
            401,
            Some("r1"),
        ),
        req("nginx-combined", s, "/auth/login", 401, Some("r1")),
        req(
            "apigw-json",
            s + 600_000,
            "/prod/auth/login",
            401,
            Some("r2"),
        ),
        req("nginx-combined", s, "/auth/login", 401, None),
        // Another status, another request id, a deeper prefix: other requests.
        req("nginx-combined", s + 700_000, "/auth/login", 200, None),
        req(
            "apigw-json",
            s + 800_000,
            "/prod/auth/login",
            401,
            Some("r3"),
        ),
        req(
            "nginx-combined",
            s + 800_000,
            "/auth/login",
            401,
            Some("r4"),
        ),
        req("nginx-combined", s + 900_000, "/a/b/auth/login", 401, None),
    ];
    let d = find(&ev);
    assert_eq!(d.events, [1, 3]);
    assert_eq!(
        d.by_format[&(SourceKind::Gateway, "nginx-combined".to_string())],
        2
    );
    // One gateway format alone: its repeats are requests, not copies.
    let one: Vec<Box<Event>> = ev
        .iter()
        .filter(|e| e.format == "apigw-json")
        .cloned()
        .collect();
    assert!(find(&one).events.is_empty());
}

#[test]
fn the_kept_copy_takes_the_identity_only_its_copy_logged() {
    // nginx's copy carries more fields and is kept; API Gateway's alone names the
    // signed-in staff member and the route. The identity stays with the request.
    let s = 1_000_000_000_000;
    let mut gw = req("apigw-json", s, "/prod/admin/push/send", 200, Some("r1"));
    gw.principal = Some("o.kovalenko@example.com".into());
    gw.route = Some("/admin/push/send".into());
    let mut ng = req("nginx-combined", s, "/admin/push/send", 200, Some("r1"));
    ng.user_agent = Some("Mozilla/5.0".into());
    ng.latency_ms = Some(12.0);
    ng.bytes = Some(42);
    ng.ts += 250_000;
    let mut a = Analysis::default();
    a.ing.events = vec![gw, ng];
    a.ing.files = vec![Default::default(); 7];
    a.targets = vec![None; 2];
    let kept = drop_copies(&mut a).expect("one copy dropped");
    assert_eq!(kept.old, [1]);
    let e = &a.ing.events[0];
    assert_eq!(e.format, "nginx-combined");
    assert_eq!(e.principal.as_deref(), Some("o.kovalenko@example.com"));
    assert_eq!(e.route.as_deref(), Some("/admin/push/send"));
    assert_eq!(e.user_agent.as_deref(), Some("Mozilla/5.0"));
}

#[test]
fn a_slow_request_logged_at_its_start_and_at_its_end_counts_once() {
    let s = 1_000_000_000_000;
    let mut start = req("apigw-json", s, "/prod/admin/export", 200, None);
    start.latency_ms = Some(24_500.0);
    // nginx writes the line when the 24.5 s export ends; a second export 40 s later
    // is another request.
    let ev = vec![
        start,
        req("nginx-combined", s + 25_000_000, "/admin/export", 200, None),
        req("nginx-combined", s + 40_000_000, "/admin/export", 200, None),
    ];
    assert_eq!(find(&ev).events, [1]);
    // Without a logged latency, 25 s apart are two requests.
    let mut quick = ev.clone();
    quick[0].latency_ms = None;
    assert!(find(&quick).events.is_empty());
}

#[test]
fn a_format_changed_mid_file_makes_no_copies() {
    let s = 1_000_000_000_000;
    // An API Gateway stage whose log template was edited: the same login, made
    // twice a second apart, once under each template of one file.
    let mut ev = vec![
        req("apigw-json", s, "/prod/auth/login", 401, None),
        req("apigw-clf", s + 1_000_000, "/prod/auth/login", 401, None),
    ];
    assert_eq!(find(&ev).events, [1], "two files: copies");
    ev[1].file = ev[0].file;
    assert!(find(&ev).events.is_empty());
}

#[test]
fn files_of_one_format_side_by_side_count_once_when_they_mirror() {
    let s = 1_000_000_000_000;
    let up = "UPDATE bonus SET balance = balance + $1 WHERE account_id = $2";
    // One server's stderr caught by two collectors with different line prefixes
    // (the second without the user): every change in both, and the first stream
    // rotated into a second file.
    let mut ev = Vec::new();
    for n in 0..6i64 {
        let at = s + n * 3_600_000_000;
        let v = n.to_string();
        let mut a = stmt("pg-stderr", at, up, &[&v, "7"], Some("app"));
        a.file = if n < 3 { 10 } else { 11 };
        let mut b = stmt("pg-stderr", at + 1_000, up, &[&v, "7"], None);
        b.file = 12;
        ev.extend([a, b]);
    }
    let d = find(&ev);
    assert_eq!(d.events, [1, 3, 5, 7, 9, 11]);
    assert_eq!(d.mirrored, [(SourceKind::Db, "pg-stderr".into(), 2)]);
    // The stream and its rotation alone: nothing is a copy.
    let one: Vec<Box<Event>> = ev.iter().filter(|e| e.file != 12).cloned().collect();
    assert!(find(&one).events.is_empty());
}

#[test]
fn two_web_servers_of_one_format_keep_their_requests() {
    let s = 1_000_000_000_000;
    // Two nginx servers behind one balancer over the same hours, each with its own
    // requests; one client polls a page that the balancer sends to each in turn.
    let mut ev = Vec::new();
    for n in 0..8i64 {
        for (file, page) in [(20, "/a"), (21, "/b")] {
            let mut e = req("nginx-combined", s + n * 600_000_000, page, 200, None);
            e.file = file;
            e.client_ip = Some(format!("198.51.100.{n}").into());
            ev.push(e);
        }
    }
    for (n, file) in [20, 21].repeat(4).into_iter().enumerate() {
        let mut e = req("nginx-combined", s + n as i64 * 400_000, "/poll", 200, None);
        e.file = file;
        ev.push(e);
    }
    ev.sort_by_key(|e| e.sort_key());
    let d = find(&ev);
    assert!(d.events.is_empty(), "{:?}", d.events);
    assert!(d.mirrored.is_empty());
}

#[test]
fn layer_paths() {
    assert!(same_path(Some("/prod/a/b"), Some("/a/b")));
    assert!(same_path(Some("/a/b"), Some("/a/b")));
    assert!(same_path(None, Some("/a")));
    assert!(!same_path(Some("/x/y/a/b"), Some("/a/b")));
    assert!(!same_path(Some("/prod/a/b"), Some("a/b")));
    assert!(!same_path(Some("/v2/a/b"), Some("/a/c")));
    assert!(!same_path(Some("/ab"), Some("/b")));
}
