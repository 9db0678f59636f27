//! Issue 16: a bank file's usual payments are written together (payments' bulk path) and a
//! run of proposals is booked together by contracts (allocation runs). The figures must be
//! the same as one by one: several partial payments of one installment in one file each
//! propose what is left after the ones before (R-P11), contracts books them in order on what
//! the one before left, and a line seen before (in this file or an earlier one) is never
//! booked twice (R-P2, R-P5).

use devstack::clients::eventually;
use devstack::scenario::{self, bank_csv, open_amount};
use rust_decimal::Decimal;

use crate::helpers::{EVENTUALLY, OrLogs, start};

const ACCOUNT: &str = "6222021000000777";

#[tokio::test(flavor = "multi_thread")]
async fn partial_payments_of_one_file_are_booked_in_order_once_r_p2_r_p5_r_p10_r_p11() {
    let (stack, mut clients) = start().await;
    let customer = scenario::create_customer_with_accounts(&mut clients, "王五", &[ACCOUNT])
        .await
        .or_logs(&stack);
    let contract = scenario::create_contract(
        &mut clients,
        &customer,
        "HT-BULK-1",
        &[
            ("1000.00", "2026-01-10"),
            ("1000.00", "2026-02-10"),
            ("1000.00", "2026-03-10"),
        ],
    )
    .await
    .or_logs(&stack);

    // The three installments fall overdue: dunning opens a case for them, so the payments
    // below also stop dunning for what they pay in full (R-P10, dunning's run path).
    scenario::run_cycle(&mut clients, "2026-03-11")
        .await
        .or_logs(&stack);
    let case_id = eventually("dunning opened a case", EVENTUALLY, || async {
        let cases = scenario::dunning_cases(&clients, &customer).await?;
        Ok(cases.first().map(|c| c.case_id.clone()))
    })
    .await
    .or_logs(&stack);

    // Payments knows the receivables before the file arrives, so the engine applies the
    // lines at once (the bulk path) rather than deciding them again later.
    let payments_db = sqlx::PgPool::connect(&stack.database_urls["payments"])
        .await
        .or_logs(&stack);
    eventually("payments knows the contract", EVENTUALLY, || {
        let pool = payments_db.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM payments.open_receivables WHERE contract_no = 'HT-BULK-1'",
            )
            .fetch_one(&pool)
            .await?;
            Ok((n == 3).then_some(()))
        }
    })
    .await
    .or_logs(&stack);

    // Five payments of different amounts on different days, 2,000 over the first two
    // installments: 300 and 350 on the first, 400 split 350 + 50, then 450 and 500 on the
    // second, each proposed on what the ones before left (R-P11). The 450 appears twice in
    // the file: the same payment twice, held for a person (R-P5), carried out between the
    // others.
    // Two more are held for a person and written with the others too: someone else pays
    // the contract (THIRD_PARTY_PAYER, the customer as candidate) and a line names nothing
    // known (NO_CANDIDATE).
    let line = |date: &'static str, amount: &'static str| {
        [date, amount, "CNY", "王五", ACCOUNT, "HT-BULK-1"]
    };
    let first = bank_csv(&[
        line("2026-03-11", "300.00"),
        line("2026-03-12", "350.00"),
        line("2026-03-13", "400.00"),
        line("2026-03-14", "450.00"),
        [
            "2026-03-14",
            "120.00",
            "CNY",
            "赵六",
            "6222029999990777",
            "HT-BULK-1",
        ],
        line("2026-03-14", "450.00"),
        line("2026-03-15", "500.00"),
        [
            "2026-03-15",
            "77.00",
            "CNY",
            "无名氏",
            "6222029999990778",
            "货款",
        ],
    ]);
    let ingested = scenario::ingest(&mut clients, "bulk-1.csv", first)
        .await
        .or_logs(&stack);
    assert_eq!(ingested.lines_accepted, 8, "{ingested:?}");
    assert_eq!(ingested.payments_matched, 5, "{ingested:?}");
    assert_eq!(ingested.exceptions_raised, 3, "{ingested:?}");
    let held = scenario::open_exceptions(&clients).await.or_logs(&stack);
    let mut kinds: Vec<&str> = held.iter().map(|e| e.kind.as_str()).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        ["DUPLICATE", "NO_CANDIDATE", "THIRD_PARTY_PAYER"],
        "{held:?}"
    );
    held_payments_are_recorded_as_one_by_one(&payments_db, &held, &customer, &stack).await;

    // A later file repeats a line of the first (R-P2: the same bank line, never a new
    // payment) and adds a new one: 250 on the third installment.
    let second = bank_csv(&[line("2026-03-13", "400.00"), line("2026-03-16", "250.00")]);
    let again = scenario::ingest(&mut clients, "bulk-2.csv", second)
        .await
        .or_logs(&stack);
    assert_eq!(again.lines_accepted, 1, "{again:?}");
    assert_eq!(again.lines_duplicate, 1, "{again:?}");

    eventually("contracts booked 2,250 in order", EVENTUALLY, || async {
        let mut c = clients.clone();
        let r = scenario::receivables(&mut c, &contract.contract_id).await?;
        let amounts: Vec<&str> = r.iter().map(open_amount).collect();
        Ok((amounts == ["0.00", "0.00", "750.00"]).then_some(()))
    })
    .await
    .or_logs(&stack);

    // R-P10: dunning stopped for the two installments paid in full, once each, and not for
    // the third, paid in part.
    let paid_in_full: Vec<String> = contract.receivables[..2]
        .iter()
        .map(|r| r.receivable_id.clone())
        .collect();
    eventually("dunning stopped for items 1 and 2", EVENTUALLY, || async {
        let actions = scenario::dunning_actions(&clients, &case_id).await?;
        let mut stopped: Vec<String> = actions
            .iter()
            .filter(|a| a.step == "stopped")
            .flat_map(|a| a.receivable_ids.clone())
            .collect();
        stopped.sort();
        let mut want = paid_in_full.clone();
        want.sort();
        Ok((stopped == want).then_some(()))
    })
    .await
    .or_logs(&stack);

    // Contracts booked each once, each proposal as booked.
    let contracts_db = sqlx::PgPool::connect(&stack.database_urls["contracts"])
        .await
        .or_logs(&stack);
    let booked: Vec<(Decimal, bool, Decimal)> = sqlx::query_as(
        "SELECT a.amount, a.differs_from_proposal, (SELECT sum(p.amount) FROM contracts.allocation_parts p WHERE p.allocation_id = a.id)
         FROM contracts.allocations a JOIN contracts.receivables r ON r.id = a.receivable_id
         JOIN contracts.contracts c ON c.id = r.contract_id
         WHERE c.contract_no = 'HT-BULK-1' AND a.status = 'applied'",
    )
    .fetch_all(&contracts_db)
    .await
    .or_logs(&stack);
    // Six payments, the 400 split over two installments: seven allocations.
    let total: Decimal = booked.iter().map(|(a, _, _)| *a).sum();
    assert_eq!(total, Decimal::new(2250, 0), "{booked:?}");
    assert_eq!(booked.len(), 7, "{booked:?}");
    for (amount, differs, parts) in &booked {
        assert_eq!(
            Some(amount),
            Some(parts),
            "parts add up to the allocation: {booked:?}"
        );
        assert!(
            !differs,
            "payments proposed what contracts booked: {booked:?}"
        );
    }

    // Scoring learned each booked allocation once, late (paid after its due date), and the
    // two installments paid in full are closed in its features (issue 16: its runs of
    // payments are the one-by-one rules).
    let scoring_db = sqlx::PgPool::connect(&stack.database_urls["scoring"])
        .await
        .or_logs(&stack);
    eventually("scoring learned the payments", EVENTUALLY, || {
        let pool = scoring_db.clone();
        let receivables: Vec<uuid::Uuid> = contract
            .receivables
            .iter()
            .filter_map(|r| r.receivable_id.parse().ok())
            .collect();
        async move {
            let (n, late, sum): (i64, i64, Option<Decimal>) = sqlx::query_as(
                "SELECT count(*), count(*) FILTER (WHERE late), sum(amount)
                 FROM scoring.receivable_payments WHERE receivable_id = ANY($1)",
            )
            .bind(&receivables)
            .fetch_one(&pool)
            .await?;
            let open: Vec<bool> = sqlx::query_scalar(
                "SELECT is_open FROM scoring.receivable_features WHERE receivable_id = ANY($1)
                 ORDER BY due_date",
            )
            .bind(&receivables)
            .fetch_all(&pool)
            .await?;
            Ok((n == 7
                && late == 7
                && sum == Some(Decimal::new(2250, 0))
                && open == [false, false, true])
            .then_some(()))
        }
    })
    .await
    .or_logs(&stack);

    // Payments' read model ends where contracts is, nothing left reserved.
    eventually("nothing left pending in payments", EVENTUALLY, || {
        let pool = payments_db.clone();
        async move {
            let rows: Vec<(i32, Decimal, Decimal)> = sqlx::query_as(
                "SELECT installment_no, open_amount, pending_amount FROM payments.open_receivables
                 WHERE contract_no = 'HT-BULK-1' ORDER BY installment_no",
            )
            .fetch_all(&pool)
            .await?;
            let want = [(1, 0, 0), (2, 0, 0), (3, 750, 0)];
            let same = rows.len() == 3
                && rows
                    .iter()
                    .zip(want)
                    .all(|((n, open, pending), (wn, wo, wp))| {
                        *n == wn && *open == Decimal::from(wo) && *pending == Decimal::from(wp)
                    });
            Ok(same.then_some(()))
        }
    })
    .await
    .or_logs(&stack);
}

