//! Issue 19, end to end through the ledger: bracketed and short contract numbers (R-P4), the
//! payer's name only in the remittance text or with an extra initial (R-P4, R-P5), an exact
//! single item beside the statutory order (R-P11, R-P5), and the inverse exchange rate (R-P8).

use rust_decimal::Decimal;

use crate::decision::{AllocationOrder, ExceptionKind, Outcome};
use crate::evidence::{Evidence, RefMatch};
use crate::fx::RateTable;
use crate::names::NameMatch;
use crate::testkit::{allocs, d, dec, decide, item, ledger, pay};

const ACCOUNT: &str = "6222 0212 3456 7890 123";

fn named_exactly(e: &[Evidence], contract: &str) -> bool {
    e.iter().any(|e| {
        matches!(e, Evidence::ContractNamed { contract: c, how: RefMatch::Exact } if &**c == contract)
    })
}

#[test]
fn r_p4_bracketed_contract_numbers_are_found() {
    // R-P4 (issue 19): bracketed years in Chinese contract numbers, ASCII and full-width.
    let l = ledger(vec![
        item(
            "HT(2024)015-01",
            "HT(2024)015",
            ("C1", "张伟"),
            &[ACCOUNT],
            d(3, 1),
            "10000.00",
        ),
        item(
            "INV(2026).001-01",
            "INV(2026).001",
            ("C2", "李娜"),
            &["6228480000000000001"],
            d(3, 1),
            "500.00",
        ),
    ]);
    for text in [
        "HT(2024)015 房款",
        "HT〔2024〕015号",
        "HT（2024）015",
        "HT【2024】015",
    ] {
        // The customer, from an account not on file: the reference does the work.
        let dn = decide(
            &l,
            pay(
                "p1",
                d(3, 2),
                "10000.00",
                "张伟",
                "6217000011112222333",
                text,
            ),
        );
        assert_eq!(dn.outcome, Outcome::Applied, "{text}: {:?}", dn.exception);
        assert!(
            named_exactly(&dn.evidence, "HT(2024)015"),
            "{text}: {:?}",
            dn.evidence
        );
        // Nobody named on the payment at all: still a candidate for a person, not NO_CANDIDATE.
        let dn = decide(&l, pay("p2", d(3, 2), "10000.00", "", "", text));
        assert_ne!(
            dn.exception.as_ref().map(|e| e.kind),
            Some(ExceptionKind::NoCandidate),
            "{text}"
        );
        assert_eq!(
            dn.customer_id.as_deref(),
            Some("C1"),
            "{text}: {:?}",
            dn.exception
        );
    }
    let dn = decide(
        &l,
        pay(
            "p3",
            d(3, 2),
            "500.00",
            "LI NA",
            "6217000011112222999",
            "Payment for INV(2026).001",
        ),
    );
    assert_eq!(dn.outcome, Outcome::Applied, "{:?}", dn.exception);
    assert!(
        named_exactly(&dn.evidence, "INV(2026).001"),
        "{:?}",
        dn.evidence
    );
}

#[test]
fn r_p4_short_contract_numbers_match_exactly_and_only_exactly() {
    // R-P4 (issue 19): `HT-1` is found when written exactly; it is not found in `HT-12`,
    // nor `HT-12` in `HT-1`.
    let l = ledger(vec![
        item(
            "HT-1-01",
            "HT-1",
            ("C1", "张伟"),
            &[ACCOUNT],
            d(3, 1),
            "800.00",
        ),
        item(
            "HT-12-01",
            "HT-12",
            ("C2", "李娜"),
            &["6228480000000000001"],
            d(3, 1),
            "900.00",
        ),
    ]);
    let dn = decide(
        &l,
        pay(
            "p1",
            d(3, 2),
            "800.00",
            "张伟",
            "6217000011112222333",
            "房款 HT-1",
        ),
    );
    assert_eq!(dn.outcome, Outcome::Applied, "{:?}", dn.exception);
    assert!(named_exactly(&dn.evidence, "HT-1"), "{:?}", dn.evidence);
    let dn = decide(
        &l,
        pay(
            "p2",
            d(3, 2),
            "900.00",
            "李娜",
            "6217000011112222444",
            "房款 HT-12",
        ),
    );
    assert!(named_exactly(&dn.evidence, "HT-12"), "{:?}", dn.evidence);
    assert!(!named_exactly(&dn.evidence, "HT-1"), "{:?}", dn.evidence);
    assert!(dn.candidates.iter().all(|c| &*c.customer_id != "C1"));
}

