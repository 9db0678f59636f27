//! The gRPC API of the payments service.

use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use kit::outbox::Outbox;
use kit::{ApiError, wire};
use proto::payments::v1 as api;
use proto::payments::v1::payments_service_server::PaymentsService;

use crate::ingest;

pub(crate) struct Api {
    pub(crate) pool: PgPool,
    pub(crate) outbox: Outbox,
}

#[tonic::async_trait]
impl PaymentsService for Api {
    #[tracing::instrument(skip_all, fields(file_name))]
    async fn ingest_bank_file(
        &self,
        request: Request<api::IngestBankFileRequest>,
    ) -> Result<Response<api::IngestBankFileResponse>, Status> {
        let request = request.into_inner();
        let file_name = wire::required("file_name", &request.file_name, 255)?;
        tracing::Span::current().record("file_name", file_name.as_str());
        if request.content.is_empty() {
            return Err(ApiError::invalid("content", "the file is empty").into());
        }
        if request.content.len() > ingest::MAX_FILE_BYTES {
            return Err(ApiError::invalid(
                "content",
                format!(
                    "the file is larger than {} MiB; split it",
                    ingest::MAX_FILE_BYTES >> 20
                ),
            )
            .into());
        }
        let response = ingest::ingest(
            &self.pool,
            &self.outbox,
            &file_name,
            &request.content,
            &request.format,
            &request.account,
        )
        .await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn list_payments(
        &self,
        request: Request<api::ListPaymentsRequest>,
    ) -> Result<Response<api::ListPaymentsResponse>, Status> {
        let request = request.into_inner();
        let file_id = if request.file_id.is_empty() {
            None
        } else {
            Some(wire::uuid("file_id", &request.file_id)?)
        };
        type Row = (
            Uuid,
            chrono::NaiveDate,
            rust_decimal::Decimal,
            String,
            String,
            String,
            String,
            String,
            Option<Uuid>,
            Uuid,
            i32,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, booking_date, amount, currency, payer_name, payer_account, reference, status, receivable_id,
                    file_id, line_no
             FROM payments WHERE ($1::uuid IS NULL OR file_id = $1) ORDER BY created_at, line_no LIMIT 10000",
        )
        .bind(file_id)
        .fetch_all(&self.pool)
        .await
        .map_err(ApiError::from)?;
        let payments = rows
            .into_iter()
            .map(
                |(
                    id,
                    date,
                    amount,
                    currency,
                    payer,
                    account,
                    reference,
                    status,
                    receivable,
                    file,
                    line,
                )| {
                    let status = match status.as_str() {
                        "matched" => api::PaymentStatus::Matched,
                        "allocated" => api::PaymentStatus::Allocated,
                        _ => api::PaymentStatus::Exception,
                    };
                    let currency = currency.trim();
                    api::Payment {
                        payment_id: id.to_string(),
                        booking_date: date.to_string(),
                        amount: Some(wire::money(amount, currency)),
                        payer_name: payer,
                        payer_account_masked: wire::mask(&account),
                        reference,
                        status: status as i32,
                        receivable_id: receivable.map(|r| r.to_string()).unwrap_or_default(),
                        file_id: file.to_string(),
                        line_no: u32::try_from(line).unwrap_or_default(),
                    }
                },
            )
            .collect();
        Ok(Response::new(api::ListPaymentsResponse { payments }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_exceptions(
        &self,
        _request: Request<api::ListExceptionsRequest>,
    ) -> Result<Response<api::ListExceptionsResponse>, Status> {
        type Row = (
            Uuid,
            Uuid,
            String,
            String,
            String,
            chrono::DateTime<chrono::Utc>,
            rust_decimal::Decimal,
            String,
            String,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT e.id, e.payment_id, e.kind, e.reason, e.suggested_action, e.created_at, p.amount, p.currency, p.reference
             FROM exceptions e JOIN payments p ON p.id = e.payment_id
             WHERE e.resolved_at IS NULL ORDER BY e.created_at LIMIT 10000",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(ApiError::from)?;
        let exceptions = rows
            .into_iter()
            .map(
                |(id, payment, kind, reason, action, created, amount, currency, reference)| {
                    api::PaymentException {
                        exception_id: id.to_string(),
                        payment_id: payment.to_string(),
                        kind,
                        reason,
                        suggested_action: action,
                        created_at: created.to_rfc3339(),
                        amount: Some(wire::money(amount, currency.trim())),
                        reference,
                    }
                },
            )
            .collect();
        Ok(Response::new(api::ListExceptionsResponse { exceptions }))
    }
}
