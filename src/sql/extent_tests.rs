//! Unit tests of how much of a table a read returns: the whole table, the rows a key
//! names, a page of it, or a summary of it.

use super::*;

fn pg(s: &str) -> (StmtClass, SqlFacts) {
    analyze(s, &[], Dialect::Postgres, &Vocab::default())
}

#[test]
fn whole_table_reads() {
    let (c, f) = pg("SELECT id, name, email, phone FROM customers");
    assert_eq!(c, StmtClass::Read);
    assert!(f.whole_table_read);
    assert_eq!(*f.tables, ["customers"]);
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
    for my in [
        "SELECT * INTO OUTFILE '/tmp/c.csv' FROM customers",
        "SELECT id, email FROM customers INTO OUTFILE '/var/lib/mysql-files/c.csv'",
    ] {
        let (_, f) = analyze(my, &[], Dialect::MySql, &Vocab::default());
        assert!(f.whole_table_read, "{my}");
        assert_eq!(*f.tables, ["customers"], "{my}: the file is no table");
    }
    let (_, f) = pg("COPY public.customers TO STDOUT WITH CSV");
    assert!(f.whole_table_read);
    assert_eq!(*f.tables, ["customers"]);
    assert!(
        pg("COPY (SELECT id, email FROM customers) TO STDOUT WITH CSV")
            .1
            .whole_table_read
    );
    // PostgreSQL's `TABLE t`, and a cursor over the table (psql's FETCH_COUNT, a
    // driver's server-side cursor) whose rows `FETCH` then returns.
    for sql in [
        "TABLE customers",
        "DECLARE c CURSOR FOR SELECT id, email, phone FROM customers",
        "DECLARE \"_psql_cursor\" NO SCROLL CURSOR FOR TABLE customers",
    ] {
        let (c, f) = pg(sql);
        assert_eq!((c, f.whole_table_read), (StmtClass::Read, true), "{sql}");
    }
    assert_eq!(pg("TABLE customers LIMIT 50").1.page_rows, 50);
    let (c, f) = pg("DECLARE c CURSOR FOR SELECT * FROM customers WHERE id = 5");
    assert_eq!((c, f.whole_table_read), (StmtClass::Read, false));
    assert_eq!(pg("DECLARE x TEXT").0, StmtClass::Other);
}

#[test]
fn comparisons_of_literals_that_always_hold_let_every_row_through() {
    for (sql, d) in [
        (
            "SELECT * FROM customers WHERE id = 1 OR 2 > 1",
            Dialect::MySql,
        ),
        (
            "SELECT * FROM customers WHERE id = -1 OR 1 LIKE 1",
            Dialect::MySql,
        ),
        (
            "SELECT * FROM customers WHERE id = 1 || 1=1",
            Dialect::MySql,
        ),
        (
            "SELECT * FROM customers WHERE id = '1' OR NOT 1=2",
            Dialect::MySql,
        ),
        (
            "SELECT * FROM customers WHERE name = '' OR 'b' <> 'a' LIMIT 5000",
            Dialect::MySql,
        ),
        (
            "SELECT * FROM customers WHERE id = 5 OR '1' = 1",
            Dialect::MySql,
        ),
        (
            "SELECT * FROM customers WHERE id = 5 OR 3 >= 3",
            Dialect::Postgres,
        ),
    ] {
        let (_, f) = analyze(sql, &[], d, &Vocab::default());
        assert!(f.whole_table_read, "{sql}");
        assert_eq!(f.injection.as_deref(), Some("tautology after OR"), "{sql}");
    }
    for sql in [
        "SELECT * FROM customers WHERE id = 1 OR 2 > 3",
        "SELECT * FROM customers WHERE id = 1 OR 1 = 1 + id",
        "SELECT * FROM customers WHERE id = 1 OR NOT 1 = 1",
        "SELECT * FROM customers WHERE id = 1 AND 2 > 1",
    ] {
        let (_, f) = pg(sql);
        assert!(!f.whole_table_read, "{sql}");
        assert_eq!(f.injection, None, "{sql}");
    }
}

