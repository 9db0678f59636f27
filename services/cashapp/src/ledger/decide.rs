//! The decision for one payment (R-P4, R-P5): rank the candidates, run the exception gates
//! (duplicate, wrong receiving account, third-party payer, ambiguity, missing rate, nothing
//! open, amount mismatch), and apply automatically only above the policy's confidence
//! threshold.

use rust_decimal::Decimal;

use super::Batch;
use super::Ledger;
use super::candidates::Found;
use super::gates::gates;
use super::probe::{dedup_key, probe};
use super::score::{Scored, score_candidate};
use crate::decision::{
    Allocation, AllocationOrder, Candidate, Decision, Exception, ExceptionKind, Outcome, shape_of,
};
use crate::evidence::{AmountFit, Evidence, score};
use crate::ident::Text;
use crate::model::Payment;

/// Candidates listed with a proposal or an exception.
const SHOWN: usize = 3;

fn base(p: &Payment, dedup: Option<u64>) -> Decision {
    Decision {
        payment_id: p.id.clone(),
        bank_reference: p.bank_reference.clone(),
        date: p.date,
        line: p.source_line,
        received: p.amount,
        currency: p.currency.clone(),
        payer_name: p.payer_name.clone(),
        outcome: Outcome::Exception,
        shape: None,
        confidence: 0,
        customer_id: None,
        customer_name: None,
        booked_currency: p.currency.clone(),
        booked: p.amount,
        fx: None,
        allocations: Vec::new(),
        applied: Decimal::ZERO,
        unapplied: p.amount,
        write_off: None,
        order: None,
        evidence: Vec::new(),
        notes: Vec::new(),
        exception: None,
        candidates: Vec::new(),
        dedup,
    }
}

fn view(ledger: &Ledger, p: &Payment, s: &Scored) -> Candidate {
    let customer = s.customer(ledger);
    Candidate {
        customer_id: customer.map_or_else(|| Text::from(""), |c| c.id.clone()),
        customer_name: customer.map_or_else(|| Text::from(""), |c| c.name.clone()),
        contracts: s.contract_nos(ledger),
        confidence: s.confidence(),
        evidence: s.evidence.clone(),
        booked_currency: s.currency_code(p).to_string(),
        booked: s.booked,
        fx: s.fx.clone(),
        write_off: s.write_off.clone(),
        allocations: s.allocations.clone(),
        order: s.order,
    }
}

/// The exact-item alternative of a candidate (R-P11, issue 19): the same customer and
/// evidence, the amount fitting that one receivable (and the date evidence of its due date).
fn exact_item_view(ledger: &Ledger, p: &Payment, s: &Scored, a: &Allocation) -> Candidate {
    let mut c = view(ledger, p, s);
    c.evidence.retain(|e| {
        !matches!(
            e,
            Evidence::Amount { .. } | Evidence::DateNearDue { .. } | Evidence::UnitNamed { .. }
        )
    });
    c.evidence.push(Evidence::Amount {
        fit: AmountFit::One,
        items: 1,
        difference: Decimal::ZERO,
    });
    let days = (p.date - a.due_date).num_days();
    if days.abs() <= i64::from(ledger.policy.date_window_days) {
        c.evidence.push(Evidence::DateNearDue { days });
    }
    c.confidence = u16::try_from(score(&c.evidence).clamp(0, 10_000)).unwrap_or(0);
    c.allocations = vec![a.clone()];
    c.write_off = None;
    c.order = AllocationOrder::ExactItem;
    c
}

/// The candidates shown with a proposal or an exception: the best [`SHOWN`], each followed
/// by its exact-item alternative, if any.
fn views(ledger: &Ledger, p: &Payment, scored: &[Scored]) -> Vec<Candidate> {
    let mut out = Vec::with_capacity(SHOWN + 1);
    for s in scored.iter().take(SHOWN) {
        out.push(view(ledger, p, s));
        if let Some(a) = &s.single_fit {
            out.push(exact_item_view(ledger, p, s, a));
        }
    }
    out
}

