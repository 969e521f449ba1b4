//! `eventbank`, the command-line client of the bank's public HTTP APIs (it
//! never talks to Kafka). A library with a thin `main`, so tests and tools
//! reuse its parts:
//!
//! * [`cli`] — the command line (clap), [`config`] — service URLs and token
//!   from defaults, a TOML file, `EVENTBANK_*` and flags;
//! * [`client`] — the HTTP client: idempotency keys, retries with the same
//!   key, 202 followed to its outcome, errors classified by [`exit`];
//! * [`output`] — tables for people, `--json` for scripts;
//! * [`commands`] — one module per subcommand group;
//! * [`shell`] — the interactive prompt and the seed's `create###Ann` syntax;
//! * [`load`] — the load engine, the bank workload, the client-side
//!   [`load::ledger`] of acknowledged commands and the invariant checks of
//!   [`load::verify`];
//! * [`demo`] — a narrated first session.

pub mod cli;
pub mod client;
pub mod commands;
pub mod config;
pub mod demo;
pub mod exit;
pub mod load;
pub mod output;
pub mod shell;

use std::process::ExitCode;

use clap::Parser;

/// The whole of the binary: parse, run, print the error as one sentence,
/// exit with its code.
pub fn main() -> ExitCode {
    let cli = match cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout (exit 0) and usage errors to
            // stderr (exit 2).
            let _ = err.print();
            return ExitCode::from(u8::try_from(err.exit_code()).unwrap_or(exit::USAGE));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}.");
            return ExitCode::from(exit::FAILURE);
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
