//! Attacks among customers, against truth.json: a customer's checkout on the connection
//! the attacker's request just used, a customer's mistyped password at the address a
//! stuffing run later comes from, a customer's sign-in at the address a session replay
//! uses. Each incident is one the accuracy sweep (`bench/accuracy.py`) found wrong.

use crate::analysis::{equals_truth, first_wave_techniques};

#[test]
fn a_customer_checkout_on_the_attacker_s_pooled_connection_is_the_customer_s() {
    // Envoy names accounts only in paths; the customer's checkout names none. The DB
    // logs whole seconds, the SQL carries no request ids, and the application ran the
    // checkout's statements on the connection the attacker's promotion code had used
    // in the same second: its points are the customer's purchase, not bonus fraud.
    equals_truth(
        [
            "envoy",
            "percona-audit-json,mysql-audit-json",
            "sns-delivery",
        ],
        &[
            "--seed",
            "38058",
            "--server-tz",
            "Europe/London",
            "--db-skew",
            "-1800s",
            "--wave1",
            "idor",
            "--wave2",
            "injection",
            "--attack-at",
            "17:08:11,17:23:11",
            "--proxy-pool",
            "10",
            "--other-names",
            "--untagged-sql",
            "--start",
            "2024-02-27",
        ],
        false,
    );
}

#[test]
fn a_customer_s_mistyped_password_an_hour_before_a_burst_is_not_its_start() {
    // A carrier's exit the attacker also uses: a customer failed to sign in twice there
    // 52 minutes before the stuffing run began, then signed in. The run fails every few
    // seconds; a pause of nearly an hour is not part of it.
    equals_truth(
        ["apigw-clf", "mysql-audit-json", "onesignal"],
        &[
            "--seed",
            "37085",
            "--server-tz",
            "Europe/Kyiv",
            "--db-skew",
            "2442s",
            "--wave1",
            "stuffing",
            "--wave2",
            "direct",
            "--attack-at",
            "05:53:08,12:33:08",
            "--shared-address",
            "20",
            "--random-names",
            "755",
        ],
        false,
    );
}

#[test]
fn a_customer_s_sign_in_under_the_app_s_agent_opens_one_session_not_a_replay() {
    // Envoy logs agents but no identity; the replay sends the Android app's agent from
    // addresses customers share. A customer's phone signing in there under that agent
    // opened the customer's own session, not the accounts replayed in the next hour.
    let techniques = first_wave_techniques(
        ["envoy", "pg-jsonlog", "fcm-bigquery-json"],
        &[
            "--seed",
            "37015",
            "--server-tz",
            "America/Los_Angeles",
            "--db-skew",
            "4131s",
            "--wave1",
            "hijack",
            "--wave2",
            "direct",
            "--attack-at",
            "17:39:26,18:19:26",
            "--shared-address",
            "20",
            "--start",
            "2024-02-27",
        ],
    );
    assert!(
        techniques.iter().any(|t| t == "session_hijack"),
        "{techniques:?}"
    );
}
