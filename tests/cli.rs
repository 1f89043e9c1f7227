use crate::util::bl;
use predicates::str::contains;

#[test]
fn help_lists_commands_and_exit_codes() {
    bl().arg("--help")
        .assert()
        .success()
        .stdout(contains("timeline"))
        .stdout(contains("Exit codes"));
}

#[test]
fn formats_lists_every_parser() {
    let out = bl()
        .arg("formats")
        .assert()
        .success()
        .get_output()
        .stdout
        .clone();
    let s = String::from_utf8(out).unwrap();
    for p in breachline::ingest::registry() {
        assert!(s.contains(p.name()), "{} missing", p.name());
    }
}

#[test]
fn usage_errors_exit_1_without_panic() {
    bl().args(["timeline"]).assert().code(1);
    bl().args(["waves", "sample-logs", "--assume-tz", "Mars/Olympus"])
        .assert()
        .code(1)
        .stderr(contains("--assume-tz"));
    bl().args(["waves", "sample-logs", "--input-format", "nope"])
        .assert()
        .code(1)
        .stderr(contains("unknown format"));
    // A profile or a schema dump that is not there: named once, with the reason once.
    for flag in ["--profile", "--schema"] {
        let out = bl()
            .args(["waves", "sample-logs", flag, "no/such/file"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("cannot read no/such/file: "), "{err}");
        assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    }
}

#[test]
fn completions_and_man_page() {
    bl().args(["completions", "bash"])
        .assert()
        .success()
        .stdout(contains("breachline"));
    bl().arg("man").assert().success().stdout(contains(".TH"));
}
