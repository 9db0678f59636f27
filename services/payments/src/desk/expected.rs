//! Credits the bank is expected to show that are no new payments: desk deposits and the batches of wallet and card settlement reports (R-P1, R-P7).

use std::collections::HashMap;

use super::instruments::Clearing;
use super::*;

/// A bank line that is an expected credit (a desk deposit, a settlement batch's payout).
pub(crate) struct Linked {
    pub(crate) id: Uuid,
    subject: String,
    /// Set when the line names the credit but its amount differs.
    expected: Option<Decimal>,
}

/// What the bank lines of one file may be besides new payments: the open expected credits
/// and the pending acknowledgments (R-P3) of the accounts and currencies the file credits,
/// read and locked once per file (not once per line), and used up as lines take them.
pub(crate) struct Awaited {
    credits: HashMap<(String, String), Vec<store::OpenExpected>>,
    acknowledgments: HashMap<(String, String), Vec<AcknowledgmentRow>>,
}

impl Awaited {
    pub(crate) async fn load(
        tx: &mut PgConnection,
        engine: &Engine,
        lines: &[Incoming],
    ) -> Result<Self, ApiError> {
        let mut keys: Vec<(String, String)> = lines
            .iter()
            .filter(|l| l.settlement.is_none())
            .map(|l| {
                (
                    engine.account_index(&l.receiving_account),
                    l.currency.clone(),
                )
            })
            .filter(|(account, _)| !account.is_empty())
            .collect();
        keys.sort();
        keys.dedup();
        let mut awaited = Self {
            credits: HashMap::new(),
            acknowledgments: HashMap::new(),
        };
        for (account, currency) in keys {
            let credits = store::open_expected_credits(tx, &account, &currency).await?;
            let acks = store::pending_acknowledgments(tx, &account, &currency).await?;
            awaited
                .credits
                .insert((account.clone(), currency.clone()), credits);
            awaited.acknowledgments.insert((account, currency), acks);
        }
        Ok(awaited)
    }

    /// The expected credit `line` shows, if it is one (see `domain::settlement::decide`).
    pub(crate) fn expected_of(&self, engine: &Engine, line: &Incoming) -> Option<Linked> {
        if line.settlement.is_some() {
            return None;
        }
        let key = (
            engine.account_index(&line.receiving_account),
            line.currency.clone(),
        );
        let open = self.credits.get(&key)?;
        let candidates: Vec<settlement::Expected> = open
            .iter()
            .map(|o| settlement::Expected {
                id: o.id,
                amount: o.amount,
                key: o.reference_key.clone(),
                hints: o.hints.clone(),
            })
            .collect();
        let (id, expected) = match settlement::decide(&line.reference, line.amount, &candidates) {
            settlement::CreditMatch::None => return None,
            settlement::CreditMatch::Exact(id) => (id, None),
            settlement::CreditMatch::Mismatch { id, expected } => (id, Some(expected)),
        };
        let subject = open
            .iter()
            .find(|o| o.id == id)
            .map(|o| o.subject.clone())
            .unwrap_or_default();
        Some(Linked {
            id,
            subject,
            expected,
        })
    }

    /// The expected credit was linked to a line: no other line takes it.
    pub(crate) fn linked(&mut self, id: Uuid) {
        for open in self.credits.values_mut() {
            open.retain(|o| o.id != id);
        }
    }

    /// The pending acknowledgment `line` clears, if any: presented to the line's account, the
    /// same amount and currency, its number in the line's reference; taken by this line.
    pub(crate) fn clearing_of(&mut self, engine: &Engine, line: &Incoming) -> Option<Clearing> {
        let key = (
            engine.account_index(&line.receiving_account),
            line.currency.clone(),
        );
        let pending = self.acknowledgments.get_mut(&key)?;
        let at = pending.iter().position(|a| {
            a.amount == line.amount && rules::mentions(&line.reference, &a.instrument_key)
        })?;
        Some(Clearing {
            ack: pending.remove(at),
        })
    }
}

/// Links the bank line to the expected credit; a differing amount goes to a person.
/// Returns whether an exception was raised.
pub(crate) async fn link_expected(
    tx: &mut PgConnection,
    outbox: &Outbox,
    linked: &Linked,
    line: &Incoming,
) -> Result<bool, ApiError> {
    store::link_expected_credit(tx, linked.id, &line.fingerprint, line.amount, line.date).await?;
    let Some(expected) = linked.expected else {
        tracing::info!(expected = %linked.id, subject = linked.subject,
            "bank line linked to the credit it was expected to be (not a new payment)");
        return Ok(false);
    };
    let difference = line.amount - expected;
    let reason = format!(
        "line {} of the bank file credits {} {} for {}, which was expected at {} {}: {} {} {}",
        line.line_no,
        line.amount,
        line.currency,
        linked.subject,
        expected,
        line.currency,
        difference.abs(),
        line.currency,
        if difference > Decimal::ZERO {
            "more"
        } else {
            "less"
        }
    );
    let id = Uuid::now_v7();
    store::insert_exception(
        tx,
        &store::NewException {
            id,
            about: store::About::Other {
                subject: &linked.subject,
                amount: difference.abs(),
                currency: &line.currency,
            },
            kind: ExceptionKind::ExpectedCreditMismatch,
            reason: &reason,
            suggested_action: "compare the bank's credit with the deposit slip or the channel's settlement report; book the difference (a fee, a short deposit) or claim it from the bank or the channel",
            candidates: "[]",
            also: &[],
        },
    )
    .await?;
    let event = events::ExceptionRaised {
        exception_id: id.to_string(),
        payment_id: String::new(),
        kind: ExceptionKind::ExpectedCreditMismatch.as_str().to_owned(),
        reason,
    };
    outbox
        .enqueue(tx, kit::events::PAYMENTS, &linked.id.to_string(), &event)
        .await?;
    Ok(true)
}