fn action(kind: ExceptionKind) -> &'static str {
    match kind {
        ExceptionKind::Duplicate => {
            "Check with the payer whether they paid twice; hold the second payment and refund it if so."
        }
        ExceptionKind::AmountMismatch => {
            "Ask the customer what the payment is for, then apply it as instructed or agree on the difference."
        }
        ExceptionKind::ThirdPartyPayer => {
            "Get the customer's confirmation that this payer paid on their behalf, then apply it to the candidate."
        }
        ExceptionKind::NoCandidate => {
            "Identify the payer through the bank or the sales office; if it pays no receivable, book it as unidentified or return it."
        }
        ExceptionKind::Ambiguous => {
            "Check the candidates with the payer and apply the payment to the right one."
        }
        ExceptionKind::WrongReceivingAccount => {
            "Alert finance (R-P6): the money must be moved to the regulated escrow account before it is applied."
        }
        ExceptionKind::NothingOpen => {
            "The receivables it names are already paid: check for a duplicate or an advance payment; refund or hold as credit."
        }
        ExceptionKind::MissingRate => {
            "Add the day's exchange rate to the rate table and reconcile the payment again."
        }
    }
}

fn exception(
    ledger: &Ledger,
    p: &Payment,
    mut d: Decision,
    kinds: Vec<ExceptionKind>,
    reason: String,
    shown: &[Scored],
) -> Decision {
    let mut kinds = kinds.into_iter();
    let kind = kinds.next().unwrap_or(ExceptionKind::NoCandidate);
    d.outcome = Outcome::Exception;
    d.confidence = shown.first().map_or(0, Scored::confidence);
    d.candidates = views(ledger, p, shown);
    d.exception = Some(Exception {
        kind,
        also: kinds.collect(),
        reason,
        suggested_action: action(kind),
    });
    d
}

/// The scopes a customer's findings stand for: what exact references name (all of it: the
/// payer may pay several contracts at once), else each contract a weak reference (typo, cut
/// short) may mean on its own — a cut-short number does not name two contracts at once.
fn scopes(mut found: Found) -> Vec<Found> {
    let weak_only = found.items.is_empty()
        && found.contracts.len() > 1
        && !found.contracts.iter().any(|(_, m)| m.is_strong());
    if weak_only {
        return found
            .contracts
            .iter()
            .map(|c| Found {
                contracts: vec![*c],
                ..found.clone()
            })
            .collect();
    }
    if found.contracts.iter().any(|(_, m)| m.is_strong()) || !found.items.is_empty() {
        found.contracts.retain(|(_, m)| m.is_strong());
    }
    vec![found]
}

/// Decide one payment against the batch's view of the ledger.
pub(crate) fn decide(batch: &Batch<'_>, p: &Payment, scored: &mut Vec<Scored>) -> Decision {
    let ledger = batch.ledger;
    let policy = &ledger.policy;
    let probe = probe(ledger, p);
    let dedup = dedup_key(p, &probe);
    std::hint::black_box(ledger.warm(&probe, batch.touch(dedup)));
    let d = base(p, dedup);
    if let Some(outcome) = batch.seen_id(&p.id) {
        let reason = format!(
            "the same bank line (id {}) was already reconciled ({outcome:?}); it must never count twice (R-P2)",
            p.id
        );
        return exception(ledger, p, d, vec![ExceptionKind::Duplicate], reason, &[]);
    }
    let found = ledger.find(&probe);
    scored.extend(
        found
            .into_iter()
            .flat_map(scopes)
            .map(|f| score_candidate(batch, p, &probe, f)),
    );
    scored.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then_with(|| a.customer_id(ledger).cmp(b.customer_id(ledger)))
            .then_with(|| a.contract_ids.cmp(&b.contract_ids))
    });
    if let Some(key) = dedup
        && let Some(seen) = batch.seen_key(key, p.date)
    {
        let reason = format!(
            "same payer, amount and reference as payment {} of {} ({:?})",
            seen.id, seen.date, seen.outcome
        );
        return exception(ledger, p, d, vec![ExceptionKind::Duplicate], reason, scored);
    }
    let Some(best) = scored.first() else {
        return exception(
            ledger,
            p,
            d,
            vec![ExceptionKind::NoCandidate],
            "nothing in the remittance, the payer's account or name points to an open receivable"
                .into(),
            scored,
        );
    };
    if best.score < i32::from(policy.proposal_min_confidence) {
        let reason = format!(
            "the best candidate, customer {} ({}), has only {} of {} points needed to propose it",
            best.customer_id(ledger),
            best.customer(ledger).map_or("", |c| &*c.name),
            best.score,
            policy.proposal_min_confidence
        );
        return exception(
            ledger,
            p,
            d,
            vec![ExceptionKind::NoCandidate],
            reason,
            scored,
        );
    }
    let (kinds, reasons) = gates(ledger, best, scored, p);
    if !kinds.is_empty() {
        return exception(ledger, p, d, kinds, reasons.join("; "), scored);
    }
    chosen(ledger, d, scored, p)
}

