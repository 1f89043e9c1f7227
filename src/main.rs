//! The `breachline` binary: parse arguments, dispatch to a command, map the result to an
//! exit code. Everything else lives in the library.

use std::process::ExitCode;

// Ingestion allocates a few strings per field of millions of records from two threads;
// mimalloc cuts allocator time and fragmentation against glibc malloc (measured in
// bench/RESULTS.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

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
