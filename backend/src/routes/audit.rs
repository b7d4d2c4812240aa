//! `GET /api/audit` (admins): the audit log, newest first.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use cohortsync_shared::api::AuditEntry;

use crate::AppState;
use crate::auth::Admin;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::store::audit::{self, AuditFilter};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/audit", get(list_audit))
}

async fn list_audit(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(filter): ApiQuery<AuditFilter>,
) -> Result<ApiJson<Vec<AuditEntry>>, ApiError> {
    Ok(ApiJson(audit::list(state.db.pool(), &filter).await?))
}
