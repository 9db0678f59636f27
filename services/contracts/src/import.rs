//! ImportContracts (R-O5, issue 16): many signings in one call and one transaction, each a
//! new customer with the contract they sign, another contract of a customer the same import
//! creates (`customer_of`) or a contract of a customer already known,
//! under the rules of CreateCustomer and CreateContract (R-C1, R-C6, R-C7, R-C9, R-L5,
//! R-O4), written in a fixed number of statements whatever the count. All or nothing: a
//! refused signing refuses the call and names itself.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

use uuid::Uuid;

use kit::auth::Caller;
use kit::auth::owners::CUSTOMER_KEY;
use kit::{ApiError, wire};
use proto::contracts::v1 as api;
use proto::events::v1 as events;

use crate::api::{Api, ContractInput, NewCustomer, claim_key, unexpected, validate_contract};
use crate::{holds, owners, store};

/// Most signings one import may carry: the transaction stays short (about 100 ms for a
/// thousand ten-installment contracts) and the response small.
pub(crate) const MAX_SIGNINGS: usize = 1_000;

/// One signing, checked.
struct Signing {
    /// Present when the signing brings a new customer: (id, fields, owner, team).
    customer: Option<(Uuid, NewCustomer, String, String)>,
    /// The earlier signing (its index) whose new customer this contract is also for.
    customer_of: Option<usize>,
    contract_id: Uuid,
    contract: ContractInput,
}

/// A customer already known who signs: what their contract's event carries.
struct Signer {
    name: String,
    /// Payer accounts in clear, for their blind indexes and masked forms (R-O4).
    accounts: Vec<String>,
    /// Owner and team (R-O3).
    owner: (String, String),
}

/// `signings[i].<where>.` in front of what a check refused.
fn within(prefix: &str, error: ApiError) -> ApiError {
    match error {
        ApiError::Invalid { field, reason } => ApiError::Invalid {
            field: format!("{prefix}.{field}"),
            reason,
        },
        ApiError::PermissionDenied(why) => ApiError::PermissionDenied(format!("{prefix}: {why}")),
        ApiError::FailedPrecondition(why) => {
            ApiError::FailedPrecondition(format!("{prefix}: {why}"))
        }
        ApiError::NotFound(why) => ApiError::NotFound(format!("{prefix}: {why}")),
        other => other,
    }
}

impl Api {
    /// Checks every signing before anything is written.
    fn check_signings(
        &self,
        caller: &Caller,
        import_key: &str,
        signings: &[api::ImportedSigning],
    ) -> Result<Vec<Signing>, ApiError> {
        if signings.is_empty() {
            return Err(ApiError::invalid("signings", "give at least one signing"));
        }
        if signings.len() > MAX_SIGNINGS {
            return Err(ApiError::invalid(
                "signings",
                format!(
                    "{} signings; at most {MAX_SIGNINGS} a call: split the import",
                    signings.len()
                ),
            ));
        }
        let mut checked = Vec::with_capacity(signings.len());
        let mut numbers: HashMap<String, usize> = HashMap::with_capacity(signings.len());
        for (i, s) in signings.iter().enumerate() {
            let at = format!("signings[{i}]");
            let customer = match &s.customer {
                Some(c) => {
                    let customer = format!("{at}.customer");
                    // R-C9: whoever imports is responsible, unless they name an owner they may.
                    let (owner, team) = owners::owner_at_creation(
                        &caller.scope,
                        caller.subject(),
                        caller.team(),
                        &c.owner,
                        &c.owner_team,
                    )
                    .map_err(|e| within(&customer, e))?;
                    let new = self
                        .validate_customer(c)
                        .map_err(|e| within(&customer, e))?;
                    Some((Uuid::now_v7(), new, owner, team))
                }
                None => None,
            };
            let contract_at = format!("{at}.contract");
            let Some(request) = &s.contract else {
                return Err(ApiError::invalid(
                    contract_at,
                    "give the contract the customer signs",
                ));
            };
            let mut request = request.clone();
            // The import's key covers the signing; validation asks for one.
            request.idempotency_key = import_key.to_owned();
            let customer_of = match s.customer_of {
                0 => None,
                place => {
                    let of = customer_of(&at, place, &checked, customer.is_some())?;
                    if !request.customer_id.trim().is_empty() {
                        return Err(ApiError::invalid(
                            format!("{contract_at}.customer_id"),
                            format!(
                                "leave it empty: customer_of names signings[{of}]'s new customer"
                            ),
                        ));
                    }
                    if let Some((id, ..)) = &checked[of].customer {
                        request.customer_id = id.to_string();
                    }
                    Some(of)
                }
            };
            if let Some((id, ..)) = &customer {
                if !request.customer_id.trim().is_empty() {
                    return Err(ApiError::invalid(
                        format!("{contract_at}.customer_id"),
                        "leave it empty: the contract is the new customer's of this signing",
                    ));
                }
                request.customer_id = id.to_string();
            }
            let mut contract =
                validate_contract(&request, &self.terms).map_err(|e| within(&contract_at, e))?;
            (contract.owner, contract.owner_team) = owners::owner_at_creation(
                &caller.scope,
                caller.subject(),
                caller.team(),
                &request.owner,
                &request.owner_team,
            )
            .map_err(|e| within(&contract_at, e))?;
            if let Some(first) = numbers.insert(contract.contract_no.clone(), i) {
                return Err(ApiError::invalid(
                    format!("{contract_at}.contract_no"),
                    format!(
                        "{:?} is signings[{first}]'s too; a contract number is unique",
                        contract.contract_no
                    ),
                ));
            }
            checked.push(Signing {
                customer,
                customer_of,
                contract_id: Uuid::now_v7(),
                contract,
            });
        }
        Ok(checked)
    }

