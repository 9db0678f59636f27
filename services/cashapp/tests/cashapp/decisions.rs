//! Decisions (R-P4): one receivable, one payment split over several, several payments for one
//! receivable, partial payment, overpayment, write-off of a small difference (R-P12), FX at a
//! rate table (R-P8), allocation order (R-P11), and the ways a reference or name is written.

use cashapp::{AllocationOrder, Evidence, NameMatch, Outcome, RateTable, RefMatch, Shape};

use crate::common::*;

#[test]
fn r_p4_one_payment_one_receivable_with_exact_reference() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 2),
        "10000.00",
        "张伟",
        "6222021234567890123",
        "购房款 HT-2024-001-00123 第1期",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Applied);
    assert_eq!(dec1.shape, Some(Shape::Single));
    assert_eq!(
        allocs(&dec1),
        vec![("HT-2024-001-00123-01".to_string(), dec("10000.00"))]
    );
    assert_eq!(dec1.confidence, 10_000);
    assert_eq!(dec1.applied + dec1.unapplied, dec1.booked);
    // The evidence says why, in words.
    assert!(codes(&dec1).contains(&"contract_named"));
    assert!(codes(&dec1).contains(&"payer_account_on_file"));
    let text = serde_json::to_string(&dec1.evidence).unwrap_or_default();
    assert!(
        text.contains("the remittance names contract HT-2024-001-00123"),
        "{text}"
    );
    assert_eq!(l.open_amount("HT-2024-001-00123-01"), Some(dec("0.00")));
}

#[test]
fn r_p4_full_width_reference_and_pinyin_name_from_a_new_account() {
    // The customer pays from an account not on file, writes the contract in full-width
    // characters; the bank shows the name in pinyin, surname last.
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 2),
        "10000.00",
        "WEI ZHANG",
        "6217000011112222333",
        "ＨＴ－２０２４－００１－００１２３",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Applied, "{:?}", dec1.exception);
    assert!(dec1.evidence.contains(&Evidence::PayerName {
        how: NameMatch::Pinyin
    }));
    assert!(
        dec1.notes.iter().any(|n| n.contains("not on file")),
        "{:?}",
        dec1.notes
    );
}

#[test]
fn r_p4_references_with_spaces_digits_only_typo_or_cut_short() {
    for (text, how) in [
        ("ht 2024 001 00123", RefMatch::Exact),
        ("付款 202400100123", RefMatch::Digits),
        ("HT-2024-001-00132", RefMatch::Typo),
        ("购房款 HT-2024-001-001", RefMatch::CutShort),
    ] {
        let mut l = ledger();
        // The payer is known by name only, so the reference has to do the work.
        let p = pay(
            "p1",
            d(3, 2),
            "10000.00",
            "张伟",
            "6217000011112222333",
            text,
        );
        let dec1 = one(&mut l, p);
        assert_eq!(
            dec1.outcome,
            Outcome::Applied,
            "{text}: {:?}",
            dec1.exception
        );
        let found = dec1
            .evidence
            .iter()
            .any(|e| matches!(e, Evidence::ContractNamed { how: h, .. } if *h == how));
        assert!(found, "{text}: {:?}", dec1.evidence);
    }
}

#[test]
fn r_p4_r_p11_one_payment_covering_three_installments_oldest_first() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 3),
        "30000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Applied);
    assert_eq!(dec1.shape, Some(Shape::Split));
    assert_eq!(dec1.order, Some(AllocationOrder::Statutory));
    let ids: Vec<String> = allocs(&dec1).into_iter().map(|(id, _)| id).collect();
    assert_eq!(
        ids,
        vec![
            "HT-2024-001-00123-01",
            "HT-2024-001-00123-02",
            "HT-2024-001-00123-03"
        ]
    );
    assert!(dec1.evidence.iter().any(|e| matches!(
        e,
        Evidence::Amount {
            fit: cashapp::AmountFit::Several,
            items: 3,
            ..
        }
    )));
}

#[test]
fn r_p4_one_receivable_paid_in_three_parts() {
    let mut l = ledger();
    let parts = [
        ("p1", 1, "3000.00"),
        ("p2", 9, "4500.00"),
        ("p3", 20, "2500.00"),
    ];
    let mut last = None;
    for (n, (id, day, amount)) in parts.into_iter().enumerate() {
        let p = pay(
            id,
            d(3, day),
            amount,
            "张伟",
            "6222021234567890123",
            "HT-2024-001-00123 第1期",
        );
        let dec1 = one(&mut l, p);
        assert_eq!(dec1.outcome, Outcome::Applied, "part {n}");
        let a = &dec1.allocations[0];
        assert_eq!(&*a.receivable_id, "HT-2024-001-00123-01");
        assert_eq!(
            usize::from(a.payment_no),
            n + 1,
            "the n-th payment on the receivable"
        );
        last = Some(dec1);
    }
    let last = last.unwrap_or_else(|| panic!("three decisions"));
    assert_eq!(last.shape, Some(Shape::Single));
    assert_eq!(last.allocations[0].open_after, dec("0.00"));
    assert_eq!(l.open_amount("HT-2024-001-00123-01"), Some(dec("0.00")));
    assert_eq!(l.open_amount("HT-2024-001-00123-02"), Some(dec("10000.00")));
}

