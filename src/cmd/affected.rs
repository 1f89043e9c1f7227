//! `breachline affected`: the CSV deliverables — affected customers, bonus corrections,
//! message verdicts, indicators, the evidence behind every row and the devices each
//! malicious message reached.

use crate::cli::AffectedArgs;
use crate::config::Settings;
use crate::report::csv::{write_all, CsvOpts};
use anyhow::Context;
use std::io::Write;

/// Runs `affected`.
pub fn run(a: &AffectedArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let s = Settings::from_args(&a.ev)?;
    let an = super::analyze(&s)?;
    let files = write_all(
        &an,
        &a.out_dir,
        CsvOpts {
            mask_pii: a.mask_pii,
            excel: a.excel,
        },
    )
    .with_context(|| format!("writing {}", a.out_dir.display()))?;
    summary(&an, out)?;
    for f in files {
        writeln!(out, "wrote {}", f.display())?;
    }
    let code = super::analysis_exit(&an);
    Ok(super::leave(an, code))
}

/// A short summary of the blast radius on stdout.
pub fn summary(an: &crate::correlate::Analysis, out: &mut dyn Write) -> std::io::Result<()> {
    use crate::correlate::impact_kind as k;
    let count = |kind: &str| {
        an.affected
            .values()
            .filter(|x| x.impacts.contains(kind))
            .count()
    };
    let moved: i64 = an
        .affected
        .values()
        .filter_map(|x| x.bonus_points())
        .map(i64::abs)
        .sum();
    let mal = an.messages.iter().filter(|m| m.malicious).count();
    let events: u64 = an.ing.files.iter().map(|f| f.events).sum();
    let rejected: u64 = an.ing.files.iter().map(|f| f.rejected).sum();
    writeln!(
        out,
        "{} waves; {} affected accounts ({} bonus_tampered, {} points moved; {} data_exposed; {} malicious_push); {} of {} messages malicious; evidence: {} files, {events} events, {rejected} rejected",
        an.waves.len(),
        an.affected.len(),
        count(k::BONUS),
        moved,
        count(k::DATA),
        count(k::PUSH),
        mal,
        an.messages.len(),
        an.ing.files.len()
    )
}