    /// ImportContracts.
    pub(crate) async fn import(
        &self,
        caller: &Caller,
        request: &api::ImportContractsRequest,
    ) -> Result<api::ImportContractsResponse, ApiError> {
        let key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
        let signings = self.check_signings(caller, &key, &request.signings)?;
        let numbers: Vec<&str> = signings
            .iter()
            .map(|s| s.contract.contract_no.as_str())
            .collect();
        let mut tx = self.pool.begin().await?;
        if claim_key(&mut tx, "import_contracts", &key, request, Uuid::now_v7())
            .await?
            .is_some()
        {
            // The same import again: what the first signed.
            let found = store::contracts::imported(&mut tx, &numbers).await?;
            tx.commit().await?;
            return Ok(answer_again(&numbers, found));
        }
        let taken = store::contracts::taken_numbers(&mut tx, &numbers).await?;
        if !taken.is_empty() {
            let shown: Vec<String> = taken.iter().take(10).map(|n| format!("{n:?}")).collect();
            return Err(ApiError::AlreadyExists(format!(
                "contract number{} {} {} taken already: leave those signings out or use other numbers",
                if taken.len() == 1 { "" } else { "s" },
                shown.join(", "),
                if taken.len() == 1 { "is" } else { "are" },
            )));
        }

        // Customers already known: the caller's scope, a credit hold (R-L5, R-S5), and
        // the name, accounts and owner their contracts' events carry.
        let mut known: HashMap<Uuid, Signer> = HashMap::new();
        for (i, s) in signings.iter().enumerate() {
            if s.customer.is_some() || s.customer_of.is_some() {
                continue;
            }
            let at = format!("signings[{i}].contract");
            let customer_id = s.contract.customer_id;
            if let Entry::Vacant(slot) = known.entry(customer_id) {
                owners::require_customer(&mut tx, caller, customer_id)
                    .await
                    .map_err(|e| within(&at, e))?;
                let Some(row) = store::customers::customer(&mut tx, customer_id, false).await?
                else {
                    return Err(ApiError::invalid(
                        format!("{at}.customer_id"),
                        format!(
                            "no customer with id {customer_id}: create them first or give the signing a customer"
                        ),
                    ));
                };
                let accounts = row
                    .payer_accounts
                    .iter()
                    .map(|a| self.pii.open(a))
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(unexpected)?;
                let owner = owners::owner(&mut tx, customer_id, None).await?;
                slot.insert(Signer {
                    name: row.name,
                    accounts,
                    owner,
                });
            }
            holds::check_signing(&mut tx, customer_id, &s.contract.contract_no, s.contract_id)
                .await
                .map_err(|e| within(&at, e))?;
        }

        // Everything in memory, then a statement per table.
        let mut new_customers: Vec<(Uuid, &str, &str, &[String])> = Vec::new();
        let mut owner_rows: Vec<(Uuid, &str, &str, &str)> = Vec::new();
        let contract_keys: Vec<String> =
            signings.iter().map(|s| s.contract_id.to_string()).collect();
        let mut escrows = Vec::with_capacity(signings.len());
        let mut rows = Vec::new();
        let mut staged = self.outbox.staged();
        let mut answer = Vec::with_capacity(signings.len());
        for (s, contract_key) in signings.iter().zip(&contract_keys) {
            let customer_id = s.contract.customer_id;
            if let Some((id, new, owner, team)) = &s.customer {
                new_customers.push((*id, &new.name, new.kind, &new.sealed));
                owner_rows.push((*id, CUSTOMER_KEY, owner, team));
            }
            let new = s
                .customer
                .as_ref()
                .or_else(|| s.customer_of.and_then(|of| signings[of].customer.as_ref()));
            let (name, accounts, customer_owner) = match new {
                Some((_, new, owner, team)) => (
                    new.name.clone(),
                    new.accounts.clone(),
                    (owner.clone(), team.clone()),
                ),
                None => {
                    let known = known.get(&customer_id).ok_or_else(|| {
                        unexpected(anyhow::anyhow!("customer {customer_id} not read"))
                    })?;
                    (
                        known.name.clone(),
                        known.accounts.clone(),
                        known.owner.clone(),
                    )
                }
            };
            owner_rows.push((
                customer_id,
                contract_key,
                &s.contract.owner,
                &s.contract.owner_team,
            ));
            escrows.push(
                self.pii
                    .seal(&s.contract.escrow_account)
                    .map_err(unexpected)?,
            );
            let (schedule, event): (_, events::ContractSigned) =
                s.contract
                    .signing(&self.pii, s.contract_id, name, &accounts, customer_owner);
            answer.push(api::ImportedContract {
                customer_id: customer_id.to_string(),
                contract_id: s.contract_id.to_string(),
                contract_no: s.contract.contract_no.clone(),
                receivable_ids: schedule.iter().map(|r| r.id.to_string()).collect(),
            });
            rows.extend(schedule);
            staged
                .push(kit::events::CONTRACTS, &customer_id.to_string(), &event)
                .map_err(ApiError::from)?;
            caller.touch("contract", s.contract_id);
        }
        let heads: Vec<store::contracts::NewContract<'_>> = signings
            .iter()
            .zip(&escrows)
            .map(|(s, escrow)| s.contract.head(s.contract_id, escrow))
            .collect();
        store::customers::insert_customers(&mut tx, &new_customers).await?;
        kit::auth::owners::record_all(&mut tx, &owner_rows).await?;
        store::contracts::insert_contracts(&mut tx, &heads).await?;
        store::contracts::insert_receivables(&mut tx, &rows).await?;
        staged.write(&mut tx).await?;
        tx.commit().await?;
        tracing::info!(
            contracts = signings.len(),
            customers = new_customers.len(),
            receivables = rows.len(),
            "contracts imported"
        );
        Ok(api::ImportContractsResponse { contracts: answer })
    }
}