/// What a payment held for a person leaves when a file's held payments are written together
/// (issue 16), as one by one (R-P5): the exception with its reason, suggested action and
/// candidates; the payment in the exception status with no customer and its decision; and
/// one `ExceptionRaised` under the exception's id, keyed like the payment's other events.
async fn held_payments_are_recorded_as_one_by_one(
    payments_db: &sqlx::PgPool,
    held: &[proto::payments::v1::PaymentException],
    customer: &str,
    stack: &devstack::stack::Stack,
) {
    use prost::Message as _;
    use proto::events::v1 as events;

    let third = held
        .iter()
        .find(|e| e.kind == "THIRD_PARTY_PAYER")
        .expect("the third party's payment");
    assert!(!third.reason.is_empty(), "{third:?}");
    assert!(!third.suggested_action.is_empty(), "{third:?}");
    assert_eq!(third.candidates.len(), 1, "{third:?}");
    let candidate = &third.candidates[0];
    assert_eq!(candidate.customer_id, customer, "{third:?}");
    assert_eq!(candidate.contract_nos, ["HT-BULK-1"], "{third:?}");
    assert!(!candidate.evidence.is_empty(), "{third:?}");
    assert!(!candidate.allocations.is_empty(), "{third:?}");
    let nothing = held
        .iter()
        .find(|e| e.kind == "NO_CANDIDATE")
        .expect("the payment naming nothing");
    assert!(nothing.candidates.is_empty(), "{nothing:?}");
    assert!(!nothing.reason.is_empty(), "{nothing:?}");
    assert!(!nothing.suggested_action.is_empty(), "{nothing:?}");

    for exception in held {
        let payment_id: uuid::Uuid = exception.payment_id.parse().or_logs(stack);
        let (status, customer_id, receivable_id, decided): (
            String,
            Option<uuid::Uuid>,
            Option<uuid::Uuid>,
            bool,
        ) = sqlx::query_as(
            "SELECT p.status, p.customer_id, p.receivable_id,
                    EXISTS (SELECT 1 FROM payments.payment_decisions d WHERE d.payment_id = p.id)
             FROM payments.payments p WHERE p.id = $1",
        )
        .bind(payment_id)
        .fetch_one(payments_db)
        .await
        .or_logs(stack);
        assert_eq!(
            (status.as_str(), customer_id, receivable_id, decided),
            ("exception", None, None, true),
            "{exception:?}"
        );
    }

    let envelopes: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
        "SELECT event_type, message_key, envelope FROM payments.outbox
         WHERE event_type LIKE '%ExceptionRaised' OR event_type LIKE '%PaymentReceived'",
    )
    .fetch_all(payments_db)
    .await
    .or_logs(stack);
    let mut received_under = std::collections::HashMap::new();
    let mut raised_under = Vec::new();
    for (event_type, key, bytes) in &envelopes {
        let envelope = events::Envelope::decode(bytes.as_slice()).or_logs(stack);
        if event_type.ends_with("PaymentReceived") {
            let event = events::PaymentReceived::decode(envelope.payload.as_slice()).or_logs(stack);
            received_under.insert(event.payment_id, key.clone());
        } else {
            let event = events::ExceptionRaised::decode(envelope.payload.as_slice()).or_logs(stack);
            raised_under.push((key.clone(), event));
        }
    }
    let mut raised: Vec<(String, String, String)> = Vec::new();
    for (key, event) in raised_under {
        assert_eq!(
            received_under.get(&event.payment_id),
            Some(&key),
            "ExceptionRaised {event:?} keyed like its payment's PaymentReceived"
        );
        raised.push((event.exception_id, event.payment_id, event.kind));
    }
    raised.sort();
    let mut want: Vec<(String, String, String)> = held
        .iter()
        .map(|e| (e.exception_id.clone(), e.payment_id.clone(), e.kind.clone()))
        .collect();
    want.sort();
    assert_eq!(raised, want);
}

