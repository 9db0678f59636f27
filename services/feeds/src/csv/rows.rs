//! Apply a profile to the rows: find the header, map each row to a transaction, group rows by
//! account and currency into statements, and check the running balance column.

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::cells::{Mapped, amount, date, iso_currency, statement_month};
use super::settlement::{self, Totals};
use super::{CsvProfile, Row, clean, tokenize};
use crate::ParseOptions;
use crate::check::{self, BalanceLocations};
use crate::error::{ErrorKind, FeedError, Location};
use crate::model::{Balance, BalanceCheck, SourceSpan, Statement, StatementKind, Transaction};
use crate::text::{Input, bom_len, non_empty};
use crate::values::{NumberStyle, parse_signed};

struct Group {
    st: Statement,
    failed: Option<FeedError>,
    balances: Vec<Option<Decimal>>,
    has_balance_column: bool,
}

pub(super) fn parse(
    input: &Input<'_>,
    profile: &CsvProfile,
    options: &ParseOptions,
) -> Vec<Result<Statement, FeedError>> {
    // The tokenizer works on bytes: the delimiter must be one ASCII character (`,` `;` tab).
    let Some(delimiter) = profile
        .delimiter
        .is_ascii()
        .then(|| u8::try_from(u32::from(profile.delimiter)).ok())
        .flatten()
    else {
        return vec![Err(FeedError::new(
            ErrorKind::Profile,
            Location::File,
            format!("CSV profile {} delimiter", profile.name),
            "one ASCII character such as , ; or a tab",
            profile.delimiter.to_string(),
        ))];
    };
    let rows = tokenize(&input.bytes, delimiter, bom_len(&input.bytes));
    let decoded: Vec<(Vec<String>, &Row)> = rows
        .iter()
        .map(|r| {
            let cells = r.cells.iter().map(|c| clean(&input.decode(c)));
            (
                cells.map(|c| unmark(c, &profile.cell_prefixes)).collect(),
                r,
            )
        })
        .collect();
    let Some(header_at) = decoded.iter().position(|(cells, _)| {
        profile
            .header
            .iter()
            .all(|h| cells.iter().any(|c| c == h.trim()))
    }) else {
        return vec![Err(FeedError::new(
            ErrorKind::MissingField,
            Location::File,
            format!("CSV header of profile {}", profile.name),
            format!("a row with the columns {}", profile.header.join(", ")),
            "no such row",
        ))];
    };
    let preamble: Vec<String> = decoded
        .iter()
        .take(header_at)
        .flat_map(|(c, _)| c.iter().cloned())
        .collect();
    let header: HashMap<String, usize> = decoded
        .get(header_at)
        .map(|(cells, _)| {
            cells
                .iter()
                .enumerate()
                .rev()
                .map(|(i, c)| (c.clone(), i))
                .collect()
        })
        .unwrap_or_default();
    let month = statement_month(&preamble);
    let file_account = options.account.clone().or_else(|| {
        let prefix = profile.account_prefix.as_deref()?;
        // Alipay writes `#账号：[2088…]`: the brackets are not part of the account.
        preamble.iter().find_map(|c| {
            c.strip_prefix(prefix)
                .and_then(|a| non_empty(a.trim_matches(['[', ']'])))
        })
    });
    let default_ccy = options
        .currency
        .clone()
        .or(profile.default_currency.clone())
        .unwrap_or_else(|| "CNY".into());
    let mut groups: Vec<Group> = Vec::new();
    let mut totals = Totals::default();
    for (cells, raw) in decoded.into_iter().skip(header_at + 1) {
        let in_totals = profile
            .settlement
            .as_ref()
            .is_some_and(|spec| totals.take(spec, &cells, raw.line));
        if in_totals
            || cells.iter().all(String::is_empty)
            || cells
                .first()
                .is_some_and(|c| profile.summary_rows.iter().any(|s| c.contains(s.as_str())))
        {
            continue;
        }
        let row = Mapped {
            header: &header,
            cells,
            profile,
            line: raw.line,
        };
        let account = profile
            .account_column
            .as_deref()
            .and_then(|c| row.get(c))
            .map(str::to_string)
            .or(file_account.clone())
            .unwrap_or_default();
        let ccy = profile
            .currency_column
            .as_deref()
            .and_then(|c| row.get(c))
            .map(iso_currency)
            .unwrap_or_else(|| default_ccy.clone());
        let result = transaction(&row, raw, month, &ccy, &account);
        let ccy = match &result {
            Ok((tx, _)) => tx.currency.clone(),
            Err(_) => ccy,
        };
        let group = match groups
            .iter_mut()
            .position(|g| g.st.account == account && g.st.currency == ccy)
        {
            Some(i) => groups.get_mut(i),
            None => {
                let mut g = new_group(account, ccy, raw, profile);
                g.has_balance_column = profile
                    .balance
                    .as_deref()
                    .is_some_and(|c| header.contains_key(c));
                groups.push(g);
                groups.last_mut()
            }
        };
        let Some(group) = group else { continue };
        group.st.source.end_line = raw.end_line;
        group.st.source.end = raw.end;
        match result {
            Ok((tx, balance)) => {
                group.st.transactions.push(tx);
                group.balances.push(balance);
            }
            Err(e) => {
                group.failed.get_or_insert(e);
            }
        }
    }
    if groups.is_empty() {
        return vec![Err(FeedError::new(
            ErrorKind::MissingField,
            Location::Line {
                line: u32::try_from(header_at + 1).unwrap_or(u32::MAX),
            },
            "CSV rows",
            "at least one transaction row after the header",
            "none",
        ))];
    }
    if let Some(spec) = &profile.settlement {
        // R-P7: the report's own totals must agree with its rows.
        let txs: Vec<&Transaction> = groups.iter().flat_map(|g| &g.st.transactions).collect();
        let problems = totals.check(spec, &txs);
        for g in &mut groups {
            g.st.flags.extend(problems.iter().cloned());
        }
    }
    groups.into_iter().map(finish).collect()
}