#[test]
fn selective_reads_are_not_whole_table() {
    let (_, f) = pg("SELECT id, email FROM customers WHERE id = 100234");
    assert!(!f.whole_table_read);
    assert_eq!(*f.account_ids, ["100234"]);
    let (_, f) = analyze(
        "SELECT * FROM customers WHERE id = $1",
        &["100777".into()],
        Dialect::Postgres,
        &Vocab::default(),
    );
    assert!(!f.whole_table_read);
    assert_eq!(*f.account_ids, ["100777"]);
    assert!(
        !pg("SELECT * FROM customers WHERE id IN (1,2) LIMIT 5000")
            .1
            .whole_table_read
    );
    assert!(!pg("SELECT * FROM customers LIMIT 20").1.whole_table_read);
    for selective in [
        "SELECT * FROM customers WHERE email = $1 AND deleted_at IS NULL",
        "SELECT * FROM customers c WHERE lower(c.email) = 'a@b.c'",
        "SELECT * FROM customers WHERE id = ANY($1)",
        "SELECT * FROM customers WHERE id IN (SELECT customer_id FROM orders WHERE id = 5)",
        "SELECT * FROM customers WHERE created_at > now() - interval '1 day' LIMIT 50",
        "SELECT * FROM customers WHERE 100234 = id",
        "COPY (SELECT * FROM customers WHERE id = 7) TO STDOUT",
    ] {
        assert!(!pg(selective).1.whole_table_read, "{selective}");
    }
}

#[test]
fn filters_that_pin_no_value_read_the_table_by_the_full() {
    // The doc's MariaDB example, a date range, soft-delete filters, a join condition.
    for bulk in [
        "SELECT email, phone FROM customers WHERE note LIKE '%vip%'",
        "SELECT id, email FROM customers WHERE created_at > now() - interval '90 days'",
        "SELECT id, email FROM customers WHERE created_at >= '2024-01-01'",
        "SELECT * FROM customers WHERE id > 0",
        "SELECT * FROM customers WHERE id <> 0",
        "SELECT * FROM customers WHERE id != 0",
        "SELECT * FROM customers WHERE deleted_at IS NULL",
        "SELECT c.email, o.total FROM customers c, orders o WHERE c.id = o.customer_id",
        "COPY (SELECT id, email, phone FROM customers WHERE created_at > now() - interval '90 days') TO STDOUT WITH CSV",
    ] {
        let (c, f) = pg(bulk);
        assert_eq!(c, StmtClass::Read, "{bulk}");
        assert!(f.whole_table_read, "{bulk}");
    }
}

