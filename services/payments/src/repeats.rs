//! A bank line seen before (R-P2, R-P5): linked silently when the repeat is by design (an
//! intraday report and the end-of-day statement of one account), otherwise held as a
//! `DUPLICATE` exception for a person. Never booked or allocated twice; the rule itself is
//! in [`crate::domain::repeats`].

use sqlx::PgConnection;
use uuid::Uuid;

use kit::ApiError;
use kit::outbox::Outbox;

use crate::decisions;
use crate::domain::repeats::{LineSource, Repeat, Sighting, classify};
use crate::domain::status::ExceptionKind;
use crate::engine::Engine;
use crate::intake::Incoming;
use crate::store;

/// Decides and records a line whose fingerprint was claimed before; returns whether it
/// raised an exception.
pub(crate) async fn seen_again(
    tx: &mut PgConnection,
    outbox: &Outbox,
    engine: &Engine,
    file_id: Uuid,
    line: &Incoming,
) -> Result<bool, ApiError> {
    let line_no = i32::try_from(line.line_no).unwrap_or(i32::MAX);
    let Some(first) = store::first_sighting(tx, &line.fingerprint).await? else {
        return Err(ApiError::Unexpected(anyhow::anyhow!(
            "line {} was claimed but its first sighting is gone",
            line.line_no
        )));
    };
    // The most final sighting counts: once an end-of-day statement confirmed an intraday
    // line, another end-of-day statement with it is a duplicate, not a confirmation.
    let earlier = match store::confirming_statement(tx, &line.fingerprint).await? {
        Some(statement_file) => Sighting {
            file_id: statement_file,
            receiving_account: &first.receiving_account_index,
            source: LineSource::Statement,
        },
        None => Sighting {
            file_id: first.file_id,
            receiving_account: &first.receiving_account_index,
            source: LineSource::parse(&first.source),
        },
    };
    // Accounts compare by blind index (R-O4): equal accounts, equal indexes.
    let receiving_index = engine.account_index(&line.receiving_account);
    let now = Sighting {
        file_id,
        receiving_account: &receiving_index,
        source: line.source,
    };
    match classify(&earlier, &now) {
        Repeat::Linked => {
            store::record_repeat(
                tx,
                file_id,
                line_no,
                &line.fingerprint,
                line.source,
                Repeat::Linked,
                first.payment_id,
            )
            .await?;
            Ok(false)
        }
        Repeat::Duplicate => {
            let held = Uuid::now_v7();
            let (sealed, index) = engine
                .seal_account(&line.payer_account)
                .map_err(|e| ApiError::Unexpected(e.into()))?;
            let (sealed_receiving, receiving_index) = engine
                .seal_account(&line.receiving_account)
                .map_err(|e| ApiError::Unexpected(e.into()))?;
            store::insert_payment(
                tx,
                &store::NewPayment {
                    id: held,
                    file_id: Some(file_id),
                    channel: crate::domain::status::Channel::Bank,
                    line,
                    customer_id: None,
                    sealed_account: &sealed,
                    account_index: &index,
                    sealed_receiving: &sealed_receiving,
                    receiving_index: &receiving_index,
                },
            )
            .await?;
            store::record_repeat(
                tx,
                file_id,
                line_no,
                &line.fingerprint,
                line.source,
                Repeat::Duplicate,
                held,
            )
            .await?;
            let reason = format!(
                "the same transaction (date, amount, payer, reference) as line {} of file {:?} ({}), booked as payment {}; not applied again",
                first.line_no, first.file_name, first.source, first.payment_id
            );
            decisions::raise(
                tx,
                outbox,
                &decisions::Raised {
                    payment_id: held,
                    key: &held.to_string(),
                    kind: ExceptionKind::DUPLICATE,
                    reason: &reason,
                    suggested_action: "compare with the bank: if the bank credited the money twice, confirm it as a second payment with the customer; otherwise dismiss with a note",
                    candidates: "[]",
                    also: &[],
                },
            )
            .await?;
            Ok(true)
        }
    }
}
