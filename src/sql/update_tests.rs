//! Unit tests of balance UPDATEs in the forms dialects and ORMs write them: modifiers
//! before the table, the column in parentheses or defaulted, a balance column the
//! vocabulary does not list, and filters whose OR lets other rows through.

use super::*;

fn facts(sql: &str) -> SqlFacts {
    analyze(sql, &[], Dialect::MySql, &Vocab::default()).1
}

fn changes(f: &SqlFacts) -> Vec<(&str, i64, bool)> {
    let c = f.bonus_changes.iter();
    c.map(|c| (c.account_id.as_str(), c.delta, c.absolute))
        .collect()
}

#[test]
fn modifiers_before_the_table_are_no_table() {
    for sql in [
        "UPDATE LOW_PRIORITY bonus_accounts SET balance = balance + 100 WHERE account_id = 5",
        "UPDATE IGNORE bonus_accounts SET balance = balance + 100 WHERE account_id = 5",
        "UPDATE LOW_PRIORITY IGNORE bonus_accounts SET balance = balance + 100 WHERE account_id = 5",
    ] {
        let f = facts(sql);
        assert_eq!(changes(&f), [("5", 100, false)], "{sql}");
        assert_eq!(*f.tables, ["bonus_accounts"], "{sql}");
    }
    let f = analyze(
        "UPDATE ONLY bonus_accounts SET balance = balance - 40 WHERE account_id = 5",
        &[],
        Dialect::Postgres,
        &Vocab::default(),
    )
    .1;
    assert_eq!(changes(&f), [("5", -40, false)]);
}

#[test]
fn a_column_in_parentheses_or_defaulted_changes_by_the_amount() {
    for (sql, d) in [
        (
            "UPDATE bonus_accounts SET balance = (balance + 100) WHERE account_id = 5",
            100,
        ),
        (
            "UPDATE bonus_accounts SET balance = COALESCE(balance, 0) + 100 WHERE account_id = 5",
            100,
        ),
        (
            "UPDATE bonus_accounts b SET balance = IFNULL(b.balance, 0) - 30 WHERE account_id = 5",
            -30,
        ),
        (
            "UPDATE bonus_accounts SET balance = 100 + COALESCE(balance, 0) WHERE account_id = 5",
            100,
        ),
    ] {
        let f = facts(sql);
        assert_eq!(changes(&f), [("5", d, false)], "{sql}");
        assert!(!f.bonus_unnamed, "{sql}");
    }
    // A default other than 0 is no plain change.
    let f = facts(
        "UPDATE bonus_accounts SET balance = COALESCE(balance, 50) + 100 WHERE account_id = 5",
    );
    assert!(changes(&f).is_empty() && f.bonus_unnamed);
}

#[test]
fn a_balance_column_the_vocabulary_does_not_list_is_read_by_its_words() {
    let f = facts("UPDATE customers SET loyalty_points = loyalty_points + 100 WHERE id = 5");
    assert_eq!(changes(&f), [("5", 100, false)]);
    let f = facts("UPDATE users SET rewardBalance = rewardBalance - 20 WHERE id = 7");
    assert_eq!(changes(&f), [("7", -20, false)]);
    // A running total beside the listed balance is not counted twice; facts about the
    // points are no balance.
    let f = facts(
        "UPDATE bonus_accounts SET balance = balance + 100, lifetime_points = lifetime_points + 100 WHERE account_id = 5",
    );
    assert_eq!(changes(&f), [("5", 100, false)]);
    for sql in [
        "UPDATE customers SET points_expire_at = now() WHERE id = 5",
        "UPDATE customers SET bonus_tier = bonus_tier + 1 WHERE id = 5",
        "UPDATE customers SET login_count = login_count + 1 WHERE id = 5",
        "UPDATE customers SET pickup_point = 'Main St 5' WHERE id = 5",
    ] {
        let f = facts(sql);
        assert!(changes(&f).is_empty() && !f.bonus_unnamed, "{sql}");
    }
}

#[test]
fn an_or_that_lets_other_rows_through_changes_rows_the_text_does_not_name() {
    for sql in [
        "UPDATE bonus_accounts SET balance = balance + 100 WHERE account_id = 5 OR account_id > 0",
        "UPDATE bonus_accounts SET balance = balance + 100 WHERE account_id IN (5, 6) OR 1=1",
    ] {
        let f = facts(sql);
        assert!(f.bonus_unnamed, "{sql}");
    }
    let f = facts(
        "UPDATE bonus_accounts SET balance = balance + 100 WHERE account_id = 5 OR account_id = 6",
    );
    assert!(!f.bonus_unnamed);
    assert_eq!(changes(&f), [("5", 100, false), ("6", 100, false)]);
}

