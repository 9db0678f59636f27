//! GetEvidenceBundle (R-L3, R-L8): the case from this service's store, the rest gathered by
//! `crate::evidence` with the caller's credential, signed by `documents::evidence`, and, when
//! `LEGAL_TSA_URL` is set, timestamped by that authority (`crate::timestamp`) or not made.

use chrono::Utc;
use uuid::Uuid;

use kit::ApiError;
use proto::legal::v1 as api;

use crate::evidence::{self, CaseRecord, CostLine};
use crate::store::costs;

use super::Api;

impl Api {
    /// The bundle of `case_id` for `caller`, read from the other services with
    /// `authorization` (the caller's own `Bearer …` header).
    pub(crate) async fn evidence_bundle(
        &self,
        caller: &kit::auth::Caller,
        authorization: Option<&str>,
        case_id: Uuid,
    ) -> Result<api::GetEvidenceBundleResponse, ApiError> {
        let authorization = authorization.filter(|a| a.starts_with("Bearer ")).ok_or_else(|| {
            ApiError::FailedPrecondition(
                "the evidence bundle is read from contracts and dunning with your own rights: call with a bearer token (a client certificate alone cannot be passed on)".to_owned(),
            )
        })?;
        let legal_case = self.case(case_id).await?;
        let costs = costs::of_case(&self.pool, case_id)
            .await?
            .into_iter()
            .map(|c| CostLine {
                cost_id: c.id.to_string(),
                receivable_id: c.receivable_id.to_string(),
                kind: c.kind,
                amount: c.amount.normalize().to_string(),
                incurred_on: c.incurred_on.to_string(),
                description: c.description,
                recorded_by: c.recorded_by,
                recorded_at: c.recorded_at.to_rfc3339(),
            })
            .collect();
        let (files, notes) = evidence::gather(
            &self.peers,
            authorization,
            CaseRecord {
                legal_case: &legal_case,
                costs,
            },
        )
        .await?;
        let now = Utc::now();
        let prepared = documents::evidence::prepare(
            documents::evidence::BundleHeader {
                case_id: legal_case.case_id.clone(),
                customer_id: legal_case.customer_id.clone(),
                generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                generated_for: caller.subject().to_owned(),
                issuer: crate::SERVICE.to_owned(),
                // Named in the manifest before it is signed and stamped: the token covers a
                // manifest that says it is timestamped, so a removed token is noticed.
                timestamp_authority: self.timestamper.as_ref().map(|t| t.url().to_owned()),
                notes,
            },
            files,
            &self.signer,
        )
        .map_err(|e| ApiError::Unexpected(anyhow::anyhow!(e)))?;
        // R-L8: with an authority configured, no token means no bundle (UNAVAILABLE).
        let token = match &self.timestamper {
            Some(tsa) => Some(tsa.stamp(prepared.manifest_bytes()).await?.token),
            None => None,
        };
        let bundle = prepared
            .finish(token)
            .map_err(|e| ApiError::Unexpected(anyhow::anyhow!(e)))?;
        tracing::info!(
            case_id = %case_id,
            files = bundle.manifest.files.len(),
            bytes = bundle.zip.len(),
            root = %bundle.manifest.root_sha256,
            timestamped = bundle.manifest.timestamp_authority.is_some(),
            "evidence bundle made"
        );
        Ok(api::GetEvidenceBundleResponse {
            file_name: format!("evidence-{case_id}-{}.zip", now.format("%Y%m%d")),
            root_sha256: bundle.manifest.root_sha256.clone(),
            key_id: bundle.manifest.key_id.clone(),
            public_key: bundle.manifest.public_key.clone(),
            files: u32::try_from(bundle.manifest.files.len()).unwrap_or(u32::MAX),
            notes: bundle.manifest.notes.clone(),
            bundle: bundle.zip,
        })
    }
}
