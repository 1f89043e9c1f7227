//! Unit tests of a schema in other words than the sample's: guests and patrons for
//! customers, `guest_id` and `loyalty_account_id` for their keys, stars for points.

use super::*;

fn pg(s: &str) -> SqlFacts {
    analyze(s, &[], Dialect::Postgres, &Vocab::default()).1
}

fn changes(f: &SqlFacts) -> Vec<(&str, i64)> {
    (f.bonus_changes.iter())
        .map(|c| (c.account_id.as_str(), c.delta))
        .collect()
}

#[test]
fn account_columns_by_their_words() {
    let v = Vocab::default();
    for yes in [
        "guest_id",
        "guestId",
        "loyalty_account_id",
        "customer_uuid",
        "customerUUID",
        "member_number",
        "account_no",
        "patron_no",
        "referrer_user_id",
        "cust_id",
        "acctNo",
        "profile_id",
    ] {
        assert!(v.is_account_column(yes), "{yes}");
    }
    for no in [
        "id",
        "order_id",
        "created_by_user_id",
        "admin_user_id",
        "staff_member_id",
        "updatedByAccountId",
        "customer_phone_number",
        "user_agent",
        "guest_count",
        "customer_name",
        "guestid",
    ] {
        assert!(!v.is_account_column(no), "{no}");
    }
}

#[test]
fn guests_and_patrons_are_customers() {
    let f = pg("SELECT * FROM guests");
    assert!(f.whole_table_read);
    assert!(Vocab::default().is_account_table("guests"));
    for t in [
        "patrons",
        "loyalty.diners",
        "people",
        "newsletter_subscribers",
    ] {
        assert!(Vocab::default().is_account_table(t), "{t}");
    }
    let f = pg("SELECT email, phone FROM guests WHERE guest_id = 123");
    assert!(!f.whole_table_read);
    assert_eq!(*f.account_ids, ["123"]);
    // `id` of a guests table is a guest's.
    assert_eq!(
        *pg("SELECT * FROM guest_profiles WHERE id = 5").account_ids,
        ["5"]
    );
}

#[test]
fn balances_keyed_by_other_names() {
    for (sql, acct) in [
        (
            "UPDATE guest_loyalty SET points = points + 500 WHERE guest_id = 123",
            "123",
        ),
        (
            "UPDATE loyalty_accounts SET points = points + 500 WHERE loyalty_account_id = 123",
            "123",
        ),
        (
            "UPDATE bonus_accounts SET balance = balance + 500 WHERE customer_uuid = 'c-9'",
            "c-9",
        ),
        (
            "INSERT INTO points_ledger (guest_id, points) VALUES (123, 500)",
            "123",
        ),
        (
            "UPDATE wallets SET balance = balance + 500 WHERE owner_id = 123",
            "123",
        ),
        (
            "INSERT INTO loyalty_cards (holder_id, points) VALUES (123, 500)",
            "123",
        ),
    ] {
        let f = pg(sql);
        assert_eq!(changes(&f), [(acct, 500)], "{sql}");
        assert!(!f.bonus_unnamed, "{sql}");
    }
}

#[test]
fn a_programmes_own_unit_counts_in_its_tables_and_on_the_customer_s_row_only() {
    let f = pg("UPDATE rewards SET stars = stars + 500 WHERE guest_id = 123");
    assert_eq!(changes(&f), [("123", 500)]);
    let f = pg("INSERT INTO reward_transactions (guest_id, stars, kind) VALUES (12, 300, 'earn')");
    assert_eq!(changes(&f), [("12", 300)]);
    // A balance on the member's own row.
    let f = pg("UPDATE members SET stars = stars + 500 WHERE member_id = 42");
    assert_eq!(changes(&f), [("42", 500)]);
    let f = pg("UPDATE guests SET stamps = 9 WHERE id = 7");
    assert_eq!(changes(&f), [("7", 9)]);
    // A review's stars are its rating.
    for sql in [
        "UPDATE reviews SET stars = 4 WHERE customer_id = 12",
        "INSERT INTO reviews (customer_id, stars) VALUES (12, 5)",
    ] {
        let f = pg(sql);
        assert!(changes(&f).is_empty() && !f.bonus_unnamed, "{sql}");
    }
}

#[test]
fn a_ledger_row_of_points_for_an_unnamed_key_is_a_change_it_cannot_place() {
    let f = pg("INSERT INTO points_ledger (wallet_ref, points) VALUES ('w1', 500)");
    assert!(changes(&f).is_empty());
    assert!(f.bonus_unnamed);
    // A card's number names the card's holder, whom only the roster can name
    // (`correlate::contacts`).
    let f =
        pg("INSERT INTO points_ledger (card_no, points_delta, reason) VALUES ('C-1', 500, 'x')");
    assert_eq!(changes(&f), [("C-1", 500)]);
    assert!(f.contact_ids && !f.bonus_unnamed);
    // Beside an account key in the same text, a contact names no account.
    let f = pg("BEGIN; UPDATE loyalty_cards SET bonus_balance = bonus_balance + 5 WHERE phone = '+380670007232'; INSERT INTO points_history (member_id, delta) VALUES (7012, 5); COMMIT");
    assert_eq!(changes(&f), [("7012", 5)]);
    assert_eq!(&*f.account_ids, &[model::text("7012")]);
    assert!(!f.contact_ids && f.bonus_unnamed);
    // A row of no points changes nothing.
    let f = pg("INSERT INTO points_ledger (wallet_ref, points, note) VALUES ('w1', 0, 'x')");
    assert!(!f.bonus_unnamed);
}

