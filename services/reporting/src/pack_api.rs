//! GetMonthEndPack: gathers the month's reports (and payments' book-to-bank, R-P7) and renders
//! them as one document ([`crate::pack`]).

use chrono::Months;

use kit::ApiError;
use kit::auth::Scope;
use proto::reporting::v1 as api;

use crate::Api;
use crate::api::month;
use crate::pack::{self, PackInput};
use crate::reports::currency_or_cny;

impl Api {
    /// The month-end pack of `r.month` as PDF or HTML; collectors in it as `scope` sees them.
    pub(crate) async fn month_end_pack(
        &self,
        scope: &Scope,
        r: &api::GetMonthEndPackRequest,
    ) -> Result<api::GetMonthEndPackResponse, ApiError> {
        if r.month.trim().is_empty() {
            return Err(ApiError::Invalid {
                field: "month".into(),
                reason: "required: the month YYYY-MM (e.g. 2026-11)".into(),
            });
        }
        let first = month("month", &r.month)?;
        let last = first
            .checked_add_months(Months::new(1))
            .and_then(|d| d.pred_opt())
            .unwrap_or(first);
        let previous = first.checked_sub_months(Months::new(1)).unwrap_or(first);
        let currency = currency_or_cny(&r.currency)?;
        let format = api::PackFormat::try_from(r.format).unwrap_or(api::PackFormat::Unspecified);
        let html = format == api::PackFormat::Html;
        let font = if html {
            None
        } else {
            Some(self.font.clone().ok_or_else(|| {
                ApiError::FailedPrecondition(
                    "reporting has no CJK font for the PDF (set DOCUMENT_FONT_FILE); ask for \
                     format HTML meanwhile"
                        .into(),
                )
            })?)
        };
        let (from, to) = (first.to_string(), last.to_string());
        let month_text = first.format("%Y-%m").to_string();
        let aging = self
            .aging_report(&api::GetAgingRequest {
                as_of: to.clone(),
                currency: currency.clone(),
            })
            .await?;
        let kpis = self
            .kpis_report(&api::GetKpisRequest {
                from: from.clone(),
                to: to.clone(),
                currency: currency.clone(),
            })
            .await?;
        // From the previous month-end to this one.
        let previous_month = previous.format("%Y-%m").to_string();
        let rolls = self
            .rolls_report(&api::GetRollRatesRequest {
                from_month: previous_month.clone(),
                to_month: previous_month,
                currency: currency.clone(),
            })
            .await?;
        let recovery = self
            .recovery_report(&api::GetRecoveryByStepRequest {
                from: from.clone(),
                to: to.clone(),
                currency: currency.clone(),
                within_days: 0,
            })
            .await?;
        let collectors = self
            .collectors_report(
                scope,
                &api::GetCollectorKpisRequest {
                    from: from.clone(),
                    to: to.clone(),
                    currency: currency.clone(),
                },
            )
            .await?;
        let forecast = self
            .forecast_report(&api::GetForecastRequest {
                as_of: to.clone(),
                currency: currency.clone(),
                weeks: 0,
                backtest_weeks: 0,
            })
            .await?;
        let provisions = self.provisions(&to, &currency, None).await?;
        let accounts: Vec<String> = if r.accounts.is_empty() {
            self.peers.accounts.clone()
        } else {
            r.accounts.iter().map(|a| a.trim().to_owned()).collect()
        };
        let mut book_to_bank = Vec::new();
        for account in accounts.iter().filter(|a| !a.is_empty()) {
            let result = self
                .peers
                .book_to_bank(account, &from, &to, &currency)
                .await;
            book_to_bank.push((account.clone(), result));
        }
        let book_to_bank_matched = !book_to_bank.is_empty()
            && book_to_bank
                .iter()
                .all(|(_, r)| r.as_ref().is_ok_and(|r| r.matched));
        let book_to_bank_note = if book_to_bank.is_empty() {
            "no receiving account named: book-to-bank not reconciled".to_owned()
        } else {
            book_to_bank
                .iter()
                .filter_map(|(_, r)| r.as_ref().err().cloned())
                .collect::<Vec<_>>()
                .join("; ")
        };
        let voucher_balanced = provisions.voucher.as_ref().is_some_and(|v| v.balanced);
        let input = PackInput {
            month: month_text.clone(),
            last_day: last,
            currency: currency.clone(),
            aging,
            kpis,
            rolls,
            recovery,
            collectors,
            forecast,
            provisions,
            book_to_bank,
        };
        let doc = pack::document(&input).map_err(|e| ApiError::Unexpected(e.into()))?;
        let (document, content_type, extension) = match font {
            None => (
                documents::to_html(&doc).into_bytes(),
                "text/html; charset=utf-8",
                "html",
            ),
            Some(font) => (
                tokio::task::spawn_blocking(move || documents::to_pdf(&doc, &font))
                    .await
                    .map_err(|e| ApiError::Unexpected(e.into()))?
                    .map_err(|e| ApiError::Unexpected(e.into()))?,
                "application/pdf",
                "pdf",
            ),
        };
        Ok(api::GetMonthEndPackResponse {
            document,
            file_name: format!("month-end-{month_text}-{currency}.{extension}"),
            content_type: content_type.to_owned(),
            book_to_bank_matched,
            book_to_bank_note,
            voucher_balanced,
        })
    }
}
