//! ISO 20022 camt.052 (account report), camt.053 (statement) and camt.054 (debit/credit
//! notification), schema versions .001.01 to .001.13: elements are matched by local name,
//! and the few places where versions differ (`Sts` vs `Sts/Cd`, `Dbtr/Nm` vs `Dbtr/Pty/Nm`,
//! `BIC` vs `BICFI`, `TxDtls/Amt` vs `AmtDtls/TxAmt/Amt`) accept every variant.

mod entry;
mod xml;

use encoding_rs::UTF_8;
use rust_decimal::Decimal;

use crate::check::{self, BalanceLocations};
use crate::error::{ErrorKind, FeedError, Location};
use crate::model::{Balance, BalanceCheck, Format, SourceSpan, Statement, StatementKind};
use crate::text::Input;
use crate::values::{NumberStyle, iso_date, parse_signed};
use xml::{Item, Node};

/// Message element names (with the V01 spellings) and their record element.
const MESSAGES: &[(&str, &str, StatementKind)] = &[
    ("BkToCstmrStmt", "Stmt", StatementKind::Statement),
    ("BkToCstmrStmtV01", "Stmt", StatementKind::Statement),
    ("BkToCstmrAcctRpt", "Rpt", StatementKind::IntradayReport),
    ("BkToCstmrAcctRptV01", "Rpt", StatementKind::IntradayReport),
    (
        "BkToCstmrDbtCdtNtfctn",
        "Ntfctn",
        StatementKind::Notification,
    ),
    (
        "BkToCstmrDbtCdtNtfctnV01",
        "Ntfctn",
        StatementKind::Notification,
    ),
];

fn expected_message(format: &Format) -> &'static str {
    match format {
        Format::Camt052 => "BkToCstmrAcctRpt",
        Format::Camt054 => "BkToCstmrDbtCdtNtfctn",
        _ => "BkToCstmrStmt",
    }
}

/// An error at an element.
pub(crate) fn at(
    node: &Node,
    path: &str,
    kind: ErrorKind,
    field: &str,
    expected: &str,
    found: &str,
) -> FeedError {
    FeedError::new(
        kind,
        Location::Xml {
            path: path.to_string(),
            line: node.line,
        },
        field,
        expected,
        found,
    )
}

pub(crate) fn parse(input: &Input<'_>, format: &Format) -> Vec<Result<Statement, FeedError>> {
    // ISO 20022 messages are UTF-8; anything else is transcoded first.
    let transcoded;
    let bytes: &[u8] = if input.encoding == UTF_8 {
        &input.bytes
    } else {
        transcoded = input.decode(&input.bytes).into_bytes();
        &transcoded
    };
    let mut results = Vec::new();
    let mut message: Option<(String, StatementKind)> = None;
    let mut counts = 0usize;
    xml::read(bytes, &["Stmt", "Rpt", "Ntfctn"], |item| match item {
        Item::Message(name, line) => {
            let known = MESSAGES.iter().find(|(m, _, _)| *m == name);
            match known {
                Some((m, _, kind)) if m.starts_with(expected_message(format)) => {
                    message = Some((format!("/Document/{name}"), *kind));
                }
                _ => results.push(Err(FeedError::new(
                    ErrorKind::UnknownFormat,
                    Location::Xml {
                        path: format!("/Document/{name}"),
                        line,
                    },
                    "message element",
                    format!("{} for {format}", expected_message(format)),
                    &name,
                ))),
            }
        }
        Item::Record(node) => {
            let Some((prefix, kind)) = &message else {
                return;
            };
            counts += 1;
            let path = format!("{prefix}/{}[{counts}]", node.name);
            results.push(statement(&node, &path, *kind));
        }
        Item::Error { line, message: m } => results.push(Err(FeedError::new(
            ErrorKind::Encoding,
            Location::Line { line },
            "XML",
            "well-formed XML",
            m,
        ))),
    });
    if results.is_empty() {
        let record = match format {
            Format::Camt052 => "Rpt",
            Format::Camt054 => "Ntfctn",
            _ => "Stmt",
        };
        results.push(Err(FeedError::new(
            ErrorKind::MissingField,
            Location::File,
            format!("{} element", record),
            format!("at least one <{record}> in <{}>", expected_message(format)),
            "none",
        )));
    }
    results
}

/// Amount with `Ccy` attribute and a `CdtDbtInd` sibling, signed.
pub(crate) fn signed_amount(
    parent: &Node,
    amt: &Node,
    indicator: Option<&str>,
) -> Option<(Decimal, String)> {
    let value = parse_signed(&amt.text, NumberStyle::XML)?;
    let ccy = amt.attr("Ccy")?.trim().to_string();
    let sign = match indicator.or_else(|| parent.text_at(&["CdtDbtInd"])) {
        Some("DBIT") => -Decimal::ONE,
        Some("CRDT") => Decimal::ONE,
        _ => return None,
    };
    Some((sign * value, ccy))
}

/// `Dt/Dt` or `Dt/DtTm` (the local date part of a date-time).
pub(crate) fn date_of(node: &Node) -> Option<chrono::NaiveDate> {
    node.text_at(&["Dt"])
        .or_else(|| node.text_at(&["DtTm"]))
        .and_then(iso_date)
}

