//! `eventbank shell`: a prompt (`-> `) with line editing and history
//! (rustyline) on a terminal, or one command per line from stdin otherwise.
//! Lines are the seed's `create###Ann` forms or any subcommand line (see
//! [`parse`]). A failing line prints its error and the shell goes on; at the
//! end the shell exits with the last failing line's code (0 if none failed).

pub mod parse;

use std::io::{BufRead, IsTerminal};

use clap::Parser;
use serde_json::json;

use crate::cli::Cli;
use crate::client::new_key;
use crate::commands::{self, Ctx, account, transfer};
use crate::exit::{CliError, SUCCESS};
use parse::{AccountRef, Line, SEED_FORMS};

const PROMPT: &str = "-> ";

/// A session: the accounts it opened (for `$N`) and its worst outcome.
#[derive(Debug, Default)]
pub struct Session {
    pub opened: Vec<String>,
    pub exit: u8,
}

pub async fn run(ctx: &Ctx) -> Result<u8, CliError> {
    let mut session = Session::default();
    if std::io::stdin().is_terminal() {
        interactive(ctx, &mut session).await?;
    } else {
        for line in std::io::stdin().lock().lines() {
            let line = line.map_err(|err| CliError::Other(format!("cannot read stdin: {err}")))?;
            if !session.line(ctx, &line).await {
                break;
            }
        }
    }
    Ok(session.exit)
}

async fn interactive(ctx: &Ctx, session: &mut Session) -> Result<(), CliError> {
    let mut editor = rustyline::DefaultEditor::new()
        .map_err(|err| CliError::Other(format!("cannot start the line editor: {err}")))?;
    let history = history_file();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    println!("eventbank shell: `help` for the forms, `exit` or Ctrl-D to leave.");
    loop {
        match editor.readline(PROMPT) {
            Ok(line) => {
                let _ = editor.add_history_entry(line.as_str());
                if !session.line(ctx, &line).await {
                    break;
                }
            }
            // Ctrl-C drops the line being typed, as in a shell.
            Err(rustyline::error::ReadlineError::Interrupted) => {}
            Err(_) => break,
        }
    }
    if let Some(path) = &history {
        if let Some(dir) = path.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        let _ = editor.save_history(path);
    }
    Ok(())
}

/// `$XDG_STATE_HOME/eventbank/shell_history` (`~/.local/state/...`).
fn history_file() -> Option<std::path::PathBuf> {
    let base = std::env::var_os("XDG_STATE_HOME")
        .filter(|dir| !dir.is_empty())
        .map(std::path::PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME").map(|home| std::path::PathBuf::from(home).join(".local/state"))
        })?;
    Some(base.join("eventbank").join("shell_history"))
}

fn help() -> String {
    format!(
        "The seed's forms (account: a UUID or $N, the N-th account opened here; amounts in cents):\n  {}\n\
         Any subcommand works too ($N included), e.g. `account show $1`, `history $1 --limit 5`,\n  \
         `accounts --min-balance 100`, `audit verify`, `status`. `exit` leaves.",
        SEED_FORMS.join("\n  ")
    )
}

impl Session {
    /// Runs one line; `false` once the session should end.
    pub async fn line(&mut self, ctx: &Ctx, text: &str) -> bool {
        let parsed = match parse::parse(text) {
            Ok(parsed) => parsed,
            Err(err) => {
                eprintln!("error: {err}.");
                self.exit = crate::exit::USAGE;
                return true;
            }
        };
        let outcome = match parsed {
            Line::Nothing => Ok(SUCCESS),
            Line::Exit => return false,
            Line::Help => {
                println!("{}", help());
                Ok(SUCCESS)
            }
            Line::Subcommand(words) => self.subcommand(ctx, words).await,
            seed => self.seed(ctx, seed).await,
        };
        match outcome {
            Ok(SUCCESS) => {}
            Ok(code) => self.exit = code,
            Err(err) => {
                eprintln!("error: {err}");
                self.exit = err.exit_code();
            }
        }
        true
    }

