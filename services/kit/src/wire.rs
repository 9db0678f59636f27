//! Parsing request fields once at the edge, with errors that name the field.

use std::str::FromStr;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

use proto::types::v1::Money;

use crate::ApiError;

/// Minor units of an ISO 4217 currency (the money crate's table), or `None` if unknown.
pub fn minor_units(currency: &str) -> Option<u32> {
    money::Currency::from_code(currency)
        .ok()
        .map(|c| c.minor_units())
}

/// Parses an ISO 4217 currency code.
pub fn currency(field: &str, value: &str) -> Result<String, ApiError> {
    let code = value.trim().to_ascii_uppercase();
    if minor_units(&code).is_none() {
        return Err(ApiError::invalid(
            field,
            format!("unknown currency {value:?}; expected an ISO 4217 code such as CNY"),
        ));
    }
    Ok(code)
}

/// Parses a plain decimal amount greater than zero with at most the currency's minor units,
/// e.g. "10000.00": no exponent, no thousands separators (the money crate's strict parser).
pub fn positive_amount(field: &str, value: &str, currency: &str) -> Result<Decimal, ApiError> {
    let amount = money::Money::parse_in(value.trim(), currency)
        .map_err(|e| ApiError::invalid(field, format!("{value:?}: {e}")))?
        .amount();
    if amount <= Decimal::ZERO {
        return Err(ApiError::invalid(
            field,
            format!("amount must be greater than zero, got {value}"),
        ));
    }
    Ok(amount)
}

/// Parses a required wire amount greater than zero: its currency (`<field>.currency`) and
/// its amount (`field`) as [`positive_amount`]; a missing one names `field` with `example`
/// (e.g. "120.00 CNY").
pub fn required_money(
    field: &str,
    value: Option<&Money>,
    example: &str,
) -> Result<(Decimal, String), ApiError> {
    let money = value.ok_or_else(|| {
        ApiError::invalid(
            field,
            format!("is required: the amount and currency, e.g. {example}"),
        )
    })?;
    let currency = currency(&format!("{field}.currency"), &money.currency)?;
    let amount = positive_amount(field, &money.amount, &currency)?;
    Ok((amount, currency))
}

/// Parses a business date "YYYY-MM-DD".
pub fn date(field: &str, value: &str) -> Result<NaiveDate, ApiError> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").map_err(|_| {
        ApiError::invalid(
            field,
            format!("{value:?} is not a date; expected YYYY-MM-DD"),
        )
    })
}

/// Parses an id that must be a UUID.
pub fn uuid(field: &str, value: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(value.trim())
        .map_err(|_| ApiError::invalid(field, format!("{value:?} is not a valid id (UUID)")))
}

