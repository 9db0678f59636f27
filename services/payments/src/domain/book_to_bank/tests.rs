//! R-P7: book-to-bank reconciliation, examples and properties of the arithmetic.

use proptest::prelude::*;

use super::*;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 3, d).unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn statement(d: u32, opening: &str, lines: &[(&str, &str)], debits: &str) -> StatementDay {
    let credits = lines.iter().map(|(_, a)| dec(a)).sum::<Decimal>();
    StatementDay {
        source: format!("day{d}.sta:1"),
        date: day(d),
        currency: "CNY".into(),
        opening: Some(dec(opening)),
        closing: Some(dec(opening) + credits - dec(debits)),
        credits,
        debits: dec(debits),
        credit_lines: u32::try_from(lines.len()).unwrap(),
        lines: lines
            .iter()
            .map(|(f, a)| ((*f).to_owned(), dec(a)))
            .collect(),
        rejected: String::new(),
    }
}

fn paid(d: u32, fingerprint: &str, amount: &str, status: BookStatus) -> BookEntry {
    BookEntry {
        payment_id: format!("p-{fingerprint}"),
        date: day(d),
        amount: dec(amount),
        currency: "CNY".into(),
        status,
        fingerprint: fingerprint.into(),
        refunded: Decimal::ZERO,
    }
}

fn kinds(reports: &[DayReport]) -> Vec<DiscrepancyKind> {
    reports
        .iter()
        .flat_map(|r| r.discrepancies.iter().map(|d| d.kind))
        .collect()
}

#[test]
fn a_day_that_matches_has_no_discrepancy_r_p7() {
    let s = statement(2, "1000.00", &[("a", "300.00"), ("b", "200.00")], "50.00");
    let book = [
        paid(2, "a", "300.00", BookStatus::Applied),
        paid(2, "b", "200.00", BookStatus::Exception),
    ];
    let r = reconcile(day(1), day(31), "CNY", &[s], &book).unwrap();
    assert_eq!(r.len(), 1);
    assert!(r[0].discrepancies.is_empty(), "{:?}", r[0].discrepancies);
    assert_eq!(r[0].book_total(), dec("500.00"));
    assert_eq!(r[0].book_exceptions, dec("200.00"));
}

#[test]
fn a_refunded_surplus_is_money_out_and_received_still_adds_up_r_p9() {
    // An overpayment of 1,500.00 applied 1,000.00, 300.00 of its surplus refunded; another
    // payment waiting as an exception. Received = applied + unapplied + exceptions + refunded.
    let s = statement(2, "0", &[("f1", "1500.00"), ("f2", "200.00")], "0");
    let mut over = paid(2, "f1", "1500.00", BookStatus::Applied);
    over.refunded = dec("300.00");
    let book = vec![over, paid(2, "f2", "200.00", BookStatus::Exception)];
    let r = reconcile(day(1), day(3), "CNY", &[s], &book).unwrap();
    assert_eq!(r.len(), 1);
    let d = &r[0];
    assert!(d.discrepancies.is_empty(), "{:?}", d.discrepancies);
    assert_eq!(d.book_applied, dec("1200.00"));
    assert_eq!(d.book_refunded, dec("300.00"));
    assert_eq!(d.book_exceptions, dec("200.00"));
    assert_eq!(d.book_total(), d.bank_credits);
    assert_eq!(
        d.book_total(),
        d.book_applied + d.book_unapplied + d.book_exceptions + d.book_refunded
    );
    // A refund recorded above the payment (bad data) never makes the book count more.
    let mut bad = paid(2, "f1", "1500.00", BookStatus::Applied);
    bad.refunded = dec("2000.00");
    let s = statement(2, "0", &[("f1", "1500.00")], "0");
    let r = reconcile(day(1), day(3), "CNY", &[s], &[bad]).unwrap();
    assert_eq!(
        (r[0].book_applied, r[0].book_refunded),
        (Decimal::ZERO, dec("1500.00"))
    );
    assert!(r[0].discrepancies.is_empty());
}

