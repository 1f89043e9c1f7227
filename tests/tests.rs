//! The one integration-test binary: runs the real `breachline` binary on `sample-logs/`
//! and on evidence made in temporary directories.

// Helpers: a command rooted at the repo, truth.json, CSV readers.
mod util;

// Command line: help, formats, exit codes, bad input never panics.
mod cli;
// Ingestion: accounting against truth.json, gzip, stdin, case files, broken input.
mod ingest;
// Waves, affected files and messages against truth.json, across format combinations.
mod analysis;
// Attacks among customers: shared addresses, pooled connections, a customer's own
// mistakes next to the attacker's, against truth.json.
mod crowds;
// Reports and timelines: snapshots, hostile content, determinism, agreement of formats.
mod output;
// Detectors on hand-made evidence: a positive case and a legitimate look-alike each.
mod detectors;
// Property tests: parsers never panic; accounting always adds up.
mod props;