#[test]
fn an_owner_is_a_customer_in_a_bonus_table_only() {
    let f = pg("SELECT * FROM stores WHERE owner_id = 7");
    assert!(f.account_ids.is_empty());
    let f = pg("SELECT * FROM wallets WHERE owner_id = 7");
    assert_eq!(*f.account_ids, ["7"]);
}

#[test]
fn a_ledger_row_s_own_id_is_not_its_account() {
    // Ids the application draws for the entry (a UUID, a sequence value it fetched).
    for (sql, want) in [
        (
            "INSERT INTO bonus_ledger (id, account_id, delta, reason) VALUES (9001, 42, 5000, 'adj')",
            vec![("42", 5000)],
        ),
        (
            "INSERT INTO bonus_ledger (id, account_id, delta) VALUES ('a1b2', 42, 5), ('c3d4', 43, 6)",
            vec![("42", 5), ("43", 6)],
        ),
        (
            "INSERT INTO loyalty_accounts (id, customer_id, points) VALUES (5, 42, 100)",
            vec![("42", 100)],
        ),
    ] {
        let f = pg(sql);
        assert_eq!(changes(&f), want, "{sql}");
        assert!(!f.account_ids.iter().any(|a| ["9001", "a1b2", "5"].contains(&a.as_str())));
    }
    // A customer's own row is named by its id, whoever referred them.
    let f = pg("INSERT INTO customers (id, referred_by_customer_id, name) VALUES (77, 42, 'x')");
    assert_eq!(*f.account_ids, ["77"]);
}

#[test]
fn points_inserted_into_a_table_of_no_bonus_word_are_a_ledger_s() {
    for (sql, want) in [
        (
            "INSERT INTO transactions (customer_id, points, reason) VALUES (42, 5000, 'adj')",
            vec![("42", 5000)],
        ),
        (
            "INSERT INTO transactions (id, customer_id, bonus_points) VALUES ('x1', 42, 5000)",
            vec![("42", 5000)],
        ),
        // The points, not the payment beside them.
        (
            "INSERT INTO transactions (customer_id, amount, points) VALUES (42, 500, 50)",
            vec![("42", 50)],
        ),
    ] {
        let f = pg(sql);
        assert_eq!(changes(&f), want, "{sql}");
        assert!(f.bonus_changes.iter().all(|c| c.ledger), "{sql}");
    }
    // Money, points earned by an order (a running figure), an order's own columns.
    for none in [
        "INSERT INTO payments (customer_id, amount, balance) VALUES (42, 500, 50)",
        "INSERT INTO orders (account_id, amount, points_earned) VALUES (42, 500, 50)",
        "INSERT INTO orders (account_id, amount, restaurant_id) VALUES (42, 427, 8)",
        "INSERT INTO order_items (order_id, product_id, points) VALUES (9, 3, 20)",
    ] {
        let f = pg(none);
        assert!(f.bonus_changes.is_empty() && !f.bonus_unnamed, "{none}");
    }
}

#[test]
fn a_points_row_saved_whole_is_its_owner_s_not_its_id_s() {
    // Django's save() and Hibernate write every field back, the owner's column too; the
    // row's own id numbers the wallet.
    let f = pg(
        r#"UPDATE "loyalty_wallet" SET "customer_id" = 42, "points" = 550 WHERE "loyalty_wallet"."id" = 17"#,
    );
    assert_eq!(changes(&f), [("42", 550)]);
    assert_eq!(*f.account_ids, ["42"]);
    let (_, f) = analyze(
        "update wallet set customer_id=?, points=?, version=? where id=? and version=?",
        &[
            "42".into(),
            "550".into(),
            "8".into(),
            "17".into(),
            "7".into(),
        ],
        Dialect::MySql,
        &Vocab::default(),
    );
    assert_eq!(changes(&f), [("42", 550)]);
    assert!(!f.row_ids);
    // Without the owner's column the id is all there is: the row's number, marked so for
    // the correlation to learn its owner. On the customer's own row it is the account.
    let f = pg("UPDATE wallets SET points = 550 WHERE id = 17");
    assert_eq!(changes(&f), [("17", 550)]);
    assert!(f.row_ids);
    let f = pg(r#"SELECT "wallets".* FROM "wallets" WHERE "wallets"."id" IN (17, 18)"#);
    assert_eq!(*f.account_ids, ["17", "18"]);
    assert!(f.row_ids);
    let f = pg("UPDATE customers SET referrer_customer_id = 9, points = 550 WHERE id = 17");
    assert_eq!(changes(&f), [("17", 550)]);
    assert!(!f.row_ids);
    // Pinned beside the owner's column, the row's number is no account.
    let f = pg("UPDATE wallets SET points = points + 5 WHERE id = 17 AND customer_id = 42");
    assert_eq!(changes(&f), [("42", 5)]);
    assert_eq!(*f.account_ids, ["42"]);
    assert!(!f.row_ids);
    // A read by the owner names the account; one that joins another table is left alone.
    let f = pg("SELECT * FROM wallets WHERE customer_id = 42 LIMIT 1");
    assert_eq!((&*f.account_ids, f.row_ids), (&["42".into()][..], false));
    let f = pg("SELECT w.* FROM wallets w JOIN stores s ON s.id = w.store_id WHERE w.id = 17");
    assert_eq!(*f.account_ids, ["17"]);
    assert!(!f.row_ids);
    // A filter on the owner's column already names the account.
    let f = pg("UPDATE wallets SET customer_id = 9, points = points + 5 WHERE customer_id = 42");
    assert_eq!(changes(&f), [("42", 5)]);
}