/// Issue 16: dunning and payments take in a run of signed contracts together (contract
/// runs). What they learn must be what one by one learns: in dunning each debtor once under
/// the name it signed with, each installment reminded of before it falls due (R-D1) and
/// counted as scheduled once (R-O7), and the owners contracts recorded (R-O3), the later
/// owner where one customer signs twice in the run; in payments every receivable in the read
/// model with the payer's account as its blind index (R-O4) and in the ledger, so a payment
/// on it is applied (R-P4).
#[tokio::test(flavor = "multi_thread")]
async fn a_run_of_signed_contracts_is_learned_as_one_by_one_r_d1_r_o3_r_o4_r_o7_r_p4() {
    let (mut stack, mut clients) = start().await;
    // Dunning and payments are down while customers sign, so they find them waiting and
    // take them in runs.
    stack.kill("dunning").or_logs(&stack);
    stack.kill("payments").or_logs(&stack);
    let mut customers = Vec::new();
    let mut receivables = 0;
    for n in 0..6 {
        let name = format!("签约客户{n}");
        let account = format!("62220210000088{n:02}");
        let customer = scenario::create_customer_with_accounts(&mut clients, &name, &[&account])
            .await
            .or_logs(&stack);
        // The first customer signs twice: one debtor, two contracts' owners.
        for k in 0..if n == 0 { 2 } else { 1 } {
            let contract = scenario::create_contract(
                &mut clients,
                &customer,
                &format!("HT-RUN-{n}-{k}"),
                &[("800.00", "2027-01-10"), ("800.00", "2027-02-10")],
            )
            .await
            .or_logs(&stack);
            receivables += contract.receivables.len();
        }
        customers.push((customer, name));
    }
    stack.restart("payments").await.or_logs(&stack);
    stack.restart("dunning").await.or_logs(&stack);

    let dunning_db = sqlx::PgPool::connect(&stack.database_urls["dunning"])
        .await
        .or_logs(&stack);
    let ids: Vec<uuid::Uuid> = customers
        .iter()
        .map(|(c, _)| c.parse().expect("a customer id is a UUID"))
        .collect();
    eventually("dunning knows every installment", EVENTUALLY, || {
        let (pool, ids) = (dunning_db.clone(), ids.clone());
        async move {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM dunning.upcoming WHERE customer_id = ANY($1) AND status = 'open'",
            )
            .bind(&ids)
            .fetch_one(&pool)
            .await?;
            Ok((usize::try_from(n).ok() == Some(receivables)).then_some(()))
        }
    })
    .await
    .or_logs(&stack);

    // Each debtor once, under the name signed with.
    let mut debtors: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("SELECT customer_id, name FROM dunning.debtors WHERE customer_id = ANY($1)")
            .bind(&ids)
            .fetch_all(&dunning_db)
            .await
            .or_logs(&stack);
    debtors.sort();
    let mut want: Vec<(uuid::Uuid, String)> = ids
        .iter()
        .zip(&customers)
        .map(|(id, (_, name))| (*id, name.clone()))
        .collect();
    want.sort();
    assert_eq!(debtors, want);

    // R-O7: each installment counted as scheduled once, at its amount and due date.
    let scheduled: Vec<(i64, i64, Decimal)> = sqlx::query_as(
        "SELECT count(*), count(DISTINCT receivable_id), sum(owed) FROM dunning.kpi_balances
         WHERE customer_id = ANY($1) AND kind = 'scheduled' AND due_date IN ('2027-01-10', '2027-02-10')",
    )
    .bind(&ids)
    .fetch_all(&dunning_db)
    .await
    .or_logs(&stack);
    let total = Decimal::new(800, 0) * Decimal::from(receivables);
    assert_eq!(
        scheduled,
        [(
            i64::try_from(receivables).unwrap_or(0),
            i64::try_from(receivables).unwrap_or(0),
            total
        )]
    );

    // R-O3: the owners dunning scopes by are the ones contracts recorded.
    let contracts_db = sqlx::PgPool::connect(&stack.database_urls["contracts"])
        .await
        .or_logs(&stack);
    let owners = |schema: &'static str, pool: sqlx::PgPool| {
        let ids = ids.clone();
        async move {
            let mut rows: Vec<(uuid::Uuid, String, String, String)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!(
                    "SELECT customer_id, scope_key, owner, team FROM {schema}.owners
                 WHERE customer_id = ANY($1)"
                )))
                .bind(&ids)
                .fetch_all(&pool)
                .await?;
            rows.sort();
            anyhow::Ok(rows)
        }
    };
    let recorded = owners("contracts", contracts_db).await.or_logs(&stack);
    let learned = owners("dunning", dunning_db).await.or_logs(&stack);
    assert!(!recorded.is_empty(), "contracts records owners (R-O3)");
    assert_eq!(learned, recorded);

    // Payments: each receivable once, at its amount, with the payer's account as its blind
    // index and masked form only (R-O4).
    let payments_db = sqlx::PgPool::connect(&stack.database_urls["payments"])
        .await
        .or_logs(&stack);
    eventually("payments knows every installment", EVENTUALLY, || {
        let pool = payments_db.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM payments.open_receivables WHERE contract_no LIKE 'HT-RUN-%'",
            )
            .fetch_one(&pool)
            .await?;
            Ok((usize::try_from(n).ok() == Some(receivables)).then_some(()))
        }
    })
    .await
    .or_logs(&stack);
    type Row = (String, i32, Decimal, Vec<String>, Vec<String>);
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT contract_no, installment_no, open_amount, payer_account_indexes, payer_accounts_masked
         FROM payments.open_receivables WHERE contract_no LIKE 'HT-RUN-%' ORDER BY contract_no, installment_no",
    )
    .fetch_all(&payments_db)
    .await
    .or_logs(&stack);
    assert_eq!(rows.len(), receivables, "{rows:?}");
    for (no, n, open, indexes, masked) in &rows {
        assert_eq!(*open, Decimal::new(800, 0), "{no} {n}");
        assert_eq!((indexes.len(), masked.len()), (1, 1), "{no} {n}");
        let customer = no.split('-').nth(2).unwrap_or_default();
        let account = format!("62220210000088{customer:0>2}");
        assert_eq!(masked, &[kit::wire::mask(&account)], "{no} {n}");
        assert!(
            !indexes[0].is_empty() && !indexes[0].contains(&account),
            "{no} {n}: {indexes:?}"
        );
    }
    // The ledger has them: payments from the payers' accounts naming the contracts apply,
    // the first installment of every contract, on time. Scoring is down meanwhile, so it
    // takes the confirmations in runs too.
    stack.kill("scoring").or_logs(&stack);
    let contract_nos: Vec<(usize, String)> = (0..6)
        .flat_map(|n| (0..if n == 0 { 2 } else { 1 }).map(move |k| (n, format!("HT-RUN-{n}-{k}"))))
        .collect();
    let lines: Vec<(String, String, String)> = contract_nos
        .iter()
        .map(|(n, no)| {
            (
                format!("签约客户{n}"),
                format!("62220210000088{n:02}"),
                no.clone(),
            )
        })
        .collect();
    let rows: Vec<[&str; 6]> = lines
        .iter()
        .map(|(name, account, no)| ["2027-01-08", "800.00", "CNY", name, account, no])
        .collect();
    let ingested = scenario::ingest(&mut clients, "run-paid.csv", bank_csv(&rows))
        .await
        .or_logs(&stack);
    assert_eq!(ingested.payments_matched, 7, "{ingested:?}");
    let paid_items: Vec<uuid::Uuid> = sqlx::query_scalar(
        "SELECT receivable_id FROM payments.open_receivables
         WHERE contract_no LIKE 'HT-RUN-%' AND installment_no = 1",
    )
    .fetch_all(&payments_db)
    .await
    .or_logs(&stack);
    assert_eq!(paid_items.len(), 7);
    eventually("contracts confirmed the seven", EVENTUALLY, || {
        let pool = payments_db.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM payments.payments WHERE reconciled_at IS NOT NULL AND reference LIKE 'HT-RUN-%'",
            )
            .fetch_one(&pool)
            .await?;
            Ok((n == 7).then_some(()))
        }
    })
    .await
    .or_logs(&stack);
    stack.restart("scoring").await.or_logs(&stack);

    // Scoring learns each once, on time (booked before the due date), the installment
    // closed.
    let scoring_db = sqlx::PgPool::connect(&stack.database_urls["scoring"])
        .await
        .or_logs(&stack);
    eventually("scoring learned the payments", EVENTUALLY, || {
        let (pool, items) = (scoring_db.clone(), paid_items.clone());
        async move {
            let rows: Vec<(bool, Decimal, bool)> = sqlx::query_as(
                "SELECT p.late, p.amount, f.is_open FROM scoring.receivable_payments p
                 JOIN scoring.receivable_features f ON f.receivable_id = p.receivable_id
                 WHERE p.receivable_id = ANY($1)",
            )
            .bind(&items)
            .fetch_all(&pool)
            .await?;
            Ok((rows == [(false, Decimal::new(800, 0), false); 7]).then_some(()))
        }
    })
    .await
    .or_logs(&stack);
}

