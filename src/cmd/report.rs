//! `breachline report`: report.md, report.html and report.json for management, regulators
//! and the notification team, plus the files of `affected` beside them.

use crate::cli::ReportArgs;
use crate::config::Settings;
use crate::report::csv::{write_all, CsvOpts};
use crate::report::{charts, doc, html, md};
use anyhow::Context;
use std::io::Write;

/// Runs `report`.
pub fn run(a: &ReportArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let s = Settings::from_args(&a.ev)?;
    if let Some(g) = &a.generated_at {
        crate::timeparse::parse_bound(g)
            .with_context(|| format!("--generated-at: cannot parse {g:?}"))?;
    }
    let an = super::analyze(&s)?;
    let dir = &a.out_dir;
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    write_all(
        &an,
        dir,
        CsvOpts {
            mask_pii: a.mask_pii,
            excel: a.excel,
        },
    )
    .with_context(|| format!("writing {}", dir.display()))?;
    let d = doc::build(&an, &a.title, a.generated_at.clone());
    let per_target: Vec<Vec<(&'static str, usize)>> = an
        .waves
        .iter()
        .map(|w| w.per_target.iter().map(|(k, v)| (*k, *v)).collect())
        .collect();
    let write = |name: &str, body: &[u8]| {
        std::fs::write(dir.join(name), body)
            .with_context(|| format!("writing {}", dir.join(name).display()))
    };
    write("report.md", md::render(&d).as_bytes())?;
    write(
        "report.html",
        html::render(
            &d,
            &charts::activity(&d),
            &charts::per_wave(&d, &per_target),
        )
        .as_bytes(),
    )?;
    write(
        "report.json",
        (serde_json::to_string_pretty(&d)? + "\n").as_bytes(),
    )?;
    super::affected::summary(&an, out)?;
    writeln!(
        out,
        "wrote {}/report.md, report.html, report.json and the affected CSV files",
        dir.display()
    )?;
    let code = super::analysis_exit(&an);
    Ok(super::leave(an, code))
}