/// An applied or proposed decision for the best candidate (the first of `all`).
fn chosen(ledger: &Ledger, mut d: Decision, all: &mut Vec<Scored>, p: &Payment) -> Decision {
    let policy = &ledger.policy;
    let Some(best) = all.first() else {
        return d;
    };
    let mut confidence = best.confidence();
    if best.payer_unknown() || best.single_fit.is_some() {
        // Nobody verified the payer (or only free text names them), or the amount fits one
        // item exactly while the statutory order pays others (R-P11): a person looks at it
        // whatever the other evidence says.
        confidence = confidence.min(policy.auto_apply_min_confidence.saturating_sub(1));
    }
    let auto = confidence >= policy.auto_apply_min_confidence;
    if !auto {
        d.candidates = views(ledger, p, all);
    }
    if let Some(a) = &best.single_fit {
        d.notes.push(format!(
            "the amount equals receivable {} alone; the allocation shown follows the statutory order (R-P11); confirm candidate 2 to pay that receivable instead",
            a.receivable_id
        ));
    }
    let new_account = best.found.name.is_some() && !best.found.account;
    let best = all.swap_remove(0);
    d.confidence = confidence;
    let code = best.currency_code(p);
    if d.booked_currency != code {
        d.booked_currency = code.to_string();
    }
    if let Some(c) = best.customer(ledger) {
        d.customer_id = Some(c.id.clone());
        d.customer_name = Some(c.name.clone());
    }
    d.booked = best.booked;
    d.fx = best.fx;
    d.allocations = best.allocations;
    d.write_off = best.write_off;
    d.order = Some(best.order);
    d.evidence = best.evidence;
    let allocated: Decimal = d.allocations.iter().map(|a| a.amount).sum();
    let surplus = d.booked - allocated;
    d.shape = shape_of(&d.allocations, surplus, d.write_off.as_ref());
    if auto {
        d.outcome = Outcome::Applied;
        d.applied = allocated;
        d.unapplied = surplus;
    } else {
        d.outcome = Outcome::Proposed;
        d.applied = Decimal::ZERO;
        d.unapplied = d.booked;
        d.notes.push(format!(
            "confidence {confidence} is below the automatic threshold {}: a person confirms",
            policy.auto_apply_min_confidence
        ));
    }
    if let Some(fx) = &d.fx
        && let Some(published) = fx.inverse_of
    {
        // R-P8: the rate used is recorded, and how it was obtained.
        d.notes.push(format!(
            "converted at the inverse of the published {}→{} rate {published} of {}: {} {} ÷ {published} = {} {}, rounded half away from zero to the minor unit",
            fx.to, fx.from, fx.rate_date, fx.received, fx.from, fx.booked, fx.to
        ));
    }
    if surplus > Decimal::ZERO {
        d.notes.push(format!(
            "surplus {surplus} {} left unapplied: refund it or hold it as credit",
            d.booked_currency
        ));
    }
    if let Some(w) = &d.write_off {
        d.notes.push(format!(
            "difference {} written off on {}{}",
            w.amount,
            w.receivable_id,
            if w.needs_approval {
                " once a person approves (above the approval threshold)"
            } else {
                ""
            }
        ));
    }
    if new_account && p.payer_account.is_some() {
        // R-O4: the account is not named (the payment shows it masked).
        d.notes.push(
            "the payer's account is not on file for the customer; consider adding it".to_owned(),
        );
    }
    d
}
