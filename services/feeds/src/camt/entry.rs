//! One camt `Ntry` (entry) and its `TxDtls` (transaction details).

use super::xml::Node;
use super::{at, date_of, signed_amount};
use crate::error::{ErrorKind, FeedError};
use crate::model::{EntryStatus, Extra, SourceSpan, Transaction, TransactionDetail};

fn text(node: &Node, path: &[&str]) -> Option<String> {
    node.text_at(path).map(str::to_string)
}

/// Map an entry; a missing or malformed amount or indicator rejects the statement.
pub(super) fn entry(
    n: &Node,
    path: &str,
    flags: &mut Vec<FeedError>,
) -> Result<Transaction, FeedError> {
    let amt = n.child("Amt").ok_or_else(|| {
        at(
            n,
            &format!("{path}/Amt"),
            ErrorKind::MissingField,
            "Ntry/Amt",
            "an amount with a Ccy attribute",
            "",
        )
    })?;
    let indicator = n.text_at(&["CdtDbtInd"]);
    if !matches!(indicator, Some("CRDT" | "DBIT")) {
        return Err(at(
            n,
            &format!("{path}/CdtDbtInd"),
            ErrorKind::Syntax,
            "Ntry/CdtDbtInd",
            "CRDT or DBIT",
            indicator.unwrap_or_default(),
        ));
    }
    let (amount, currency) = signed_amount(n, amt, indicator).ok_or_else(|| {
        at(
            amt,
            &format!("{path}/Amt"),
            ErrorKind::InvalidAmount,
            "Ntry/Amt",
            "a decimal amount like 1234.56 with a Ccy attribute",
            amt.text.trim(),
        )
    })?;
    let credit = indicator == Some("CRDT");
    let mut tx = Transaction::new(amount, currency);
    tx.source = SourceSpan {
        line: n.line,
        end_line: n.end_line,
        start: n.start,
        end: n.end,
        path: Some(path.to_string()),
    };
    tx.reversal = matches!(n.text_at(&["RvslInd"]), Some("true" | "1"));
    let status = n
        .text_at(&["Sts", "Cd"])
        .or_else(|| n.text_at(&["Sts"]))
        .unwrap_or("BOOK");
    tx.status = match status {
        "PDNG" => EntryStatus::Pending,
        "INFO" => EntryStatus::Information,
        _ => EntryStatus::Booked,
    };
    for (name, slot) in [
        ("BookgDt", &mut tx.booking_date),
        ("ValDt", &mut tx.value_date),
    ] {
        if let Some(d) = n.child(name) {
            match date_of(d) {
                Some(date) => *slot = Some(date),
                None => flags.push(at(
                    d,
                    &format!("{path}/{name}"),
                    ErrorKind::InvalidDate,
                    &format!("Ntry/{name}"),
                    "Dt (YYYY-MM-DD) or DtTm with an existing date",
                    d.text.trim(),
                )),
            }
        }
    }
    tx.bank_reference = text(n, &["AcctSvcrRef"]);
    if let Some(r) = text(n, &["NtryRef"]) {
        tx.extra.insert("entry_reference".into(), r);
    }
    tx.bank_transaction_code = bank_code(n);
    if let Some(p) = text(n, &["BkTxCd", "Prtry", "Cd"])
        && tx.bank_transaction_code.as_deref() != Some(p.as_str())
    {
        tx.extra.insert("proprietary_code".into(), p);
    }
    tx.description = text(n, &["AddtlNtryInf"]);
    let details: Vec<&Node> = n.all("NtryDtls").flat_map(|d| d.all("TxDtls")).collect();
    if let Some(count) = n
        .all("NtryDtls")
        .find_map(|d| d.text_at(&["Btch", "NbOfTxs"]))
    {
        tx.extra.insert("batch_count".into(), count.to_string());
    }
    match details.as_slice() {
        [] => {}
        [one] => {
            let d = detail(one, &format!("{path}/NtryDtls/TxDtls[1]"), credit);
            if tx.bank_transaction_code.is_none() {
                tx.bank_transaction_code = bank_code(one);
            }
            lift(&mut tx, d);
        }
        many => {
            tx.details = many
                .iter()
                .enumerate()
                .map(|(i, d)| detail(d, &format!("{path}/NtryDtls/TxDtls[{}]", i + 1), credit))
                .collect();
        }
    }
    Ok(tx)
}

/// `Domn/Cd` + `Fmly/Cd` + `Fmly/SubFmlyCd` as `PMNT/RCDT/ESCT`, else the proprietary code.
fn bank_code(n: &Node) -> Option<String> {
    let domain = n.at(&["BkTxCd", "Domn"]);
    match domain.and_then(|d| d.text_at(&["Cd"])) {
        Some(cd) => {
            let family = domain
                .and_then(|d| d.text_at(&["Fmly", "Cd"]))
                .unwrap_or_default();
            let sub = domain
                .and_then(|d| d.text_at(&["Fmly", "SubFmlyCd"]))
                .unwrap_or_default();
            Some([cd, family, sub].join("/"))
        }
        None => text(n, &["BkTxCd", "Prtry", "Cd"]),
    }
}

/// Name of a party: `Nm` (up to .07), `Pty/Nm` or a financial institution `Agt/FinInstnId/Nm`
/// (.08 and later).
fn party_name(parties: &Node, role: &str) -> Option<String> {
    text(parties, &[role, "Nm"])
        .or_else(|| text(parties, &[role, "Pty", "Nm"]))
        .or_else(|| text(parties, &[role, "Agt", "FinInstnId", "Nm"]))
}

