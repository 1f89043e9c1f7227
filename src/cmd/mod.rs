//! Subcommands, one file each, and the helpers they share: loading evidence (or a case
//! file) with a progress bar, warnings about rejected input, and the exit code.

pub mod affected;
pub mod formats;
pub mod ingest;
pub mod report;
pub mod simulate;
pub mod timeline;
pub mod waves;

use crate::cli::{Cli, Command};
use crate::config::Settings;
use crate::ingest::pipeline::{ingest, Ingested};
use crate::sanitize;
use anyhow::Context;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::Write;

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: fatal error.
pub const EXIT_FATAL: u8 = 1;
/// Exit code: finished, but some evidence was rejected, unreadable or unrecognized.
pub const EXIT_EVIDENCE: u8 = 2;

/// Dispatches a parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<u8> {
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Ingest(a) => ingest::run(&a, &mut out),
        Command::Formats => formats::run(&mut out),
        Command::Simulate(a) => simulate::run(&a, &mut out),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "breachline", &mut out);
            Ok(EXIT_OK)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            Ok(EXIT_OK)
        }
        Command::Waves(a) => waves::run(&a, &mut out),
        Command::Affected(a) => affected::run(&a, &mut out),
        Command::Timeline(a) => timeline::run(&a, &mut out),
        Command::Report(a) => report::run(&a, &mut out),
    }
}

/// Loads evidence: one case file, or parses evidence paths.
pub fn load(s: &Settings) -> anyhow::Result<Ingested> {
    if let Some(p) = case_input(s) {
        return crate::case::load(p).with_context(|| format!("reading case file {}", p.display()));
    }
    parse(s, |pb| ingest(&s.evidence, &s.ingest, pb))
}

/// Loads evidence a block at a time: each block's events go to `sink` and are dropped
/// (a case file given as evidence is read whole and handed over at once). The result
/// has the inventory and rejections, no events.
pub fn stream(
    s: &Settings,
    sink: &mut (dyn FnMut(Vec<Box<crate::model::Event>>) -> Result<(), crate::error::Error> + Send),
) -> anyhow::Result<Ingested> {
    if let Some(p) = case_input(s) {
        let mut ing =
            crate::case::load(p).with_context(|| format!("reading case file {}", p.display()))?;
        sink(std::mem::take(&mut ing.events))?;
        return Ok(ing);
    }
    parse(s, |pb| {
        crate::ingest::pipeline::stream(&s.evidence, &s.ingest, pb, sink)
    })
}

fn case_input(s: &Settings) -> Option<&std::path::Path> {
    (s.evidence.len() == 1 && crate::case::is_case(&s.evidence[0]))
        .then(|| std::path::Path::new(&s.evidence[0]))
}

