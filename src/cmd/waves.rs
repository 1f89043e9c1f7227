//! `breachline waves`: the attack waves as a table or `breachline.waves/1` JSON.

use crate::cli::{WavesArgs, WavesFormat};
use crate::config::Settings;
use crate::report::{json, table};
use std::io::Write;

/// Runs `waves`.
pub fn run(a: &WavesArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let s = Settings::from_args(&a.ev)?;
    let an = super::analyze(&s)?;
    match a.format {
        WavesFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, &json::waves_doc(&an))?;
            writeln!(out)?;
        }
        WavesFormat::Table => writeln!(out, "{}", table::waves_table(&an))?,
    }
    let code = super::analysis_exit(&an);
    Ok(super::leave(an, code))
}
