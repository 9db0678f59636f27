//! Errors at the gRPC boundary and their status codes.

/// What a gRPC method can fail with. Each maps to the status gRPC defines for it.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// `INVALID_ARGUMENT`, naming the field and the reason.
    #[error("{field}: {reason}")]
    Invalid {
        /// The request field, e.g. `installments[2].due_date`.
        field: String,
        /// What is wrong and what was expected.
        reason: String,
    },
    /// `NOT_FOUND`.
    #[error("{0}")]
    NotFound(String),
    /// `ALREADY_EXISTS`.
    #[error("{0}")]
    AlreadyExists(String),
    /// `FAILED_PRECONDITION`.
    #[error("{0}")]
    FailedPrecondition(String),
    /// `PERMISSION_DENIED`: the caller's role or scope does not reach the record.
    #[error("{0}")]
    PermissionDenied(String),
    /// `INTERNAL`: logged with its cause; the client sees no internals.
    #[error(transparent)]
    Unexpected(#[from] anyhow::Error),
    /// `UNAVAILABLE`: a dependency (the database) is down or overloaded; nothing was
    /// changed, and the same request may be sent again.
    #[error("{0}")]
    Unavailable(String),
    /// `DEADLINE_EXCEEDED`: the work took longer than the service allows (e.g. a query ran
    /// into `DATABASE_STATEMENT_TIMEOUT_MS`).
    #[error("{0}")]
    DeadlineExceeded(String),
}

/// Postgres' SQLSTATE for a statement cancelled, e.g. by `statement_timeout`.
const QUERY_CANCELED: &str = "57014";

impl ApiError {
    /// An `INVALID_ARGUMENT` error for `field`.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(db) = &error
            && db.is_unique_violation()
        {
            return ApiError::AlreadyExists(format!(
                "a record with the same key already exists ({})",
                db.constraint().unwrap_or("unique constraint")
            ));
        }
        if let sqlx::Error::Database(db) = &error
            && db.code().as_deref() == Some(QUERY_CANCELED)
        {
            tracing::warn!(%error, "database statement cancelled");
            return ApiError::DeadlineExceeded(
                "the database took too long to answer (DATABASE_STATEMENT_TIMEOUT_MS); retry \
                 later, or ask for less (a smaller page_size or a narrower filter)"
                    .to_owned(),
            );
        }
        ApiError::Unexpected(anyhow::Error::new(error))
    }
}

/// What a caller is told when the database is down: the request changed nothing (its
/// transaction did not commit) or, if the connection broke during the commit, sending it
/// again is recognised as a repeat (idempotency keys, file and line fingerprints).
const UNAVAILABLE: &str = "the service's database is unavailable; nothing was changed: send \
                           the same request again in a few seconds (a repeat is recognised)";

impl From<ApiError> for tonic::Status {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Invalid { .. } => tonic::Status::invalid_argument(error.to_string()),
            ApiError::NotFound(m) => tonic::Status::not_found(m),
            ApiError::AlreadyExists(m) => tonic::Status::already_exists(m),
            ApiError::FailedPrecondition(m) => tonic::Status::failed_precondition(m),
            ApiError::DeadlineExceeded(m) => tonic::Status::deadline_exceeded(m),
            ApiError::PermissionDenied(m) => tonic::Status::permission_denied(m),
            ApiError::Unavailable(m) => tonic::Status::unavailable(m),
            ApiError::Unexpected(error) if crate::consumer::is_infrastructure(&error) => {
                tracing::warn!(
                    error = format!("{error:#}"),
                    "request failed: database unavailable"
                );
                tonic::Status::unavailable(UNAVAILABLE)
            }
            ApiError::Unexpected(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                tonic::Status::internal("internal error; the service log has the details")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_outage_is_unavailable_and_says_to_send_again() {
        let status = tonic::Status::from(ApiError::from(sqlx::Error::PoolTimedOut));
        assert_eq!(status.code(), tonic::Code::Unavailable);
        assert!(status.message().contains("send the same request again"));
        // Also when a handler wrapped the database error in its own context.
        let wrapped = anyhow::Error::new(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )))
        .context("storing the bank file");
        let status = tonic::Status::from(ApiError::Unexpected(wrapped));
        assert_eq!(status.code(), tonic::Code::Unavailable);
    }

    #[test]
    fn any_other_failure_is_internal_without_internals() {
        let status = tonic::Status::from(ApiError::Unexpected(anyhow::anyhow!("secret detail")));
        assert_eq!(status.code(), tonic::Code::Internal);
        assert!(!status.message().contains("secret"));
    }
}