/// A cell without the spreadsheet text marks the profile lists (WeChat's backtick).
fn unmark(cell: String, prefixes: &[String]) -> String {
    match prefixes.iter().find_map(|p| cell.strip_prefix(p.as_str())) {
        Some(rest) => rest.trim().to_string(),
        None => cell,
    }
}

fn new_group(account: String, currency: String, row: &Row, profile: &CsvProfile) -> Group {
    let (kind, reason) = match profile.settlement {
        Some(_) => (
            StatementKind::Settlement,
            "a settlement report carries no balances",
        ),
        None => (StatementKind::Statement, "the export has no balance column"),
    };
    Group {
        st: Statement {
            kind,
            id: None,
            related_reference: None,
            account,
            servicer: None,
            currency,
            sequence_number: None,
            created_at: None,
            opening_balance: None,
            closing_balance: None,
            closing_available_balance: None,
            forward_available_balances: Vec::new(),
            information: None,
            transactions: Vec::new(),
            balance_check: BalanceCheck::NotChecked {
                reason: reason.into(),
            },
            flags: Vec::new(),
            source: SourceSpan {
                line: row.line,
                end_line: row.end_line,
                start: row.start,
                end: row.end,
                path: None,
            },
        },
        failed: None,
        balances: Vec::new(),
        has_balance_column: false,
    }
}

fn transaction(
    row: &Mapped<'_>,
    raw: &Row,
    month: Option<(i32, u32)>,
    ccy: &str,
    account: &str,
) -> Result<(Transaction, Option<Decimal>), FeedError> {
    let p = row.profile;
    let (amount, cell_ccy) = amount(row)?;
    let mut tx = Transaction::new(amount, cell_ccy.unwrap_or_else(|| ccy.to_string()));
    tx.booking_date = date(row, &p.booking_date, month)?;
    if let Some(spec) = &p.value_date {
        tx.value_date = date(row, spec, month)?;
    }
    if tx.booking_date.is_none() && tx.value_date.is_none() {
        return Err(row.error(
            ErrorKind::MissingField,
            &p.booking_date.column,
            "a date",
            "",
        ));
    }
    let text = |c: &Option<String>| c.as_deref().and_then(|c| row.get(c)).map(str::to_string);
    tx.counterparty_name = text(&p.counterparty_name);
    tx.counterparty_account = text(&p.counterparty_account);
    tx.counterparty_bank = text(&p.counterparty_bank);
    tx.bank_reference = text(&p.bank_reference);
    tx.bank_transaction_code = text(&p.bank_transaction_code);
    tx.payment_reference = p
        .payment_reference
        .iter()
        .find_map(|c| row.get(c))
        .map(str::to_string);
    tx.remittance_information = row.joined(&p.remittance);
    tx.description = row.joined(&p.description);
    for column in &p.extra {
        if let Some(v) = row.get(column) {
            tx.extra.insert(column.clone().into(), v.to_string());
        }
    }
    if let Some(spec) = &p.settlement {
        settlement::apply(spec, row, &mut tx, account)?;
    }
    tx.source = SourceSpan {
        line: raw.line,
        end_line: raw.end_line,
        start: raw.start,
        end: raw.end,
        path: None,
    };
    // A balance cell that is not a number (ICBC masks it as xx,yyyy.zz) disables the check.
    let balance = p
        .balance
        .as_deref()
        .and_then(|c| row.get(c))
        .and_then(|b| parse_signed(b, NumberStyle::DOT));
    Ok((tx, balance))
}

