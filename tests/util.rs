use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The binary, run from the repository root with a fixed zone and no colours.
pub fn bl() -> Command {
    let mut c = Command::cargo_bin("breachline").expect("binary built");
    c.current_dir(root())
        .env("TZ", "UTC")
        .env("NO_COLOR", "1")
        .env("COLUMNS", "200");
    c
}

/// A temporary directory under Cargo's `CARGO_TARGET_TMPDIR`, on the disk that holds the
/// build, not under `/tmp`: CI machines have given `/tmp` too little room for the
/// evidence these tests make and ingest (`No space left on device`).
pub fn tmp() -> std::io::Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix("bl-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
}

pub fn truth(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("truth.json")).expect("truth.json"))
        .expect("json")
}

pub fn csv_rows(p: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(p).expect("csv");
    let h: Vec<String> = r
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    r.records()
        .map(|x| {
            let x = x.expect("row");
            assert_eq!(x.len(), h.len(), "row width in {}", p.display());
            h.iter()
                .cloned()
                .zip(x.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

pub fn simulate(dir: &Path, gateway: &str, db: &str, push: &str) {
    simulate_with(dir, [gateway, db, push], &[]);
}

/// Simulates with gateway, DB and push formats and extra `simulate` options.
pub fn simulate_with(dir: &Path, [gateway, db, push]: [&str; 3], extra: &[&str]) {
    bl().args(["simulate", "--out-dir"])
        .arg(dir)
        .args(["--gateway", gateway, "--db", db, "--push", push])
        .args(extra)
        .assert()
        .success();
}

/// Runs a command that must finish (exit 0, or 2 when evidence had rejected records).
pub fn ran(c: &mut Command) {
    let o = c.output().expect("runs");
    assert!(
        matches!(o.status.code(), Some(0 | 2)),
        "exit {:?}: {}",
        o.status.code(),
        String::from_utf8_lossy(&o.stderr)
    );
}
