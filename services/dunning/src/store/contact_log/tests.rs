//! Against a real PostgreSQL: a throwaway cluster per test (devstack's `PgCluster`, which
//! needs the server's `initdb`/`pg_ctl`; without them these tests fail, they do not skip).

use chrono::{TimeZone as _, Utc};
use ring::rand::SystemRandom;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use sqlx::PgPool;
use uuid::Uuid;

use super::*;
use crate::domain::contact_log::{self as log, Tamper};
use crate::store::testdb::database;

fn draft(n: u32, actor: Actor) -> Draft {
    Draft {
        case_id: Uuid::from_u128(0xC0FFEE),
        customer_id: Uuid::from_u128(0xBEEF),
        channel: log::Channel::ALL[n as usize % log::Channel::ALL.len()],
        // Nanoseconds: sealing truncates them, so what is stored reads back equal.
        at: Utc
            .timestamp_opt(1_796_000_000 + i64::from(n), 123_456_789)
            .single()
            .expect("valid"),
        actor,
        template_id: format!("notice_{n}"),
        language: "zh-CN".into(),
        content_hash: Digest::of(format!("content {n}").as_bytes()),
        outcome: log::Outcome::ALL[n as usize % log::Outcome::ALL.len()],
        delivery_proof: match n % 4 {
            0 => None,
            1 => Some(DeliveryProof::SmtpMessageId(format!("<{n}@mail.example>"))),
            2 => Some(DeliveryProof::RegisteredMail(format!("XA{n:09}CN"))),
            _ => Some(DeliveryProof::SignatureImage(Digest::of(b"signature.png"))),
        },
    }
}

async fn append_one(pool: &PgPool, d: Draft) -> Entry {
    let mut tx = pool.begin().await.expect("begin");
    let e = append(&mut tx, d).await.expect("append");
    tx.commit().await.expect("commit");
    e
}

/// Appended entries read back equal to what was sealed, chain from genesis, verify whole and
/// from any anchor, and a stored checkpoint reads back and verifies.
#[tokio::test]
async fn appended_entries_read_back_and_verify_with_a_checkpoint() {
    let (_pg, pool) = database().await;
    let mut sealed = Vec::new();
    for n in 0..6 {
        let actor = if n % 2 == 0 {
            Actor::System
        } else {
            Actor::Principal(format!("collector-{n}"))
        };
        sealed.push(append_one(&pool, draft(n, actor)).await);
    }
    assert_eq!(sealed[0].prev_hash, Digest::GENESIS);
    let mut conn = pool.acquire().await.expect("conn");
    let read = read_range(&mut conn, 1, 100).await.expect("read");
    assert_eq!(read, sealed);
    assert_eq!(log::verify(&read), Ok(()));
    let page = read_range(&mut conn, 3, 2).await.expect("read");
    assert_eq!(page.iter().map(|e| e.seq).collect::<Vec<_>>(), [3, 4]);
    assert_eq!(log::verify_after(2, read[1].hash, &page), Ok(()));

    assert_eq!(latest_checkpoint(&mut conn).await.expect("read"), None);
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("key");
    let first = log::Checkpoint::sign(&key, "k1", &read[2], Utc::now());
    let cp = log::Checkpoint::sign(&key, "k1", &read[5], Utc::now());
    insert_checkpoint(&mut conn, &first).await.expect("insert");
    insert_checkpoint(&mut conn, &cp).await.expect("insert");
    let stored = latest_checkpoint(&mut conn).await.expect("read");
    assert_eq!(stored.as_ref(), Some(&cp));
    assert_eq!(
        log::verify_checkpoint(&cp, key.public_key().as_ref(), &read),
        Ok(())
    );
}

/// Appends from many transactions at once still form one unbroken chain (the advisory lock).
#[tokio::test]
async fn concurrent_appends_form_one_chain() {
    let (_pg, pool) = database().await;
    let tasks: Vec<_> = (0..8)
        .map(|t| {
            let pool = pool.clone();
            tokio::spawn(async move {
                for n in 0..5 {
                    append_one(&pool, draft(t * 10 + n, Actor::Principal(format!("t{t}")))).await;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await.expect("task");
    }
    let mut conn = pool.acquire().await.expect("conn");
    let read = read_range(&mut conn, 1, 1000).await.expect("read");
    assert_eq!(read.len(), 40);
    assert_eq!(log::verify(&read), Ok(()));
}

/// UPDATE, DELETE and TRUNCATE are refused on both tables, even for the superuser.
#[tokio::test]
async fn the_log_and_its_checkpoints_refuse_update_delete_and_truncate() {
    let (_pg, pool) = database().await;
    let e = append_one(&pool, draft(1, Actor::System)).await;
    let rng = SystemRandom::new();
    let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).expect("key");
    let key = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).expect("key");
    let mut conn = pool.acquire().await.expect("conn");
    insert_checkpoint(
        &mut conn,
        &log::Checkpoint::sign(&key, "k1", &e, Utc::now()),
    )
    .await
    .expect("insert");
    for statement in [
        "UPDATE contact_log SET outcome = 'refused'",
        "DELETE FROM contact_log",
        "TRUNCATE contact_log CASCADE",
        "UPDATE contact_log_checkpoints SET key_id = 'k2'",
        "DELETE FROM contact_log_checkpoints",
        "TRUNCATE contact_log_checkpoints",
    ] {
        let err = sqlx::raw_sql(statement)
            .execute(&pool)
            .await
            .expect_err(statement);
        assert!(
            err.to_string().contains("append-only"),
            "{statement}: {err}"
        );
    }
    let read = read_range(&mut conn, 1, 10).await.expect("read");
    assert_eq!(read, [e]);
}

/// Someone who switches the trigger off and edits a row in place is still caught: the
/// stored hash no longer matches the row.
#[tokio::test]
async fn an_edit_behind_the_triggers_back_is_reported() {
    let (_pg, pool) = database().await;
    for n in 0..4 {
        append_one(&pool, draft(n, Actor::System)).await;
    }
    sqlx::raw_sql(
        "ALTER TABLE contact_log DISABLE TRIGGER contact_log_no_update;
         UPDATE contact_log SET outcome = 'delivered' WHERE seq = 3;",
    )
    .execute(&pool)
    .await
    .expect("a superuser can do this");
    let mut conn = pool.acquire().await.expect("conn");
    let read = read_range(&mut conn, 1, 10).await.expect("read");
    assert_eq!(read[2].draft.outcome, log::Outcome::Delivered);
    assert_eq!(log::verify(&read), Err(Tamper::Edited { seq: 3 }));
}
