//! The compact MT940 form (`feeds::mt940::parse_compact`, borrowed `TransactionRef` views)
//! and the owned model (`feeds::parse_file`) hold the same values, for every sample file in
//! both modes, detected and forced to MT940.

use feeds::mt940::{self, CompactFile, StatementRef};
use feeds::{CheckMode, Format, ParseOptions, ParsedFile, Statement};

use crate::common::{files, read};

fn same_statement(rel: &str, view: StatementRef<'_>, owned: &Statement) {
    let at = |what: &str| format!("{rel}: statement {:?} {what}", owned.id);
    assert_eq!(view.kind(), owned.kind, "{}", at("kind"));
    assert_eq!(view.id(), owned.id.as_deref(), "{}", at("id"));
    assert_eq!(
        view.related_reference(),
        owned.related_reference.as_deref(),
        "{}",
        at("related reference")
    );
    assert_eq!(view.account(), owned.account, "{}", at("account"));
    assert_eq!(
        view.servicer(),
        owned.servicer.as_deref(),
        "{}",
        at("servicer")
    );
    assert_eq!(view.currency(), owned.currency, "{}", at("currency"));
    assert_eq!(
        view.sequence_number(),
        owned.sequence_number.as_deref(),
        "{}",
        at("sequence")
    );
    assert_eq!(
        view.created_at(),
        owned.created_at.as_deref(),
        "{}",
        at("created")
    );
    assert_eq!(view.opening_balance(), owned.opening_balance);
    assert_eq!(view.closing_balance(), owned.closing_balance);
    assert_eq!(
        view.closing_available_balance(),
        owned.closing_available_balance
    );
    assert_eq!(
        view.forward_available_balances(),
        owned.forward_available_balances
    );
    assert_eq!(view.information(), owned.information.as_deref());
    assert_eq!(view.balance_check(), &owned.balance_check);
    assert_eq!(view.flags(), &owned.flags[..]);
    assert_eq!(&view.to_statement(), owned, "{}", at("owned statement"));
    assert_eq!(view.source(), owned.source);
    assert_eq!(view.len(), owned.transactions.len(), "{}", at("count"));
    for (t, o) in view.transactions().zip(&owned.transactions) {
        let at = |what: &str| format!("{rel}: line {} {what}", o.source.line);
        assert_eq!(t.booking_date(), o.booking_date, "{}", at("booking date"));
        assert_eq!(t.value_date(), o.value_date, "{}", at("value date"));
        assert_eq!(t.date(), o.date(), "{}", at("date"));
        // Same value and the same scale (`9.00`, not `9`).
        assert_eq!(
            t.amount().to_string(),
            o.amount.to_string(),
            "{}",
            at("amount")
        );
        assert_eq!(t.currency(), o.currency, "{}", at("currency"));
        assert_eq!(t.status(), o.status, "{}", at("status"));
        assert_eq!(t.reversal(), o.reversal, "{}", at("reversal"));
        let pairs = [
            (
                "counterparty name",
                t.counterparty_name(),
                &o.counterparty_name,
            ),
            (
                "counterparty account",
                t.counterparty_account(),
                &o.counterparty_account,
            ),
            (
                "counterparty bank",
                t.counterparty_bank(),
                &o.counterparty_bank,
            ),
            ("end-to-end id", t.end_to_end_id(), &o.end_to_end_id),
            ("bank reference", t.bank_reference(), &o.bank_reference),
            (
                "customer reference",
                t.customer_reference(),
                &o.customer_reference,
            ),
            (
                "payment reference",
                t.payment_reference(),
                &o.payment_reference,
            ),
            (
                "remittance",
                t.remittance_information(),
                &o.remittance_information,
            ),
            (
                "transaction code",
                t.bank_transaction_code(),
                &o.bank_transaction_code,
            ),
            ("description", t.description(), &o.description),
        ];
        for (what, v, o) in pairs {
            assert_eq!(v, o.as_deref(), "{}", at(what));
        }
        for (k, v) in &o.extra {
            assert_eq!(t.extra(k), Some(v.as_str()), "{}", at(k));
        }
        let names: std::collections::BTreeSet<&str> = t.extras().map(|(k, _)| k).collect();
        assert_eq!(names.len(), o.extra.len(), "{}", at("extra names"));
        assert!(o.details.is_empty());
        assert_eq!(t.fingerprint(), o.fingerprint, "{}", at("fingerprint"));
        assert_eq!(t.source(), o.source, "{}", at("source"));
        assert_eq!(&t.to_transaction(), o, "{}", at("owned transaction"));
    }
}

fn same_file(rel: &str, compact: &CompactFile, owned: &ParsedFile) {
    assert_eq!(&compact.to_parsed_file(rel), owned, "{rel}");
    assert_eq!(compact.format, owned.format, "{rel}");
    assert_eq!(compact.encoding, owned.encoding, "{rel}");
    assert_eq!(compact.errors, owned.errors, "{rel}");
    assert_eq!(compact.statement_count(), owned.statements.len(), "{rel}");
    assert_eq!(
        compact.transaction_count(),
        owned.transaction_count(),
        "{rel}"
    );
    for (i, (view, st)) in compact.statements().zip(&owned.statements).enumerate() {
        assert_eq!(
            compact.statement(i).map(|s| s.source()),
            Some(st.source.clone())
        );
        same_statement(rel, view, st);
    }
}

#[test]
fn compact_form_and_owned_model_agree_on_every_sample() {
    let mut mt940_files = 0;
    let mut transactions = 0;
    for rel in files("", "") {
        let bytes = read(&rel);
        for mode in [CheckMode::Strict, CheckMode::Flag] {
            let options = ParseOptions {
                mode,
                ..ParseOptions::default()
            };
            // As detected: every file read as MT940/MT942.
            if let Ok(owned) = feeds::parse_file(&rel, &bytes, None, &options)
                && matches!(owned.format, Format::Mt940 | Format::Mt942)
            {
                let compact = mt940::parse_compact(&rel, &bytes, None, &options)
                    .unwrap_or_else(|e| panic!("{rel}: {e}"));
                same_file(&rel, &compact, &owned);
                if mode == CheckMode::Flag {
                    mt940_files += 1;
                    transactions += owned.transaction_count();
                }
            }
            // Forced: any file (camt, CSV, BAI2, binary) through the MT940 parser.
            let owned = feeds::parse_file(&rel, &bytes, Some(Format::Mt940), &options);
            let compact = mt940::parse_compact(&rel, &bytes, Some(Format::Mt940), &options);
            match (owned, compact) {
                (Ok(owned), Ok(compact)) => same_file(&rel, &compact, &owned),
                (Err(a), Err(b)) => assert_eq!(a, b, "{rel}"),
                (a, b) => panic!("{rel}: parse_file {a:?}, parse_compact {b:?}"),
            }
        }
    }
    assert!(mt940_files > 100, "{mt940_files} MT940 samples");
    assert!(transactions > 700, "{transactions} MT940 transactions");
}

#[test]
fn compact_rejects_other_formats() {
    let e = mt940::parse_compact(
        "x.xml",
        b"<Document/>",
        Some(Format::Camt053),
        &ParseOptions::default(),
    )
    .err()
    .map(|e| e.to_string());
    assert_eq!(
        e.as_deref(),
        Some("x.xml: format: expected mt940 or mt942, found \"camt053\"")
    );
}
