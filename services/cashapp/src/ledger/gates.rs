//! The exception gates (R-P5, R-P6, R-P8): what keeps the best candidate from being applied,
//! most important first — wrong receiving account, third-party payer, ambiguity, missing
//! exchange rate, nothing open, amount differing without a reference.

use super::Ledger;
use super::score::Scored;
use crate::decision::ExceptionKind;
use crate::evidence::{AmountFit, RefMatch};
use crate::model::Payment;

/// Exception kinds that hold for the best candidate, most important first, with reasons.
pub(crate) fn gates(
    ledger: &Ledger,
    best: &Scored,
    all: &[Scored],
    p: &Payment,
) -> (Vec<ExceptionKind>, Vec<String>) {
    let policy = &ledger.policy;
    let mut kinds = Vec::new();
    let mut reasons = Vec::new();
    if let Some(escrow) = &best.wrong_escrow {
        kinds.push(ExceptionKind::WrongReceivingAccount);
        // R-O4: the receiving account is not named (the payment shows it masked).
        reasons.push(format!("received on another account, but the receivables of customer {} must be paid into their regulated escrow account {escrow} (R-P6)", best.customer_id(ledger)));
    }
    if best.found.best_ref().is_some() && best.payer_is_other() {
        kinds.push(ExceptionKind::ThirdPartyPayer);
        reasons.push(format!("the remittance names a contract of {} but the payer {} is not the contract party (R-P5)", best.customer(ledger).map_or("", |c| &*c.name), p.payer_name.as_deref().unwrap_or("(no name)")));
    }
    let second = all.get(1);
    let close = second.is_some_and(|s| {
        s.score >= i32::from(policy.proposal_min_confidence)
            && s.score + i32::from(policy.ambiguity_margin) > best.score
    });
    // A remittance that names another customer's contract exactly conflicts with a best
    // candidate found by a weaker reference or by the payer alone — unless the amount fits the
    // best candidate and not the other (then the exact hit is a typo that landed on a real
    // number; a third party would pay the other contract's amount).
    let strong = |s: &Scored| s.found.best_ref().is_some_and(RefMatch::is_strong);
    let fits = |s: &Scored| {
        matches!(
            s.fit,
            Some(AmountFit::One | AmountFit::Several | AmountFit::WithinTolerance)
        )
    };
    let conflict = !strong(best)
        && all
            .iter()
            .skip(1)
            .any(|s| strong(s) && (fits(s) || !fits(best)));
    if close || conflict {
        kinds.push(ExceptionKind::Ambiguous);
        let other = if close {
            second
        } else {
            all.iter().skip(1).find(|s| strong(s))
        };
        reasons.push(format!(
            "customer {} ({} points) and customer {} ({} points) are too close to call",
            best.customer_id(ledger),
            best.score,
            other.map_or("", |s| s.customer_id(ledger)),
            other.map_or(0, |s| s.score)
        ));
    }
    if let Some(other) = &best.other_fit {
        kinds.push(ExceptionKind::Ambiguous);
        reasons.push(format!("the remittance names {} but the amount fits the customer's other contract {other} exactly", best.contracts_text(ledger)));
    }
    if best.missing_rate {
        kinds.push(ExceptionKind::MissingRate);
        reasons.push(format!("paid in {} but the contract is in {} and there is no {}→{} rate on or before {} (R-P8)", p.currency, best.currency_code(p), p.currency, best.currency_code(p), p.date));
    }
    if best.nothing_open {
        kinds.push(ExceptionKind::NothingOpen);
        reasons.push(format!(
            "everything customer {} owes on {} is already paid",
            best.customer_id(ledger),
            best.contracts_text(ledger)
        ));
    }
    let named = best.found.best_ref().is_some();
    let mismatch = match best.fit {
        Some(AmountFit::Partial) => !named || !policy.allow_partial,
        Some(AmountFit::Over) => !named || !policy.allow_overpayment,
        _ => false,
    };
    if mismatch {
        kinds.push(ExceptionKind::AmountMismatch);
        reasons.push(open_text(ledger, best, p));
    }
    (kinds, reasons)
}

/// Most receivables listed in an amount-mismatch message.
const LISTED: usize = 6;

/// What the customer has open, for an amount mismatch (issue 19: the receivables in scope,
/// not the sum of the planned allocation), and the one item the amount equals, if any.
fn open_text(ledger: &Ledger, best: &Scored, p: &Payment) -> String {
    let ccy = best.currency_code(p);
    let n = best.open_count;
    let mut text = format!(
        "{} {ccy} does not match what customer {} has open: {} {ccy} open in {n} receivable{}",
        best.booked,
        best.customer_id(ledger),
        best.open_total,
        if n == 1 { "" } else { "s" }
    );
    let listed: Vec<String> = best
        .open_list
        .iter()
        .take(LISTED)
        .filter_map(|(i, open)| {
            let item = ledger.items.get(*i as usize)?;
            Some(format!("{} {open} due {}", item.id, item.due))
        })
        .collect();
    if !listed.is_empty() {
        text.push_str(" (");
        text.push_str(&listed.join(", "));
        if best.open_list.len() > LISTED {
            text.push_str(", …");
        }
        text.push(')');
    }
    if let Some(a) = &best.single_fit {
        text.push_str(&format!(
            "; the amount equals receivable {} alone",
            a.receivable_id
        ));
    }
    text.push_str("; the remittance does not say what it pays");
    text
}
