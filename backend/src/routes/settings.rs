//! `GET /api/settings` (anyone signed in) and `PUT /api/settings` (admins): the site's default
//! options, which snapshots carry, and the sync folder's settings.

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use cohortsync_shared::api::SiteSettings;

use crate::AppState;
use crate::auth::{Admin, Caller};
use crate::error::{ApiError, ApiJson};
use crate::site::Site;
use crate::store::{audit, site, sync};

pub(super) fn router() -> Router<AppState> {
    Router::new().route("/settings", get(get_settings).put(put_settings))
}

async fn get_settings(
    State(state): State<AppState>,
    _caller: Caller,
) -> Result<ApiJson<SiteSettings>, ApiError> {
    let mut conn = state.db.pool().acquire().await?;
    let options = state.site.default_options(&mut conn).await?;
    let sync = sync::settings(&mut conn).await?;
    Ok(ApiJson(SiteSettings {
        options,
        fixed_by_site: fixed_by_site(&state.site),
        sync: Some(sync),
    }))
}

/// The options the site itself sets: on Moodle, the unenrol action (`enrol_cohort |
/// unenrolaction`, Moodle is the authority).
fn fixed_by_site(site: &Site) -> Vec<String> {
    if site.is_moodle() {
        vec!["unenrol_action".to_owned()]
    } else {
        Vec::new()
    }
}

async fn put_settings(
    State(state): State<AppState>,
    admin: Admin,
    ApiJson(settings): ApiJson<SiteSettings>,
) -> Result<ApiJson<SiteSettings>, ApiError> {
    if let Some(problem) = settings.options.problem_as_site_defaults() {
        return Err(ApiError::bad_request("invalid_settings", problem));
    }
    if let Some(sync) = &settings.sync {
        let schedule = crate::scheduler::schedule::parse(&sync.schedule).err();
        if let Some(problem) = sync.problem().or(schedule) {
            return Err(ApiError::bad_request("invalid_settings", problem));
        }
    }
    if state.site.is_moodle() {
        let mut conn = state.db.pool().acquire().await?;
        let moodles = state.site.default_options(&mut conn).await?.unenrol_action;
        if settings.options.unenrol_action != moodles {
            return Err(ApiError::bad_request(
                "set_in_moodle",
                format!(
                    "the unenrol action is Moodle's setting (Site administration > Plugins > \
                     Enrolments > Cohort sync, now {}); change it there",
                    moodles.as_str()
                ),
            ));
        }
    }
    let mut tx = state.db.begin_write().await?;
    site::set_default_options(&mut tx, &settings.options).await?;
    let text = serde_json::to_string(&settings.options).map_err(anyhow::Error::from)?;
    audit::append(&mut tx, Some(admin.id), "settings", None, &text).await?;
    if let Some(sync) = &settings.sync {
        sync::set_settings(&mut tx, sync).await?;
        let text = serde_json::to_string(sync).map_err(anyhow::Error::from)?;
        audit::append(&mut tx, Some(admin.id), "sync_settings", None, &text).await?;
    }
    let sync = sync::settings(&mut tx).await?;
    tx.commit().await?;
    Ok(ApiJson(SiteSettings {
        sync: Some(sync),
        ..settings
    }))
}
