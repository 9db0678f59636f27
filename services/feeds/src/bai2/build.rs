//! Walk BAI2 records into statements and check the control totals.

use rust_decimal::Decimal;

use super::{Fields, Group, Record, amount, error, skip_funds};
use crate::ParseOptions;
use crate::check::{self, BalanceLocations};
use crate::error::{ErrorKind, FeedError, Location};
use crate::model::{Balance, BalanceCheck, SourceSpan, Statement, StatementKind, Transaction};
use crate::text::non_empty;
use crate::values::yymmdd;

/// An account being read.
struct Draft {
    st: Statement,
    failed: Option<FeedError>,
    control: Decimal,
    records: u64,
    locations: BalanceLocations,
}

/// Control-total addition; a total beyond `Decimal`'s range is nonsense anyway and then shows
/// as a mismatch instead of overflowing.
fn add(a: Decimal, b: Decimal) -> Decimal {
    a.checked_add(b).unwrap_or(Decimal::MAX)
}

/// Sign of a detail type code: 100–399 and 900–919 are credits, 400–699 and 920–999 debits.
fn direction(code: u32) -> Option<Decimal> {
    match code {
        100..=399 | 900..=919 => Some(Decimal::ONE),
        400..=699 | 920..=999 => Some(Decimal::NEGATIVE_ONE),
        _ => None,
    }
}

pub(super) fn run(
    records: Vec<Record>,
    options: &ParseOptions,
) -> Vec<Result<Statement, FeedError>> {
    let mut out: Vec<Result<Statement, FeedError>> = Vec::new();
    let mut group = Group::default();
    let mut group_from = 0usize;
    let mut group_sum = Decimal::ZERO;
    let mut file_sum = Decimal::ZERO;
    let mut file_from = 0usize;
    let mut draft: Option<Draft> = None;
    let mut loose: Vec<FeedError> = Vec::new();
    for rec in &records {
        match rec.code.as_str() {
            // A new file header (several files may be concatenated): trailers count anew.
            "01" => {
                file_from = out.len();
                file_sum = Decimal::ZERO;
            }
            "02" => {
                let mut f = Fields::new(&rec.segments);
                let _receiver = f.next();
                let _originator = f.next();
                let _status = f.next();
                let date = f.next().unwrap_or_default().trim();
                let _time = f.next();
                let ccy = f.next().map(str::trim).filter(|c| !c.is_empty());
                group = Group {
                    as_of: yymmdd(date.as_bytes()).ok(),
                    currency: ccy.map(str::to_string),
                };
                if group.as_of.is_none() {
                    loose.push(error(
                        rec,
                        ErrorKind::InvalidDate,
                        "as-of date",
                        "YYMMDD",
                        date,
                    ));
                }
                group_from = out.len();
                group_sum = Decimal::ZERO;
            }
            "03" => {
                if let Some(d) = draft.take() {
                    out.push(close(d, None));
                }
                draft = Some(open(rec, &group, options));
            }
            "16" => match draft.as_mut() {
                Some(d) => detail(rec, d, &group),
                None => loose.push(error(
                    rec,
                    ErrorKind::Syntax,
                    "position",
                    "a 16 record after an 03 account record",
                    "a detail outside any account",
                )),
            },
            "49" => {
                let mut f = Fields::new(&rec.segments);
                let total = f.next().unwrap_or_default().trim().to_string();
                let count = f.next().unwrap_or_default().trim().to_string();
                match draft.take() {
                    Some(d) => {
                        let ccy = d.st.currency.clone();
                        if let Some(t) = amount(&total, &ccy) {
                            group_sum = add(group_sum, t);
                        }
                        out.push(close(d, Some((rec, total, count))));
                    }
                    None => loose.push(error(
                        rec,
                        ErrorKind::Syntax,
                        "position",
                        "a 49 trailer closing an 03 account",
                        "a trailer without account",
                    )),
                }
            }
            "98" | "99" => {
                if let Some(d) = draft.take() {
                    out.push(close(d, None));
                }
                let (from, sum) = if rec.code == "98" {
                    (group_from, group_sum)
                } else {
                    (file_from, file_sum)
                };
                let mut f = Fields::new(&rec.segments);
                let total = f.next().unwrap_or_default().trim();
                let ccy = group
                    .currency
                    .clone()
                    .or(options.currency.clone())
                    .unwrap_or_else(|| "USD".into());
                if let Some(t) = amount(total, &ccy)
                    && t != sum
                {
                    let e = error(
                        rec,
                        ErrorKind::ControlTotalMismatch,
                        "control total",
                        &format!("the sum of the enclosed trailers, {sum}"),
                        total,
                    );
                    for st in out.iter_mut().skip(from).flatten() {
                        st.flags.push(e.clone());
                    }
                }
                if rec.code == "98" {
                    file_sum = add(file_sum, group_sum);
                }
            }
            other => match draft.as_mut() {
                Some(d) => d.st.flags.push(error(
                    rec,
                    ErrorKind::Syntax,
                    "record type",
                    "01, 02, 03, 16, 88, 49, 98 or 99",
                    other,
                )),
                None => loose.push(error(
                    rec,
                    ErrorKind::Syntax,
                    "record type",
                    "01, 02, 03, 16, 88, 49, 98 or 99",
                    other,
                )),
            },
        }
    }
    if let Some(d) = draft.take() {
        out.push(close(d, None));
    }
    if out.is_empty() && loose.is_empty() {
        loose.push(FeedError::new(
            ErrorKind::MissingField,
            Location::File,
            "BAI2 03 record",
            "at least one account (03 record)",
            "none",
        ));
    }
    out.extend(loose.into_iter().map(Err));
    out
}

