//! Every seed form, every way a line can be malformed, and subcommand lines.

use super::*;

const ID: &str = "3f0c6d2e-1b7a-4c1e-9d0a-5c2b8e7f6a01";
const ID2: &str = "a1b2c3d4-0000-4000-8000-000000000002";

fn error(line: &str) -> String {
    parse(line).expect_err(line).0
}

#[test]
fn every_seed_form_parses() {
    assert_eq!(
        parse("create###Ann"),
        Ok(Line::Create {
            holder: "Ann".into()
        })
    );
    assert_eq!(
        parse(&format!("deposit###{ID}###500")),
        Ok(Line::Deposit {
            account: AccountRef::Id(ID.into()),
            amount: 500
        })
    );
    assert_eq!(
        parse(&format!("withdraw###{ID}###200")),
        Ok(Line::Withdraw {
            account: AccountRef::Id(ID.into()),
            amount: 200
        })
    );
    assert_eq!(
        parse(&format!("transfer###{ID}###{ID2}###75")),
        Ok(Line::Transfer {
            from: AccountRef::Id(ID.into()),
            to: AccountRef::Id(ID2.into()),
            amount: 75
        })
    );
}

#[test]
fn seed_forms_accept_session_references_case_and_spaces() {
    assert_eq!(
        parse("  TRANSFER ### $1 ### $2 ### 10 "),
        Ok(Line::Transfer {
            from: AccountRef::Opened(1),
            to: AccountRef::Opened(2),
            amount: 10
        })
    );
    assert_eq!(
        parse("create###Ann Lee"),
        Ok(Line::Create {
            holder: "Ann Lee".into()
        })
    );
    // Ids are normalised (uppercase UUIDs are the same account).
    assert_eq!(
        parse(&format!("deposit###{}###1", ID.to_uppercase())),
        Ok(Line::Deposit {
            account: AccountRef::Id(ID.into()),
            amount: 1
        })
    );
}

#[test]
fn blank_comment_help_and_exit_lines() {
    assert_eq!(parse(""), Ok(Line::Nothing));
    assert_eq!(parse("   "), Ok(Line::Nothing));
    assert_eq!(parse("# opening accounts"), Ok(Line::Nothing));
    assert_eq!(parse("help"), Ok(Line::Help));
    assert_eq!(parse("quit"), Ok(Line::Exit));
    assert_eq!(parse("exit"), Ok(Line::Exit));
}

#[test]
fn a_malformed_seed_line_names_the_expected_form() {
    let cases = [
        ("create###", "the name is empty: expected create###<name>"),
        (
            "deposit###abc###5",
            "expected deposit###<account>###<amount>",
        ),
        (
            &format!("deposit###{ID}"),
            "takes 2 field(s) after the command, got 1: expected deposit###<account>###<amount>",
        ),
        (&format!("deposit###{ID}###5###6"), "got 3"),
        (
            &format!("deposit###{ID}###-5"),
            "not a positive whole number",
        ),
        (
            &format!("withdraw###{ID}###0"),
            "expected withdraw###<account>###<amount>",
        ),
        (&format!("withdraw###{ID}###1.50"), "minor units"),
        (
            &format!("transfer###{ID}###{ID2}"),
            "expected transfer###<from>###<to>###<amount>",
        ),
        (
            &format!("transfer###{ID}###nobody###5"),
            "\"nobody\" is not an account id",
        ),
        ("transfer###$0###$1###5", "N from 1"),
        ("transfer###$x###$1###5", "is not an account"),
        (
            "open###Ann",
            "unknown command \"open\"; the seed's forms are create###<name>",
        ),
        ("###", "unknown command"),
        (
            &format!("deposit###{ID}###99999999999999999999"),
            "not a positive whole number",
        ),
    ];
    for (line, expected) in cases {
        let message = error(line);
        assert!(
            message.contains(expected),
            "{line:?} gave {message:?}, wanted {expected:?}"
        );
    }
}

#[test]
fn subcommand_lines_split_into_words_with_quotes() {
    assert_eq!(
        parse("account open 'Ann Lee' --currency EUR"),
        Ok(Line::Subcommand(vec![
            "account".into(),
            "open".into(),
            "Ann Lee".into(),
            "--currency".into(),
            "EUR".into()
        ]))
    );
    assert_eq!(
        split_words(r#"a "b c" d\ e"#),
        Ok(vec!["a".into(), "b c".into(), "d e".into()])
    );
    assert_eq!(split_words("x ''"), Ok(vec!["x".into(), String::new()]));
    assert!(error("account open 'Ann").contains("unclosed ' quote"));
}
