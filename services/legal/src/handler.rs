//! Opens cases from escalations (R-L1) and follows payments on their receivables (R-L4).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use sqlx::PgConnection;
use uuid::Uuid;

use kit::consumer::{HandleError, Handler, IncomingEvent, uuid_field as uuid};
use kit::outbox::Outbox;
use kit::wire;
use proto::events::v1 as events;

pub(crate) struct Events {
    pub(crate) outbox: Outbox,
}

impl Handler for Events {
    fn wants(&self, event_type: &str) -> bool {
        event_type == kit::events::type_name::<events::EscalatedToLegal>()
            || event_type == kit::events::type_name::<events::AllocationApplied>()
    }

    async fn handle(
        &self,
        tx: &mut PgConnection,
        event: &IncomingEvent,
    ) -> Result<(), HandleError> {
        if event.envelope.event_type == kit::events::type_name::<events::EscalatedToLegal>() {
            self.open_case(tx, event.decode()?).await
        } else {
            self.payment(tx, event.decode()?).await
        }
    }
}

impl Events {
    async fn open_case(
        &self,
        tx: &mut PgConnection,
        escalation: events::EscalatedToLegal,
    ) -> Result<(), HandleError> {
        let escalation_id = uuid("escalation_id", &escalation.escalation_id)?;
        let customer_id = uuid("customer_id", &escalation.customer_id)?;
        let (claimed, currency) = wire::parse_money(escalation.amount_claimed.as_ref())
            .map_err(HandleError::Permanent)?;
        let opened_on =
            NaiveDate::parse_from_str(&escalation.business_date, "%Y-%m-%d").map_err(|e| {
                HandleError::Permanent(format!("business_date {:?}: {e}", escalation.business_date))
            })?;
        let case_id = Uuid::now_v7();
        let inserted = sqlx::query(
            "INSERT INTO cases (id, escalation_id, dunning_case_id, customer_id, currency, amount_claimed, status, opened_on, reason)
             VALUES ($1, $2, $3, $4, $5, $6, 'opened', $7, $8) ON CONFLICT (escalation_id) DO NOTHING",
        )
        .bind(case_id)
        .bind(escalation_id)
        .bind(uuid("case_id", &escalation.case_id)?)
        .bind(customer_id)
        .bind(&currency)
        .bind(claimed)
        .bind(opened_on)
        .bind(&escalation.reason)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if inserted == 0 {
            return Ok(()); // the same escalation opens one case, however often it arrives
        }
        for receivable in &escalation.receivables {
            let (open, _) = wire::parse_money(receivable.open_amount.as_ref())
                .map_err(HandleError::Permanent)?;
            sqlx::query(
                "INSERT INTO case_receivables (case_id, receivable_id, contract_no, claimed, open_amount)
                 VALUES ($1, $2, $3, $4, $4)",
            )
            .bind(case_id)
            .bind(uuid("receivable_id", &receivable.receivable_id)?)
            .bind(&receivable.contract_no)
            .bind(open)
            .execute(&mut *tx)
            .await?;
        }
        let detail = format!(
            "opened for {} {currency}: {}",
            wire::format_amount(claimed, &currency),
            escalation.reason
        );
        record(tx, case_id, "opened", &detail).await?;
        let opened = events::CaseOpened {
            case_id: case_id.to_string(),
            escalation_id: escalation.escalation_id.clone(),
            customer_id: escalation.customer_id.clone(),
            amount_claimed: Some(wire::money(claimed, &currency)),
            receivable_ids: escalation
                .receivables
                .iter()
                .map(|r| r.receivable_id.clone())
                .collect(),
            opened_on: opened_on.to_string(),
            reason: escalation.reason.clone(),
        };
        self.outbox
            .enqueue(
                tx,
                kit::events::LEGAL_CASES,
                &escalation.customer_id,
                &opened,
            )
            .await?;
        tracing::info!(%case_id, %claimed, "legal case opened");
        // Payments that arrived before this escalation (another topic) lower the claim now.
        let caught_up = sqlx::query(
            "UPDATE case_receivables r SET open_amount = b.open_amount
             FROM receivable_balances b
             WHERE r.case_id = $1 AND b.receivable_id = r.receivable_id AND b.open_amount < r.open_amount",
        )
        .bind(case_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if caught_up > 0 {
            let last: Option<NaiveDate> = sqlx::query_scalar(
                "SELECT MAX(b.last_payment) FROM receivable_balances b
                 JOIN case_receivables r ON r.receivable_id = b.receivable_id WHERE r.case_id = $1",
            )
            .bind(case_id)
            .fetch_one(&mut *tx)
            .await?;
            let paid_on = last.map_or_else(String::new, |d| d.to_string());
            self.reassess(tx, case_id, &currency, &escalation.customer_id, &paid_on)
                .await?;
        }
        Ok(())
    }

    /// R-L4: a payment lowers what the case claims; once nothing is left, the case is
    /// flagged for withdrawal.
    async fn payment(
        &self,
        tx: &mut PgConnection,
        applied: events::AllocationApplied,
    ) -> Result<(), HandleError> {
        if applied.repeat {
            // Contracts answering a re-driven proposal: the first answer was seen.
            return Ok(());
        }
        let receivable_id = uuid("receivable_id", &applied.receivable_id)?;
        let (open_after, _) = wire::parse_money(applied.open_amount_after.as_ref())
            .map_err(HandleError::Permanent)?;
        let paid_on =
            NaiveDate::parse_from_str(&applied.booking_date, "%Y-%m-%d").map_err(|e| {
                HandleError::Permanent(format!("booking_date {:?}: {e}", applied.booking_date))
            })?;
        sqlx::query(
            "INSERT INTO receivable_balances (receivable_id, open_amount, last_payment) VALUES ($1, $2, $3)
             ON CONFLICT (receivable_id) DO UPDATE
             SET open_amount = LEAST(receivable_balances.open_amount, EXCLUDED.open_amount),
                 last_payment = GREATEST(receivable_balances.last_payment, EXCLUDED.last_payment)",
        )
        .bind(receivable_id)
        .bind(open_after)
        .bind(paid_on)
        .execute(&mut *tx)
        .await?;
        let cases: Vec<(Uuid, String)> = sqlx::query_as(
            "SELECT c.id, c.currency FROM cases c JOIN case_receivables r ON r.case_id = c.id
             WHERE r.receivable_id = $1 AND c.status = 'opened' FOR UPDATE OF c",
        )
        .bind(receivable_id)
        .fetch_all(&mut *tx)
        .await?;
        for (case_id, currency) in cases {
            sqlx::query("UPDATE case_receivables SET open_amount = LEAST(open_amount, $3) WHERE case_id = $1 AND receivable_id = $2")
                .bind(case_id)
                .bind(receivable_id)
                .bind(open_after)
                .execute(&mut *tx)
                .await?;
            self.reassess(
                tx,
                case_id,
                currency.trim(),
                &applied.customer_id,
                &applied.booking_date,
            )
            .await?;
        }
        Ok(())
    }

    /// Sets the claim to what is still open on the case's receivables: a lower claim
    /// (`ClaimUpdated`), or nothing left, which flags the case for withdrawal
    /// (`WithdrawalRequested`, R-L4).
    async fn reassess(
        &self,
        tx: &mut PgConnection,
        case_id: Uuid,
        currency: &str,
        customer_id: &str,
        paid_on: &str,
    ) -> Result<(), HandleError> {
        let remaining: Decimal = sqlx::query_scalar(
            "SELECT COALESCE(SUM(open_amount), 0) FROM case_receivables WHERE case_id = $1",
        )
        .bind(case_id)
        .fetch_one(&mut *tx)
        .await?;
        let amount = wire::format_amount(remaining, currency);
        if remaining.is_zero() {
            sqlx::query(
                "UPDATE cases SET amount_claimed = 0, status = 'withdrawal_requested', withdrawal_flagged = TRUE WHERE id = $1",
            )
            .bind(case_id)
            .execute(&mut *tx)
            .await?;
            let reason =
                format!("the debtor paid everything the case claims (last payment {paid_on})");
            record(tx, case_id, "withdrawal_requested", &reason).await?;
            let event = events::WithdrawalRequested {
                case_id: case_id.to_string(),
                customer_id: customer_id.to_owned(),
                reason,
            };
            self.outbox
                .enqueue(tx, kit::events::LEGAL_CASES, customer_id, &event)
                .await?;
            tracing::info!(%case_id, "legal case flagged for withdrawal");
        } else {
            sqlx::query("UPDATE cases SET amount_claimed = $2 WHERE id = $1")
                .bind(case_id)
                .bind(remaining)
                .execute(&mut *tx)
                .await?;
            let reason = format!("partial payment on {paid_on}; {amount} {currency} still claimed");
            record(tx, case_id, "claim_updated", &reason).await?;
            let event = events::ClaimUpdated {
                case_id: case_id.to_string(),
                customer_id: customer_id.to_owned(),
                amount_claimed: Some(wire::money(remaining, currency)),
                reason,
            };
            self.outbox
                .enqueue(tx, kit::events::LEGAL_CASES, customer_id, &event)
                .await?;
        }
        Ok(())
    }
}

async fn record(
    tx: &mut PgConnection,
    case_id: Uuid,
    kind: &str,
    detail: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO case_events (case_id, kind, detail) VALUES ($1, $2, $3)")
        .bind(case_id)
        .bind(kind)
        .bind(detail)
        .execute(&mut *tx)
        .await?;
    Ok(())
}
