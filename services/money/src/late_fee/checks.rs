//! Input checks of a late-fee computation: each error names the input at fault.

use std::borrow::Cow;

use rust_decimal::Decimal;

use super::policy::Accrual;
use super::rate::RateTable;
use super::{LateFeeError, LateFeeInput, Payment, Waiver, WaiverScope};
use crate::amount::Money;

/// The reference-rate table a policy needs (R-C12), checked against the series it names.
pub(super) fn reference_table<'a>(
    accrual: &Accrual,
    given: Option<&'a RateTable>,
) -> Result<Option<&'a RateTable>, LateFeeError> {
    match accrual {
        Accrual::ReferenceRate { series, .. } => {
            let table = given.ok_or_else(|| LateFeeError::MissingReferenceRates {
                series: series.clone(),
            })?;
            if !table.series().eq_ignore_ascii_case(series) {
                return Err(LateFeeError::ReferenceSeriesMismatch {
                    wanted: series.clone(),
                    given: table.series().to_string(),
                });
            }
            Ok(Some(table))
        }
        _ => Ok(None),
    }
}

/// Payments checked and sorted by date (borrowed when already in order).
pub(super) fn checked_payments<'a>(
    input: &LateFeeInput<'a>,
) -> Result<Cow<'a, [Payment]>, LateFeeError> {
    let currency = input.principal.currency();
    let mut paid = Money::zero(currency);
    for (index, p) in input.payments.iter().enumerate() {
        if p.amount.currency() != currency {
            return Err(LateFeeError::PaymentCurrency {
                index,
                date: p.date,
                expected: currency.code(),
                found: p.amount.currency().code(),
            });
        }
        if !p.amount.is_positive() {
            return Err(LateFeeError::NonPositivePayment {
                index,
                date: p.date,
                amount: p.amount,
            });
        }
        if p.date <= input.as_of {
            paid = paid.checked_add(p.amount)?;
        }
    }
    if paid.amount() > input.principal.amount() {
        return Err(LateFeeError::PaymentsExceedPrincipal {
            paid,
            principal: input.principal,
            as_of: input.as_of,
        });
    }
    if input.payments.windows(2).all(|w| w[0].date <= w[1].date) {
        Ok(Cow::Borrowed(input.payments))
    } else {
        let mut sorted = input.payments.to_vec();
        sorted.sort_by_key(|p| p.date);
        Ok(Cow::Owned(sorted))
    }
}

/// Waivers in effect by `as_of`, checked (R-D6) and sorted by date, with their input index.
pub(super) fn checked_waivers<'a>(
    input: &LateFeeInput<'a>,
) -> Result<Vec<(usize, &'a Waiver)>, LateFeeError> {
    let currency = input.principal.currency();
    let mut out = Vec::new();
    for (index, w) in input.waivers.iter().enumerate() {
        let invalid = |reason: &str| LateFeeError::InvalidWaiver {
            index,
            date: w.date,
            reason: reason.to_string(),
        };
        if w.approved_by.trim().is_empty() || w.proposed_by.trim().is_empty() {
            return Err(invalid(
                "proposed_by and approved_by must both name a person",
            ));
        }
        if w.approved_by.trim() == w.proposed_by.trim() {
            return Err(invalid(
                "R-D6: a waiver must be approved by someone other than the person who proposed it",
            ));
        }
        match &w.scope {
            WaiverScope::Amount { amount } if amount.currency() != currency => {
                return Err(invalid("the amount is not in the principal's currency"));
            }
            WaiverScope::Amount { amount } if !amount.is_positive() => {
                return Err(invalid("the amount must be positive"));
            }
            WaiverScope::Percent { percent }
                if percent.is_zero() || percent.value() > Decimal::ONE =>
            {
                return Err(invalid("percent must be above 0% and at most 100%"));
            }
            _ => {}
        }
        if w.date <= input.as_of {
            out.push((index, w));
        }
    }
    out.sort_by_key(|(_, w)| w.date);
    Ok(out)
}
