//! Matching a payment to an open receivable by contract reference and amount (R-P4, R-P5).
//!
//! The walking skeleton's rule: the remittance text must name a known contract number,
//! optionally with the installment (`HT-2026-0001/2` or `HT-2026-0001#2`). A named
//! installment takes the payment if it covers no more than what is open (R-P11: the payer's
//! designation wins); otherwise the oldest open installment whose open amount equals the
//! payment takes it. Anything else is an exception for a person, never a guess (R-P5).

use chrono::NaiveDate;
use rust_decimal::Decimal;
use uuid::Uuid;

/// An open receivable as the read model knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Receivable id.
    pub receivable_id: Uuid,
    /// Contract it belongs to.
    pub contract_id: Uuid,
    /// Customer who owes it.
    pub customer_id: Uuid,
    /// Installment number within the contract.
    pub installment_no: i32,
    /// Due date.
    pub due_date: NaiveDate,
    /// Currency.
    pub currency: String,
    /// Open amount not already claimed by a pending allocation.
    pub available: Decimal,
}

/// What to do with a payment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Allocate the whole payment to this receivable.
    Allocate(Candidate),
    /// Send to the exception queue.
    Exception {
        /// Machine-readable kind.
        kind: &'static str,
        /// Why, in words a clerk understands.
        reason: String,
        /// What a person should do.
        suggested_action: String,
    },
}

/// A contract number and maybe an installment named in remittance text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Contract number as written.
    pub contract_no: String,
    /// Installment number, if named.
    pub installment_no: Option<i32>,
}

/// Candidate references in remittance text: every token, and for `X/N` or `X#N` tokens the
/// contract `X` with installment `N`.
pub fn references(remittance: &str) -> Vec<Reference> {
    let mut found = Vec::new();
    for token in remittance
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | ':' | '，' | '；' | '：'))
    {
        let token = token.trim_matches(|c: char| matches!(c, '(' | ')' | '[' | ']' | '"' | '\''));
        if token.is_empty() {
            continue;
        }
        if let Some((contract, installment)) = token.split_once(['/', '#'])
            && let Ok(n) = installment.parse::<i32>()
        {
            found.push(Reference {
                contract_no: contract.to_owned(),
                installment_no: Some(n),
            });
            continue;
        }
        found.push(Reference {
            contract_no: token.to_owned(),
            installment_no: None,
        });
    }
    found
}