#[test]
fn filters_on_columns_many_rows_share_read_a_class_of_rows() {
    // A state, a tier, a flag, a place, a tenant: a dump of the active customers.
    for bulk in [
        "SELECT email, phone FROM customers WHERE status = 'active'",
        "SELECT c.email, c.phone FROM customers c WHERE c.status = 'active'",
        "SELECT * FROM customers WHERE tier IN ('gold', 'platinum')",
        "SELECT * FROM customers WHERE is_active = true",
        "SELECT id, email FROM customers WHERE deleted = 0",
        "SELECT * FROM customers WHERE tenant_id = 3",
        "SELECT * FROM \"Customer\" WHERE \"isActive\" = true AND \"loyaltyTier\" = 'gold'",
        "SELECT * FROM customers WHERE lower(status) = 'active'",
        "SELECT * FROM customers WHERE 'DE' = country",
        "SELECT * FROM customers WHERE country = 'DE' AND email_opt_in = true",
        "SELECT * FROM customers WHERE account_status = 'active' AND created_at > '2024-01-01'",
    ] {
        let (c, f) = pg(bulk);
        assert_eq!(c, StmtClass::Read, "{bulk}");
        assert!(f.whole_table_read, "{bulk}");
    }
    assert_eq!(
        crate::sql::class_filter(
            "SELECT * FROM customers c WHERE c.status = 'active' AND c.tier IN ('gold') ORDER BY id"
        ),
        ["status", "tier"]
    );
    assert_eq!(
        crate::sql::class_filter(
            "COPY (SELECT * FROM customers WHERE status = 'active') TO STDOUT WITH CSV HEADER"
        ),
        ["status"]
    );
    for not in [
        "SELECT * FROM customers WHERE status = 'active' AND id = 5",
        "SELECT * FROM customers WHERE created_at > '2024-01-01'",
        "SELECT * FROM customers",
        "SELECT * FROM customers WHERE status = 'x' OR 1=1",
    ] {
        assert!(crate::sql::class_filter(not).is_empty(), "{not}");
    }
    let (_, f) = pg("SELECT * FROM customers WHERE status = 'active' LIMIT 100 OFFSET 200");
    assert_eq!((f.whole_table_read, f.page_rows), (false, 100));
    // A key, an address or a name beside them still picks the rows.
    for selective in [
        "SELECT * FROM customers WHERE status = 'active' AND id = 5",
        "SELECT * FROM customers WHERE customer_id = $1 AND tenant_id = $2",
        "SELECT * FROM customers WHERE email = 'a@b.c' AND is_active",
        "SELECT * FROM customers WHERE last_name = 'Smith'",
        "SELECT * FROM customers c WHERE c.phone = $1 AND c.status <> 'deleted'",
    ] {
        assert!(!pg(selective).1.whole_table_read, "{selective}");
    }
}

#[test]
fn copies_of_a_whole_table_into_another_are_whole_table_reads() {
    for copy in [
        "CREATE TABLE dump AS SELECT * FROM customers",
        "CREATE TABLE IF NOT EXISTS public.tmp_x AS SELECT id, email, phone FROM public.customers",
        "INSERT INTO stage_export SELECT * FROM customers",
    ] {
        assert!(pg(copy).1.whole_table_read, "{copy}");
    }
    let (_, f) = analyze(
        "CREATE TEMPORARY TABLE t1 SELECT * FROM customers",
        &[],
        Dialect::MySql,
        &Vocab::default(),
    );
    assert!(f.whole_table_read);
    for not in [
        "INSERT INTO customers SELECT * FROM import_batch",
        "INSERT INTO stage_export SELECT * FROM customers WHERE id = 5",
        "CREATE VIEW v AS SELECT * FROM customers",
        "INSERT INTO audit_log (who, what) SELECT 'x', 'y'",
        "CREATE TABLE t2 (id int)",
    ] {
        assert!(!pg(not).1.whole_table_read, "{not}");
    }
}

#[test]
fn pages_of_a_listing_are_neither_selective_nor_the_whole_table() {
    let page = |sql: &str, d: Dialect| {
        let (_, f) = analyze(sql, &[], d, &Vocab::default());
        (f.whole_table_read, f.page_rows)
    };
    let pg = Dialect::Postgres;
    let my = Dialect::MySql;
    for (sql, d, rows) in [
        (
            "SELECT id, email, phone FROM customers ORDER BY id LIMIT 100 OFFSET 4200",
            pg,
            100,
        ),
        (
            "SELECT * FROM customers WHERE id > 4200 ORDER BY id LIMIT 100",
            pg,
            100,
        ),
        ("SELECT * FROM customers WHERE 1=1 LIMIT 50", pg, 50),
        (
            "SELECT * FROM customers ORDER BY id OFFSET 200 ROWS FETCH NEXT 200 ROWS ONLY",
            pg,
            200,
        ),
        // MySQL's `LIMIT offset, count`: a page of 50, not a bulk of 4200.
        ("SELECT * FROM customers ORDER BY id LIMIT 4200, 50", my, 50),
    ] {
        assert_eq!(page(sql, d), (false, rows), "{sql}");
    }
    for (sql, d, whole) in [
        ("SELECT * FROM customers LIMIT 50, 5000", my, true),
        ("SELECT * FROM customers WHERE id = 7 LIMIT 1", pg, false),
        (
            "SELECT * FROM customers WHERE email = $1 LIMIT 1",
            pg,
            false,
        ),
        ("SELECT * FROM customers", pg, true),
    ] {
        assert_eq!(page(sql, d), (whole, 0), "{sql}");
    }
}

