//! The evidence bundle of a case (R-L3, R-L8): what the court needs, gathered from this
//! service (the case), contracts (contracts, schedule versions, amendments, ledger, statement)
//! and dunning (notices, contact log, promises, disputes), then hashed, listed and signed by
//! `documents::evidence`.
//!
//! The other services are read with the caller's own bearer token: the bundle holds what the
//! caller may see, and nothing here needs rights of its own (R-O3). Records are written in the
//! canonical protobuf JSON mapping of the published protos, so any protobuf library reads them;
//! documents (statement, notices) as the PDFs their services made, byte for byte.
//!
//! Configuration: `LEGAL_CONTRACTS_ENDPOINT` and `LEGAL_DUNNING_ENDPOINT` (`https://host:port`),
//! `LEGAL_PEER_CA_FILE` (the CA their certificates chain to), `LEGAL_EVIDENCE_KEY` (the Ed25519
//! signing key, PKCS#8 as hex; required in production, otherwise a key is generated per process
//! with a warning).

use std::collections::BTreeMap;
use std::sync::LazyLock;
use std::time::Duration;

use anyhow::Context as _;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use serde::Serialize;
use tonic::metadata::MetadataValue;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use documents::evidence::{BundleFile, Signer};
use kit::ApiError;
use proto::contracts::v1 as contracts;
use proto::contracts::v1::contracts_service_client::ContractsServiceClient;
use proto::dunning::v1 as dunning;
use proto::dunning::v1::dunning_service_client::DunningServiceClient;

/// The largest message read from another service (a notice PDF, a long ledger).
const MAX_MESSAGE: usize = 64 * 1024 * 1024;
/// Pages of a listing before giving up (a runaway page token).
const MAX_PAGES: usize = 10_000;

/// The other services a bundle is gathered from.
#[derive(Clone)]
pub struct Peers {
    contracts: Option<Channel>,
    dunning: Option<Channel>,
}

/// The signing key, from `LEGAL_EVIDENCE_KEY`.
///
/// # Errors
/// The key is not hex or not an Ed25519 PKCS#8 key, or is missing in production.
pub fn signer_from_env(production: bool) -> anyhow::Result<Signer> {
    match std::env::var("LEGAL_EVIDENCE_KEY") {
        Ok(v) if !v.trim().is_empty() => {
            let der = hex::decode(v.trim()).map_err(|_| {
                anyhow::anyhow!(
                    "LEGAL_EVIDENCE_KEY is not hex: give the Ed25519 PKCS#8 key as hex digits"
                )
            })?;
            Signer::from_pkcs8(&der).map_err(|e| {
                anyhow::anyhow!("LEGAL_EVIDENCE_KEY is not an Ed25519 PKCS#8 key: {e}")
            })
        }
        _ if production => anyhow::bail!(
            "LEGAL_EVIDENCE_KEY is required in production: evidence bundles are signed with it (R-L8); generate one with `openssl genpkey -algorithm ed25519 -outform DER | xxd -p -c0`"
        ),
        _ => {
            tracing::warn!(
                "LEGAL_EVIDENCE_KEY not set: signing evidence bundles with a key generated for this process"
            );
            Signer::generate().map_err(|e| anyhow::anyhow!(e))
        }
    }
}

