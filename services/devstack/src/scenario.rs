//! Building blocks of the money path, shared by the demo and the end-to-end tests.

use anyhow::Context as _;

use proto::contracts::v1 as contracts;
use proto::dunning::v1 as dunning;
use proto::legal::v1 as legal;
use proto::payments::v1 as payments;

use crate::clients::Clients;

/// The collection (escrow) account of the demo project: contracts made here name it, and bank
/// files sent here arrived on it (R-P6).
pub const ESCROW_ACCOUNT: &str = "6216 6100 0000 0088 88";

/// Creates a person customer with no payer account on file; the idempotency key is derived
/// from the name.
pub async fn create_customer(clients: &mut Clients, name: &str) -> anyhow::Result<String> {
    create_customer_with_accounts(clients, name, &[]).await
}

/// Creates a person customer who pays from `payer_accounts`.
pub async fn create_customer_with_accounts(
    clients: &mut Clients,
    name: &str,
    payer_accounts: &[&str],
) -> anyhow::Result<String> {
    let response = clients
        .contracts
        .create_customer(contracts::CreateCustomerRequest {
            idempotency_key: format!("customer:{name}"),
            name: name.to_owned(),
            kind: contracts::CustomerKind::Person as i32,
            payer_accounts: payer_accounts.iter().map(|a| (*a).to_owned()).collect(),
            ..Default::default()
        })
        .await
        .context("CreateCustomer")?
        .into_inner();
    Ok(response
        .customer
        .context("CreateCustomer returned no customer")?
        .customer_id)
}

/// Creates a contract with installments given as (amount, due date) and no late fee.
pub async fn create_contract(
    clients: &mut Clients,
    customer_id: &str,
    contract_no: &str,
    installments: &[(&str, &str)],
) -> anyhow::Result<contracts::Contract> {
    create_contract_with_policy(clients, customer_id, contract_no, installments, "").await
}

/// Creates a contract with installments and a late-fee policy (JSON, empty for none).
pub async fn create_contract_with_policy(
    clients: &mut Clients,
    customer_id: &str,
    contract_no: &str,
    installments: &[(&str, &str)],
    late_fee_policy: &str,
) -> anyhow::Result<contracts::Contract> {
    let response = clients
        .contracts
        .create_contract(contracts::CreateContractRequest {
            idempotency_key: format!("contract:{contract_no}"),
            customer_id: customer_id.to_owned(),
            contract_no: contract_no.to_owned(),
            currency: "CNY".to_owned(),
            installments: installments
                .iter()
                .map(|(amount, due)| contracts::Installment {
                    amount: (*amount).to_owned(),
                    due_date: (*due).to_owned(),
                    ..Default::default()
                })
                .collect(),
            late_fee_policy: late_fee_policy.to_owned(),
            escrow_account: ESCROW_ACCOUNT.to_owned(),
            unit: String::new(),
            ..Default::default()
        })
        .await
        .context("CreateContract")?
        .into_inner();
    response
        .contract
        .context("CreateContract returned no contract")
}

/// Runs the daily cycle for `as_of`.
pub async fn run_cycle(
    clients: &mut Clients,
    as_of: &str,
) -> anyhow::Result<contracts::RunDailyCycleResponse> {
    Ok(clients
        .contracts
        .run_daily_cycle(contracts::RunDailyCycleRequest {
            as_of: as_of.to_owned(),
        })
        .await
        .with_context(|| format!("RunDailyCycle {as_of}"))?
        .into_inner())
}

/// Every item of a paged list: calls `page` with each `page_token` (empty first) until the
/// answer's next token is empty.
pub async fn all_pages<T, F, Fut>(what: &str, mut page: F) -> anyhow::Result<Vec<T>>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = anyhow::Result<(Vec<T>, String)>>,
{
    let mut all = Vec::new();
    let mut token = String::new();
    loop {
        let (items, next) = page(token.clone()).await?;
        all.extend(items);
        if next.is_empty() {
            return Ok(all);
        }
        anyhow::ensure!(
            next != token,
            "{what}: the service returned the same page token twice"
        );
        token = next;
    }
}

/// The receivables of a contract, by installment number.
pub async fn receivables(
    clients: &mut Clients,
    contract_id: &str,
) -> anyhow::Result<Vec<contracts::Receivable>> {
    let client = clients.contracts.clone();
    all_pages("ListReceivables", |page_token| {
        let mut client = client.clone();
        async move {
            let page = client
                .list_receivables(contracts::ListReceivablesRequest {
                    contract_id: contract_id.to_owned(),
                    page_token,
                    ..Default::default()
                })
                .await
                .context("ListReceivables")?
                .into_inner();
            Ok((page.receivables, page.next_page_token))
        }
    })
    .await
}

