//! `breachline simulate`: writes a simulated incident for rehearsal, tests and benchmarks.

use crate::cli::SimulateArgs;
use crate::simulate::{run as sim, SimOpts, DB_FORMATS, GATEWAY_FORMATS, PUSH_FORMATS};
use crate::timeparse::{parse_bound, parse_duration_us};
use anyhow::{bail, Context};
use std::io::Write;

fn pick(flag: &str, v: &str, all: &[&str]) -> anyhow::Result<Vec<String>> {
    if v == "all" {
        return Ok(all.iter().map(|s| s.to_string()).collect());
    }
    let mut out = Vec::new();
    for f in v.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        if !all.contains(&f) {
            bail!("{flag}: unknown format {f:?}; one of {}", all.join(", "));
        }
        out.push(f.to_string());
    }
    if out.is_empty() {
        bail!("{flag}: no format given");
    }
    Ok(out)
}

/// Runs `simulate`.
pub fn run(a: &SimulateArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    if !(a.scale > 0.0 && a.scale.is_finite()) {
        bail!("--scale must be a positive number");
    }
    let start = parse_bound(&a.start).context("--start: not a date")?;
    let start = start - start.rem_euclid(86_400_000_000);
    let o = SimOpts {
        out_dir: a.out_dir.clone(),
        seed: a.seed,
        scale: a.scale,
        gateway: pick("--gateway", &a.gateway, GATEWAY_FORMATS)?,
        db: pick("--db", &a.db, DB_FORMATS)?,
        push: pick("--push", &a.push, PUSH_FORMATS)?,
        start,
        db_skew: parse_duration_us(&a.db_skew).context("--db-skew: not a duration")?,
        push_skew: parse_duration_us(&a.push_skew).context("--push-skew: not a duration")?,
        gateway_skew: parse_duration_us(&a.gateway_skew)
            .context("--gateway-skew: not a duration")?,
        tz: a
            .server_tz
            .parse()
            .map_err(|_| anyhow::anyhow!("--server-tz: not an IANA zone name: {}", a.server_tz))?,
        untagged_sql: a.untagged_sql,
        dialect: a.other_names,
        random_names: a.random_names,
        db_syslog: a.db_via_syslog,
        proxy_pool: a.proxy_pool,
        compensation: a.compensation,
        noise: a.noise,
        shared_address: a.shared_address,
        idor: a.wave1 == "idor",
        hijack: a.wave1 == "hijack",
        injection: a.wave2 == "injection",
        direct: a.wave2 == "direct",
        attack_at: a
            .attack_at
            .as_deref()
            .map(parse_attack_at)
            .transpose()
            .context("--attack-at: expected two times of day, as 03:05,09:41")?,
    };
    let t0 = std::time::Instant::now();
    let s = sim(&o).with_context(|| format!("writing {}", a.out_dir.display()))?;
    let secs = t0.elapsed().as_secs_f64();
    let lines: u64 = s.files.iter().map(|f| f.lines).sum();
    writeln!(
        out,
        "wrote {} files, {lines} lines, {:.1} MB to {} ({:.0} MB/s); answers in truth.json",
        s.files.len(),
        s.bytes as f64 / 1e6,
        a.out_dir.display(),
        s.bytes as f64 / 1e6 / secs.max(1e-9)
    )?;
    Ok(super::EXIT_OK)
}

/// `HH:MM[:SS],HH:MM[:SS]` as µs after midnight, each within the day.
fn parse_attack_at(s: &str) -> anyhow::Result<(i64, i64)> {
    let one = |t: &str| -> anyhow::Result<i64> {
        let t = chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M:%S")
            .or_else(|_| chrono::NaiveTime::parse_from_str(t.trim(), "%H:%M"))?;
        use chrono::Timelike;
        Ok(i64::from(t.num_seconds_from_midnight()) * 1_000_000)
    };
    let (a, b) = s
        .split_once(',')
        .ok_or_else(|| anyhow::anyhow!("two times, comma-separated"))?;
    Ok((one(a)?, one(b)?))
}
