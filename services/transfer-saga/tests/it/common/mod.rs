//! A whole bank for saga tests: account-command (API in-process, its
//! processor in-process or as a killable child process) and the saga
//! (in-process or as a killable child process), on one test's own topics.
//! In-process services run in testkit's [`InProcess`].

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use account_command::App as AccountCommand;

use eventbank_events::{AccountEvent, AccountEventEnvelope, AccountId, TransferEvent, TransferId};
use eventbank_runtime::Service;
use eventbank_runtime::kafka::KafkaSettings;
use eventbank_testkit::bank::BankClient;
use eventbank_testkit::log::{account_events, transfer_events};
use eventbank_testkit::process::ServiceProcess;
use eventbank_testkit::{InProcess, Isolation, TestEnv, local_http};
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::json;
use transfer_saga::App as Saga;

pub const LONG: Duration = Duration::from_secs(150);

/// Saga timing for tests: quick retries, a deadline the test chooses.
pub const RETRY_AFTER_MS: u64 = 1_000;

/// One test's bank.
pub struct Bank {
    pub kafka: KafkaSettings,
    pub client: BankClient,
    /// Runs as long as the bank; cancelled when it is dropped.
    _api: InProcess<AccountCommand>,
}

impl Bank {
    /// The account-command API, with its processor in-process too if
    /// `with_processor` (otherwise start one with [`Bank::spawn_processor`]).
    pub async fn start(name: &str, with_processor: bool) -> Self {
        Self::start_with(name, with_processor, |_| {}).await
    }

    /// With account-command's settings adjusted by `adjust`.
    pub async fn start_with(
        name: &str,
        with_processor: bool,
        adjust: impl FnOnce(&mut account_command::Settings),
    ) -> Self {
        let isolation = Isolation::new(name);
        let kafka = TestEnv::get().kafka_settings(&isolation.topic_prefix());
        let mut settings = account_command::Settings {
            instance: "api".to_owned(),
            http: local_http(),
            kafka: kafka.clone(),
            auth: eventbank_testkit::auth::settings(),
            ..account_command::Settings::default()
        };
        settings.processor.enabled = with_processor;
        settings.api.result_timeout_ms = 10_000;
        adjust(&mut settings);
        let api = InProcess::start(settings).await;
        Self {
            kafka,
            client: BankClient::new(api.base_url()),
            _api: api,
        }
    }

    pub fn saga_settings(&self, credit_deadline_ms: u64) -> transfer_saga::Settings {
        let mut settings = transfer_saga::Settings {
            instance: "saga-0".to_owned(),
            http: local_http(),
            kafka: self.kafka.clone(),
            auth: eventbank_testkit::auth::settings(),
            ..transfer_saga::Settings::default()
        };
        settings.saga.retry_after_ms = RETRY_AFTER_MS;
        settings.saga.credit_deadline_ms = credit_deadline_ms;
        settings.saga.tick_interval_ms = 200;
        settings
    }

    pub async fn start_saga(&self, credit_deadline_ms: u64) -> InProcess<Saga> {
        InProcess::start(self.saga_settings(credit_deadline_ms)).await
    }

    /// The saga built (its topics exist, its HTTP port is bound) but not
    /// running yet (run it with [`InProcess::run`]), with the address of its
    /// ops endpoints.
    pub async fn build_saga(&self, settings: transfer_saga::Settings) -> (Saga, SocketAddr) {
        let app = Saga::build(settings).await.expect("build transfer-saga");
        let addr = app.http_addr().expect("bound");
        (app, addr)
    }

    /// The saga as a child process, to be killed.
    pub fn spawn_saga(&self, instance: &str) -> ServiceProcess {
        self.spawn_saga_with(instance, &[])
    }

    /// With extra `EVENTBANK_*` settings.
    pub fn spawn_saga_with(&self, instance: &str, extra: &[(&str, &str)]) -> ServiceProcess {
        let retry = RETRY_AFTER_MS.to_string();
        let mut env = vec![
            ("EVENTBANK_SAGA__RETRY_AFTER_MS", retry.as_str()),
            ("EVENTBANK_SAGA__TICK_INTERVAL_MS", "200"),
        ];
        env.extend_from_slice(extra);
        ServiceProcess::start(
            env!("CARGO_BIN_EXE_transfer-saga"),
            instance,
            &self.kafka,
            &env,
        )
    }

    /// account-command's processor as a child process, to be killed.
    pub fn spawn_processor(&self, instance: &str) -> ServiceProcess {
        self.spawn_processor_with(instance, &[])
    }

    /// With extra `EVENTBANK_*` settings.
    pub fn spawn_processor_with(&self, instance: &str, extra: &[(&str, &str)]) -> ServiceProcess {
        let mut env = vec![("EVENTBANK_API__ENABLED", "false")];
        env.extend_from_slice(extra);
        ServiceProcess::start(&account_command_binary(), instance, &self.kafka, &env)
    }

