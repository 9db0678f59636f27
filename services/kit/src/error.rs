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

impl From<ApiError> for tonic::Status {
    fn from(error: ApiError) -> Self {
        match error {
            ApiError::Invalid { .. } => tonic::Status::invalid_argument(error.to_string()),
            ApiError::NotFound(m) => tonic::Status::not_found(m),
            ApiError::AlreadyExists(m) => tonic::Status::already_exists(m),
            ApiError::FailedPrecondition(m) => tonic::Status::failed_precondition(m),
            ApiError::DeadlineExceeded(m) => tonic::Status::deadline_exceeded(m),
            ApiError::PermissionDenied(m) => tonic::Status::permission_denied(m),
            ApiError::Unexpected(error) => {
                tracing::error!(error = format!("{error:#}"), "request failed");
                tonic::Status::internal("internal error; the service log has the details")
            }
        }
    }
}
