//! `/api/sync` (admins): the sync folder's task — `GET /api/sync` (settings, next run,
//! the last 50 files), `POST /api/sync/run[?simulate=true]` (run it now).

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use cohortsync_shared::folder::{RunReport, SyncStatus};
use serde::Deserialize;

use crate::AppState;
use crate::auth::Admin;
use crate::error::{ApiError, ApiJson, ApiQuery};
use crate::scheduler::{RunBy, schedule};
use crate::store::sync;

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/sync", get(get_sync))
        .route("/sync/run", post(run_sync))
}

async fn get_sync(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<ApiJson<SyncStatus>, ApiError> {
    let mut conn = state.db.pool().acquire().await?;
    let settings = sync::settings(&mut conn).await?;
    drop(conn);
    let next_run = schedule::next_run(&settings, &chrono::Local::now()).map(|t| t.timestamp());
    Ok(ApiJson(SyncStatus {
        next_run,
        folder: state.sync.folder.dir.display().to_string(),
        runs: sync::recent_runs(state.db.pool(), 50).await?,
        settings,
    }))
}

/// Query of `POST /api/sync/run`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RunQuery {
    /// Say what would happen; store, apply, move and write nothing.
    #[serde(default)]
    simulate: bool,
}

async fn run_sync(
    State(state): State<AppState>,
    _admin: Admin,
    ApiQuery(query): ApiQuery<RunQuery>,
) -> Result<ApiJson<RunReport>, ApiError> {
    let report = state
        .sync_task()
        .run(RunBy::Manual, query.simulate, chrono::Local::now())
        .await?;
    Ok(ApiJson(report))
}
