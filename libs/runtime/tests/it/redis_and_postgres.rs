//! Against the real Redis and PostgreSQL the dev environment starts: the client
//! features the read model and audit trail rely on work here.

use eventbank_testkit::{Isolation, TestEnv};

#[tokio::test]
async fn redis_runs_atomic_scripts_under_a_test_prefix() {
    let isolation = Isolation::new("redis");
    let client = redis::Client::open(TestEnv::get().redis_url.as_str()).expect("redis url");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to redis");
    let key = format!("{}version", isolation.redis_prefix());

    // The shape of an idempotent apply: write only if the version is newer.
    let apply = redis::Script::new(
        r"
        local current = tonumber(redis.call('GET', KEYS[1]) or '0')
        if tonumber(ARGV[1]) <= current then return 0 end
        redis.call('SET', KEYS[1], ARGV[1])
        return 1
        ",
    );
    let mut apply_version_1 = async || -> i32 {
        apply
            .key(&key)
            .arg(1)
            .invoke_async(&mut conn)
            .await
            .expect("eval")
    };
    assert_eq!(apply_version_1().await, 1);
    assert_eq!(
        apply_version_1().await,
        0,
        "replaying the same version is skipped"
    );
    let stored: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("get");
    assert_eq!(stored, "1");
    let _: i32 = redis::cmd("DEL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("del");
}

#[tokio::test]
async fn postgres_commits_rows_and_offsets_together_in_a_private_schema() {
    let isolation = Isolation::new("pg");
    let (mut client, connection) =
        tokio_postgres::connect(&TestEnv::get().postgres_url, tokio_postgres::NoTls)
            .await
            .expect("connect to postgres");
    tokio::spawn(connection);
    let schema = isolation.pg_schema();
    client
        .batch_execute(&format!(
            "CREATE SCHEMA {schema};
             CREATE TABLE {schema}.rows (id uuid PRIMARY KEY, body jsonb NOT NULL);
             CREATE TABLE {schema}.offsets (topic text, part int, next_offset bigint,
                                            PRIMARY KEY (topic, part));"
        ))
        .await
        .expect("schema");

    let id = uuid::Uuid::new_v4();
    let tx = client.transaction().await.expect("begin");
    tx.execute(
        &format!("INSERT INTO {schema}.rows VALUES ($1, $2)"),
        &[&id, &serde_json::json!({"amount": 500})],
    )
    .await
    .expect("insert row");
    tx.execute(
        &format!("INSERT INTO {schema}.offsets VALUES ('account-events', 0, 1)"),
        &[],
    )
    .await
    .expect("insert offset");
    tx.commit().await.expect("commit");

    let duplicate = client
        .execute(
            &format!("INSERT INTO {schema}.rows VALUES ($1, '{{}}')"),
            &[&id],
        )
        .await;
    assert!(
        duplicate.is_err(),
        "a second insert of the same id is refused"
    );

    let row = client
        .query_one(
            &format!(
                "SELECT r.body->>'amount', o.next_offset FROM {schema}.rows r, {schema}.offsets o"
            ),
            &[],
        )
        .await
        .expect("select");
    assert_eq!(row.get::<_, Option<String>>(0).as_deref(), Some("500"));
    assert_eq!(row.get::<_, i64>(1), 1);
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .expect("drop schema");
}
