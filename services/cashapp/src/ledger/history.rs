//! Payments decided before this ledger was built: a service that rebuilds its ledger from its
//! store tells it which payments were already applied, so a later duplicate of one is still
//! recognised (R-P5) and the same bank line is never applied twice (R-P2).

use super::Ledger;
use super::probe::{dedup_key, probe};
use crate::decision::Outcome;
use crate::ident::Text;
use crate::model::Payment;

impl Ledger {
    /// Remember a payment decided earlier (outside this ledger) with its outcome, for
    /// duplicate detection only: open amounts are not changed (they already reflect it).
    ///
    /// Only payments whose money was applied need remembering: a duplicate is "the same
    /// payer, amount and reference as one already applied"; exceptions and proposals may be
    /// decided again later (e.g. once the contract they name is known).
    pub fn remember(&mut self, payment: &Payment, outcome: Outcome) {
        let key = dedup_key(payment, &probe(self, payment));
        self.seen
            .record(Text::from(payment.id.as_str()), key, payment.date, outcome);
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;
    use rust_decimal::Decimal;

    use crate::{ExceptionKind, Ledger, OpenItem, Outcome, Payment};

    fn item(id: &str, amount: i64) -> OpenItem {
        OpenItem {
            receivable_id: id.into(),
            contract_no: "HT-2026-0007".into(),
            customer_id: "C7".into(),
            customer_name: "王芳".into(),
            payer_accounts: vec!["6222 0000 7777 0001".into()],
            unit: None,
            due_date: NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default(),
            open_amount: Decimal::new(amount, 2),
            currency: "CNY".into(),
            escrow_account: "ESCROW-7".into(),
        }
    }

    fn payment(id: &str) -> Payment {
        let date = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default();
        Payment::new(id, date, Decimal::new(100_000, 2), "CNY", "ESCROW-7")
            .with_payer(Some("王芳"), Some("6222000077770001"))
            .with_remittance("HT-2026-0007 第1期")
    }

    #[test]
    fn a_payer_account_added_later_makes_a_third_party_the_customer() {
        // R-P5: a third-party payer is an exception until a person confirms; once the
        // relative's account is on file for the customer, its payments are the customer's.
        let Ok(mut ledger) = Ledger::from_open_items(vec![item("HT-2026-0007/1", 100_000)]) else {
            panic!("items refused");
        };
        let date = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default();
        let relative = Payment::new("r1", date, Decimal::new(100_000, 2), "CNY", "ESCROW-7")
            .with_payer(Some("李娜"), Some("6222 0000 8888 0002"))
            .with_remittance("HT-2026-0007 第1期");
        let before = ledger.reconcile(std::slice::from_ref(&relative));
        assert_eq!(
            before[0].exception.as_ref().map(|e| e.kind),
            Some(ExceptionKind::ThirdPartyPayer)
        );
        assert!(ledger.add_payer_account("C7", "6222-0000-8888-0002"));
        assert!(
            !ledger.add_payer_account("C7", "6222000088880002"),
            "already on file"
        );
        assert!(!ledger.add_payer_account("nobody", "6222000088880003"));
        let after = ledger.reconcile(&[relative]);
        assert_eq!(
            after[0].outcome,
            Outcome::Applied,
            "{:?}",
            after[0].exception
        );
    }

    #[test]
    fn a_remembered_applied_payment_makes_its_twin_a_duplicate() {
        // R-P5: same payer, amount and reference as a payment applied before the ledger
        // was rebuilt; R-P2: the same bank line again.
        let items = vec![
            item("HT-2026-0007/1", 100_000),
            item("HT-2026-0007/2", 100_000),
        ];
        let Ok(mut ledger) = Ledger::from_open_items(items.clone()) else {
            panic!("items refused");
        };
        let fresh = ledger.reconcile(&[payment("p2")]);
        assert_eq!(fresh[0].outcome, Outcome::Applied);

        ledger.remember(&payment("p1"), Outcome::Applied);
        let twin = ledger.reconcile(&[payment("p2")]);
        let again = ledger.reconcile(&[payment("p1")]);
        for d in [&twin[0], &again[0]] {
            assert_eq!(d.outcome, Outcome::Exception);
            assert_eq!(
                d.exception.as_ref().map(|e| e.kind),
                Some(ExceptionKind::Duplicate)
            );
        }
    }

    #[test]
    fn reasons_show_the_escrow_account_masked_or_as_told() {
        // R-O4: a reason never names an account in full; a service that gives the ledger
        // blind indexes tells it what to show instead (R-P6 still compares them exactly).
        let mut escrowed = item("HT-2026-0007/1", 100_000);
        escrowed.escrow_account = "6216 6100 0000 0088 88".into();
        let Ok(mut ledger) = Ledger::from_open_items(vec![escrowed]) else {
            panic!("items refused");
        };
        let date = NaiveDate::from_ymd_opt(2026, 4, 1).unwrap_or_default();
        let wrong = Payment::new(
            "w1",
            date,
            Decimal::new(100_000, 2),
            "CNY",
            "6216610000007777",
        )
        .with_payer(Some("王芳"), Some("6222000077770001"))
        .with_remittance("HT-2026-0007 第1期");
        let reason = |ledger: &Ledger| {
            let d = ledger.reconcile(std::slice::from_ref(&wrong));
            assert_eq!(
                d[0].exception.as_ref().map(|e| e.kind),
                Some(ExceptionKind::WrongReceivingAccount)
            );
            d[0].exception
                .as_ref()
                .map(|e| e.reason.clone())
                .unwrap_or_default()
        };
        let masked = reason(&ledger);
        assert!(masked.contains("****8888"), "{masked}");
        assert!(
            !masked.contains("621661") && !masked.contains("7777"),
            "{masked}"
        );
        assert!(ledger.show_escrow_as("621661000000008888", "ESCROW ****8888 (project 7)"));
        assert!(!ledger.show_escrow_as("nobody's", "x"));
        assert!(reason(&ledger).contains("ESCROW ****8888 (project 7)"));
    }
}