impl Peers {
    /// The endpoints from the environment (see the module documentation); an unset endpoint
    /// leaves that source out, and a bundle asked for then says which variable to set.
    ///
    /// # Errors
    /// An endpoint is not a URL, or the CA file cannot be read.
    pub fn from_env() -> anyhow::Result<Self> {
        let ca = match std::env::var("LEGAL_PEER_CA_FILE") {
            Ok(path) if !path.trim().is_empty() => Some(
                std::fs::read(path.trim())
                    .with_context(|| format!("LEGAL_PEER_CA_FILE {path} cannot be read"))?,
            ),
            _ => None,
        };
        let channel = |var: &str| -> anyhow::Result<Option<Channel>> {
            let Ok(url) = std::env::var(var) else {
                return Ok(None);
            };
            let url = url.trim().to_owned();
            if url.is_empty() {
                return Ok(None);
            }
            let mut endpoint = Channel::from_shared(url.clone())
                .with_context(|| format!("{var} {url} is not a URL; give https://host:port"))?
                .connect_timeout(Duration::from_secs(5))
                .timeout(Duration::from_secs(60));
            if url.starts_with("https://") {
                let mut tls = ClientTlsConfig::new();
                if let Some(ca) = &ca {
                    tls = tls.ca_certificate(Certificate::from_pem(ca));
                }
                // The local stack's certificates name localhost.
                let host = url
                    .trim_start_matches("https://")
                    .split([':', '/'])
                    .next()
                    .unwrap_or_default();
                if host == "127.0.0.1" {
                    tls = tls.domain_name("localhost");
                }
                endpoint = endpoint
                    .tls_config(tls)
                    .with_context(|| format!("TLS for {var}"))?;
            }
            Ok(Some(endpoint.connect_lazy()))
        };
        Ok(Self {
            contracts: channel("LEGAL_CONTRACTS_ENDPOINT")?,
            dunning: channel("LEGAL_DUNNING_ENDPOINT")?,
        })
    }
}

/// The descriptors of every published message, for the JSON mapping.
static POOL: LazyLock<Option<DescriptorPool>> =
    LazyLock::new(|| DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET).ok());

/// `message` in the canonical protobuf JSON mapping (enum names, every field), pretty.
///
/// # Errors
/// The message is not in the published descriptors (a build error, not an input error).
pub fn proto_json<M: prost::Message + prost::Name>(message: &M) -> anyhow::Result<Vec<u8>> {
    let pool = POOL
        .as_ref()
        .context("the proto descriptor set does not decode")?;
    let name = M::full_name();
    let descriptor = pool
        .get_message_by_name(&name)
        .with_context(|| format!("{name} is not in the descriptor set"))?;
    let dynamic = DynamicMessage::decode(descriptor, message.encode_to_vec().as_slice())
        .with_context(|| format!("{name} does not decode by its descriptor"))?;
    let mut out = Vec::new();
    let mut serializer = serde_json::Serializer::pretty(&mut out);
    dynamic
        .serialize_with_options(
            &mut serializer,
            &SerializeOptions::new().skip_default_fields(false),
        )
        .with_context(|| format!("{name} as JSON"))?;
    out.push(b'\n');
    Ok(out)
}

/// Plain data as pretty JSON.
fn json(value: &impl Serialize) -> anyhow::Result<Vec<u8>> {
    let mut out = serde_json::to_vec_pretty(value)?;
    out.push(b'\n');
    Ok(out)
}

/// A name usable in a bundle path: the characters a path allows, the rest as `_`, and when
/// anything was replaced the first 8 hex digits of the name's SHA-256, so two names never
/// meet.
#[must_use]
pub fn path_part(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let clean = clean.trim_matches('.').to_owned();
    if clean == name && !clean.is_empty() {
        clean
    } else {
        use sha2::Digest as _;
        let digest = hex::encode(sha2::Sha256::digest(name.as_bytes()));
        format!("{clean}-{}", &digest[..8])
    }
}

/// What a bundle is gathered from: the case as this service has it.
pub struct CaseRecord<'a> {
    /// The case, as GetCase answers it.
    pub legal_case: &'a proto::legal::v1::LegalCase,
    /// Its costs.
    pub costs: Vec<CostLine>,
}

/// One recorded cost of the case, for `case/costs.json`.
#[derive(Debug, Clone, Serialize)]
pub struct CostLine {
    /// The cost.
    pub cost_id: String,
    /// The receivable it is booked on.
    pub receivable_id: String,
    /// court_fee, lawyer_fee, …
    pub kind: String,
    /// Decimal string.
    pub amount: String,
    /// YYYY-MM-DD.
    pub incurred_on: String,
    /// In words.
    pub description: String,
    /// The authenticated principal who recorded it.
    pub recorded_by: String,
    /// RFC 3339.
    pub recorded_at: String,
}