#[test]
fn summaries_of_a_table_return_none_of_its_rows() {
    for sql in [
        "SELECT count(*) FROM customers",
        "SELECT COUNT(id) AS n, max(created_at) last_signup FROM customers",
        "SELECT count(*) FROM customers WHERE created_at > now() - interval '1 day'",
        "SELECT 1 FROM customers LIMIT 1",
        "COPY (SELECT count(*) FROM customers) TO STDOUT",
    ] {
        let (c, f) = pg(sql);
        assert_eq!(c, StmtClass::Read, "{sql}");
        assert!(!f.whole_table_read && f.page_rows == 0, "{sql}");
    }
    // Aggregates of the values return them all; grouped columns return theirs.
    for sql in [
        "SELECT json_agg(c) FROM customers c",
        "SELECT string_agg(email, ',') FROM customers",
        "SELECT email, count(*) FROM customers GROUP BY email",
        "SELECT count(*) + 0, email FROM customers",
    ] {
        assert!(pg(sql).1.whole_table_read, "{sql}");
    }
}

#[test]
fn a_filter_keeps_the_rows_it_pins_only_if_every_or_branch_pins_them() {
    for sql in [
        "SELECT * FROM customers WHERE id = 5 OR id > 0",
        "SELECT * FROM customers WHERE id = 5 OR id IS NOT NULL",
        "SELECT * FROM customers WHERE id = 5 OR email LIKE '%'",
        "SELECT * FROM customers WHERE NOT id = 5",
        "SELECT * FROM customers WHERE id NOT IN (5, 6)",
        "SELECT * FROM customers WHERE (id = 5 OR id > 0) AND deleted_at IS NULL",
    ] {
        assert!(pg(sql).1.whole_table_read, "{sql}");
    }
    for sql in [
        "SELECT * FROM customers WHERE email = $1 OR phone = $1",
        "SELECT * FROM customers WHERE ($1::bigint IS NULL OR id = $1) AND deleted_at IS NULL",
        "SELECT * FROM customers WHERE customer_id = 5 AND (status = 'a' OR status IS NULL)",
        "SELECT * FROM customers WHERE lower(email) = lower('a@b.example')",
        "SELECT * FROM customers WHERE id + 1 = 6",
    ] {
        assert!(!pg(sql).1.whole_table_read, "{sql}");
    }
}

#[test]
fn tautologies_in_parentheses_or_as_a_bare_truth_are_injections() {
    for (sql, d) in [
        (
            "SELECT * FROM customers WHERE (id = 5) OR (1=1)",
            Dialect::Postgres,
        ),
        (
            "SELECT * FROM customers WHERE id = 5 OR TRUE",
            Dialect::Postgres,
        ),
        ("SELECT * FROM customers WHERE id = 5 OR 1", Dialect::MySql),
        (
            "SELECT * FROM customers WHERE id IN (5) OR true",
            Dialect::Postgres,
        ),
    ] {
        let (_, f) = analyze(sql, &[], d, &Vocab::default());
        assert!(f.whole_table_read, "{sql}");
        assert_eq!(f.injection.as_deref(), Some("tautology after OR"), "{sql}");
    }
    let (_, f) = pg("SELECT * FROM customers WHERE id = 5 OR 0");
    assert!(!f.whole_table_read && f.injection.is_none());
}