#[test]
fn r_p4_r_p5_payer_name_only_in_the_remittance_text() {
    // R-P4 (issue 19): a foreign file leaves the payer-name field empty and carries the name
    // in the free text. The customer is found; the name read from free text is shown as such
    // and a person confirms (R-P5: not guessed).
    let l = ledger(vec![item(
        "HT-2024-009-00001-01",
        "HT-2024-009-00001",
        ("C9", "Archibald Haddock"),
        &["DE89370400440532013000"],
        d(3, 1),
        "1200.00",
    )]);
    let dn = decide(
        &l,
        pay("p1", d(3, 2), "1200.00", "", "", "1234//HADDOCK-Archibald"),
    );
    assert_eq!(dn.customer_id.as_deref(), Some("C9"), "{:?}", dn.exception);
    assert_eq!(dn.outcome, Outcome::Proposed, "{:?}", dn.exception);
    assert!(
        dn.evidence.iter().any(|e| matches!(
            e,
            Evidence::PayerNameInText {
                how: NameMatch::Exact,
                ..
            }
        )),
        "{:?}",
        dn.evidence
    );
    // With the contract named as well it is still a person's call (the name is free text).
    let dn = decide(
        &l,
        pay(
            "p2",
            d(3, 2),
            "1200.00",
            "",
            "",
            "1234//HADDOCK-Archibald HT-2024-009-00001",
        ),
    );
    assert_eq!(dn.customer_id.as_deref(), Some("C9"));
    assert_ne!(dn.outcome, Outcome::Applied);
    // Another name in the text is not the customer's: no name evidence.
    let dn = decide(
        &l,
        pay(
            "p3",
            d(3, 2),
            "1200.00",
            "",
            "",
            "1234//CASTAFIORE-Bianca HT-2024-009-00001",
        ),
    );
    assert!(
        !dn.evidence
            .iter()
            .any(|e| matches!(e, Evidence::PayerNameInText { .. }))
    );
}

#[test]
fn r_p4_a_name_with_an_extra_initial_is_the_customer() {
    // R-P4 (issue 19): "Jackson Ella W." paying Ella Jackson's contract from a new account.
    let l = ledger(vec![item(
        "HT-2024-009-00002-01",
        "HT-2024-009-00002",
        ("C8", "Ella Jackson"),
        &["GB29NWBK60161331926819"],
        d(3, 1),
        "700.00",
    )]);
    let dn = decide(
        &l,
        pay(
            "p1",
            d(3, 2),
            "700.00",
            "Jackson Ella W.",
            "GB00NWBK00000000000001",
            "HT-2024-009-00002",
        ),
    );
    assert_eq!(dn.outcome, Outcome::Applied, "{:?}", dn.exception);
    assert!(dn.evidence.contains(&Evidence::PayerName {
        how: NameMatch::ExtraInitial
    }));
    // Without a reference the name alone finds the customer (a person confirms).
    let dn = decide(
        &l,
        pay(
            "p2",
            d(3, 2),
            "700.00",
            "Jackson Ella W.",
            "GB00NWBK00000000000001",
            "",
        ),
    );
    assert_eq!(dn.customer_id.as_deref(), Some("C8"), "{:?}", dn.exception);
}

fn three_items() -> crate::ledger::Ledger {
    ledger(vec![
        item(
            "WY-2024-003-00001-01",
            "WY-2024-003-00001",
            ("C1", "张伟"),
            &[ACCOUNT],
            d(1, 1),
            "100.00",
        ),
        item(
            "WY-2024-003-00001-02",
            "WY-2024-003-00001",
            ("C1", "张伟"),
            &[ACCOUNT],
            d(2, 1),
            "200.00",
        ),
        item(
            "WY-2024-003-00001-03",
            "WY-2024-003-00001",
            ("C1", "张伟"),
            &[ACCOUNT],
            d(3, 1),
            "300.00",
        ),
    ])
}

