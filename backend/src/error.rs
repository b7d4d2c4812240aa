//! The API's one error type, rendered as `{"error": {"code", "message", "details"}}`.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// An error answered to an API caller.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No such resource or route.
    #[error("not found")]
    NotFound,
    /// The database does not answer; the server cannot serve requests now.
    #[error("the database is unavailable")]
    DatabaseUnavailable(#[source] sqlx::Error),
}

impl ApiError {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::DatabaseUnavailable(_) => {
                (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let ApiError::DatabaseUnavailable(source) = &self {
            // Details of database failures stay in the log, never in the answer.
            tracing::error!(error = %source, "database unavailable");
        }
        let body =
            json!({"error": {"code": code, "message": self.to_string(), "details": Value::Null}});
        (status, Json(body)).into_response()
    }
}
