//! Fuzz target: the whole pipeline (framing, envelopes, detection, parsing, accounting)
//! on an arbitrary file; the accounting identity must hold.
#![no_main]
use breachline::ingest::pipeline::{ingest, IngestOpts};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = std::env::temp_dir().join(format!("bl-fuzz-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let p = dir.join("input.log");
    if std::fs::write(&p, data).is_err() {
        return;
    }
    let ing = ingest(&[p.display().to_string()], &IngestOpts::default(), &indicatif::ProgressBar::hidden());
    if let Ok(ing) = ing {
        for f in &ing.files {
            assert_eq!(f.records, f.events + f.duplicates + f.rejected + f.skipped);
        }
    }
});
