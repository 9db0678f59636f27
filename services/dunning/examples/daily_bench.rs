//! Benchmark harness (issue 13): the service's daily ladder run — `daily::Ladder::run_pending`,
//! the code the service's background job runs — over DEBTORS debtors with five delinquent
//! receivables each, in a real PostgreSQL (a throwaway cluster), under the shipped policy:
//! each debtor's decision, the action, the notice rendered to HTML and PDF and stored with
//! its hash, the fee event, the message or task at a conduct-checked time, the events in the
//! outbox. What it leaves out is the arrival of the overdue events over Kafka (the day starts
//! with them in).
//!
//! `cargo run --release -p dunning --example daily_bench [DEBTORS]` (default 200,000) prints
//! a progress line every few seconds and a JSON summary.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use sqlx::postgres::PgPoolOptions;

use dunning::daily::Ladder;
use dunning::outreach::Conduct;
use dunning::policy::Policy;

const DAY: &str = "2026-06-01";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let debtors: i64 = std::env::args()
        .nth(1)
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(200_000);
    eprintln!("daily_bench: starting a throwaway PostgreSQL…");
    let cluster = tokio::task::spawn_blocking(devstack::postgres::PgCluster::start).await??;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&cluster.admin_url())
        .await?;
    kit::db::migrate(&pool, dunning::migrations()).await?;
    let day: NaiveDate = DAY.parse()?;

    let load = Instant::now();
    eprintln!("daily_bench: loading {debtors} debtors with 5 overdue items each…");
    sqlx::query(
        "INSERT INTO cases (id, customer_id, status, grade, opened_on)
         SELECT md5('case' || i)::uuid, md5('customer' || i)::uuid, 'active',
                (ARRAY['AAA','AA','A','BBB','BB','B','CCC','CC','C','D'])[1 + i % 10],
                $2::date - 360
         FROM generate_series(1, $1) i",
    )
    .bind(debtors)
    .bind(day)
    .execute(&pool)
    .await?;
    // Items due 1 to 400 days before the day, 200 to 12,000 yuan, some with late fees.
    sqlx::query(
        "INSERT INTO case_items (case_id, receivable_id, contract_id, contract_no, due_date, currency,
                                 open_amount, days_overdue, status, late_fee, charge_type, principal)
         SELECT md5('case' || i)::uuid, md5('r' || i || '-' || k)::uuid, md5('contract' || (i * 2 + k % 2))::uuid,
                'HT-' || (i * 2 + k % 2), $2::date - (1 + (i * 7 + k * 53) % 400)::int, 'CNY',
                200 + (i * 31 + k * 977) % 11800, (1 + (i * 7 + k * 53) % 400)::int, 'open',
                CASE WHEN k = 1 THEN ((i * 13) % 300)::numeric ELSE 0 END,
                (ARRAY['CHARGE_TYPE_MANAGEMENT_FEE','CHARGE_TYPE_WATER','CHARGE_TYPE_ELECTRICITY','CHARGE_TYPE_PURCHASE_PRICE','CHARGE_TYPE_GAS'])[k],
                200 + (i * 31 + k * 977) % 11800
         FROM generate_series(1, $1) i, generate_series(1, 5) k",
    )
    .bind(debtors)
    .bind(day)
    .execute(&pool)
    .await?;
    // A third of the cases have a history: a reminder three weeks ago.
    sqlx::query(
        "INSERT INTO actions (id, case_id, step, receivable_ids, days_overdue, business_date, detail,
                              policy_id, policy_version, channel, occurrence, severity)
         SELECT md5('action' || i)::uuid, md5('case' || i)::uuid, 'overdue_reminder', '{}', 20,
                $2::date - 21, 'earlier', 'default', 1, 'sms', 1, 30
         FROM generate_series(1, $1) i WHERE i % 3 = 0",
    )
    .bind(debtors)
    .bind(day)
    .execute(&pool)
    .await?;
    sqlx::query(
        "INSERT INTO debtors (customer_id, name, unit)
         SELECT md5('customer' || i)::uuid, '客户' || i, '1-' || i FROM generate_series(1, $1) i",
    )
    .bind(debtors)
    .execute(&pool)
    .await?;
    sqlx::query(
        "INSERT INTO debtor_contacts (customer_id, position, channel, address, recipient)
         SELECT md5('customer' || i)::uuid, 0, 'sms', '138' || lpad((i % 100000000)::text, 8, '0'), 'debtor'
         FROM generate_series(1, $1) i",
    )
    .bind(debtors)
    .execute(&pool)
    .await?;
    sqlx::query(
        "INSERT INTO ladder_days (business_date, expected, status) VALUES ($1, 0, 'waiting')",
    )
    .bind(day)
    .execute(&pool)
    .await?;
    sqlx::query("ANALYZE").execute(&pool).await?;
    let loaded = load.elapsed();
    eprintln!(
        "daily_bench: loaded in {:.1} s; running the day…",
        loaded.as_secs_f64()
    );

    let ladder = Ladder {
        pool: pool.clone(),
        outbox: kit::outbox::Outbox::new("dunning"),
        policy: Arc::new(Policy::default_policy().map_err(|e| anyhow::anyhow!("{e}"))?),
        conduct: Arc::new(Conduct::builtin()?),
        font: Arc::new(documents::Font::from_env_or_system()?),
        issuer: "物业服务中心 · 催收部".to_owned(),
        wait: Duration::from_secs(0),
    };
    let progress_pool = pool.clone();
    let started = Instant::now();
    let progress = tokio::spawn(async move {
        loop {
            tokio::time::sleep(Duration::from_secs(5)).await;
            let done: Option<(i32, i32)> =
                sqlx::query_as("SELECT steps, holds FROM ladder_days WHERE business_date = $1")
                    .bind(day)
                    .fetch_optional(&progress_pool)
                    .await
                    .ok()
                    .flatten();
            if let Some((steps, holds)) = done {
                let secs = started.elapsed().as_secs_f64();
                eprintln!(
                    "daily_bench: {secs:.0} s: {steps} steps, {holds} holds ({:.0} debtors/s)",
                    f64::from(steps + holds) / secs
                );
            }
        }
    });
    let run = ladder.run_pending().await?;
    let elapsed = started.elapsed();
    progress.abort();
    let count = |table: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM {table}"
            )))
            .fetch_one(&pool)
            .await
        }
    };
    let (actions, notices, messages, tasks, outbox) = (
        count("actions").await? - count("actions WHERE business_date < '2026-06-01'").await?,
        count("notices").await?,
        count("messages").await?,
        count("tasks").await?,
        count("outbox").await?,
    );
    let summary = serde_json::json!({
        "debtors": debtors,
        "receivables": debtors * 5,
        "load_seconds": loaded.as_secs_f64(),
        "run_seconds": elapsed.as_secs_f64(),
        "debtors_per_second": f64::from(u32::try_from(debtors).unwrap_or(u32::MAX)) / elapsed.as_secs_f64(),
        "steps": run.map(|r| r.steps),
        "holds": run.map(|r| r.holds),
        "actions": actions,
        "notices": notices,
        "messages": messages,
        "tasks": tasks,
        "outbox_events": outbox,
    });
    println!("{summary}");
    drop(cluster);
    Ok(())
}
