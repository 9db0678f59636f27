//! R-D4, R-L8: the contact log's SQL. Entries are sealed by
//! [`crate::domain::contact_log`]; here they are chained onto the stored tail and read back.
//! The table is append-only (a trigger refuses UPDATE, DELETE and TRUNCATE).

use anyhow::Context as _;
use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use uuid::Uuid;

use crate::domain::contact_log::{
    Actor, Channel, Checkpoint, DeliveryProof, Digest, Draft, Entry, Outcome,
};

/// The transaction-scoped advisory lock that serialises appends: every append takes it before
/// reading the tail, so two concurrent appends chain one after the other instead of both
/// claiming the same predecessor. (`SELECT … ORDER BY seq DESC LIMIT 1 FOR UPDATE` would not
/// do: a waiter re-reads the row it locked, not the row committed meanwhile.)
/// The value is arbitrary but fixed: the bytes of "contactl".
const APPEND_LOCK: i64 = 0x636f_6e74_6163_746c;

type Row = (
    i64,
    Uuid,
    Uuid,
    String,
    DateTime<Utc>,
    String,
    Option<String>,
    String,
    String,
    Vec<u8>,
    String,
    Option<String>,
    Option<String>,
    Vec<u8>,
    Vec<u8>,
);

type CheckpointRow = (
    i64,
    Vec<u8>,
    DateTime<Utc>,
    String,
    Vec<u8>,
    Option<Vec<u8>>,
);

/// Seals `draft` as the entry after the stored tail and inserts it. `tx` must be inside a
/// transaction: the append lock is held until it commits or rolls back. (Outside one, the
/// lock is released at once; a concurrent append then fails on the unique seq or prev_hash
/// rather than forking the chain.)
#[tracing::instrument(skip_all)]
pub async fn append(tx: &mut PgConnection, draft: Draft) -> anyhow::Result<Entry> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)")
        .bind(APPEND_LOCK)
        .execute(&mut *tx)
        .await
        .context("taking the contact-log append lock")?;
    let tail: Option<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM contact_log ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *tx)
            .await
            .context("reading the contact log's last entry")?;
    let entry = match tail {
        None => Entry::next(None, draft),
        Some((seq, hash)) => {
            let seq = u64::try_from(seq).context("a stored seq is negative")?;
            let hash = Digest::from_slice(&hash).context("a stored hash is not 32 bytes")?;
            Entry::seal(seq.saturating_add(1), hash, draft)
        }
    };
    let d = &entry.draft;
    let (actor_kind, actor) = match &d.actor {
        Actor::System => ("system", None),
        Actor::Principal(p) => ("principal", Some(p.as_str())),
    };
    let proof_kind = d.delivery_proof.as_ref().map(DeliveryProof::kind);
    let proof_value = d.delivery_proof.as_ref().map(DeliveryProof::value);
    sqlx::query(
        "INSERT INTO contact_log (seq, case_id, customer_id, channel, at, actor_kind, actor,
             template_id, language, content_hash, outcome, proof_kind, proof_value, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(i64::try_from(entry.seq).context("the contact log is full")?)
    .bind(d.case_id)
    .bind(d.customer_id)
    .bind(d.channel.as_str())
    .bind(d.at)
    .bind(actor_kind)
    .bind(actor)
    .bind(&d.template_id)
    .bind(&d.language)
    .bind(&d.content_hash.0[..])
    .bind(d.outcome.as_str())
    .bind(proof_kind)
    .bind(proof_value)
    .bind(&entry.prev_hash.0[..])
    .bind(&entry.hash.0[..])
    .execute(&mut *tx)
    .await
    .context("inserting a contact-log entry")?;
    Ok(entry)
}

