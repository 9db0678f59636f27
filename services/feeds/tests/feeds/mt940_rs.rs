//! `mt940-rs/tests/data/mt940/full/**/*.json`: expected statements beside 20 MT940 samples.

use feeds::{Balance, Transaction};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::common::{Diffs, dec, files, json, parse_flagged, s};

fn balance(d: &mut Diffs, what: &str, ours: Option<&Balance>, theirs: &Value) {
    let Some(b) = ours else {
        d.eq(format!("{what} presence"), false, !theirs.is_null());
        return;
    };
    if theirs.is_null() {
        d.eq(format!("{what} presence"), true, false);
        return;
    }
    let sign = if theirs["debit_credit_indicator"] == "Debit" {
        -1
    } else {
        1
    };
    let amount = dec(theirs["amount"].as_str().unwrap_or_default()) * Decimal::from(sign);
    d.eq(format!("{what} amount"), b.amount, amount);
    d.eq(
        format!("{what} date"),
        Some(b.date.to_string()),
        s(&theirs["date"]),
    );
    d.eq(
        format!("{what} currency"),
        Some(b.currency.clone()),
        s(&theirs["iso_currency_code"]),
    );
    if let Some(i) = theirs["is_intermediate"].as_bool() {
        d.eq(format!("{what} intermediate"), b.intermediate, i);
    }
}

/// The SWIFT "x" character set as mt940-rs writes text: diacritics dropped, other characters
/// outside the set replaced by `.`, surrounding blanks trimmed.
fn swift_charset(text: &str) -> String {
    text.trim()
        .chars()
        .flat_map(|c| {
            let mapped: &str = match c {
                'ä' | 'á' | 'à' | 'â' | 'ą' => "a",
                'ë' | 'é' | 'è' | 'ê' | 'ę' => "e",
                'ö' | 'ó' | 'ò' | 'ô' => "o",
                'ü' | 'ú' | 'ù' | 'û' => "u",
                'Ä' => "A",
                'Ö' => "O",
                'Ü' => "U",
                'ß' => "ss",
                c if c.is_ascii_alphanumeric() || " /-?:().,+\n".contains(c) => {
                    return vec![c];
                }
                _ => ".",
            };
            mapped.chars().collect()
        })
        .collect()
}

fn charset(v: Option<String>) -> Option<String> {
    v.map(|t| swift_charset(&t))
}

fn extra(tx: &Transaction, key: &str) -> Option<String> {
    tx.extra.get(key).cloned()
}

fn information(d: &mut Diffs, what: &str, tx: &Transaction, info: &Value) {
    match info {
        Value::Object(m) => {
            // mt940-rs splits the German ?-structure: compare field by field.
            let get = |k: &str| m.get(k).and_then(|v| v.as_str()).map(str::to_string);
            d.eq(
                format!("{what} gvc"),
                extra(tx, "gvc"),
                get("transaction_code"),
            );
            d.eq(
                format!("{what} posting text"),
                charset(extra(tx, "posting_text")),
                charset(get("posting_text")),
            );
            d.eq(
                format!("{what} prima nota"),
                extra(tx, "prima_nota"),
                get("prima_nota"),
            );
            d.eq(
                format!("{what} purpose"),
                charset(extra(tx, "purpose")),
                charset(get("purpose")),
            );
            d.eq(
                format!("{what} purpose ?60-63"),
                extra(tx, "purpose_continued"),
                get("additional_purpose"),
            );
            d.eq(
                format!("{what} bank"),
                tx.counterparty_bank.clone(),
                get("applicant_bin"),
            );
            d.eq(
                format!("{what} account"),
                tx.counterparty_account.clone(),
                get("applicant_iban"),
            );
            d.eq(
                format!("{what} name"),
                tx.counterparty_name.clone(),
                get("applicant_name"),
            );
            d.eq(
                format!("{what} ?34"),
                extra(tx, "text_key_extension"),
                get("return_debit_notes"),
            );
            d.eq(
                format!("{what} ?70"),
                extra(tx, "subfield_70"),
                get("unknown70"),
            );
            d.eq(
                format!("{what} ?38"),
                extra(tx, "subfield_38"),
                get("unknown38"),
            );
        }
        // mt940-rs rewrites free text into the SWIFT character set: compare modulo that.
        _ => d.eq(
            format!("{what} information"),
            tx.description.as_deref().map(swift_charset),
            s(info)
                .filter(|t| !t.trim().is_empty())
                .map(|t| swift_charset(&t)),
        ),
    }
}

