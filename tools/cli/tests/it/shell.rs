//! `eventbank shell` fed the seed's lines on stdin: accounts created,
//! credited, debited and transferred between for real; malformed lines
//! answered with the expected form while the session goes on.

use crate::common::{eventbank_with_stdin, shown_at};

#[test]
fn the_seed_lines_on_stdin_create_credit_debit_and_transfer() {
    let input = "create###Ann\ncreate###Bob\ndeposit###$1###500\nwithdraw###$1###200\n\
                 transfer###$1###$2###100\n# a comment\n\nwithdraw###$2###9999\n\
                 deposit###$1\nfly###away\naccount show $1 --min-version 4\n";
    let run = eventbank_with_stdin(&["shell"], input);
    // The session went on after the failures; its exit is the last failure's.
    assert_eq!(run.code, 2, "{run:?}");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines[0].starts_with("Opened account ") && lines[0].ends_with(" for Ann (EUR) as $1."),
        "{run:?}"
    );
    let ann = lines[0].split(' ').nth(2).unwrap().to_owned();
    let bob = lines[1].split(' ').nth(2).unwrap().to_owned();
    assert_eq!(
        lines[2],
        format!("Deposited 500: {ann} now holds 500 (version 2).")
    );
    assert_eq!(
        lines[3],
        format!("Withdrew 200: {ann} now holds 300 (version 3).")
    );
    assert!(
        lines[4].contains(&format!("of 100 from {ann} to {bob}: debited")),
        "{run:?}"
    );
    assert!(
        run.stdout.contains("balance     200"),
        "account show ran: {run:?}"
    );

    let errors: Vec<&str> = run.stderr.lines().collect();
    assert_eq!(errors.len(), 3, "{run:?}");
    assert!(errors[0].contains("(insufficient_funds)"), "{run:?}");
    assert!(
        errors[1].contains("expected deposit###<account>###<amount>"),
        "{run:?}"
    );
    assert!(
        errors[2].contains("unknown command \"fly\"; the seed's forms are create###<name>"),
        "{run:?}"
    );

    // Bob got the transfer: opened, credited.
    let bob_view = shown_at(&bob, 2);
    assert_eq!(
        (bob_view["balance"].as_i64(), bob_view["version"].as_u64()),
        (Some(100), Some(2))
    );
}

#[test]
fn json_lines_and_a_clean_session_exit_zero() {
    let run = eventbank_with_stdin(
        &["--json", "shell"],
        "create###Zoe\ndeposit###$1###5\nexit\ndeposit###$1###5\n",
    );
    assert_eq!(run.code, 0, "{run:?}");
    // Two pretty JSON documents, then nothing after `exit`.
    let documents: Vec<serde_json::Value> = serde_json::Deserializer::from_str(&run.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("JSON documents");
    assert_eq!(documents.len(), 2, "{run:?}");
    assert_eq!(documents[0]["ref"], "$1");
    assert_eq!(documents[1]["balance"], 5);
}