#[test]
fn a_balance_that_does_not_add_up_is_reported_with_the_difference_r_p7() {
    let mut s = statement(2, "1000.00", &[("a", "300.00")], "0");
    s.closing = Some(dec("1250.00"));
    let r = reconcile(
        day(1),
        day(31),
        "CNY",
        &[s],
        &[paid(2, "a", "300.00", BookStatus::Applied)],
    )
    .unwrap();
    assert_eq!(kinds(&r), vec![DiscrepancyKind::BalanceDoesNotAddUp]);
    assert_eq!(r[0].discrepancies[0].amount, dec("-50.00"));
    assert!(r[0].discrepancies[0].detail.contains("1300.00"));
}

#[test]
fn a_line_missing_from_the_book_and_a_payment_missing_from_the_bank_r_p7() {
    let s = statement(2, "0", &[("a", "300.00"), ("b", "200.00")], "0");
    let book = [
        paid(2, "a", "300.00", BookStatus::Applied),
        paid(2, "x", "75.00", BookStatus::Unapplied),
    ];
    let r = reconcile(day(1), day(31), "CNY", &[s], &book).unwrap();
    assert_eq!(
        kinds(&r),
        vec![
            DiscrepancyKind::BankLineNotBooked,
            DiscrepancyKind::BookedNotOnStatement,
            DiscrepancyKind::AmountDiffers
        ]
    );
    let amounts: Vec<Decimal> = r[0].discrepancies.iter().map(|d| d.amount).collect();
    assert_eq!(amounts, vec![dec("200.00"), dec("75.00"), dec("125.00")]);
}

#[test]
fn missing_statement_gap_duplicate_and_held_duplicate_r_p7_r_p5() {
    let first = statement(2, "0", &[("a", "100.00")], "0");
    let second = statement(4, "150.00", &[], "0"); // closing of the 2nd was 100.00
    let again = statement(4, "150.00", &[], "0");
    let book = [
        paid(2, "a", "100.00", BookStatus::Applied),
        paid(3, "c", "20.00", BookStatus::Applied),
        paid(4, "d", "100.00", BookStatus::HeldDuplicate),
    ];
    let r = reconcile(day(1), day(31), "CNY", &[first, second, again], &book).unwrap();
    assert_eq!(r.len(), 3);
    assert!(r[0].discrepancies.is_empty());
    assert_eq!(kinds(&r[1..2]), vec![DiscrepancyKind::MissingStatement]);
    assert_eq!(
        kinds(&r[2..3]),
        vec![
            DiscrepancyKind::OpeningDoesNotFollow,
            DiscrepancyKind::Duplicate,
            DiscrepancyKind::Duplicate
        ]
    );
    assert_eq!(r[2].discrepancies[0].amount, dec("50.00"));
}

#[test]
fn a_rejected_statement_and_unread_lines_r_p7() {
    let mut s = statement(2, "0", &[("a", "100.00")], "0");
    s.credit_lines = 2;
    s.credits = dec("160.00");
    s.closing = Some(dec("160.00"));
    let r = reconcile(
        day(1),
        day(31),
        "CNY",
        &[s.clone()],
        &[paid(2, "a", "100.00", BookStatus::Applied)],
    )
    .unwrap();
    assert_eq!(
        kinds(&r),
        vec![
            DiscrepancyKind::BankLineNotBooked,
            DiscrepancyKind::AmountDiffers
        ]
    );
    assert_eq!(r[0].discrepancies[0].amount, dec("60.00"));
    s.rejected = "closing balance: expected …".into();
    let r = reconcile(day(1), day(31), "CNY", &[s], &[]).unwrap();
    assert_eq!(
        kinds(&r),
        vec![
            DiscrepancyKind::StatementRejected,
            DiscrepancyKind::AmountDiffers
        ]
    );
}

#[test]
fn a_range_backwards_is_an_error_and_outside_days_are_ignored() {
    assert!(reconcile(day(5), day(4), "CNY", &[], &[]).is_err());
    let r = reconcile(day(3), day(3), "CNY", &[statement(2, "0", &[], "0")], &[]).unwrap();
    assert!(r.is_empty());
}