/// Calls made with the caller's credential.
struct Calls {
    authorization: MetadataValue<tonic::metadata::Ascii>,
    contracts: Option<ContractsServiceClient<Channel>>,
    dunning: Option<DunningServiceClient<Channel>>,
}

fn source_error(source: &str, status: &tonic::Status) -> ApiError {
    match status.code() {
        tonic::Code::PermissionDenied | tonic::Code::Unauthenticated => {
            ApiError::PermissionDenied(format!(
                "{source} refused your credential for the evidence bundle ({}): the bundle is read with your own rights; ask for a role that may read it (legal, auditor)",
                status.message()
            ))
        }
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => ApiError::Unavailable(format!(
            "{source} did not answer ({}); nothing was made, ask again when it is up",
            status.message()
        )),
        _ => ApiError::Unexpected(anyhow::anyhow!("{source}: {status}")),
    }
}

impl Calls {
    fn request<T>(&self, message: T) -> tonic::Request<T> {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("authorization", self.authorization.clone());
        request
    }

    fn contracts(&self) -> Result<ContractsServiceClient<Channel>, ApiError> {
        self.contracts.clone().ok_or_else(|| {
            ApiError::FailedPrecondition(
                "the legal service does not know where contracts is: set LEGAL_CONTRACTS_ENDPOINT (and LEGAL_PEER_CA_FILE) and restart it".to_owned(),
            )
        })
    }

    fn dunning(&self) -> Result<DunningServiceClient<Channel>, ApiError> {
        self.dunning.clone().ok_or_else(|| {
            ApiError::FailedPrecondition(
                "the legal service does not know where dunning is: set LEGAL_DUNNING_ENDPOINT (and LEGAL_PEER_CA_FILE) and restart it".to_owned(),
            )
        })
    }
}

/// One claimed contract's part of the bundle.
async fn contract_files(
    calls: &Calls,
    contract_no: &str,
    files: &mut Vec<BundleFile>,
) -> Result<(), ApiError> {
    let mut client = calls.contracts()?;
    let dir = format!("contracts/{}", path_part(contract_no));
    let current = client
        .get_contract(calls.request(contracts::GetContractRequest {
            key: Some(contracts::get_contract_request::Key::ContractNo(
                contract_no.to_owned(),
            )),
            version: 0,
        }))
        .await
        .map_err(|s| source_error("contracts", &s))?
        .into_inner();
    let contract = current.contract.clone().unwrap_or_default();
    files.push(BundleFile::new(
        format!("{dir}/contract.json"),
        format!(
            "contract {contract_no} as it stands (schedule version {}), with its late-fee terms and their changes",
            contract.current_schedule_version
        ),
        proto_json(&current)?,
    ));
    // Every earlier schedule version, as it stood when the next replaced it (R-C8).
    for version in 1..contract.current_schedule_version {
        let old = client
            .get_contract(calls.request(contracts::GetContractRequest {
                key: Some(contracts::get_contract_request::Key::ContractNo(
                    contract_no.to_owned(),
                )),
                version,
            }))
            .await
            .map_err(|s| source_error("contracts", &s))?
            .into_inner();
        files.push(BundleFile::new(
            format!("{dir}/schedule-v{version}.json"),
            format!("contract {contract_no}, schedule version {version} as it stood before the amendment that replaced it"),
            proto_json(&old)?,
        ));
    }
    let mut amendments = contracts::ListAmendmentsResponse::default();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let page = client
            .list_amendments(calls.request(contracts::ListAmendmentsRequest {
                contract_id: contract.contract_id.clone(),
                status: 0,
                page_size: 1000,
                page_token: token,
            }))
            .await
            .map_err(|s| source_error("contracts", &s))?
            .into_inner();
        amendments.amendments.extend(page.amendments);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    files.push(BundleFile::new(
        format!("{dir}/amendments.json"),
        format!(
            "every amendment of contract {contract_no} (proposed, approved, rejected, withdrawn), newest first, with who decided"
        ),
        proto_json(&amendments)?,
    ));
    let mut ledger = contracts::ListReceivablesResponse::default();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let page = client
            .list_receivables(calls.request(contracts::ListReceivablesRequest {
                contract_id: contract.contract_id.clone(),
                page_size: 1000,
                page_token: token,
            }))
            .await
            .map_err(|s| source_error("contracts", &s))?
            .into_inner();
        ledger.receivables.extend(page.receivables);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    files.push(BundleFile::new(
        format!("{dir}/ledger.json"),
        format!(
            "the ledger of contract {contract_no}: every receivable with what was billed, paid, discounted and is owed by component (principal, late fee, interest, costs)"
        ),
        proto_json(&ledger)?,
    ));
    files.push(BundleFile::new(
        format!("{dir}/late-fees.json"),
        format!(
            "the late fee of each overdue item of contract {contract_no}: the base, days overdue, the fee accrued and the terms in force (R-C4)"
        ),
        json(&late_fee_lines(&contract, &ledger.receivables))?,
    ));
    Ok(())
}

