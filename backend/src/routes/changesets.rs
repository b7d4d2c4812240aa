//! `/api/changesets`: submit a file, list, detail with drift, approve, reject, apply,
//! revert.

use axum::Router;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use cohortsync_shared::api::{ApplyReport, ChangesetDetail, ChangesetSummary, ReviewRequest};
use cohortsync_shared::options::Options;
use cohortsync_shared::report::Lang;
use serde::Deserialize;

use crate::AppState;
use crate::auth::{Admin, Caller, Role};
use crate::changesets as lifecycle;
use crate::error::{ApiError, ApiJson, ApiPath, ApiQuery};
use crate::store::changesets::{self, ListFilter};

pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/changesets", get(list_changesets).post(submit_changeset))
        .route("/changesets/{id}", get(get_changeset))
        .route("/changesets/{id}/approve", post(approve_changeset))
        .route("/changesets/{id}/reject", post(reject_changeset))
        .route("/changesets/{id}/apply", post(apply_changeset))
        .route("/changesets/{id}/revert", post(revert_changeset))
        .route("/changesets/{id}/moodle/{file}", get(moodle_file))
}

/// Reads the `file` and `options` parts of a submission (`None`: no options sent).
async fn read_submission(
    mut multipart: Multipart,
) -> Result<(String, Vec<u8>, Option<Options>), ApiError> {
    let mut file = None;
    let mut options = None;
    while let Some(field) = multipart.next_field().await? {
        match field.name() {
            Some("file") => {
                let name = field.file_name().unwrap_or("upload.csv").to_owned();
                file = Some((name, Vec::from(field.bytes().await?)));
            }
            Some("options") => {
                let text = field.text().await?;
                if !text.trim().is_empty() {
                    options = Some(serde_json::from_str(&text).map_err(|e| {
                        ApiError::bad_request("invalid_options", format!("options: {e}"))
                    })?);
                }
            }
            Some(other) => {
                return Err(ApiError::bad_request(
                    "unknown_part",
                    format!("unknown part `{other}`: send `file` and, optionally, `options`"),
                ));
            }
            None => {
                return Err(ApiError::bad_request("unknown_part", "a part has no name"));
            }
        }
    }
    let (name, bytes) =
        file.ok_or_else(|| ApiError::bad_request("missing_file", "the `file` part is missing"))?;
    Ok((name, bytes, options))
}

/// Query of `POST /api/changesets`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SubmitQuery {
    /// `auto`: run the file under the sync folder's policy (applied at once when it may
    /// be, else waiting with the reason), as a script pushing its nightly export wants.
    policy: Option<String>,
}

async fn submit_changeset(
    State(state): State<AppState>,
    caller: Caller,
    headers: axum::http::HeaderMap,
    ApiQuery(query): ApiQuery<SubmitQuery>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    let multipart = multipart.map_err(|e| {
        ApiError::bad_request(
            "wrong_content_type",
            format!("send the file as multipart/form-data: {}", e.body_text()),
        )
    })?;
    let (name, bytes, options) = read_submission(multipart).await?;
    // A refusal's report speaks the caller's language.
    let lang = headers
        .get(axum::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .map_or(Lang::En, Lang::from_accept_language);
    match query.policy.as_deref() {
        None => {}
        Some("auto") => return push(&state, &caller, &name, bytes, options, lang).await,
        Some(other) => {
            return Err(ApiError::bad_request(
                "invalid_query",
                format!("unknown policy `{other}`: the one policy is `auto`"),
            ));
        }
    }
    let options = options.unwrap_or_default();
    let id = lifecycle::submit(
        &state.db,
        &state.site,
        &caller,
        &name,
        bytes,
        &options,
        lang,
    )
    .await?;
    let detail = lifecycle::detail(&state.db, &state.site, &caller, id, false).await?;
    Ok((StatusCode::CREATED, ApiJson(detail)).into_response())
}

/// `POST /api/changesets?policy=auto`: the file runs under the sync folder's policy. The
/// answer is the run's entry (`outcome`: applied, waiting with its `waiting` reason,
/// already_applied, failed), `201` when it made a changeset; a file from which nothing
/// can be planned is refused like any other (`422` with its report).
async fn push(
    state: &AppState,
    caller: &Caller,
    name: &str,
    bytes: Vec<u8>,
    options: Option<Options>,
    lang: Lang,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;
    if caller.role != Role::Admin
        && let Some(options) = &options
    {
        let mut conn = state.db.pool().acquire().await?;
        let site = state.site.default_options(&mut conn).await?;
        let beyond = options.exceeds_site(&site);
        if !beyond.is_empty() {
            return Err(ApiError::BeyondSiteSettings(beyond));
        }
    }
    let (file, decision) = state.sync_task().push(caller, name, bytes, options).await?;
    if let (cohortsync_shared::folder::Outcome::NothingPlanned, Some(decision)) =
        (file.outcome, &decision)
    {
        return Err(lifecycle::invalid(&decision.checked, lang));
    }
    // 201 when this push made a changeset; 200 when it made none (nothing to do, or the
    // same file made one before).
    let status = if decision.is_some() && file.changeset.is_some() {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, ApiJson(file)).into_response())
}

