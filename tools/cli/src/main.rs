//! The `eventbank` binary: everything is in the library ([`eventbank_cli`]).

fn main() -> std::process::ExitCode {
    eventbank_cli::main()
}