#[test]
fn a_ledger_s_amount_column_the_vocabulary_does_not_list_is_read_by_its_words() {
    for sql in [
        "INSERT INTO bonus_ledger (customer_id, points_change, reason) VALUES (5, 100, 'promo')",
        "INSERT IGNORE INTO loyalty_transactions (account_id, bonus_amount) VALUES (5, 100)",
    ] {
        let f = facts(sql);
        assert_eq!(changes(&f), [("5", 100, false)], "{sql}");
    }
    // The listed column wins over one read by its words.
    let f =
        facts("INSERT INTO bonus_ledger (account_id, balance_after, delta) VALUES (5, 1100, 100)");
    assert_eq!(changes(&f), [("5", 100, false)]);
}

#[test]
fn columns_named_in_camel_case_are_the_vocabulary_s_columns() {
    // Prisma, TypeORM and Sequelize name columns `customerId`, `pointsDelta`.
    let pg = |sql: &str| {
        analyze(
            sql,
            &["5".to_string()],
            Dialect::Postgres,
            &Vocab::default(),
        )
        .1
    };
    let f =
        pg("UPDATE \"BonusAccount\" SET \"balance\" = \"balance\" + 100 WHERE \"customerId\" = $1");
    assert_eq!(changes(&f), [("5", 100, false)]);
    let f = pg("UPDATE \"LoyaltyWallet\" SET \"pointsBalance\" = \"pointsBalance\" - 40 WHERE \"userId\" = $1");
    assert_eq!(changes(&f), [("5", -40, false)]);
    let f = pg("INSERT INTO \"PointsLedger\" (\"accountId\", \"pointsDelta\") VALUES ($1, 100)");
    assert_eq!(changes(&f), [("5", 100, false)]);
    let f = pg("SELECT * FROM \"Order\" WHERE \"customerId\" = $1");
    assert_eq!(
        f.account_ids.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        ["5"]
    );
    // A column that only shares letters is not one of them.
    let f = pg("SELECT * FROM \"Order\" WHERE \"customerIdx\" = $1");
    assert!(f.account_ids.is_empty());
    assert!(same_column("customer_id", "CustomerID"));
    assert!(!same_column("customer_id", "customer_ids"));
}

#[test]
fn a_column_qualified_by_schema_and_table_is_the_column() {
    // Prisma's `increment` qualifies the column by schema and table, in parentheses.
    let f = analyze(
        r#"UPDATE "public"."Wallet" SET "points" = ("public"."Wallet"."points" + $1), "updatedAt" = $2 WHERE ("public"."Wallet"."customerId" = $3 AND 1=1) RETURNING "public"."Wallet"."id""#,
        &["500".into(), "2025-11-04 03:21:36".into(), "42".into()],
        Dialect::Postgres,
        &Vocab::default(),
    )
    .1;
    assert_eq!(changes(&f), [("42", 500, false)]);
    let f = facts("UPDATE `loyalty`.`Wallet` SET `points` = (`loyalty`.`Wallet`.`points` - 40) WHERE (`loyalty`.`Wallet`.`customerId` = 42 AND 1=1)");
    assert_eq!(changes(&f), [("42", -40, false)]);
    let f = facts(
        "UPDATE loyalty.wallet SET points = loyalty.wallet.points + 7 WHERE customer_id = 42",
    );
    assert_eq!(changes(&f), [("42", 7, false)]);
}

#[test]
fn an_amount_bound_in_a_cast_is_the_amount() {
    // Hibernate binds an amount in arithmetic inside a cast; MySQL's CONVERT too.
    let bound = |sql: &str, d| analyze(sql, &["500".into(), "42".into()], d, &Vocab::default()).1;
    for (sql, d) in [
        (
            "UPDATE wallets SET points = points + CAST($1 AS integer) WHERE customer_id = $2",
            Dialect::Postgres,
        ),
        (
            "update wallets set points=(points+cast(? as integer)) where customer_id=?",
            Dialect::MySql,
        ),
        (
            "UPDATE wallets SET points = points - CONVERT(?, SIGNED) WHERE customer_id = ?",
            Dialect::MySql,
        ),
    ] {
        let f = bound(sql, d);
        let want = if sql.contains(" - ") { -500 } else { 500 };
        assert_eq!(changes(&f), [("42", want, false)], "{sql}");
        assert!(!f.bonus_unnamed, "{sql}");
    }
    // A cast of a cast, or arithmetic on the bound value, states no amount: with the
    // values logged, the change is one of an amount the log cannot give, not none.
    for sql in [
        "UPDATE wallets SET points = points + CAST(CAST($1 AS int) AS int) WHERE customer_id = $2",
        "UPDATE wallets SET points = points + FLOOR($1 * 1.5) WHERE customer_id = $2",
    ] {
        let f = bound(sql, Dialect::Postgres);
        assert!(changes(&f).is_empty() && f.bonus_unnamed, "{sql}");
    }
    // Without the values, a bound amount is named, only not shown.
    let f = analyze(
        "UPDATE wallets SET points = points + $1 WHERE customer_id = $2",
        &[],
        Dialect::Postgres,
        &Vocab::default(),
    )
    .1;
    assert!(changes(&f).is_empty() && !f.bonus_unnamed);
}
