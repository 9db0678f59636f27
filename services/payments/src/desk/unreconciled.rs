//! What finance has not reconciled two hours after arrival (R-P7).

use super::receipts::payment_status_to_api;
use super::*;

/// R-P7: finance reconciles within two hours of arrival; what is older and still waiting.
pub(crate) async fn unreconciled(
    cx: &Cx<'_>,
    request: api::ListUnreconciledRequest,
) -> Result<api::ListUnreconciledResponse, ApiError> {
    let minutes = match request.max_age_minutes {
        0 => 120,
        m if m > 60 * 24 * 366 => {
            return Err(ApiError::invalid(
                "max_age_minutes",
                "at most a year (527040 minutes)",
            ));
        }
        m => m,
    };
    let now: DateTime<Utc> = Utc::now();
    let before = now - chrono::Duration::minutes(i64::from(minutes));
    let limit = i64::from(kit::paging::page_size(request.page_size));
    let (rows, total) = store::unreconciled(cx.pool, before, limit).await?;
    let payments = rows
        .into_iter()
        .map(|r| {
            let currency = r.currency.trim();
            let waiting_for = match &r.open_kind {
                Some(kind) => format!("a person: open {kind} exception"),
                None => "contracts to confirm the allocation".to_owned(),
            };
            api::Unreconciled {
                payment: Some(api::Payment {
                    payment_id: r.id.to_string(),
                    booking_date: r.booking_date.to_string(),
                    amount: Some(wire::money(r.amount, currency)),
                    payer_name: r.payer_name,
                    reference: r.reference,
                    status: payment_status_to_api(&r.status) as i32,
                    file_id: r.file_id.map(|f| f.to_string()).unwrap_or_default(),
                    line_no: u32::try_from(r.line_no).unwrap_or_default(),
                    channel: channel_to_api(&r.channel) as i32,
                    arrived_at: r.created_at.to_rfc3339(),
                    ..Default::default()
                }),
                channel: channel_to_api(&r.channel) as i32,
                arrived_at: r.created_at.to_rfc3339(),
                age_minutes: u32::try_from((now - r.created_at).num_minutes()).unwrap_or_default(),
                waiting_for,
            }
        })
        .collect();
    Ok(api::ListUnreconciledResponse {
        payments,
        total: u32::try_from(total).unwrap_or(u32::MAX),
    })
}