#[test]
fn a_union_returns_what_its_reads_of_account_tables_return() {
    // The union's second read dumps the customers.
    for sql in [
        "SELECT * FROM customers WHERE id = 5 UNION SELECT * FROM customers",
        "SELECT name, price FROM products WHERE id = 5 UNION ALL SELECT email, phone FROM customers",
        "(SELECT name FROM products WHERE id = 5) UNION (SELECT email FROM customers)",
    ] {
        assert!(pg(sql).1.whole_table_read, "{sql}");
    }
    // A whole read of another table beside a selective read of the customers is no
    // dump of the customers.
    for sql in [
        "SELECT name FROM products UNION SELECT email FROM customers WHERE id = 5",
        "SELECT email FROM customers WHERE id = 5 UNION SELECT table_name FROM information_schema.tables",
    ] {
        assert!(!pg(sql).1.whole_table_read, "{sql}");
    }
}

#[test]
fn a_subquery_in_from_returns_no_more_than_it_selects() {
    assert!(
        !pg("SELECT * FROM (SELECT * FROM customers WHERE id = 5) t")
            .1
            .whole_table_read
    );
    assert!(
        pg("SELECT * FROM (SELECT * FROM customers) t")
            .1
            .whole_table_read
    );
}

#[test]
fn writes_that_return_every_row_of_an_account_table_read_it_whole() {
    for sql in [
        "UPDATE customers SET updated_at = updated_at RETURNING *",
        "UPDATE customers SET last_seen = now() WHERE id > 0 RETURNING email, phone",
        "DELETE FROM customers WHERE 1=1 RETURNING *",
    ] {
        let (c, f) = pg(sql);
        assert_eq!(c, StmtClass::Write, "{sql}");
        assert!(f.whole_table_read, "{sql}");
    }
    for sql in [
        "UPDATE customers SET last_seen = now() WHERE id = 5 RETURNING email",
        "UPDATE customers SET last_seen = now()",
        "UPDATE orders SET status = 'x' RETURNING *",
    ] {
        assert!(!pg(sql).1.whole_table_read, "{sql}");
    }
}

#[test]
fn tests_of_literals_that_always_hold_let_every_row_through() {
    for (sql, d) in [
        (
            "SELECT * FROM customers WHERE email = '' OR 'x' IS NOT NULL",
            Dialect::Postgres,
        ),
        (
            "SELECT * FROM customers WHERE email = '' OR NULL IS NULL",
            Dialect::Postgres,
        ),
        (
            "SELECT * FROM customers WHERE email = '' OR 1 IN (3, 1)",
            Dialect::Postgres,
        ),
        (
            "SELECT * FROM customers WHERE email = '' OR 2 NOT IN (1)",
            Dialect::Postgres,
        ),
        (
            "SELECT * FROM customers WHERE email = '' OR 1 BETWEEN 0 AND 2",
            Dialect::Postgres,
        ),
        (
            "SELECT * FROM customers WHERE email = '' OR 'abc' LIKE '%'",
            Dialect::Postgres,
        ),
        (
            "SELECT * FROM customers WHERE email = '' OR 'abc' ILIKE 'A_C'",
            Dialect::Postgres,
        ),
        (
            "SELECT * FROM customers WHERE email = '' OR 0x1=0x1",
            Dialect::MySql,
        ),
        (
            "SELECT * FROM customers WHERE email = '' OR 0x41 = 65 -- '",
            Dialect::MySql,
        ),
    ] {
        let (_, f) = analyze(sql, &[], d, &Vocab::default());
        assert!(f.whole_table_read, "{sql}");
        assert_eq!(f.injection.as_deref(), Some("tautology after OR"), "{sql}");
    }
    // Tests that fail, or read a column or a bound value, are no payload.
    for sql in [
        "SELECT * FROM customers WHERE email = '' OR 'x' IS NULL",
        "SELECT * FROM customers WHERE email = '' OR 1 IN (2, 3)",
        "SELECT * FROM customers WHERE email = '' OR 5 BETWEEN 0 AND 2",
        "SELECT * FROM customers WHERE email = '' OR 'abc' LIKE 'b%'",
        "SELECT * FROM customers WHERE email = '' OR NULL IN (1)",
        "SELECT * FROM customers WHERE email = $1 OR $1 IS NULL",
        "SELECT * FROM customers WHERE id = 5 OR 'a' LIKE name",
    ] {
        let (_, f) = pg(sql);
        assert_eq!(f.injection, None, "{sql}");
    }
}

