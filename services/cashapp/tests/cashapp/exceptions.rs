//! Exceptions, never guesses (R-P5, R-P6, R-P8): duplicate, amount differs, third-party payer,
//! no candidate, ambiguous, wrong receiving account, nothing open, missing rate. Each names
//! its kind, the best candidates with their evidence, and a suggested action.

use cashapp::{ExceptionKind, Ledger, Outcome, Payment};

use crate::common::*;

fn kind(d: &cashapp::Decision) -> Option<ExceptionKind> {
    d.exception.as_ref().map(|e| e.kind)
}

#[test]
fn r_p5_duplicate_same_payer_amount_and_reference() {
    let mut l = ledger();
    let first = pay(
        "p1",
        d(3, 2),
        "10000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123",
    );
    let again = pay(
        "p2",
        d(3, 4),
        "10000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123",
    );
    let decisions = l.reconcile_and_apply(&[again, first]);
    assert_eq!(decisions[0].outcome, Outcome::Applied);
    assert_eq!(kind(&decisions[1]), Some(ExceptionKind::Duplicate));
    let e = decisions[1]
        .exception
        .clone()
        .unwrap_or_else(|| panic!("an exception"));
    assert!(e.reason.contains("p1"), "{}", e.reason);
    assert!(!e.suggested_action.is_empty());
    // Only the first was applied.
    assert_eq!(l.open_amount("HT-2024-001-00123-02"), Some(dec("10000.00")));
}

#[test]
fn r_p2_the_same_bank_line_twice_never_counts_twice() {
    let mut l = ledger();
    let p = pay(
        "fp-1",
        d(3, 2),
        "10000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123",
    );
    assert_eq!(one(&mut l, p.clone()).outcome, Outcome::Applied);
    // The next file carries the same line again (same fingerprint), days later.
    let mut later = p;
    later.date = d(3, 20);
    let dec2 = one(&mut l, later);
    assert_eq!(kind(&dec2), Some(ExceptionKind::Duplicate));
}

#[test]
fn r_p5_third_party_payer_with_the_right_reference_needs_a_person() {
    // The customer's wife pays with the right contract number from her own account.
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 2),
        "10000.00",
        "王芳",
        "6228000000000000777",
        "HT-2024-001-00123",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Exception);
    assert_eq!(kind(&dec1), Some(ExceptionKind::ThirdPartyPayer));
    let c = &dec1.candidates[0];
    assert_eq!(&*c.customer_id, "C1");
    assert!(c.evidence.iter().any(|e| e.code() == "payer_not_customer"));
    assert_eq!(l.open_amount("HT-2024-001-00123-01"), Some(dec("10000.00")));
    // After the customer confirms, a person applies it.
    let confirmed = dec1.confirm(0).unwrap_or_else(|| panic!("confirmable"));
    assert_eq!(confirmed.outcome, Outcome::Applied);
    assert!(l.apply(&confirmed).is_ok());
    assert_eq!(l.open_amount("HT-2024-001-00123-01"), Some(dec("0.00")));
}

#[test]
fn r_p5_a_relative_with_a_name_that_only_sounds_alike_is_a_third_party() {
    // 张玮 sounds like 张伟 but is another person (e.g. a brother).
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 2),
        "10000.00",
        "张玮",
        "6228000000000000777",
        "HT-2024-001-00123",
    );
    assert_eq!(kind(&one(&mut l, p)), Some(ExceptionKind::ThirdPartyPayer));
    // A company paying for a person is one too.
    let p = pay(
        "p2",
        d(3, 2),
        "10000.00",
        "深圳市恒达科技有限公司",
        "40000005555555555",
        "HT-2024-001-00123",
    );
    assert_eq!(kind(&one(&mut l, p)), Some(ExceptionKind::ThirdPartyPayer));
}

#[test]
fn r_p5_no_candidate() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 2),
        "777.77",
        "陈某某",
        "6228000000000000888",
        "货款",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(kind(&dec1), Some(ExceptionKind::NoCandidate));
    assert_eq!(dec1.unapplied, dec("777.77"));
}