fn account(parties: &Node, role: &str) -> Option<String> {
    text(parties, &[role, "Id", "IBAN"]).or_else(|| text(parties, &[role, "Id", "Othr", "Id"]))
}

fn agent(n: &Node, role: &str) -> Option<String> {
    ["BICFI", "BIC", "Nm"]
        .iter()
        .find_map(|f| text(n, &["RltdAgts", role, "FinInstnId", f]))
        .or_else(|| text(n, &["RltdAgts", role, "FinInstnId", "ClrSysMmbId", "MmbId"]))
}

/// One `TxDtls`; the counterparty is the debtor of a credit and the creditor of a debit.
fn detail(d: &Node, path: &str, credit: bool) -> TransactionDetail {
    let (role, acct, agt) = if credit {
        ("Dbtr", "DbtrAcct", "DbtrAgt")
    } else {
        ("Cdtr", "CdtrAcct", "CdtrAgt")
    };
    let parties = d.child("RltdPties");
    let amount_node = d
        .child("Amt")
        .or_else(|| d.at(&["AmtDtls", "TxAmt", "Amt"]))
        .or_else(|| d.at(&["AmtDtls", "InstdAmt", "Amt"]));
    let indicator = if credit { "CRDT" } else { "DBIT" };
    let signed = amount_node
        .and_then(|a| signed_amount(d, a, d.text_at(&["CdtDbtInd"]).or(Some(indicator))));
    let rmt = d.child("RmtInf");
    let unstructured: Vec<&str> = rmt
        .iter()
        .flat_map(|r| r.all("Ustrd"))
        .map(|u| u.text.trim())
        .filter(|t| !t.is_empty())
        .collect();
    let additional: Vec<&str> = rmt
        .iter()
        .flat_map(|r| r.all("Strd"))
        .filter_map(|s| s.text_at(&["AddtlRmtInf"]))
        .collect();
    let creditor_ref = rmt
        .iter()
        .flat_map(|r| r.all("Strd"))
        .find_map(|s| s.text_at(&["CdtrRefInf", "Ref"]));
    let remittance = if unstructured.is_empty() {
        additional.join("\n")
    } else {
        unstructured.join("\n")
    };
    TransactionDetail {
        amount: signed.as_ref().map(|(a, _)| *a),
        currency: signed.map(|(_, c)| c),
        counterparty_name: parties.and_then(|p| party_name(p, role)),
        counterparty_account: parties.and_then(|p| account(p, acct)),
        counterparty_bank: agent(d, agt),
        end_to_end_id: text(d, &["Refs", "EndToEndId"]),
        bank_reference: text(d, &["Refs", "AcctSvcrRef"]),
        payment_reference: creditor_ref.map(str::to_string),
        remittance_information: crate::text::non_empty(&remittance)
            .or_else(|| creditor_ref.map(str::to_string)),
        extra: detail_extra(d, credit),
        source: SourceSpan {
            line: d.line,
            end_line: d.end_line,
            start: d.start,
            end: d.end,
            path: Some(path.to_string()),
        },
    }
}

/// References and codes of a `TxDtls` that have no field of their own in the model.
fn detail_extra(d: &Node, credit: bool) -> Extra {
    let (ultimate, other) = if credit {
        ("UltmtDbtr", "Cdtr")
    } else {
        ("UltmtCdtr", "Dbtr")
    };
    let mut extra = Extra::new();
    let fields: [(&str, &[&str]); 12] = [
        ("uetr", &["Refs", "UETR"]),
        ("instruction_id", &["Refs", "InstrId"]),
        ("transaction_id", &["Refs", "TxId"]),
        ("message_id", &["Refs", "MsgId"]),
        ("payment_information_id", &["Refs", "PmtInfId"]),
        ("mandate_id", &["Refs", "MndtId"]),
        ("cheque_number", &["Refs", "ChqNb"]),
        ("clearing_system_reference", &["Refs", "ClrSysRef"]),
        ("purpose_code", &["Purp", "Cd"]),
        ("additional_information", &["AddtlTxInf"]),
        ("return_reason", &["RtrInf", "Rsn", "Cd"]),
        ("ultimate_party", &["RltdPties", ultimate, "Nm"]),
    ];
    for (key, path) in fields {
        if let Some(v) = text(d, path) {
            extra.insert(key.into(), v);
        }
    }
    if let Some(v) = text(d, &["RltdPties", ultimate, "Pty", "Nm"]) {
        extra.entry("ultimate_party".into()).or_insert(v);
    }
    // The account owner's side, as the bank wrote it (for checking the receiving account).
    if let Some(v) = d.child("RltdPties").and_then(|p| party_name(p, other)) {
        extra.insert("own_party".into(), v);
    }
    extra
}

/// A single-detail entry: the detail's fields become the transaction's.
fn lift(tx: &mut Transaction, d: TransactionDetail) {
    tx.counterparty_name = d.counterparty_name;
    tx.counterparty_account = d.counterparty_account;
    tx.counterparty_bank = d.counterparty_bank;
    tx.end_to_end_id = d.end_to_end_id;
    if tx.bank_reference.is_none() {
        tx.bank_reference = d.bank_reference;
    }
    tx.payment_reference = d.payment_reference;
    tx.remittance_information = d.remittance_information;
    tx.extra.extend(d.extra);
    if let (Some(amount), Some(ccy)) = (d.amount, d.currency)
        && (ccy != tx.currency || amount != tx.amount)
    {
        // The instructed amount differs (charges, currency conversion): keep it for audit.
        tx.extra.insert(
            "detail_amount".into(),
            format!("{} {ccy}", amount.normalize()),
        );
    }
}
