//! Against a real PostgreSQL (a throwaway cluster): R-D14's retention.

use chrono::NaiveDate;
use sqlx::PgPool;
use uuid::Uuid;

use super::*;
use crate::store::testdb::database;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

/// A debtor with a case closed on `closed`, a message, a task and a notice of that time.
async fn debtor(pool: &PgPool, closed: NaiveDate, status: &str) -> Uuid {
    let customer = Uuid::now_v7();
    let case = Uuid::now_v7();
    let at = closed.and_hms_opt(9, 0, 0).expect("time").and_utc();
    sqlx::query(
        "INSERT INTO cases (id, customer_id, status, grade, opened_on, closed_on) VALUES ($1, $2, $3, 'B', $4, $5)",
    )
    .bind(case)
    .bind(customer)
    .bind(status)
    .bind(closed - chrono::Days::new(30))
    .bind((status != "active").then_some(closed))
    .execute(pool)
    .await
    .expect("case");
    sqlx::query("INSERT INTO debtors (customer_id, name, unit) VALUES ($1, '张三', '3-1201')")
        .bind(customer)
        .execute(pool)
        .await
        .expect("debtor");
    sqlx::query(
        "INSERT INTO debtor_contacts (customer_id, position, channel, address, recipient)
         VALUES ($1, 0, 'sms', '13800138000', 'debtor')",
    )
    .bind(customer)
    .execute(pool)
    .await
    .expect("contact");
    let notice = Uuid::now_v7();
    sqlx::query(
        "INSERT INTO notices (id, number, case_id, customer_id, action_id, step, occurrence, business_date,
                              currency, total, fee, pay_by, language, sha256, pdf, html)
         VALUES ($1, $2, $3, $4, $5, 'notice', 1, $6, 'CNY', 100, 0, $6, 'zh-CN', $7, $8, '<p>张三</p>')",
    )
    .bind(notice)
    .bind(format!("DN-{notice}"))
    .bind(case)
    .bind(customer)
    .bind(Uuid::now_v7())
    .bind(closed)
    .bind(vec![7_u8; 32])
    .bind(b"%PDF-1.7".to_vec())
    .execute(pool)
    .await
    .expect("notice");
    sqlx::query(
        "INSERT INTO messages (id, customer_id, case_id, channel, address, template, language, subject, body,
                               requested_at, due_at, status, requested_by)
         VALUES ($1, $2, $3, 'sms', '13800138000', 't', 'zh-CN', 's', '尊敬的张三', $4, $4, 'delivered', 'system')",
    )
    .bind(Uuid::now_v7())
    .bind(customer)
    .bind(case)
    .bind(at)
    .execute(pool)
    .await
    .expect("message");
    sqlx::query(
        "INSERT INTO tasks (id, customer_id, case_id, channel, step, requested_at, due_at, status, note, created_by)
         VALUES ($1, $2, $3, 'phone_call', 'manual', $4, $4, 'done', '张三说下周付', 'li.na')",
    )
    .bind(Uuid::now_v7())
    .bind(customer)
    .bind(case)
    .bind(at)
    .execute(pool)
    .await
    .expect("task");
    customer
}

#[tokio::test]
async fn records_three_years_past_the_last_activity_are_anonymised_and_the_run_logged_r_d14() {
    let (_cluster, pool) = database().await;
    let old = debtor(&pool, d(2022, 6, 30), "paid").await;
    let recent = debtor(&pool, d(2025, 6, 30), "paid").await;
    let still_active = debtor(&pool, d(2021, 1, 31), "active").await;
    let cutoff = d(2023, 12, 4);
    let mut conn = pool.acquire().await.expect("conn");
    let found = due(&mut conn, cutoff, 100).await.expect("due");
    assert_eq!(found, vec![old], "only the old, closed debtor");
    let _ = (recent, still_active);

    let mut tx = pool.begin().await.expect("begin");
    let removed = anonymise(&mut tx, &found).await.expect("anonymise");
    let run = log_run(&mut tx, cutoff, &removed).await.expect("log");
    tx.commit().await.expect("commit");
    assert_eq!(
        removed,
        Removed {
            customers: 1,
            messages: 1,
            tasks: 1,
            notices: 1,
            contacts: 1,
        }
    );
    // The personal content is gone; the notice's number, totals and hash stay.
    let body: String =
        sqlx::query_scalar("SELECT body || address FROM messages WHERE customer_id = $1")
            .bind(old)
            .fetch_one(&pool)
            .await
            .expect("message");
    assert_eq!(body, "");
    let (pdf, sha): (Vec<u8>, Vec<u8>) =
        sqlx::query_as("SELECT pdf, sha256 FROM notices WHERE customer_id = $1")
            .bind(old)
            .fetch_one(&pool)
            .await
            .expect("notice");
    assert!(pdf.is_empty());
    assert_eq!(sha, vec![7_u8; 32]);
    let name: String = sqlx::query_scalar("SELECT name FROM debtors WHERE customer_id = $1")
        .bind(old)
        .fetch_one(&pool)
        .await
        .expect("debtor");
    assert_eq!(name, "");
    // The others keep theirs.
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM messages WHERE body <> ''")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(kept, 2);
    // The run is logged with what it removed; a second run finds nothing.
    let logged: (NaiveDate, i32, i32) = sqlx::query_as(
        "SELECT cutoff, customers, messages_anonymised FROM retention_runs WHERE id = $1",
    )
    .bind(run)
    .fetch_one(&pool)
    .await
    .expect("run");
    assert_eq!(logged, (cutoff, 1, 1));
    assert!(due(&mut conn, cutoff, 100).await.expect("due").is_empty());
}