#[test]
fn r_p5_two_candidates_too_close_to_call_are_ambiguous() {
    // Two customers named 王磊 owe the same amount; the payer (same name, unknown account)
    // names no contract.
    let items = vec![
        item(
            "A-1",
            "HT-2024-009-00001",
            "C8",
            "王磊",
            &["6222000000000000008"],
            d(3, 1),
            "5000.00",
        ),
        item(
            "B-1",
            "HT-2024-009-00002",
            "C9",
            "王磊",
            &["6222000000000000009"],
            d(3, 1),
            "5000.00",
        ),
    ];
    let mut l = Ledger::from_open_items(items).unwrap_or_default();
    let p = pay(
        "p1",
        d(3, 2),
        "5000.00",
        "王磊",
        "6217000000000000111",
        "转账",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(
        kind(&dec1),
        Some(ExceptionKind::Ambiguous),
        "{:?}",
        dec1.exception
    );
    assert_eq!(dec1.candidates.len(), 2);
}

#[test]
fn r_p6_money_on_an_account_that_is_not_the_escrow_account() {
    let mut l = ledger();
    let p = Payment::new("p1", d(3, 2), dec("10000.00"), "CNY", OPERATING)
        .with_payer(Some("张伟"), Some("6222021234567890123"))
        .with_remittance("HT-2024-001-00123");
    let dec1 = one(&mut l, p);
    assert_eq!(kind(&dec1), Some(ExceptionKind::WrongReceivingAccount));
    let e = dec1
        .exception
        .clone()
        .unwrap_or_else(|| panic!("an exception"));
    assert!(e.reason.contains("escrow"), "{}", e.reason);
    assert!(e.suggested_action.contains("R-P6"));
    // Another project's regulated account is wrong too.
    let mut items = crate::common::portfolio();
    items[3].escrow_account = OTHER_ESCROW.into();
    let mut l = Ledger::from_open_items(items).unwrap_or_default();
    let p = Payment::new("p2", d(3, 2), dec("10000.00"), "CNY", OTHER_ESCROW)
        .with_payer(Some("张伟"), Some("6222021234567890123"))
        .with_remittance("HT-2024-001-00123");
    assert_eq!(
        kind(&one(&mut l, p)),
        Some(ExceptionKind::WrongReceivingAccount)
    );
}

#[test]
fn r_p5_amount_differs_beyond_tolerance_without_a_reference() {
    // Known account and name, no reference, and an amount that fits nothing open.
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 2),
        "1234.00",
        "张伟",
        "6222021234567890123",
        "转账",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(
        kind(&dec1),
        Some(ExceptionKind::AmountMismatch),
        "{:?}",
        dec1.exception
    );
    assert!(dec1.candidates[0].allocations.len() == 1);
}

#[test]
fn r_p5_nothing_open_on_the_named_contract() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 6),
        "8800.00",
        "李娜",
        "6228480000000000001",
        "HT-2024-001-00456",
    );
    assert_eq!(one(&mut l, p).outcome, Outcome::Applied);
    let p = pay(
        "p2",
        d(4, 20),
        "500.00",
        "李娜",
        "6228480000000000001",
        "HT-2024-001-00456 补款",
    );
    assert_eq!(kind(&one(&mut l, p)), Some(ExceptionKind::NothingOpen));
}

#[test]
fn r_p8_no_rate_for_the_currency_is_an_exception_not_a_guess() {
    let mut l = ledger();
    let mut p = pay(
        "p1",
        d(3, 2),
        "1200.00",
        "LI NA",
        "HK-004-123-456789",
        "HT-2024-001-00456",
    );
    p.currency = "USD".into();
    let dec1 = one(&mut l, p);
    assert_eq!(kind(&dec1), Some(ExceptionKind::MissingRate));
    assert_eq!(dec1.unapplied, dec("1200.00"));
}

#[test]
fn r_p5_a_typo_that_lands_on_another_customers_contract_is_not_guessed() {
    // 张伟 pays from his known account, but his typo (00124) is exactly another customer's
    // contract; the amount fits both: a person decides.
    let mut items = crate::common::portfolio();
    items.push(item(
        "X-1",
        "HT-2024-001-00124",
        "C7",
        "赵六",
        &["6222000000000000007"],
        d(3, 1),
        "10000.00",
    ));
    let mut l = Ledger::from_open_items(items).unwrap_or_default();
    let p = pay(
        "p1",
        d(3, 2),
        "10000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00124",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Exception, "{:?}", dec1.allocations);
}

#[test]
fn r_p8_confirming_a_third_party_payment_in_another_currency_books_the_conversion() {
    let mut rates = cashapp::RateTable::new();
    rates.insert(d(3, 1), "HKD", "CNY", dec("0.9200"));
    let mut l = ledger().with_rates(rates);
    let mut p = pay(
        "p1",
        d(3, 4),
        "9565.22",
        "CHAN TAI MAN",
        "HK-004-999-000001",
        "HT-2024-001-00456",
    );
    p.currency = "HKD".into();
    let dec1 = one(&mut l, p);
    assert_eq!(kind(&dec1), Some(ExceptionKind::ThirdPartyPayer));
    let confirmed = dec1.confirm(0).unwrap_or_else(|| panic!("confirmable"));
    assert_eq!(confirmed.booked_currency, "CNY");
    assert!(confirmed.fx.is_some());
    assert_eq!(confirmed.applied + confirmed.unapplied, confirmed.booked);
    assert!(l.apply(&confirmed).is_ok());
    assert_eq!(l.open_amount("HT-2024-001-00456-01"), Some(dec("0.00")));
}
