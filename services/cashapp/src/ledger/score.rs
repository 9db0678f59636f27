//! Scoring one candidate customer: its evidence, the receivables in scope, the currency
//! conversion (R-P8), the escrow check (R-P6), and the allocation plan (R-P11, R-P12).

use rust_decimal::Decimal;

use super::amounts::{allocate, fits_exactly, trailing_number};
use super::candidates::Found;
use super::probe::Probe;
use super::{Batch, Ledger};
use crate::allocate::Slot;
use crate::decision::{Allocation, AllocationOrder, WriteOff};
use crate::evidence::{AmountFit, Evidence, score};
use crate::fx::FxConversion;
use crate::ident::Text;
use crate::model::{Ccy, Payment};
use crate::names::NameMatch;

/// A candidate with everything needed to decide and to explain.
#[derive(Debug, Clone)]
pub(crate) struct Scored {
    pub(crate) found: Found,
    /// Contracts in scope (what the remittance names, else all the customer's).
    pub(crate) contract_ids: Vec<u32>,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) score: i32,
    /// Currency of the receivables in scope (`None`: none in scope; then the payment's).
    pub(crate) currency: Option<Ccy>,
    pub(crate) booked: Decimal,
    pub(crate) fx: Option<FxConversion>,
    pub(crate) missing_rate: bool,
    pub(crate) allocations: Vec<Allocation>,
    pub(crate) surplus: Decimal,
    pub(crate) write_off: Option<WriteOff>,
    pub(crate) fit: Option<AmountFit>,
    pub(crate) order: AllocationOrder,
    pub(crate) wrong_escrow: Option<Text>,
    pub(crate) nothing_open: bool,
    /// Another contract of the same customer whose oldest open items the amount fits exactly
    /// (when it does not fit the named one).
    pub(crate) other_fit: Option<Text>,
    /// What is open in scope: total and number of receivables, and (when the amount is
    /// partial or over) each receivable with its open amount, in R-P11 order.
    pub(crate) open_total: Decimal,
    pub(crate) open_count: usize,
    pub(crate) open_list: Vec<(u32, Decimal)>,
    /// A single open item the amount equals exactly, when nothing names what is paid and the
    /// statutory order would not pay one item exactly (R-P11, issue 19).
    pub(crate) single_fit: Option<Allocation>,
}

impl Scored {
    /// The customer's id (looked up only when needed: the hot path touches no strings).
    pub(crate) fn customer_id<'l>(&self, ledger: &'l Ledger) -> &'l str {
        ledger
            .customers
            .get(self.found.customer as usize)
            .map_or("", |c| &c.id)
    }

    /// The customer's record.
    pub(crate) fn customer<'l>(&self, ledger: &'l Ledger) -> Option<&'l super::Customer> {
        ledger.customers.get(self.found.customer as usize)
    }

    /// Numbers of the contracts in scope.
    pub(crate) fn contract_nos(&self, ledger: &Ledger) -> Vec<Text> {
        self.contract_ids
            .iter()
            .filter_map(|c| ledger.contracts.get(*c as usize).map(|x| x.no.clone()))
            .collect()
    }

    /// Numbers of the contracts in scope, comma separated.
    pub(crate) fn contracts_text(&self, ledger: &Ledger) -> String {
        self.contract_nos(ledger)
            .iter()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Currency the amounts are booked in.
    pub(crate) fn currency_code<'a>(&'a self, p: &'a Payment) -> &'a str {
        self.currency
            .as_ref()
            .map_or(p.currency.as_str(), Ccy::as_str)
    }

    /// Confidence in basis points.
    pub(crate) fn confidence(&self) -> u16 {
        u16::try_from(self.score.clamp(0, 10_000)).unwrap_or(0)
    }

    /// True when neither the payer's account nor name belongs to the customer.
    pub(crate) fn payer_is_other(&self) -> bool {
        self.evidence
            .iter()
            .any(|e| matches!(e, Evidence::PayerNotCustomer))
    }

    /// True when the bank told nothing about the payer, or only the remittance text carries
    /// a name (free text may name anyone: the customer the money is for as well as the payer).
    pub(crate) fn payer_unknown(&self) -> bool {
        self.evidence
            .iter()
            .any(|e| matches!(e, Evidence::PayerUnknown))
            || (!self.found.account && self.found.text_name.is_some())
    }
}

