//! Unit tests of statements that name several accounts at once: PostgreSQL arrays after
//! `= ANY(…)`, and CASE arms that give each account its own amount.

use super::*;

fn changes(sql: &str, params: &[&str]) -> (Vec<(String, i64, bool)>, bool) {
    let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
    let (_, f) = analyze(sql, &params, Dialect::Postgres, &Vocab::default());
    let c = f.bonus_changes.iter();
    let c = c.map(|c| (c.account_id.to_string(), c.delta, c.absolute));
    (c.collect(), f.bonus_unnamed)
}

fn ids(sql: &str, params: &[&str]) -> Vec<String> {
    let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
    let (_, f) = analyze(sql, &params, Dialect::Postgres, &Vocab::default());
    f.account_ids.iter().map(|a| a.to_string()).collect()
}

#[test]
fn an_array_after_any_names_its_accounts() {
    let both = ["100119", "100120"];
    let add = "UPDATE bonus_accounts SET balance = balance + 100 WHERE account_id = ANY($1)";
    let (c, unnamed) = changes(add, &["{100119,100120}"]);
    assert_eq!(
        c,
        [("100119".into(), 100, false), ("100120".into(), 100, false)]
    );
    assert!(!unnamed);
    for sql in [
        "SELECT * FROM customers WHERE id = ANY('{100119,100120}'::bigint[])",
        "SELECT * FROM customers WHERE id = ANY(ARRAY[100119, 100120])",
        "SELECT * FROM customers WHERE id = ANY('{\"100120\", 100119, NULL}')",
    ] {
        assert_eq!(ids(sql, &[]), both, "{sql}");
    }
    assert_eq!(
        ids(
            "SELECT * FROM customers WHERE id = ANY($1::bigint[])",
            &["{100119,100120}"]
        ),
        both
    );
    // Not a list of values: a subquery, an expression, a parameter not logged, a
    // value that is no array.
    for (sql, params) in [
        (
            "SELECT * FROM customers WHERE id = ANY(SELECT customer_id FROM orders)",
            &[][..],
        ),
        (
            "SELECT * FROM customers WHERE id = ANY(ARRAY[100119 + 1])",
            &[],
        ),
        ("SELECT * FROM customers WHERE id = ANY($1)", &[]),
        ("SELECT * FROM customers WHERE id = ANY($1)", &["100119"]),
    ] {
        assert!(ids(sql, params).is_empty(), "{sql}");
    }
    assert_eq!(tokens::array_text("{{1,2},{3}}"), ["1", "2", "3"]);
    assert_eq!(
        tokens::array_text("{\"a,\\\"b\",NULL,\"NULL\"}"),
        ["a,\"b", "NULL"]
    );
}

#[test]
fn case_arms_give_each_account_its_own_amount() {
    let c = |sql: &str| changes(sql, &[]);
    let two = |a: i64, b: i64, abs: bool| {
        vec![
            ("100119".to_string(), a, false),
            ("100120".to_string(), b, abs),
        ]
    };
    assert_eq!(
        c("UPDATE bonus_accounts SET balance = balance + CASE account_id WHEN 100119 THEN 100 WHEN 100120 THEN -200 END WHERE account_id IN (100119, 100120)"),
        (two(100, -200, false), false)
    );
    assert_eq!(
        c("UPDATE bonus_accounts SET balance = CASE WHEN account_id = 100119 THEN balance + 100 WHEN account_id = 100120 THEN 7 ELSE balance END"),
        (two(100, 7, true), false)
    );
    assert_eq!(
        c("UPDATE bonus_accounts b SET balance = CASE b.account_id WHEN 100119 THEN b.balance - 100 WHEN 100120 THEN 300 + b.balance END, updated_at = now() WHERE b.account_id IN (100119, 100120)"),
        (two(-100, 300, false), false)
    );
    assert_eq!(
        c("UPDATE bonus_accounts SET balance = balance - CASE account_id WHEN 100119 THEN 100 WHEN 100120 THEN 5 ELSE 0 END"),
        (two(-100, -5, false), false)
    );
    // An arm that leaves the balance as it was changes nothing.
    assert_eq!(
        c("UPDATE bonus_accounts SET balance = CASE account_id WHEN 100119 THEN balance + 100 WHEN 100121 THEN balance ELSE balance END WHERE account_id IN (100119, 100121)"),
        (vec![("100119".to_string(), 100, false)], false)
    );
    // Rows no arm names change too: an ELSE that changes them, or no ELSE (NULL) for
    // rows the filter names and no arm does.
    let (named, unnamed) = c("UPDATE bonus_accounts SET balance = balance + CASE account_id WHEN 100119 THEN 100 ELSE 5 END");
    assert_eq!((named.len(), unnamed), (1, true));
    let (named, unnamed) = c("UPDATE bonus_accounts SET balance = CASE account_id WHEN 100119 THEN balance + 100 END WHERE account_id IN (100119, 100120)");
    assert_eq!((named.len(), unnamed), (1, true));
    // Arms the filter leaves out change nothing.
    let (named, _) = c("UPDATE bonus_accounts SET balance = balance + CASE account_id WHEN 100119 THEN 100 WHEN 100120 THEN 5 END WHERE account_id = 100119");
    assert_eq!(named, [("100119".to_string(), 100, false)]);
    // A CASE not keyed by account says no account's amount.
    for sql in [
        "UPDATE bonus_accounts SET balance = balance + CASE WHEN balance > 100 THEN 5 ELSE 0 END WHERE account_id = 100119",
        "UPDATE bonus_accounts SET balance = CASE tier WHEN 'gold' THEN balance + 5 ELSE balance END",
    ] {
        let (named, unnamed) = c(sql);
        assert!(named.is_empty() && unnamed, "{sql}");
    }
}