#[test]
fn r_p4_partial_payment_leaves_the_receivable_partly_open() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 2),
        "4000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Applied);
    assert_eq!(dec1.shape, Some(Shape::Partial));
    assert_eq!(dec1.allocations[0].open_after, dec("6000.00"));
}

#[test]
fn r_p4_overpayment_leaves_the_surplus_unapplied_and_flagged() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 10),
        "9000.00",
        "李娜",
        "6228480000000000001",
        "HT-2024-001-00456",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Applied);
    assert_eq!(dec1.shape, Some(Shape::Overpayment));
    assert_eq!(dec1.applied, dec("8800.00"));
    assert_eq!(dec1.unapplied, dec("200.00"));
    assert!(
        dec1.notes.iter().any(|n| n.contains("surplus 200.00")),
        "{:?}",
        dec1.notes
    );
}

#[test]
fn r_p11_the_remittance_naming_a_receivable_wins_over_the_oldest() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 2),
        "10000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123-02",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.order, Some(AllocationOrder::PayerNamed));
    assert_eq!(
        allocs(&dec1),
        vec![("HT-2024-001-00123-02".to_string(), dec("10000.00"))]
    );
    // "第3期" names the third installment of the contract the same way.
    let p = pay(
        "p2",
        d(3, 20),
        "10000.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123 第3期",
    );
    let dec2 = one(&mut l, p);
    assert_eq!(
        allocs(&dec2),
        vec![("HT-2024-001-00123-03".to_string(), dec("10000.00"))]
    );
}

#[test]
fn r_p12_small_difference_is_written_off_above_threshold_with_approval() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 2),
        "9999.50",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Applied);
    let w = dec1
        .write_off
        .clone()
        .unwrap_or_else(|| panic!("a write-off"));
    assert_eq!(w.amount, dec("0.50"));
    assert!(!w.needs_approval);
    assert_eq!(l.open_amount("HT-2024-001-00123-01"), Some(dec("0.00")));
    // 3.00 is within the tolerance (5.00) but above the approval threshold (1.00): the
    // receivable stays open by 3.00 until a person approves.
    let p = pay(
        "p2",
        d(3, 30),
        "9997.00",
        "张伟",
        "6222021234567890123",
        "HT-2024-001-00123-02",
    );
    let dec2 = one(&mut l, p);
    assert!(dec2.write_off.as_ref().is_some_and(|w| w.needs_approval));
    assert_eq!(l.open_amount("HT-2024-001-00123-02"), Some(dec("3.00")));
}

#[test]
fn r_p8_payment_in_another_currency_is_converted_and_the_rate_recorded() {
    let mut rates = RateTable::new();
    rates.insert(d(3, 1), "HKD", "CNY", dec("0.9200"));
    let mut l = ledger().with_rates(rates);
    let mut p = pay(
        "p1",
        d(3, 4),
        "9565.22",
        "LI NA",
        "HK-004-123-456789",
        "HT-2024-001-00456",
    );
    p.currency = "HKD".into();
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Applied, "{:?}", dec1.exception);
    let fx = dec1.fx.clone().unwrap_or_else(|| panic!("a conversion"));
    assert_eq!((fx.rate, fx.rate_date), (dec("0.9200"), d(3, 1)));
    assert_eq!(fx.booked, dec("8800.00"));
    assert_eq!(dec1.booked_currency, "CNY");
    assert_eq!(dec1.received, dec("9565.22"));
}

#[test]
fn r_p4_company_names_match_without_their_suffix() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 10),
        "1523.40",
        "华兴贸易（深圳）有限责任公司",
        "40000009999999999",
        "物业费 WY-2024-001-00789",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Applied, "{:?}", dec1.exception);
    assert!(
        dec1.evidence
            .iter()
            .any(|e| matches!(e, Evidence::PayerName { .. }))
    );
}

#[test]
fn r_p4_no_reference_from_a_known_account_with_the_exact_amount() {
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 6),
        "8800.00",
        "李娜",
        "6228 4800 0000 0000 001",
        "房款",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Applied);
    assert_eq!(
        allocs(&dec1),
        vec![("HT-2024-001-00456-01".to_string(), dec("8800.00"))]
    );
}

#[test]
fn r_p5_below_the_threshold_it_is_a_proposal_for_a_person() {
    // Name only (new account), no reference: the amount fits, but a namesake could pay the
    // same; a person confirms.
    let mut l = ledger();
    let p = pay(
        "p1",
        d(3, 6),
        "8800.00",
        "李娜",
        "6217000000000000999",
        "转账",
    );
    let dec1 = one(&mut l, p);
    assert_eq!(dec1.outcome, Outcome::Proposed);
    assert!(dec1.confidence < l.policy().auto_apply_min_confidence);
    assert_eq!(dec1.applied, dec("0"));
    assert_eq!(dec1.unapplied, dec1.booked);
    assert!(!dec1.candidates.is_empty());
    assert_eq!(l.open_amount("HT-2024-001-00456-01"), Some(dec("8800.00")));
    // A person confirms: then it applies.
    let confirmed = dec1
        .confirm(0)
        .unwrap_or_else(|| panic!("a candidate to confirm"));
    assert!(l.apply(&confirmed).is_ok());
    assert_eq!(l.open_amount("HT-2024-001-00456-01"), Some(dec("0.00")));
}
