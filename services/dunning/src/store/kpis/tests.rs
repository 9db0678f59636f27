//! Against a real PostgreSQL (a throwaway cluster): the balances CEI and the recovery rate
//! replay (R-O7, R-D11) are appended and read back in the order learned.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use super::*;
use crate::domain::kpi;
use crate::store::testdb::database;

fn d(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_payment_and_a_deferral_follow_the_last_known_balance() {
    let (_cluster, pool) = database().await;
    let mut conn = pool.acquire().await.expect("conn");
    // kit's owners table (its migrations are not the service's).
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS owners (customer_id UUID NOT NULL, scope_key TEXT NOT NULL,
             owner TEXT NOT NULL, team TEXT NOT NULL, PRIMARY KEY (customer_id, scope_key))",
    )
    .execute(&mut *conn)
    .await
    .expect("owners");
    let (customer, item) = (Uuid::now_v7(), Uuid::now_v7());
    sqlx::query("INSERT INTO owners VALUES ($1, 'customer', 'li.na', 'east')")
        .bind(customer)
        .execute(&mut *conn)
        .await
        .expect("owner");
    let learn = |on: Option<&str>, owed: i64, overdue: bool, kind: Kind| Learned {
        receivable_id: item,
        customer_id: customer,
        currency: "CNY",
        balance: Observation {
            on: on.map(d),
            due: d("2026-03-10"),
            owed: Decimal::from(owed),
            overdue,
            kind,
        },
    };
    for l in [
        learn(None, 9000, false, Kind::Scheduled),
        learn(None, 1, false, Kind::Scheduled), // a repeat: ignored
        learn(Some("2026-03-25"), 9000, true, Kind::Overdue),
    ] {
        learned(&mut conn, &l).await.expect("learned");
    }
    changed(
        &mut conn,
        item,
        Kind::Paid,
        d("2026-03-26"),
        Decimal::from(5000),
        None,
    )
    .await
    .expect("paid");
    changed(
        &mut conn,
        item,
        Kind::Amended,
        d("2026-03-28"),
        Decimal::from(5000),
        Some(d("2026-06-10")),
    )
    .await
    .expect("deferred");
    // Unknown receivables change nothing.
    changed(
        &mut conn,
        Uuid::now_v7(),
        Kind::Paid,
        d("2026-03-26"),
        Decimal::ZERO,
        None,
    )
    .await
    .expect("unknown");
    let got = histories(&mut conn, "li.na", "CNY", d("2026-03-31"))
        .await
        .expect("histories");
    assert_eq!(got.len(), 1);
    let h = &got[0];
    assert_eq!(
        h.iter()
            .map(|o| (o.on, o.due, o.owed, o.overdue, o.kind))
            .collect::<Vec<_>>(),
        [
            (
                None,
                d("2026-03-10"),
                Decimal::from(9000),
                false,
                Kind::Scheduled
            ),
            (
                Some(d("2026-03-25")),
                d("2026-03-10"),
                Decimal::from(9000),
                true,
                Kind::Overdue
            ),
            (
                Some(d("2026-03-26")),
                d("2026-03-10"),
                Decimal::from(5000),
                true,
                Kind::Paid
            ),
            (
                Some(d("2026-03-28")),
                d("2026-06-10"),
                Decimal::from(5000),
                false,
                Kind::Amended
            ),
        ]
    );
    let c = kpi::components(h, d("2026-03-01"), d("2026-03-31"));
    assert_eq!(
        (c.sales, c.placed, c.recovered, c.closing_total),
        (
            Decimal::from(9000),
            Decimal::from(9000),
            Decimal::from(4000),
            Decimal::ZERO
        )
    );
    assert!(
        histories(&mut conn, "li.na", "USD", d("2026-03-31"))
            .await
            .expect("histories")
            .is_empty()
    );
}
