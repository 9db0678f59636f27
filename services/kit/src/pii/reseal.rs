//! Key rotation (R-O4): seals every stored personal value again under the current key id.
//!
//! A service lists its sealed columns ([`Column`]); [`reseal`] walks each in batches of rows,
//! one transaction per batch, opens every value not yet under the current key (any key of the
//! ring, a `v1:` value under the old `PII_KEY`, or a clear value left from before values were
//! sealed) and stores it sealed under the current key, with its blind index recomputed where
//! the column has one. Values already under the current key are skipped, so the command can
//! be run again, or resumed after a crash, and only does what is left.

use anyhow::Context as _;
use sqlx::PgPool;

use super::{Pii, PiiError};

/// A column holding sealed values.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// The table (in the service's own schema).
    pub table: &'static str,
    /// Its primary key column (compared as text to walk the table in order).
    pub key: &'static str,
    /// The sealed column: `TEXT` (empty: no value) or `TEXT[]`.
    pub column: &'static str,
    /// Whether the column is a `TEXT[]`.
    pub array: bool,
    /// The column holding the blind index of each value (`TEXT`, or `TEXT[]` in the same
    /// order), recomputed from the clear value; `None` when there is none.
    pub index: Option<&'static str>,
}

/// What one column's re-seal did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    /// `table.column`.
    pub column: String,
    /// Rows looked at that held a value not under the current key.
    pub rows: u64,
    /// Rows whose values were sealed again under the current key.
    pub resealed: u64,
    /// Rows with a value that did not open (its key is not in the ring, or it was changed);
    /// left as they are.
    pub failed: u64,
}

/// Re-seals every column in `columns` under `pii`'s current key, `batch` rows per
/// transaction, calling `report` after each batch.
///
/// # Errors
/// A database error; values that do not open are counted in [`Progress::failed`] instead.
pub async fn reseal(
    pool: &PgPool,
    pii: &Pii,
    columns: &[Column],
    batch: i64,
    mut report: impl FnMut(&Progress),
) -> anyhow::Result<Vec<Progress>> {
    let mut done = Vec::with_capacity(columns.len());
    for column in columns {
        done.push(reseal_column(pool, pii, column, batch.max(1), &mut report).await?);
    }
    Ok(done)
}

