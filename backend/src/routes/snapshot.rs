//! `GET /api/snapshot`: the caller's snapshot of the site, with its revision as `ETag`;
//! with `?since=REV`, only what changed since revision `REV` when the server still has it
//! ([`cohortsync_shared::snapshot::SnapshotChanges`], which has a `since` field), else the
//! whole snapshot.

use axum::Router;
use axum::extract::State;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::AppState;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiQuery};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/snapshot", get(get_snapshot))
}

/// The ETag of a revision for a role: the two variants of one revision differ.
fn etag(revision: u64, role: Role) -> String {
    format!("\"{revision}-{}\"", role.as_str())
}

/// The query of `GET /api/snapshot`.
#[derive(Debug, serde::Deserialize)]
struct SnapshotQuery {
    /// The revision the caller has: answer what changed since.
    since: Option<u64>,
}

async fn get_snapshot(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<SnapshotQuery>,
) -> Result<Response, ApiError> {
    let mut conn = state.db.pool().acquire().await?;
    let (revision, key) = state.site.state(&mut conn).await?;
    let tag = etag(revision, caller.role);
    let cached = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|v| v.trim() == tag || v.trim() == "*");
    if cached {
        return Ok((StatusCode::NOT_MODIFIED, [(ETAG, tag)]).into_response());
    }
    let snapshot = state.site.shared_snapshot(&mut conn).await?;
    drop(conn);
    let key = || {
        cohortsync_shared::snapshot::hash_key_from_hex(&key)
            .ok_or_else(|| anyhow::anyhow!("the site hash key is not hex"))
    };
    let changes = query
        .since
        .filter(|&since| since != snapshot.revision)
        .and_then(|since| state.site.changes_since(since, &snapshot));
    if let Some(changes) = changes {
        let changes = match caller.role {
            Role::Admin => changes,
            Role::Teacher => changes.for_teacher(&key()?),
        };
        let body = serde_json::to_vec(&changes).map_err(anyhow::Error::from)?;
        return Ok(answer(etag(snapshot.revision, caller.role), body));
    }
    let snapshot = match caller.role {
        Role::Admin => snapshot,
        Role::Teacher => state.site.teacher_snapshot(&snapshot, &key()?),
    };
    // The revision read above and the one loaded agree unless an apply slipped in between;
    // the ETag follows what is sent.
    let tag = etag(snapshot.revision, caller.role);
    let body = serde_json::to_vec(&*snapshot).map_err(anyhow::Error::from)?;
    Ok(answer(tag, body))
}

/// A snapshot or its changes, with the revision's ETag.
fn answer(tag: String, body: Vec<u8>) -> Response {
    (
        [
            (ETAG, tag),
            (CONTENT_TYPE, "application/json".to_owned()),
            (CACHE_CONTROL, "private, no-cache".to_owned()),
        ],
        body,
    )
        .into_response()
}
