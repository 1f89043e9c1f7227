//! Unit tests of the account keys a read bounds: ranges, key order, LIMIT and OFFSET,
//! and the reads that bound none.

use super::*;
use crate::model::{KeyOrder, KeyRange};

fn facts(sql: &str, params: &[&str], d: Dialect) -> SqlFacts {
    let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
    analyze(sql, &params, d, &Vocab::default()).1
}

fn range(sql: &str, params: &[&str], d: Dialect) -> Option<KeyRange> {
    facts(sql, params, d).key_range.map(|r| *r)
}

fn keys(from: Option<i64>, to: Option<i64>) -> KeyRange {
    KeyRange {
        from,
        to,
        ..KeyRange::default()
    }
}

#[test]
fn a_range_of_customer_ids_is_read_as_those_keys() {
    let pg = Dialect::Postgres;
    let f = facts(
        "SELECT id, name, email FROM customers WHERE id >= $1 AND id < $2",
        &["100000", "105000"],
        pg,
    );
    assert!(f.whole_table_read, "5000 keys are a bulk of the table");
    assert_eq!(
        f.key_range.as_deref(),
        Some(&keys(Some(100000), Some(104999)))
    );
    for (sql, params, d) in [
        (
            "SELECT * FROM customers WHERE id BETWEEN 100000 AND 104999",
            &[][..],
            pg,
        ),
        (
            "SELECT * FROM public.customers c WHERE 100000 <= c.id AND c.id <= 104999",
            &[],
            pg,
        ),
        (
            "SELECT * FROM customers WHERE id BETWEEN ? AND ?",
            &["100000", "104999"],
            Dialect::MySql,
        ),
        (
            "COPY (SELECT id, email, phone FROM customers WHERE id BETWEEN 100000 AND 104999) TO STDOUT WITH CSV",
            &[],
            pg,
        ),
        (
            "SELECT * FROM customers WHERE id > 99999 AND id < 105000 AND deleted_at IS NULL",
            &[],
            pg,
        ),
    ] {
        let f = facts(sql, params, d);
        assert!(f.whole_table_read, "{sql}");
        let r = f.key_range.unwrap_or_else(|| panic!("{sql}"));
        assert_eq!((r.from, r.to), (Some(100000), Some(104999)), "{sql}");
    }
}

#[test]
fn a_narrow_range_of_keys_is_a_page_not_the_table() {
    let pg = Dialect::Postgres;
    let f = facts(
        "SELECT * FROM customers WHERE id BETWEEN 100001 AND 100500",
        &[],
        pg,
    );
    assert!(!f.whole_table_read);
    assert_eq!(f.page_rows, 500);
    assert_eq!(
        f.key_range.as_deref(),
        Some(&keys(Some(100001), Some(100500)))
    );
    let f = facts(
        "SELECT * FROM orders WHERE account_id BETWEEN 100001 AND 100200 LIMIT 50",
        &[],
        pg,
    );
    assert_eq!(f.page_rows, 50, "the LIMIT is the smaller");
    let r = f.key_range.expect("a range of an account column");
    assert_eq!(
        (r.from, r.to, r.limit, r.order),
        (Some(100001), Some(100200), Some(50), None)
    );
}

#[test]
fn pages_in_key_order_are_slices_of_the_keys() {
    let pg = Dialect::Postgres;
    let f = facts(
        "SELECT * FROM customers WHERE id > 4200 ORDER BY id LIMIT 100",
        &[],
        pg,
    );
    assert_eq!(f.page_rows, 100);
    let want = KeyRange {
        from: Some(4201),
        order: Some(KeyOrder::Asc),
        limit: Some(100),
        ..KeyRange::default()
    };
    assert_eq!(f.key_range.as_deref(), Some(&want));
    let want = KeyRange {
        order: Some(KeyOrder::Desc),
        limit: Some(50),
        offset: 200,
        ..KeyRange::default()
    };
    for (sql, d) in [
        (
            "SELECT id, name, email FROM customers ORDER BY id DESC LIMIT 50 OFFSET 200",
            pg,
        ),
        (
            "SELECT id, name, email FROM customers ORDER BY id DESC OFFSET 200 ROWS FETCH NEXT 50 ROWS ONLY",
            pg,
        ),
        (
            "SELECT * FROM `customers` ORDER BY `id` DESC LIMIT 200, 50",
            Dialect::MySql,
        ),
    ] {
        assert_eq!(range(sql, &[], d).as_ref(), Some(&want), "{sql}");
    }
}

