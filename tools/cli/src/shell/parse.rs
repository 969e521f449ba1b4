//! The shell's line parser. A line is the 2017 seed's syntax —
//! `create###<name>`, `deposit###<id>###<amount>`, `withdraw###<id>###<amount>`,
//! `transfer###<from>###<to>###<amount>` — or a subcommand line
//! (`deposit <id> 500`, `history <id> --limit 5`), `help`, or `exit`.
//! Account ids are UUIDs or `$N`, the N-th account this session opened.
//! A line starting with `#` (but not `###`) is a comment.
//! A malformed line is an error naming the expected form, never a panic.

/// An account named in a seed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountRef {
    Id(String),
    /// `$N`: the N-th account opened in this session (1-based).
    Opened(usize),
}

/// What one line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// Blank or a `#` comment.
    Nothing,
    Help,
    Exit,
    Create {
        holder: String,
    },
    Deposit {
        account: AccountRef,
        amount: i64,
    },
    Withdraw {
        account: AccountRef,
        amount: i64,
    },
    Transfer {
        from: AccountRef,
        to: AccountRef,
        amount: i64,
    },
    /// A subcommand line, split into words (quotes respected).
    Subcommand(Vec<String>),
}

/// The seed's forms, for help and errors.
pub const SEED_FORMS: [&str; 4] = [
    "create###<name>",
    "deposit###<account>###<amount>",
    "withdraw###<account>###<amount>",
    "transfer###<from>###<to>###<amount>",
];

/// Why a line could not be understood; the text names the expected form.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParseError(pub String);

pub fn parse(line: &str) -> Result<Line, ParseError> {
    let line = line.trim();
    // `###…` is a seed line missing its command, not a comment.
    if line.is_empty() || (line.starts_with('#') && !line.starts_with("###")) {
        return Ok(Line::Nothing);
    }
    match line {
        "help" | "?" => return Ok(Line::Help),
        "exit" | "quit" => return Ok(Line::Exit),
        _ => {}
    }
    if line.contains("###") {
        return parse_seed(line);
    }
    split_words(line).map(Line::Subcommand)
}

fn parse_seed(line: &str) -> Result<Line, ParseError> {
    let parts: Vec<&str> = line.split("###").map(str::trim).collect();
    let verb = parts[0].to_ascii_lowercase();
    let form = match verb.as_str() {
        "create" => SEED_FORMS[0],
        "deposit" => SEED_FORMS[1],
        "withdraw" => SEED_FORMS[2],
        "transfer" => SEED_FORMS[3],
        _ => {
            return Err(ParseError(format!(
                "unknown command {:?}; the seed's forms are {}",
                parts[0],
                SEED_FORMS.join(", ")
            )));
        }
    };
    let wanted = form.matches("###").count() + 1;
    if parts.len() != wanted {
        return Err(ParseError(format!(
            "{verb} takes {} field(s) after the command, got {}: expected {form}",
            wanted - 1,
            parts.len() - 1
        )));
    }
    let field = |i: usize| parts[i];
    Ok(match verb.as_str() {
        "create" => {
            let holder = field(1);
            if holder.is_empty() {
                return Err(ParseError(format!("the name is empty: expected {form}")));
            }
            Line::Create {
                holder: holder.to_owned(),
            }
        }
        "deposit" => Line::Deposit {
            account: account(field(1), form)?,
            amount: amount(field(2), form)?,
        },
        "withdraw" => Line::Withdraw {
            account: account(field(1), form)?,
            amount: amount(field(2), form)?,
        },
        _ => Line::Transfer {
            from: account(field(1), form)?,
            to: account(field(2), form)?,
            amount: amount(field(3), form)?,
        },
    })
}

fn account(text: &str, form: &str) -> Result<AccountRef, ParseError> {
    if let Some(n) = text.strip_prefix('$') {
        return match n.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(AccountRef::Opened(n)),
            _ => Err(ParseError(format!(
                "{text:?} is not an account: use a UUID or $N (N from 1) for the N-th account this session opened; expected {form}"
            ))),
        };
    }
    uuid::Uuid::parse_str(text)
        .map(|id| AccountRef::Id(id.to_string()))
        .map_err(|_| {
            ParseError(format!(
                "{text:?} is not an account id (a UUID, or $N for the N-th account this session opened): expected {form}"
            ))
        })
}

fn amount(text: &str, form: &str) -> Result<i64, ParseError> {
    match text.parse::<i64>() {
        Ok(amount) if amount > 0 => Ok(amount),
        _ => Err(ParseError(format!(
            "the amount {text:?} is not a positive whole number of minor units (cents): expected {form}"
        ))),
    }
}

/// Splits a subcommand line into words: whitespace separates, single or
/// double quotes group, a backslash escapes the next character.
pub fn split_words(line: &str) -> Result<Vec<String>, ParseError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') => {
                word.push(chars.next().unwrap_or('\\'));
                in_word = true;
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(ParseError(format!("unclosed {q} quote in {line:?}")));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests;
