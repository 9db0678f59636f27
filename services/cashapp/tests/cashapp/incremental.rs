//! Incremental use (issue items 5 and 8): a batch is decided against the current open items
//! without changing the ledger; applying commits; the next batch sees the result; new open
//! items can be added; a stale or repeated decision is refused.

use cashapp::{ApplyError, Ledger, Outcome, Payment};

use crate::common::*;

#[test]
fn reconcile_does_not_change_the_ledger_apply_does() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 2),
        "10000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123",
    );
    let decisions = l.reconcile(std::slice::from_ref(&p));
    assert_eq!(decisions[0].outcome, Outcome::Applied);
    assert_eq!(l.open_amount("HT-2024-001-00123-01"), Some(dec("10000.00")));
    assert!(l.apply(&decisions[0]).is_ok());
    assert_eq!(l.open_amount("HT-2024-001-00123-01"), Some(dec("0.00")));
    // Applying the same decision again is refused.
    assert!(matches!(
        l.apply(&decisions[0]),
        Err(ApplyError::AlreadyApplied(_))
    ));
}

#[test]
fn the_next_batch_sees_the_previous_one() {
    let mut l = ledger();
    let first = pay(
        "p1",
        d(3, 2),
        "10000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123",
    );
    let next = pay(
        "p2",
        d(4, 2),
        "10000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123",
    );
    assert_eq!(l.reconcile_and_apply(&[first]).len(), 1);
    let d2 = l.reconcile_and_apply(&[next]);
    assert_eq!(
        allocs(&d2[0]),
        vec![("HT-2024-001-00123-02".to_string(), dec("10000.00"))]
    );
}

#[test]
fn within_a_batch_later_payments_see_earlier_ones() {
    // The second payment finds the first installment partly paid, and the second one due.
    let l = ledger();
    let payments = [
        pay(
            "p1",
            d(3, 2),
            "6000.00",
            "张伟",
            "6222021234567890123",
            "HT-2024-001-00123",
        ),
        pay(
            "p2",
            d(4, 2),
            "7000.00",
            "张伟",
            "6222021234567890123",
            "HT-2024-001-00123",
        ),
    ];
    let decisions = l.reconcile(&payments);
    assert_eq!(
        allocs(&decisions[1]),
        vec![
            ("HT-2024-001-00123-01".to_string(), dec("4000.00")),
            ("HT-2024-001-00123-02".to_string(), dec("3000.00")),
        ]
    );
}

#[test]
fn a_stale_decision_is_refused_and_changes_nothing() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 2),
        "10000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123",
    );
    let stale = l.reconcile(std::slice::from_ref(&p));
    // Meanwhile the system of record says the installment was settled another way.
    assert!(l.set_open_amount("HT-2024-001-00123-01", dec("0")).is_ok());
    assert!(matches!(
        l.apply(&stale[0]),
        Err(ApplyError::MoreThanOpen { .. })
    ));
    assert_eq!(l.open_amount("HT-2024-001-00123-02"), Some(dec("10000.00")));
}

#[test]
fn open_items_added_later_are_found() {
    let mut l = ledger();
    let errors = l.add_open_items(vec![(
        item(
            "N-1",
            "HT-2024-002-00001",
            "C5",
            "赵敏",
            &["6222000000000000555"],
            d(3, 15),
            "2500.00",
        ),
        None,
    )]);
    assert!(errors.is_empty());
    let p = pay(
        "p1",
        d(3, 15),
        "2500.00",
        "ZHAO MIN",
        "6222000000000000555",
        "HT2024002 00001",
    );
    assert_eq!(one(&mut l, p).outcome, Outcome::Applied);
    // A receivable id given twice is refused, naming it.
    let again = l.add_open_items(vec![(
        item(
            "N-1",
            "HT-2024-002-00001",
            "C5",
            "赵敏",
            &[],
            d(3, 15),
            "1.00",
        ),
        Some(7),
    )]);
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].row, Some(7));
    // A contract cannot change customer.
    let other = l.add_open_items(vec![(
        item(
            "N-2",
            "HT-2024-002-00001",
            "C6",
            "钱七",
            &[],
            d(4, 15),
            "1.00",
        ),
        None,
    )]);
    assert_eq!(other[0].field, "contract_no");
}

#[test]
fn a_payment_built_from_a_feed_transaction() {
    let mut tx = feeds::Transaction::new(dec("10000.00"), "CNY");
    tx.booking_date = Some(d(3, 2));
    tx.counterparty_name = Some("张伟".into());
    tx.counterparty_account = Some("6222021234567890123".into());
    tx.remittance_information = Some("HT-2024-001-00123".into());
    let p = Payment::from_transaction(&tx, ESCROW).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(p.id.len(), 64, "the feed fingerprint");
    let mut l = ledger();
    assert_eq!(one(&mut l, p).outcome, Outcome::Applied);
    // Money out is not a payment.
    let debit = feeds::Transaction::new(dec("-5"), "CNY");
    assert!(Payment::from_transaction(&debit, ESCROW).is_err());
}

#[test]
fn an_empty_ledger_and_an_empty_batch() {
    let l = Ledger::new();
    assert!(l.reconcile(&[]).is_empty());
    let p = pay(
        "p1",
        d(3, 2),
        "1.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123",
    );
    assert_eq!(l.reconcile(&[p])[0].outcome, Outcome::Exception);
}