/// The batches of the file's settlement reports (R-P1, R-P7): each is recorded once with its
/// totals and becomes a credit the bank is expected to show (its net). Returns each batch's
/// id by (channel, batch, currency). A batch reported before with other totals refuses the
/// file.
pub(crate) async fn record_batches(
    tx: &mut PgConnection,
    engine: &Engine,
    file_id: Uuid,
    account: &str,
    lines: &[settlement::BatchLine],
) -> Result<std::collections::HashMap<(String, String, String), Uuid>, ApiError> {
    let account_index = engine.account_index(account);
    let mut ids = std::collections::HashMap::new();
    for t in settlement::batches(lines) {
        let channel = settlement::channel_name(t.channel);
        let (id, created, stored_net) = store::record_batch(
            tx,
            &store::NewBatch {
                channel,
                batch: &t.batch,
                account_index: &account_index,
                currency: &t.currency,
                payments: i32::try_from(t.payments).unwrap_or(i32::MAX),
                refunds: i32::try_from(t.refunds).unwrap_or(i32::MAX),
                gross: t.gross,
                fee: t.fee,
                net: t.net,
                settled_on: t.settled_on,
                file_id,
            },
        )
        .await?;
        if !created && stored_net != t.net {
            return Err(ApiError::FailedPrecondition(format!(
                "{channel} batch {} was reported before with net {stored_net} {}; this file says {} {}: ask the channel for the corrected report (nothing of this file was booked)",
                t.batch, t.currency, t.net, t.currency
            )));
        }
        if created && t.net > Decimal::ZERO {
            store::insert_expected_credit(
                tx,
                &store::ExpectedCredit {
                    id: Uuid::now_v7(),
                    kind: store::ExpectedKind::SettlementBatch,
                    batch_id: Some(id),
                    hints: &settlement::hints(t.channel),
                    account_index: &account_index,
                    amount: t.net,
                    currency: &t.currency,
                    reference_key: &rules::compact(&t.batch),
                    subject: &format!("{channel} batch {}", t.batch),
                },
            )
            .await?;
        }
        ids.insert(
            (channel.to_owned(), t.batch.clone(), t.currency.clone()),
            id,
        );
    }
    Ok(ids)
}

fn batch_to_api(b: &store::BatchRow) -> api::SettlementBatch {
    let currency = b.currency.trim();
    let money = |v: Decimal| Some(wire::money(v, currency));
    api::SettlementBatch {
        batch_id: b.id.to_string(),
        channel: b.channel.clone(),
        batch: b.batch.clone(),
        payments: u32::try_from(b.payments).unwrap_or_default(),
        refunds: u32::try_from(b.refunds).unwrap_or_default(),
        gross: money(b.gross),
        fee: money(b.fee),
        net: money(b.net),
        settled_on: b.settled_on.map(|d| d.to_string()).unwrap_or_default(),
        bank_amount: b.bank_amount.and_then(money),
        difference: b.bank_amount.and_then(|a| money(a - b.net)),
        reconciled: b.reconciled_at.is_some(),
        reconciled_at: b.reconciled_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        booked_payments: u32::try_from(b.booked_payments).unwrap_or_default(),
        booked_gross: money(b.booked_gross),
        booked_fee: money(b.booked_fee),
    }
}

pub(crate) async fn list_batches(
    cx: &Cx<'_>,
    request: api::ListSettlementBatchesRequest,
) -> Result<api::ListSettlementBatchesResponse, ApiError> {
    let paging = Paging::<store::BatchesAfter>::parse(
        &format!(
            "payments.ListSettlementBatches {}",
            request.unreconciled_only
        ),
        request.page_size,
        &request.page_token,
    )?;
    let rows = store::batches_page(
        cx.pool,
        request.unreconciled_only,
        paging.after(),
        paging.fetch_limit(),
    )
    .await?;
    let (rows, next_page_token) = paging.finish(rows, |r| (r.created_at, r.id));
    Ok(api::ListSettlementBatchesResponse {
        batches: rows.iter().map(batch_to_api).collect(),
        next_page_token,
    })
}