#[test]
fn r_p11_r_p5_an_exact_single_item_is_proposed_beside_the_statutory_order() {
    // R-P11 (issue 19): a known customer with 100, 200 and 300 open pays 300 and names
    // nothing. The statutory order pays 100 + 200; the 300 item fits exactly. Neither is
    // guessed (R-P5): a person chooses, and sees both allocations.
    let l = three_items();
    let dn = decide(&l, pay("p1", d(3, 2), "300.00", "张伟", ACCOUNT, ""));
    assert_eq!(dn.outcome, Outcome::Proposed, "{:?}", dn.exception);
    let statutory = vec![
        ("WY-2024-003-00001-01".to_string(), dec("100.00")),
        ("WY-2024-003-00001-02".to_string(), dec("200.00")),
    ];
    let exact = vec![("WY-2024-003-00001-03".to_string(), dec("300.00"))];
    assert_eq!(allocs(&dn.allocations), statutory);
    assert_eq!(dn.order, Some(AllocationOrder::Statutory));
    let shown: Vec<_> = dn
        .candidates
        .iter()
        .map(|c| allocs(&c.allocations))
        .collect();
    assert_eq!(shown.first(), Some(&statutory), "{shown:?}");
    assert_eq!(shown.get(1), Some(&exact), "{shown:?}");
    let alt = dn.candidates.get(1).map(|c| c.order);
    assert_eq!(alt, Some(AllocationOrder::ExactItem));
    // The clerk reads why.
    let text: Vec<String> = dn
        .candidates
        .iter()
        .flat_map(|c| c.evidence.iter().map(ToString::to_string))
        .collect();
    assert!(
        text.iter()
            .any(|t| t.contains("WY-2024-003-00001-03") && t.contains("exactly")),
        "{text:?}"
    );
    // Confirming the second candidate books the exact item.
    let confirmed = dn.confirm(1).map(|c| allocs(&c.allocations));
    assert_eq!(confirmed, Some(exact));
    // When the statutory allocation is itself one exact item, nothing changes: applied.
    let dn = decide(&l, pay("p2", d(3, 2), "100.00", "张伟", ACCOUNT, ""));
    assert_eq!(dn.outcome, Outcome::Applied);
    // When the payer names the receivable, that wins (R-P11) and is applied.
    let dn = decide(
        &l,
        pay(
            "p3",
            d(3, 2),
            "300.00",
            "张伟",
            ACCOUNT,
            "WY-2024-003-00001-03",
        ),
    );
    assert_eq!(dn.outcome, Outcome::Applied, "{:?}", dn.exception);
    assert_eq!(
        allocs(&dn.allocations),
        vec![("WY-2024-003-00001-03".to_string(), dec("300.00"))]
    );
}

#[test]
fn r_p5_amount_mismatch_states_what_the_customer_has_open() {
    // R-P5 (issue 19): 200 of 600 open, nothing named: the message gives the customer's
    // open items, not the sum of the planned allocation, and shows the exact item.
    let l = three_items();
    let dn = decide(&l, pay("p1", d(3, 2), "200.00", "张伟", ACCOUNT, ""));
    let e = dn
        .exception
        .clone()
        .unwrap_or_else(|| panic!("an exception: {dn:?}"));
    assert_eq!(e.kind, ExceptionKind::AmountMismatch);
    assert!(
        e.reason.contains("600.00 CNY open in 3 receivables"),
        "{}",
        e.reason
    );
    assert!(e.reason.contains("WY-2024-003-00001-02"), "{}", e.reason);
    let shown: Vec<_> = dn
        .candidates
        .iter()
        .map(|c| allocs(&c.allocations))
        .collect();
    assert!(
        shown.contains(&vec![("WY-2024-003-00001-02".to_string(), dec("200.00"))]),
        "{shown:?}"
    );
    // 250 fits no single item: the message still states what is open.
    let dn = decide(&l, pay("p2", d(3, 2), "250.00", "张伟", ACCOUNT, ""));
    let reason = dn.exception.map(|e| e.reason).unwrap_or_default();
    assert!(
        reason.contains("600.00 CNY open in 3 receivables"),
        "{reason}"
    );
}

#[test]
fn r_p8_a_payment_is_converted_at_the_inverse_rate() {
    // R-P8 (issue 19): USD contract, CNY payment, rates USD→CNY only.
    let mut usd = item(
        "HT-2024-009-00003-01",
        "HT-2024-009-00003",
        ("C7", "王芳"),
        &[ACCOUNT],
        d(3, 1),
        "1408.45",
    );
    usd.currency = "USD".into();
    let mut rates = RateTable::new();
    rates.insert(d(3, 1), "USD", "CNY", dec("7.1"));
    let l = ledger(vec![usd]).with_rates(rates);
    let dn = decide(
        &l,
        pay(
            "p1",
            d(3, 2),
            "10000.00",
            "王芳",
            ACCOUNT,
            "HT-2024-009-00003",
        ),
    );
    assert_eq!(dn.outcome, Outcome::Applied, "{:?}", dn.exception);
    assert_eq!(dn.booked, dec("1408.45"));
    assert_eq!(dn.booked_currency, "USD");
    let fx = dn
        .fx
        .clone()
        .unwrap_or_else(|| panic!("the conversion is recorded"));
    assert_eq!(fx.inverse_of, Some(dec("7.1")));
    assert!(
        dn.notes.iter().any(|n| n.contains("inverse")),
        "{:?}",
        dn.notes
    );
    assert_eq!(dn.applied + dn.unapplied, dn.booked);
    assert_eq!(dn.unapplied, Decimal::ZERO);
}