fn statement(node: &Node, path: &str, kind: StatementKind) -> Result<Statement, FeedError> {
    let account = node
        .text_at(&["Acct", "Id", "IBAN"])
        .or_else(|| node.text_at(&["Acct", "Id", "Othr", "Id"]))
        .or_else(|| node.text_at(&["Acct", "Id", "PrtryAcct", "Id"]))
        .ok_or_else(|| {
            at(
                node,
                &format!("{path}/Acct/Id"),
                ErrorKind::MissingField,
                "Acct/Id",
                "an IBAN or Othr/Id identifying the account",
                "",
            )
        })?;
    let servicer = ["BICFI", "BIC", "Nm"]
        .iter()
        .find_map(|n| node.text_at(&["Acct", "Svcr", "FinInstnId", n]))
        .map(str::to_string);
    let mut st = Statement {
        kind,
        id: node.text_at(&["Id"]).map(str::to_string),
        related_reference: None,
        account: account.to_string(),
        servicer,
        currency: node
            .text_at(&["Acct", "Ccy"])
            .unwrap_or_default()
            .to_string(),
        sequence_number: node
            .text_at(&["ElctrncSeqNb"])
            .or_else(|| node.text_at(&["LglSeqNb"]))
            .map(str::to_string),
        created_at: node.text_at(&["CreDtTm"]).map(str::to_string),
        opening_balance: None,
        closing_balance: None,
        closing_available_balance: None,
        forward_available_balances: Vec::new(),
        information: ["AddtlStmtInf", "AddtlRptInf", "AddtlNtfctnInf"]
            .iter()
            .find_map(|n| node.text_at(&[n]))
            .map(str::to_string),
        transactions: Vec::new(),
        balance_check: BalanceCheck::NotChecked {
            reason: match kind {
                StatementKind::Notification => "a camt.054 notification carries no balances".into(),
                _ => "no opening and closing booked balance".into(),
            },
        },
        flags: Vec::new(),
        source: SourceSpan {
            line: node.line,
            end_line: node.end_line,
            start: node.start,
            end: node.end,
            path: Some(path.to_string()),
        },
    };
    let mut locations = BalanceLocations::default();
    for (i, bal) in node.all("Bal").enumerate() {
        balance(
            bal,
            &format!("{path}/Bal[{}]", i + 1),
            &mut st,
            &mut locations,
        );
    }
    if st.currency.is_empty() {
        let from_balance = st
            .opening_balance
            .as_ref()
            .or(st.closing_balance.as_ref())
            .map(|b| b.currency.clone());
        let from_entry = node.all("Ntry").find_map(|n| {
            n.child("Amt")
                .and_then(|a| a.attr("Ccy"))
                .map(str::to_string)
        });
        st.currency = from_balance.or(from_entry).unwrap_or_default();
        if st.currency.is_empty() {
            return Err(at(
                node,
                &format!("{path}/Acct/Ccy"),
                ErrorKind::MissingField,
                "Acct/Ccy",
                "the account currency (Acct/Ccy, a balance or an entry amount)",
                "",
            ));
        }
    }
    for (i, n) in node.all("Ntry").enumerate() {
        let tx = entry::entry(n, &format!("{path}/Ntry[{}]", i + 1), &mut st.flags)?;
        st.transactions.push(tx);
    }
    Ok(check::finish(st, &locations))
}

fn balance(bal: &Node, path: &str, st: &mut Statement, locations: &mut BalanceLocations) {
    let code = bal
        .text_at(&["Tp", "CdOrPrtry", "Cd"])
        .or_else(|| bal.text_at(&["Tp", "CdOrPrtry", "Prtry"]))
        .or_else(|| bal.text_at(&["Tp", "Cd"]))
        .unwrap_or_default();
    let amount = bal
        .child("Amt")
        .and_then(|amt| signed_amount(bal, amt, None));
    let date = bal.child("Dt").and_then(date_of);
    let (Some((amount, currency)), Some(date)) = (amount, date) else {
        st.flags.push(at(
            bal,
            path,
            ErrorKind::InvalidAmount,
            "Bal",
            "Amt with Ccy, CdtDbtInd CRDT/DBIT and Dt/Dt or Dt/DtTm",
            bal.child("Amt").map(|a| a.text.trim()).unwrap_or_default(),
        ));
        return;
    };
    let b = Balance {
        amount,
        currency,
        date,
        intermediate: false,
    };
    let here = Some(Location::Xml {
        path: path.to_string(),
        line: bal.line,
    });
    match code {
        "OPBD" => {
            st.opening_balance = Some(b);
            locations.opening = here;
        }
        "PRCD" if st.opening_balance.is_none() => {
            st.opening_balance = Some(b);
            locations.opening = here;
        }
        "CLBD" => {
            st.closing_balance = Some(b);
            locations.closing = here;
        }
        "CLAV" => st.closing_available_balance = Some(b),
        "FWAV" => st.forward_available_balances.push(b),
        _ => {}
    }
}