#[test]
fn a_range_the_filter_also_narrows_is_an_upper_bound() {
    let r = range(
        "SELECT * FROM customers WHERE id > 5000 AND status = 'active'",
        &[],
        Dialect::Postgres,
    )
    .expect("a range");
    assert_eq!((r.from, r.to, r.narrowed), (Some(5001), None, true));
    // A bound that is no integer narrows too: leaving it out keeps an upper bound.
    let r = range(
        "SELECT * FROM customers WHERE id >= 5000 AND id < $1 + 100",
        &["5000"],
        Dialect::Postgres,
    )
    .expect("a range");
    assert_eq!((r.from, r.to, r.narrowed), (Some(5000), None, true));
}

#[test]
fn reads_that_bound_no_account_keys_have_no_range() {
    let pg = Dialect::Postgres;
    for sql in [
        "SELECT * FROM customers",
        "SELECT * FROM customers WHERE id > 0 OR 1=1",
        "SELECT * FROM customers WHERE NOT id BETWEEN 1 AND 10",
        "SELECT * FROM customers WHERE id NOT BETWEEN 1 AND 10",
        "SELECT * FROM customers WHERE id = 5",
        "SELECT * FROM customers WHERE id IN (5, 6) AND id > 2",
        "SELECT * FROM customers c JOIN orders o ON o.account_id = c.id WHERE c.id > 100",
        "SELECT * FROM customers c, orders o WHERE c.id > 100",
        "SELECT * FROM orders WHERE id > 100",
        "SELECT * FROM customers ORDER BY created_at LIMIT 50 OFFSET 100",
        "SELECT * FROM customers WHERE created_at > '2025-01-01'",
        "SELECT * FROM customers WHERE status = 'x' ORDER BY id LIMIT 50",
        "SELECT * FROM customers WHERE id > 5 UNION SELECT * FROM staff",
        "SELECT city, count(*) FROM customers WHERE id > 5 GROUP BY city",
    ] {
        assert_eq!(range(sql, &[], pg), None, "{sql}");
    }
    // The injected tautology reads the table whole, whatever range it widens.
    let f = facts(
        "SELECT * FROM customers WHERE id BETWEEN 1 AND 5 OR 1=1",
        &[],
        pg,
    );
    assert!(f.whole_table_read && f.key_range.is_none());
}