/// Running balance: rows are in date order (ascending) or newest first (descending); the
/// order that fits the first rows is checked for every row.
fn finish(mut g: Group) -> Result<Statement, FeedError> {
    if let Some(e) = g.failed {
        return Err(e);
    }
    let balances: Option<Vec<Decimal>> = g.balances.iter().copied().collect();
    let mut locations = BalanceLocations::default();
    if let (Some(bal), false) = (balances, g.st.transactions.is_empty()) {
        let amounts: Vec<Decimal> = g.st.transactions.iter().map(|t| t.amount).collect();
        let steps = |desc: bool| {
            (1..bal.len()).find(|&i| {
                let (prev, cur) = (
                    bal.get(i - 1).copied().unwrap_or_default(),
                    bal.get(i).copied().unwrap_or_default(),
                );
                let amt = amounts
                    .get(if desc { i - 1 } else { i })
                    .copied()
                    .unwrap_or_default();
                if desc {
                    cur.checked_add(amt) != Some(prev)
                } else {
                    prev.checked_add(amt) != Some(cur)
                }
            })
        };
        let (asc, desc) = (steps(false), steps(true));
        let descending = desc.is_none() || (asc.is_some() && desc > asc);
        let (first, last) = if descending {
            (bal.len().saturating_sub(1), 0)
        } else {
            (0, bal.len().saturating_sub(1))
        };
        let tx_at = |i: usize| g.st.transactions.get(i);
        let date_at = |i: usize| tx_at(i).and_then(Transaction::date);
        if let (Some(open_date), Some(close_date)) = (date_at(first), date_at(last)) {
            let opening = bal
                .get(first)
                .copied()
                .unwrap_or_default()
                .checked_sub(amounts.get(first).copied().unwrap_or_default())
                .unwrap_or_default();
            let ccy = g.st.currency.clone();
            g.st.opening_balance = Some(Balance {
                amount: opening,
                currency: ccy.clone(),
                date: open_date,
                intermediate: false,
            });
            g.st.closing_balance = Some(Balance {
                amount: bal.get(last).copied().unwrap_or_default(),
                currency: ccy,
                date: close_date,
                intermediate: false,
            });
        }
        if let Some(i) = if descending { desc } else { asc } {
            let line = tx_at(i).map_or(0, |t| t.source.line);
            let prev = bal.get(i - 1).copied().unwrap_or_default();
            let expected = if descending {
                format!(
                    "{} (balance of the row above minus that row's amount)",
                    prev.checked_sub(amounts.get(i - 1).copied().unwrap_or_default())
                        .unwrap_or_default()
                )
            } else {
                format!(
                    "{} (previous balance plus this amount)",
                    prev.checked_add(amounts.get(i).copied().unwrap_or_default())
                        .unwrap_or_default()
                )
            };
            g.st.flags.push(FeedError::at_line(
                ErrorKind::BalanceMismatch,
                line,
                "running balance",
                expected,
                bal.get(i).map(|b| b.to_string()).unwrap_or_default(),
            ));
        }
        locations.closing = Some(Location::Line {
            line: tx_at(last).map_or(0, |t| t.source.line),
        });
    } else if g.has_balance_column {
        g.st.balance_check = BalanceCheck::NotChecked {
            reason: "the balance column is not a number on every row (masked or empty)".into(),
        };
    }
    Ok(check::finish(g.st, &locations))
}