/// A bank CSV file in the skeleton's layout from rows of
/// (date, amount, currency, payer name, payer account, reference).
pub fn bank_csv(rows: &[[&str; 6]]) -> Vec<u8> {
    let mut out = String::from("date,amount,currency,payer_name,payer_account,reference\n");
    for row in rows {
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out.into_bytes()
}

/// Sends a bank file to payments, which detects its format; files that do not name their
/// account arrived on [`ESCROW_ACCOUNT`].
pub async fn ingest(
    clients: &mut Clients,
    file_name: &str,
    content: Vec<u8>,
) -> anyhow::Result<payments::IngestBankFileResponse> {
    Ok(clients
        .payments
        .ingest_bank_file(payments::IngestBankFileRequest {
            file_name: file_name.to_owned(),
            content,
            format: String::new(), // detected from the content
            account: ESCROW_ACCOUNT.to_owned(),
        })
        .await
        .with_context(|| format!("IngestBankFile {file_name}"))?
        .into_inner())
}

/// The open amount of a receivable as a string, e.g. "0.00".
pub fn open_amount(receivable: &contracts::Receivable) -> &str {
    receivable
        .open_amount
        .as_ref()
        .map_or("", |m| m.amount.as_str())
}

/// The open exceptions of the payments queue, oldest first (every page).
pub async fn open_exceptions(clients: &Clients) -> anyhow::Result<Vec<payments::PaymentException>> {
    let client = clients.payments.clone();
    all_pages("ListExceptions", |page_token| {
        let mut client = client.clone();
        async move {
            let page = client
                .list_exceptions(payments::ListExceptionsRequest {
                    page_token,
                    ..Default::default()
                })
                .await
                .context("ListExceptions")?
                .into_inner();
            Ok((page.exceptions, page.next_page_token))
        }
    })
    .await
}

/// Every payment payments holds, oldest first (every page).
pub async fn all_payments(clients: &Clients) -> anyhow::Result<Vec<payments::Payment>> {
    let client = clients.payments.clone();
    all_pages("ListPayments", |page_token| {
        let mut client = client.clone();
        async move {
            let page = client
                .list_payments(payments::ListPaymentsRequest {
                    page_token,
                    ..Default::default()
                })
                .await
                .context("ListPayments")?
                .into_inner();
            Ok((page.payments, page.next_page_token))
        }
    })
    .await
}

/// The legal cases, optionally of one customer and in one status (`None` for all; every page).
pub async fn legal_cases(
    clients: &Clients,
    customer_id: &str,
    status: Option<proto::types::v1::CaseStatus>,
) -> anyhow::Result<Vec<legal::LegalCase>> {
    let client = clients.legal.clone();
    all_pages("legal ListCases", |page_token| {
        let mut client = client.clone();
        async move {
            let page = client
                .list_cases(legal::ListCasesRequest {
                    customer_id: customer_id.to_owned(),
                    status: status.map_or(0, |s| s as i32),
                    page_token,
                    ..Default::default()
                })
                .await
                .context("legal ListCases")?
                .into_inner();
            Ok((page.cases, page.next_page_token))
        }
    })
    .await
}

/// The dunning cases of a customer (every page).
pub async fn dunning_cases(
    clients: &Clients,
    customer_id: &str,
) -> anyhow::Result<Vec<dunning::DunningCase>> {
    let client = clients.dunning.clone();
    all_pages("dunning ListCases", |page_token| {
        let mut client = client.clone();
        async move {
            let page = client
                .list_cases(dunning::ListCasesRequest {
                    customer_id: customer_id.to_owned(),
                    page_token,
                    ..Default::default()
                })
                .await
                .context("dunning ListCases")?
                .into_inner();
            Ok((page.cases, page.next_page_token))
        }
    })
    .await
}

/// The actions of a dunning case in the order they were recorded (every page).
pub async fn dunning_actions(
    clients: &Clients,
    case_id: &str,
) -> anyhow::Result<Vec<dunning::Action>> {
    let client = clients.dunning.clone();
    all_pages("ListActions", |page_token| {
        let mut client = client.clone();
        async move {
            let page = client
                .list_actions(dunning::ListActionsRequest {
                    case_id: case_id.to_owned(),
                    page_token,
                    ..Default::default()
                })
                .await
                .context("ListActions")?
                .into_inner();
            Ok((page.actions, page.next_page_token))
        }
    })
    .await
}
