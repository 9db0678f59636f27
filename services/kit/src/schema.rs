//! Whether a service's schema is at the migration its binary expects.
//!
//! In production the schema is changed by a migration job (`<service> migrate`, run with a
//! role that may change the schema) and the service itself runs with `DATABASE_MIGRATE=false`
//! under a role that may only read and write rows. Such a service must not find out at its
//! first query that a table or column is missing: at start-up it compares the migrations it
//! was built with against the migrations table of its schema, and refuses to start, naming
//! what is missing and what to run, when they differ.
//!
//! Applied migrations the binary does not know are newer than it (the migration job of the
//! next release ran before this pod started, as in a rolling update): that is allowed, with a
//! warning, since migrations are written to be compatible with the release before them.

use anyhow::Context as _;
use sqlx::PgPool;

/// A migration as the binary knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    /// The version (the number the file name starts with).
    pub version: i64,
    /// The file's description, for messages.
    pub description: String,
    /// sqlx's checksum of the file.
    pub checksum: Vec<u8>,
}

/// A row of a migrations table.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Applied {
    /// The version.
    pub version: i64,
    /// False when the migration failed half-way (sqlx records it dirty).
    pub success: bool,
    /// sqlx's checksum of the file as it was applied.
    pub checksum: Vec<u8>,
}

/// Why a schema is not at the expected migration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Gap {
    /// The migrations table does not exist: nothing was ever migrated.
    #[error("no migration was applied ({table} does not exist); expected up to version {latest}")]
    Unmigrated {
        /// The migrations table.
        table: String,
        /// The newest version the binary expects.
        latest: i64,
    },
    /// Migrations the binary expects are not applied.
    #[error(
        "{table}: the schema is at version {at}, expected {latest}; not applied: {}",
        missing.join(", ")
    )]
    Behind {
        /// The migrations table.
        table: String,
        /// The newest version applied (0: none).
        at: i64,
        /// The newest version the binary expects.
        latest: i64,
        /// `version (description)` of every missing migration.
        missing: Vec<String>,
    },
    /// A migration failed half-way and was left dirty.
    #[error("{table}: migration {version} failed half-way (success = false); repair it by hand")]
    Dirty {
        /// The migrations table.
        table: String,
        /// The dirty version.
        version: i64,
    },
    /// An applied migration's file differs from the one the binary carries.
    #[error(
        "{table}: migration {version} ({description}) was applied from a different file (checksum differs)"
    )]
    Changed {
        /// The migrations table.
        table: String,
        /// The version.
        version: i64,
        /// Its description.
        description: String,
    },
}

/// Compares `expected` (the binary's migrations) with `applied` (the rows of `table`).
/// Returns the applied versions newer than any the binary knows (allowed; see the module
/// documentation), or why the schema is not ready.
pub fn compare(table: &str, expected: &[Expected], applied: &[Applied]) -> Result<Vec<i64>, Gap> {
    if let Some(dirty) = applied.iter().find(|a| !a.success) {
        return Err(Gap::Dirty {
            table: table.to_owned(),
            version: dirty.version,
        });
    }
    let latest = expected.iter().map(|e| e.version).max().unwrap_or(0);
    let mut missing = Vec::new();
    for want in expected {
        match applied.iter().find(|a| a.version == want.version) {
            None => missing.push(format!("{} ({})", want.version, want.description)),
            Some(row) if row.checksum != want.checksum => {
                return Err(Gap::Changed {
                    table: table.to_owned(),
                    version: want.version,
                    description: want.description.clone(),
                });
            }
            Some(_) => {}
        }
    }
    if !missing.is_empty() {
        return Err(Gap::Behind {
            table: table.to_owned(),
            at: applied.iter().map(|a| a.version).max().unwrap_or(0),
            latest,
            missing,
        });
    }
    Ok(applied
        .iter()
        .map(|a| a.version)
        .filter(|v| !expected.iter().any(|e| e.version == *v))
        .collect())
}

/// The up-migrations of `migrator`, as [`compare`] takes them.
pub fn expected(migrator: &sqlx::migrate::Migrator) -> Vec<Expected> {
    migrator
        .iter()
        .filter(|m| !m.migration_type.is_down_migration())
        .map(|m| Expected {
            version: m.version,
            description: m.description.to_string(),
            checksum: m.checksum.to_vec(),
        })
        .collect()
}

