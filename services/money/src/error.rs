//! Errors of the money layer (currencies, amounts, arithmetic, splitting).

use rust_decimal::Decimal;
use thiserror::Error;

/// What went wrong with an amount or a currency.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MoneyError {
    /// The currency code is not an ISO 4217 code with minor units.
    #[error(
        "unknown currency code \"{code}\": expected an ISO 4217 code with minor units such as CNY, USD, EUR or HKD"
    )]
    UnknownCurrency {
        /// The code as given.
        code: String,
    },
    /// Text that is not a plain decimal amount.
    #[error("invalid amount \"{input}\": {reason}")]
    InvalidAmount {
        /// The text as given.
        input: String,
        /// Why it was rejected.
        reason: &'static str,
    },
    /// More decimal places than the currency's minor unit allows.
    #[error(
        "amount {amount} has more decimal places than {currency} allows ({minor_units}); round it explicitly or give it to the minor unit"
    )]
    ExcessPrecision {
        /// The amount as given.
        amount: Decimal,
        /// The currency code.
        currency: &'static str,
        /// Its minor units.
        minor_units: u32,
    },
    /// Two amounts in different currencies were combined.
    #[error("currency mismatch: cannot {op} {left} and {right}")]
    CurrencyMismatch {
        /// What was attempted (add, subtract, compare).
        op: &'static str,
        /// Currency of the left operand.
        left: &'static str,
        /// Currency of the right operand.
        right: &'static str,
    },
    /// The result does not fit in a decimal (about 28 significant digits).
    #[error("arithmetic overflow while trying to {op}")]
    Overflow {
        /// What was attempted.
        op: &'static str,
    },
    /// A split or allocation request that cannot be honoured.
    #[error("cannot split the amount: {reason}")]
    InvalidSplit {
        /// Why not.
        reason: &'static str,
    },
}
