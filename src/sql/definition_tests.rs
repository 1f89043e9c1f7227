//! Unit tests of routine definitions: parameters read from `CREATE FUNCTION` and
//! `CREATE PROCEDURE` text of both dialects, and calls by position read through them.

use super::definitions::{parse, Param, Routine};
use super::*;

fn names(r: &Routine) -> Vec<&str> {
    r.params.iter().map(|p| p.name.as_str()).collect()
}

fn changes(f: &SqlFacts) -> Vec<(&str, i64, bool)> {
    let c = f.bonus_changes.iter();
    c.map(|c| (c.account_id.as_str(), c.delta, c.absolute))
        .collect()
}

fn with(defs: &[&str], d: Dialect) -> Vocab {
    let mut v = Vocab::default();
    for t in defs {
        let r = parse(t, d, &v).expect(t);
        v.routines.push(r);
    }
    v
}

const PG_CREDIT: &str = "CREATE OR REPLACE FUNCTION loyalty.credit_points(p_account_id bigint, \
     p_points integer, p_reason text DEFAULT 'manual')\nRETURNS void LANGUAGE plpgsql AS $$\n\
     BEGIN\n  UPDATE loyalty.wallets SET balance = balance + p_points WHERE account_id = \
     p_account_id;\nEND;\n$$";

#[test]
fn a_postgresql_function_s_parameters_are_read_in_order() {
    let r = parse(PG_CREDIT, Dialect::Postgres, &Vocab::default()).unwrap();
    assert_eq!(r.name, "credit_points");
    assert_eq!(names(&r), ["account_id", "points", "reason"]);
    assert!(r.writes_bonus);
    // Types alone: the body calls them `$1` and `$2`.
    let r = parse(
        "CREATE FUNCTION give(bigint, numeric(10,2)) RETURNS void AS 'UPDATE bonus_accounts \
         SET points = points - $2 WHERE customer_id = $1' LANGUAGE sql",
        Dialect::Postgres,
        &Vocab::default(),
    )
    .unwrap();
    assert_eq!(names(&r), ["customer_id", "points"]);
    assert!(r.params[1].negated && !r.params[0].negated);
    // Other statements define nothing.
    for sql in [
        "CREATE TABLE credit_points (id bigint, points int)",
        "SELECT credit_points(1, 2)",
        "CREATE INDEX ON wallets (account_id)",
    ] {
        assert_eq!(
            parse(sql, Dialect::Postgres, &Vocab::default()),
            None,
            "{sql}"
        );
    }
}

#[test]
fn a_mysql_procedure_s_parameters_and_body_are_read() {
    let my = Dialect::MySql;
    let r = parse(
        "CREATE DEFINER=`app`@`%` PROCEDURE `adj`(IN a INT, IN b INT, OUT c INT)\nBEGIN\n  \
         INSERT INTO points_ledger (member_id, delta, note) VALUES (a, b, 'adj');\n  \
         SELECT ROW_COUNT() INTO c;\nEND",
        my,
        &Vocab::default(),
    )
    .unwrap();
    assert_eq!(r.name, "adj");
    assert_eq!(names(&r), ["member_id", "delta", "c"]);
    assert_eq!(
        r.params[2],
        Param {
            name: "c".into(),
            out: true,
            negated: false,
            sets: false
        }
    );
    assert!(r.writes_bonus);
    // A body that writes no bonus table.
    let r = parse(
        "CREATE PROCEDURE touch(IN uid INT) UPDATE users SET seen_at = NOW() WHERE id = uid",
        my,
        &Vocab::default(),
    )
    .unwrap();
    assert!(!r.writes_bonus);
}

#[test]
fn a_call_by_position_is_read_by_the_routine_s_definition() {
    let pg = Dialect::Postgres;
    // Unknown routine: positions say nothing.
    let (_, f) = analyze(
        "CALL credit_points(100119, 500)",
        &[],
        pg,
        &Vocab::default(),
    );
    assert!(f.bonus_unnamed && changes(&f).is_empty());
    let v = with(&[PG_CREDIT], pg);
    for (sql, params) in [
        ("CALL loyalty.credit_points(100119, 500)", &[][..]),
        ("SELECT loyalty.credit_points(100119, 500::int)", &[]),
        ("SELECT credit_points($1, $2, 'x')", &["100119", "500"]),
        // Positions first, then names.
        ("CALL credit_points(100119, p_points => 500)", &[]),
    ] {
        let params: Vec<String> = params.iter().map(|p| p.to_string()).collect();
        let (c, f) = analyze(sql, &params, pg, &v);
        assert_eq!(c, StmtClass::Write, "{sql}");
        assert_eq!(changes(&f), [("100119", 500, false)], "{sql}");
        assert_eq!(f.account_ids.len(), 1, "{sql}");
        assert!(!f.bonus_unnamed, "{sql}");
    }
    // A value the text does not give is read as its named argument is.
    let (_, f) = analyze("CALL credit_points(100119, random_points())", &[], pg, &v);
    let (_, named) = analyze(
        "CALL credit_points(p_account_id => 100119, p_points => random_points())",
        &[],
        pg,
        &v,
    );
    assert!(changes(&f).is_empty());
    assert_eq!(f.bonus_unnamed, named.bonus_unnamed);
}

