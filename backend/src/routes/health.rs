//! `GET /api/health`: is the server up, which version, which database.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use cohortsync_shared::api::HealthResponse;

use crate::AppState;
use crate::error::ApiError;

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/health", get(get_health))
}

async fn get_health(State(state): State<AppState>) -> Result<Json<HealthResponse>, ApiError> {
    state
        .db
        .ping()
        .await
        .map_err(ApiError::DatabaseUnavailable)?;
    Ok(Json(HealthResponse::ok(state.db.kind())))
}