#[test]
fn a_balance_update_of_a_range_of_keys_states_its_rows_and_points() {
    let pg = Dialect::Postgres;
    let f = facts(
        "UPDATE bonus_accounts SET balance = balance + $1 WHERE account_id BETWEEN $2 AND $3",
        &["500", "100001", "100050"],
        pg,
    );
    assert!(f.bonus_unnamed && f.bonus_changes.is_empty());
    let want = KeyRange {
        from: Some(100001),
        to: Some(100050),
        points: Some(500),
        ..KeyRange::default()
    };
    assert_eq!(f.key_range.as_deref(), Some(&want));
    let f = facts(
        "UPDATE `bonus_accounts` SET `balance` = 0 WHERE `account_id` >= ? AND `account_id` < ?",
        &["100001", "100051"],
        Dialect::MySql,
    );
    let r = f.key_range.expect("a range");
    assert_eq!(
        (r.from, r.to, r.points, r.sets),
        (Some(100001), Some(100050), Some(0), true)
    );
    let f = facts(
        "UPDATE bonus_accounts SET balance = balance + 100 WHERE account_id > 5000 ORDER BY account_id LIMIT 10",
        &[],
        Dialect::MySql,
    );
    let r = f.key_range.expect("a range");
    let got = (r.from, r.order, r.limit, r.points);
    assert_eq!(got, (Some(5001), Some(KeyOrder::Asc), Some(10), Some(100)));
    // A DELETE of a bonus table's range removes those accounts' rows; one that joins
    // another table, or of a table of no bonus, has no range.
    let f = facts(
        "DELETE FROM bonus_accounts WHERE account_id >= 100900",
        &[],
        pg,
    );
    let r = f.key_range.expect("a range");
    assert_eq!((r.from, r.to, r.points), (Some(100900), None, None));
    for sql in [
        "DELETE FROM bonus_accounts b USING customers c WHERE c.id = b.account_id AND c.id > 5",
        "DELETE FROM sessions WHERE account_id > 5",
    ] {
        assert!(facts(sql, &[], pg).key_range.is_none(), "{sql}");
    }
    // No range: keys named, no amount stated, a wallet's own row numbers, other tables.
    for (sql, params) in [
        (
            "UPDATE bonus_accounts SET balance = balance + 500 WHERE account_id = 5",
            &[][..],
        ),
        (
            "UPDATE bonus_accounts SET balance = balance * 2 WHERE account_id > 100000",
            &[],
        ),
        (
            "UPDATE bonus_accounts SET balance = balance + 500 WHERE id BETWEEN 1 AND 50",
            &[],
        ),
        (
            "UPDATE bonus_accounts b SET balance = b.balance + 500 FROM customers c WHERE c.id = b.account_id AND c.id > 5",
            &[],
        ),
        (
            "UPDATE bonus_accounts SET balance = balance + 500 WHERE account_id > 5 OR 1=1",
            &[],
        ),
        ("UPDATE bonus_accounts SET balance = balance + 500", &[]),
    ] {
        let f = facts(sql, params, pg);
        assert!(f.key_range.is_none(), "{sql}: {:?}", f.key_range);
    }
}

proptest::proptest! {
    /// Range filters in any arrangement never panic the analysis; a key range is only
    /// ever a read's that counts as a table or a page, and a page of a range with both
    /// bounds is no wider than they are.
    #[test]
    fn any_range_filter_is_analyzed_without_panic(
        head in "(SELECT \\*|SELECT id, email|COPY \\(SELECT id) FROM (customers|public\\.customers c|orders|customers c JOIN orders o ON o\\.account_id = c\\.id)",
        conds in proptest::collection::vec(
            "(c\\.)?(id|account_id|status) (BETWEEN (-?[0-9]{1,20}|\\$1|\\?|'12') AND (-?[0-9]{1,20}|\\$2|\\?)|(>|>=|<|<=|=|<>) (-?[0-9]{1,20}|\\$1|\\?|'x')|IS NOT NULL|IN \\(1, 2\\))|(-?[0-9]{1,5}) (<|<=) id|\\(id > 5 OR 1=1\\)|NOT id > 3",
            0..4,
        ),
        joiner in "( AND | OR | AND NOT )",
        tail in "( ORDER BY (c\\.)?(id|created_at)( DESC| ASC)?)?( LIMIT (-?[0-9]{1,4}|\\$1|\\?)(, [0-9]{1,4})?)?( OFFSET [0-9]{1,4}( ROWS FETCH NEXT [0-9]{1,3} ROWS ONLY)?)?( GROUP BY id)?(\\) TO STDOUT)?",
        noise in "([ (),;*]|UNION|AND|BETWEEN){0,3}",
    ) {
        let filter = match conds.is_empty() {
            true => String::new(),
            false => format!(" WHERE {}", conds.join(&joiner)),
        };
        let s = format!("{head}{filter}{tail}{noise}");
        let params = ["100".to_string(), "abc".to_string()];
        for d in [Dialect::MySql, Dialect::Postgres] {
            let (_, f) = analyze(&s, &params, d, &Vocab::default());
            if let Some(r) = &f.key_range {
                proptest::prop_assert!(f.whole_table_read || f.page_rows > 0, "{s}");
                if let (Some(a), Some(b), true) = (r.from, r.to, f.page_rows > 0) {
                    let width = i128::from(b) - i128::from(a) + 1;
                    proptest::prop_assert!(
                        width <= 0 || i128::from(f.page_rows) <= width,
                        "{s}: {r:?}, {} rows",
                        f.page_rows
                    );
                }
            }
        }
    }
}
