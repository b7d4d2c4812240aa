//! The API routes, one module per resource, merged under `/api`.

use axum::Router;

use crate::AppState;
use crate::error::ApiError;

mod health;

/// All `/api` routes; unknown API paths answer a JSON 404, never the web app.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .fallback(|| async { ApiError::NotFound })
}
