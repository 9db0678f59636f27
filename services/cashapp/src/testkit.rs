//! Builders for the unit tests beside the code (hand-made ledgers and payments).

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::decision::Decision;
use crate::ledger::Ledger;
use crate::model::{OpenItem, Payment};

pub(crate) const ESCROW: &str = "4405 0170 0100 0000 01";

pub(crate) fn d(month: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, month, day).unwrap_or_default()
}

/// `"1234.50"` as a decimal (test data is well formed).
pub(crate) fn dec(s: &str) -> Decimal {
    s.parse().unwrap_or_default()
}

/// An open item of a CNY contract paid into [`ESCROW`].
pub(crate) fn item(
    id: &str,
    contract: &str,
    customer: (&str, &str),
    accounts: &[&str],
    due: NaiveDate,
    open: &str,
) -> OpenItem {
    OpenItem {
        receivable_id: id.into(),
        contract_no: contract.into(),
        customer_id: customer.0.into(),
        customer_name: customer.1.into(),
        payer_accounts: accounts.iter().map(|a| (*a).to_string()).collect(),
        unit: None,
        due_date: due,
        open_amount: dec(open),
        currency: "CNY".into(),
        escrow_account: ESCROW.into(),
    }
}

/// A ledger holding `items` (all valid in these tests).
pub(crate) fn ledger(items: Vec<OpenItem>) -> Ledger {
    match Ledger::from_open_items(items) {
        Ok(l) => l,
        Err(e) => panic!("test items refused: {e:?}"),
    }
}

/// A payment into [`ESCROW`] with the payer's name and account as given (`""`: none).
pub(crate) fn pay(
    id: &str,
    date: NaiveDate,
    amount: &str,
    payer: &str,
    account: &str,
    text: &str,
) -> Payment {
    fn opt(s: &str) -> Option<&str> {
        (!s.is_empty()).then_some(s)
    }
    Payment::new(id, date, dec(amount), "CNY", ESCROW)
        .with_payer(opt(payer), opt(account))
        .with_remittance(text)
}

/// The decision for one payment (the ledger is not changed).
pub(crate) fn decide(ledger: &Ledger, p: Payment) -> Decision {
    ledger
        .reconcile(&[p])
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("one decision per payment"))
}

/// Allocations as (receivable id, amount) pairs.
pub(crate) fn allocs(a: &[crate::decision::Allocation]) -> Vec<(String, Decimal)> {
    a.iter()
        .map(|a| (a.receivable_id.to_string(), a.amount))
        .collect()
}
