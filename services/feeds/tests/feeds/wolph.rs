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

/// The text with each line's trailing blanks and blank lines removed (wolph drops them).
fn lines_trimmed(t: &str) -> String {
    t.lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
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
    // For German ?-structured lines wolph replaces the :61: reference by the :86: KREF+.
    if e.get("transaction_code").is_none() {
        d.eq(
            format!("{w} customer ref"),
            tx.customer_reference.clone(),
            opt(&e["customer_reference"]),
        );
    }
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
            // wolph leaves `purpose` empty without SVWZ+; we then keep the whole purpose text.
            if key == "purpose" && e[key].is_null() {
                continue;
            }
            d.eq(format!("{w} {key}"), ours, opt(&e[key]));
        }
    }
}

/// Last value of a statement field over the file (wolph keeps the last one it saw).
fn last<'a, T>(statements: &'a [Statement], f: impl Fn(&'a Statement) -> Option<T>) -> Option<T> {
    statements.iter().rev().find_map(f)
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
    let bal = |pick: fn(&Statement) -> Option<&Balance>| st.iter().rev().find_map(pick);
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

/// A transaction built from loose `:61:`/`:86:` fields with the field-level API.
fn loose_transaction(
    line: mt940::StatementLine,
    info: Option<mt940::Information>,
    text: Option<String>,
) -> Transaction {
    let mut tx = Transaction::new(line.amount, "");
    tx.value_date = line.value_date;
    tx.booking_date = line.entry_date;
    tx.reversal = line.reversal;
    tx.bank_transaction_code = Some(line.transaction_type);
    tx.customer_reference = Some(line.customer_reference).filter(|r| !r.is_empty());
    tx.bank_reference = line.bank_reference.filter(|r| !r.is_empty());
    if let Some(f) = line.funds_code {
        tx.extra.insert("funds_code".into(), f.to_string());
    }
    if !line.supplementary_details.is_empty() {
        tx.extra.insert(
            "supplementary_details".into(),
            line.supplementary_details.join("\n"),
        );
    }
    if let Some(i) = info {
        tx.remittance_information = i.remittance;
        tx.counterparty_name = i.counterparty_name;
        tx.counterparty_account = i.counterparty_account;
        tx.counterparty_bank = i.counterparty_bank;
        tx.end_to_end_id = i.end_to_end_id;
        tx.extra.extend(i.extra);
    }
    tx.description = text;
    tx
}

/// A file of loose fields (no complete statement): check the last field of each tag, as
/// wolph keeps the last one it saw.
fn fragment(d: &mut Diffs, sta: &str, e: &Value) {
    let bytes = read(sta);
    let fields: Vec<Field> = mt940::fields(&bytes).into_iter().flatten().collect();
    let value = |tag: &str| {
        fields.iter().rfind(|f| f.tag == tag).map(|f| {
            let raw = String::from_utf8_lossy(bytes.get(f.start..f.end).unwrap_or_default());
            raw.replace("\r\n", "\n").trim_end().to_string()
        })
    };
    let data = &e["data"];
    let check_balance = |d: &mut Diffs, tag: &str, key: &str| {
        if let Some(v) = value(tag) {
            match mt940::parse_balance(&v) {
                Ok(b) => balance(d, &format!("{sta} :{tag}:"), Some(&b), &data[key]),
                Err(err) => d.0.push(format!("{sta} :{tag}: {err}")),
            }
        }
    };
    check_balance(d, "60F", "final_opening_balance");
    check_balance(d, "62F", "final_closing_balance");
    check_balance(d, "64", "available_balance");
    if let Some(v) = value("20") {
        d.eq(
            format!("{sta} :20:"),
            Some(v),
            opt(&data["transaction_reference"]),
        );
    }
    if let Some(v) = value("25") {
        d.eq(
            format!("{sta} :25:"),
            Some(v),
            opt(&data["account_identification"]),
        );
    }
    if let Some(v) = value("28C").or_else(|| value("28")) {
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
    if let Some(v) = value("NS") {
        d.eq(format!("{sta} :NS:"), Some(v), s(&data["non_swift"]));
    }
    let text86 = value("86");
    if let (Some(v), Some(t)) = (value("61"), e["transactions"].get(0)) {
        match mt940::parse_statement_line(&v) {
            Ok(line) => {
                let info = text86.as_deref().map(mt940::parse_information);
                let mut tx = loose_transaction(line, info, text86.clone());
                tx.currency = t["currency"].as_str().unwrap_or_default().to_string();
                transaction(d, &format!("{sta} :61:"), &tx, t);
            }
            Err(err) => d.0.push(format!("{sta} :61: {err}")),
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
const KNOWN: &[&str] = &[
    // `RC` is a reversal of a credit, i.e. a debit; wolph books it as a credit. With our sign
    // the statement's balance chain holds, with wolph's it is 409.76 EUR off.
    "sepa_mt9401.sta tx 5 amount",
    "sepa_mt9401.sta tx 18 amount",
    // ?60–?63 continue the purpose (?20–?29) in the DK format; wolph leaves them out of the
    // purpose and out of the SEPA keyword split.
    "sepa_mt9401.sta tx 7 purpose",
    "sepa_mt9401.sta tx 30 purpose",
    "sepa_mt9401.sta tx 75 purpose",
    "malformed_details.sta tx 0 purpose",
    "malformed_details.sta tx 0 deviate_applicant",
    "overly_long_details.sta tx 0 purpose",
    "overly_long_details.sta tx 0 deviate_applicant",
    "details_60-63.sta tx 0 end_to_end_reference",
    "details_60-63.sta tx 0 deviate_applicant",
    "multiline.sta tx 0 purpose",
    "transaction_details_wrapped.sta tx 0 purpose",
    // wolph cuts :25: at 35 characters; we keep what the bank wrote.
    "sepa_snippet_broken.sta account",
    "multiline.sta account",
    // wolph attaches the statement-level :86:/:NS: after :62F: (or of the next statement) to
    // the last transaction; it is information to the account owner about the statement.
    "ing.sta tx 6 details",
    "multiline.sta tx 0 details",
    "raphaelm.sta tx 5 non-swift",
    "raphaelm.sta tx 7 non-swift",
    // A :61: after the message terminator `-` with no :20:/:25:: wolph adds it to the
    // previous statement, we report it as a statement without account (an error).
    "multiline.sta transactions",
    // 30 February (a German 30/360 value date) does not exist: wolph silently moves it to the
    // 29th, we leave the value date empty and flag it (R-P5: flagged, never guessed).
    "february_30.sta tx 0 value date",
    "transaction_details_wrapped.sta tx 0 value date",
    "wrapped_timestamp.sta tx 0 value date",
    // `:28:1810118101` has no `/`: wolph guesses 18101/18101, we keep it as written.
    "long_statement_number.sta statement number",
    "long_statement_number.sta sequence number",
    // `:62M:C020315105000,00` lacks the currency: wolph reads currency "105" and amount 0.00.
    "raphaelm.sta final closing amount",
    "raphaelm.sta intermediate closing amount",
];
