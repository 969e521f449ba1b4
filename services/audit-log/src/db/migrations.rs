//! Embedded, versioned schema migrations, applied at start.
//!
//! Each migration is a SQL file compiled into the binary and applied once, in
//! version order, inside one transaction that first takes an advisory lock
//! keyed by the schema name: instances starting together queue up, and the
//! second finds the work done. The applied versions are kept in
//! `schema_migrations`.
//!
//! An up-to-date schema needs no DDL at all, so an instance connecting as the
//! restricted application role (see `postgres.app_role`) starts fine once an
//! owner has migrated; only grants are (re)issued when `app_role` is set.

use tokio_postgres::Client;

use super::DbError;

struct Migration {
    version: i32,
    name: &'static str,
    sql: &'static str,
}

const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "audit_trail",
        sql: include_str!("../../migrations/0001_audit_trail.sql"),
    },
    Migration {
        version: 2,
        name: "retention_gaps",
        sql: include_str!("../../migrations/0002_retention_gaps.sql"),
    },
];

/// First key of the advisory lock (ASCII "audt"); the second is the schema's hash.
const LOCK_CLASS: i32 = 0x6175_6474;

/// Brings `schema` up to date; returns the versions it applied. `schema` and
/// `app_role` must be plain identifiers (settings validation checks them).
pub async fn migrate(
    client: &mut Client,
    schema: &str,
    app_role: Option<&str>,
) -> Result<Vec<i32>, DbError> {
    let latest = MIGRATIONS.last().map_or(0, |m| m.version);
    let mut applied_now = Vec::new();
    if applied_versions(client, schema).await?.last().copied() != Some(latest) {
        let tx = client.transaction().await?;
        tx.execute(
            "SELECT pg_advisory_xact_lock($1, hashtext($2))",
            &[&LOCK_CLASS, &schema],
        )
        .await?;
        tx.batch_execute(&format!(
            "CREATE SCHEMA IF NOT EXISTS {schema};
             SET LOCAL search_path TO {schema};
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 version    integer     PRIMARY KEY,
                 name       text        NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now()
             );"
        ))
        .await?;
        let done: Vec<i32> = tx
            .query("SELECT version FROM schema_migrations", &[])
            .await?
            .iter()
            .map(|row| row.get(0))
            .collect();
        for migration in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
            tx.batch_execute(migration.sql).await?;
            tx.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                &[&migration.version, &migration.name],
            )
            .await?;
            tracing::info!(
                schema,
                version = migration.version,
                name = migration.name,
                "applied migration"
            );
            applied_now.push(migration.version);
        }
        tx.commit().await?;
    }
    if let Some(role) = app_role {
        grant(client, schema, role).await?;
    }
    Ok(applied_now)
}

/// The versions applied so far, ascending; empty if the schema is new.
async fn applied_versions(client: &Client, schema: &str) -> Result<Vec<i32>, DbError> {
    let exists: bool = client
        .query_one(
            "SELECT to_regclass(format('%I.schema_migrations', $1::text)) IS NOT NULL",
            &[&schema],
        )
        .await?
        .get(0);
    if !exists {
        return Ok(Vec::new());
    }
    Ok(client
        .query(
            &format!("SELECT version FROM {schema}.schema_migrations ORDER BY version"),
            &[],
        )
        .await?
        .iter()
        .map(|row| row.get(0))
        .collect())
}

/// The least the service needs: append to and read the trail; move stream
/// heads and offsets. No UPDATE, DELETE or TRUNCATE on the trail itself.
async fn grant(client: &Client, schema: &str, role: &str) -> Result<(), DbError> {
    client
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA {schema} TO {role};
             GRANT SELECT ON {schema}.schema_migrations TO {role};
             GRANT SELECT, INSERT ON {schema}.audit_records, {schema}.retention_gaps TO {role};
             GRANT SELECT, INSERT, UPDATE ON {schema}.stream_heads, {schema}.consumer_offsets TO {role};"
        ))
        .await?;
    Ok(())
}
