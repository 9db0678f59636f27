//! Business calendar (R-C6) and late-fee terms (R-C4, R-C12), from the money crate.
//!
//! Configuration: `CALENDAR_REGION` (default `CN`); `CALENDAR_DIR`, a directory of calendar
//! files that extend or override the shipped data (an operator adds next year's holiday
//! notice there without a rebuild); `DUE_DATE_SHIFT` = `long_holiday_only` (default, R-C6:
//! a due date inside a long public holiday moves to the next working day), `any_day_off`
//! or `none`; `REFERENCE_RATES_FILE`, the rate table (e.g. one-year LPR) for policies that
//! accrue at a reference rate.

use std::path::Path;

use anyhow::Context as _;
use chrono::NaiveDate;
use rust_decimal::Decimal;

use kit::ApiError;
use money::calendar::{Coverage, DueDateShift};
use money::late_fee::{self, Accrual, LateFeeInput, LateFeePolicy, RateTable};
use money::{CalendarSet, Currency, Money};

/// Calendar and rate data every contract is planned and charged with.
pub(crate) struct Terms {
    calendars: CalendarSet,
    region: String,
    shift: Option<DueDateShift>,
    reference_rates: Option<RateTable>,
}

/// A due date after R-C6.
pub(crate) struct PlannedDue {
    pub(crate) due: NaiveDate,
    pub(crate) provisional: bool,
}

impl Terms {
    pub(crate) fn from_env() -> anyhow::Result<Self> {
        let mut calendars = CalendarSet::embedded().context("loading the shipped calendar data")?;
        if let Some(dir) = std::env::var_os("CALENDAR_DIR").filter(|d| !d.is_empty()) {
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .with_context(|| format!("reading CALENDAR_DIR {}", Path::new(&dir).display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            for file in files {
                let text = std::fs::read_to_string(&file)
                    .with_context(|| format!("reading {}", file.display()))?;
                let report = calendars
                    .apply_json(&file.display().to_string(), &text)
                    .with_context(|| format!("calendar file {} is invalid", file.display()))?;
                tracing::info!(file = %file.display(), ?report, "calendar file applied");
            }
        }
        // Schedules run years ahead of the published holiday notices: plan those years on
        // weekends only and mark the dates provisional rather than refusing the contract.
        calendars.set_coverage(Coverage::Provisional);
        let region = kit::config::env_string("CALENDAR_REGION", "CN");
        calendars
            .get(&region)
            .with_context(|| format!("CALENDAR_REGION {region:?}"))?;
        let shift = match kit::config::env_string("DUE_DATE_SHIFT", "long_holiday_only").as_str() {
            "long_holiday_only" => Some(DueDateShift::LongHolidayOnly),
            "any_day_off" => Some(DueDateShift::AnyDayOff),
            "none" => None,
            other => anyhow::bail!(
                "DUE_DATE_SHIFT={other:?}: expected long_holiday_only, any_day_off or none"
            ),
        };
        let reference_rates =
            match std::env::var_os("REFERENCE_RATES_FILE").filter(|f| !f.is_empty()) {
                Some(file) => {
                    let text = std::fs::read_to_string(&file).with_context(|| {
                        format!(
                            "reading REFERENCE_RATES_FILE {}",
                            Path::new(&file).display()
                        )
                    })?;
                    Some(
                        RateTable::from_json(&text)
                            .context("REFERENCE_RATES_FILE is not a valid rate table")?,
                    )
                }
                None => None,
            };
        Ok(Self {
            calendars,
            region,
            shift,
            reference_rates,
        })
    }

    /// R-C6: the due date that applies to a scheduled date.
    pub(crate) fn plan(&self, field: &str, scheduled: NaiveDate) -> Result<PlannedDue, ApiError> {
        let calendar = self
            .calendars
            .get(&self.region)
            .map_err(|e| ApiError::Unexpected(e.into()))?;
        let invalid = |e: money::CalendarError| ApiError::invalid(field, e.to_string());
        let provisional = calendar.day(scheduled).map_err(invalid)?.provisional;
        let due = match self.shift {
            Some(rule) => calendar.shift_due_date(scheduled, rule).map_err(invalid)?,
            None => scheduled,
        };
        Ok(PlannedDue { due, provisional })
    }

    /// Parses and checks a contract's late-fee policy.
    pub(crate) fn parse_policy(&self, json: &str) -> Result<LateFeePolicy, ApiError> {
        self.parse_policy_of("late_fee_policy", json)
    }

    /// Parses and checks an accrual policy (late fee or interest) given in `field`.
    pub(crate) fn parse_policy_of(
        &self,
        field: &str,
        json: &str,
    ) -> Result<LateFeePolicy, ApiError> {
        let policy =
            LateFeePolicy::from_json(json).map_err(|e| ApiError::invalid(field, e.to_string()))?;
        if matches!(policy.spec().accrual, Accrual::ReferenceRate { .. })
            && self.reference_rates.is_none()
        {
            return Err(ApiError::invalid(
                field,
                "accrues at a reference rate, but this service has no rate table; set REFERENCE_RATES_FILE",
            ));
        }
        Ok(policy)
    }

    /// R-C4: the late fee through `as_of` of a principal due on `due`, lowered from each
    /// payment's date by the amount it applied.
    pub(crate) fn late_fee(
        &self,
        policy: &LateFeePolicy,
        principal: Decimal,
        currency: &str,
        due: NaiveDate,
        as_of: NaiveDate,
        payments: &[(NaiveDate, Decimal)],
    ) -> Result<Decimal, String> {
        let currency = Currency::from_code(currency).map_err(|e| e.to_string())?;
        let money = |amount: Decimal| Money::new(amount, currency).map_err(|e| e.to_string());
        let payments = payments
            .iter()
            .map(|(date, amount)| {
                Ok(late_fee::Payment {
                    date: *date,
                    amount: money(*amount)?,
                })
            })
            .collect::<Result<Vec<_>, String>>()?;
        let mut input = LateFeeInput::new(money(principal)?, due, as_of).with_payments(&payments);
        if let Some(table) = &self.reference_rates {
            input = input.with_reference_rates(table);
        }
        let summary = late_fee::compute_summary(policy, &input).map_err(|e| e.to_string())?;
        Ok(summary.total.amount())
    }
}
