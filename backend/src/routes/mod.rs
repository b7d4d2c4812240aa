//! The API routes, one module per resource, merged under `/api`.

use axum::Router;

use crate::AppState;
use crate::error::ApiError;

mod audit;
mod auth;
mod changesets;
mod health;
mod settings;
mod snapshot;
mod sync;
mod tokens;

/// All `/api` routes; unknown API paths answer a JSON 404, never the web app.
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(auth::router())
        .merge(snapshot::router())
        .merge(changesets::router())
        .merge(settings::router())
        .merge(audit::router())
        .merge(tokens::router())
        .merge(sync::router())
        .fallback(|| async { ApiError::NotFound })
}