/// One item's late fee as the court reads it.
#[derive(Debug, Serialize)]
struct LateFeeLine {
    receivable_id: String,
    installment_no: u32,
    due_date: String,
    days_overdue: u32,
    open_principal: String,
    late_fee_accrued: String,
    interest_accrued: String,
    currency: String,
}

/// The late-fee computation of a contract: the terms and the items they were applied to.
#[derive(Debug, Serialize)]
struct LateFees {
    contract_no: String,
    terms: String,
    terms_changes: Vec<TermsChange>,
    items: Vec<LateFeeLine>,
}

#[derive(Debug, Serialize)]
struct TermsChange {
    effective_from: String,
    terms: String,
    amendment_id: String,
}

fn amount(m: Option<&proto::types::v1::Money>) -> (String, String) {
    m.map_or_else(
        || ("0".to_owned(), String::new()),
        |m| (m.amount.clone(), m.currency.clone()),
    )
}

fn late_fee_lines(contract: &contracts::Contract, items: &[contracts::Receivable]) -> LateFees {
    LateFees {
        contract_no: contract.contract_no.clone(),
        terms: contract.late_fee_policy.clone(),
        terms_changes: contract
            .late_fee_policy_changes
            .iter()
            .map(|c| TermsChange {
                effective_from: c.effective_from.clone(),
                terms: c.late_fee_policy.clone(),
                amendment_id: c.amendment_id.clone(),
            })
            .collect(),
        items: items
            .iter()
            .filter(|r| {
                r.days_overdue > 0 || r.late_fee.as_ref().is_some_and(|m| !is_zero(&m.amount))
            })
            .map(|r| {
                let (open, currency) = amount(r.open_amount.as_ref());
                LateFeeLine {
                    receivable_id: r.receivable_id.clone(),
                    installment_no: r.installment_no,
                    due_date: r.due_date.clone(),
                    days_overdue: r.days_overdue,
                    open_principal: open,
                    late_fee_accrued: amount(r.late_fee.as_ref()).0,
                    interest_accrued: amount(r.interest.as_ref()).0,
                    currency,
                }
            })
            .collect(),
    }
}

fn is_zero(amount: &str) -> bool {
    amount
        .parse::<rust_decimal::Decimal>()
        .is_ok_and(|d| d.is_zero())
}

/// The statement of account (PDF and data).
async fn statement_files(
    calls: &Calls,
    customer_id: &str,
    files: &mut Vec<BundleFile>,
) -> Result<(), ApiError> {
    let mut client = calls.contracts()?;
    let pdf = client
        .get_statement(calls.request(contracts::GetStatementRequest {
            customer_id: customer_id.to_owned(),
            as_of: String::new(),
            format: contracts::StatementFormat::Pdf as i32,
        }))
        .await
        .map_err(|s| source_error("contracts", &s))?
        .into_inner();
    files.push(BundleFile::new(
        "ledger/statement.pdf",
        format!(
            "statement of account {} (对账单) as contracts printed it, SHA-256 {}",
            pdf.document_id, pdf.sha256
        ),
        pdf.document.clone(),
    ));
    let data = contracts::GetStatementResponse {
        document: Vec::new(),
        ..pdf
    };
    files.push(BundleFile::new(
        "ledger/statement.json",
        "the statement's data: open items per contract, late fees, aging and totals",
        proto_json(&data)?,
    ));
    Ok(())
}