/// Requires a non-empty string of at most `max` characters.
pub fn required(field: &str, value: &str, max: usize) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApiError::invalid(field, "is required"));
    }
    if value.chars().count() > max {
        return Err(ApiError::invalid(
            field,
            format!("is longer than {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

/// A bank account number in any common notation: 4 to 64 characters, letters, digits,
/// spaces, `-`, `/` and `.`, with at least four digits. Returned trimmed.
///
/// # Errors
/// [`ApiError::Invalid`] naming `field` and what was wrong.
pub fn account(field: &str, value: &str) -> Result<String, ApiError> {
    let value = required(field, value, 64)?;
    if let Some(bad) = value
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | '/' | '.')))
    {
        return Err(ApiError::invalid(
            field,
            format!("contains {bad:?}; an account has letters, digits, spaces, '-', '/' or '.'"),
        ));
    }
    if value.chars().filter(char::is_ascii_digit).count() < 4 {
        return Err(ApiError::invalid(
            field,
            "an account number has at least four digits",
        ));
    }
    Ok(value)
}

/// Formats an amount with exactly the currency's minor units ("10000" → "10000.00").
pub fn format_amount(amount: Decimal, currency: &str) -> String {
    let mut amount = amount;
    amount.rescale(minor_units(currency).unwrap_or(2));
    amount.to_string()
}

/// The wire form of an amount.
pub fn money(amount: Decimal, currency: &str) -> Money {
    Money {
        amount: format_amount(amount, currency),
        currency: currency.to_owned(),
    }
}

/// Reads a wire amount that this platform produced; a malformed one is a permanent error.
pub fn parse_money(money: Option<&Money>) -> Result<(Decimal, String), String> {
    let money = money.ok_or("amount missing")?;
    let amount =
        Decimal::from_str(&money.amount).map_err(|e| format!("amount {:?}: {e}", money.amount))?;
    Ok((amount, money.currency.clone()))
}

/// Masks an account or phone number for logs and events, keeping the last four characters (R-O4).
pub fn mask(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    let keep = chars.len().min(4);
    let hidden = chars.len() - keep;
    let mut masked: String = "*".repeat(hidden);
    masked.extend(&chars[hidden..]);
    masked
}

/// The wire form of what is owed on a receivable, by component (R-P11).
pub fn owed(owed: &money::allocation::Owed, currency: &str) -> proto::types::v1::Owed {
    proto::types::v1::Owed {
        costs: Some(money(owed.costs, currency)),
        interest: Some(money(owed.interest, currency)),
        late_fee: Some(money(owed.late_fee, currency)),
        principal: Some(money(owed.principal, currency)),
        total: Some(money(owed.total(), currency)),
    }
}

/// Reads a wire [`owed`] this platform produced; missing components are zero.
pub fn parse_owed(owed: &proto::types::v1::Owed) -> Result<money::allocation::Owed, String> {
    let part = |name: &str, m: Option<&Money>| match m {
        None => Ok(Decimal::ZERO),
        Some(m) => parse_money(Some(m))
            .map(|(a, _)| a)
            .map_err(|e| format!("owed.{name}: {e}")),
    };
    Ok(money::allocation::Owed {
        costs: part("costs", owed.costs.as_ref())?,
        interest: part("interest", owed.interest.as_ref())?,
        late_fee: part("late_fee", owed.late_fee.as_ref())?,
        principal: part("principal", owed.principal.as_ref())?,
    })
}

/// The wire component.
pub fn component_to_wire(component: money::allocation::Component) -> proto::types::v1::Component {
    use money::allocation::Component as C;
    use proto::types::v1::Component as W;
    match component {
        C::Costs => W::Costs,
        C::Interest => W::Interest,
        C::LateFee => W::LateFee,
        C::Principal => W::Principal,
    }
}

/// The domain component of a wire number; `None` for unspecified or unknown.
pub fn component_from_wire(value: i32) -> Option<money::allocation::Component> {
    use money::allocation::Component as C;
    use proto::types::v1::Component as W;
    match W::try_from(value).ok()? {
        W::Unspecified => None,
        W::Costs => Some(C::Costs),
        W::Interest => Some(C::Interest),
        W::LateFee => Some(C::LateFee),
        W::Principal => Some(C::Principal),
    }
}

/// The wire form of allocation parts.
pub fn parts(
    parts: &[(money::allocation::Component, Decimal)],
    currency: &str,
) -> Vec<proto::types::v1::ComponentAmount> {
    parts
        .iter()
        .map(|(c, a)| proto::types::v1::ComponentAmount {
            component: component_to_wire(*c) as i32,
            amount: Some(money(*a, currency)),
        })
        .collect()
}

/// Reads wire allocation parts this platform produced.
pub fn parse_parts(
    parts: &[proto::types::v1::ComponentAmount],
) -> Result<Vec<(money::allocation::Component, Decimal)>, String> {
    parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let component = component_from_wire(p.component)
                .ok_or_else(|| format!("parts[{i}].component: unknown {}", p.component))?;
            let (amount, _) =
                parse_money(p.amount.as_ref()).map_err(|e| format!("parts[{i}].{e}"))?;
            Ok((component, amount))
        })
        .collect()
}

