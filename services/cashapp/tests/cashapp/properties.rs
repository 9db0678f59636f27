//! Properties (issue "done when"): allocations never exceed a payment or a receivable's open
//! amount; applied + unapplied = received, to the fen, for every input; the result does not
//! depend on the order payments are handed in (issue item 5).

use std::collections::BTreeMap;

use cashapp::{Decision, Ledger, OpenItem, Outcome, Payment, RateTable, Summary};
use proptest::prelude::*;
use rust_decimal::Decimal;

use crate::common::{ESCROW, OTHER_ESCROW, d};

const NAMES: &[&str] = &["张伟", "李娜", "王芳", "张玮", "深圳市华兴贸易有限公司"];

fn items_strategy() -> impl Strategy<Value = Vec<OpenItem>> {
    // Up to 4 customers × 2 contracts × 3 installments, amounts in fen.
    prop::collection::vec((0usize..4, 0usize..2, 1i64..=60_000, 0u32..40), 1..12).prop_map(|rows| {
        let mut seen = BTreeMap::new();
        rows.into_iter()
            .filter_map(|(customer, contract, fen, day)| {
                let n = seen.entry((customer, contract)).or_insert(0u32);
                *n += 1;
                let contract_no = format!("HT-2024-{customer:03}-{contract:05}");
                Some(OpenItem {
                    receivable_id: format!("{contract_no}-{n:02}"),
                    contract_no,
                    customer_id: format!("C{customer}"),
                    customer_name: NAMES.get(customer).copied()?.to_string(),
                    payer_accounts: vec![format!("62220000000000{customer:04}")],
                    unit: None,
                    due_date: d(3, 1) + chrono::Days::new(u64::from(day)),
                    open_amount: Decimal::new(fen, 2),
                    currency: "CNY".into(),
                    escrow_account: ESCROW.into(),
                })
            })
            .collect()
    })
}

fn payments_strategy() -> impl Strategy<Value = Vec<Payment>> {
    let one = (
        0usize..5,
        0usize..3,
        prop_oneof![Just("exact"), Just("digits"), Just("none"), Just("named")],
        1i64..=150_000,
        0u64..45,
        any::<bool>(),
        0u8..10,
    );
    prop::collection::vec(one, 0..14).prop_map(|rows| {
        rows.into_iter()
            .enumerate()
            .map(|(n, (customer, contract, style, fen, day, known, misc))| {
                let contract_no = format!("HT-2024-{customer:03}-{contract:05}");
                let text = match style {
                    "exact" => contract_no.clone(),
                    "digits" => contract_no.chars().filter(char::is_ascii_digit).collect(),
                    "named" => format!("{contract_no}-01"),
                    _ => "转账".to_string(),
                };
                let account = if known {
                    format!("62220000000000{customer:04}")
                } else {
                    format!("6217{n:015}")
                };
                let receiving = if misc == 0 { OTHER_ESCROW } else { ESCROW };
                let mut p = Payment::new(
                    format!("p{n}"),
                    d(3, 1) + chrono::Days::new(day),
                    Decimal::new(fen, 2),
                    if misc == 1 { "HKD" } else { "CNY" },
                    receiving,
                )
                .with_payer(NAMES.get(customer % NAMES.len()).copied(), Some(&account))
                .with_remittance(text);
                if misc == 2 {
                    // A payment repeated: same payer, amount and text.
                    p.id = format!("p{n}-again");
                }
                p
            })
            .collect()
    })
}

fn ledger(items: Vec<OpenItem>) -> Ledger {
    let mut rates = RateTable::new();
    rates.insert(d(3, 1), "HKD", "CNY", Decimal::new(9213, 4));
    Ledger::from_open_items(items)
        .unwrap_or_default()
        .with_rates(rates)
}

fn check_amounts(decision: &Decision) -> Result<(), TestCaseError> {
    let allocated: Decimal = decision.allocations.iter().map(|a| a.amount).sum();
    prop_assert!(
        allocated <= decision.booked,
        "allocations exceed the payment"
    );
    prop_assert_eq!(decision.applied + decision.unapplied, decision.booked);
    for a in &decision.allocations {
        prop_assert!(a.amount > Decimal::ZERO);
        prop_assert!(
            a.amount <= a.open_before,
            "allocation exceeds the open amount"
        );
        prop_assert!(a.open_after >= Decimal::ZERO);
    }
    match decision.outcome {
        Outcome::Applied => prop_assert_eq!(decision.applied, allocated),
        _ => prop_assert_eq!(decision.applied, Decimal::ZERO),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn allocations_never_exceed_payment_or_open_and_amounts_add_up(
        items in items_strategy(),
        payments in payments_strategy(),
    ) {
        let initial: BTreeMap<String, Decimal> =
            items.iter().map(|i| (i.receivable_id.clone(), i.open_amount)).collect();
        let mut l = ledger(items);
        let decisions = l.reconcile_and_apply(&payments);
        prop_assert_eq!(decisions.len(), payments.len());
        let mut allocated: BTreeMap<String, Decimal> = BTreeMap::new();
        for decision in &decisions {
            check_amounts(decision)?;
            if decision.outcome == Outcome::Applied {
                for a in &decision.allocations {
                    *allocated.entry(a.receivable_id.to_string()).or_default() += a.amount;
                }
            }
        }
        for (id, open) in &initial {
            let used = allocated.get(id).copied().unwrap_or_default();
            prop_assert!(used <= *open, "{} allocated {} of {}", id, used, open);
            let now = l.open_amount(id).unwrap_or_default();
            prop_assert!(now >= Decimal::ZERO && now <= *open - used);
        }
        prop_assert!(Summary::of(&decisions).balanced);
    }

    #[test]
    fn the_result_does_not_depend_on_input_order(
        items in items_strategy(),
        payments in payments_strategy(),
        seed in any::<u64>(),
    ) {
        let l = ledger(items);
        let mut shuffled = payments.clone();
        // A deterministic shuffle from the seed.
        let mut s = seed;
        for i in (1..shuffled.len()).rev() {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            let j = usize::try_from(s >> 33).unwrap_or(0) % (i + 1);
            shuffled.swap(i, j);
        }
        let key = |ds: Vec<Decision>| -> BTreeMap<String, String> {
            ds.into_iter()
                .map(|d| (d.payment_id.clone(), serde_json::to_string(&d).unwrap_or_default()))
                .collect()
        };
        prop_assert_eq!(key(l.reconcile(&payments)), key(l.reconcile(&shuffled)));
    }
}
