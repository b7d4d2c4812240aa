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
    let mut health = HealthResponse::ok(state.db.kind());
    health.site = state.site.kind().to_owned();
    if let crate::site::Site::Moodle(moodle) = &state.site {
        health.moodle_release = moodle.release.clone();
    }
    Ok(Json(health))
}
