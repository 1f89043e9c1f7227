//! Unit tests of statements that carry their rows: `unnest` of arrays, `(VALUES …)`
//! lists and `FIND_IN_SET`, in reads, balance updates, ledger inserts and MERGEs; and
//! writes that remove bonus rows.

use super::*;

fn facts(sql: &str, params: &[&str], d: Dialect) -> SqlFacts {
    let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
    analyze(sql, &params, d, &Vocab::default()).1
}

fn ids(f: &SqlFacts) -> Vec<&str> {
    f.account_ids.iter().map(|a| a.as_str()).collect()
}

fn changes(f: &SqlFacts) -> Vec<(&str, i64, bool)> {
    let c = f.bonus_changes.iter();
    c.map(|c| (c.account_id.as_str(), c.delta, c.absolute))
        .collect()
}

#[test]
fn a_read_joined_to_a_list_of_values_returns_those_rows() {
    let pg = Dialect::Postgres;
    let both = ["100119", "100120"];
    for (sql, params) in [
        (
            "SELECT c.* FROM customers c JOIN unnest($1::bigint[]) AS u(id) ON c.id = u.id",
            &["{100119,100120}"][..],
        ),
        (
            "SELECT c.* FROM customers c JOIN unnest($1) u ON u = c.id",
            &["{100119,100120}"],
        ),
        (
            "SELECT c.* FROM customers c JOIN (VALUES (100119), (100120)) v(id) ON c.id = v.id",
            &[],
        ),
        (
            "SELECT * FROM customers WHERE id IN (SELECT unnest($1::bigint[]))",
            &["{100119,100120}"],
        ),
        (
            "SELECT * FROM customers WHERE id IN (SELECT * FROM unnest(ARRAY[100119, 100120]))",
            &[],
        ),
        (
            "SELECT * FROM customers c WHERE c.id = ANY(string_to_array($1, ',')::bigint[])",
            &["100119,100120"],
        ),
        (
            "SELECT * FROM customers WHERE id = ANY(CAST($1 AS bigint[]))",
            &["{100119,100120}"],
        ),
    ] {
        let f = facts(sql, params, pg);
        assert!(!f.whole_table_read, "{sql}");
        assert_eq!(ids(&f), both, "{sql}");
    }
    let f = facts(
        "SELECT * FROM customers WHERE FIND_IN_SET(id, ?)",
        &["100119,100120"],
        Dialect::MySql,
    );
    assert!(!f.whole_table_read);
    assert_eq!(ids(&f), both);
    // Rows a list of other values names (emails, order ids): selective, no account.
    for sql in [
        "SELECT * FROM customers c, unnest($1::text[]) AS e(email) WHERE c.email = e.email",
        "SELECT c.* FROM customers c JOIN orders o ON o.customer_id = c.id JOIN unnest($1) u(id) ON o.id = u.id",
    ] {
        let f = facts(sql, &["{7,8}"], pg);
        assert!(!f.whole_table_read, "{sql}");
        assert!(ids(&f).is_empty(), "{sql}");
    }
    // A join to another table is no list; a list that is not logged names nobody.
    let f = facts(
        "SELECT * FROM customers c JOIN orders o ON o.customer_id = c.id",
        &[],
        pg,
    );
    assert!(f.whole_table_read);
    let f = facts(
        "SELECT c.* FROM customers c JOIN unnest($1::bigint[]) AS u(id) ON c.id = u.id",
        &[],
        pg,
    );
    assert!(!f.whole_table_read && ids(&f).is_empty());
}