fn line(d: &mut Diffs, what: &str, tx: &Transaction, l: &Value) {
    // mt940-rs names RC (reversal of a credit, a debit entry) "ReverseDebit".
    let indicator = l["ext_debit_credit_indicator"].as_str().unwrap_or_default();
    let sign = if matches!(indicator, "Debit" | "ReverseDebit") {
        -1
    } else {
        1
    };
    let amount = dec(l["amount"].as_str().unwrap_or_default()) * Decimal::from(sign);
    d.eq(format!("{what} amount"), tx.amount, amount);
    d.eq(
        format!("{what} reversal"),
        tx.reversal,
        indicator.starts_with("Reverse"),
    );
    d.eq(
        format!("{what} value date"),
        tx.value_date.map(|v| v.to_string()),
        s(&l["value_date"]),
    );
    d.eq(
        format!("{what} entry date"),
        tx.booking_date.map(|v| v.to_string()),
        s(&l["entry_date"]),
    );
    d.eq(
        format!("{what} funds code"),
        extra(tx, "funds_code"),
        s(&l["funds_code"]),
    );
    let code = match &l["transaction_type_ident_code"] {
        Value::String(c) => Some(c.clone()),
        Value::Object(m) => m
            .values()
            .next()
            .and_then(|v| v.as_str())
            .map(str::to_string),
        _ => None,
    };
    let ours = tx
        .bank_transaction_code
        .as_deref()
        .and_then(|c| c.get(1..))
        .map(str::to_string);
    d.eq(format!("{what} type"), ours, code);
    let customer = s(&l["customer_ref"])
        .map(|r| r.trim().to_string())
        .filter(|r| !r.is_empty());
    d.eq(
        format!("{what} customer ref"),
        tx.customer_reference.clone(),
        customer,
    );
    let bank = s(&l["bank_ref"]).filter(|r| !r.is_empty());
    d.eq(format!("{what} bank ref"), tx.bank_reference.clone(), bank);
    d.eq(
        format!("{what} supplementary"),
        extra(tx, "supplementary_details"),
        s(&l["supplementary_details"]),
    );
    information(d, what, tx, &l["information_to_account_owner"]);
}

#[test]
fn mt940_rs_expected_statements_match() {
    let mut d = Diffs::default();
    let jsons = files("mt940-rs/tests/data/mt940/full", ".json");
    assert_eq!(jsons.len(), 20);
    for rel in jsons {
        let sta = rel.replace(".json", ".sta");
        let parsed = parse_flagged(&sta);
        let expected = json(&crate::common::data(&rel));
        let statements = expected.as_array().cloned().unwrap_or_default();
        d.eq(
            format!("{sta}: statements"),
            parsed.statements.len(),
            statements.len(),
        );
        d.eq(format!("{sta}: rejected"), parsed.errors.len(), 0);
        for (i, (st, e)) in parsed.statements.iter().zip(&statements).enumerate() {
            let w = format!("{sta} #{i}");
            d.eq(
                format!("{w} id"),
                charset(st.id.clone()),
                charset(s(&e["transaction_ref_no"])),
            );
            d.eq(
                format!("{w} related"),
                st.related_reference.clone(),
                s(&e["ref_to_related_msg"]),
            );
            d.eq(
                format!("{w} account"),
                Some(st.account.clone()),
                s(&e["account_id"]),
            );
            let seq = match (s(&e["statement_no"]), s(&e["sequence_no"])) {
                (Some(n), Some(q)) => Some(format!("{n}/{q}")),
                (n, _) => n,
            };
            d.eq(format!("{w} sequence"), st.sequence_number.clone(), seq);
            balance(
                &mut d,
                &format!("{w} opening"),
                st.opening_balance.as_ref(),
                &e["opening_balance"],
            );
            balance(
                &mut d,
                &format!("{w} closing"),
                st.closing_balance.as_ref(),
                &e["closing_balance"],
            );
            balance(
                &mut d,
                &format!("{w} available"),
                st.closing_available_balance.as_ref(),
                &e["closing_available_balance"],
            );
            balance(
                &mut d,
                &format!("{w} forward"),
                st.forward_available_balances.first(),
                &e["forward_available_balance"],
            );
            d.eq(
                format!("{w} statement information"),
                st.information.clone(),
                s(&e["information_to_account_owner"]),
            );
            let lines = e["statement_lines"].as_array().cloned().unwrap_or_default();
            d.eq(format!("{w} lines"), st.transactions.len(), lines.len());
            for (j, (tx, l)) in st.transactions.iter().zip(&lines).enumerate() {
                line(&mut d, &format!("{w} line {j}"), tx, l);
            }
        }
    }
    d.check(KNOWN);
}

/// Deviations where the expected file keeps less than we do; each is explained in README.md
/// ("Comparison findings").
const KNOWN: &[&str] = &[
    // mt940-rs drops a statement-level :86: that comes before the first :61: (Danske Bank).
    "statement information: ours Some(\"For your inform. IBAN no.:",
    // mt940-rs glues consecutive :86: fields without a separator; we keep one line each.
    "MT940_FI_Example.sta #0 line 0 information",
    // The expected file lost the wrapped last line of ?38 here (not in the next, identical
    // transaction): the Polish IBAN has 28 characters, PL081060007600007777777 77777.
    "cmxl/mt940_2.sta #0 line 0 ?38",
];