/// Score candidate `found` for payment `p`.
pub(crate) fn score_candidate(
    batch: &Batch<'_>,
    p: &Payment,
    probe: &Probe,
    found: Found,
) -> Scored {
    let ledger = batch.ledger;
    let customer = ledger.customers.get(found.customer as usize);
    let mut evidence = Vec::with_capacity(8);
    for (i, how) in &found.items {
        if let Some(item) = ledger.items.get(*i as usize) {
            evidence.push(Evidence::ReceivableNamed {
                receivable: item.id.clone(),
                how: *how,
            });
        }
    }
    let mut contract_ids: Vec<u32> = found.contracts.iter().map(|(c, _)| *c).collect();
    for (i, _) in &found.items {
        if let Some(item) = ledger.items.get(*i as usize)
            && !contract_ids.contains(&item.contract)
        {
            contract_ids.push(item.contract);
        }
    }
    for (c, how) in &found.contracts {
        if let Some(contract) = ledger.contracts.get(*c as usize) {
            evidence.push(Evidence::ContractNamed {
                contract: contract.no.clone(),
                how: *how,
            });
        }
    }
    if found.account {
        evidence.push(Evidence::PayerAccountOnFile);
    }
    if let Some(how) = found.name {
        match found
            .text_name
            .and_then(|i| probe.text_names.get(usize::from(i)))
        {
            Some((written, _)) => evidence.push(Evidence::PayerNameInText {
                name: Text::from(written.as_str()),
                how,
            }),
            None => evidence.push(Evidence::PayerName { how }),
        }
    }
    if !payer_verified(&found) {
        evidence.push(if probe.account.is_some() || probe.name_given {
            Evidence::PayerNotCustomer
        } else {
            Evidence::PayerUnknown
        });
    }
    // Scope: the receivables of the named contracts, else all of the customer's.
    if contract_ids.is_empty()
        && let Some(c) = customer
    {
        contract_ids.clone_from(&c.contracts);
    }
    let mut slots: Vec<Slot<'_>> = Vec::with_capacity(8);
    let mut any_item = false;
    for c in &contract_ids {
        let Some(contract) = ledger.contracts.get(*c as usize) else {
            continue;
        };
        for &i in &contract.items {
            any_item = true;
            let open = batch.open(i);
            if open <= Decimal::ZERO {
                continue;
            }
            if let Some(item) = ledger.items.get(i as usize) {
                let mut named = found.items.iter().any(|(x, _)| *x == i);
                // "第3期" / "inst 3" with the contract named: the receivable numbered 3.
                if !named
                    && let Some(how) = found.best_ref()
                    && !probe.installments.is_empty()
                    && trailing_number(&item.id).is_some_and(|n| probe.installments.contains(&n))
                {
                    named = true;
                    evidence.push(Evidence::ReceivableNamed {
                        receivable: item.id.clone(),
                        how,
                    });
                }
                slots.push(Slot {
                    item: i,
                    id: &item.id,
                    due: item.due,
                    open,
                    named,
                });
            }
        }
    }
    let nothing_open = any_item && slots.is_empty();
    // Currency: the payment's if the scope has it, else the contract's at the day's rate.
    let item_currency = |s: &Slot<'_>| ledger.items.get(s.item as usize).map(|i| i.currency);
    let paid_in = Ccy::new(&p.currency);
    let same = slots
        .iter()
        .find_map(|s| item_currency(s).filter(|c| Some(*c) == paid_in));
    let ccy: Option<Ccy> = same.or_else(|| {
        slots
            .iter()
            .min_by_key(|s| (s.due, s.id))
            .and_then(item_currency)
    });
    slots.retain(|s| item_currency(s) == ccy);
    let (booked, fx, missing_rate) = match ccy {
        None => (p.amount, None, false),
        Some(c) if Some(c) == paid_in => (p.amount, None, false),
        Some(c) => match ledger
            .rates
            .convert(p.amount, &p.currency, c.as_str(), p.date)
        {
            Some(x) => (x.booked, Some(x), false),
            None => (p.amount, None, true),
        },
    };
    // R-P6: only receivables whose escrow account received the money.
    let receiving = probe.receiving;
    let escrow_of = |s: &Slot<'_>| ledger.items.get(s.item as usize).map(|i| i.escrow);
    let mut wrong_escrow = None;
    if !slots.is_empty() && !slots.iter().any(|s| escrow_of(s) == receiving) {
        wrong_escrow = slots
            .first()
            .and_then(escrow_of)
            .and_then(|e| ledger.escrows.get(e as usize).cloned());
        if let Some(escrow) = &wrong_escrow {
            evidence.push(Evidence::NotEscrowAccount {
                escrow: escrow.clone(),
            });
        }
    } else {
        slots.retain(|s| escrow_of(s) == receiving);
    }
    let mut scored = Scored {
        contract_ids,
        found,
        evidence,
        score: 0,
        currency: ccy,
        booked,
        fx,
        missing_rate,
        allocations: Vec::new(),
        surplus: booked,
        write_off: None,
        fit: None,
        order: AllocationOrder::Statutory,
        wrong_escrow,
        nothing_open,
        other_fit: None,
        open_total: Decimal::ZERO,
        open_count: 0,
        open_list: Vec::new(),
        single_fit: None,
    };
    if !missing_rate && !slots.is_empty() {
        allocate(batch, p, probe, &mut slots, &mut scored);
    }
    if matches!(scored.fit, Some(AmountFit::Partial | AmountFit::Over))
        && let Some(c) = customer
    {
        scored.other_fit = c
            .contracts
            .iter()
            .filter(|x| !scored.contract_ids.contains(x))
            .find(|x| fits_exactly(batch, **x, scored.booked))
            .and_then(|x| ledger.contracts.get(*x as usize).map(|k| k.no.clone()));
    }
    scored.score = score(&scored.evidence);
    scored
}

/// The payer is the customer as far as the bank data shows: the account is on file, or the
/// name matches other than by sound alone (a homophone is as likely a relative, R-P5).
pub(crate) fn payer_verified(found: &Found) -> bool {
    found.account || found.name.is_some_and(|n| n != NameMatch::Homophone)
}
