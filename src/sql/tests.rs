//! Unit tests of statement analysis: positive cases and legitimate look-alikes.

use super::*;

fn pg(s: &str) -> (StmtClass, SqlFacts) {
    analyze(s, &[], Dialect::Postgres, &Vocab::default())
}

#[test]
fn whole_table_reads() {
    let (c, f) = pg("SELECT id, name, email, phone FROM customers");
    assert_eq!(c, StmtClass::Read);
    assert!(f.whole_table_read);
    assert_eq!(f.tables, vec!["customers"]);
    assert!(
        pg("SELECT * FROM public.customers WHERE 1=1")
            .1
            .whole_table_read
    );
    assert!(
        pg("SELECT * FROM customers LIMIT 100000")
            .1
            .whole_table_read
    );
    assert!(pg("COPY customers TO STDOUT WITH CSV").1.whole_table_read);
    assert!(
        pg("COPY (SELECT id, email FROM customers) TO STDOUT WITH CSV")
            .1
            .whole_table_read
    );
}

#[test]
fn selective_reads_are_not_whole_table() {
    let (_, f) = pg("SELECT id, email FROM customers WHERE id = 100234");
    assert!(!f.whole_table_read);
    assert_eq!(f.account_ids, vec!["100234"]);
    let (_, f) = analyze(
        "SELECT * FROM customers WHERE id = $1",
        &["100777".into()],
        Dialect::Postgres,
        &Vocab::default(),
    );
    assert!(!f.whole_table_read);
    assert_eq!(f.account_ids, vec!["100777"]);
    assert!(
        !pg("SELECT * FROM customers WHERE id IN (1,2) LIMIT 5000")
            .1
            .whole_table_read
    );
    assert!(!pg("SELECT * FROM customers LIMIT 20").1.whole_table_read);
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
}

#[test]
fn ordinary_order_changes_no_bonus() {
    let (_, f) = pg("INSERT INTO orders (account_id, amount, item) VALUES (5, 120, 'pizza')");
    assert!(f.bonus_changes.is_empty());
    assert_eq!(f.account_ids, vec!["5"]);
}

#[test]
fn sqlcommenter_and_injection() {
    let (_, f) = pg("SELECT * FROM customers /*request_id='abc%2D1',application='loyalty-api'*/");
    assert_eq!(f.request_id.as_deref(), Some("abc-1"));
    assert_eq!(f.application.as_deref(), Some("loyalty-api"));
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
fn truncated_statement_falls_back() {
    let (c, f) = analyze(
        "SELECT id, name, email FROM customers WHERE note = 'abc",
        &[],
        Dialect::MySql,
        &Vocab::default(),
    );
    assert_eq!(c, StmtClass::Read);
    assert!(f.fallback);
    assert_eq!(f.tables, vec!["customers"]);
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
    assert_eq!(f.row["id"], "cmp-1");
    assert_eq!(f.row["title"], "Hi, there");
    assert_eq!(f.row["body"], "It's =1+1");
}
