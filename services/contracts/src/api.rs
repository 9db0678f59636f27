//! The gRPC API of the contracts service.

use sha2::{Digest, Sha256};
use sqlx::{PgConnection, PgPool};
use tonic::{Request, Response, Status};
use uuid::Uuid;

use kit::auth::Caller;
use kit::auth::owners::CUSTOMER_KEY;
use kit::outbox::Outbox;
use kit::{ApiError, wire};
use proto::contracts::v1 as api;
use proto::contracts::v1::contracts_service_server::ContractsService;
use proto::events::v1 as events;

use crate::domain::discount;
use crate::domain::schedule::{self, Billed, ChargeType, ItemKind, RequestedItem};
use crate::terms::Terms;
use crate::{
    amendments, billing, cycle, holds, owners, statement, store, units, waivers, write_offs,
};

/// Most installments a schedule may have (50 years of monthly payments).
const MAX_INSTALLMENTS: usize = 600;
/// Most payer accounts on file for one customer.
const MAX_PAYER_ACCOUNTS: usize = 20;

pub(crate) struct Api {
    pub(crate) pool: PgPool,
    pub(crate) outbox: Outbox,
    pub(crate) terms: std::sync::Arc<Terms>,
    /// Seals payer accounts at rest (R-O4).
    pub(crate) pii: kit::pii::Pii,
    /// Whether business time may run ahead of the service clock (`BUSINESS_CLOCK`).
    pub(crate) business_clock: kit::config::BusinessClock,
    /// The business time zone (`BUSINESS_UTC_OFFSET`).
    pub(crate) business_utc_offset: chrono::FixedOffset,
    /// Overdue above this puts a customer on credit hold (`CREDIT_HOLD_OVERDUE_ABOVE`, R-S5).
    pub(crate) hold_threshold: Option<crate::domain::hold::Threshold>,
    /// The CJK font statements are printed in, loaded once at start-up.
    pub(crate) font: documents::Font,
    /// The day of the following month monthly charges fall due (`BILLING_DUE_DAY`, R-C2).
    pub(crate) billing_due_day: u32,
    /// R-P12: what contracts writes off without a person, and at most.
    pub(crate) write_off_limits: crate::domain::write_off::Limits,
    /// R-D6: a waiver above this needs a second approver with the risk role
    /// (`WAIVER_SECOND_APPROVAL_ABOVE`).
    pub(crate) waiver_second_approval_above: rust_decimal::Decimal,
}

/// A new customer as validated, payer accounts sealed (R-O4; the same account in another
/// notation kept once).
pub(crate) struct NewCustomer {
    pub(crate) name: String,
    /// `person` or `company`, as stored.
    pub(crate) kind: &'static str,
    pub(crate) sealed: Vec<String>,
    /// The same accounts in clear, for their blind indexes and masked forms in events.
    pub(crate) accounts: Vec<String>,
}

impl Api {
    /// CreateCustomer's fields but the idempotency key and the owner, checked.
    pub(crate) fn validate_customer(
        &self,
        request: &api::CreateCustomerRequest,
    ) -> Result<NewCustomer, ApiError> {
        let name = wire::required("name", &request.name, 200)?;
        let kind = match api::CustomerKind::try_from(request.kind) {
            Ok(api::CustomerKind::Person) => "person",
            Ok(api::CustomerKind::Company) => "company",
            _ => {
                return Err(ApiError::invalid(
                    "kind",
                    "must be CUSTOMER_KIND_PERSON or CUSTOMER_KIND_COMPANY",
                ));
            }
        };
        if request.payer_accounts.len() > MAX_PAYER_ACCOUNTS {
            return Err(ApiError::invalid(
                "payer_accounts",
                format!("at most {MAX_PAYER_ACCOUNTS} accounts"),
            ));
        }
        let mut sealed = Vec::with_capacity(request.payer_accounts.len());
        let mut accounts = Vec::with_capacity(request.payer_accounts.len());
        let mut seen = Vec::with_capacity(request.payer_accounts.len());
        for (i, a) in request.payer_accounts.iter().enumerate() {
            let a = wire::account(&format!("payer_accounts[{i}]"), a)?;
            let index = self.pii.account_index(&a);
            if !seen.contains(&index) {
                seen.push(index);
                sealed.push(self.pii.seal(&a).map_err(unexpected)?);
                accounts.push(a);
            }
        }
        Ok(NewCustomer {
            name,
            kind,
            sealed,
            accounts,
        })
    }

    fn amendments(&self) -> amendments::Context<'_> {
        amendments::Context {
            outbox: &self.outbox,
            terms: &self.terms,
            clock: self.business_clock,
            utc_offset: self.business_utc_offset,
        }
    }

    fn billing(&self) -> billing::Billing<'_> {
        billing::Billing {
            outbox: &self.outbox,
            pii: &self.pii,
            terms: &self.terms,
            due_day: self.billing_due_day,
        }
    }
}