/// A notice and the contact-log entries that delivered it (linked by its delivery tasks).
#[derive(Debug, Serialize)]
struct NoticeIndex {
    notice_id: String,
    number: String,
    step: String,
    business_date: String,
    sha256: String,
    file: String,
    deliveries: Vec<Delivery>,
}

#[derive(Debug, Serialize)]
struct Delivery {
    contact_log_seq: u64,
    channel: String,
    at: String,
    outcome: String,
    proof_kind: String,
    proof_value: String,
}

fn enum_name<E: TryFrom<i32> + std::fmt::Debug>(value: i32) -> String {
    E::try_from(value).map_or_else(|_| value.to_string(), |e| format!("{e:?}"))
}

/// Notices, the contact log with its verification, promises and disputes.
async fn dunning_files(
    calls: &Calls,
    customer_id: &str,
    files: &mut Vec<BundleFile>,
    notes: &mut Vec<String>,
) -> Result<(), ApiError> {
    let mut client = calls.dunning()?;
    let mut log = dunning::ListContactLogResponse::default();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let page = client
            .list_contact_log(calls.request(dunning::ListContactLogRequest {
                customer_id: customer_id.to_owned(),
                page_size: 1000,
                page_token: token,
            }))
            .await
            .map_err(|s| source_error("dunning", &s))?
            .into_inner();
        log.entries.extend(page.entries);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    // Which contact delivered which notice: the delivery tasks name both (R-D4).
    let mut tasks = Vec::new();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let page = client
            .list_tasks(calls.request(dunning::ListTasksRequest {
                customer_id: customer_id.to_owned(),
                include_done: true,
                page_size: 1000,
                page_token: token,
            }))
            .await
            .map_err(|s| source_error("dunning", &s))?
            .into_inner();
        tasks.extend(page.tasks);
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let by_seq: BTreeMap<u64, &dunning::ContactLogEntry> =
        log.entries.iter().map(|e| (e.seq, e)).collect();
    let mut by_notice: BTreeMap<&str, Vec<&dunning::ContactLogEntry>> = BTreeMap::new();
    for t in &tasks {
        if let Some(e) = by_seq.get(&t.contact_log_seq)
            && !t.notice_id.is_empty()
        {
            by_notice.entry(t.notice_id.as_str()).or_default().push(e);
        }
    }
    let mut index = Vec::new();
    let mut token = String::new();
    for _ in 0..MAX_PAGES {
        let page = client
            .list_notices(calls.request(dunning::ListNoticesRequest {
                customer_id: customer_id.to_owned(),
                page_size: 1000,
                page_token: token,
            }))
            .await
            .map_err(|s| source_error("dunning", &s))?
            .into_inner();
        for notice in page.notices {
            let got = client
                .get_notice(calls.request(dunning::GetNoticeRequest {
                    notice_id: notice.notice_id.clone(),
                }))
                .await;
            let name = if notice.number.is_empty() {
                notice.notice_id.clone()
            } else {
                notice.number.clone()
            };
            let file = format!("notices/{}.pdf", path_part(&name));
            match got {
                Ok(got) => {
                    let got = got.into_inner();
                    files.push(BundleFile::new(
                        file.clone(),
                        format!(
                            "notice {name} ({}, {}) as dunning issued it, SHA-256 {}",
                            notice.step, notice.business_date, notice.sha256
                        ),
                        got.pdf,
                    ));
                }
                Err(status) if status.code() == tonic::Code::NotFound => {
                    notes.push(format!(
                        "notice {name}: dunning no longer has its document ({}); its hash {} is listed in notices/index.json",
                        status.message(),
                        notice.sha256
                    ));
                }
                Err(status) => return Err(source_error("dunning", &status)),
            }
            let deliveries = by_notice
                .get(notice.notice_id.as_str())
                .map(|entries| {
                    entries
                        .iter()
                        .map(|e| Delivery {
                            contact_log_seq: e.seq,
                            channel: enum_name::<proto::types::v1::ContactChannel>(e.channel),
                            at: e.at.clone(),
                            outcome: enum_name::<proto::types::v1::ContactOutcome>(e.outcome),
                            proof_kind: e.proof_kind.clone(),
                            proof_value: e.proof_value.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            index.push(NoticeIndex {
                notice_id: notice.notice_id,
                number: notice.number,
                step: notice.step,
                business_date: notice.business_date,
                sha256: notice.sha256,
                file,
                deliveries,
            });
        }
        token = page.next_page_token;
        if token.is_empty() {
            break;
        }
    }
    files.push(BundleFile::new(
        "notices/index.json",
        "every notice with its number, step, date, SHA-256 and the contact-log entries that delivered it (channel, time, outcome, delivery proof)",
        json(&index)?,
    ));
    files.push(BundleFile::new(
        "contact-log/entries.json",
        "the debtor's contact-log entries (R-D4) with their sequence numbers and chain hashes",
        proto_json(&log)?,
    ));
    let verification = client
        .verify_contact_log(calls.request(dunning::VerifyContactLogRequest {}))
        .await
        .map_err(|s| source_error("dunning", &s))?
        .into_inner();
    if !verification.intact {
        notes.push(format!(
            "dunning's contact log did NOT verify when this bundle was made: {} at entry {} ({})",
            verification.problem, verification.at_seq, verification.detail
        ));
    }
    let proof = client
        .prove_contact_log(calls.request(dunning::ProveContactLogRequest {
            customer_id: customer_id.to_owned(),
        }))
        .await;
    match proof {
        Ok(proof) => {
            let proof = proof.into_inner();
            files.push(BundleFile::new(
                "contact-log/proof.json",
                format!(
                    "the debtor's {} contact-log entries with every field their hashes cover and their Merkle inclusion paths to the tree root {} signed by dunning's checkpoint through entry {} (R-L8): checked offline by collectctl evidence verify",
                    proof.entries, proof.tree_root, proof.through_seq
                ),
                proof.proof_json,
            ));
        }
        Err(status) if status.code() == tonic::Code::FailedPrecondition => {
            notes.push(format!(
                "no offline proof of the contact-log extract: {}",
                status.message()
            ));
        }
        Err(status) => return Err(source_error("dunning", &status)),
    }
    files.push(BundleFile::new(
        "contact-log/verification.json",
        "dunning's check, when the bundle was made, of the whole contact log against its hash chain and latest signed checkpoint (R-L8)",
        proto_json(&verification)?,
    ));
    let promises = client
        .list_promises(calls.request(dunning::ListPromisesRequest {
            customer_id: customer_id.to_owned(),
        }))
        .await
        .map_err(|s| source_error("dunning", &s))?
        .into_inner();
    files.push(BundleFile::new(
        "dunning/promises.json",
        "the debtor's promises to pay and how each was judged (R-D5)",
        proto_json(&promises)?,
    ));
    let disputes = client
        .list_disputes(calls.request(dunning::ListDisputesRequest {
            customer_id: customer_id.to_owned(),
        }))
        .await
        .map_err(|s| source_error("dunning", &s))?
        .into_inner();
    files.push(BundleFile::new(
        "dunning/disputes.json",
        "the debtor's disputes and their resolutions (R-D8)",
        proto_json(&disputes)?,
    ));
    Ok(())
}

/// The reader's guide in the bundle.
fn readme(case_id: &str) -> Vec<u8> {
    format!(
        "证据包 / Evidence bundle — legal case {case_id}\n\n\
         本证据包由催收系统法务服务生成并签名（Ed25519）。manifest.json 列出每个文件的 SHA-256、\n\
         大小和说明，以及覆盖全部文件的根哈希；manifest.sig 是对 manifest.json 原始字节的签名。\n\
         校验：collectctl evidence verify <本文件.zip> --public-key <法务服务公布的公钥>\n\n\
         Made and signed (Ed25519) by the legal service. manifest.json lists every file with its\n\
         SHA-256, size and description, and a root over all; manifest.sig signs manifest.json's\n\
         exact bytes. Verify offline: collectctl evidence verify <bundle.zip> --public-key <the\n\
         service's published key>; any altered, missing or extra file is named. Without\n\
         collectctl: the root is sha256sum's listing of the files (sorted by path) hashed again.\n\
         Records (*.json) use the canonical protobuf JSON mapping of the published protos\n\
         (proto/receivables/...); documents (*.pdf) are the bytes their services produced.\n"
    )
    .into_bytes()
}

/// Gathers the files of a case's bundle with the caller's `authorization` header.
///
/// # Errors
/// A source refused the caller or is down, or is not configured.
pub async fn gather(
    peers: &Peers,
    authorization: &str,
    record: CaseRecord<'_>,
) -> Result<(Vec<BundleFile>, Vec<String>), ApiError> {
    let authorization = authorization.parse().map_err(|_| {
        ApiError::invalid(
            "authorization",
            "the credential is not a valid header value",
        )
    })?;
    let calls = Calls {
        authorization,
        contracts: peers
            .contracts
            .clone()
            .map(|c| ContractsServiceClient::new(c).max_decoding_message_size(MAX_MESSAGE)),
        dunning: peers
            .dunning
            .clone()
            .map(|c| DunningServiceClient::new(c).max_decoding_message_size(MAX_MESSAGE)),
    };
    let case = record.legal_case;
    let mut files = vec![
        BundleFile::new(
            "README.txt",
            "how to read and verify this bundle",
            readme(&case.case_id),
        ),
        BundleFile::new(
            "case/case.json",
            "the legal case: claimed items, every step of its life with date, document, reason and who recorded it (R-L2)",
            proto_json(case)?,
        ),
        BundleFile::new(
            "case/costs.json",
            "the case's costs borne by the debtor (court and lawyer's fees, R-L6)",
            json(&record.costs)?,
        ),
    ];
    let mut notes = Vec::new();
    let mut contract_nos: Vec<&str> = case
        .receivables
        .iter()
        .map(|r| r.contract_no.as_str())
        .filter(|n| !n.is_empty())
        .collect();
    contract_nos.sort_unstable();
    contract_nos.dedup();
    for contract_no in contract_nos {
        contract_files(&calls, contract_no, &mut files).await?;
    }
    statement_files(&calls, &case.customer_id, &mut files).await?;
    dunning_files(&calls, &case.customer_id, &mut files, &mut notes).await?;
    Ok((files, notes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts_keep_clean_names_and_mark_changed_ones() {
        assert_eq!(path_part("HT-2026-001"), "HT-2026-001");
        let a = path_part("HT/2026/001");
        let b = path_part("HT_2026_001");
        assert!(a.starts_with("HT_2026_001-") && a.len() == "HT_2026_001-".len() + 8);
        assert_ne!(a, b);
        assert!(documents::evidence::is_allowed_path(&path_part(
            "合同 一号"
        )));
        assert!(documents::evidence::is_allowed_path(&path_part("..")));
    }

    #[test]
    fn records_are_written_in_the_protobuf_json_mapping() {
        let case = proto::legal::v1::LegalCase {
            case_id: "c1".into(),
            status: proto::types::v1::CaseStatus::LitigationFiled as i32,
            ..Default::default()
        };
        let text = String::from_utf8(proto_json(&case).expect("json")).expect("utf8");
        assert!(text.contains("\"caseId\": \"c1\""), "{text}");
        assert!(text.contains("CASE_STATUS_LITIGATION_FILED"), "{text}");
        // Every field, also the empty ones.
        assert!(text.contains("\"closedOn\": \"\""), "{text}");
    }
}