#[test]
fn balance_updates_from_value_rows_give_each_row_its_amount() {
    let pg = Dialect::Postgres;
    let f = facts(
        "UPDATE bonus_accounts b SET balance = b.balance + v.amt FROM (VALUES (100119, 500), (100120, -700)) AS v(id, amt) WHERE b.account_id = v.id",
        &[],
        pg,
    );
    assert_eq!(
        changes(&f),
        [("100119", 500, false), ("100120", -700, false)]
    );
    assert!(!f.bonus_unnamed);
    let f = facts(
        "UPDATE bonus_accounts AS b SET balance = balance - u.d, updated_at = now() FROM unnest($1::bigint[], $2::int[]) AS u(id, d) WHERE u.id = b.account_id",
        &["{100119,100120}", "{500,700}"],
        pg,
    );
    assert_eq!(
        changes(&f),
        [("100119", -500, false), ("100120", -700, false)]
    );
    let f = facts(
        "UPDATE bonus_accounts AS b SET balance = v.amt FROM (VALUES (100119, 900)) v(id, amt) WHERE v.id = b.account_id",
        &[],
        pg,
    );
    assert_eq!(changes(&f), [("100119", 900, true)]);
    // One amount for every listed account.
    let f = facts(
        "UPDATE bonus_accounts AS b SET balance = balance + 100 FROM (VALUES (100119), (100120)) v(id) WHERE v.id = b.account_id",
        &[],
        pg,
    );
    assert_eq!(
        changes(&f),
        [("100119", 100, false), ("100120", 100, false)]
    );
    // A MERGE from values.
    let f = facts(
        "MERGE INTO bonus_accounts b USING (VALUES (42, 500)) v(cid, pts) ON b.account_id = v.cid WHEN MATCHED THEN UPDATE SET balance = b.balance + v.pts",
        &[],
        pg,
    );
    assert_eq!(changes(&f), [("42", 500, false)]);
    assert!(!f.bonus_unnamed);
    // Named accounts, no stated amount: unknown points.
    let f = facts(
        "UPDATE bonus_accounts AS b SET balance = balance * v.k FROM (VALUES (100119, 2)) v(id, k) WHERE v.id = b.account_id",
        &[],
        pg,
    );
    assert!(changes(&f).is_empty() && f.bonus_unnamed);
    assert_eq!(ids(&f), ["100119"]);
    // Rows another table picks stay unnamed.
    let f = facts(
        "UPDATE bonus_accounts b SET balance = b.balance + 100 FROM customers c WHERE b.account_id = c.id AND c.city = 'Kyiv'",
        &[],
        pg,
    );
    assert!(changes(&f).is_empty() && f.bonus_unnamed);
}

#[test]
fn ledger_inserts_of_unnested_arrays_give_each_row() {
    let pg = Dialect::Postgres;
    for (sql, params) in [
        (
            "INSERT INTO bonus_ledger (account_id, delta) SELECT * FROM unnest($1::bigint[], $2::int[])",
            &["{100119,100120}", "{500,700}"][..],
        ),
        (
            "INSERT INTO bonus_ledger (account_id, delta, reason) SELECT a, d, 'promo' FROM unnest(ARRAY[100119,100120], ARRAY[500,700]) AS t(a, d)",
            &[],
        ),
    ] {
        let f = facts(sql, params, pg);
        assert_eq!(
            changes(&f),
            [("100119", 500, false), ("100120", 700, false)],
            "{sql}"
        );
        assert!(!f.bonus_unnamed && !f.whole_table_read, "{sql}");
        assert_eq!(ids(&f), ["100119", "100120"], "{sql}");
    }
    let f = facts(
        "INSERT INTO bonus_ledger (account_id, delta) SELECT v.a, 250 FROM (VALUES (100119), (100120)) v(a)",
        &[],
        pg,
    );
    assert_eq!(
        changes(&f),
        [("100119", 250, false), ("100120", 250, false)]
    );
    // Arrays bound but not logged name their rows, only not shown (as any value bound
    // but not logged); rows another table picks are unnamed.
    for sql in [
        "INSERT INTO bonus_ledger (account_id, delta) SELECT * FROM unnest($1::bigint[], $2::int[])",
        "UPDATE bonus_accounts b SET balance = b.balance + u.d FROM unnest($1::bigint[], $2::int[]) AS u(id, d) WHERE b.account_id = u.id",
    ] {
        let f = facts(sql, &[], pg);
        assert!(changes(&f).is_empty() && !f.bonus_unnamed, "{sql}");
    }
    let f = facts(
        "INSERT INTO bonus_ledger (account_id, delta) SELECT id, 1000 FROM customers",
        &[],
        pg,
    );
    assert!(changes(&f).is_empty() && f.bonus_unnamed);
}

#[test]
fn removing_or_inserting_bonus_rows_the_text_does_not_describe_is_unnamed() {
    let pg = Dialect::Postgres;
    let f = facts(
        "DELETE FROM bonus_ledger WHERE account_id = 100119",
        &[],
        pg,
    );
    assert!(f.bonus_unnamed && changes(&f).is_empty());
    assert_eq!(ids(&f), ["100119"]);
    for sql in [
        "DELETE FROM bonus_accounts",
        "TRUNCATE bonus_ledger",
        "INSERT INTO bonus_ledger VALUES (DEFAULT, 100119, 500, now())",
    ] {
        assert!(facts(sql, &[], pg).bonus_unnamed, "{sql}");
    }
    // Other tables' rows are no bonus.
    for sql in [
        "DELETE FROM customers WHERE id = 5",
        "TRUNCATE TABLE sessions",
        "INSERT INTO orders VALUES (1, 2, 3)",
    ] {
        assert!(!facts(sql, &[], pg).bonus_unnamed, "{sql}");
    }
}