#[test]
fn error_based_payloads_return_what_their_subqueries_read() {
    for (sql, d) in [
        (
            "SELECT name FROM products WHERE id = 5 AND 1=CAST((SELECT string_agg(email, ',') FROM customers) AS int)",
            Dialect::Postgres,
        ),
        (
            "SELECT name FROM products WHERE id = 5 AND 7=CAST((CHR(113)||(SELECT string_agg(phone, ',') FROM public.customers)||CHR(113)) AS NUMERIC)",
            Dialect::Postgres,
        ),
        (
            "SELECT name FROM products WHERE id = 5 AND extractvalue(1, concat(0x7e, (SELECT group_concat(email) FROM customers)))",
            Dialect::MySql,
        ),
    ] {
        let (_, f) = analyze(sql, &[], d, &Vocab::default());
        assert_eq!(f.injection.as_deref(), Some("error-based extraction"), "{sql}");
        assert!(f.whole_table_read, "{sql}");
    }
    // One row a request: marked, a row of no named account.
    let (_, f) = analyze(
        "SELECT name FROM products WHERE id = 5 AND updatexml(1, concat(0x7e, (SELECT email FROM customers LIMIT 0,1)), 1)",
        &[],
        Dialect::MySql,
        &Vocab::default(),
    );
    assert_eq!(f.injection.as_deref(), Some("error-based extraction"));
    assert!(!f.whole_table_read);
    // A character at a time.
    let (_, f) = pg("SELECT name FROM products WHERE id = 5 AND ascii(substr((SELECT email FROM customers LIMIT 1 OFFSET 3),1,1))>64");
    assert_eq!(f.injection.as_deref(), Some("blind extraction"));
    // What applications write: a cast of a subquery's number, XML read from a column.
    for sql in [
        "SELECT CAST((SELECT count(*) FROM customers) AS int)",
        "SELECT id FROM orders WHERE total > CAST((SELECT avg(total) FROM orders) AS int)",
        "SELECT ascii(substr(name, 1, 1)) FROM products WHERE id = 5",
    ] {
        assert_eq!(pg(sql).1.injection, None, "{sql}");
    }
}

#[test]
fn like_a_pattern_without_a_wildcard_picks_rows_as_equality_does() {
    // Django's `iexact` on MySQL, a login looked up by `LIKE`.
    let my = |sql: &str| analyze(sql, &[], Dialect::MySql, &Vocab::default()).1;
    for sql in [
        "SELECT id, password_hash FROM customers WHERE phone LIKE '+380671234567' LIMIT 21",
        "SELECT * FROM customers WHERE email LIKE 'olena_s@mail.example'",
        "SELECT * FROM customers WHERE UPPER(email) LIKE UPPER('olena@mail.example')",
    ] {
        assert!(!my(sql).whole_table_read, "{sql}");
    }
    // A pattern, a negation, an OR that lets every row through, or a class of rows.
    for sql in [
        "SELECT email, phone FROM customers WHERE email LIKE '%@%'",
        "SELECT email, phone FROM customers WHERE phone LIKE '+380%'",
        "SELECT * FROM customers WHERE email NOT LIKE 'a@b.c'",
        "SELECT * FROM customers WHERE email LIKE 'a@b.c' OR 1=1",
        "SELECT * FROM customers WHERE status LIKE 'active'",
    ] {
        assert!(my(sql).whole_table_read, "{sql}");
    }
}