#[test]
fn a_defined_routine_counts_whatever_its_name_and_subtracts_what_its_body_does() {
    let my = Dialect::MySql;
    let v = with(
        &[
            "CREATE PROCEDURE x1(IN a BIGINT, IN b INT) BEGIN UPDATE reward_cards SET stars = \
           stars - b WHERE holder = a AND customer_id = a; END",
        ],
        my,
    );
    let (c, f) = analyze("CALL x1(100119, 40)", &[], my, &v);
    assert_eq!(c, StmtClass::Write);
    assert_eq!(changes(&f), [("100119", -40, false)]);
    // A function called by a SELECT passes no OUT parameter.
    let v = with(
        &[
            "CREATE FUNCTION do_it(OUT ok boolean, acct bigint, pts int) AS $$ UPDATE bonus \
           SET points = points + pts WHERE account_id = acct $$ LANGUAGE sql",
        ],
        Dialect::Postgres,
    );
    let (c, f) = analyze("SELECT do_it(100119, 7)", &[], Dialect::Postgres, &v);
    assert_eq!(c, StmtClass::Write);
    assert_eq!(changes(&f), [("100119", 7, false)]);
}

#[test]
fn the_profile_s_routines_name_positions() {
    let p: crate::profile::Profile =
        toml::from_str("[routines]\n\"loyalty.award\" = [\"p_customer_id\", \"p_amount\"]\n")
            .unwrap();
    let mut v = Vocab::default();
    p.extend_vocab(&mut v);
    let (c, f) = analyze("CALL award(100119, 250)", &[], Dialect::Postgres, &v);
    assert_eq!(c, StmtClass::Write);
    assert_eq!(changes(&f), [("100119", 250, false)]);
}

#[test]
fn a_body_that_assigns_a_parameter_to_the_balance_sets_it_outright() {
    let pg = Dialect::Postgres;
    let v = with(
        &[
            "CREATE PROCEDURE put(acct bigint, n int) LANGUAGE sql AS $$ UPDATE bonus_accounts \
             SET balance = n WHERE account_id = acct $$",
            "CREATE PROCEDURE bump(acct bigint, n int) LANGUAGE sql AS $$ UPDATE bonus_accounts \
             SET balance = n + balance WHERE account_id = acct $$",
        ],
        pg,
    );
    let (_, f) = analyze("CALL put(100119, 0)", &[], pg, &v);
    assert_eq!(changes(&f), [("100119", 0, true)]);
    let (_, f) = analyze("CALL bump(100119, 30)", &[], pg, &v);
    assert_eq!(changes(&f), [("100119", 30, false)]);
}

proptest::proptest! {
    #[test]
    fn definitions_of_any_text_never_panic(
        head in proptest::sample::select(vec![
            "CREATE FUNCTION f(", "CREATE OR REPLACE PROCEDURE s.p(IN ", "CREATE FUNCTION g() ",
            "CREATE DEFINER=`a`@`%` PROCEDURE q(", "CREATE FUNCTION h(OUT ",
        ]),
        rest in "[a-z$0-9(),=+\\- '`;.]{0,60}",
    ) {
        let text = format!("{head}{rest}");
        for d in [Dialect::Postgres, Dialect::MySql] {
            if let Some(r) = parse(&text, d, &Vocab::default()) {
                let mut v = Vocab::default();
                v.routines.push(r.clone());
                let _ = analyze(&format!("CALL {}(1, 2, 3)", r.name), &[], d, &v);
            }
        }
    }
}

#[test]
fn an_insert_without_a_column_list_is_read_by_the_table_s_columns() {
    let (pg, my) = (Dialect::Postgres, Dialect::MySql);
    let ledger =
        "CREATE TABLE IF NOT EXISTS public.bonus_ledger (\n  id bigserial PRIMARY KEY,\n  \
                  account_id bigint NOT NULL REFERENCES customers(id),\n  points integer,\n  \
                  reason text,\n  CONSTRAINT nz CHECK (points <> 0)\n)";
    let Some(definitions::Definition::Table(t)) =
        definitions::definition(ledger, pg, &Vocab::default())
    else {
        panic!("no table");
    };
    assert_eq!(t.columns, ["id", "account_id", "points", "reason"]);
    let sql = "INSERT INTO bonus_ledger VALUES (DEFAULT, 100119, 500, 'gift')";
    let (_, f) = analyze(sql, &[], pg, &Vocab::default());
    assert!(f.bonus_unnamed && changes(&f).is_empty());
    let mut v = Vocab::default();
    v.tables.push(t);
    let (_, f) = analyze(sql, &[], pg, &v);
    assert_eq!(changes(&f), [("100119", 500, false)]);
    assert!(!f.bonus_unnamed);
    // MySQL's placeholders bind in the order they stand.
    let (_, f) = analyze(
        "INSERT INTO `bonus_ledger` VALUES (NULL, ?, ?, ?)",
        &["100119".into(), "-40".into(), "x".into()],
        my,
        &v,
    );
    assert_eq!(changes(&f), [("100119", -40, false)]);
    // A list of its own, and tables defined from a query, are left as they are.
    let (_, f) = analyze(
        "INSERT INTO bonus_ledger (account_id, points) VALUES (7, 1)",
        &[],
        pg,
        &v,
    );
    assert_eq!(changes(&f), [("7", 1, false)]);
    for sql in [
        "CREATE TABLE t2 AS SELECT * FROM bonus_ledger",
        "CREATE TABLE p1 PARTITION OF bonus_ledger FOR VALUES IN (1)",
    ] {
        assert_eq!(
            definitions::definition(sql, pg, &Vocab::default()),
            None,
            "{sql}"
        );
    }
}