    /// Opens an account and deposits `funds` into it (if any).
    pub async fn account(&self, holder: &str, currency: &str, funds: i64) -> AccountId {
        let id = self.client.open(holder, currency).await;
        if funds > 0 {
            let reply = self
                .client
                .settle(
                    &format!("/accounts/{id}/deposits"),
                    Some(json!({ "amount": funds })),
                    &uuid::Uuid::new_v4().to_string(),
                )
                .await;
            assert_eq!(reply.status, StatusCode::OK, "deposit: {reply:?}");
        }
        AccountId::parse(&id).expect("account id")
    }

    /// An account that was opened and closed again (empty).
    pub async fn closed_account(&self, holder: &str) -> AccountId {
        let id = self.account(holder, "EUR", 0).await;
        let reply = self
            .client
            .post(&format!("/accounts/{id}/close"), json!({}))
            .await;
        assert_eq!(reply.status, StatusCode::OK, "close: {reply:?}");
        id
    }

    /// Asks for `count` transfers of `amount` from `from` to `to`, a few at a
    /// time; all must be debited.
    pub async fn transfers(
        &self,
        count: usize,
        from: AccountId,
        to: AccountId,
        amount: i64,
    ) -> BTreeSet<TransferId> {
        let requests = (0..count).map(|_| {
            let (from, to) = (from.to_string(), to.to_string());
            async move { self.transfer(&from, &to, amount).await }
        });
        futures::stream::iter(requests)
            .buffer_unordered(8)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .map(|id| id.expect("debited"))
            .collect()
    }

    /// Asks for a transfer; `Some(id)` if its debit was accepted.
    pub async fn transfer(&self, from: &str, to: &str, amount: i64) -> Option<TransferId> {
        let reply = self
            .client
            .settle(
                "/transfers",
                Some(json!({ "from": from, "to": to, "amount": amount })),
                &uuid::Uuid::new_v4().to_string(),
            )
            .await;
        match reply.status {
            StatusCode::ACCEPTED => Some(
                TransferId::parse(reply.body["transfer_id"].as_str().expect("transfer_id"))
                    .expect("a transfer id"),
            ),
            StatusCode::UNPROCESSABLE_ENTITY => None,
            other => panic!("transfer answered {other}: {reply:?}"),
        }
    }

    /// Waits until every transfer in `expected` has ended, and returns every
    /// transfer event on the log by transfer.
    pub async fn await_ended(
        &self,
        expected: &BTreeSet<TransferId>,
    ) -> BTreeMap<TransferId, Vec<TransferEvent>> {
        let started = Instant::now();
        loop {
            let ended = transfer_events(&self.kafka).await;
            let missing: Vec<_> = expected
                .iter()
                .filter(|id| !ended.contains_key(id))
                .collect();
            if missing.is_empty() {
                return ended;
            }
            assert!(
                started.elapsed() < LONG,
                "{} of {} transfers never ended, e.g. {}",
                missing.len(),
                expected.len(),
                missing[0]
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    pub async fn accounts(&self) -> BTreeMap<AccountId, Vec<AccountEventEnvelope>> {
        account_events(&self.kafka).await
    }

    /// `account`'s debit for `transfer`, as it is on the log.
    pub async fn debit(&self, account: AccountId, transfer: TransferId) -> AccountEventEnvelope {
        self.accounts()
            .await
            .remove(&account)
            .expect("the account's stream")
            .into_iter()
            .find(|event| {
                matches!(event.event, AccountEvent::TransferDebited { transfer_id, .. } if transfer_id == transfer)
            })
            .expect("the transfer's debit")
    }
}

/// The account-command binary, built by cargo for this workspace (a
/// dev-dependency's binary has no `CARGO_BIN_EXE_*` variable).
fn account_command_binary() -> String {
    let this = std::path::PathBuf::from(env!("CARGO_BIN_EXE_transfer-saga"));
    let binary = this.with_file_name("account-command");
    assert!(
        binary.exists(),
        "{} is missing: build it first (cargo build -p account-command; the test command builds the workspace)",
        binary.display()
    );
    binary.display().to_string()
}

/// The value of the (unlabelled) metric `name` on the service's `/metrics`.
pub async fn metric(addr: SocketAddr, name: &str) -> Option<f64> {
    labelled_metric(addr, name, "").await
}

/// The value of metric `name` whose labels contain `labels` (`""`: the
/// metric has none).
pub async fn labelled_metric(addr: SocketAddr, name: &str, labels: &str) -> Option<f64> {
    let text = eventbank_testkit::metrics::scrape(&format!("http://{addr}"))
        .await
        .expect("/metrics answers");
    text.lines().find_map(|line| {
        let (metric, value) = line.rsplit_once(' ')?;
        let matches = match metric.split_once('{') {
            Some((metric, rest)) => metric == name && !labels.is_empty() && rest.contains(labels),
            None => metric == name && labels.is_empty(),
        };
        matches.then(|| value.trim().parse().ok())?
    })
}