/// Runs a parse with the progress bar, then writes the reject log and the warnings.
fn parse(
    s: &Settings,
    run: impl FnOnce(&ProgressBar) -> Result<Ingested, crate::error::Error>,
) -> anyhow::Result<Ingested> {
    let pb = if s.progress {
        let pb = ProgressBar::new(0);
        pb.set_style(
            ProgressStyle::with_template(
                "{spinner} {bytes}/{total_bytes} {bar:30} {binary_bytes_per_sec} eta {eta}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        pb
    } else {
        ProgressBar::hidden()
    };
    let ing = run(&pb)?;
    pb.finish_and_clear();
    if let Some(p) = &s.reject_log {
        write_reject_log(&ing, p).with_context(|| format!("writing {}", p.display()))?;
    }
    if !s.quiet {
        warn(&ing);
        if !s.ingest.parse.assume_tz_given {
            warn_zone_less(&ing);
        }
    }
    Ok(ing)
}

fn write_reject_log(ing: &Ingested, p: &std::path::Path) -> anyhow::Result<()> {
    let mut w = csv::Writer::from_path(p)?;
    w.write_record(["file", "line", "reason"])?;
    for r in &ing.rejections {
        w.write_record([
            sanitize::csv_cell(&r.path),
            r.line.to_string(),
            sanitize::csv_cell(&r.reason),
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Prints file problems and the first rejected records to stderr.
pub fn warn(ing: &Ingested) {
    let mut e = std::io::stderr().lock();
    for f in &ing.files {
        if let Some(d) = &f.detail {
            let _ = writeln!(
                e,
                "breachline: {}: note: {}",
                sanitize::terminal(&f.path),
                sanitize::terminal(d)
            );
        }
        if let Some(err) = &f.error {
            let _ = writeln!(
                e,
                "breachline: {}: {}",
                sanitize::terminal(&f.path),
                sanitize::terminal(err)
            );
        }
    }
    for r in ing.rejections.iter().take(5) {
        let _ = writeln!(
            e,
            "breachline: rejected {}:{}: {}",
            sanitize::terminal(&r.path),
            r.line,
            sanitize::terminal(&r.reason)
        );
    }
    if ing.rejections.len() > 5 {
        let _ = writeln!(
            e,
            "breachline: … {} rejected records in all (--reject-log FILE lists them)",
            ing.rejections.len()
        );
    }
}

/// Says which files' times carried no zone and were read as UTC because no
/// `--assume-tz` was given: a server on local time is then off by its offset until the
/// clock comparison corrects it, and the responder should name the zone.
fn warn_zone_less(ing: &Ingested) {
    let zone_less: Vec<&crate::model::FileInfo> =
        ing.files.iter().filter(|f| f.tz_assumed > 0).collect();
    let Some(first) = zone_less.first() else {
        return;
    };
    let events: u64 = zone_less.iter().map(|f| f.tz_assumed).sum();
    let more = match zone_less.len() {
        1 => String::new(),
        n => format!(" and {} other file{}", n - 1, if n == 2 { "" } else { "s" }),
    };
    let _ = writeln!(
        std::io::stderr().lock(),
        "breachline: {events} events of {}{more} carry no time zone and were read as UTC; \
         pass --assume-tz ZONE (e.g. Europe/Kyiv) with the server's zone",
        sanitize::terminal(&first.path)
    );
}

/// The exit code an ingest result deserves.
pub fn exit_code(ing: &Ingested) -> u8 {
    if ing.rejections.is_empty() && ing.files.iter().all(|f| f.error.is_none()) {
        EXIT_OK
    } else {
        EXIT_EVIDENCE
    }
}

/// Loads evidence, the roster, and correlates.
pub fn analyze(s: &Settings) -> anyhow::Result<crate::correlate::Analysis> {
    let ing = load(s)?;
    let roster = match &s.roster {
        Some(p) => {
            let r = crate::roster::Roster::load(p)
                .with_context(|| format!("reading roster {}", p.display()))?;
            if !s.quiet {
                for rj in r.rejected.iter().take(5) {
                    eprintln!(
                        "breachline: roster {}:{}: {}",
                        sanitize::terminal(&rj.path),
                        rj.line,
                        sanitize::terminal(&rj.reason)
                    );
                }
                if r.not_utf8 {
                    eprintln!(
                        "breachline: roster {} is not UTF-8 (a Windows code page?): its names \
                         and contacts outside ASCII are damaged; save it as CSV UTF-8",
                        sanitize::terminal(&p.display().to_string())
                    );
                }
            }
            Some(r)
        }
        None => None,
    };
    let opts = crate::correlate::Options {
        profile: s.profile.clone(),
        wave_gap: s.wave_gap,
        schema: s.schema.clone(),
    };
    Ok(crate::correlate::analyze(ing, roster, &opts))
}

/// Ends a command that holds the run's events: returns its exit code and leaves the
/// events to the operating system. Freeing millions of boxed events and their strings
/// one by one took about a second at 2.5 million events (perf: `drop_in_place<Event>`
/// and the allocator's frees); the process exit reclaims them at once.
pub fn leave<T>(data: T, code: u8) -> u8 {
    std::mem::forget(data);
    code
}

/// The exit code of an analysis (evidence problems include roster rows).
pub fn analysis_exit(a: &crate::correlate::Analysis) -> u8 {
    let roster_bad = a.roster.as_ref().is_some_and(|r| !r.rejected.is_empty());
    if roster_bad {
        EXIT_EVIDENCE
    } else {
        exit_code(&a.ing)
    }
}
