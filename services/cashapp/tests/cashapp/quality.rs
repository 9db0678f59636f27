//! Quality on the generator's mix (issue "done when"): at least 97% of the payments with a
//! true match applied automatically, at least 99.9% of the automatic allocations correct, and
//! every third-party, wrong-account and duplicate case sent to the exceptions. The full
//! 100,000-payment measurement is `examples/quality.rs` (figures in the README); this runs
//! the same measurement on 20,000 payments.

use cashapp::Ledger;
use cashapp::generator::{self, GeneratorConfig};

#[test]
fn r_p4_r_p5_generated_mix_meets_the_targets() {
    let config = GeneratorConfig {
        payments: 20_000,
        ..GeneratorConfig::default()
    };
    let p = generator::generate_portfolio(42, &config);
    let ledger = Ledger::from_open_items(p.items.clone()).map(|l| l.with_rates(p.rates.clone()));
    let Ok(mut ledger) = ledger else {
        panic!("the generated receivables load");
    };
    let decisions = ledger.reconcile_and_apply(&p.payments);
    let q = generator::evaluate(&p.truth, &decisions);
    assert!(q.true_matches > 18_000, "{q}");
    assert!(
        q.auto_rate() >= 9_700,
        "auto-applied share of true matches: {q}"
    );
    assert!(
        q.precision() >= 9_990,
        "correct share of automatic allocations: {q}"
    );
    assert_eq!(q.sent_to_exceptions, q.must_be_exceptions, "{q}");
    assert_eq!(q.expected_kind, q.must_be_exceptions, "{q}");
    assert_eq!(q.unknown, 0);
}