#[tonic::async_trait]
impl ContractsService for Api {
    #[tracing::instrument(skip_all, fields(customer_id))]
    async fn add_payer_account(
        &self,
        request: Request<api::AddPayerAccountRequest>,
    ) -> Result<Response<api::AddPayerAccountResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let customer_id = wire::uuid("customer_id", &request.customer_id)?;
        tracing::Span::current().record("customer_id", request.customer_id.as_str());
        let account = wire::account("account", &request.account)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let row = store::customers::customer(&mut tx, customer_id, true)
            .await
            .map_err(ApiError::from)?;
        let Some(store::customers::CustomerRow {
            name,
            kind,
            payer_accounts: mut sealed,
        }) = row
        else {
            return Err(ApiError::NotFound(format!("no customer with id {customer_id}")).into());
        };
        owners::require_customer(&mut tx, &caller, customer_id).await?;
        let (owner, owner_team) = owners::owner(&mut tx, customer_id, None).await?;
        let mut plain = Vec::with_capacity(sealed.len() + 1);
        for s in &sealed {
            plain.push(self.pii.open(s).map_err(unexpected)?);
        }
        let index = self.pii.account_index(&account);
        let added = !plain.iter().any(|a| self.pii.account_index(a) == index);
        if added {
            if plain.len() >= MAX_PAYER_ACCOUNTS {
                return Err(ApiError::invalid(
                    "account",
                    format!("the customer already has {MAX_PAYER_ACCOUNTS} accounts on file"),
                )
                .into());
            }
            sealed.push(self.pii.seal(&account).map_err(unexpected)?);
            plain.push(account.clone());
            store::customers::set_payer_accounts(&mut tx, customer_id, &sealed)
                .await
                .map_err(ApiError::from)?;
            // R-O4: the account travels as its blind index and masked form, never in clear.
            let event = events::PayerAccountAdded {
                customer_id: customer_id.to_string(),
                account_index: index,
                account_masked: wire::mask(&account),
            };
            self.outbox
                .enqueue(
                    &mut tx,
                    kit::events::CONTRACTS,
                    &customer_id.to_string(),
                    &event,
                )
                .await
                .map_err(ApiError::from)?;
        }
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(added, "payer account put on file");
        Ok(Response::new(api::AddPayerAccountResponse {
            customer: Some(api::Customer {
                customer_id: customer_id.to_string(),
                name,
                kind: customer_kind(&kind) as i32,
                payer_accounts_masked: plain.iter().map(|a| wire::mask(a)).collect(),
                owner,
                owner_team,
            }),
            added,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_customer(
        &self,
        request: Request<api::CreateCustomerRequest>,
    ) -> Result<Response<api::CreateCustomerResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
        // R-C9: whoever signs is responsible, unless they name another owner they may.
        let (owner, owner_team) = owners::owner_at_creation(
            &caller.scope,
            caller.subject(),
            caller.team(),
            &request.owner,
            &request.owner_team,
        )?;
        let NewCustomer {
            name, kind, sealed, ..
        } = self.validate_customer(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let id = Uuid::now_v7();
        let id = match claim_idempotency_key(&mut tx, "create_customer", &key, &request, id).await?
        {
            Claim::Repeat(existing) => existing,
            Claim::Fresh => {
                store::customers::insert_customer(&mut tx, id, &name, kind, &sealed)
                    .await
                    .map_err(ApiError::from)?;
                kit::auth::owners::record(&mut tx, id, CUSTOMER_KEY, &owner, &owner_team)
                    .await
                    .map_err(ApiError::from)?;
                id
            }
        };
        caller.touch("customer", id);
        let (owner, owner_team) = owners::owner(&mut tx, id, None).await?;
        let store::customers::CustomerRow {
            name,
            kind,
            payer_accounts,
        } = store::customers::customer(&mut tx, id, false)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no customer with id {id}")))?;
        tx.commit().await.map_err(ApiError::from)?;
        let kind = customer_kind(&kind);
        Ok(Response::new(api::CreateCustomerResponse {
            customer: Some(api::Customer {
                customer_id: id.to_string(),
                name,
                kind: kind as i32,
                payer_accounts_masked: payer_accounts
                    .iter()
                    .map(|a| self.pii.open(a).map(|a| wire::mask(&a)))
                    .collect::<Result<_, _>>()
                    .map_err(unexpected)?,
                owner,
                owner_team,
            }),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn create_contract(
        &self,
        request: Request<api::CreateContractRequest>,
    ) -> Result<Response<api::CreateContractResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let mut input = validate_contract(&request, &self.terms)?;
        (input.owner, input.owner_team) = owners::owner_at_creation(
            &caller.scope,
            caller.subject(),
            caller.team(),
            &request.owner,
            &request.owner_team,
        )?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        owners::require_customer(&mut tx, &caller, input.customer_id).await?;
        let contract_id = Uuid::now_v7();
        let contract_id = match claim_idempotency_key(
            &mut tx,
            "create_contract",
            &input.idempotency_key,
            &request,
            contract_id,
        )
        .await?
        {
            Claim::Repeat(existing) => existing,
            Claim::Fresh => {
                // R-L5, R-S5: a customer on credit hold signs only with an override.
                holds::check_signing(&mut tx, input.customer_id, &input.contract_no, contract_id)
                    .await?;
                insert_contract(&mut tx, &self.outbox, &self.pii, contract_id, &input).await?;
                contract_id
            }
        };
        caller.touch("contract", contract_id);
        let contract = load_contract(&mut tx, &self.pii, contract_id).await?;
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(contract_id = %contract_id, contract_no = %contract.contract_no, "contract created");
        Ok(Response::new(api::CreateContractResponse {
            contract: Some(contract),
        }))
    }

    #[tracing::instrument(skip_all, fields(signings))]
    async fn import_contracts(
        &self,
        request: Request<api::ImportContractsRequest>,
    ) -> Result<Response<api::ImportContractsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        tracing::Span::current().record("signings", request.signings.len());
        Ok(Response::new(self.import(&caller, &request).await?))
    }

    #[tracing::instrument(skip_all)]
    async fn get_contract(
        &self,
        request: Request<api::GetContractRequest>,
    ) -> Result<Response<api::GetContractResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let request = request.into_inner();
        let version = request.version;
        let id = match request.key {
            Some(api::get_contract_request::Key::ContractId(id)) => wire::uuid("contract_id", &id)?,
            Some(api::get_contract_request::Key::ContractNo(no)) => {
                let no = wire::required("contract_no", &no, 64)?;
                store::contracts::contract_id_by_no(&mut conn, &no)
                    .await
                    .map_err(ApiError::from)?
                    .ok_or_else(|| ApiError::NotFound(format!("no contract with number {no:?}")))?
            }
            None => return Err(ApiError::invalid("key", "give contract_id or contract_no").into()),
        };
        let mut contract = load_contract(&mut conn, &self.pii, id).await?;
        owners::require_contract(&mut conn, &caller, parse_id(&contract.customer_id)?, id).await?;
        if version != 0 {
            // R-C8: an older schedule version stays readable.
            amendments::show_version(&mut conn, &mut contract, id, version).await?;
        }
        Ok(Response::new(api::GetContractResponse {
            contract: Some(contract),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_receivables(
        &self,
        request: Request<api::ListReceivablesRequest>,
    ) -> Result<Response<api::ListReceivablesResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let id = wire::uuid("contract_id", &request.contract_id)?;
        let paging = kit::paging::Paging::<i32>::parse(
            &format!("contracts.ListReceivables {id}"),
            request.page_size,
            &request.page_token,
        )?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let customer_id = store::customer_of_contract(&mut conn, id)
            .await
            .map_err(ApiError::from)?
            .ok_or_else(|| ApiError::NotFound(format!("no contract with id {id}")))?;
        owners::require_contract(&mut conn, &caller, customer_id, id).await?;
        let rows =
            store::receivables_page(&mut conn, id, paging.after().copied(), paging.fetch_limit())
                .await
                .map_err(ApiError::from)?;
        let (rows, next_page_token) = paging.finish(rows, |r| r.installment_no);
        Ok(Response::new(api::ListReceivablesResponse {
            receivables: rows.iter().map(store::ReceivableRow::to_api).collect(),
            next_page_token,
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn reassign_owner(
        &self,
        request: Request<api::ReassignOwnerRequest>,
    ) -> Result<Response<api::ReassignOwnerResponse>, Status> {
        let caller = Caller::of(&request)?;
        let request = request.into_inner();
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let response = owners::reassign(&mut tx, &self.outbox, &caller, &request).await?;
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(customer_id = %response.customer_id, contract_id = %response.contract_id, by = %response.reassigned_by, "owner reassigned");
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn run_daily_cycle(
        &self,
        request: Request<api::RunDailyCycleRequest>,
    ) -> Result<Response<api::RunDailyCycleResponse>, Status> {
        let as_of = wire::date("as_of", &request.into_inner().as_of)?;
        let today = kit::config::business_date(chrono::Utc::now(), self.business_utc_offset);
        cycle::check_as_of(as_of, today, self.business_clock)?;
        let outcome = cycle::run(
            &self.pool,
            &self.outbox,
            &self.terms,
            self.hold_threshold.as_ref(),
            as_of,
        )
        .await?;
        Ok(Response::new(outcome))
    }

    #[tracing::instrument(skip_all)]
    async fn place_credit_hold(
        &self,
        request: Request<api::PlaceCreditHoldRequest>,
    ) -> Result<Response<api::PlaceCreditHoldResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let hold = holds::place(&mut tx, &self.outbox, &caller, request.get_ref()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(hold_id = %hold.hold_id, customer_id = %hold.customer_id, by = %hold.placed_by, "credit hold placed");
        Ok(Response::new(api::PlaceCreditHoldResponse {
            hold: Some(hold),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn release_credit_hold(
        &self,
        request: Request<api::ReleaseCreditHoldRequest>,
    ) -> Result<Response<api::ReleaseCreditHoldResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let hold = holds::release(&mut tx, &self.outbox, &caller, request.get_ref()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(hold_id = %hold.hold_id, by = %hold.released_by, "credit hold released");
        Ok(Response::new(api::ReleaseCreditHoldResponse {
            hold: Some(hold),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_credit_holds(
        &self,
        request: Request<api::ListCreditHoldsRequest>,
    ) -> Result<Response<api::ListCreditHoldsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        Ok(Response::new(
            holds::list(&mut conn, &caller, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn override_credit_hold(
        &self,
        request: Request<api::OverrideCreditHoldRequest>,
    ) -> Result<Response<api::OverrideCreditHoldResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let granted = holds::grant_override(&mut tx, &caller, request.get_ref()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(override_id = %granted.override_id, by = %granted.granted_by, "credit hold override granted");
        Ok(Response::new(granted))
    }

    #[tracing::instrument(skip_all, fields(customer_id))]
    async fn get_statement(
        &self,
        request: Request<api::GetStatementRequest>,
    ) -> Result<Response<api::GetStatementResponse>, Status> {
        let caller = Caller::of(&request)?;
        tracing::Span::current().record("customer_id", request.get_ref().customer_id.as_str());
        let cx = statement::Context {
            pii: &self.pii,
            font: &self.font,
            today: kit::config::business_date(chrono::Utc::now(), self.business_utc_offset),
            clock: self.business_clock,
        };
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let response = statement::get(&mut conn, &cx, &caller, request.get_ref()).await?;
        tracing::info!(document_id = %response.document_id, bytes = response.document.len(), "statement of account");
        Ok(Response::new(response))
    }

    // Property-management billing (R-C2, R-C3; issue 12 item 2): crate::units, crate::billing.

    #[tracing::instrument(skip_all)]
    async fn create_unit(
        &self,
        request: Request<api::CreateUnitRequest>,
    ) -> Result<Response<api::CreateUnitResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let unit = units::create_unit(&mut tx, &caller, request.get_ref()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(unit_id = %unit.unit_id, code = %unit.code, "unit created");
        Ok(Response::new(api::CreateUnitResponse { unit: Some(unit) }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_units(
        &self,
        request: Request<api::ListUnitsRequest>,
    ) -> Result<Response<api::ListUnitsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        Ok(Response::new(
            units::list_units(&mut conn, &caller, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(skip_all, fields(period = %request.get_ref().period))]
    async fn run_billing(
        &self,
        request: Request<api::RunBillingRequest>,
    ) -> Result<Response<api::RunBillingResponse>, Status> {
        Ok(Response::new(
            billing::run(&self.pool, &self.billing(), request.get_ref()).await?,
        ))
    }

    // Amendments (R-C8; issue 12 item 5): crate::amendments.

    #[tracing::instrument(skip_all)]
    async fn propose_amendment(
        &self,
        request: Request<api::ProposeAmendmentRequest>,
    ) -> Result<Response<api::ProposeAmendmentResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let amendment =
            amendments::propose(&mut tx, &self.amendments(), &caller, request.get_ref()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(amendment_id = %amendment.amendment_id, by = %amendment.proposed_by, "amendment proposed");
        Ok(Response::new(api::ProposeAmendmentResponse {
            amendment: Some(amendment),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn approve_amendment(
        &self,
        request: Request<api::ApproveAmendmentRequest>,
    ) -> Result<Response<api::ApproveAmendmentResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let (amendment, contract_id) =
            amendments::approve(&mut tx, &self.amendments(), &caller, request.get_ref()).await?;
        let contract = load_contract(&mut tx, &self.pii, contract_id).await?;
        tx.commit().await.map_err(ApiError::from)?;
        tracing::info!(amendment_id = %amendment.amendment_id, version = amendment.version, by = %amendment.decided_by, "amendment approved");
        Ok(Response::new(api::ApproveAmendmentResponse {
            amendment: Some(amendment),
            contract: Some(contract),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn reject_amendment(
        &self,
        request: Request<api::RejectAmendmentRequest>,
    ) -> Result<Response<api::RejectAmendmentResponse>, Status> {
        let caller = Caller::of(&request)?;
        let r = request.get_ref();
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let amendment = amendments::reject_or_withdraw(
            &mut tx,
            &self.outbox,
            &caller,
            &r.amendment_id,
            crate::domain::amendment::Decision::Reject,
            &r.reason,
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(Response::new(api::RejectAmendmentResponse {
            amendment: Some(amendment),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn withdraw_amendment(
        &self,
        request: Request<api::WithdrawAmendmentRequest>,
    ) -> Result<Response<api::WithdrawAmendmentResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let amendment = amendments::reject_or_withdraw(
            &mut tx,
            &self.outbox,
            &caller,
            &request.get_ref().amendment_id,
            crate::domain::amendment::Decision::Withdraw,
            "",
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(Response::new(api::WithdrawAmendmentResponse {
            amendment: Some(amendment),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_amendments(
        &self,
        request: Request<api::ListAmendmentsRequest>,
    ) -> Result<Response<api::ListAmendmentsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        Ok(Response::new(
            amendments::list(&mut conn, &caller, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn get_amendment(
        &self,
        request: Request<api::GetAmendmentRequest>,
    ) -> Result<Response<api::GetAmendmentResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        let amendment = amendments::get(&mut conn, &caller, request.get_ref()).await?;
        Ok(Response::new(api::GetAmendmentResponse {
            amendment: Some(amendment),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn propose_waiver(
        &self,
        request: Request<api::ProposeWaiverRequest>,
    ) -> Result<Response<api::ProposeWaiverResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let waiver = waivers::propose(
            &mut tx,
            &self.outbox,
            &caller,
            self.waiver_second_approval_above,
            request.get_ref(),
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(Response::new(api::ProposeWaiverResponse {
            waiver: Some(waiver),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn approve_waiver(
        &self,
        request: Request<api::ApproveWaiverRequest>,
    ) -> Result<Response<api::ApproveWaiverResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let response = waivers::approve(&mut tx, &self.outbox, &caller, request.get_ref()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn reject_waiver(
        &self,
        request: Request<api::RejectWaiverRequest>,
    ) -> Result<Response<api::RejectWaiverResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let waiver = waivers::reject(&mut tx, &caller, request.get_ref()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(Response::new(api::RejectWaiverResponse {
            waiver: Some(waiver),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn list_waivers(
        &self,
        request: Request<api::ListWaiversRequest>,
    ) -> Result<Response<api::ListWaiversResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        Ok(Response::new(
            waivers::list(&mut conn, &caller, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn list_write_offs(
        &self,
        request: Request<api::ListWriteOffsRequest>,
    ) -> Result<Response<api::ListWriteOffsResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut conn = self.pool.acquire().await.map_err(ApiError::from)?;
        Ok(Response::new(
            write_offs::list(&mut conn, &caller, request.get_ref()).await?,
        ))
    }

    #[tracing::instrument(skip_all)]
    async fn approve_write_off(
        &self,
        request: Request<api::ApproveWriteOffRequest>,
    ) -> Result<Response<api::ApproveWriteOffResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let response = write_offs::approve(
            &mut tx,
            &self.outbox,
            &caller,
            self.write_off_limits,
            request.get_ref(),
        )
        .await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(Response::new(response))
    }

    #[tracing::instrument(skip_all)]
    async fn reject_write_off(
        &self,
        request: Request<api::RejectWriteOffRequest>,
    ) -> Result<Response<api::RejectWriteOffResponse>, Status> {
        let caller = Caller::of(&request)?;
        let mut tx = self.pool.begin().await.map_err(ApiError::from)?;
        let write_off = write_offs::reject(&mut tx, &caller, request.get_ref()).await?;
        tx.commit().await.map_err(ApiError::from)?;
        Ok(Response::new(api::RejectWriteOffResponse {
            write_off: Some(write_off),
        }))
    }

    #[tracing::instrument(skip_all)]
    async fn import_meter_readings(
        &self,
        request: Request<api::ImportMeterReadingsRequest>,
    ) -> Result<Response<api::ImportMeterReadingsResponse>, Status> {
        Ok(Response::new(
            billing::import_readings(&self.pool, &self.billing(), request.get_ref()).await?,
        ))
    }
}

pub(crate) struct ContractInput {
    idempotency_key: String,
    pub(crate) customer_id: Uuid,
    pub(crate) contract_no: String,
    currency: String,
    installments: Vec<Installment>,
    late_fee_policy: Option<String>,
    interest_policy: Option<String>,
    pub(crate) escrow_account: String,
    unit: Option<String>,
    pub(crate) owner: String,
    pub(crate) owner_team: String,
    price: Option<rust_decimal::Decimal>,
    /// R-C7.
    discount: discount::Terms,
    /// R-P11: an agreed order of components; `None`: the law's.
    allocation_order: Option<money::allocation::Order>,
}

struct Installment {
    kind: ItemKind,
    charge_type: ChargeType,
    amount: rust_decimal::Decimal,
    share: Option<rust_decimal::Decimal>,
    scheduled: chrono::NaiveDate,
    due: chrono::NaiveDate,
    provisional: bool,
    /// R-C7: no interest accrues on it.
    interest_free: bool,
}

pub(crate) fn validate_contract(
    request: &api::CreateContractRequest,
    terms: &Terms,
) -> Result<ContractInput, ApiError> {
    let idempotency_key = wire::required("idempotency_key", &request.idempotency_key, 200)?;
    let customer_id = wire::uuid("customer_id", &request.customer_id)?;
    let contract_no = wire::required("contract_no", &request.contract_no, 64)?;
    if let Some(bad) = contract_no
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(ApiError::invalid(
            "contract_no",
            format!("contains {bad:?}; use letters, digits, '-', '_' or '.'"),
        ));
    }
    let currency = wire::currency("currency", &request.currency)?;
    if request.installments.is_empty() {
        return Err(ApiError::invalid(
            "installments",
            "a contract needs at least one installment",
        ));
    }
    if request.installments.len() > MAX_INSTALLMENTS {
        return Err(ApiError::invalid(
            "installments",
            format!("at most {MAX_INSTALLMENTS} installments"),
        ));
    }
    let price = match request.price.trim() {
        "" => None,
        price => Some(wire::positive_amount("price", price, &currency)?),
    };
    let minor_units = wire::minor_units(&currency).unwrap_or(2);
    // R-C7: with a lump-sum discount the schedule bills the price less it.
    let discount = parse_discount(request.discount.as_ref())?;
    let billed_price = match (discount.lump_sum_percent, price) {
        (Some(percent), Some(price)) => Some(discount::lump_sum_price(price, percent, minor_units)),
        (Some(_), None) => {
            return Err(ApiError::invalid(
                "discount.lump_sum_percent",
                "a lump-sum discount is a share of the price: give the contract's price",
            ));
        }
        (None, price) => price,
    };
    // R-C1: kinds, charge types, shares of the price; then R-C6 for every due date.
    let mut requested = Vec::with_capacity(request.installments.len());
    for (i, installment) in request.installments.iter().enumerate() {
        let field = |name: &str| format!("installments[{i}].{name}");
        let kind = crate::wire::kind_from_wire(installment.kind)
            .ok_or_else(|| ApiError::invalid(field("kind"), "unknown schedule item kind"))?;
        let charge_type = crate::wire::charge_from_wire(installment.charge_type)
            .ok_or_else(|| ApiError::invalid(field("charge_type"), "unknown charge type"))?;
        let billed = match (installment.amount.trim(), installment.share.trim()) {
            (amount, "") => {
                Billed::Amount(wire::positive_amount(&field("amount"), amount, &currency)?)
            }
            ("", share) => Billed::Share(share.parse().map_err(|_| {
                ApiError::invalid(
                    field("share"),
                    format!("{share:?} is not a decimal fraction like 0.3"),
                )
            })?),
            _ => {
                return Err(ApiError::invalid(
                    field("share"),
                    "give either the amount or the share of the price, not both",
                ));
            }
        };
        requested.push(RequestedItem {
            kind,
            charge_type,
            billed,
            due: wire::date(&field("due_date"), &installment.due_date)?,
        });
    }
    let unit = money::Currency::from_code(&currency)
        .map(|c| rust_decimal::Decimal::new(1, c.minor_units()))
        .map_err(|e| ApiError::invalid("currency", e.to_string()))?;
    let planned = schedule::plan(&requested, billed_price, unit).map_err(|e| {
        let field = match e.item {
            Some(i) => format!("installments[{i}].{}", e.field),
            None => e.field.to_owned(),
        };
        ApiError::invalid(field, e.reason)
    })?;
    let mut installments: Vec<Installment> = Vec::with_capacity(planned.len());
    for (i, item) in planned.into_iter().enumerate() {
        // R-C6: a due date inside a long public holiday moves to the next working day.
        let due_planned = terms.plan(&format!("installments[{i}].due_date"), item.due)?;
        let interest_free = request.installments.get(i).is_some_and(|r| r.interest_free);
        if interest_free && item.kind != ItemKind::DownPayment {
            return Err(ApiError::invalid(
                format!("installments[{i}].interest_free"),
                "only down-payment installments (首付款) are offered interest-free (R-C7)",
            ));
        }
        installments.push(Installment {
            kind: item.kind,
            charge_type: item.charge_type,
            amount: item.amount,
            share: item.share,
            scheduled: item.due,
            due: due_planned.due,
            provisional: due_planned.provisional,
            interest_free,
        });
    }
    let late_fee_policy = match request.late_fee_policy.trim() {
        "" => None,
        json => {
            terms.parse_policy_of("late_fee_policy", json)?;
            Some(json.to_owned())
        }
    };
    // R-C12: interest on late payment beside the late fee, e.g. at LPR x 1.5.
    let interest_policy = match request.interest_policy.trim() {
        "" => None,
        json => {
            terms.parse_policy_of("interest_policy", json)?;
            Some(json.to_owned())
        }
    };
    let escrow_account = wire::account("escrow_account", &request.escrow_account)?;
    // R-P11: the parties may agree another order of components than art. 561's.
    let allocation_order = request
        .allocation_order
        .as_ref()
        .map(|o| {
            wire::parse_component_order(o).map_err(|e| ApiError::invalid("allocation_order", e))
        })
        .transpose()?;
    let unit = match request.unit.trim() {
        "" => None,
        _ => Some(wire::required("unit", &request.unit, 64)?),
    };
    Ok(ContractInput {
        idempotency_key,
        customer_id,
        contract_no,
        currency,
        installments,
        late_fee_policy,
        interest_policy,
        escrow_account,
        unit,
        owner: String::new(),
        owner_team: String::new(),
        price,
        discount,
        allocation_order,
    })
}

/// Reads the wire's discount terms (R-C7), every field checked.
fn parse_discount(wire_terms: Option<&api::DiscountTerms>) -> Result<discount::Terms, ApiError> {
    let Some(t) = wire_terms else {
        return Ok(discount::Terms::default());
    };
    let percent = |field: &str, text: &str| -> Result<rust_decimal::Decimal, ApiError> {
        text.trim().parse().map_err(|_| {
            ApiError::invalid(field, format!("{text:?} is not a percentage like 5 or 2.5"))
        })
    };
    let lump_sum_percent = match t.lump_sum_percent.trim() {
        "" => None,
        text => Some(percent("discount.lump_sum_percent", text)?),
    };
    let mut early_payment = Vec::with_capacity(t.early_payment.len());
    for (i, step) in t.early_payment.iter().enumerate() {
        early_payment.push(discount::Step {
            days_before_due: step.days_before_due,
            percent: percent(
                &format!("discount.early_payment[{i}].percent"),
                &step.percent,
            )?,
        });
    }
    discount::Terms {
        lump_sum_percent,
        early_payment,
    }
    .checked()
    .map_err(|e| ApiError::invalid(e.field, e.reason))
}

/// The wire form of stored discount terms.
pub(crate) fn discount_to_wire(t: &discount::Terms) -> api::DiscountTerms {
    api::DiscountTerms {
        lump_sum_percent: t
            .lump_sum_percent
            .map(|p| p.normalize().to_string())
            .unwrap_or_default(),
        early_payment: t
            .early_payment
            .iter()
            .map(|s| api::EarlyPaymentStep {
                days_before_due: s.days_before_due,
                percent: s.percent.normalize().to_string(),
            })
            .collect(),
    }
}

async fn insert_contract(
    tx: &mut PgConnection,
    outbox: &Outbox,
    pii: &kit::pii::Pii,
    contract_id: Uuid,
    input: &ContractInput,
) -> Result<(), ApiError> {
    let customer = store::customers::customer(tx, input.customer_id, false).await?;
    let Some(store::customers::CustomerRow {
        name: customer_name,
        payer_accounts: sealed_accounts,
        ..
    }) = customer
    else {
        return Err(ApiError::NotFound(format!(
            "no customer with id {}",
            input.customer_id
        )));
    };
    let customer_owner = owners::owner(tx, input.customer_id, None).await?;
    let sealed_escrow_account = pii.seal(&input.escrow_account).map_err(unexpected)?;
    store::contracts::insert_contract(tx, &input.head(contract_id, &sealed_escrow_account))
        .await
        .map_err(|e| match ApiError::from(e) {
            ApiError::AlreadyExists(_) => ApiError::AlreadyExists(format!(
                "contract number {:?} is already taken",
                input.contract_no
            )),
            other => other,
        })?;
    kit::auth::owners::record(
        tx,
        input.customer_id,
        &contract_id.to_string(),
        &input.owner,
        &input.owner_team,
    )
    .await?;
    let accounts = sealed_accounts
        .iter()
        .map(|a| pii.open(a))
        .collect::<Result<Vec<_>, _>>()
        .map_err(unexpected)?;
    let (rows, event) = input.signing(pii, contract_id, customer_name, &accounts, customer_owner);
    store::contracts::insert_receivables(tx, &rows).await?;
    outbox
        .enqueue(
            tx,
            kit::events::CONTRACTS,
            &input.customer_id.to_string(),
            &event,
        )
        .await?;
    Ok(())
}

impl ContractInput {
    /// The contract's head as stored, its escrow account sealed (R-O4).
    pub(crate) fn head<'a>(
        &'a self,
        contract_id: Uuid,
        sealed_escrow_account: &'a str,
    ) -> store::contracts::NewContract<'a> {
        store::contracts::NewContract {
            id: contract_id,
            contract_no: &self.contract_no,
            customer_id: self.customer_id,
            currency: &self.currency,
            late_fee_policy: self.late_fee_policy.as_deref(),
            sealed_escrow_account,
            unit: self.unit.as_deref(),
            price: self.price,
            interest_policy: self.interest_policy.as_deref(),
            discount: (!self.discount.is_empty()).then_some(&self.discount),
            allocation_order: self.allocation_order.as_ref(),
        }
    }

    /// What signing writes besides the head: the schedule's rows (new receivable ids) and
    /// the `ContractSigned` the other services learn it from. `accounts`: the customer's
    /// payer accounts in clear, which travel as blind indexes and masked forms only (R-O4);
    /// `customer_owner`: the customer's owner and team (R-O3).
    pub(crate) fn signing(
        &self,
        pii: &kit::pii::Pii,
        contract_id: Uuid,
        customer_name: String,
        accounts: &[String],
        (customer_owner, customer_owner_team): (String, String),
    ) -> (Vec<store::contracts::NewReceivable>, events::ContractSigned) {
        let mut scheduled = Vec::with_capacity(self.installments.len());
        let mut rows = Vec::with_capacity(self.installments.len());
        for (n, installment) in self.installments.iter().enumerate() {
            let id = Uuid::now_v7();
            let installment_no = i32::try_from(n + 1).unwrap_or(i32::MAX);
            rows.push(store::contracts::NewReceivable {
                id,
                contract_id,
                customer_id: self.customer_id,
                installment_no,
                due: installment.due,
                amount: installment.amount,
                scheduled: installment.scheduled,
                provisional: installment.provisional,
                kind: installment.kind,
                charge_type: installment.charge_type,
                share: installment.share,
                interest_free: installment.interest_free,
            });
            scheduled.push(events::ScheduledReceivable {
                receivable_id: id.to_string(),
                installment_no: u32::try_from(installment_no).unwrap_or_default(),
                due_date: installment.due.to_string(),
                amount: Some(wire::money(installment.amount, &self.currency)),
                kind: crate::wire::kind_to_wire(installment.kind) as i32,
                charge_type: crate::wire::charge_to_wire(installment.charge_type) as i32,
            });
        }
        let event = events::ContractSigned {
            contract_id: contract_id.to_string(),
            contract_no: self.contract_no.clone(),
            customer_id: self.customer_id.to_string(),
            customer_name,
            currency: self.currency.clone(),
            receivables: scheduled,
            payer_account_indexes: accounts.iter().map(|a| pii.account_index(a)).collect(),
            payer_accounts_masked: accounts.iter().map(|a| wire::mask(a)).collect(),
            escrow_account_index: pii.account_index(&self.escrow_account),
            escrow_account_masked: wire::mask(&self.escrow_account),
            allocation_order: self.allocation_order.as_ref().map(wire::component_order),
            unit: self.unit.clone().unwrap_or_default(),
            owner: self.owner.clone(),
            owner_team: self.owner_team.clone(),
            customer_owner,
            customer_owner_team,
        };
        (rows, event)
    }
}

async fn load_contract(
    conn: &mut PgConnection,
    pii: &kit::pii::Pii,
    id: Uuid,
) -> Result<api::Contract, ApiError> {
    let row = store::contracts::contract(conn, id).await?;
    let Some(store::contracts::ContractRow {
        contract_no,
        customer_id,
        currency,
        escrow_account,
        unit,
        price,
        discount_terms: discount,
        allocation_order,
    }) = row
    else {
        return Err(ApiError::NotFound(format!("no contract with id {id}")));
    };
    // R-O4: sealed at rest; a clear value from before is sealed by `contracts reseal`.
    let escrow_account = if kit::pii::is_sealed(&escrow_account) {
        pii.open(&escrow_account).map_err(unexpected)?
    } else {
        escrow_account
    };
    let receivables = store::receivables_of_contract(conn, id).await?;
    let (owner, owner_team) = owners::owner(conn, customer_id, Some(id)).await?;
    let mut contract = api::Contract {
        contract_id: id.to_string(),
        contract_no,
        customer_id: customer_id.to_string(),
        currency: currency.trim().to_owned(),
        receivables: receivables
            .iter()
            .map(store::ReceivableRow::to_api)
            .collect(),
        escrow_account,
        unit: unit.unwrap_or_default(),
        owner,
        owner_team,
        price: price.map(|p| wire::money(p, currency.trim())),
        discount: discount.map(|d| discount_to_wire(&d.0)),
        allocation_order: allocation_order.map(|o| wire::component_order(&o.0)),
        ..Default::default()
    };
    amendments::show_version(conn, &mut contract, id, 0).await?;
    Ok(contract)
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(unexpected)
}

enum Claim {
    Fresh,
    Repeat(Uuid),
}

/// [`claim_idempotency_key`] for other modules: `None` when fresh, else the first result.
pub(crate) async fn claim_key<M: prost::Message>(
    tx: &mut PgConnection,
    operation: &str,
    key: &str,
    request: &M,
    resource_id: Uuid,
) -> Result<Option<Uuid>, ApiError> {
    Ok(
        match claim_idempotency_key(tx, operation, key, request, resource_id).await? {
            Claim::Fresh => None,
            Claim::Repeat(existing) => Some(existing),
        },
    )
}

/// Claims a client idempotency key inside the command's transaction. A repeat with the same
/// request returns the first result; the same key with a different request is refused.
async fn claim_idempotency_key<M: prost::Message>(
    tx: &mut PgConnection,
    operation: &str,
    key: &str,
    request: &M,
    resource_id: Uuid,
) -> Result<Claim, ApiError> {
    let hash = hex_sha256(&request.encode_to_vec());
    if store::customers::insert_idempotency_key(tx, operation, key, &hash, resource_id).await? {
        return Ok(Claim::Fresh);
    }
    let (first_hash, existing) = store::customers::idempotency_key(tx, operation, key).await?;
    if first_hash != hash {
        return Err(ApiError::FailedPrecondition(format!(
            "idempotency_key {key:?} was already used for a different request; use a new key"
        )));
    }
    Ok(Claim::Repeat(existing))
}

pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A fault of ours, not of the request: logged, the client sees `INTERNAL`.
pub(crate) fn unexpected(error: impl Into<anyhow::Error>) -> ApiError {
    ApiError::Unexpected(error.into())
}

fn customer_kind(stored: &str) -> api::CustomerKind {
    if stored == "company" {
        api::CustomerKind::Company
    } else {
        api::CustomerKind::Person
    }
}
