//! Credit hold (R-L5, R-S5): who may still sign a new contract. A customer is on hold while
//! any hold is active: one per open legal case, one while overdue is above the configured
//! threshold, and any a supervisor placed. A held customer signs only with a supervisor's
//! override for that one contract.

use rust_decimal::Decimal;

/// Why a customer is on hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// An open legal case (R-L5).
    LegalCase,
    /// Overdue above the threshold (R-S5), found by the daily cycle.
    Overdue,
    /// A supervisor's decision.
    Supervisor,
    /// Scoring's advice (R-S5): the grade is C or worse, or a severe default.
    Scoring,
}

impl Source {
    /// The name stored and published.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LegalCase => "legal_case",
            Self::Overdue => "overdue",
            Self::Supervisor => "supervisor",
            Self::Scoring => "scoring",
        }
    }

    /// The inverse of [`as_str`](Self::as_str).
    #[must_use]
    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::LegalCase,
            Self::Overdue,
            Self::Supervisor,
            Self::Scoring,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
    }

    /// Whether a person may release it by hand. A legal-case hold ends with the case and an
    /// overdue hold when the daily cycle finds the overdue back under the threshold; a
    /// person who must sign anyway uses an override, which is recorded per contract.
    ///
    /// # Errors
    /// Why not, and what to do instead.
    pub fn release_by_hand(self) -> Result<(), String> {
        match self {
            Self::Supervisor => Ok(()),
            Self::LegalCase => Err(
                "a legal-case hold ends when the case closes; to sign one contract anyway, a supervisor grants an override (OverrideCreditHold)"
                    .to_owned(),
            ),
            Self::Overdue => Err(
                "an overdue hold ends when the daily cycle finds the overdue under the threshold; to sign one contract anyway, a supervisor grants an override (OverrideCreditHold)"
                    .to_owned(),
            ),
            Self::Scoring => Err(
                "a scoring hold ends when the customer's grade no longer advises it (R-S5); to sign one contract anyway, a supervisor grants an override (OverrideCreditHold)"
                    .to_owned(),
            ),
        }
    }
}

/// An active hold, as signing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    /// Why.
    pub source: Source,
    /// The reason recorded with it.
    pub reason: String,
}

/// Whether a contract may be signed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Signing {
    /// No hold.
    Free,
    /// On hold, but a supervisor allowed this contract: the override is used now.
    Overridden,
    /// On hold: refused, with the holds in words and what to do.
    Refused(String),
}

/// Decides signing for a customer with `active` holds, with or without an unused override
/// for this contract.
#[must_use]
pub fn signing(active: &[Active], override_granted: bool) -> Signing {
    if active.is_empty() {
        return Signing::Free;
    }
    if override_granted {
        return Signing::Overridden;
    }
    let holds: Vec<String> = active
        .iter()
        .map(|h| format!("{} ({})", h.source.as_str(), h.reason))
        .collect();
    Signing::Refused(format!(
        "the customer is on credit hold: {}; a supervisor may allow this one contract with OverrideCreditHold (collectctl holds override)",
        holds.join("; ")
    ))
}

/// The overdue threshold: holds are placed when a customer's overdue in `currency` is above
/// `amount`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Threshold {
    /// The amount.
    pub amount: Decimal,
    /// Its currency; receivables in other currencies do not count.
    pub currency: String,
}

impl Threshold {
    /// Parses `"100000.00 CNY"`.
    ///
    /// # Errors
    /// What is wrong with the text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.split_whitespace();
        let (Some(amount), Some(currency), None) = (parts.next(), parts.next(), parts.next())
        else {
            return Err(format!(
                "{text:?} is not an amount and a currency like \"100000.00 CNY\""
            ));
        };
        let amount: Decimal = amount
            .parse()
            .map_err(|_| format!("{amount:?} is not a decimal amount"))?;
        if amount < Decimal::ZERO {
            return Err("the threshold must not be negative".to_owned());
        }
        if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(format!("{currency:?} is not an ISO 4217 currency code"));
        }
        Ok(Self {
            amount,
            currency: currency.to_owned(),
        })
    }
}

/// What the daily cycle does about a customer's overdue hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverdueChange {
    /// Place one.
    Place,
    /// Release the active one.
    Release,
    /// Nothing.
    Keep,
}

/// The change for a customer with `overdue` in the threshold's currency, `held` telling
/// whether an overdue hold is active. Above the threshold means strictly above.
#[must_use]
pub fn overdue_change(overdue: Decimal, threshold: &Threshold, held: bool) -> OverdueChange {
    match (overdue > threshold.amount, held) {
        (true, false) => OverdueChange::Place,
        (false, true) => OverdueChange::Release,
        _ => OverdueChange::Keep,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(source: Source) -> Active {
        Active {
            source,
            reason: "why".into(),
        }
    }

    #[test]
    fn a_held_customer_signs_only_with_an_override() {
        // R-L5, R-S5.
        assert_eq!(signing(&[], false), Signing::Free);
        assert_eq!(signing(&[], true), Signing::Free);
        let holds = [held(Source::LegalCase), held(Source::Overdue)];
        assert_eq!(signing(&holds, true), Signing::Overridden);
        match signing(&holds, false) {
            Signing::Refused(why) => {
                assert!(why.contains("legal_case (why); overdue (why)"), "{why}");
                assert!(why.contains("OverrideCreditHold"), "{why}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn only_a_supervisors_hold_is_released_by_hand() {
        assert!(Source::Supervisor.release_by_hand().is_ok());
        assert!(
            Source::LegalCase
                .release_by_hand()
                .unwrap_err()
                .contains("case closes")
        );
        assert!(Source::Overdue.release_by_hand().is_err());
        assert!(Source::Scoring.release_by_hand().is_err());
        for s in [
            Source::LegalCase,
            Source::Overdue,
            Source::Supervisor,
            Source::Scoring,
        ] {
            assert_eq!(Source::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn the_overdue_threshold_places_above_and_releases_at_or_below() {
        let t = Threshold::parse("100000.00 CNY").unwrap();
        let d = |s: &str| s.parse::<Decimal>().unwrap();
        assert_eq!(
            overdue_change(d("100000.01"), &t, false),
            OverdueChange::Place
        );
        assert_eq!(
            overdue_change(d("100000.00"), &t, false),
            OverdueChange::Keep
        );
        assert_eq!(
            overdue_change(d("100000.00"), &t, true),
            OverdueChange::Release
        );
        assert_eq!(overdue_change(d("200000"), &t, true), OverdueChange::Keep);
        for bad in ["100000", "abc CNY", "-1 CNY", "1 cny", "1 CNY extra"] {
            assert!(Threshold::parse(bad).is_err(), "{bad}");
        }
    }
}
