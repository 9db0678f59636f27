//! The gRPC API of the payments service.

use std::sync::Arc;

use sqlx::PgPool;
use tonic::{Request, Response, Status};
use uuid::Uuid;

use kit::outbox::Outbox;
use kit::paging::Paging;
use kit::{ApiError, wire};
use proto::payments::v1 as api;
use proto::payments::v1::payments_service_server::PaymentsService;

use crate::decisions::StoredCandidate;
use crate::domain::desk::Series;
use crate::domain::refund::RefundStatus;
use crate::domain::status::PaymentStatus;
use crate::engine::Engine;
use crate::store::{self, PaymentsAfter};
use crate::{desk, ingest, refunds, resolve};

pub(crate) struct Api {
    pub(crate) pool: PgPool,
    pub(crate) outbox: Outbox,
    pub(crate) engine: Arc<Engine>,
    pub(crate) desk: Arc<desk::Settings>,
    pub(crate) font: documents::Font,
}

impl Api {
    fn desk(&self) -> desk::Cx<'_> {
        desk::Cx {
            pool: &self.pool,
            outbox: &self.outbox,
            engine: &self.engine,
            settings: &self.desk,
        }
    }
}

#[tonic::async_trait]
impl PaymentsService for Api {
    #[tracing::instrument(skip_all, fields(file_name))]
    async fn ingest_bank_file(
        &self,
        request: Request<api::IngestBankFileRequest>,
    ) -> Result<Response<api::IngestBankFileResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
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
            &self.engine,
            &file_name,
            &request.content,
            &request.format,
            &request.account,
        )
        .await?;
        caller.touch("bank_file", &response.file_id);
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
        // Keyset on (created_at, line_no, id): ingestion order, stable and unique.
        let paging = Paging::<PaymentsAfter>::parse(
            &format!("payments.ListPayments file_id={file_id:?}"),
            request.page_size,
            &request.page_token,
        )?;
        let rows = store::payments_page(&self.pool, file_id, paging.after(), paging.fetch_limit())
            .await
            .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |r| (r.created_at, r.line_no, r.id));
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let allocations = store::allocations_of_payments(&self.pool, &ids)
            .await
            .map_err(ApiError::from)?;
        let mut by_payment: std::collections::HashMap<Uuid, Vec<api::Allocation>> =
            std::collections::HashMap::new();
        for a in allocations {
            by_payment
                .entry(a.payment_id)
                .or_default()
                .push(api::Allocation {
                    allocation_id: a.id.to_string(),
                    receivable_id: a.receivable_id.to_string(),
                    receivable_ref: a.receivable_ref,
                    amount: Some(wire::money(a.amount, a.currency.trim())),
                    status: a.status,
                });
        }
        let payments = rows
            .into_iter()
            .map(|p| {
                let status = match PaymentStatus::parse(&p.status) {
                    Ok(PaymentStatus::Matched) => api::PaymentStatus::Matched,
                    Ok(PaymentStatus::Allocated) => api::PaymentStatus::Allocated,
                    Ok(PaymentStatus::Exception) | Err(_) => api::PaymentStatus::Exception,
                };
                let id = p.id;
                let currency = p.currency.trim();
                api::Payment {
                    payment_id: id.to_string(),
                    booking_date: p.booking_date.to_string(),
                    amount: Some(wire::money(p.amount, currency)),
                    payer_name: p.payer_name,
                    payer_account_masked: self
                        .engine
                        .open_account(&p.payer_account)
                        .map(|a| wire::mask(&a))
                        .unwrap_or_else(|e| {
                            tracing::error!(%id, error = %e, "payer account cannot be opened");
                            "(cannot be opened)".to_owned()
                        }),
                    reference: p.reference,
                    status: status as i32,
                    receivable_id: p.receivable_id.map(|r| r.to_string()).unwrap_or_default(),
                    file_id: p.file_id.map(|f| f.to_string()).unwrap_or_default(),
                    line_no: u32::try_from(p.line_no).unwrap_or_default(),
                    channel: crate::desk::channel_to_api(&p.channel) as i32,
                    arrived_at: p.created_at.to_rfc3339(),
                    reconciled_at: p.reconciled_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
                    receipt_no: match (p.receipt_project, p.receipt_year, p.receipt_number) {
                        (Some(project), Some(year), Some(number)) => {
                            Series::Receipt.document_no(&project, year, number)
                        }
                        _ => String::new(),
                    },
                    confidence: u32::try_from(p.confidence).unwrap_or_default(),
                    evidence: p.evidence,
                    allocations: by_payment.remove(&id).unwrap_or_default(),
                    fx: p.fx.as_deref().and_then(fx_to_api),
                }
            })
            .collect();
        Ok(Response::new(api::ListPaymentsResponse {
            payments,
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all, fields(exception_id))]
    async fn resolve_exception(
        &self,
        request: Request<api::ResolveExceptionRequest>,
    ) -> Result<Response<api::ResolveExceptionResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        tracing::Span::current().record("exception_id", request.exception_id.as_str());
        let response =
            resolve::resolve(&self.pool, &self.outbox, &self.engine, &caller, request).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn reconcile_book_to_bank(
        &self,
        request: Request<api::ReconcileBookToBankRequest>,
    ) -> Result<Response<api::ReconcileBookToBankResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let report =
            crate::book_to_bank::reconcile(&self.pool, &self.engine, &caller, request.into_inner())
                .await?;
        Ok(Response::new(report))
    }

    #[tracing::instrument(skip_all)]
    async fn list_exceptions(
        &self,
        request: Request<api::ListExceptionsRequest>,
    ) -> Result<Response<api::ListExceptionsResponse>, Status> {
        let request = request.into_inner();
        let kind = Some(request.kind.trim().to_ascii_uppercase()).filter(|k| !k.is_empty());
        let paging = Paging::<Uuid>::parse(
            &format!("payments.ListExceptions kind={kind:?}"),
            request.page_size,
            &request.page_token,
        )?;
        let rows = store::open_exceptions_page(
            &self.pool,
            kind.as_deref(),
            paging.after().copied(),
            paging.fetch_limit(),
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |r| r.id);
        let counts = store::open_exception_counts(&self.pool)
            .await
            .map_err(ApiError::from)?;
        let mut exceptions = Vec::new();
        for e in rows {
            let id = e.id;
            let candidates: Vec<StoredCandidate> =
                serde_json::from_str(&e.candidates).map_err(|e| {
                    ApiError::Unexpected(anyhow::anyhow!("exception {id}: candidates: {e}"))
                })?;
            exceptions.push(api::PaymentException {
                exception_id: id.to_string(),
                payment_id: e.payment_id.map(|p| p.to_string()).unwrap_or_default(),
                subject: e.subject,
                kind: e.kind,
                reason: e.reason,
                suggested_action: e.suggested_action,
                created_at: e.created_at.to_rfc3339(),
                amount: Some(wire::money(e.amount, e.currency.trim())),
                reference: e.reference,
                candidates: candidates.into_iter().map(candidate_to_api).collect(),
                also: e.also,
            });
        }
        Ok(Response::new(api::ListExceptionsResponse {
            exceptions,
            next_page_token,
            counts: counts
                .into_iter()
                .map(|c| api::ExceptionCount {
                    kind: c.kind,
                    open: u32::try_from(c.open).unwrap_or(u32::MAX),
                })
                .collect(),
        }))
    }
    #[tracing::instrument(skip_all, fields(payment_id))]
    async fn request_refund(
        &self,
        request: Request<api::RequestRefundRequest>,
    ) -> Result<Response<api::RequestRefundResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        tracing::Span::current().record("payment_id", request.payment_id.as_str());
        let response =
            refunds::request(&self.pool, &self.outbox, &self.engine, &caller, request).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all, fields(refund_id))]
    async fn approve_refund(
        &self,
        request: Request<api::ApproveRefundRequest>,
    ) -> Result<Response<api::ApproveRefundResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        tracing::Span::current().record("refund_id", request.refund_id.as_str());
        let response = refunds::approve(&self.pool, &self.outbox, &caller, request).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all, fields(refund_id))]
    async fn reject_refund(
        &self,
        request: Request<api::RejectRefundRequest>,
    ) -> Result<Response<api::RejectRefundResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        tracing::Span::current().record("refund_id", request.refund_id.as_str());
        if request.reason.trim().is_empty() {
            return Err(ApiError::invalid(
                "reason",
                "is required: say why the refund is refused (R-P9: it is recorded with your name)",
            )
            .into());
        }
        let refund = refunds::reject_or_cancel(
            &self.pool,
            &self.outbox,
            &caller,
            &request.refund_id,
            &request.reason,
            false,
        )
        .await?;
        Ok(Response::new(api::RejectRefundResponse {
            refund: Some(refund),
        }))
    }

    #[tracing::instrument(skip_all, fields(refund_id))]
    async fn cancel_refund(
        &self,
        request: Request<api::CancelRefundRequest>,
    ) -> Result<Response<api::CancelRefundResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        tracing::Span::current().record("refund_id", request.refund_id.as_str());
        let refund = refunds::reject_or_cancel(
            &self.pool,
            &self.outbox,
            &caller,
            &request.refund_id,
            &request.reason,
            true,
        )
        .await?;
        Ok(Response::new(api::CancelRefundResponse {
            refund: Some(refund),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_refunds(
        &self,
        request: Request<api::ListRefundsRequest>,
    ) -> Result<Response<api::ListRefundsResponse>, Status> {
        let request = request.into_inner();
        let status = match api::RefundStatus::try_from(request.status) {
            Ok(api::RefundStatus::Unspecified) => None,
            Ok(api::RefundStatus::Requested) => Some(RefundStatus::Requested),
            Ok(api::RefundStatus::Approved) => Some(RefundStatus::Approved),
            Ok(api::RefundStatus::Rejected) => Some(RefundStatus::Rejected),
            Ok(api::RefundStatus::Cancelled) => Some(RefundStatus::Cancelled),
            Err(_) => {
                return Err(ApiError::invalid(
                    "status",
                    format!(
                        "unknown refund status {}; give REQUESTED, APPROVED, REJECTED, CANCELLED or leave it unspecified",
                        request.status
                    ),
                )
                .into());
            }
        };
        let payment_id = if request.payment_id.trim().is_empty() {
            None
        } else {
            Some(wire::uuid("payment_id", &request.payment_id)?)
        };
        let paging = Paging::<store::RefundsAfter>::parse(
            &format!("payments.ListRefunds status={status:?} payment_id={payment_id:?}"),
            request.page_size,
            &request.page_token,
        )?;
        let rows = store::refunds_page(
            &self.pool,
            status,
            payment_id,
            paging.after(),
            paging.fetch_limit(),
        )
        .await
        .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |r| (r.requested_at, r.id));
        Ok(Response::new(api::ListRefundsResponse {
            refunds: rows.iter().map(refunds::to_api).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn record_desk_receipt(
        &self,
        request: Request<api::RecordDeskReceiptRequest>,
    ) -> Result<Response<api::RecordDeskReceiptResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let response = desk::record_receipt(&self.desk(), &caller, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn request_receipt_void(
        &self,
        request: Request<api::RequestReceiptVoidRequest>,
    ) -> Result<Response<api::RequestReceiptVoidResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let response = desk::request_void(&self.desk(), &caller, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn approve_receipt_void(
        &self,
        request: Request<api::ApproveReceiptVoidRequest>,
    ) -> Result<Response<api::ApproveReceiptVoidResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let response = desk::approve_void(&self.desk(), &caller, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn reject_receipt_void(
        &self,
        request: Request<api::RejectReceiptVoidRequest>,
    ) -> Result<Response<api::RejectReceiptVoidResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let response = desk::reject_void(&self.desk(), &caller, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn list_receipts(
        &self,
        request: Request<api::ListReceiptsRequest>,
    ) -> Result<Response<api::ListReceiptsResponse>, Status> {
        let response = desk::list_receipts(&self.desk(), request.into_inner()).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn render_receipt(
        &self,
        request: Request<api::RenderReceiptRequest>,
    ) -> Result<Response<api::RenderReceiptResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let request = request.into_inner();
        caller.touch("document", &request.id);
        let response = desk::render(&self.desk(), &self.font, request).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn close_desk_day(
        &self,
        request: Request<api::CloseDeskDayRequest>,
    ) -> Result<Response<api::CloseDeskDayResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let response = desk::close_day(&self.desk(), &caller, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn record_acknowledgment(
        &self,
        request: Request<api::RecordAcknowledgmentRequest>,
    ) -> Result<Response<api::RecordAcknowledgmentResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let response =
            desk::record_acknowledgment(&self.desk(), &caller, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn record_bounce(
        &self,
        request: Request<api::RecordBounceRequest>,
    ) -> Result<Response<api::RecordBounceResponse>, Status> {
        let caller = kit::auth::Caller::of(&request)?;
        let response = desk::record_bounce(&self.desk(), &caller, request.into_inner()).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn list_acknowledgments(
        &self,
        request: Request<api::ListAcknowledgmentsRequest>,
    ) -> Result<Response<api::ListAcknowledgmentsResponse>, Status> {
        let response = desk::list_acknowledgments(&self.desk(), request.into_inner()).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn list_settlement_batches(
        &self,
        request: Request<api::ListSettlementBatchesRequest>,
    ) -> Result<Response<api::ListSettlementBatchesResponse>, Status> {
        let response = desk::list_batches(&self.desk(), request.into_inner()).await?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn list_unreconciled(
        &self,
        request: Request<api::ListUnreconciledRequest>,
    ) -> Result<Response<api::ListUnreconciledResponse>, Status> {
        let response = desk::unreconciled(&self.desk(), request.into_inner()).await?;
        Ok(Response::new(response))
    }
}

fn candidate_to_api(c: StoredCandidate) -> api::ExceptionCandidate {
    api::ExceptionCandidate {
        customer_id: c.customer_id,
        customer_name: c.customer_name,
        contract_nos: c.contract_nos,
        confidence: u32::from(c.confidence),
        evidence: c.evidence,
        allocations: c
            .allocations
            .into_iter()
            .map(|a| api::Allocation {
                receivable_ref: a.receivable_ref,
                amount: Some(proto::types::v1::Money {
                    amount: a.amount,
                    currency: a.currency,
                }),
                status: "candidate".to_owned(),
                ..Default::default()
            })
            .collect(),
    }
}

/// The conversion recorded with a decision (cashapp's `FxConversion` as JSON), for the API.
fn fx_to_api(json: &str) -> Option<api::FxConversion> {
    let v: serde_json::Value = serde_json::from_str(json).ok()?;
    let text = |key: &str| v.get(key).and_then(serde_json::Value::as_str);
    let money = |amount: &str, currency: &str| proto::types::v1::Money {
        amount: amount.to_owned(),
        currency: currency.to_owned(),
    };
    let (from, to) = (text("from")?, text("to")?);
    Some(api::FxConversion {
        rate: text("rate")?.to_owned(),
        rate_date: text("rate_date")?.to_owned(),
        received: Some(money(text("received")?, from)),
        booked: Some(money(text("booked")?, to)),
    })
}