/// Decides for a payment of `amount` in `currency`, given the open receivables of the
/// contract named by `reference` (any order). `reference` is `None` when the remittance
/// named no known contract.
pub fn decide(
    reference: Option<&Reference>,
    amount: Decimal,
    currency: &str,
    candidates: &[Candidate],
) -> Decision {
    let Some(reference) = reference else {
        return Decision::Exception {
            kind: "NO_CONTRACT_REFERENCE",
            reason: "the remittance text names no known contract number".to_owned(),
            suggested_action: "identify the payer and allocate by hand, or return the money"
                .to_owned(),
        };
    };
    let mut open: Vec<&Candidate> = candidates
        .iter()
        .filter(|c| c.available > Decimal::ZERO)
        .collect();
    open.sort_by_key(|c| (c.due_date, c.installment_no));
    if open.is_empty() {
        return Decision::Exception {
            kind: "NOTHING_OPEN",
            reason: format!("contract {} has nothing open to pay", reference.contract_no),
            suggested_action: "check for a duplicate or an overpayment and refund it if so"
                .to_owned(),
        };
    }
    if let Some(c) = open.iter().find(|c| c.currency != currency) {
        return Decision::Exception {
            kind: "CURRENCY_MISMATCH",
            reason: format!(
                "payment is in {currency}, contract {} is in {}",
                reference.contract_no, c.currency
            ),
            suggested_action: "convert at the day's rate and allocate by hand (R-P8)".to_owned(),
        };
    }
    if let Some(n) = reference.installment_no {
        return match open.iter().find(|c| c.installment_no == n) {
            Some(c) if amount <= c.available => Decision::Allocate((*c).clone()),
            Some(c) => Decision::Exception {
                kind: "AMOUNT_EXCEEDS_OPEN",
                reason: format!(
                    "payment of {amount} is more than the {} open on installment {n} of contract {}",
                    c.available, reference.contract_no
                ),
                suggested_action:
                    "split the payment over several installments or refund the surplus".to_owned(),
            },
            None => Decision::Exception {
                kind: "NO_SUCH_INSTALLMENT",
                reason: format!(
                    "contract {} has no open installment {n}",
                    reference.contract_no
                ),
                suggested_action: "check the installment number with the payer".to_owned(),
            },
        };
    }
    match open.iter().find(|c| c.available == amount) {
        Some(c) => Decision::Allocate((*c).clone()),
        None => Decision::Exception {
            kind: "NO_MATCHING_AMOUNT",
            reason: format!(
                "no open installment of contract {} is exactly {amount}; open: {}",
                reference.contract_no,
                open.iter()
                    .map(|c| format!("#{} {}", c.installment_no, c.available))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            suggested_action: "confirm with the payer which installments the payment is for"
                .to_owned(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn candidate(n: i32, due: &str, available: &str) -> Candidate {
        Candidate {
            receivable_id: Uuid::from_u128(n as u128),
            contract_id: Uuid::from_u128(100),
            customer_id: Uuid::from_u128(200),
            installment_no: n,
            due_date: due.parse().unwrap(),
            currency: "CNY".to_owned(),
            available: available.parse().unwrap(),
        }
    }

    fn reference(text: &str) -> Reference {
        references(text).into_iter().next().unwrap()
    }

    #[test]
    fn references_find_contract_and_installment() {
        assert_eq!(
            references("房款 HT-2026-0001/2，谢谢"),
            vec![
                Reference {
                    contract_no: "房款".into(),
                    installment_no: None
                },
                Reference {
                    contract_no: "HT-2026-0001".into(),
                    installment_no: Some(2)
                },
                Reference {
                    contract_no: "谢谢".into(),
                    installment_no: None
                },
            ]
        );
        assert_eq!(reference("HT-9#3").installment_no, Some(3));
    }

    #[test]
    fn oldest_installment_with_the_exact_amount_is_chosen() {
        // R-P4: amount and reference; R-P11: earliest due first among equals.
        let open = [
            candidate(3, "2026-05-10", "100.00"),
            candidate(2, "2026-04-10", "100.00"),
            candidate(1, "2026-03-10", "50.00"),
        ];
        let decision = decide(
            Some(&reference("HT-1")),
            "100.00".parse().unwrap(),
            "CNY",
            &open,
        );
        assert_eq!(decision, Decision::Allocate(open[1].clone()));
    }

    #[test]
    fn named_installment_wins_and_may_be_partial() {
        // R-P11: the payer's designation wins.
        let open = [
            candidate(1, "2026-03-10", "100.00"),
            candidate(2, "2026-04-10", "200.00"),
        ];
        let decision = decide(
            Some(&reference("HT-1/2")),
            "150.00".parse().unwrap(),
            "CNY",
            &open,
        );
        assert_eq!(decision, Decision::Allocate(open[1].clone()));
        let over = decide(
            Some(&reference("HT-1/1")),
            "150.00".parse().unwrap(),
            "CNY",
            &open,
        );
        assert!(matches!(
            over,
            Decision::Exception {
                kind: "AMOUNT_EXCEEDS_OPEN",
                ..
            }
        ));
    }

    #[test]
    fn no_guessing_on_unclear_payments() {
        // R-P5: exceptions, never guesses.
        let open = [candidate(1, "2026-03-10", "100.00")];
        let amount: Decimal = "99.99".parse().unwrap();
        assert!(matches!(
            decide(None, amount, "CNY", &open),
            Decision::Exception {
                kind: "NO_CONTRACT_REFERENCE",
                ..
            }
        ));
        assert!(matches!(
            decide(Some(&reference("HT-1")), amount, "CNY", &open),
            Decision::Exception {
                kind: "NO_MATCHING_AMOUNT",
                ..
            }
        ));
        assert!(matches!(
            decide(Some(&reference("HT-1")), amount, "USD", &open),
            Decision::Exception {
                kind: "CURRENCY_MISMATCH",
                ..
            }
        ));
        assert!(matches!(
            decide(Some(&reference("HT-1")), amount, "CNY", &[]),
            Decision::Exception {
                kind: "NOTHING_OPEN",
                ..
            }
        ));
    }
}
