//! The `breachline` binary: parse arguments, dispatch to a command, map the result to an
//! exit code. Everything else lives in the library.

use std::process::ExitCode;

// Ingestion allocates a few strings per field of millions of records from two threads;
// mimalloc cuts allocator time and fragmentation against glibc malloc (measured in
// bench/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (the enum keeps retired options in place, so
/// the number has held since mimalloc 2.1).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Keeps freed memory in the process instead of returning it to the system 10 ms later.
/// `ingest` frees and allocates the same amounts many times a second (a row group's
/// columns, a block's events): returned pages were faulted and zeroed again by the
/// kernel (1.4 s of system time in a 9 s run of the 1.1 GB benchmark, against 0.8 s
/// kept). Its peak stays bounded by a row group and the blocks in flight.
fn keep_freed_pages() {
    // SAFETY: sets an integer option; mimalloc reads options atomically at each purge.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1) }
}

fn main() -> ExitCode {
    let cli = match <breachline::cli::Cli as clap::Parser>::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitCode::from(breachline::cmd::EXIT_FATAL),
            };
        }
    };
    if matches!(cli.command, breachline::cli::Command::Ingest(_)) {
        keep_freed_pages();
    }
    match breachline::cmd::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            // A closed pipe (`| head`) is not an error.
            let broken = e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>()
                    .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            });
            // serde_json and csv wrap the I/O error in their own types.
            if broken || format!("{e:#}").contains("Broken pipe") {
                return ExitCode::SUCCESS;
            }
            eprintln!(
                "breachline: {}",
                breachline::sanitize::terminal(&format!("{e:#}"))
            );
            ExitCode::from(breachline::cmd::EXIT_FATAL)
        }
    }
}
