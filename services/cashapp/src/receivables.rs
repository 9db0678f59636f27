//! The receivables CSV (issue item 6): a header row with at least `receivable_id,
//! contract_no, customer_id, customer_name, payer_accounts, unit, due_date, open_amount,
//! currency, escrow_account`. `payer_accounts` holds several accounts separated by `;`;
//! `payer_accounts` and `unit` may be empty. A bad row is reported with file, row and field,
//! and the other rows go on.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use crate::csvread::{Record, Table};
use crate::error::InputError;
use crate::model::{OpenItem, minor_units};

/// The columns the header must have.
pub const COLUMNS: &[&str] = &[
    "receivable_id",
    "contract_no",
    "customer_id",
    "customer_name",
    "payer_accounts",
    "unit",
    "due_date",
    "open_amount",
    "currency",
    "escrow_account",
];

/// Date formats accepted in CSV cells.
const DATE_FORMATS: &[&str] = &["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"];

pub(crate) fn parse_date(
    table: &Table,
    row: &Record,
    field: &str,
) -> Result<NaiveDate, InputError> {
    let raw = table.required(row, field)?;
    DATE_FORMATS
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
        .ok_or_else(|| {
            InputError::row(
                &table.file,
                row.line,
                field,
                format!("{raw:?} is not a date (expected YYYY-MM-DD)"),
            )
        })
}

fn parse_amount(table: &Table, row: &Record, currency: &str) -> Result<Decimal, InputError> {
    let raw = table.required(row, "open_amount")?;
    let cleaned: String = raw.chars().filter(|c| *c != ',' && *c != '_').collect();
    let err = |problem: String| InputError::row(&table.file, row.line, "open_amount", problem);
    let amount: Decimal = cleaned
        .parse()
        .map_err(|_| err(format!("{raw:?} is not a decimal number like 1234.56")))?;
    if amount.is_sign_negative() {
        return Err(err(format!(
            "{raw:?} is negative; an open amount is zero or more"
        )));
    }
    let amount = amount.normalize();
    if amount.scale() > minor_units(currency) {
        return Err(err(format!(
            "{raw:?} has more decimals than {currency} has minor units ({})",
            minor_units(currency)
        )));
    }
    Ok(amount)
}

fn item(table: &Table, row: &Record) -> Result<OpenItem, InputError> {
    let text = |c: &str| table.required(row, c).map(str::to_string);
    let currency = table.required(row, "currency")?.to_ascii_uppercase();
    if !feeds::currency::is_known(&currency) {
        return Err(InputError::row(
            &table.file,
            row.line,
            "currency",
            format!("{currency:?} is not an ISO 4217 currency code"),
        ));
    }
    Ok(OpenItem {
        receivable_id: text("receivable_id")?,
        contract_no: text("contract_no")?,
        customer_id: text("customer_id")?,
        customer_name: text("customer_name")?,
        payer_accounts: table
            .cell(row, "payer_accounts")
            .map(|s| {
                s.split([';', '；', '|'])
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default(),
        unit: table.cell(row, "unit").map(str::to_string),
        due_date: parse_date(table, row, "due_date")?,
        open_amount: parse_amount(table, row, &currency)?,
        currency,
        escrow_account: text("escrow_account")?,
    })
}

/// Open items read from a file, each with its line, and the rows that failed.
pub type ReadItems = (Vec<(OpenItem, usize)>, Vec<InputError>);

/// Read a receivables CSV: the open items with their line numbers, and the rows that failed.
///
/// # Errors
/// [`InputError::File`] when the file is empty or its header lacks a required column.
pub fn read_receivables(file: &str, bytes: &[u8]) -> Result<ReadItems, InputError> {
    let table = Table::read(file, bytes)?;
    table.require(COLUMNS)?;
    let mut items = Vec::with_capacity(table.rows.len());
    let mut errors = Vec::new();
    for row in &table.rows {
        match item(&table, row) {
            Ok(i) => items.push((i, row.line)),
            Err(e) => errors.push(e),
        }
    }
    Ok((items, errors))
}

/// Write open items as a receivables CSV (the format [`read_receivables`] reads).
#[must_use]
pub fn write_receivables(items: &[OpenItem]) -> Vec<u8> {
    let mut out = String::with_capacity(items.len() * 160);
    out.push_str(&COLUMNS.join(","));
    out.push('\n');
    for i in items {
        let cells = [
            i.receivable_id.as_str(),
            &i.contract_no,
            &i.customer_id,
            &i.customer_name,
            &i.payer_accounts.join(";"),
            i.unit.as_deref().unwrap_or_default(),
            &i.due_date.to_string(),
            &i.open_amount.to_string(),
            &i.currency,
            &i.escrow_account,
        ];
        for (n, c) in cells.iter().enumerate() {
            if n > 0 {
                out.push(',');
            }
            push_cell(&mut out, c);
        }
        out.push('\n');
    }
    out.into_bytes()
}

/// A CSV cell, quoted when it holds a delimiter, quote or newline.
pub(crate) fn push_cell(out: &mut String, cell: &str) {
    if cell.contains([',', '"', '\n', '\r', ';', '\t']) {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(cell);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "receivable_id,contract_no,customer_id,customer_name,payer_accounts,unit,due_date,open_amount,currency,escrow_account\n";

    #[test]
    fn bad_rows_name_file_row_and_field_and_others_go_on() {
        let csv = format!(
            "{HEADER}R1,HT1,C1,张伟,6222 01;6222 02,3-1203,2024-03-01,1000.00,CNY,ESC1\n\
             R2,HT1,C1,张伟,,,2024-04-01,abc,CNY,ESC1\n\
             R3,HT1,C1,张伟\n\
             R4,HT1,C1,张伟,,,2024-05-01,10,XYZ,ESC1\n\
             R5,HT1,C1,张伟,,,2024-06-01,\"1,000.50\",CNY,ESC1\n"
        );
        let (items, errors) = read_receivables("recv.csv", csv.as_bytes()).unwrap_or_default();
        let ids: Vec<&str> = items
            .iter()
            .map(|(i, _)| i.receivable_id.as_str())
            .collect();
        assert_eq!(ids, vec!["R1", "R5"]);
        assert_eq!(items.first().map(|(i, _)| i.payer_accounts.len()), Some(2));
        let msgs: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(
            msgs[0].starts_with("recv.csv: row 3: field open_amount"),
            "{msgs:?}"
        );
        assert!(msgs[1].starts_with("recv.csv: row 4: field"), "{msgs:?}");
        assert!(
            msgs[2].starts_with("recv.csv: row 5: field currency"),
            "{msgs:?}"
        );
    }

    #[test]
    fn missing_header_column_is_a_file_error() {
        let e = read_receivables("recv.csv", b"receivable_id,contract_no\nR1,HT1\n");
        assert!(matches!(e, Err(InputError::File { .. })));
    }

    #[test]
    fn write_then_read() {
        let csv = format!("{HEADER}R1,HT1,C1,\"Acme, Ltd.\",A;B,,2024-03-01,1000.5,CNY,ESC1\n");
        let (items, _) = read_receivables("a.csv", csv.as_bytes()).unwrap_or_default();
        let items: Vec<OpenItem> = items.into_iter().map(|(i, _)| i).collect();
        let again = read_receivables("b.csv", &write_receivables(&items)).unwrap_or_default();
        assert_eq!(
            again.0.into_iter().map(|(i, _)| i).collect::<Vec<_>>(),
            items
        );
    }
}