fn open(rec: &Record, group: &Group, options: &ParseOptions) -> Draft {
    let mut f = Fields::new(&rec.segments);
    let account = f.next().unwrap_or_default().trim().to_string();
    let ccy = f
        .next()
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .or(group.currency.clone())
        .or(options.currency.clone())
        // BAI2: without a currency in the account or group, amounts are US dollars.
        .unwrap_or_else(|| "USD".into());
    let st = Statement {
        kind: StatementKind::Statement,
        id: None,
        related_reference: None,
        account,
        servicer: None,
        currency: ccy.clone(),
        sequence_number: None,
        created_at: None,
        opening_balance: None,
        closing_balance: None,
        closing_available_balance: None,
        forward_available_balances: Vec::new(),
        information: None,
        transactions: Vec::new(),
        balance_check: BalanceCheck::NotChecked {
            reason: "no opening (010) and closing (015) ledger balance".into(),
        },
        flags: Vec::new(),
        source: SourceSpan {
            line: rec.line,
            end_line: rec.end_line,
            start: rec.start,
            end: rec.end,
            path: None,
        },
    };
    let mut draft = Draft {
        st,
        failed: None,
        control: Decimal::ZERO,
        records: 1 + rec.continuations,
        locations: BalanceLocations::default(),
    };
    if draft.st.account.is_empty() {
        draft.failed = Some(error(
            rec,
            ErrorKind::MissingField,
            "account number",
            "the account number",
            "",
        ));
    }
    // Summary groups: type code, amount, item count, funds type (+ its extra fields).
    loop {
        f.skip_empty_tail();
        let Some(code) = f.next() else { break };
        let code = code.trim();
        let raw = f.next().unwrap_or_default().trim();
        let _count = f.next();
        let funds = f.next().unwrap_or_default();
        skip_funds(&mut f, funds);
        if code.is_empty() && raw.is_empty() {
            continue;
        }
        let Some(value) = (if raw.is_empty() {
            None
        } else {
            amount(raw, &ccy)
        }) else {
            if !raw.is_empty() {
                draft.failed.get_or_insert_with(|| {
                    error(
                        rec,
                        ErrorKind::InvalidAmount,
                        &format!("summary {code} amount"),
                        "digits with an optional sign, decimals implied by the currency",
                        raw,
                    )
                });
            }
            continue;
        };
        draft.control = add(draft.control, value);
        let Some(date) = group.as_of else { continue };
        let balance = Some(Balance {
            amount: value,
            currency: ccy.clone(),
            date,
            intermediate: false,
        });
        let here = Some(Location::Line { line: rec.line });
        match code {
            "010" => {
                draft.st.opening_balance = balance;
                draft.locations.opening = here;
            }
            "015" => {
                draft.st.closing_balance = balance;
                draft.locations.closing = here;
            }
            "045" => draft.st.closing_available_balance = balance,
            _ => {}
        }
    }
    draft
}