async fn list_changesets(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(filter): ApiQuery<ListFilter>,
) -> Result<ApiJson<Vec<ChangesetSummary>>, ApiError> {
    if let Some(status) = &filter.status
        && changesets::Status::parse(status).is_none()
    {
        return Err(ApiError::bad_request(
            "invalid_query",
            format!("unknown status `{status}`"),
        ));
    }
    let only = match caller.role {
        Role::Admin => None,
        Role::Teacher => Some(caller.id),
    };
    Ok(ApiJson(
        changesets::list(state.db.pool(), &filter, only).await?,
    ))
}

/// Query of `GET /api/changesets/{id}`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct DetailQuery {
    /// Include the plan (tens of megabytes for a nightly export).
    #[serde(default)]
    plan: bool,
}

async fn get_changeset(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(query): ApiQuery<DetailQuery>,
) -> Result<ApiJson<ChangesetDetail>, ApiError> {
    Ok(ApiJson(
        lifecycle::detail(&state.db, &state.site, &caller, id, query.plan).await?,
    ))
}

/// `GET /api/changesets/{id}/moodle/cohorts.csv|users.csv`: the changeset as Moodle's own
/// upload files, for a site that loads them through Moodle's screens (admins only).
async fn moodle_file(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath((id, file)): ApiPath<(i64, String)>,
) -> Result<axum::response::Response, ApiError> {
    use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
    use axum::response::IntoResponse;
    let which = lifecycle::MoodleFile::parse(&file).ok_or(ApiError::NotFound)?;
    let text = lifecycle::moodle_file(&state.db, &state.site, &admin, id, which).await?;
    let name = format!("changeset-{id}-moodle-{file}");
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        text,
    )
        .into_response())
}

async fn approve_changeset(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<i64>,
    ApiJson(review): ApiJson<ReviewRequest>,
) -> Result<ApiJson<ChangesetDetail>, ApiError> {
    Ok(ApiJson(
        lifecycle::approve(&state.db, &state.site, &admin, id, &review.comment).await?,
    ))
}

async fn reject_changeset(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<i64>,
    ApiJson(review): ApiJson<ReviewRequest>,
) -> Result<ApiJson<ChangesetDetail>, ApiError> {
    Ok(ApiJson(
        lifecycle::reject(&state.db, &state.site, &admin, id, &review.comment).await?,
    ))
}

async fn apply_changeset(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<ApplyReport>, ApiError> {
    Ok(ApiJson(
        lifecycle::apply(&state.db, &state.site, &admin, id).await?,
    ))
}

async fn revert_changeset(
    State(state): State<AppState>,
    admin: Admin,
    ApiPath(id): ApiPath<i64>,
) -> Result<ApiJson<ApplyReport>, ApiError> {
    Ok(ApiJson(
        lifecycle::revert(&state.db, &state.site, &admin, id).await?,
    ))
}
