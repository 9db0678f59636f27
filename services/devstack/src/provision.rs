//! Creates the database, one role and one schema per service, and the topics.

use std::collections::BTreeMap;

use anyhow::{Context as _, bail};
use sqlx::{Connection, Executor, PgConnection};

/// The parts of a `postgres://user[:password]@host[:port]/database[?params]` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PgUrl {
    /// User name.
    pub user: String,
    /// Password, if any.
    pub password: Option<String>,
    /// `host[:port]`.
    pub host: String,
    /// Database name.
    pub database: String,
    /// Query string without `?`, e.g. `sslmode=require`.
    pub params: String,
}

impl PgUrl {
    /// Splits a URL; percent-encoded parts are kept as they are.
    pub fn parse(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .context("DATABASE_URL must start with postgres://")?;
        let (auth, rest) = rest
            .rsplit_once('@')
            .context("DATABASE_URL needs user@host")?;
        let (user, password) = match auth.split_once(':') {
            Some((user, password)) => (user.to_owned(), Some(password.to_owned())),
            None => (auth.to_owned(), None),
        };
        let (host, rest) = rest.split_once('/').unwrap_or((rest, "postgres"));
        let (database, params) = rest.split_once('?').unwrap_or((rest, ""));
        if user.is_empty() || host.is_empty() {
            bail!("DATABASE_URL needs a user and a host");
        }
        Ok(Self {
            user,
            password,
            host: host.to_owned(),
            database: if database.is_empty() {
                "postgres".to_owned()
            } else {
                database.to_owned()
            },
            params: params.to_owned(),
        })
    }

    /// The URL again, with another user, password and database.
    pub fn with(&self, user: &str, password: Option<&str>, database: &str) -> String {
        let auth = match password {
            Some(password) => format!("{user}:{password}"),
            None => user.to_owned(),
        };
        let params = if self.params.is_empty() {
            String::new()
        } else {
            format!("?{}", self.params)
        };
        format!("postgres://{auth}@{}/{database}{params}", self.host)
    }
}

/// The role of a service.
pub fn role_name(service: &str) -> String {
    format!("collections_{service}")
}

/// Creates `database` (if missing) on the server at `admin_url` and, for each service, a
/// login role that owns a schema of the service's name and can use nothing else. Returns
/// each service's connection URL.
pub async fn provision_database(
    admin_url: &str,
    database: &str,
    services: &[&str],
    role_password: &str,
) -> anyhow::Result<BTreeMap<String, String>> {
    let url = PgUrl::parse(admin_url)?;
    check_identifier(database)?;
    let mut admin = PgConnection::connect(admin_url).await.with_context(|| {
        format!(
            "connecting to {} as {} to create the database",
            url.host, url.user
        )
    })?;
    let exists: Option<i32> = sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(database)
        .fetch_optional(&mut admin)
        .await?;
    if exists.is_none() {
        admin
            .execute(sqlx::AssertSqlSafe(format!(
                "CREATE DATABASE \"{database}\""
            )))
            .await
            .with_context(|| {
                format!("creating database {database}; does the DATABASE_URL user have CREATEDB?")
            })?;
    }
    for service in services {
        let role = role_name(service);
        // Roles are shared by all databases of a server; tests create them concurrently.
        let create = format!(
            "DO $$ BEGIN
               CREATE ROLE \"{role}\" LOGIN PASSWORD '{role_password}';
             EXCEPTION WHEN duplicate_object OR unique_violation THEN
               ALTER ROLE \"{role}\" LOGIN PASSWORD '{role_password}';
             END $$"
        );
        check_identifier(&role)?;
        check_password(role_password)?;
        admin
            .execute(sqlx::AssertSqlSafe(create))
            .await
            .with_context(|| format!("creating role {role}"))?;
    }
    admin.close().await?;

    let mut db = PgConnection::connect(&url.with(&url.user, url.password.as_deref(), database))
        .await
        .with_context(|| format!("connecting to database {database}"))?;
    let mut urls = BTreeMap::new();
    for service in services {
        let role = role_name(service);
        check_identifier(service)?;
        db.execute(sqlx::AssertSqlSafe(format!(
            "CREATE SCHEMA IF NOT EXISTS \"{service}\" AUTHORIZATION \"{role}\""
        )))
        .await
        .with_context(|| format!("creating schema {service}"))?;
        db.execute(sqlx::AssertSqlSafe(format!(
            "GRANT CONNECT ON DATABASE \"{database}\" TO \"{role}\""
        )))
        .await?;
        urls.insert(
            (*service).to_owned(),
            url.with(&role, Some(role_password), database),
        );
    }
    db.close().await?;
    Ok(urls)
}

fn check_identifier(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        bail!("{name:?} is not a plain identifier (letters, digits, '_')");
    }
    Ok(())
}

fn check_password(password: &str) -> anyhow::Result<()> {
    if !password.chars().all(|c| c.is_ascii_alphanumeric()) {
        bail!("the role password may only contain letters and digits");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_rebuilt_for_each_role() {
        let url =
            PgUrl::parse("postgres://admin:s3cret@db.example:6543/main?sslmode=require").unwrap();
        assert_eq!(url.host, "db.example:6543");
        assert_eq!(
            url.with("collections_legal", Some("pw"), "e2e_1"),
            "postgres://collections_legal:pw@db.example:6543/e2e_1?sslmode=require"
        );
        let bare = PgUrl::parse("postgres://postgres@127.0.0.1:5432").unwrap();
        assert_eq!(bare.database, "postgres");
        assert!(PgUrl::parse("mysql://x@y/z").is_err());
    }
}