/// Up to `limit` entries from `from_seq` on, in order. Unverified: pass them to
/// [`crate::domain::contact_log::verify`] or `verify_after`.
#[tracing::instrument(skip(conn))]
pub async fn read_range(
    conn: &mut PgConnection,
    from_seq: u64,
    limit: u32,
) -> anyhow::Result<Vec<Entry>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT seq, case_id, customer_id, channel, at, actor_kind, actor, template_id, language,
                content_hash, outcome, proof_kind, proof_value, prev_hash, hash
         FROM contact_log WHERE seq >= $1 ORDER BY seq LIMIT $2",
    )
    .bind(i64::try_from(from_seq).unwrap_or(i64::MAX))
    .bind(i64::from(limit))
    .fetch_all(&mut *conn)
    .await
    .context("reading contact-log entries")?;
    rows.into_iter().map(entry_of).collect()
}

fn entry_of(row: Row) -> anyhow::Result<Entry> {
    let (
        seq,
        case_id,
        customer_id,
        channel,
        at,
        actor_kind,
        actor,
        template_id,
        language,
        content_hash,
        outcome,
        proof_kind,
        proof_value,
        prev_hash,
        hash,
    ) = row;
    let actor = match (actor_kind.as_str(), actor) {
        ("system", None) => Actor::System,
        ("principal", Some(p)) => Actor::Principal(p),
        (kind, _) => anyhow::bail!("contact {seq}: actor kind {kind:?} does not fit its actor"),
    };
    let delivery_proof = match (proof_kind, proof_value) {
        (None, None) => None,
        (Some(k), Some(v)) => Some(
            DeliveryProof::parse(&k, &v)
                .with_context(|| format!("contact {seq}: unreadable delivery proof {k:?}"))?,
        ),
        _ => anyhow::bail!("contact {seq}: a delivery proof without its kind or value"),
    };
    let digest = |bytes: &[u8], what: &str| {
        Digest::from_slice(bytes).with_context(|| format!("contact {seq}: {what} is not 32 bytes"))
    };
    Ok(Entry {
        seq: u64::try_from(seq).context("a stored seq is negative")?,
        draft: Draft {
            case_id,
            customer_id,
            channel: Channel::parse(&channel)
                .with_context(|| format!("contact {seq}: unknown channel {channel:?}"))?,
            at,
            actor,
            template_id,
            language,
            content_hash: digest(&content_hash, "content_hash")?,
            outcome: Outcome::parse(&outcome)
                .with_context(|| format!("contact {seq}: unknown outcome {outcome:?}"))?,
            delivery_proof,
        },
        prev_hash: digest(&prev_hash, "prev_hash")?,
        hash: digest(&hash, "hash")?,
    })
}

/// The checkpoint covering the most entries, if any.
#[tracing::instrument(skip_all)]
pub async fn latest_checkpoint(conn: &mut PgConnection) -> anyhow::Result<Option<Checkpoint>> {
    let row: Option<CheckpointRow> = sqlx::query_as(
        "SELECT through_seq, root_hash, at, key_id, signature, tree_root FROM contact_log_checkpoints
         ORDER BY through_seq DESC LIMIT 1",
    )
    .fetch_optional(&mut *conn)
    .await
    .context("reading the latest contact-log checkpoint")?;
    let Some((through_seq, root_hash, at, key_id, signature, tree_root)) = row else {
        return Ok(None);
    };
    Ok(Some(Checkpoint {
        through_seq: u64::try_from(through_seq).context("a stored through_seq is negative")?,
        root_hash: Digest::from_slice(&root_hash)
            .context("a stored checkpoint root is not 32 bytes")?,
        at,
        key_id,
        signature,
        tree_root: tree_root
            .map(|t| Digest::from_slice(&t).context("a stored tree root is not 32 bytes"))
            .transpose()?,
    }))
}

