//! Property-style checks over long pseudo-random command sequences.
//!
//! A seeded LCG instead of a property-testing crate: no extra dependency, and
//! a failing seed replays exactly. Each seed runs a few hundred commands.

use eventbank_events::{AccountCommand, AccountEvent, Currency, RejectionCode, TransferId};
use uuid::Uuid;

use super::harness::*;
use crate::domain::Limits;

/// Knuth's MMIX LCG; the high bits are the usable ones.
#[derive(Debug)]
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    /// Uniform-enough in `1..=max`.
    fn amount(&mut self, max: u64) -> i64 {
        i64::try_from(self.next() % max + 1).expect("small")
    }
}

const SEEDS: [u64; 5] = [1, 42, 2024, 0xDEAD_BEEF, u64::MAX];
const STEPS: usize = 400;
const LIMIT: i64 = 1_200;

/// Money that came in (`+`) and went out (`-`) through accepted commands.
#[derive(Debug, Default)]
struct Ledger {
    deposits: i64,
    withdrawals: i64,
    debits: i64,
    refunds: i64,
}

impl Ledger {
    fn expected_balance(&self) -> i64 {
        self.deposits - self.withdrawals - self.debits + self.refunds
    }
}

#[test]
fn balance_never_goes_negative_and_equals_the_money_accepted() {
    let limits = Limits { max_amount: LIMIT };
    for seed in SEEDS {
        let mut rng = Lcg(seed);
        let (mut live, _) = step(None, &open_account(Currency::EUR), &limits);
        let mut log = vec![opened()];
        let mut ledger = Ledger::default();
        // Debits not yet refunded, so a refund gives back a real debit (each
        // transfer is refunded at most once: a second refund is a duplicate).
        let mut in_flight: Vec<(TransferId, i64)> = Vec::new();

        for i in 0..STEPS {
            let before = live.as_ref().expect("open").balance.minor_units();
            let command = match rng.next() % 4 {
                0 => deposit(rng.amount(1_000)),
                1 => withdraw(rng.amount(1_500)),
                2 => debit_of(
                    TransferId::from_uuid(Uuid::from_u128(u128::from(seed) << 32 | i as u128)),
                    OTHER,
                    rng.amount(1_500),
                ),
                _ => match in_flight.pop() {
                    Some((transfer, n)) => refund_of(transfer, n),
                    None => deposit(rng.amount(1_000)),
                },
            };
            let (next, decided) = step(live, &command, &limits);
            live = next;
            let context = format!("seed {seed}, step {i}: {command:?}");

            match (&command, decided) {
                (_, Ok(events)) => {
                    for event in &events {
                        match event {
                            AccountEvent::MoneyDeposited { amount, .. } => {
                                ledger.deposits += amount.minor_units();
                            }
                            AccountEvent::MoneyWithdrawn { amount, .. } => {
                                ledger.withdrawals += amount.minor_units();
                            }
                            AccountEvent::TransferDebited {
                                transfer_id,
                                amount,
                                ..
                            } => {
                                ledger.debits += amount.minor_units();
                                in_flight.push((*transfer_id, amount.minor_units()));
                            }
                            AccountEvent::TransferRefunded { amount, .. } => {
                                ledger.refunds += amount.minor_units();
                            }
                            other => panic!("{context}: unexpected {other:?}"),
                        }
                    }
                    log.extend(events);
                }
                (
                    AccountCommand::Withdraw { amount }
                    | AccountCommand::DebitForTransfer { amount, .. },
                    Err(rejection),
                ) => {
                    // Refused exactly when the command was too large or the
                    // money was not there — never otherwise.
                    let n = amount.minor_units();
                    let expected = if n > LIMIT {
                        RejectionCode::AmountTooLarge
                    } else {
                        assert!(n > before, "{context}: refused with {before} available");
                        RejectionCode::InsufficientFunds
                    };
                    assert_eq!(rejection.code, expected, "{context}");
                }
                (_, Err(rejection)) => panic!("{context}: unexpectedly refused: {rejection}"),
            }

            let account = live.as_ref().expect("open");
            assert!(!account.balance.is_negative(), "{context}");
            assert_eq!(
                account.balance.minor_units(),
                ledger.expected_balance(),
                "{context}"
            );
        }

        let account = live.clone().expect("open");
        assert_eq!(account.version, u64::try_from(log.len()).expect("small"));
        assert_eq!(replay(&log), live, "seed {seed}: replay differs");
    }
}
