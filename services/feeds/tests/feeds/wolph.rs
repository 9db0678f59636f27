//! `wolph-mt940/**/*.yml`: dumps of the Python `mt-940` package's objects (converted to JSON
//! by `tests/expected/convert.py`). Full files are compared statement by statement; fragment
//! files (a few tags, no statement) through the field-level API in `feeds::mt940`.

use feeds::mt940::{self, Field};
use feeds::{Balance, Statement, Transaction};
use rust_decimal::Decimal;
use serde_json::Value;

use crate::common::{Diffs, dec, expected, files, read, s};

fn money(v: &Value) -> Option<(Decimal, String)> {
    let amount = v["amount"].as_str()?;
    Some((
        dec(amount),
        v["currency"].as_str().unwrap_or_default().to_string(),
    ))
}

fn balance(d: &mut Diffs, what: &str, ours: Option<&Balance>, theirs: &Value) {
    if theirs.is_null() {
        return;
    }
    let Some(b) = ours else {
        d.0.push(format!("{what}: missing, expected {theirs}"));
        return;
    };
    d.eq(
        format!("{what} amount"),
        Some((b.amount, b.currency.clone())),
        money(theirs),
    );
    d.eq(
        format!("{what} date"),
        Some(b.date.to_string()),
        s(&theirs["date"]),
    );
}

