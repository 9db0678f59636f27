//! Money, business calendar, late fees and aging: the rules every amount shown to a debtor, a
//! collector or a court comes from.
//!
//! A pure library (no I/O, no clock): callers pass dates and file contents in.
//!
//! - [`Money`] / [`Currency`]: exact decimal amounts with ISO 4217 minor units, checked
//!   arithmetic, explicit [`RoundingMode`], splitting without losing a fen.
//! - [`calendar`]: working days, holidays and make-up days per region; due-date shifting and
//!   reminder dates (R-C6).
//! - [`late_fee`]: late fees from a policy file (R-C4, R-C12, R-D6), itemised for notices and
//!   courts.
//! - [`aging`]: aging buckets (R-C11).
//! - [`allocation`]: which debts and which parts of them a payment settles (R-P11), the one
//!   implementation payments and contracts share.
//!
//! Nothing here converts to or from floating point.

pub mod aging;
pub mod allocation;
mod amount;
pub mod calendar;
mod currency;
mod error;
pub mod late_fee;
mod rounding;
mod split;

pub use amount::Money;
pub use calendar::{Calendar, CalendarError, CalendarSet};
pub use currency::Currency;
pub use error::MoneyError;
pub use rounding::RoundingMode;
