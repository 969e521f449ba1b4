//! The four service binaries on the dev infrastructure, isolated by
//! prefixes and schema, accepting the test token (every scope) and one
//! token per scope, so the document checks can try each scope.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use eventbank_testkit::auth::TOKEN;
use eventbank_testkit::http::until_success;
use eventbank_testkit::process::{ServiceProcess, dev_service_env, free_port, service_binary};
use eventbank_testkit::{Isolation, TestEnv};
use serde_json::{Value, json};

use super::SERVICES;

/// What [`Services::seed`] made.
#[derive(Debug)]
pub struct Seeded {
    /// An open account holding 500.
    pub account: String,
    /// The deposit's command id.
    pub command: String,
    /// An open account holding 1,000,000 that only transfers take from
    /// (the operations on `account` may well close it).
    pub payer: String,
    /// A transfer from `payer` to `account`.
    pub transfer: String,
}

pub struct Services {
    processes: Vec<ServiceProcess>,
    bases: HashMap<&'static str, String>,
}

impl Services {
    pub async fn start(env: &TestEnv, isolation: &Isolation) -> Self {
        let logs = std::env::temp_dir().join(format!("eventbank-contract-{}", isolation.run_id));
        std::fs::create_dir_all(&logs).expect("log directory");
        let mut processes = Vec::new();
        let mut bases = HashMap::new();
        for service in SERVICES {
            let port = free_port();
            // The test tokens include one per scope, so the document checks
            // can try each scope.
            let vars = dev_service_env(service, env, isolation, port);
            let log: PathBuf = logs.join(format!("{service}.log"));
            processes.push(ServiceProcess::spawn_logged(
                &service_binary(service),
                service,
                vars,
                &log,
            ));
            bases.insert(service, format!("http://127.0.0.1:{port}"));
        }
        for service in SERVICES {
            let url = format!("{}/readyz", bases[service]);
            until_success(&format!("{service} ready"), &url).await;
        }
        Self { processes, bases }
    }

    pub fn base(&self, service: &str) -> &str {
        &self.bases[service]
    }

    /// Opens two accounts, pays into both, moves money between them and
    /// waits until the read model shows the accounts: the ids schemathesis
    /// is given, so its requests reach past "not found".
    pub async fn seed(&self, http: &reqwest::Client) -> Seeded {
        let (account, command) = self.open_with(http, "Ann", 500).await;
        let (payer, _) = self.open_with(http, "Bob", 1_000_000).await;
        let api = self.base("account-command");
        let started = post(
            http,
            &format!("{api}/transfers"),
            json!({"from": payer, "to": account, "amount": 100}),
        )
        .await;
        let transfer = started["transfer_id"]
            .as_str()
            .expect("transfer id")
            .to_owned();
        Seeded {
            account,
            command,
            payer,
            transfer,
        }
    }

    /// A new account holding `amount`, once the view shows it; its id and
    /// the deposit's command id.
    async fn open_with(
        &self,
        http: &reqwest::Client,
        holder: &str,
        amount: i64,
    ) -> (String, String) {
        let api = self.base("account-command");
        let opened = post(
            http,
            &format!("{api}/accounts"),
            json!({"holder": holder, "currency": "EUR"}),
        )
        .await;
        let id = opened["account_id"]
            .as_str()
            .expect("account id")
            .to_owned();
        let deposited = post(
            http,
            &format!("{api}/accounts/{id}/deposits"),
            json!({"amount": amount}),
        )
        .await;
        let command = deposited["command_id"]
            .as_str()
            .expect("command id")
            .to_owned();
        let view = format!(
            "{}/accounts/{id}?min_version=2",
            self.base("balance-projector")
        );
        eventbank_testkit::eventually("the deposit in the view", Duration::from_secs(60), || {
            let (http, view) = (http.clone(), view.clone());
            async move {
                let answer: Value = http
                    .get(&view)
                    .bearer_auth(TOKEN)
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                (answer["version"] == 2).then_some(())
            }
        })
        .await;
        (id, command)
    }

    pub async fn stop(self) {
        for process in self.processes {
            process.stop(Duration::from_secs(30)).await;
        }
    }
}

/// `POST url` with `body` and the test token: a success's JSON body.
async fn post(http: &reqwest::Client, url: &str, body: Value) -> Value {
    let response = http
        .post(url)
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .expect("command sent");
    let status = response.status();
    let answer: Value = response.json().await.expect("a JSON answer");
    assert!(status.is_success(), "POST {url}: {status} {answer}");
    answer
}