fn detail(rec: &Record, d: &mut Draft, group: &Group) {
    d.records += 1 + rec.continuations;
    d.st.source.end_line = rec.end_line;
    d.st.source.end = rec.end;
    let mut f = Fields::new(&rec.segments);
    let code_raw = f.next().unwrap_or_default().trim();
    let raw = f.next().unwrap_or_default().trim();
    let funds = f.next().unwrap_or_default().trim();
    let value_date = skip_funds(&mut f, funds);
    let bank_ref = f.next().and_then(non_empty);
    let customer_ref = f.next().and_then(non_empty);
    let text = f.text();
    let Some(value) = amount(raw, &d.st.currency) else {
        d.failed.get_or_insert_with(|| {
            error(
                rec,
                ErrorKind::InvalidAmount,
                "amount",
                "unsigned digits, decimals implied by the currency",
                raw,
            )
        });
        return;
    };
    d.control = add(d.control, value);
    let sign = match code_raw.parse::<u32>().ok().and_then(direction) {
        Some(s) => s,
        None if value.is_zero() => Decimal::ONE,
        None => {
            d.failed.get_or_insert_with(|| {
                error(
                    rec,
                    ErrorKind::Syntax,
                    "type code",
                    "a detail type code 100–699 or 900–999 telling credit from debit",
                    code_raw,
                )
            });
            return;
        }
    };
    let mut tx = Transaction::new(sign * value, d.st.currency.clone());
    tx.booking_date = group.as_of;
    tx.value_date = value_date;
    tx.bank_transaction_code = non_empty(code_raw);
    tx.bank_reference = bank_ref;
    tx.customer_reference = customer_ref;
    tx.remittance_information = non_empty(&text);
    tx.description = non_empty(&text);
    if !funds.is_empty() {
        tx.extra.insert("funds_type".into(), funds.to_string());
    }
    tx.source = SourceSpan {
        line: rec.line,
        end_line: rec.end_line,
        start: rec.start,
        end: rec.end,
        path: None,
    };
    d.st.transactions.push(tx);
}

fn close(mut d: Draft, trailer: Option<(&Record, String, String)>) -> Result<Statement, FeedError> {
    if let Some(e) = d.failed {
        return Err(e);
    }
    match trailer {
        Some((rec, total, count)) => {
            d.records += 1;
            d.st.source.end_line = rec.end_line;
            d.st.source.end = rec.end;
            match amount(&total, &d.st.currency) {
                Some(t) if t != d.control => d.st.flags.push(error(
                    rec,
                    ErrorKind::ControlTotalMismatch,
                    "account control total",
                    &format!("the sum of the account's amounts, {}", d.control),
                    &total,
                )),
                None if !total.is_empty() => d.st.flags.push(error(
                    rec,
                    ErrorKind::InvalidAmount,
                    "account control total",
                    "a signed amount",
                    &total,
                )),
                _ => {}
            }
            if let Ok(n) = count.parse::<u64>()
                && n != d.records
            {
                d.st.flags.push(error(
                    rec,
                    ErrorKind::ControlTotalMismatch,
                    "number of records",
                    &format!("{} records (03, 16, 88 and 49) in the account", d.records),
                    &count,
                ));
            }
        }
        None => d.st.flags.push(FeedError::at_line(
            ErrorKind::MissingField,
            d.st.source.line,
            "BAI2 49 record",
            "a 49 account trailer after the account's records",
            "none",
        )),
    }
    Ok(check::finish(d.st, &d.locations))
}
