//! `breachline ingest`: parse evidence once into a case file and print the inventory.

use crate::cli::IngestArgs;
use crate::config::Settings;
use crate::report::table::inventory_table;
use anyhow::Context;
use std::io::Write;

/// Runs `ingest`.
pub fn run(a: &IngestArgs, out: &mut dyn Write) -> anyhow::Result<u8> {
    let mut ev = a.ev.clone();
    if a.format.is_some() {
        ev.input_format = a.format.clone();
    }
    let s = Settings::from_args(&ev)?;
    // Events go to the case file block by block as they are parsed, and are not kept.
    let ing = match &a.output {
        Some(p) => {
            let mut w = crate::case::Writer::create(p)
                .with_context(|| format!("writing {}", p.display()))?;
            let ing = super::stream(&s, &mut |ev| w.push(ev))?;
            w.finish(&ing.files, &ing.rejections)
                .with_context(|| format!("writing {}", p.display()))?;
            ing
        }
        None => super::stream(&s, &mut |_| Ok(()))?,
    };
    writeln!(out, "{}", inventory_table(&ing.files))?;
    let total: u64 = ing.files.iter().map(|f| f.events).sum();
    let rej: u64 = ing.files.iter().map(|f| f.rejected).sum();
    let dup: u64 = ing.files.iter().map(|f| f.duplicates).sum();
    let skip: u64 = ing.files.iter().map(|f| f.skipped).sum();
    writeln!(
        out,
        "{} files, {total} events, {dup} duplicates, {rej} rejected, {skip} skipped",
        ing.files.len()
    )?;
    let code = super::exit_code(&ing);
    Ok(super::leave(ing, code))
}