/// Checks that the migrations table of `migrator` in the pool's schema has every migration
/// of `migrator`, unchanged and complete; `Ok(Err(gap))` when it has not.
pub async fn check(
    pool: &PgPool,
    migrator: &sqlx::migrate::Migrator,
) -> anyhow::Result<Result<Vec<i64>, Gap>> {
    let table = migrator.table_name.to_string();
    let want = expected(migrator);
    // Resolved through search_path, like the service's own tables.
    let exists: Option<String> = sqlx::query_scalar("SELECT to_regclass($1)::text")
        .bind(&table)
        .fetch_one(pool)
        .await
        .with_context(|| format!("looking for the migrations table {table}"))?;
    if exists.is_none() {
        return Ok(Err(Gap::Unmigrated {
            latest: want.iter().map(|e| e.version).max().unwrap_or(0),
            table,
        }));
    }
    let applied: Vec<Applied> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT version, success, checksum FROM \"{table}\" ORDER BY version"
    )))
    .fetch_all(pool)
    .await
    .with_context(|| {
        format!("reading {table}; may the service's role SELECT from its migrations tables?")
    })?;
    Ok(compare(&table, &want, &applied))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want(version: i64, checksum: u8) -> Expected {
        Expected {
            version,
            description: format!("step {version}"),
            checksum: vec![checksum],
        }
    }

    fn row(version: i64, checksum: u8) -> Applied {
        Applied {
            version,
            success: true,
            checksum: vec![checksum],
        }
    }

    #[test]
    fn a_schema_with_every_migration_is_ready() {
        let expected = [want(1, 1), want(2, 2)];
        assert_eq!(
            compare("_sqlx_migrations", &expected, &[row(1, 1), row(2, 2)]),
            Ok(vec![])
        );
    }

    #[test]
    fn a_schema_behind_names_the_missing_migrations() {
        let expected = [want(1, 1), want(2, 2), want(3, 3)];
        let gap = compare("_sqlx_migrations", &expected, &[row(1, 1)]).unwrap_err();
        assert_eq!(
            gap,
            Gap::Behind {
                table: "_sqlx_migrations".to_owned(),
                at: 1,
                latest: 3,
                missing: vec!["2 (step 2)".to_owned(), "3 (step 3)".to_owned()],
            }
        );
        let text = gap.to_string();
        assert!(text.contains("at version 1, expected 3"), "{text}");
        let empty = compare("_sqlx_migrations", &expected, &[]).unwrap_err();
        assert!(matches!(empty, Gap::Behind { at: 0, .. }), "{empty:?}");
    }

    #[test]
    fn newer_migrations_than_the_binary_knows_are_allowed_and_reported() {
        let expected = [want(1, 1), want(2, 2)];
        assert_eq!(
            compare("t", &expected, &[row(1, 1), row(2, 2), row(3, 9)]),
            Ok(vec![3])
        );
    }

    #[test]
    fn a_dirty_or_changed_migration_is_refused() {
        let expected = [want(1, 1), want(2, 2)];
        let mut dirty = row(2, 2);
        dirty.success = false;
        assert_eq!(
            compare("t", &expected, &[row(1, 1), dirty]),
            Err(Gap::Dirty {
                table: "t".to_owned(),
                version: 2
            })
        );
        assert!(matches!(
            compare("t", &expected, &[row(1, 1), row(2, 7)]),
            Err(Gap::Changed { version: 2, .. })
        ));
    }

    #[test]
    fn the_binarys_migrations_are_read_from_the_migrator() {
        let kit = crate::db::kit_migrator();
        let list = expected(&kit);
        assert!(list.len() >= 3, "{list:?}");
        assert!(list.windows(2).all(|w| w[0].version < w[1].version));
        assert_eq!(kit.table_name, "_kit_migrations");
        // The same list applied is ready; one short of it is behind by exactly that one.
        let applied: Vec<Applied> = list
            .iter()
            .map(|e| Applied {
                version: e.version,
                success: true,
                checksum: e.checksum.clone(),
            })
            .collect();
        assert_eq!(compare("_kit_migrations", &list, &applied), Ok(vec![]));
        let gap = compare("_kit_migrations", &list, &applied[..applied.len() - 1]).unwrap_err();
        assert!(matches!(gap, Gap::Behind { missing, .. } if missing.len() == 1));
    }
}