#[test]
fn a_bonus_routine_s_call_writes_what_its_named_arguments_state() {
    let (pg, my) = (Dialect::Postgres, Dialect::MySql);
    let f = facts(
        "CALL loyalty.credit_points(p_account_id => 100119, p_points => 500)",
        &[],
        pg,
    );
    assert_eq!(changes(&f), [("100119", 500, false)]);
    assert_eq!(ids(&f), ["100119"]);
    assert!(!f.bonus_unnamed);
    let (c, f) = analyze(
        "CALL set_bonus_balance(in_customer_id := 7, in_balance := 0)",
        &[],
        pg,
        &Vocab::default(),
    );
    assert_eq!(c, StmtClass::Write);
    assert_eq!(changes(&f), [("7", 0, true)]);
    // Positional arguments name neither the account nor the amount.
    for (sql, params) in [
        ("CALL add_bonus_points(100119, 500)", &[][..]),
        ("CALL loyalty.credit_points(?, ?)", &["100119", "500"]),
    ] {
        let (c, f) = analyze(
            sql,
            &params.iter().map(|p| p.to_string()).collect::<Vec<_>>(),
            my,
            &Vocab::default(),
        );
        assert_eq!(c, StmtClass::Write, "{sql}");
        assert!(f.bonus_unnamed && changes(&f).is_empty(), "{sql}");
    }
    // Other routines change no bonus.
    let (c, f) = analyze("CALL refresh_stats()", &[], pg, &Vocab::default());
    assert_eq!(c, StmtClass::Other);
    assert!(!f.bonus_unnamed);
}

#[test]
fn a_bonus_function_a_select_calls_writes_as_a_call_does() {
    // PostgreSQL runs functions by a SELECT of them alone.
    let pg = Dialect::Postgres;
    for sql in [
        "SELECT loyalty.credit_points(p_account_id => 100119, p_points => 500)",
        "SELECT * FROM credit_points(p_customer_id := 100119, p_points := 500);",
        "SELECT add_points(p_account_id => 100119, p_points => 500) AS r",
    ] {
        let (c, f) = analyze(sql, &[], pg, &Vocab::default());
        assert_eq!(c, StmtClass::Write, "{sql}");
        assert_eq!(changes(&f), [("100119", 500, false)], "{sql}");
    }
    let (c, f) = analyze(
        "SELECT award_bonus($1, $2)",
        &["100119".into(), "500".into()],
        pg,
        &Vocab::default(),
    );
    assert_eq!(c, StmtClass::Write);
    assert!(f.bonus_unnamed && changes(&f).is_empty());
    // A reader, a sequence, a count, or a function called once per row of a table.
    for sql in [
        "SELECT loyalty.get_points(100119)",
        "SELECT nextval('loyalty_points_seq')",
        "SELECT count(*) FROM bonus_accounts",
        "SELECT points_balance(id) FROM customers WHERE id = 5",
        "SELECT add_points(100119, 5) FROM customers",
    ] {
        let (c, f) = analyze(sql, &[], pg, &Vocab::default());
        assert_eq!(c, StmtClass::Read, "{sql}");
        assert!(changes(&f).is_empty() && !f.bonus_unnamed, "{sql}");
    }
}

#[test]
fn a_read_from_a_function_is_no_whole_table_read() {
    let pg = Dialect::Postgres;
    for sql in [
        "SELECT * FROM get_customer_profile($1)",
        "SELECT * FROM api.customer_by_id(5) AS c",
        "SELECT p.* FROM customer_points(100119) p WHERE p.kind = 'accrual'",
    ] {
        assert!(!facts(sql, &["5"], pg).whole_table_read, "{sql}");
    }
    // A function joined to a table reads that table as the join says.
    for sql in [
        "SELECT * FROM customers",
        "SELECT * FROM now() n, customers c",
        "SELECT * FROM generate_series(1, 10) g JOIN customers c ON true",
    ] {
        assert!(facts(sql, &[], pg).whole_table_read, "{sql}");
    }
}
