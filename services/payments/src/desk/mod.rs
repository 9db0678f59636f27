//! Money from the finance desk and from instruments (R-P1, R-P3, R-P7): formal receipts for
//! cash, their voiding by two people, the day's cash count and the deposit the bank will
//! show, acknowledgments of cheques, drafts, bills and slips that become payments when a bank
//! line shows them, bounced instruments, and the payments still unreconciled after two hours.
//! The rules are in [`crate::domain::desk`] and [`crate::domain::settlement`]; SQL in
//! `store::desk`. One module per concern: `receipts`, `day`, `expected`, `instruments`,
//! `unreconciled`, `print`.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, Utc};
use rust_decimal::Decimal;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use kit::outbox::Outbox;
use kit::paging::Paging;
use kit::{ApiError, wire};
use proto::events::v1 as events;
use proto::payments::v1 as api;
use proto::types::v1::{self as types, PaymentChannel};

use crate::decisions;
use crate::domain::desk::{
    self as rules, AcknowledgmentStatus, InstrumentKind, ReceiptStatus, Series,
};
use crate::domain::repeats::LineSource;
use crate::domain::settlement;
use crate::domain::status::{Channel, ExceptionKind, PaymentStatus};
use crate::engine::Engine;
use crate::ingest::{self, Sealed, Stored};
use crate::intake::Incoming;
use crate::store::{self, AcknowledgmentRow, ReceiptRow};

/// Settings of the desk (environment).
#[derive(Debug, Clone)]
pub(crate) struct Settings {
    /// `PAYMENTS_BILL_OCCUPATION_RATE`: the daily fund-occupation fee of an acceptance bill
    /// over 90 days, as a fraction of its amount (e.g. 0.0005); unset refuses such bills.
    pub(crate) bill_occupation_rate: Option<Decimal>,
    /// The business time zone (what day the desk is in).
    pub(crate) utc_offset: FixedOffset,
}

impl Settings {
    pub(crate) fn from_env(utc_offset: FixedOffset) -> anyhow::Result<Self> {
        let bill_occupation_rate = match std::env::var("PAYMENTS_BILL_OCCUPATION_RATE") {
            Ok(text) if !text.trim().is_empty() => {
                let rate: Decimal = text.trim().parse().map_err(|e| {
                    anyhow::anyhow!(
                        "PAYMENTS_BILL_OCCUPATION_RATE {text:?}: {e}; give a daily fraction such as 0.0005"
                    )
                })?;
                if rate < Decimal::ZERO || rate >= Decimal::ONE {
                    anyhow::bail!(
                        "PAYMENTS_BILL_OCCUPATION_RATE {text:?}: a daily rate is between 0 and 1, e.g. 0.0005"
                    );
                }
                Some(rate)
            }
            _ => None,
        };
        Ok(Self {
            bill_occupation_rate,
            utc_offset,
        })
    }

    fn today(&self) -> NaiveDate {
        kit::config::business_date(Utc::now(), self.utc_offset)
    }
}

/// What the desk's calls work with.
pub(crate) struct Cx<'a> {
    pub(crate) pool: &'a PgPool,
    pub(crate) outbox: &'a Outbox,
    pub(crate) engine: &'a Engine,
    pub(crate) settings: &'a Settings,
}

pub(crate) fn channel_to_wire(channel: Channel) -> PaymentChannel {
    match channel {
        Channel::Bank => PaymentChannel::Bank,
        Channel::DeskCash => PaymentChannel::DeskCash,
        Channel::Instrument => PaymentChannel::Instrument,
        Channel::Wallet => PaymentChannel::Wallet,
        Channel::Card => PaymentChannel::Card,
    }
}

/// The stored channel as the API shows it.
pub(crate) fn channel_to_api(stored: &str) -> PaymentChannel {
    Channel::parse(stored).map_or(PaymentChannel::Unspecified, channel_to_wire)
}

fn project(value: &str) -> Result<String, ApiError> {
    let project = value.trim().to_owned();
    rules::check_project(&project).map_err(|e| ApiError::invalid("project", e))?;
    Ok(project)
}

fn optional_account(field: &str, value: &str) -> Result<String, ApiError> {
    if value.trim().is_empty() {
        Ok(String::new())
    } else {
        wire::account(field, value)
    }
}

fn unexpected(e: impl std::fmt::Display) -> ApiError {
    ApiError::Unexpected(anyhow::anyhow!("{e}"))
}

mod day;
mod expected;
mod instruments;
mod print;
mod receipts;
mod unreconciled;

pub(crate) use day::close_day;
pub(crate) use expected::{Awaited, link_expected, list_batches, record_batches};
pub(crate) use instruments::{
    Clearing, clear, list_acknowledgments, record_acknowledgment, record_bounce,
};
pub(crate) use print::render;
pub(crate) use receipts::{approve_void, list_receipts, record_receipt, reject_void, request_void};
pub(crate) use unreconciled::unreconciled;
