//! The command line: global options (service URLs, token, `--json`,
//! `--idempotency-key`) and every subcommand, with clap's derive API so the
//! parser, `--help` and the shell completions come from one definition.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::config::Overrides;

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  a check found a problem (audit verify/reconcile, load --verify, status) or a local failure
  2  usage error (bad arguments or config, or a request a service refused as malformed: HTTP 400)
  3  rejected by the bank (e.g. insufficient_funds, account_not_found, idempotency_key_reused)
  4  a service is unreachable, failed (HTTP 5xx) or did not answer in time

Configuration (later wins): defaults (127.0.0.1:8080-8083), the TOML file
(--config, else $XDG_CONFIG_HOME/eventbank/cli.toml), EVENTBANK_ACCOUNT_COMMAND_URL,
EVENTBANK_BALANCE_PROJECTOR_URL, EVENTBANK_TRANSFER_SAGA_URL, EVENTBANK_AUDIT_LOG_URL,
EVENTBANK_TOKEN, EVENTBANK_TIMEOUT_SECS, then flags.";

/// eventbank's command-line client: accounts, money, transfers, history,
/// audit and operations over the services' public HTTP APIs.
#[derive(Debug, Parser)]
#[command(name = "eventbank", version, after_long_help = EXIT_CODES, after_help = "Exit codes: 0 ok, 1 check failed, 2 usage, 3 rejected by the bank, 4 service unavailable (--help for more).")]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Args)]
pub struct Global {
    /// Print one JSON document instead of tables (fields: docs/CLI.md).
    #[arg(long, global = true)]
    pub json: bool,
    /// Idempotency key of the write this invocation makes (default: a new
    /// UUID). Run again with the same key and the bank applies it once.
    #[arg(long, global = true, value_name = "KEY")]
    pub idempotency_key: Option<String>,
    /// Config file (TOML).
    #[arg(long, global = true, env = "EVENTBANK_CLI_CONFIG", value_name = "PATH")]
    pub config: Option<PathBuf>,
    #[arg(long, global = true, value_name = "URL")]
    pub account_command_url: Option<String>,
    #[arg(long, global = true, value_name = "URL")]
    pub balance_projector_url: Option<String>,
    #[arg(long, global = true, value_name = "URL")]
    pub transfer_saga_url: Option<String>,
    #[arg(long, global = true, value_name = "URL")]
    pub audit_log_url: Option<String>,
    /// Bearer token sent on every request.
    #[arg(long, global = true, value_name = "TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// Seconds one command may take, retries included.
    #[arg(long, global = true, value_name = "SECS")]
    pub timeout: Option<u64>,
}

impl Global {
    pub fn overrides(&self) -> Overrides {
        Overrides {
            account_command_url: self.account_command_url.clone(),
            balance_projector_url: self.balance_projector_url.clone(),
            transfer_saga_url: self.transfer_saga_url.clone(),
            audit_log_url: self.audit_log_url.clone(),
            token: self.token.clone(),
            timeout_secs: self.timeout,
        }
    }
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Open, show or close an account.
    #[command(subcommand)]
    Account(AccountCommand),
    /// Put money into an account (amount in minor units, e.g. cents).
    Deposit(MoneyArgs),
    /// Take money out of an account (amount in minor units).
    Withdraw(MoneyArgs),
    /// Move money between two accounts, or show a transfer.
    Transfer(TransferArgs),
    /// An account's transactions, newest first, a page at a time.
    History(HistoryArgs),
    /// The cross-account query: accounts by balance and status.
    Accounts(AccountsArgs),
    /// The tamper-evident audit trail.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Health, readiness and lag of every service in one table.
    Status,
    /// The system's Kafka topics and their layout (from the services).
    Topics,
    /// An interactive prompt; also reads commands from stdin.
    Shell,
    /// Generate load, summarise it and optionally verify the invariants.
    Load(crate::load::cli::LoadArgs),
    /// A narrated first session: accounts, money, a refunded transfer, audit.
    Demo(DemoArgs),
    /// Print a completion script (bash, zsh, fish, ...).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum AccountCommand {
    /// Open an account for HOLDER.
    Open {
        holder: String,
        /// ISO-4217 currency.
        #[arg(long, default_value = "EUR")]
        currency: String,
    },
    /// Show an account as the read model has it.
    Show {
        account: String,
        /// Wait (bounded) until the view has reached this version.
        #[arg(long)]
        min_version: Option<u64>,
    },
    /// Close an empty account.
    Close { account: String },
}

#[derive(Debug, Clone, Args)]
pub struct MoneyArgs {
    pub account: String,
    /// Minor units (cents), at least 1.
    #[arg(value_parser = clap::value_parser!(i64).range(1..))]
    pub amount: i64,
}

#[derive(Debug, Clone, Args)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct TransferArgs {
    #[command(subcommand)]
    pub show: Option<TransferSubcommand>,
    #[arg(required = true)]
    pub from: Option<String>,
    #[arg(required = true)]
    pub to: Option<String>,
    /// Minor units (cents), at least 1.
    #[arg(required = true, value_parser = clap::value_parser!(i64).range(1..))]
    pub amount: Option<i64>,
    /// Wait until the transfer is completed or failed.
    #[arg(long)]
    pub wait: bool,
}

#[derive(Debug, Clone, Subcommand)]
pub enum TransferSubcommand {
    /// Show a transfer's status.
    Show {
        transfer: String,
        /// Wait until it is completed or failed.
        #[arg(long)]
        wait: bool,
    },
}

#[derive(Debug, Clone, Args)]
pub struct HistoryArgs {
    pub account: String,
    /// Entries per page (1-1000).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
    /// Only entries older than this sequence number (the previous page's `next_before`).
    #[arg(long)]
    pub before: Option<u64>,
    /// Follow every page to the first entry.
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Args)]
pub struct AccountsArgs {
    /// Only accounts holding at least this much.
    #[arg(long, allow_negative_numbers = true)]
    pub min_balance: Option<i64>,
    #[arg(long, value_enum)]
    pub status: Option<AccountStatus>,
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub limit: u32,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AccountStatus {
    Open,
    Closed,
}

#[derive(Debug, Clone, Subcommand)]
pub enum AuditCommand {
    /// Recorded events of an account or transfer, with their hashes.
    Show {
        stream: String,
        /// Only records after this audit position.
        #[arg(long)]
        after: Option<u64>,
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..=1000))]
        limit: u32,
    },
    /// Recompute the hash chains (all, or one stream).
    Verify {
        #[arg(long)]
        stream: Option<String>,
    },
    /// Balances recomputed from events against the recorded ones.
    Reconcile {
        /// Most mismatches to list.
        #[arg(long)]
        limit: Option<u32>,
    },
    /// A stream's whole trail for an auditor, to stdout or a file.
    Export {
        stream: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// Write here instead of stdout.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Jsonl,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Currency of the demo's accounts.
    #[arg(long, default_value = "EUR")]
    pub currency: String,
}
