//! Runs a parsed command line: builds the [`Ctx`] (client, output mode,
//! idempotency key) and dispatches to the subcommand's module. Every command
//! returns the exit code of a success (0, or 1 when a check it ran failed)
//! or a [`CliError`].

pub mod account;
pub mod audit;
pub mod ops;
pub mod query;
pub mod transfer;

use clap::CommandFactory;

use crate::cli::{AccountCommand, Cli, Command, TransferSubcommand};
use crate::client::{self, Client};
use crate::config;
use crate::exit::{self, CliError};
use crate::output::Output;

/// What every command needs.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub client: Client,
    pub out: Output,
    /// `--idempotency-key`, if given.
    pub key: Option<String>,
}

impl Ctx {
    /// The key for this invocation's write: the one given, else a new one.
    pub fn key(&self) -> String {
        self.key.clone().unwrap_or_else(client::new_key)
    }
}

/// Loads the configuration and runs `cli`.
pub async fn run(cli: Cli) -> Result<u8, CliError> {
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "eventbank",
            &mut std::io::stdout(),
        );
        return Ok(exit::SUCCESS);
    }
    let config = config::load(cli.global.config.as_deref(), &cli.global.overrides())?;
    let ctx = Ctx {
        client: Client::new(config)?,
        out: Output {
            json: cli.global.json,
        },
        key: cli.global.idempotency_key.clone(),
    };
    match cli.command {
        Command::Shell => crate::shell::run(&ctx).await,
        Command::Load(args) => crate::load::cli::run(&ctx, &args).await,
        Command::Demo(args) => crate::demo::run(&ctx, &args).await,
        command => dispatch(&ctx, command).await,
    }
}

/// The commands the shell may run too (not `shell`, `load`, `demo`).
pub async fn dispatch(ctx: &Ctx, command: Command) -> Result<u8, CliError> {
    match command {
        Command::Account(AccountCommand::Open { holder, currency }) => {
            account::open(ctx, &holder, &currency).await
        }
        Command::Account(AccountCommand::Show {
            account,
            min_version,
        }) => account::show(ctx, &account, min_version).await,
        Command::Account(AccountCommand::Close { account }) => account::close(ctx, &account).await,
        Command::Deposit(args) => account::deposit(ctx, &args.account, args.amount).await,
        Command::Withdraw(args) => account::withdraw(ctx, &args.account, args.amount).await,
        Command::Transfer(args) => match args.show {
            Some(TransferSubcommand::Show { transfer, wait }) => {
                transfer::show(ctx, &transfer, wait).await
            }
            None => match (args.from, args.to, args.amount) {
                (Some(from), Some(to), Some(amount)) => {
                    transfer::create(ctx, &from, &to, amount, args.wait).await
                }
                _ => Err(CliError::Usage(
                    "transfer needs FROM TO AMOUNT, or `transfer show ID`".to_owned(),
                )),
            },
        },
        Command::History(args) => query::history(ctx, &args).await,
        Command::Accounts(args) => query::accounts(ctx, &args).await,
        Command::Audit(command) => audit::run(ctx, command).await,
        Command::Status => ops::status(ctx).await,
        Command::Topics => ops::topics(ctx).await,
        Command::Shell | Command::Load(_) | Command::Demo(_) | Command::Completions { .. } => {
            Err(CliError::Usage(
                "shell, load, demo and completions cannot run inside the shell".to_owned(),
            ))
        }
    }
}

/// Rejects an id that is not a UUID before any request, naming the argument.
pub fn uuid_arg(what: &str, value: &str) -> Result<String, CliError> {
    uuid::Uuid::parse_str(value.trim())
        .map(|id| id.to_string())
        .map_err(|_| CliError::Usage(format!("{what} must be a UUID, got {value:?}")))
}