    fn resolve(&self, account: &AccountRef) -> Result<String, CliError> {
        match account {
            AccountRef::Id(id) => Ok(id.clone()),
            AccountRef::Opened(n) => self.opened.get(n - 1).cloned().ok_or_else(|| {
                CliError::Usage(format!(
                    "${n} names no account: this session has opened {}",
                    self.opened.len()
                ))
            }),
        }
    }

    async fn seed(&mut self, ctx: &Ctx, line: Line) -> Result<u8, CliError> {
        let key = new_key();
        match line {
            Line::Create { holder } => {
                let body = account::open_account(ctx, &holder, "EUR", &key).await?;
                let id = body["account_id"].as_str().unwrap_or_default().to_owned();
                self.opened.push(id.clone());
                let n = self.opened.len();
                let mut shown = body.clone();
                shown["ref"] = json!(format!("${n}"));
                ctx.out.emit(&shown, || {
                    format!("Opened account {id} for {holder} (EUR) as ${n}.")
                });
            }
            Line::Deposit {
                ref account,
                amount,
            }
            | Line::Withdraw {
                ref account,
                amount,
            } => {
                let id = self.resolve(account)?;
                let deposit = matches!(line, Line::Deposit { .. });
                let kind = if deposit { "deposits" } else { "withdrawals" };
                let body = account::move_money(ctx, &id, kind, amount, &key).await?;
                ctx.out.emit(&body, || {
                    let verb = if deposit { "Deposited" } else { "Withdrew" };
                    format!(
                        "{verb} {amount}: {id} now holds {} (version {}).",
                        body["balance"], body["version"]
                    )
                });
            }
            Line::Transfer { from, to, amount } => {
                let (from, to) = (self.resolve(&from)?, self.resolve(&to)?);
                let body = transfer::send(ctx, &from, &to, amount, &key).await?;
                ctx.out.emit(&body, || {
                    format!(
                        "Transfer {} of {amount} from {from} to {to}: debited, {}.",
                        body["transfer_id"].as_str().unwrap_or("?"),
                        body["status"].as_str().unwrap_or("pending")
                    )
                });
            }
            Line::Nothing | Line::Help | Line::Exit | Line::Subcommand(_) => {}
        }
        Ok(SUCCESS)
    }

    async fn subcommand(&mut self, ctx: &Ctx, words: Vec<String>) -> Result<u8, CliError> {
        // `$N` stands for the N-th account opened here, as in the seed forms.
        let words = words
            .into_iter()
            .map(
                |word| match word.strip_prefix('$').and_then(|n| n.parse::<usize>().ok()) {
                    Some(n) if n >= 1 => self.resolve(&AccountRef::Opened(n)),
                    _ => Ok(word),
                },
            )
            .collect::<Result<Vec<_>, _>>()?;
        let cli = match Cli::try_parse_from(std::iter::once("eventbank".to_owned()).chain(words)) {
            Ok(cli) => cli,
            Err(err) if err.kind() == clap::error::ErrorKind::InvalidSubcommand => {
                return Err(CliError::Usage(format!(
                    "unknown command; a line is one of the seed's forms ({}), a subcommand, `help` or `exit`",
                    SEED_FORMS.join(", ")
                )));
            }
            Err(err) => {
                // Help and version are not failures; usage errors are.
                let _ = err.print();
                return Ok(u8::try_from(err.exit_code()).unwrap_or(crate::exit::USAGE));
            }
        };
        let line_ctx = Ctx {
            client: ctx.client.clone(),
            out: crate::output::Output {
                json: ctx.out.json || cli.global.json,
            },
            key: cli.global.idempotency_key.clone(),
        };
        Box::pin(commands::dispatch(&line_ctx, cli.command)).await
    }
}
