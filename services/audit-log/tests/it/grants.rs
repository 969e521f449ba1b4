//! Issue 6: the service runs as a role that can only append and read the
//! trail; the owner's migrations grant exactly that (`postgres.app_role`).

use crate::common;

use common::{Running, get_json, pg, settings, wait_for_records};
use eventbank_events::testing::{Step, account_history};
use eventbank_events::{AccountId, TopicKind};
use eventbank_testkit::{Isolation, RecordWriter, TestEnv};

/// `url` with its user and password replaced.
fn as_user(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("scheme");
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{user}:{password}@{host}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_with_insert_and_select_only_runs_the_service_and_cannot_alter_the_trail() {
    let isolation = Isolation::new("audit-grants");
    let role = format!("{}_app", isolation.pg_schema());
    let admin = pg(&isolation).await;
    admin
        .batch_execute(&format!("CREATE ROLE {role} LOGIN PASSWORD 'app-secret'"))
        .await
        .expect("create role");

    // The owner migrates and grants.
    let mut owner = settings(&isolation, "app");
    owner.postgres.app_role = Some(role.clone());
    Running::start(owner).await.stop().await;

    // The service itself runs as the restricted role.
    let mut restricted = settings(&isolation, "app");
    restricted.postgres.url = as_user(&TestEnv::get().postgres_url, &role, "app-secret");
    let running = Running::start_ready(restricted.clone()).await;
    let feed = RecordWriter::isolated(&isolation);
    for event in account_history(AccountId::new(), &[Step::Deposit(5), Step::Withdraw(5)]) {
        feed.send(TopicKind::AccountEvents, &event).await;
    }
    wait_for_records(&admin, 3).await;
    let (_, report) = get_json(&format!("{}/audit/verify", running.base_url())).await;
    assert_eq!(report["ok"], true, "{report}");
    running.stop().await;

    // The role cannot change the trail even before the trigger is reached.
    let (app, connection) =
        tokio_postgres::connect(&restricted.postgres.url, tokio_postgres::NoTls)
            .await
            .expect("connect as the app role");
    tokio::spawn(connection);
    let schema = isolation.pg_schema();
    for statement in [
        format!("UPDATE {schema}.audit_records SET record_type = 'x'"),
        format!("DELETE FROM {schema}.audit_records"),
        format!("TRUNCATE {schema}.audit_records"),
        format!("ALTER TABLE {schema}.audit_records DISABLE TRIGGER USER"),
    ] {
        let err = app.batch_execute(&statement).await.expect_err(&statement);
        let text = format!("{err:?}");
        assert!(
            text.contains("permission denied") || text.contains("must be owner"),
            "{statement}: {text}"
        );
    }
    assert_eq!(common::count(&admin).await, 3);

    drop(app);
    common::drop_schema(&isolation).await;
    admin
        .batch_execute(&format!("DROP OWNED BY {role}; DROP ROLE {role}"))
        .await
        .expect("drop role");
}