/// The text with each line's trailing blanks removed (wolph strips them).
fn lines_trimmed(t: &str) -> String {
    t.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

fn opt(v: &Value) -> Option<String> {
    s(v).map(|t| t.trim().to_string()).filter(|t| !t.is_empty())
}

fn transaction(d: &mut Diffs, w: &str, tx: &Transaction, e: &Value) {
    d.eq(
        format!("{w} amount"),
        Some((tx.amount, tx.currency.clone())),
        money(&e["amount"]),
    );
    d.eq(
        format!("{w} value date"),
        tx.value_date.map(|x| x.to_string()),
        s(&e["date"]),
    );
    d.eq(
        format!("{w} entry date"),
        tx.booking_date.map(|x| x.to_string()),
        s(&e["entry_date"]),
    );
    d.eq(
        format!("{w} reversal"),
        tx.reversal,
        e["status"].as_str().is_some_and(|x| x.starts_with('R')),
    );
    d.eq(
        format!("{w} funds code"),
        tx.extra.get("funds_code").cloned(),
        s(&e["funds_code"]),
    );
    d.eq(
        format!("{w} type"),
        tx.bank_transaction_code.clone(),
        opt(&e["id"]),
    );
    d.eq(
        format!("{w} customer ref"),
        tx.customer_reference.clone(),
        opt(&e["customer_reference"]),
    );
    d.eq(
        format!("{w} bank ref"),
        tx.bank_reference.clone(),
        opt(&e["bank_reference"]),
    );
    d.eq(
        format!("{w} supplementary"),
        tx.extra.get("supplementary_details").cloned(),
        opt(&e["extra_details"]),
    );
    if let Some(details) = s(&e["transaction_details"]) {
        d.eq(
            format!("{w} details"),
            tx.description.as_deref().map(lines_trimmed),
            Some(lines_trimmed(&details)).filter(|t| !t.is_empty()),
        );
    }
    if !e["non_swift"].is_null() {
        d.eq(
            format!("{w} non-swift"),
            tx.extra.get("non_swift").cloned(),
            s(&e["non_swift"]),
        );
    }
    // German ?-structure and SEPA keywords, where wolph reads them.
    let x = |k: &str| tx.extra.get(k).cloned();
    let pairs: [(&str, Option<String>); 11] = [
        ("transaction_code", x("gvc")),
        ("posting_text", x("posting_text")),
        ("prima_nota", x("prima_nota")),
        ("purpose", tx.remittance_information.clone()),
        ("applicant_name", tx.counterparty_name.clone()),
        ("applicant_iban", tx.counterparty_account.clone()),
        ("applicant_bin", tx.counterparty_bank.clone()),
        ("end_to_end_reference", tx.end_to_end_id.clone()),
        ("return_debit_notes", x("text_key_extension")),
        ("deviate_applicant", x("ultimate_debtor")),
        ("applicant_creditor_id", x("creditor_id")),
    ];
    if e.get("transaction_code").is_some() {
        for (key, ours) in pairs {
            d.eq(format!("{w} {key}"), ours, opt(&e[key]));
        }
    }
}

/// Last value of a statement field over the file (wolph keeps the last one it saw).
fn last<'a, T>(statements: &'a [Statement], f: impl Fn(&'a Statement) -> Option<T>) -> Option<T> {
    statements.iter().filter_map(f).last()
}

fn full_file(d: &mut Diffs, sta: &str, e: &Value) {
    let parsed = feeds::parse_file(sta, &read(sta), None, &crate::common::flag_options())
        .unwrap_or_else(|err| panic!("{sta}: {err}"));
    let st = &parsed.statements;
    let data = &e["data"];
    d.eq(
        format!("{sta} reference"),
        last(st, |s| s.id.clone()),
        opt(&data["transaction_reference"]),
    );
    d.eq(
        format!("{sta} account"),
        last(st, |s| Some(s.account.clone())),
        opt(&data["account_identification"]),
    );
    let (number, sequence) = match last(st, |s| s.sequence_number.clone()) {
        Some(n) => match n.split_once('/') {
            Some((a, b)) => (Some(a.to_string()), Some(b.to_string())),
            None => (Some(n), None),
        },
        None => (None, None),
    };
    d.eq(
        format!("{sta} statement number"),
        number,
        opt(&data["statement_number"]),
    );
    if !data["sequence_number"].is_null() {
        d.eq(
            format!("{sta} sequence number"),
            sequence,
            opt(&data["sequence_number"]).filter(|q| q != "None"),
        );
    }
    let bal = |pick: fn(&Statement) -> Option<&Balance>| st.iter().filter_map(pick).last();
    balance(
        d,
        &format!("{sta} final opening"),
        bal(|s| s.opening_balance.as_ref().filter(|b| !b.intermediate)),
        &data["final_opening_balance"],
    );
    balance(
        d,
        &format!("{sta} intermediate opening"),
        bal(|s| s.opening_balance.as_ref().filter(|b| b.intermediate)),
        &data["intermediate_opening_balance"],
    );
    balance(
        d,
        &format!("{sta} final closing"),
        bal(|s| s.closing_balance.as_ref().filter(|b| !b.intermediate)),
        &data["final_closing_balance"],
    );
    balance(
        d,
        &format!("{sta} intermediate closing"),
        bal(|s| s.closing_balance.as_ref().filter(|b| b.intermediate)),
        &data["intermediate_closing_balance"],
    );
    balance(
        d,
        &format!("{sta} available"),
        bal(|s| s.closing_available_balance.as_ref()),
        &data["available_balance"],
    );
    balance(
        d,
        &format!("{sta} forward available"),
        bal(|s| s.forward_available_balances.last()),
        &data["forward_available_balance"],
    );
    let ours: Vec<&Transaction> = st.iter().flat_map(|s| &s.transactions).collect();
    let theirs = e["transactions"].as_array().cloned().unwrap_or_default();
    d.eq(format!("{sta} transactions"), ours.len(), theirs.len());
    for (i, (tx, t)) in ours.iter().zip(&theirs).enumerate() {
        transaction(d, &format!("{sta} tx {i}"), tx, t);
    }
}

/// A file of loose fields (no complete statement): check each field the dump names.
fn fragment(d: &mut Diffs, sta: &str, e: &Value) {
    let fields: Vec<Field> = mt940::fields(&read(sta)).into_iter().flatten().collect();
    let bytes = read(sta);
    let value = |f: &Field| {
        String::from_utf8_lossy(bytes.get(f.start..f.end).unwrap_or_default())
            .trim_end()
            .to_string()
    };
    let data = &e["data"];
    for f in &fields {
        let v = value(f);
        let check_balance = |d: &mut Diffs, key: &str| match mt940::parse_balance(&v) {
            Ok(b) => balance(d, &format!("{sta} :{}:", f.tag), Some(&b), &data[key]),
            Err(err) => d.0.push(format!("{sta} :{}: {err}", f.tag)),
        };
        match f.tag.as_str() {
            "20" => d.eq(
                format!("{sta} :20:"),
                Some(v.trim().to_string()),
                opt(&data["transaction_reference"]),
            ),
            "25" => d.eq(
                format!("{sta} :25:"),
                Some(v.trim().to_string()),
                opt(&data["account_identification"]),
            ),
            "28C" | "28" => {
                let (n, q) = v.split_once('/').map_or((v.clone(), None), |(a, b)| {
                    (a.to_string(), Some(b.to_string()))
                });
                d.eq(
                    format!("{sta} :28C:"),
                    (Some(n), q),
                    (
                        opt(&data["statement_number"]),
                        opt(&data["sequence_number"]),
                    ),
                );
            }
            "60F" if f == fields.iter().rfind(|x| x.tag == "60F").unwrap_or(f) => {
                check_balance(d, "final_opening_balance")
            }
            "62F" => check_balance(d, "final_closing_balance"),
            "64" => check_balance(d, "available_balance"),
            "61" => match (mt940::parse_statement_line(&v), e["transactions"].get(0)) {
                (Ok(l), Some(t)) => {
                    d.eq(
                        format!("{sta} :61: amount"),
                        Some(l.amount),
                        money(&t["amount"]).map(|m| m.0),
                    );
                    d.eq(
                        format!("{sta} :61: date"),
                        l.value_date.map(|x| x.to_string()),
                        s(&t["date"]),
                    );
                    d.eq(
                        format!("{sta} :61: type"),
                        Some(l.transaction_type),
                        opt(&t["id"]),
                    );
                    d.eq(
                        format!("{sta} :61: customer ref"),
                        Some(l.customer_reference).filter(|r| !r.is_empty()),
                        opt(&t["customer_reference"]),
                    );
                }
                (Err(err), _) => d.0.push(format!("{sta} :61: {err}")),
                _ => {}
            },
            "NS" => d.eq(
                format!("{sta} :NS:"),
                Some(v.clone()),
                s(&data["non_swift"]),
            ),
            _ => {}
        }
    }
}

#[test]
fn wolph_mt940_dumps_match() {
    let mut d = Diffs::default();
    for rel in files("wolph-mt940", ".yml") {
        let stem = rel.trim_end_matches(".yml");
        let e = expected(&format!("{stem}.json"));
        if e.get("raw_string").is_some() {
            continue; // transaction_details.yml holds a bare string, no statement
        }
        let sta = format!("{stem}.sta");
        if !crate::common::data(&sta).exists() {
            d.0.push(format!("{rel}: no sample beside it"));
            continue;
        }
        let parsed = feeds::parse_file(&sta, &read(&sta), None, &crate::common::flag_options());
        match parsed {
            Ok(p) if !p.statements.is_empty() => full_file(&mut d, &sta, &e),
            _ => fragment(&mut d, &sta, &e),
        }
    }
    d.check(KNOWN);
}

/// Where wolph's dump is wrong or reads less; explained in README.md ("Comparison findings").
const KNOWN: &[&str] = &[];
