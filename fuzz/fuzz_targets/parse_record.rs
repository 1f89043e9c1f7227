//! Fuzz target: every parser on one arbitrary record (first byte picks the parser).
#![no_main]
use breachline::ingest::{registry, FileCtx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&k, rest)) = data.split_first() else { return };
    let p = registry()[k as usize % registry().len()];
    let text = String::from_utf8_lossy(rest);
    let ctx = FileCtx::default();
    let _ = p.parse(&text, &ctx);
});