async fn reseal_column(
    pool: &PgPool,
    pii: &Pii,
    c: &Column,
    batch: i64,
    report: &mut impl FnMut(&Progress),
) -> anyhow::Result<Progress> {
    let Column {
        table,
        key,
        column,
        array,
        index,
    } = *c;
    let current = format!("v2:{}:", pii.current_key_id());
    // Rows with a value not under the current key; `left(…) <> prefix` rather than LIKE,
    // whose `_` would match any character of a key id.
    let stale = if array {
        format!(
            "EXISTS (SELECT 1 FROM unnest({column}) v WHERE v <> '' AND left(v, length($1)) <> $1)"
        )
    } else {
        format!("{column} <> '' AND left({column}, length($1)) <> $1")
    };
    let select = format!(
        "SELECT {key}::text, {to_array} FROM {table}
         WHERE {stale} AND {key}::text > $2 ORDER BY {key}::text LIMIT $3 FOR UPDATE SKIP LOCKED",
        to_array = if array {
            column.to_owned()
        } else {
            format!("ARRAY[{column}]")
        },
    );
    // Table and column names are constants of the service (Column), never input.
    let (value, index_value) = if array {
        ("$2", "$3")
    } else {
        ("$2[1]", "$3[1]")
    };
    let set_index = index.map_or_else(String::new, |i| format!(", {i} = {index_value}"));
    let update = format!("UPDATE {table} SET {column} = {value}{set_index} WHERE {key}::text = $1");
    let mut progress = Progress {
        column: format!("{table}.{column}"),
        ..Progress::default()
    };
    let mut after = String::new();
    loop {
        let mut tx = pool.begin().await.context("starting a re-seal batch")?;
        let rows: Vec<(String, Vec<String>)> = sqlx::query_as(sqlx::AssertSqlSafe(select.clone()))
            .bind(&current)
            .bind(&after)
            .bind(batch)
            .fetch_all(&mut *tx)
            .await
            .with_context(|| format!("reading {table}.{column}"))?;
        let Some(last) = rows.last().map(|r| r.0.clone()) else {
            break;
        };
        for (id, values) in rows {
            progress.rows += 1;
            let mut sealed = Vec::with_capacity(values.len());
            let mut indexes = Vec::with_capacity(values.len());
            let mut changed = false;
            let mut failed = false;
            for stored in values {
                let opened = match resealed(pii, &stored) {
                    Ok(Some((new, plain))) => {
                        changed = true;
                        Ok((new, plain))
                    }
                    // Already current: its index is recomputed only where there is one.
                    Ok(None) if index.is_some() && !stored.is_empty() => {
                        pii.open(&stored).map(|plain| (stored, plain))
                    }
                    Ok(None) => Ok((stored, String::new())),
                    Err(error) => Err(error),
                };
                match opened {
                    Ok((value, plain)) => {
                        indexes.push(if plain.is_empty() {
                            String::new()
                        } else {
                            pii.account_index(&plain)
                        });
                        sealed.push(value);
                    }
                    Err(error) => {
                        // Which row, never what it holds; the row is left as it is.
                        tracing::warn!(table, column, key = %id, %error, "value left as it is");
                        failed = true;
                    }
                }
            }
            if failed {
                progress.failed += 1;
                continue;
            }
            if changed {
                progress.resealed += 1;
                let mut query = sqlx::query(sqlx::AssertSqlSafe(update.clone()))
                    .bind(&id)
                    .bind(&sealed);
                if index.is_some() {
                    query = query.bind(&indexes);
                }
                query
                    .execute(&mut *tx)
                    .await
                    .with_context(|| format!("writing {table}.{column}"))?;
            }
        }
        tx.commit().await.context("committing a re-seal batch")?;
        after = last;
        report(&progress);
    }
    Ok(progress)
}

/// `stored` under the current key with its clear text, `None` when it already is or is
/// empty. A value without a version prefix is clear text from before values were sealed.
fn resealed(pii: &Pii, stored: &str) -> Result<Option<(String, String)>, PiiError> {
    if stored.is_empty() {
        Ok(None)
    } else if super::is_sealed(stored) {
        pii.reseal(stored)
    } else {
        Ok(Some((pii.seal(stored)?, stored.to_owned())))
    }
}

/// Environment variable: rows per re-seal transaction.
pub const BATCH_VARIABLE: &str = "PII_RESEAL_BATCH";
const DEFAULT_BATCH: i64 = 500;

/// The `reseal` command of a service binary: re-seals `columns` under the current key of
/// the ring in the environment, printing progress; fails when a value did not open (run it
/// again once the missing key is back in `PII_KEYS`).
///
/// # Errors
/// Bad configuration, a database error, or values that did not open.
pub async fn command(pool: &PgPool, columns: &[Column]) -> anyhow::Result<()> {
    let pii = Pii::from_env()?;
    let batch = match std::env::var(BATCH_VARIABLE) {
        Ok(v) if !v.trim().is_empty() => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|b| *b > 0)
            .with_context(|| format!("{BATCH_VARIABLE} must be a positive number of rows"))?,
        _ => DEFAULT_BATCH,
    };
    println!(
        "re-sealing under key id {} ({batch} rows per transaction)",
        pii.current_key_id()
    );
    let done = reseal(pool, &pii, columns, batch, |p| {
        println!(
            "{}: {} rows looked at, {} re-sealed, {} did not open",
            p.column, p.rows, p.resealed, p.failed
        );
    })
    .await?;
    let failed: u64 = done.iter().map(|p| p.failed).sum();
    for p in &done {
        println!(
            "done {}: {} re-sealed, {} did not open",
            p.column, p.resealed, p.failed
        );
    }
    anyhow::ensure!(
        failed == 0,
        "{failed} rows hold values that did not open (see the log for which): put their key in PII_KEYS (or the old key in PII_KEY) and run reseal again"
    );
    Ok(())
}