/// Issue 16: dunning and legal take a run of the daily cycle's overdue reports together
/// (overdue runs). What they learn must be what one by one learns: each debtor's one active
/// case (R-D3), kept where one is open and opened on the report's day otherwise, at the grade
/// scoring gave; each item with what contracts says is owed on it, the late fee apart
/// (R-D12), and its days overdue; each balance counted as overdue once (R-O7); every report
/// counted for the day, so the day's ladder runs (R-D3); legal's figures for each item (the
/// claim a later case would make, R-L1); an installment already handed to legal left out of
/// ordinary dunning (R-L5). Then a run of payments settles one debtor's case: dunning stops
/// for each item (R-P10) and closes the case in one statement.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_of_overdue_reports_is_learned_as_one_by_one_and_a_paid_case_closes_r_d3_r_d12_r_l1_r_l5_r_o7_r_p10()
 {
    let (mut stack, mut clients) = start().await;
    const FEE: &str =
        r#"{"name": "1 per mille a day", "accrual": {"kind": "flat_daily", "daily_rate": "1‰"}}"#;
    // Four debtors fall overdue on 2026-02-11 while dunning is up (cases open one by one),
    // two more only by 2026-03-11; every other one pays a late fee. A seventh owes 10,000
    // yuan 37 days overdue on 2026-02-11: escalated to legal at once (the most severe step
    // due, R-D7), and its second installment falls overdue by 2026-03-11.
    let mut customers = Vec::new();
    let mut contracts = Vec::new();
    for n in 0..7 {
        let account = format!("62220210000099{n:02}");
        let customer = scenario::create_customer_with_accounts(
            &mut clients,
            &format!("逾期客户{n}"),
            &[&account],
        )
        .await
        .or_logs(&stack);
        let installments: &[(&str, &str)] = if n == 6 {
            &[("10000.00", "2026-01-05"), ("1000.00", "2026-03-01")]
        } else if n < 4 {
            &[("1000.00", "2026-01-10"), ("1000.00", "2026-02-20")]
        } else {
            &[("1000.00", "2026-02-20"), ("1000.00", "2026-03-01")]
        };
        let contract = scenario::create_contract_with_policy(
            &mut clients,
            &customer,
            &format!("HT-OVERDUE-{n}"),
            installments,
            if n % 2 == 0 { FEE } else { "" },
        )
        .await
        .or_logs(&stack);
        customers.push(customer);
        contracts.push(contract);
    }
    let ids: Vec<uuid::Uuid> = customers
        .iter()
        .map(|c| c.parse().expect("a customer id is a UUID"))
        .collect();
    let dunning_db = sqlx::PgPool::connect(&stack.database_urls["dunning"])
        .await
        .or_logs(&stack);
    scenario::run_cycle(&mut clients, "2026-02-11")
        .await
        .or_logs(&stack);
    active_cases(&stack, &dunning_db, &ids, 4).await;
    // The seventh's first installment is with legal (R-L5) before dunning goes down.
    let with_legal: uuid::Uuid = contracts[6].receivables[0]
        .receivable_id
        .parse()
        .expect("a receivable id is a UUID");
    let escalated: (uuid::Uuid, i32) = eventually("the 10,000 handed to legal", EVENTUALLY, || {
        let pool = dunning_db.clone();
        async move {
            Ok(sqlx::query_as(
                "SELECT l.case_id, i.days_overdue FROM dunning.receivables_in_legal l
                 JOIN dunning.case_items i ON i.case_id = l.case_id AND i.receivable_id = l.receivable_id
                 JOIN dunning.cases c ON c.id = l.case_id
                 WHERE l.receivable_id = $1 AND c.status = 'escalated'",
            )
            .bind(with_legal)
            .fetch_optional(&pool)
            .await?)
        }
    })
    .await
    .or_logs(&stack);
    assert_eq!(escalated.1, 37, "2026-01-05 to 2026-02-11");
    let before: Vec<(uuid::Uuid, uuid::Uuid)> = sqlx::query_as(
        "SELECT customer_id, id FROM dunning.cases WHERE customer_id = ANY($1) AND status = 'active'",
    )
    .bind(&ids)
    .fetch_all(&dunning_db)
    .await
    .or_logs(&stack);

    // Dunning, legal and scoring are down while the next day's cycle reports twelve items
    // overdue, so they find the reports waiting and take them in runs.
    stack.kill("dunning").or_logs(&stack);
    stack.kill("legal").or_logs(&stack);
    stack.kill("scoring").or_logs(&stack);
    scenario::run_cycle(&mut clients, "2026-03-11")
        .await
        .or_logs(&stack);
    stack.restart("scoring").await.or_logs(&stack);
    stack.restart("legal").await.or_logs(&stack);
    stack.restart("dunning").await.or_logs(&stack);

    // R-D3: every report counted, so the day's ladder ran.
    eventually("dunning ran the ladder of 2026-03-11", EVENTUALLY, || {
        let pool = dunning_db.clone();
        async move {
            let status: Option<String> = sqlx::query_scalar(
                "SELECT status FROM dunning.ladder_days WHERE business_date = '2026-03-11'",
            )
            .fetch_optional(&pool)
            .await?;
            Ok((status.as_deref() == Some("done")).then_some(()))
        }
    })
    .await
    .or_logs(&stack);

    // One active case each: the four kept, two opened on the day, at the grade dunning
    // knows for the debtor.
    let cases: Vec<(uuid::Uuid, uuid::Uuid, chrono::NaiveDate, String, String)> = sqlx::query_as(
        "SELECT c.customer_id, c.id, c.opened_on, c.grade, COALESCE(g.grade, '')
         FROM dunning.cases c LEFT JOIN dunning.customer_grades g ON g.customer_id = c.customer_id
         WHERE c.customer_id = ANY($1) AND c.status = 'active' ORDER BY c.customer_id",
    )
    .bind(&ids)
    .fetch_all(&dunning_db)
    .await
    .or_logs(&stack);
    assert_eq!(cases.len(), 7, "{cases:?}");
    for (customer, case, opened_on, grade, known) in &cases {
        let n = ids.iter().position(|i| i == customer).unwrap_or(usize::MAX);
        let kept = before.iter().find(|(c, _)| c == customer).map(|(_, id)| id);
        let day = if n < 4 { "2026-02-11" } else { "2026-03-11" };
        assert_eq!(opened_on.to_string(), day, "customer {n}");
        if n < 4 {
            assert_eq!(kept, Some(case), "customer {n} keeps its case");
        }
        assert_eq!(
            grade, known,
            "customer {n}: the case carries the debtor's grade"
        );
    }

    // Each item as contracts reports it: owed apart from the late fee, the late fee, the
    // principal, the days overdue; each balance counted as overdue once on the day (R-O7);
    // legal's figures the same.
    let legal_db = sqlx::PgPool::connect(&stack.database_urls["legal"])
        .await
        .or_logs(&stack);
    let scoring_db = sqlx::PgPool::connect(&stack.database_urls["scoring"])
        .await
        .or_logs(&stack);
    for (n, contract) in contracts.iter().enumerate() {
        let reported = scenario::receivables(&mut clients, &contract.contract_id)
            .await
            .or_logs(&stack);
        assert_eq!(reported.len(), 2);
        for r in &reported {
            let owed = kit::wire::parse_owed(r.owed.as_ref().expect("contracts reports owed"))
                .expect("owed figures parse");
            let id: uuid::Uuid = r.receivable_id.parse().expect("a receivable id is a UUID");
            if id == with_legal {
                // R-L5: the report of the installment with legal leaves it where it is: in
                // the escalated case, as it was when handed over; the debtor's new case
                // holds the other installment only.
                let items: Vec<(uuid::Uuid, String, i32)> = sqlx::query_as(
                    "SELECT case_id, status, days_overdue FROM dunning.case_items
                     WHERE receivable_id = $1",
                )
                .bind(id)
                .fetch_all(&dunning_db)
                .await
                .or_logs(&stack);
                assert_eq!(items, [(escalated.0, "escalated".to_owned(), 37)]);
                let active: Vec<uuid::Uuid> = sqlx::query_scalar(
                    "SELECT i.receivable_id FROM dunning.case_items i
                     JOIN dunning.cases c ON c.id = i.case_id
                     WHERE c.customer_id = $1 AND c.status = 'active'",
                )
                .bind(ids[n])
                .fetch_all(&dunning_db)
                .await
                .or_logs(&stack);
                let other: uuid::Uuid = contracts[6].receivables[1]
                    .receivable_id
                    .parse()
                    .expect("a receivable id is a UUID");
                assert_eq!(active, [other]);
            } else {
                let item: (uuid::Uuid, Decimal, Decimal, Decimal, i32, String) = sqlx::query_as(
                    "SELECT c.customer_id, i.open_amount, i.late_fee, i.principal, i.days_overdue, i.status
                     FROM dunning.case_items i JOIN dunning.cases c ON c.id = i.case_id
                     WHERE i.receivable_id = $1",
                )
                .bind(id)
                .fetch_one(&dunning_db)
                .await
                .or_logs(&stack);
                assert_eq!(
                    item,
                    (
                        ids[n],
                        owed.total() - owed.late_fee,
                        owed.late_fee,
                        owed.principal,
                        i32::try_from(r.days_overdue).unwrap_or(-1),
                        "open".to_owned()
                    ),
                    "customer {n}, installment {}",
                    r.installment_no
                );
            }
            assert_eq!(
                owed.late_fee.is_zero(),
                n % 2 == 1,
                "customer {n}: {owed:?}"
            );
            let balances: Vec<Decimal> = sqlx::query_scalar(
                "SELECT owed FROM dunning.kpi_balances
                 WHERE receivable_id = $1 AND kind = 'overdue' AND on_date = '2026-03-11'",
            )
            .bind(id)
            .fetch_all(&dunning_db)
            .await
            .or_logs(&stack);
            assert_eq!(balances, [owed.total()], "customer {n}");
            // Scoring: overdue, ever late, as of the day, with what is open (R-S1 features).
            eventually("scoring learned the item", EVENTUALLY, || {
                let pool = scoring_db.clone();
                let days = i32::try_from(r.days_overdue).unwrap_or(-1);
                async move {
                    let row: Option<(i32, bool, bool, chrono::NaiveDate, Decimal)> =
                        sqlx::query_as(
                            "SELECT days_overdue, is_open, ever_late, as_of, open_amount
                             FROM scoring.receivable_features WHERE receivable_id = $1",
                        )
                        .bind(id)
                        .fetch_optional(&pool)
                        .await?;
                    Ok(row
                        .filter(|(d, open, late, on, amount)| {
                            *d == days
                                && *open
                                && *late
                                && on.to_string() == "2026-03-11"
                                && *amount == owed.principal
                        })
                        .map(drop))
                }
            })
            .await
            .or_logs(&stack);
            eventually("legal learned the figures", EVENTUALLY, || {
                let pool = legal_db.clone();
                async move {
                    let row: Option<(Decimal, Decimal, Decimal)> = sqlx::query_as(
                        "SELECT open_amount, late_fee, principal FROM legal.receivable_balances
                         WHERE receivable_id = $1",
                    )
                    .bind(id)
                    .fetch_optional(&pool)
                    .await?;
                    Ok((row == Some((owed.total(), owed.late_fee, owed.principal))).then_some(()))
                }
            })
            .await
            .or_logs(&stack);
        }
    }

    // Customer 1 pays both installments while dunning is down: dunning takes the
    // confirmations in a run, stops for both (R-P10) and closes the case on the payment's
    // day; customer 3 pays one of two and its case stays open.
    stack.kill("dunning").or_logs(&stack);
    // Reporting too: it takes the payments' events of several types in one run (issue 16).
    stack.kill("reporting").or_logs(&stack);
    let line = |n: usize, date: &'static str, amount: &'static str| {
        [
            date.to_owned(),
            amount.to_owned(),
            "CNY".to_owned(),
            format!("逾期客户{n}"),
            format!("62220210000099{n:02}"),
            format!("HT-OVERDUE-{n}"),
        ]
    };
    // One payment of 2,000 pays both of customer 1's installments (two confirmations, one
    // per installment: a run names each receivable once).
    let rows = [
        line(1, "2026-03-13", "2000.00"),
        line(3, "2026-03-12", "1000.00"),
    ];
    let rows: Vec<[&str; 6]> = rows
        .iter()
        .map(|r| [&*r[0], &*r[1], &*r[2], &*r[3], &*r[4], &*r[5]])
        .collect();
    let ingested = scenario::ingest(&mut clients, "overdue-paid.csv", bank_csv(&rows))
        .await
        .or_logs(&stack);
    assert_eq!(ingested.payments_matched, 2, "{ingested:?}");
    let payments_db = sqlx::PgPool::connect(&stack.database_urls["payments"])
        .await
        .or_logs(&stack);
    eventually("contracts confirmed the two", EVENTUALLY, || {
        let pool = payments_db.clone();
        async move {
            let (n,): (i64,) = sqlx::query_as(
                "SELECT count(*) FROM payments.payments
                 WHERE reconciled_at IS NOT NULL AND reference LIKE 'HT-OVERDUE-%'",
            )
            .fetch_one(&pool)
            .await?;
            Ok((n == 2).then_some(()))
        }
    })
    .await
    .or_logs(&stack);
    stack.restart("dunning").await.or_logs(&stack);
    stack.restart("reporting").await.or_logs(&stack);
    // The trace has each payment's steps once: received, applied per installment.
    let reporting_db = sqlx::PgPool::connect(&stack.database_urls["reporting"])
        .await
        .or_logs(&stack);
    let paid: Vec<uuid::Uuid> = ingested
        .payment_ids
        .iter()
        .map(|p| p.parse().expect("a payment id is a UUID"))
        .collect();
    eventually("reporting traced the payments", EVENTUALLY, || {
        let (pool, paid) = (reporting_db.clone(), paid.clone());
        async move {
            let steps: Vec<(String, i64)> = sqlx::query_as(
                "SELECT event, count(*) FROM reporting.timeline WHERE payment_id = ANY($1)
                 AND event IN ('PaymentReceived', 'AllocationApplied') GROUP BY event ORDER BY event",
            )
            .bind(&paid)
            .fetch_all(&pool)
            .await?;
            let want = [
                ("AllocationApplied".to_owned(), 3),
                ("PaymentReceived".to_owned(), 2),
            ];
            Ok((steps == want).then_some(()))
        }
    })
    .await
    .or_logs(&stack);
    // R-O1: reporting took each payment's principal off its item, once (with the trace).
    let paid_items: Vec<uuid::Uuid> = [&contracts[1], &contracts[3]]
        .iter()
        .flat_map(|c| c.receivables.iter())
        .map(|r| r.receivable_id.parse().expect("a receivable id is a UUID"))
        .collect();
    let moved: (i64, Option<Decimal>) = sqlx::query_as(
        "SELECT count(*), sum(principal) FROM reporting.movements
         WHERE kind = 'paid' AND receivable_id = ANY($1)",
    )
    .bind(&paid_items)
    .fetch_one(&reporting_db)
    .await
    .or_logs(&stack);
    assert_eq!(moved, (3, Some(Decimal::new(-3000, 0))));
    eventually("dunning closed customer 1's case", EVENTUALLY, || {
        let (pool, customer) = (dunning_db.clone(), ids[1]);
        async move {
            let row: Option<(String, Option<chrono::NaiveDate>)> = sqlx::query_as(
                "SELECT status, closed_on FROM dunning.cases WHERE customer_id = $1 AND status <> 'active'",
            )
            .bind(customer)
            .fetch_optional(&pool)
            .await?;
            Ok(row.filter(|(status, on)| {
                status == "paid" && on.map(|d| d.to_string()).as_deref() == Some("2026-03-13")
            }))
        }
    })
    .await
    .or_logs(&stack);
    let stopped: Vec<(uuid::Uuid, i64)> = sqlx::query_as(
        "SELECT c.customer_id, count(*) FROM dunning.actions a JOIN dunning.cases c ON c.id = a.case_id
         WHERE a.step = 'stopped' AND c.customer_id = ANY($1) GROUP BY c.customer_id ORDER BY 2",
    )
    .bind(&ids[..4])
    .fetch_all(&dunning_db)
    .await
    .or_logs(&stack);
    let mut want = vec![(ids[3], 1), (ids[1], 2)];
    want.sort_by_key(|w| w.1);
    assert_eq!(stopped, want);
    // R-O7, R-D11: what the run taught the KPI balances is what kpis::changed teaches one by
    // one: each item paid, nothing owed after it on the payment's day, with its debtor,
    // currency and due date, and overdue (the cycle reported it so; paid after it fell due).
    let learned: Vec<(
        uuid::Uuid,
        uuid::Uuid,
        String,
        chrono::NaiveDate,
        chrono::NaiveDate,
        Decimal,
        bool,
    )> = sqlx::query_as(
        "SELECT receivable_id, customer_id, currency, on_date, due_date, owed, overdue
             FROM dunning.kpi_balances WHERE kind = 'paid' AND receivable_id = ANY($1)
             ORDER BY on_date, due_date",
    )
    .bind(&paid_items)
    .fetch_all(&dunning_db)
    .await
    .or_logs(&stack);
    let item = |n: usize, i: usize, on: &str| {
        let r = &contracts[n].receivables[i];
        (
            r.receivable_id
                .parse::<uuid::Uuid>()
                .expect("a receivable id is a UUID"),
            ids[n],
            "CNY".to_owned(),
            on.parse::<chrono::NaiveDate>().expect("a date"),
            r.due_date.parse::<chrono::NaiveDate>().expect("a due date"),
            Decimal::ZERO,
            true,
        )
    };
    assert_eq!(
        learned,
        [
            item(3, 0, "2026-03-12"),
            item(1, 0, "2026-03-13"),
            item(1, 1, "2026-03-13")
        ]
    );
    let (active,): (i64,) = sqlx::query_as(
        "SELECT count(*) FROM dunning.cases WHERE customer_id = $1 AND status = 'active'",
    )
    .bind(ids[3])
    .fetch_one(&dunning_db)
    .await
    .or_logs(&stack);
    assert_eq!(active, 1, "customer 3 still owes the second installment");
}

