//! The Postgres pool of a service, bound to the schema it owns, and the kit's own tables.

use std::str::FromStr;
use std::time::Duration;

use anyhow::Context as _;
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::Config;

/// Connects with the service's role, with `search_path` set to the service's schema so
/// unqualified table names resolve there and nowhere else. Retries for up to 30 s, since
/// on Kubernetes and in the local stack the database may still be starting.
#[tracing::instrument(skip_all, fields(schema = %config.database_schema))]
pub async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let options = PgConnectOptions::from_str(&config.database_url)
        .context("DATABASE_URL is not a valid postgres:// URL")?
        .application_name(config.service)
        .options([
            ("search_path", config.database_schema.as_str()),
            // Set at connection start-up, so every pooled connection has it and no query
            // (a forgotten index, a lock wait) holds a connection longer than this.
            (
                "statement_timeout",
                &config.database_statement_timeout.as_millis().to_string(),
            ),
        ]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let attempt = PgPoolOptions::new()
            .max_connections(config.database_max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options.clone())
            .await;
        match attempt {
            Ok(pool) => return Ok(pool),
            Err(error) if tokio::time::Instant::now() < deadline => {
                tracing::warn!(%error, "database not reachable yet, retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(error) => {
                return Err(error).context(format!(
                    "could not connect to the database as schema {:?}; check DATABASE_URL and that the server runs",
                    config.database_schema
                ));
            }
        }
    }
}

/// Applies the kit's tables (outbox, processed events, dead letters), then the service's
/// own migrations. The kit keeps its own migrations table so the two sets never collide.
pub async fn migrate(
    pool: &PgPool,
    service_migrations: &sqlx::migrate::Migrator,
) -> anyhow::Result<()> {
    let kit = kit_migrator();
    // DATABASE_STATEMENT_TIMEOUT_MS bounds the work of calls, not schema changes: an index
    // on a large table may take longer, and a service that cannot migrate cannot start.
    let mut conn = pool.acquire().await.context("connecting for migrations")?;
    sqlx::query("SET statement_timeout = 0")
        .execute(&mut *conn)
        .await
        .context("lifting statement_timeout for migrations")?;
    kit.run(&mut *conn)
        .await
        .context("applying the kit's migrations")?;
    service_migrations
        .run(&mut *conn)
        .await
        .context("applying the service's migrations")?;
    // Back to the connection's start-up value before it returns to the pool.
    sqlx::query("RESET statement_timeout")
        .execute(&mut *conn)
        .await
        .context("restoring statement_timeout after migrations")?;
    Ok(())
}

/// The kit's own migrations (outbox, processed events, audit, dead letters), recorded in
/// `_kit_migrations` so they never collide with the service's `_sqlx_migrations`.
pub fn kit_migrator() -> sqlx::migrate::Migrator {
    let mut kit = sqlx::migrate!("./migrations");
    kit.dangerous_set_table_name("_kit_migrations");
    kit
}

/// Start-up's schema step: with `DATABASE_MIGRATE=true` (the default) applies the kit's and
/// the service's migrations; with `false` (production, where a migration job with a DDL
/// role changes the schema) only checks that both are applied, and refuses to start otherwise.
pub async fn prepare_schema(
    pool: &PgPool,
    config: &Config,
    service_migrations: &sqlx::migrate::Migrator,
) -> anyhow::Result<()> {
    if config.database_migrate {
        return migrate(pool, service_migrations).await;
    }
    let mut newer = Vec::new();
    for migrator in [&kit_migrator(), service_migrations] {
        match crate::schema::check(pool, migrator).await? {
            Ok(versions) => newer.extend(versions),
            Err(gap) => anyhow::bail!(
                "DATABASE_MIGRATE=false and schema {schema:?} is not at the migration this build \
                 of {service} expects: {gap}. Run the migration job first (`{service} migrate` \
                 with a role that may change schema {schema:?}; on Kubernetes the Job \
                 {service}-migrate), or set DATABASE_MIGRATE=true to let the service migrate \
                 at start-up",
                schema = config.database_schema,
                service = config.service,
            ),
        }
    }
    if newer.is_empty() {
        tracing::info!("schema checked: every migration of this build is applied");
    } else {
        tracing::warn!(
            ?newer,
            "the schema has migrations newer than this build (a newer release's migration job \
             ran): serving, as migrations stay compatible with the release before them"
        );
    }
    Ok(())
}

/// `<service> migrate`: applies the kit's and the service's migrations and returns. Run by
/// the migration job with a role that may change the schema, before the service's pods
/// (which run with `DATABASE_MIGRATE=false` under a role without DDL) start.
pub async fn migrate_command(
    config: &Config,
    service_migrations: &sqlx::migrate::Migrator,
) -> anyhow::Result<()> {
    let pool = connect(config).await?;
    migrate(&pool, service_migrations).await?;
    let applied = crate::schema::expected(service_migrations)
        .last()
        .map_or(0, |m| m.version);
    tracing::info!(
        schema = %config.database_schema,
        version = applied,
        "migrations applied"
    );
    println!(
        "{}: schema {} migrated to version {applied}",
        config.service, config.database_schema
    );
    pool.close().await;
    Ok(())
}
