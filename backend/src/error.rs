//! The API's one error type, rendered as `{"error": {"code", "message", "details"}}`.
//!
//! A 4xx says what was wrong with the request. A 5xx is logged with its cause and answers
//! only a generic message: internals never reach the caller.

use crate::store::StoreError;
use axum::Json;
use axum::extract::multipart::MultipartError;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error answered to an API caller.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No such resource or route.
    #[error("not found")]
    NotFound,
    /// No valid session or token.
    #[error("sign in first")]
    Unauthenticated,
    /// Wrong username or password.
    #[error("wrong username or password")]
    BadCredentials,
    /// Too many failed logins: wait before trying again.
    #[error("too many failed logins; try again in {0} seconds")]
    TooManyAttempts(u64),
    /// Signed in, but not allowed.
    #[error("{0}")]
    Forbidden(&'static str),
    /// An unsafe request that this site's own pages did not send.
    #[error(
        "this request did not come from cohortsync's own pages (Sec-Fetch-Site or Origin); scripts authenticate with an API token"
    )]
    CrossSite,
    /// A teacher chose options beyond the site's settings (their names).
    #[error("a teacher cannot choose these options beyond the site's settings: {}", .0.join(", "))]
    BeyondSiteSettings(Vec<&'static str>),
    /// A malformed request: `code` says which kind, the message what to fix.
    #[error("{message}")]
    BadRequest {
        /// Stable code, e.g. `invalid_json`.
        code: &'static str,
        /// What to fix.
        message: String,
    },
    /// The body is larger than the server accepts.
    #[error("the request body is larger than this server accepts ({0})")]
    TooLarge(String),
    /// The file has errors: `details` is the full report.
    #[error("the file has errors")]
    InvalidFile(Value),
    /// The request conflicts with the current state: `details` says how.
    #[error("{message}")]
    Conflict {
        /// Stable code, e.g. `drift`.
        code: &'static str,
        /// What happened.
        message: String,
        /// The difference or state, as data.
        details: Value,
    },
    /// The database does not answer; the server cannot serve requests now.
    #[error("the database is unavailable")]
    DatabaseUnavailable(#[source] sqlx::Error),
    /// The database failed; logged, never shown.
    #[error("internal error")]
    Database(#[source] sqlx::Error),
    /// Something else failed; logged, never shown.
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

impl ApiError {
    /// A 400 with a code and a message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        ApiError::BadRequest {
            code,
            message: message.into(),
        }
    }

    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Unauthenticated => (StatusCode::UNAUTHORIZED, "unauthenticated"),
            ApiError::BadCredentials => (StatusCode::UNAUTHORIZED, "bad_credentials"),
            ApiError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::CrossSite => (StatusCode::FORBIDDEN, "cross_site"),
            ApiError::BeyondSiteSettings(_) => (StatusCode::FORBIDDEN, "beyond_site_settings"),
            ApiError::BadRequest { code, .. } => (StatusCode::BAD_REQUEST, code),
            ApiError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::InvalidFile(_) => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_file"),
            ApiError::Conflict { code, .. } => (StatusCode::CONFLICT, code),
            ApiError::DatabaseUnavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
            ApiError::Database(_) | ApiError::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        match &self {
            ApiError::Database(source) => tracing::error!(error = %source, "database error"),
            ApiError::DatabaseUnavailable(source) => {
                tracing::error!(error = %source, "database unavailable")
            }
            ApiError::Internal(source) => {
                tracing::error!(error = %format!("{source:#}"), "internal error")
            }
            _ => {}
        }
        let details = match &self {
            ApiError::InvalidFile(report) => report.clone(),
            ApiError::Conflict { details, .. } => details.clone(),
            ApiError::BeyondSiteSettings(options) => json!({ "options": options }),
            _ => Value::Null,
        };
        let body =
            json!({"error": {"code": code, "message": self.to_string(), "details": details}});
        (status, Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    /// A key another write took since the plan is a `409` that says which; the rest is the
    /// database's (503 or 500) or a bug (500), logged and never shown.
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Database(error) => error.into(),
            StoreError::Taken { .. } => ApiError::Conflict {
                code: "taken",
                message: format!("{error}: the site changed meanwhile; nothing was written"),
                details: Value::Null,
            },
            other => ApiError::Internal(other.into()),
        }
    }
}

impl From<sqlx::Error> for ApiError {
    /// An error of the database itself is a 500; not reaching it is a 503 that ends when it
    /// answers again.
    fn from(error: sqlx::Error) -> Self {
        if is_outage(&error) {
            ApiError::DatabaseUnavailable(error)
        } else {
            ApiError::Database(error)
        }
    }
}

/// Whether `error` says the database cannot be reached now (rather than that a query
/// failed): no connection in time, a broken connection, a server shutting down.
pub fn is_outage(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's class 08 (connection exception) and 57P0x (shutting down, cannot
        // connect now); SQLite's SQLITE_BUSY beyond the busy timeout (5) and SQLITE_CANTOPEN (14).
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            code.starts_with("08") || code.starts_with("57P0") || code == "5" || code == "14"
        }),
        _ => false,
    }
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        match rejection {
            JsonRejection::MissingJsonContentType(_) => ApiError::bad_request(
                "wrong_content_type",
                "send JSON with Content-Type: application/json",
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge(
                "the limit is set with --max-body-bytes or COHORTSYNC_MAX_BODY_BYTES".into(),
            ),
            other => ApiError::bad_request("invalid_json", other.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::bad_request("invalid_query", rejection.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::bad_request("invalid_path", rejection.body_text())
    }
}

impl From<MultipartError> for ApiError {
    fn from(error: MultipartError) -> Self {
        if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
            return ApiError::TooLarge(
                "the limit is set with --max-body-bytes or COHORTSYNC_MAX_BODY_BYTES".into(),
            );
        }
        ApiError::bad_request("invalid_multipart", error.body_text())
    }
}

/// `Json` that answers bad JSON with the API's error body instead of axum's plain text.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        Json(self.0).into_response()
    }
}

/// Query strings that answer bad parameters with the API's error body.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Path parameters that answer bad values with the API's error body.
#[derive(Debug, Clone, Copy, Default, axum::extract::FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);