/// The index of the earlier signing whose new customer `place` (from 1) names, for the
/// signing at `at`; `checked` holds the signings before it.
fn customer_of(
    at: &str,
    place: u32,
    checked: &[Signing],
    brings_customer: bool,
) -> Result<usize, ApiError> {
    let field = format!("{at}.customer_of");
    if brings_customer {
        return Err(ApiError::invalid(
            field,
            "a signing with a new customer signs for that customer; leave customer_of at 0",
        ));
    }
    let of = usize::try_from(place).map_or(usize::MAX, |p| p - 1);
    match checked.get(of) {
        None => Err(ApiError::invalid(
            field,
            format!(
                "{place} is not the place of an earlier signing of this import (from 1, before this one's {})",
                checked.len() + 1
            ),
        )),
        Some(earlier) if earlier.customer.is_none() => Err(ApiError::invalid(
            field,
            format!(
                "signings[{of}] brings no new customer: name the signing that creates the customer, or give the contract's customer_id"
            ),
        )),
        Some(_) => Ok(of),
    }
}

/// The answer to an import sent again: its contracts as they are now, in its order.
fn answer_again(
    numbers: &[&str],
    found: Vec<store::contracts::Imported>,
) -> api::ImportContractsResponse {
    let mut by_number: HashMap<String, store::contracts::Imported> = found
        .into_iter()
        .map(|f| (f.contract_no.clone(), f))
        .collect();
    let mut seen = HashSet::new();
    api::ImportContractsResponse {
        contracts: numbers
            .iter()
            .filter(|n| seen.insert(**n))
            .filter_map(|n| by_number.remove(*n))
            .map(|f| api::ImportedContract {
                customer_id: f.customer_id.to_string(),
                contract_id: f.contract_id.to_string(),
                contract_no: f.contract_no,
                receivable_ids: f.receivable_ids.iter().map(Uuid::to_string).collect(),
            })
            .collect(),
    }
}