#[test]
fn overflow_is_an_error_not_a_panic() {
    let mut s = statement(2, "0", &[], "0");
    s.opening = Some(Decimal::MAX);
    s.credits = Decimal::MAX;
    assert_eq!(
        reconcile(day(1), day(31), "CNY", &[s], &[]),
        Err(ReconcileError::Overflow(day(2)))
    );
}

fn cents() -> impl Strategy<Value = Decimal> {
    (1i64..100_000_000).prop_map(|c| Decimal::new(c, 2))
}

proptest! {
    /// R-P7: a statement whose closing is opening + credits − debits, all lines booked,
    /// reconciles with no discrepancy, whatever the amounts.
    #[test]
    fn consistent_books_always_match(
        opening in -10_000_000i64..10_000_000,
        credits in prop::collection::vec(cents(), 0..20),
        debits in cents(),
    ) {
        let lines: Vec<(String, Decimal)> =
            credits.iter().enumerate().map(|(i, a)| (format!("f{i}"), *a)).collect();
        let total: Decimal = credits.iter().sum();
        let opening = Decimal::new(opening, 2);
        let s = StatementDay {
            source: "s".into(), date: day(2), currency: "CNY".into(),
            opening: Some(opening), closing: Some(opening + total - debits),
            credits: total, debits, credit_lines: u32::try_from(lines.len()).unwrap(),
            lines: lines.clone(), rejected: String::new(),
        };
        let book: Vec<BookEntry> = lines.iter().map(|(f, a)| BookEntry {
            payment_id: f.clone(), date: day(2), amount: *a, currency: "CNY".into(),
            status: BookStatus::Applied, fingerprint: f.clone(), refunded: Decimal::ZERO,
        }).collect();
        let r = reconcile(day(1), day(31), "CNY", &[s], &book).unwrap();
        prop_assert!(r.iter().all(|d| d.discrepancies.is_empty()));
        prop_assert_eq!(r.iter().map(DayReport::book_total).sum::<Decimal>(), total);
    }

    /// R-P7: a closing balance off by `delta` is reported with exactly that difference; a
    /// line left out of the book is reported with its amount, and the day's totals differ by it.
    #[test]
    fn differences_are_reported_exactly(
        credits in prop::collection::vec(cents(), 1..20),
        delta in (-1_000_000i64..1_000_000).prop_filter("non-zero", |d| *d != 0),
        missing in any::<prop::sample::Index>(),
    ) {
        let delta = Decimal::new(delta, 2);
        let lines: Vec<(String, Decimal)> =
            credits.iter().enumerate().map(|(i, a)| (format!("f{i}"), *a)).collect();
        let total: Decimal = credits.iter().sum();
        let s = StatementDay {
            source: "s".into(), date: day(2), currency: "CNY".into(),
            opening: Some(Decimal::ZERO), closing: Some(total + delta),
            credits: total, debits: Decimal::ZERO, credit_lines: u32::try_from(lines.len()).unwrap(),
            lines: lines.clone(), rejected: String::new(),
        };
        let gone = missing.index(lines.len());
        let book: Vec<BookEntry> = lines.iter().enumerate().filter(|(i, _)| *i != gone)
            .map(|(_, (f, a))| BookEntry {
                payment_id: f.clone(), date: day(2), amount: *a, currency: "CNY".into(),
                status: BookStatus::Unapplied, fingerprint: f.clone(), refunded: Decimal::ZERO,
            }).collect();
        let r = reconcile(day(1), day(31), "CNY", &[s], &book).unwrap();
        let d = &r[0].discrepancies;
        let of = |k: DiscrepancyKind| d.iter().filter(|x| x.kind == k).map(|x| x.amount).collect::<Vec<_>>();
        prop_assert_eq!(of(DiscrepancyKind::BalanceDoesNotAddUp), vec![delta]);
        prop_assert_eq!(of(DiscrepancyKind::BankLineNotBooked), vec![lines[gone].1]);
        prop_assert_eq!(of(DiscrepancyKind::AmountDiffers), vec![lines[gone].1]);
        prop_assert_eq!(r[0].bank_credits - r[0].book_total(), lines[gone].1);
    }
}
