//! Builders for hand-made ledgers and payments.

use cashapp::{Decision, Ledger, OpenItem, Payment};
use chrono::NaiveDate;
use rust_decimal::Decimal;

pub(crate) const ESCROW: &str = "4405 0170 0100 0000 01";
pub(crate) const OTHER_ESCROW: &str = "4405 0170 0200 0000 02";
pub(crate) const OPERATING: &str = "7559 0000 0000 0001";

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
    customer: &str,
    name: &str,
    accounts: &[&str],
    due: NaiveDate,
    open: &str,
) -> OpenItem {
    OpenItem {
        receivable_id: id.into(),
        contract_no: contract.into(),
        customer_id: customer.into(),
        customer_name: name.into(),
        payer_accounts: accounts.iter().map(|a| a.to_string()).collect(),
        unit: None,
        due_date: due,
        open_amount: dec(open),
        currency: "CNY".into(),
        escrow_account: ESCROW.into(),
    }
}

/// Three monthly installments of 10,000.00 for 张伟 on contract HT-2024-001-00123, plus a
/// few other customers.
pub(crate) fn portfolio() -> Vec<OpenItem> {
    let zw = ["6222 0212 3456 7890 123"];
    vec![
        item(
            "HT-2024-001-00123-01",
            "HT-2024-001-00123",
            "C1",
            "张伟",
            &zw,
            d(3, 1),
            "10000.00",
        ),
        item(
            "HT-2024-001-00123-02",
            "HT-2024-001-00123",
            "C1",
            "张伟",
            &zw,
            d(4, 1),
            "10000.00",
        ),
        item(
            "HT-2024-001-00123-03",
            "HT-2024-001-00123",
            "C1",
            "张伟",
            &zw,
            d(5, 1),
            "10000.00",
        ),
        item(
            "HT-2024-001-00456-01",
            "HT-2024-001-00456",
            "C2",
            "李娜",
            &["6228480000000000001"],
            d(3, 5),
            "8800.00",
        ),
        item(
            "WY-2024-001-00789-01",
            "WY-2024-001-00789",
            "C3",
            "深圳市华兴贸易有限公司",
            &["40000001234567890"],
            d(3, 10),
            "1523.40",
        ),
    ]
}

pub(crate) fn ledger() -> Ledger {
    Ledger::from_open_items(portfolio()).unwrap_or_default()
}

/// A payment into [`ESCROW`].
pub(crate) fn pay(
    id: &str,
    date: NaiveDate,
    amount: &str,
    payer: &str,
    account: &str,
    text: &str,
) -> Payment {
    Payment::new(id, date, dec(amount), "CNY", ESCROW)
        .with_payer(Some(payer), Some(account))
        .with_remittance(text)
}

/// The one decision for one payment, applying it.
pub(crate) fn one(ledger: &mut Ledger, p: Payment) -> Decision {
    ledger
        .reconcile_and_apply(&[p])
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("one decision per payment"))
}

/// Allocations as (receivable id, amount) pairs.
pub(crate) fn allocs(d: &Decision) -> Vec<(String, Decimal)> {
    d.allocations
        .iter()
        .map(|a| (a.receivable_id.to_string(), a.amount))
        .collect()
}

pub(crate) fn codes(d: &Decision) -> Vec<&'static str> {
    d.evidence.iter().map(cashapp::Evidence::code).collect()
}