/// The wire form of the order an allocation followed.
pub fn basis_to_wire(basis: money::allocation::Basis) -> proto::types::v1::AllocationBasis {
    use money::allocation::Basis as B;
    use proto::types::v1::AllocationBasis as W;
    match basis {
        B::PayerNamed => W::PayerNamed,
        B::Statutory => W::Statutory,
        B::Agreed => W::Agreed,
    }
}

/// The wire form of an agreed order's component ranks (R-P11).
pub fn component_order(order: &money::allocation::Order) -> proto::types::v1::ComponentOrder {
    proto::types::v1::ComponentOrder {
        ranks: order
            .components
            .iter()
            .map(|rank| proto::types::v1::ComponentRank {
                components: rank.iter().map(|c| component_to_wire(*c) as i32).collect(),
            })
            .collect(),
    }
}

/// An agreed order from its wire form: the ranks as given, the law's order among debts
/// (art. 560). An error names what is wrong (an unknown component, one missing or twice).
///
/// # Errors
/// A message naming the rank or component at fault.
pub fn parse_component_order(
    wire: &proto::types::v1::ComponentOrder,
) -> Result<money::allocation::Order, String> {
    let mut components = Vec::with_capacity(wire.ranks.len());
    for (i, rank) in wire.ranks.iter().enumerate() {
        let mut parsed = Vec::with_capacity(rank.components.len());
        for value in &rank.components {
            parsed.push(
                component_from_wire(*value)
                    .ok_or_else(|| format!("ranks[{i}]: component {value} is not a component"))?,
            );
        }
        components.push(parsed);
    }
    let order = money::allocation::Order {
        debts: money::allocation::Order::statutory().debts,
        components,
    };
    order.validate()?;
    Ok(order)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_agreed_component_order_round_trips_and_a_missing_component_is_named() {
        use money::allocation::{Component as C, Order};
        let order = Order {
            debts: Order::statutory().debts,
            components: vec![
                vec![C::Principal],
                vec![C::Costs],
                vec![C::Interest, C::LateFee],
            ],
        };
        let wire = component_order(&order);
        assert_eq!(parse_component_order(&wire), Ok(order));
        let mut short = wire.clone();
        short.ranks.pop();
        let err = parse_component_order(&short).expect_err("interest and late fee missing");
        assert!(err.contains("interest"), "{err}");
        let mut unknown = wire;
        unknown.ranks[0].components.push(9);
        let err = parse_component_order(&unknown).expect_err("9");
        assert!(err.contains("ranks[0]"), "{err}");
    }

    #[test]
    fn amounts_must_fit_the_currency_minor_units() {
        assert!(positive_amount("a", "10.001", "CNY").is_err());
        assert!(positive_amount("a", "10.5", "JPY").is_err());
        assert_eq!(
            positive_amount("a", "10.50", "CNY").ok(),
            Some(Decimal::new(1050, 2))
        );
        assert!(positive_amount("a", "0", "CNY").is_err());
        assert!(positive_amount("a", "-1", "CNY").is_err());
        assert!(positive_amount("a", "1e3", "CNY").is_err());
    }

    #[test]
    fn formatting_pads_to_minor_units() {
        assert_eq!(format_amount(Decimal::new(10000, 0), "CNY"), "10000.00");
        assert_eq!(format_amount(Decimal::new(5, 0), "JPY"), "5");
    }

    #[test]
    fn accounts_are_checked() {
        assert_eq!(
            account("a", " 6222 0212 3456 7890 ").ok().as_deref(),
            Some("6222 0212 3456 7890")
        );
        assert!(account("a", "").is_err());
        assert!(account("a", "ABC-12").is_err());
        assert!(account("a", "6222;0212").is_err());
    }

    #[test]
    fn masking_keeps_the_last_four() {
        assert_eq!(mask("6222021234567890"), "************7890");
        assert_eq!(mask("123"), "123");
    }
}