/// Issue 16: dunning takes a run of scoring's grade changes together (two statements). What
/// it learns must be what one by one learns: each customer's last grade, on its record and on
/// its active case, whose strategy the grade drives (R-S3, R-S4); a customer with no case is
/// recorded too.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_of_grade_changes_leaves_each_debtor_at_the_last_grade_r_s3_r_s4() {
    use prost::Message as _;

    let (mut stack, mut clients) = start().await;
    // Two debtors with an installment each, a third customer with no contract.
    let mut customers = Vec::new();
    for n in 0..3 {
        let customer = scenario::create_customer_with_accounts(
            &mut clients,
            &format!("评级客户{n}"),
            &[&format!("62220210000088{n:02}")],
        )
        .await
        .or_logs(&stack);
        if n < 2 {
            scenario::create_contract(
                &mut clients,
                &customer,
                &format!("HT-GRADES-{n}"),
                &[("1000.00", "2026-01-10")],
            )
            .await
            .or_logs(&stack);
        }
        customers.push(customer);
    }
    let ids: Vec<uuid::Uuid> = customers
        .iter()
        .map(|c| c.parse().expect("a customer id is a UUID"))
        .collect();
    let dunning_db = sqlx::PgPool::connect(&stack.database_urls["dunning"])
        .await
        .or_logs(&stack);
    let grades = |pool: sqlx::PgPool, ids: Vec<uuid::Uuid>| async move {
        let rows: Vec<(uuid::Uuid, String)> = sqlx::query_as(
            "SELECT customer_id, grade FROM dunning.customer_grades
             WHERE customer_id = ANY($1) ORDER BY customer_id",
        )
        .bind(&ids)
        .fetch_all(&pool)
        .await?;
        anyhow::Ok(rows)
    };
    // Scoring grades the two debtors when they sign (R-S1); then it stops, so every grade
    // change that follows is one of this test's.
    eventually(
        "dunning knows the debtors' first grades",
        EVENTUALLY,
        || {
            let (pool, ids) = (dunning_db.clone(), ids[..2].to_vec());
            async move { Ok((grades(pool, ids).await?.len() == 2).then_some(())) }
        },
    )
    .await
    .or_logs(&stack);
    stack.kill("scoring").or_logs(&stack);
    scenario::run_cycle(&mut clients, "2026-01-20")
        .await
        .or_logs(&stack);
    active_cases(&stack, &dunning_db, &ids, 2).await;

    // Dunning is down while scoring's grades move several times, so it finds them waiting
    // and takes them in a run: the last of each customer counts.
    stack.kill("dunning").or_logs(&stack);
    let producer = kit::kafka::producer(
        &stack.kafka,
        "e2e-grade-runs",
        kit::kafka::Compression::default(),
    )
    .or_logs(&stack);
    let moves = [
        (0, "BBB", 700),
        (1, "CC", 420),
        (0, "CCC", 480),
        (2, "AA", 880),
        (1, "D", 300),
        (0, "B", 560),
    ];
    for (n, grade, score) in moves {
        let event = proto::events::v1::GradeChanged {
            customer_id: customers[n].clone(),
            grade: grade.to_owned(),
            score,
            scorecard_version: "pts-v1".to_owned(),
            ..Default::default()
        };
        let envelope = kit::events::envelope("scoring", &event.customer_id, &event);
        crate::helpers::publish(
            &producer,
            &stack,
            kit::events::SCORING_GRADES,
            &event.customer_id,
            &envelope.encode_to_vec(),
        )
        .await
        .or_logs(&stack);
    }
    stack.restart("dunning").await.or_logs(&stack);

    let mut want: Vec<(uuid::Uuid, String)> = vec![
        (ids[0], "B".to_owned()),
        (ids[1], "D".to_owned()),
        (ids[2], "AA".to_owned()),
    ];
    want.sort();
    eventually(
        "dunning learned each customer's last grade",
        EVENTUALLY,
        || {
            let (pool, ids, want) = (dunning_db.clone(), ids.clone(), want.clone());
            async move { Ok((grades(pool, ids).await? == want).then_some(())) }
        },
    )
    .await
    .or_logs(&stack);
    let cases: Vec<(uuid::Uuid, String)> = sqlx::query_as(
        "SELECT customer_id, grade FROM dunning.cases
         WHERE customer_id = ANY($1) AND status = 'active' ORDER BY customer_id",
    )
    .bind(&ids)
    .fetch_all(&dunning_db)
    .await
    .or_logs(&stack);
    let mut on_cases = vec![(ids[0], "B".to_owned()), (ids[1], "D".to_owned())];
    on_cases.sort();
    assert_eq!(
        cases, on_cases,
        "each active case at its debtor's last grade"
    );
}

/// Waits until dunning has `n` active cases among the `customers`.
async fn active_cases(
    stack: &devstack::Stack,
    dunning_db: &sqlx::PgPool,
    customers: &[uuid::Uuid],
    n: i64,
) {
    eventually(
        &format!("{n} active dunning cases"),
        EVENTUALLY,
        || async move {
            let (active,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM dunning.cases WHERE customer_id = ANY($1) AND status = 'active'",
        )
        .bind(customers)
        .fetch_one(dunning_db)
        .await?;
            Ok((active == n).then_some(()))
        },
    )
    .await
    .or_logs(stack);
}