/// The chain hashes of entries 1 ..= `through_seq`, in order (the leaves of the checkpoint's
/// Merkle tree, R-L8). 32 bytes per entry: a million entries are 32 MB.
#[tracing::instrument(skip(conn))]
pub async fn entry_hashes(
    conn: &mut PgConnection,
    through_seq: u64,
) -> anyhow::Result<Vec<Digest>> {
    let rows: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT seq, hash FROM contact_log WHERE seq <= $1 ORDER BY seq")
            .bind(i64::try_from(through_seq).context("through_seq out of range")?)
            .fetch_all(&mut *conn)
            .await
            .context("reading the contact log's entry hashes")?;
    let mut out = Vec::with_capacity(rows.len());
    for (i, (seq, hash)) in rows.into_iter().enumerate() {
        // The log is gap-free from 1: a gap would make the tree another log's.
        anyhow::ensure!(
            usize::try_from(seq).ok() == i.checked_add(1),
            "the contact log has a gap before entry {seq}: verify it (VerifyContactLog)"
        );
        out.push(Digest::from_slice(&hash).context("a stored entry hash is not 32 bytes")?);
    }
    Ok(out)
}

/// Stores a checkpoint (made by [`Checkpoint::sign`] over an entry already stored).
#[tracing::instrument(skip_all, fields(through_seq = checkpoint.through_seq))]
pub async fn insert_checkpoint(
    conn: &mut PgConnection,
    checkpoint: &Checkpoint,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO contact_log_checkpoints (through_seq, root_hash, at, key_id, signature, tree_root)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(i64::try_from(checkpoint.through_seq).context("through_seq out of range")?)
    .bind(&checkpoint.root_hash.0[..])
    .bind(checkpoint.at)
    .bind(&checkpoint.key_id)
    .bind(&checkpoint.signature)
    .bind(checkpoint.tree_root.map(|t| t.0.to_vec()))
    .execute(&mut *conn)
    .await
    .context("inserting a contact-log checkpoint")?;
    Ok(())
}

#[cfg(test)]
mod tests;

/// Up to `limit` entries after `after_seq`, of one customer or (None) all, in order, inside
/// the scope `(mode, value)` of `kit::auth::owners::params`.
pub async fn entries_of(
    conn: &mut PgConnection,
    customer_id: Option<Uuid>,
    scope: (&str, &str),
    after_seq: i64,
    limit: i64,
) -> anyhow::Result<Vec<Entry>> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT seq, case_id, customer_id, channel, at, actor_kind, actor, template_id, language,
                content_hash, outcome, proof_kind, proof_value, prev_hash, hash
         FROM contact_log WHERE ($1::uuid IS NULL OR customer_id = $1) AND seq > $2
           AND {}
         ORDER BY seq LIMIT $3",
        kit::auth::owners::visible_customers("customer_id", 4, 5)
    )))
    .bind(customer_id)
    .bind(after_seq)
    .bind(limit)
    .bind(scope.0)
    .bind(scope.1)
    .fetch_all(&mut *conn)
    .await
    .context("reading contact-log entries")?;
    rows.into_iter().map(entry_of).collect()
}

/// Remembers the public half of a checkpoint key (first use wins).
pub async fn save_key(
    conn: &mut PgConnection,
    key_id: &str,
    public_key: &[u8],
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO contact_log_keys (key_id, public_key) VALUES ($1, $2) ON CONFLICT (key_id) DO NOTHING",
    )
    .bind(key_id)
    .bind(public_key)
    .execute(conn)
    .await
    .map(drop)
}

/// The public key recorded for `key_id`.
pub async fn key(conn: &mut PgConnection, key_id: &str) -> Result<Option<Vec<u8>>, sqlx::Error> {
    sqlx::query_scalar("SELECT public_key FROM contact_log_keys WHERE key_id = $1")
        .bind(key_id)
        .fetch_optional(conn)
        .await
}

/// The last entry's sequence number, if the log has any.
pub async fn last_seq(conn: &mut PgConnection) -> Result<Option<i64>, sqlx::Error> {
    sqlx::query_scalar("SELECT max(seq) FROM contact_log")
        .fetch_one(conn)
        .await
}
