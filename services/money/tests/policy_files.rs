//! The documented example files load, and broken policy files fail with an error that names
//! the key or field at fault (R-C4, R-C12).

use money::late_fee::{
    self, LateFeeInput, LateFeePolicy, PaymentRecord, RateTable, WaiverRecord,
    payments_from_records, waivers_from_records,
};
use money::{Currency, Money};

const EXAMPLES: &[(&str, &str)] = &[
    (
        "property-fee-1permille",
        include_str!("../examples/property-fee-1permille.json"),
    ),
    (
        "tiered-with-surcharge",
        include_str!("../examples/tiered-with-surcharge.json"),
    ),
    (
        "lpr-times-1.5",
        include_str!("../examples/lpr-times-1.5.json"),
    ),
    (
        "grace-from-due-date",
        include_str!("../examples/grace-from-due-date.json"),
    ),
];

fn err_of(json: &str) -> String {
    LateFeePolicy::from_json(json).unwrap_err().to_string()
}

#[test]
fn example_policies_load() {
    for (name, json) in EXAMPLES {
        let p = LateFeePolicy::from_json(json).unwrap_or_else(|e| panic!("{name}: {e}"));
        // Serialising and reading back gives the same policy.
        let again = LateFeePolicy::from_json(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(p, again, "{name}");
    }
    let table = RateTable::from_json(include_str!("../examples/lpr-1y.json")).unwrap();
    assert_eq!(table.series(), "LPR1Y");
}

#[test]
fn example_payments_and_waivers_drive_the_tiered_example() {
    // The README walk-through: 10,000.00 due 31 January 2026 under the tiered policy, 4,000.00
    // paid 11 March, half the fee waived on 10 April: 1,626.00 accrued (see the unit test
    // r_c4_partial_payment_in_the_middle_of_a_tier), capped at the principal (no effect), 50%
    // waived = 813.00, 813.00 owed.
    let policy = LateFeePolicy::from_json(EXAMPLES[1].1).unwrap();
    let pay: Vec<PaymentRecord> =
        serde_json::from_str(include_str!("../examples/payments.json")).unwrap();
    let waive: Vec<WaiverRecord> =
        serde_json::from_str(include_str!("../examples/waivers.json")).unwrap();
    let payments = payments_from_records(&pay, Currency::CNY).unwrap();
    let waivers = waivers_from_records(&waive, Currency::CNY).unwrap();
    let principal = Money::parse("10000", Currency::CNY).unwrap();
    let input = LateFeeInput::new(
        principal,
        "2026-01-31".parse().unwrap(),
        "2026-04-10".parse().unwrap(),
    )
    .with_payments(&payments)
    .with_waivers(&waivers);
    let b = late_fee::compute(&policy, &input).unwrap();
    assert_eq!(b.accrued.to_string(), "1626.00 CNY");
    assert_eq!(b.waived.to_string(), "813.00 CNY");
    assert_eq!(b.total.to_string(), "813.00 CNY");
}

#[test]
fn a_typo_in_a_key_names_the_key() {
    let typo = EXAMPLES[1].1.replace("\"surcharges\"", "\"surcharge\"");
    let err = err_of(&typo);
    assert!(
        err.starts_with("policy: unknown field `surcharge`, expected one of"),
        "{err}"
    );
    assert!(err.contains("line "), "{err}");
    // Inside a tagged section too.
    let err = err_of(&EXAMPLES[0].1.replace("daily_rate", "daily_rte"));
    assert!(err.contains("unknown field `daily_rte`"), "{err}");
    let err = err_of(&EXAMPLES[1].1.replace("from_month\": 2", "from_mnth\": 2"));
    assert!(err.contains("unknown field `from_mnth`"), "{err}");
    let err = err_of(&EXAMPLES[1].1.replace("\"multiple\"", "\"multiplier\""));
    assert!(err.contains("unknown field `multiplier`"), "{err}");
}

#[test]
fn wrong_values_name_the_field() {
    let cases = [
        (
            EXAMPLES[0].1.replace("flat_daily", "flat"),
            "unknown variant `flat`",
        ),
        (EXAMPLES[0].1.replace("\"1‰\"", "0.001"), "in quotes"),
        (
            EXAMPLES[0].1.replace("\"1‰\"", "\"0.1\""),
            "field `accrual.daily_rate`: 10% a day",
        ),
        (
            EXAMPLES[0].1.replace("\"1‰\"", "\"-1‰\""),
            "must not be negative",
        ),
        (
            EXAMPLES[1]
                .1
                .replace("\"from_month\": 1", "\"from_month\": 2"),
            "field `accrual.tiers`",
        ),
        (
            EXAMPLES[1]
                .1
                .replace("\"from_month\": 2", "\"from_month\": 1"),
            "field `accrual.tiers[1].from_month`",
        ),
        (
            EXAMPLES[1]
                .1
                .replace("\"at_month\": 3", "\"at_month\": 3, \"at_day\": 60"),
            "field `surcharges[0]`",
        ),
        (
            EXAMPLES[1].1.replace("\"half_up\"", "\"half_upp\""),
            "unknown variant `half_upp`",
        ),
        (
            EXAMPLES[2].1.replace("365", "366"),
            "field `accrual.day_basis`: must be 365 or 360",
        ),
        (
            EXAMPLES[0]
                .1
                .replace("\"name\": \"property fee late charge 1‰ a day\",", ""),
            "missing field `name`",
        ),
    ];
    for (json, want) in cases {
        let err = err_of(&json);
        assert!(err.contains(want), "expected {want:?} in {err:?}");
    }
}

#[test]
fn reference_rates_beyond_known_through_are_an_error() {
    let policy = LateFeePolicy::from_json(EXAMPLES[2].1).unwrap();
    let table = RateTable::from_json(include_str!("../examples/lpr-1y.json")).unwrap();
    let principal = Money::parse("100000", Currency::CNY).unwrap();
    let input = LateFeeInput::new(
        principal,
        "2025-09-01".parse().unwrap(),
        "2025-10-31".parse().unwrap(),
    )
    .with_reference_rates(&table);
    let err = late_fee::compute(&policy, &input).unwrap_err().to_string();
    assert!(err.contains("known only through 2025-09-30"), "{err}");
}

#[test]
fn waiver_records_name_the_missing_field() {
    let bad: Vec<WaiverRecord> = serde_json::from_str(
        r#"[{"date": "2026-04-10", "kind": "amount", "proposed_by": "a", "approved_by": "b"}]"#,
    )
    .unwrap();
    let (index, msg) = waivers_from_records(&bad, Currency::CNY).unwrap_err();
    assert_eq!(index, 0);
    assert!(msg.contains("needs an \"amount\""), "{msg}");
    let err =
        serde_json::from_str::<Vec<PaymentRecord>>(r#"[{"date": "2026-04-10", "amont": "1"}]"#)
            .unwrap_err()
            .to_string();
    assert!(err.contains("unknown field `amont`"), "{err}");
}
